#!/usr/bin/env bash
# Does the 6.12 series apply to a vanilla 6.12.y, not only to Debian's tree?
set -euo pipefail

usage() {
	cat <<USAGE
usage: ${0##*/} [-h]

Fetches the upstream tarball of Debian's linux-6.12 source package (pinned
in scripts/pins: VANILLA_6_12_*), through a deb-src line for the mirror this
system's apt already uses for the security suite, checks its sha256,
extracts the files patches/v6.12 touches into a scratch git tree and applies
the series there with \`git am\`. The tarball is the stable release as
kernel.org ships it, less what the DFSG removes (firmware blobs and the
like, none of it touched by the series). Exit status 0 when every patch
applies; the tarball stays in \$NRI_CACHE/orig. NRI_PATCHES_DIR=DIR: apply
the series in DIR instead.
USAGE
}
case "${1:-}" in
-h | --help) usage; exit 0 ;;
'') ;;
*) usage >&2; exit 2 ;;
esac

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
pkg=$VANILLA_6_12_SRCPKG ver=$VANILLA_6_12_DEBVER
upstream=${ver%%-*}
dir=$CACHE/orig
orig=$dir/${pkg}_$upstream.orig.tar.xz
mkdir -p "$dir"
if ! echo "$VANILLA_6_12_ORIG_SHA256  $orig" | sha256sum -c --quiet - >/dev/null 2>&1; then
	# A private apt view with only the deb-src line: apt checks the
	# tarball against the signed Sources index.
	PAPT=$CACHE/apt-src
	mkdir -p "$PAPT/lists/partial" "$PAPT/cache/archives/partial"
	mirror=$(apt_mirror '^[a-z]+-security$')
	[ -n "$mirror" ] || die "no Debian security archive in this system's apt sources (apt-cache policy)"
	echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $VANILLA_6_12_SUITE main" \
		>"$PAPT/sources.list"
	mapfile -t o < <(papt_opts)
	apt-get "${o[@]}" update -qq
	log "downloading $pkg $ver (source)"
	(cd "$dir" && apt-get "${o[@]}" source --download-only -qq "$pkg=$ver")
fi
echo "$VANILLA_6_12_ORIG_SHA256  $orig" | sha256sum -c --quiet - || die "$orig: sha256 mismatch"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mapfile -t patches < <(find "${NRI_PATCHES_DIR:-$TOP/patches/v6.12}" -name '*.patch' ! -name '*-0000-*' | LC_ALL=C sort)
# What the series touches, as the tarball names it (one top directory).
sed -n 's|^diff --git a/\([^ ]*\) b/.*|*/\1|p' "${patches[@]}" | sort -u >"$tmp/files"
# Files the series adds are not in the tarball: tar names them and goes on.
tar -xJf "$orig" -C "$tmp" --wildcards --files-from="$tmp/files" 2>"$tmp/tar.err" || true
top=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d | head -n 1)
[ -n "$top" ] || { cat "$tmp/tar.err" >&2; die "nothing extracted from $orig"; }
n=$(find "$top" -type f | wc -l)
id=(-c user.name="$BASE_AUTHOR_NAME" -c user.email="$BASE_AUTHOR_EMAIL")
git -C "$top" init -q
git -C "$top" add -A
git -C "$top" "${id[@]}" commit -qm "$pkg $upstream (upstream tarball), the files the series touches"
if ! git -C "$top" "${id[@]}" am -q "${patches[@]}" >"$tmp/am.log" 2>&1; then
	cat "$tmp/am.log"
	die "patches/v6.12 does not apply to vanilla $upstream"
fi
echo "patches/v6.12: ${#patches[@]} patches applied with git am to vanilla $upstream" \
	"($pkg ${ver}'s upstream tarball, $n of the files they touch present)"

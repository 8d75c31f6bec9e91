#!/usr/bin/env bash
# Fetch the pinned kernel source package, verify it, and import it as the base
# commit of $CACHE/git/linux-SERIES. The commit id is the same on every machine:
# fixed author, committer, dates and message.
set -euo pipefail

usage() {
	cat <<USAGE
usage: ${0##*/} [-h] SERIES

SERIES is 6.12 or 7.3. Prints the path of the git tree. With KSRC=/path/to/linux
(a git tree whose HEAD is the base to use), that tree is used as it is.
USAGE
}
case "${1:-}" in
-h | --help) usage; exit 0 ;;
esac
[ $# = 1 ] || { usage >&2; exit 2; }

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
series=$1
check_series "$series"

if [ -n "${KSRC:-}" ]; then
	git -C "$KSRC" rev-parse --verify -q base >/dev/null ||
		git -C "$KSRC" tag base HEAD
	printf '%s\n' "$KSRC"
	exit 0
fi

repo=$CACHE/git/linux-$series
kver=$(pin "$series" KVER)
if git -C "$repo" rev-parse --verify -q "refs/tags/base" >/dev/null 2>&1; then
	printf '%s\n' "$repo"
	exit 0
fi

pkg=$(pin "$series" PKG)
ver=$(pin "$series" DEBVER)
sum=$(pin "$series" SHA256)
deb=$CACHE/debs/${pkg}_${ver}_all.deb
if ! [ -f "$deb" ] || ! echo "$sum  $deb" | sha256sum -c --quiet - 2>/dev/null; then
	"$TOP/scripts/setup.sh" "$series" >&2
fi
echo "$sum  $deb" | sha256sum -c --quiet - || die "$deb: sha256 mismatch"

log "importing $pkg $ver as the base of $repo"
tmp=$(mktemp -d "$CACHE/import.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards './usr/src/*.tar.xz'
tarball=$(echo "$tmp"/usr/src/*.tar.xz)
mkdir "$tmp/linux"
tar -x -C "$tmp/linux" --strip-components=1 --no-same-owner -f "$tarball"
rm -f "$tarball"

cd "$tmp/linux"
# Debian appends "/*" and "!/debian/" to the top-level .gitignore of the
# source package, which would hide every new file from git. Drop those rules.
sed -i -e '\|^/\*$|d' -e '\|^!/debian/$|d' .gitignore
git init -q -b base-import .
git config user.name "$BASE_AUTHOR_NAME"
git config user.email "$BASE_AUTHOR_EMAIL"
git config core.abbrev 12
git add -A -f .
GIT_AUTHOR_NAME=$BASE_AUTHOR_NAME GIT_AUTHOR_EMAIL=$BASE_AUTHOR_EMAIL \
GIT_COMMITTER_NAME=$BASE_AUTHOR_NAME GIT_COMMITTER_EMAIL=$BASE_AUTHOR_EMAIL \
GIT_AUTHOR_DATE=$BASE_DATE GIT_COMMITTER_DATE=$BASE_DATE \
	git commit -q --no-verify -m "Linux $kver (Debian $pkg $ver)" \
	-m "Imported from ${pkg}_${ver}_all.deb, sha256 $sum, with Debian's
two trailing .gitignore rules (/* and !/debian/) removed."
git tag base
cd - >/dev/null
mkdir -p "$(dirname "$repo")"
rm -rf "$repo"
mv "$tmp/linux" "$repo"
log "base $(git -C "$repo" rev-parse base)"
printf '%s\n' "$repo"

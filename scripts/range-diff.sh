#!/usr/bin/env bash
# How the 6.12 and 7.3 series differ, patch by patch: git range-diff of the
# two, as exported in patches/.
set -euo pipefail

usage() {
	cat <<USAGE
usage: ${0##*/} [-h] [RANGE-DIFF-OPTION...]

The two series cannot share their files: kernel::boot_param and the KUnit
tests use each kernel's own Rust API (6.12: kernel::str::CStr, c_str!, the
hand-built suites of patch 2; 7.3: core's CStr, c"" literals,
#[kunit_tests]), and the feature is a switch on 6.12 and a no-op on 7.3.
This shows the difference as "git range-diff" does, pairing each patch of
patches/v6.12 with its counterpart in patches/v7.3.

Each series is applied with git am in a scratch repository onto a base that
holds only the files the series touches, taken from its kernel's base
(seconds; no kernel tree is fetched into another). Options go to git
range-diff (default: --creation-factor=100, so that the two versions of
boot_param pair up although they differ much).
USAGE
}
case "${1:-}" in
-h | --help) usage; exit 0 ;;
esac

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
opts=("$@")
((${#opts[@]})) || opts=(--creation-factor=100)

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
r=$scratch/repo
git init -q "$r"
git -C "$r" config user.name "$SERIES_COMMITTER_NAME"
git -C "$r" config user.email "$SERIES_COMMITTER_EMAIL"
export GIT_COMMITTER_NAME=$SERIES_COMMITTER_NAME GIT_COMMITTER_EMAIL=$SERIES_COMMITTER_EMAIL
export GIT_COMMITTER_DATE=$SERIES_COMMITTER_DATE GIT_AUTHOR_DATE=$SERIES_COMMITTER_DATE

for s in 6.12 7.3; do
	t=$("$TOP/scripts/fetch.sh" "$s")
	mapfile -t p < <(find "$TOP/patches/v$s" -maxdepth 1 -name '*.patch' ! -name '*-0000-*' |
		LC_ALL=C sort)
	((${#p[@]})) || die "no patches in patches/v$s"
	git -C "$r" checkout -q --orphan "v$s"
	git -C "$r" rm -q -r -f --ignore-unmatch . >/dev/null
	# The pre-images: every file a patch of the series modifies.
	cat "${p[@]}" | sed -n 's|^--- a/||p' | LC_ALL=C sort -u | while read -r f; do
		# Added by an earlier patch of the series, not in the base.
		git -C "$t" cat-file -e "base:$f" 2>/dev/null || continue
		mkdir -p "$r/$(dirname "$f")"
		git -C "$t" show "base:$f" >"$r/$f"
	done
	git -C "$r" add -A
	git -C "$r" commit -q --allow-empty -m "base $s (the files the series touches)"
	git -C "$r" tag "base-$s"
	git -C "$r" am -q "${p[@]}" || die "git am of patches/v$s failed"
done
git -C "$r" --no-pager range-diff "${opts[@]}" base-6.12..v6.12 base-7.3..v7.3

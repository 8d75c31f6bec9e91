#!/usr/bin/env bash
# Every patch of a series builds and boots on its own: build each commit of
# base..series and boot it with nonroot_initramfs. In the series tree and the
# test kernel's build directory, one commit after the other: the last one is
# the series itself, so the test kernel's build that follows is incremental
# (no second tree to build from scratch). The tree is back on "series" after.
set -euo pipefail

usage() {
	cat <<USAGE
usage: ${0##*/} [-h] SERIES RESULTS LOGDIR

Appends one "pass|fail|skip NAME" line per patch to RESULTS. A series whose
patches, config and scripts are unchanged since a bisect that passed is
reported as skipped, not run again (NRI_BISECT_FORCE=1 runs it anyway).
USAGE
}
case "${1:-}" in
-h | --help) usage; exit 0 ;;
esac
[ $# = 3 ] || { usage >&2; exit 2; }

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
series=$1 results=$2 logdir=$3
check_series "$series"
t=$("$TOP/scripts/series.sh" tree "$series")
out=$CACHE/build/$series
h=$TOP/tools/testing/nonroot_initramfs
mkdir -p "$logdir"

# result pass|fail|skip NAME TEXT: one line in RESULTS, one on the terminal.
result() {
	echo "$1 $2: $3" >>"$results"
	echo "${1^^}: $2: $3"
}

# Left by earlier versions of this script: a worktree and a build of their own.
if [ -d "$CACHE/git/linux-$series-bisect" ]; then
	git -C "$t" worktree remove --force "$CACHE/git/linux-$series-bisect" 2>/dev/null || true
	rm -rf "$CACHE/git/linux-$series-bisect" "$CACHE/build/$series-bisect"
fi
passed=$CACHE/build/$series-bisect.passed

stamp=$(cat "$TOP/patches/v$series"/*.patch "$h"/*.config "$TOP/scripts/build.sh" \
	"$TOP/scripts/bisect.sh" "$TOP/scripts/pins" | sha256sum | cut -d' ' -f1)
mapfile -t commits < <(git -C "$t" rev-list --reverse base..series)
if ((${#commits[@]} < 2)); then
	log "$series: ${#commits[@]} patch(es): the build of the whole series covers it"
	exit 0
fi
if [ -z "${NRI_BISECT_FORCE:-}" ] && [ "$(cat "$passed" 2>/dev/null || true)" = "$stamp" ]; then
	for i in "${!commits[@]}"; do
		result skip "bisect-$series-patch-$((i + 1))" "unchanged since it passed"
	done
	exit 0
fi
rm -f "$passed"

trap 'git -C "$t" checkout -q series' EXIT
ok=1
for i in "${!commits[@]}"; do
	c=${commits[$i]} n=bisect-$series-patch-$((i + 1))
	git -C "$t" checkout -q --detach "$c"
	what=$(git -C "$t" log -1 --format=%s "$c")
	# Configure each commit afresh: the options a patch adds exist from it on.
	rm -f "$out/.nri-config"
	if ! NRI_TREE=$t NRI_OUT=$out NRI_CONFIG_LENIENT=1 \
		"$TOP/scripts/build.sh" "$series" >"$logdir/$n-build.log" 2>&1; then
		result fail "$n" "'$what' does not build (log: $logdir/$n-build.log)"
		ok=0
		continue
	fi
	"$TOP/scripts/boot.sh" "$out/arch/x86/boot/bzImage" "$CACHE/initramfs.cpio.gz" \
		"$logdir/$n-boot.log" nonroot_initramfs || true
	why=
	grep -q '^NRI: done' "$logdir/$n-boot.log" || why="does not boot to the end of /init"
	feature=
	git -C "$t" cat-file -e "$c:fs/nonroot_initramfs.rs" 2>/dev/null && feature=1
	# 6.12: the feature puts / on a second rootfs, on rootfs (mount 1).
	# 7.3: / is rootfs on nullfs already.
	if [ -z "$why" ] && [ -n "$feature" ] && [ "$series" = 6.12 ] &&
		! grep -qE '^NRI: mountinfo ([2-9]|[1-9][0-9]+) 1 [0-9:]+ / / .* - rootfs ' "$logdir/$n-boot.log"; then
		why="boots, but nonroot_initramfs did not put / on a rootfs on rootfs"
	fi
	if [ -z "$why" ] && [ -n "$feature" ] && ! grep -q '^\[[ 0-9.]*\] nonroot_initramfs: ' "$logdir/$n-boot.log"; then
		why="boots, but nonroot_initramfs logged nothing"
	fi
	# The kselftest of pivot_root(2) from the initial root, where it ran:
	# passes, nothing skipped, wherever / has a parent mount.
	if [ -z "$why" ] && { [ -n "$feature" ] || [ "$series" != 6.12 ]; } &&
		grep -q '^NRI: kselftest rc=' "$logdir/$n-boot.log" &&
		! grep -qE '^NRI: kselftest-out # Totals: pass:[1-9][0-9]* fail:0 xfail:0 xpass:0 skip:0 ' \
			"$logdir/$n-boot.log"; then
		why="boots, but the pivot_root kselftest failed"
	fi
	# KTAP of the kernel's own log (the guest's reports, "NRI: ...", carry
	# the kselftest's TAP, judged below).
	if [ -z "$why" ] && grep -qE '^\[[ 0-9.]+\] +not ok [0-9]+ ' "$logdir/$n-boot.log"; then
		why="a KUnit case failed"
	fi
	if [ -n "$why" ]; then
		result fail "$n" "'$what' $why (log: $logdir/$n-boot.log)"
		ok=0
	else
		result pass "$n" "'$what' builds and boots"
	fi
done
[ "$ok" = 0 ] || echo "$stamp" >"$passed"

#!/usr/bin/env bash
# The main job: set up, fetch, apply the 6.12 series, build, boot the kernel
# without and with nonroot_initramfs, and show side by side what changes.
set -euo pipefail

usage() {
	cat <<USAGE
usage: ${0##*/} [-h] [SERIES]

SERIES defaults to 6.12. Console logs go to \$NRI_CACHE/runs/demo.
USAGE
}
case "${1:-}" in
-h | --help) usage; exit 0 ;;
esac

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
series=${1:-6.12}
check_series "$series"
lock_cache
"$TOP/scripts/setup.sh" "$series"
bz=$("$TOP/scripts/build.sh" "$series" | tail -n 1)
"$TOP/scripts/mkinitramfs.sh" "$CACHE/initramfs.cpio.gz"
mkdir -p "$CACHE/runs/demo"
echo
echo "Linux $(pin "$series" KVER) + patches/v$series, booted twice under virtme-ng;"
echo "the initramfs is the final root, and /init runs pivot_root(2) and 'crun run':"
echo
python3 "$TOP/scripts/boottest.py" demo --kernel "$bz" \
	--initramfs "$CACHE/initramfs.cpio.gz" --logdir "$CACHE/runs/demo"

#!/usr/bin/env bash
# Boot a kernel under virtme-ng (TCG) with the test initramfs as the final
# root and write the console log. The guest powers itself off (reboot -f with
# -no-reboot); a hang is cut off by the timeout.
set -euo pipefail

usage() {
	cat <<USAGE
usage: ${0##*/} [-h] BZIMAGE INITRAMFS LOG [KERNEL-ARG...]

Exit status: 0 when the VM exited by itself, 124 on timeout (NRI_BOOT_TIMEOUT
seconds, default 300), otherwise virtme-ng's. The log is written either way.
USAGE
}
case "${1:-}" in
-h | --help) usage; exit 0 ;;
esac
[ $# -ge 3 ] || { usage >&2; exit 2; }

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
toolchain_env
bz=$(realpath "$1") initrd=$(realpath "$2") logf=$3
shift 3
[ -x "$VNG" ] || "$TOP/scripts/setup.sh" >&2
# vng runs its helpers (virtme-run) from PATH.
PATH=$(dirname "$VNG"):$PATH

# vng asks for a quiet console and a 9p root (rootfstype=9p, which also makes
# rootfs a ramfs). Undo both: full kernel log, and rootfs as on a machine that
# boots with no root= at all (a tmpfs).
args=("console=ttyS0" "loglevel=7" "rootfstype=tmpfs" "panic=-1" "oops=panic"
	"panic_on_warn=1" "$@")
rc=0
# virtme-ng wants a terminal-less stdin it can ignore and a writable HOME.
timeout --foreground -k 10 "${NRI_BOOT_TIMEOUT:-300}" \
	"$VNG" --run "$bz" --disable-kvm --skip-modules --cpus 1 --memory 512M \
	--append "${args[*]}" --append rdinit=/init \
	--qemu-opts "-initrd $initrd -no-reboot" \
	</dev/null >"$logf" 2>&1 || rc=$?
exit "$rc"

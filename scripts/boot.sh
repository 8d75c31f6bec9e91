#!/usr/bin/env bash
# Boot a kernel under virtme-ng (TCG) with the test initramfs as the final
# root and write the console log. The guest powers itself off (reboot -f with
# -no-reboot); a hang is cut off by the timeout.
set -euo pipefail

usage() {
	cat <<USAGE
usage: ${0##*/} [-h] BZIMAGE INITRAMFS LOG [KERNEL-ARG...]

BZIMAGE may be an arm64 Image: it boots under qemu-system-aarch64 -M virt.

INITRAMFS "-" or "" boots without an initrd. NRI_QEMU_OPTS adds QEMU options
(split at white space), e.g. "-drive file=IMG,if=virtio,format=raw,snapshot=on".
NRI_MEMORY is the guest's memory (default 512M).

vng appends an init= of its own (a path on the host) after the KERNEL-ARGs, and
the kernel keeps the last init=. When a KERNEL-ARG is init=..., boot.sh hands
QEMU the complete command line itself, as a last -append that QEMU takes over
vng's: console, log level, panic options, rdinit=/init, the KERNEL-ARGs.
A bare "--" among the KERNEL-ARGs (the words after it are init's) needs such
an init= before it: vng is given only the arguments before it.

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
bz=$(realpath "$1") logf=$3
initrd=
case "$2" in "" | -) ;; *) initrd=$(realpath "$2") ;; esac
shift 3
[ -x "$VNG" ] || "$TOP/scripts/setup.sh" >&2
# vng runs its helpers (virtme-run) from PATH.
PATH=$(dirname "$VNG"):$PATH

# vng asks for a quiet console and a 9p root (rootfstype=9p, which also makes
# rootfs a ramfs). Undo both: full kernel log, and rootfs as on a machine that
# boots with no root= at all (a tmpfs). rdinit= comes before the caller's
# arguments, which may name another one (the kernel keeps the last).
args=("console=ttyS0" "loglevel=7" "rootfstype=tmpfs" "panic=-1" "oops=panic"
	"panic_on_warn=1" "rdinit=/init" "$@")
qemu=(-no-reboot)
[ -z "$initrd" ] || qemu+=(-initrd "$initrd")
read -ra extra <<<"${NRI_QEMU_OPTS:-}"
qemu+=("${extra[@]}")
for a in "$@"; do
	case "$a" in
	--) break ;; # init's arguments from here on
	init=*)
		# vng passes --qemu-opts through a shell: quote the command line once.
		case "${args[*]}" in *"'"*) die "a kernel argument contains a single quote" ;; esac
		qemu+=(-append "'${args[*]}'")
		break
		;;
	esac
done
# vng's own parser takes a bare "--" for the end of its options: hand it the
# arguments before it. The words after it reach the kernel only through the
# -append above, which an init= argument asks for.
vng_args=()
for a in "${args[@]}"; do
	[ "$a" != -- ] || break
	vng_args+=("$a")
done
rc=0
# An arm64 Image: qemu-system-aarch64 itself (virtme-ng's arm64 support wants
# a cross root for its helpers); the same command line, on the virt
# machine's PL011 console.
if file -b "$bz" | grep -q 'ARM64'; then
	args=("console=ttyAMA0" "${args[@]:1}")
	aq=()
	[ -z "$initrd" ] || aq+=(-initrd "$initrd")
	aq+=("${extra[@]}")
	timeout --foreground -k 10 "${NRI_BOOT_TIMEOUT:-300}" \
		qemu-system-aarch64 -M virt -cpu cortex-a72 -accel tcg -smp 1 \
		-m "${NRI_MEMORY:-512M}" -nographic -no-reboot -kernel "$bz" \
		-append "${args[*]}" "${aq[@]}" \
		</dev/null >"$logf" 2>&1 || rc=$?
	exit "$rc"
fi
if ((${#vng_args[@]} < ${#args[@]})) && [[ " ${qemu[*]} " != *" -append "* ]]; then
	die "a bare -- among the kernel arguments needs an init= argument before it (see -h)"
fi
# virtme-ng wants a terminal-less stdin it can ignore and a writable HOME.
timeout --foreground -k 10 "${NRI_BOOT_TIMEOUT:-300}" \
	"$VNG" --run "$bz" --disable-kvm --skip-modules --cpus 1 --memory "${NRI_MEMORY:-512M}" \
	--append "${vng_args[*]}" --qemu-opts="${qemu[*]}" \
	</dev/null >"$logf" 2>&1 || rc=$?
exit "$rc"

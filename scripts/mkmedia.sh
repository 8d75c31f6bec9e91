#!/usr/bin/env bash
# Build the boot media the boot tests need besides the test initramfs, cached
# under $NRI_CACHE/media, rebuilt only when an input changed. Prints the path.
# No root needed; the same inputs give the same bytes.
set -euo pipefail

usage() {
	cat <<USAGE
usage: ${0##*/} [-h] KIND [INITRAMFS]

KIND is one of
  disk            ext4 image (64 MiB, raw): busybox, /sbin/init = init.sh; for
                  root=/dev/vda. Boot it with QEMU's snapshot=on: it stays as built
  noinit          an initramfs without /init (mkinitramfs.sh --no-init)
  big             INITRAMFS followed by a second archive holding /big.bin, 300 MiB
                  (zeros, then "nri-big-end"): more than half of the guest's 512 MiB
  bootconfig-on   INITRAMFS with a bootconfig appended (tools/bootconfig -a):
                  kernel.nonroot_initramfs, kernel.initramfs_options
  bootconfig-off  the same without kernel.nonroot_initramfs
  modules         the test initramfs with two modules for the fleet kernel,
                  made by scripts/modtest.sh (check.sh runs it): printed only
  builtin         INITRAMFS uncompressed, followed by an archive holding
                  /nri-builtin: the built-in initramfs of the fleet test
                  kernel (CONFIG_INITRAMFS_SOURCE, fleet.config)
INITRAMFS defaults to \$NRI_CACHE/initramfs.cpio.gz (built by mkinitramfs.sh).
USAGE
}
case "${1:-}" in
-h | --help) usage; exit 0 ;;
esac
case $# in 1 | 2) ;; *) usage >&2; exit 2 ;; esac

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
kind=$1
base=${2:-$CACHE/initramfs.cpio.gz}
h=$TOP/tools/testing/nonroot_initramfs
media=$CACHE/media
mkdir -p "$media" "$TOOLS"

case "$kind" in
modules)
	out=$media/modules.cpio.gz
	[ -f "$out" ] || die "no $out: scripts/modtest.sh writes it"
	printf '%s\n' "$out"
	exit 0
	;;
disk) out=$media/disk.img ;;
noinit) out=$media/noinit.cpio.gz ;;
big | bootconfig-on | bootconfig-off)
	[ -f "$base" ] || "$TOP/scripts/mkinitramfs.sh" "$base" >&2
	out=$media/$kind.cpio.gz
	;;
builtin)
	[ -f "$base" ] || "$TOP/scripts/mkinitramfs.sh" "$base" >&2
	out=$media/$kind.cpio
	;;
*) usage >&2; exit 2 ;;
esac

# The inputs of each kind; unchanged inputs keep the cached file.
inputs() {
	cat "$0" "$TOP/scripts/mkinitramfs.sh"
	case "$kind" in
	disk) cat "$h/init.sh" /bin/busybox "$TOP/tools/pivotable/pivotable" "$(ksft_pivot_root x86_64)" ;;
	big | bootconfig-* | builtin) cat "$base" ;;
	esac
}
stamp=$(inputs | sha256sum | cut -d' ' -f1)
if [ -f "$out" ] && [ "$(cat "$out.stamp" 2>/dev/null || true)" = "$stamp" ]; then
	printf '%s\n' "$out"
	exit 0
fi

tmp=$(mktemp -d "$media/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

gen_init_cpio() {
	local gen=$TOOLS/gen_init_cpio t
	if ! [ -x "$gen" ]; then
		t=$("$TOP/scripts/fetch.sh" 6.12)
		cc -O2 -o "$gen" "$t/usr/gen_init_cpio.c"
	fi
	"$gen" "$@"
}

# tools/bootconfig, built from a copy of the pinned base (the tree itself may
# be checked out anywhere in the series).
bootconfig_tool() {
	local bc=$TOOLS/bootconfig/bootconfig t
	if ! [ -x "$bc" ]; then
		t=$("$TOP/scripts/fetch.sh" 6.12)
		mkdir -p "$tmp/src" "$TOOLS/bootconfig"
		git -C "$t" archive base -- tools/bootconfig tools/scripts tools/include \
			lib/bootconfig.c include/linux/bootconfig.h | tar -x -C "$tmp/src"
		make -s -C "$tmp/src/tools/bootconfig" OUTPUT="$TOOLS/bootconfig/" "$bc" >&2
	fi
	printf '%s\n' "$bc"
}

case "$kind" in
disk)
	root=$tmp/root
	mkdir -p "$root"
	for d in bin sbin dev proc sys run tmp etc root newroot oldroot; do
		mkdir -p "$root/$d"
	done
	chmod 1777 "$root/tmp"
	cp /bin/busybox "$root/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
	done
	cp "$h/init.sh" "$root/sbin/init"
	mkdir -p "$root/usr/bin"
	cp "$TOP/tools/pivotable/pivotable" "$root/usr/bin/pivotable"
	cp "$(ksft_pivot_root x86_64)" "$root/usr/bin/pivot_root_test"
	chmod 755 "$root/sbin/init" "$root/bin/busybox"
	# How init.sh knows that it runs from the disk.
	echo "nonroot_initramfs test disk" >"$root/etc/nri-disk-marker"
	# nobody, for init.sh's probe of pivotable without CAP_SYS_ADMIN.
	printf '%s\n' "root:x:0:0:root:/:/bin/sh" "nobody:x:65534:65534:nobody:/:/bin/sh" \
		>"$root/etc/passwd"
	printf '%s\n' "root:x:0:" "nogroup:x:65534:" >"$root/etc/group"
	find "$root" -exec touch -h -d @0 {} +
	# Fixed UUID, hash seed and time: the same image every time.
	E2FSPROGS_FAKE_TIME=1 mke2fs -q -t ext4 -d "$root" -F -m 0 -L nri-disk \
		-U 6e726964-6973-6b00-0000-000000000001 \
		-E hash_seed=6e726964-6973-6b00-0000-000000000002,root_owner=0:0 \
		"$tmp/img" 64M >&2
	# mke2fs copies each file's ctime, which no one can set: zero it.
	(cd "$root" && find . | sed -e 's|^\.||' -e 's|^$|/|' -e 's|.*|sif "&" ctime @0|') >"$tmp/ctime"
	E2FSPROGS_FAKE_TIME=1 debugfs -w -f "$tmp/ctime" "$tmp/img" >/dev/null 2>&1
	;;
noinit)
	"$TOP/scripts/mkinitramfs.sh" --no-init "$tmp/img" >&2
	;;
big)
	# Zeros, and an end mark: a file whose unpacking stopped short ends in a hole.
	truncate -s $(((300 << 20) - 12)) "$tmp/big.bin"
	printf 'nri-big-end\n' >>"$tmp/big.bin"
	echo "file /big.bin $tmp/big.bin 644 0 0" >"$tmp/spec"
	cp "$base" "$tmp/img"
	# A second, concatenated archive: the kernel unpacks one after the other.
	gen_init_cpio -t 0 "$tmp/spec" | gzip -n -9 >>"$tmp/img"
	;;
builtin)
	echo "file /nri-builtin $h/init.sh 644 0 0" >"$tmp/spec"
	gzip -dc "$base" >"$tmp/img"
	gen_init_cpio -t 0 "$tmp/spec" >>"$tmp/img"
	;;
bootconfig-*)
	bc=$(bootconfig_tool)
	{
		[ "$kind" = bootconfig-off ] || echo "kernel.nonroot_initramfs"
		echo 'kernel.initramfs_options = "size=32m,nr_inodes=4000"'
	} >"$tmp/conf"
	cp "$base" "$tmp/img"
	"$bc" -a "$tmp/conf" "$tmp/img" >&2
	;;
esac
mv "$tmp/img" "$out"
echo "$stamp" >"$out.stamp"
log "wrote $out ($(stat -c %s "$out") bytes)"
printf '%s\n' "$out"

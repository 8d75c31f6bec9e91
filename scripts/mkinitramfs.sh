#!/usr/bin/env bash
# Build the test initramfs from Debian's packages: busybox, the container
# runtimes (crun, runc, bubblewrap) with the libraries they link, an OCI bundle,
# and tools/testing/nonroot_initramfs/init.sh as /init. Written with the
# kernel's own usr/gen_init_cpio: no root needed, same bytes for the same inputs.
set -euo pipefail

usage() {
	cat <<USAGE
usage: ${0##*/} [-h] [--no-init] OUT.cpio.gz

--no-init  an initramfs without /init (only /dev/console and /root), so that
           the kernel falls back to mounting root= itself (prepare_namespace)
USAGE
}
noinit=
case "${1:-}" in
-h | --help) usage; exit 0 ;;
--no-init) noinit=1; shift ;;
esac
[ $# = 1 ] || { usage >&2; exit 2; }

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
out=$1
h=$TOP/tools/testing/nonroot_initramfs

gen=$TOOLS/gen_init_cpio
if ! [ -x "$gen" ]; then
	t=$("$TOP/scripts/fetch.sh" 6.12)
	mkdir -p "$TOOLS"
	cc -O2 -o "$gen" "$t/usr/gen_init_cpio.c"
fi

spec=$(mktemp)
trap 'rm -f "$spec"' EXIT

# write OUT: the cpio of $spec, gzip'ed, atomically.
write() {
	mkdir -p "$(dirname "$out")"
	"$gen" -t 0 "$spec" | gzip -n -9 >"$out.tmp"
	mv "$out.tmp" "$out"
	log "wrote $out ($(stat -c %s "$out") bytes)"
}

if [ -n "$noinit" ]; then
	printf '%s\n' "dir /dev 755 0 0" "nod /dev/console 600 0 0 c 5 1" "dir /root 700 0 0" >"$spec"
	write
	exit 0
fi

busybox=/bin/busybox
file "$busybox" 2>/dev/null | grep -q 'statically linked' ||
	ldd "$busybox" 2>&1 | grep -q 'not a dynamic' ||
	die "$busybox is not static (install busybox-static)"
runtimes=()
for p in crun runc bwrap; do
	r=$(command -v "$p") || die "$p is not installed (scripts/setup.sh installs it)"
	runtimes+=("$r")
done

# The chroot-escape probe: one static binary, so that it runs in the bundle.
esc=$TOOLS/nri-escape
if ! [ -x "$esc" ] || [ "$h/escape.c" -nt "$esc" ]; then
	mkdir -p "$TOOLS"
	cc -static -O2 -Wall -Wextra -o "$esc.tmp" "$h/escape.c"
	mv "$esc.tmp" "$esc"
fi

ksft=$(ksft_pivot_root)

passwd=$(mktemp) group=$(mktemp)
trap 'rm -f "$spec" "$passwd" "$group"' EXIT
printf '%s\n' "root:x:0:0:root:/:/bin/sh" "nobody:x:65534:65534:nobody:/:/bin/sh" >"$passwd"
printf '%s\n' "root:x:0:" "nogroup:x:65534:" >"$group"

{
	for d in /bin /dev /proc /sys /run /newroot /etc /sbin /usr /usr/bin /usr/sbin \
		/lib /lib64 /bundle /bundle/rootfs /bundle/rootfs/bin /bundle/rootfs/proc \
		/bundle/rootfs/dev /bundle/rootfs/etc /bundle/rootfs/tmp /bundle-escape; do
		echo "dir $d 755 0 0"
	done
	# Writable for everyone: bwrap, run as nobody, makes its mount point here.
	echo "dir /tmp 1777 0 0"
	echo "nod /dev/console 600 0 0 c 5 1"
	echo "file /bin/busybox $busybox 755 0 0"
	echo "slink /bin/sh busybox 777 0 0"
	echo "file /init $h/init.sh 755 0 0"
	echo "file /usr/bin/pivotable $TOP/tools/pivotable/pivotable 755 0 0"
	echo "file /usr/bin/pivot_root_test $ksft 755 0 0"
	# The same script again, for rdinit= pointing elsewhere.
	echo "file /sbin/init2 $h/init.sh 755 0 0"
	echo "file /etc/passwd $passwd 644 0 0"
	echo "file /etc/group $group 644 0 0"
	for r in "${runtimes[@]}"; do
		echo "file $r $r 755 0 0"
		# The shared libraries it needs, at the paths the loader looks for them.
		ldd "$r" | awk '/=> \//{print $3} /^\t\//{print $1}' | LC_ALL=C sort -u |
			while read -r lib; do
				dir=$(dirname "$lib")
				case "$dir" in /lib | /lib64 | /usr/bin | /bin) ;; *) echo "dir $dir 755 0 0" ;; esac
				echo "file $lib $(readlink -f "$lib") 755 0 0"
			done
	done
	echo "file /bundle/config.json $h/bundle/config.json 644 0 0"
	echo "file /bundle-escape/config.json $h/bundle/escape.json 644 0 0"
	echo "file /bundle/rootfs/bin/busybox $busybox 755 0 0"
	echo "slink /bundle/rootfs/bin/sh busybox 777 0 0"
	echo "file /bundle/rootfs/report.sh $h/bundle/report.sh 755 0 0"
	echo "file /bundle/rootfs/nri-escape $esc 755 0 0"
	# A file that must not be reachable from inside a container.
	echo "file /etc/nri-initramfs-marker $h/bundle/config.json 644 0 0"
} | awk '!seen[$0]++' >"$spec"
write

#!/usr/bin/env bash
# Build the test initramfs from Debian's packages: busybox, crun with the
# libraries it links, an OCI bundle, and tools/testing/nonroot_initramfs/init.sh
# as /init. Written with the kernel's own usr/gen_init_cpio: no root needed,
# same bytes for the same inputs.
set -euo pipefail

usage() {
	cat <<USAGE
usage: ${0##*/} [-h] OUT.cpio.gz
USAGE
}
case "${1:-}" in
-h | --help) usage; exit 0 ;;
esac
[ $# = 1 ] || { usage >&2; exit 2; }

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
out=$1
h=$TOP/tools/testing/nonroot_initramfs

gen=$TOOLS/gen_init_cpio
if ! [ -x "$gen" ]; then
	t=$("$TOP/scripts/fetch.sh" 6.12)
	cc -O2 -o "$gen" "$t/usr/gen_init_cpio.c"
fi

busybox=/bin/busybox
crun=$(command -v crun) || die "crun is not installed (scripts/setup.sh installs it)"
file "$busybox" 2>/dev/null | grep -q 'statically linked' ||
	ldd "$busybox" 2>&1 | grep -q 'not a dynamic' ||
	die "$busybox is not static (install busybox-static)"

spec=$(mktemp)
trap 'rm -f "$spec"' EXIT
{
	for d in /bin /dev /proc /sys /run /tmp /newroot /etc /usr /usr/bin /lib /lib64 \
		/bundle /bundle/rootfs /bundle/rootfs/bin /bundle/rootfs/proc \
		/bundle/rootfs/dev /bundle/rootfs/etc; do
		echo "dir $d 755 0 0"
	done
	echo "nod /dev/console 600 0 0 c 5 1"
	echo "file /bin/busybox $busybox 755 0 0"
	echo "slink /bin/sh busybox 777 0 0"
	echo "file /init $h/init.sh 755 0 0"
	echo "file /usr/bin/crun $crun 755 0 0"
	# The shared libraries crun needs, at the paths the loader looks for them.
	ldd "$crun" | awk '/=> \//{print $3} /^\t\//{print $1}' | LC_ALL=C sort -u |
		while read -r lib; do
			dir=$(dirname "$lib")
			case "$dir" in /lib | /lib64 | /usr/bin | /bin) ;; *) echo "dir $dir 755 0 0" ;; esac
			echo "file $lib $(readlink -f "$lib") 755 0 0"
		done
	echo "file /bundle/config.json $h/bundle/config.json 644 0 0"
	echo "file /bundle/rootfs/bin/busybox $busybox 755 0 0"
	echo "slink /bundle/rootfs/bin/sh busybox 777 0 0"
	echo "file /bundle/rootfs/report.sh $h/bundle/report.sh 755 0 0"
	# A file that must not be reachable from inside a container.
	echo "file /etc/nri-initramfs-marker $h/bundle/config.json 644 0 0"
} | awk '!seen[$0]++' >"$spec"

mkdir -p "$(dirname "$out")"
"$gen" -t 0 "$spec" | gzip -n -9 >"$out.tmp"
mv "$out.tmp" "$out"
log "wrote $out ($(stat -c %s "$out") bytes)"

#!/usr/bin/env bash
# Build the test initramfs from Debian's packages: busybox, the container
# runtimes (crun, runc, bubblewrap) with the libraries they link, an OCI bundle,
# and tools/testing/nonroot_initramfs/init.sh as /init. Written with the
# kernel's own usr/gen_init_cpio: no root needed, same bytes for the same inputs.
set -euo pipefail

usage() {
	cat <<USAGE
usage: ${0##*/} [-h] [--no-init] [--arch ARCH] OUT.cpio.gz

--no-init    an initramfs without /init (only /dev/console and /root), so that
             the kernel falls back to mounting root= itself (prepare_namespace)
--arch ARCH  x86_64 (default: the host's programs) or arm64 (the same Debian
             packages for arm64, extracted into the cache; the test programs
             built with the pinned clang)
USAGE
}
noinit='' arch=x86_64
while [ $# -gt 0 ]; do
	case "$1" in
	-h | --help) usage; exit 0 ;;
	--no-init) noinit=1; shift ;;
	--arch) [ $# -ge 2 ] || { usage >&2; exit 2; }; arch=$2; shift 2 ;;
	-*) usage >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# = 1 ] || { usage >&2; exit 2; }
case "$arch" in x86_64 | arm64) ;; *) echo "${0##*/}: unknown architecture '$arch'" >&2; exit 2 ;; esac

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

# R: the root the programs come from ("" for the host's); the runtimes by
# their path under R, which is also their path in the initramfs.
R=
[ "$arch" = x86_64 ] || R=$(arm64_root)
busybox=$R/bin/busybox
readelf -l "$busybox" 2>/dev/null | grep -q 'INTERP' &&
	die "$busybox is not static (install busybox-static)"
runtimes=()
for p in crun runc bwrap; do
	r=$(PATH=$R/usr/sbin:$R/usr/bin:$R/sbin:$R/bin command -v "$p") ||
		die "$p is not installed (scripts/setup.sh installs it)"
	runtimes+=("${r#"$R"}")
done

# in_root PATH: PATH inside R, its symlinks resolved there (absolute ones
# point into R, not to the host's files).
in_root() {
	local p=$1 l n=0
	while [ -L "$R$p" ]; do
		l=$(readlink "$R$p")
		case "$l" in /*) p=$l ;; *) p=$(realpath -ms "$(dirname "$p")/$l") ;; esac
		n=$((n + 1))
		[ "$n" -lt 40 ] || die "$R$1: too many symbolic links"
	done
	printf '%s\n' "$R$p"
}

# libs PROGRAM: the shared libraries PROGRAM needs, and its loader, at the
# paths the loader looks for them (the host's: ldd; another architecture's:
# NEEDED entries looked up in R's library directories).
libs() {
	if [ -z "$R" ]; then
		ldd "$1" | awk '/=> \//{print $3} /^\t\//{print $1}'
		return
	fi
	local todo=("$1") seen=" " f lib d found
	readelf -l "$(in_root "$1")" | sed -n 's/.*program interpreter: \(.*\)\]/\1/p'
	while ((${#todo[@]})); do
		f=${todo[0]}
		todo=("${todo[@]:1}")
		for lib in $(readelf -d "$(in_root "$f")" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			case "$seen" in *" $lib "*) continue ;; esac
			seen="$seen$lib "
			found=
			for d in /lib/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu /lib /usr/lib; do
				if [ -e "$(in_root "$d/$lib")" ]; then
					found=$d/$lib
					break
				fi
			done
			[ -n "$found" ] || die "$f needs $lib, which is not in $R"
			printf '%s\n' "$found"
			todo+=("$found")
		done
	done
}

# The chroot-escape probe: one static binary, so that it runs in the bundle.
esc=$(static_prog "$arch" nri-escape "$h/escape.c" -Wextra)
ksft=$(ksft_pivot_root "$arch")

passwd=$(mktemp) group=$(mktemp)
trap 'rm -f "$spec" "$passwd" "$group"' EXIT
printf '%s\n' "root:x:0:0:root:/:/bin/sh" "nobody:x:65534:65534:nobody:/:/bin/sh" >"$passwd"
printf '%s\n' "root:x:0:" "nogroup:x:65534:" >"$group"

{
	for d in /bin /dev /proc /sys /run /newroot /etc /sbin /usr /usr/bin /usr/sbin /usr/lib \
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
		echo "file $r $(in_root "$r") 755 0 0"
		# The shared libraries it needs, at the paths the loader looks for them.
		libs "$r" | LC_ALL=C sort -u |
			while read -r lib; do
				dir=$(dirname "$lib")
				case "$dir" in /lib | /lib64 | /usr/bin | /bin) ;; *) echo "dir $dir 755 0 0" ;; esac
				if [ -z "$R" ]; then
					echo "file $lib $(readlink -f "$lib") 755 0 0"
				else
					echo "file $lib $(in_root "$lib") 755 0 0"
				fi
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

#!/bin/sh
# /init of the benchmark images (scripts/bench.py): get to a root a container
# runtime can pivot from, the way the kernel argument nri.bench=MODE says, run
# one container with crun, report, power off.
#
#   stock     nothing: the initramfs stays in rootfs (crun's pivot_root fails)
#   nonroot   nothing either: the kernel was booted with nonroot_initramfs
#   copy      cp -a / into a new tmpfs, busybox switch_root into it
#   tar       minikube's /init: tar / into a tmpfs of size=90%, switch_root
#   rbind     mount --rbind / /x; mount --move . /; chroot . (crun#1507)
#   nopivot   nothing; crun run --no-pivot (MS_MOVE and chroot)
#
# Every report line starts with "BENCH "; the marks that time the boot are
# written to /dev/kmsg, so they carry the kernel's own timestamps. The container
# is bundle/escape.json: it reports whether the initramfs is reachable from it.
# Runs under busybox sh, first as /init, then as "/init stage2 SAMPLER_PID"
# in the root the mode switched to.
PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH

mark() { echo "nri-bench: $*" >/dev/kmsg; }
say() { echo "BENCH $*"; }
# meminfo LABEL: MemTotal, MemAvailable and Shmem in kB. The available memory
# includes the free pages on the per-CPU lists, as memsample.c explains.
meminfo() {
	pcp=$(awk '$1 == "count:" { c += $2 } END { print c * 4 }' /proc/zoneinfo)
	awk -v what="$1" -v pcp="$pcp" '/^MemTotal:/ { t = $2 } /^MemAvailable:/ { a = $2 }
		/^Shmem:/ { s = $2 }
		END { printf "%s total_kb=%d avail_kb=%d shmem_kb=%d\n", what, t, a + pcp, s }' \
		/proc/meminfo
}
karg() {
	v=
	read -r cmdline </proc/cmdline
	set -f
	for a in $cmdline; do
		case "$a" in "$1"=*) v=${a#*=} ;; esac
	done
	set +f
	echo "$v"
}
# The top-level entries of /, without the ones named.
entries() {
	for e in /* /.[!.]*; do
		[ -e "$e" ] || continue
		case " $* " in *" ${e#/} "*) continue ;; esac
		echo "${e#/}"
	done
}
finish() {
	say "done"
	sync
	reboot -f
}

if [ "${1:-}" != stage2 ]; then
	/bin/busybox --install -s /bin 2>/dev/null
	mount -t proc proc /proc
	mount -t devtmpfs devtmpfs /dev
	mark "init"
	mode=$(karg nri.bench)
	say "mode $mode"
	say "$(meminfo init)"
	# Peak memory from here on, until stage 2 has run the container.
	memsample 20 &
	spid=$!
	case "$mode" in
	stock | nonroot | nopivot)
		exec /init stage2 "$spid"
		;;
	copy | tar)
		if [ "$mode" = copy ]; then
			mount -t tmpfs tmpfs /newroot
			# shellcheck disable=SC2046 # one argument per entry
			cp -a $(entries proc dev sys newroot | sed 's|^|/|') /newroot/
		else
			mount -t tmpfs -o size=90% tmpfs /newroot
			# shellcheck disable=SC2046 # one argument per entry
			tar -C / -cf - $(entries proc dev sys newroot) | tar -C /newroot -xf -
		fi
		say "copied rc=$? $(du -sk /newroot | cut -f1) kB"
		# The mount points left out of the copy.
		mkdir -p /newroot/dev /newroot/proc /newroot/sys
		mount --move /dev /newroot/dev
		mount --move /proc /newroot/proc
		exec switch_root /newroot /init stage2 "$spid"
		;;
	rbind)
		mkdir -p /x
		mount --rbind / /x
		cd /x || finish
		mount --move . /
		exec chroot . /init stage2 "$spid"
		;;
	*)
		say "error unknown nri.bench=$mode"
		finish
		;;
	esac
	say "error exec failed"
	finish
fi

spid=$2
mode=$(karg nri.bench)
mark "stage2"
mount -t sysfs sysfs /sys
mount -t tmpfs run /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup
say "root $(stat -f -c %T /) $(awk '$5 == "/" { print $1, $2 }' /proc/self/mountinfo | tr '\n' ' ')"
flags=
[ "$mode" = nopivot ] && flags=--no-pivot
# shellcheck disable=SC2086 # no flag or one
crun --root /run/crun run $flags --bundle /bundle-escape nri-bench >/run/rt.out 2>&1
rc=$?
mark "container rc=$rc"
say "container rc=$rc"
while read -r line; do say "rt-out $line"; done </run/rt.out
# The sampler reports and exits; it is a child of PID 1 whatever PID 1 runs now.
kill -USR1 "$spid"
i=0
while [ $i -lt 100 ] && [ -e "/proc/$spid" ] && ! grep -q '^[^)]*) Z' "/proc/$spid/stat"; do
	sleep 0.05
	i=$((i + 1))
done
say "$(meminfo settled)"
finish

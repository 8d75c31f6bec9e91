#!/bin/sh
# /init of the test initramfs (and /sbin/init2, for rdinit=), and /sbin/init of
# the test disk (scripts/mkmedia.sh disk): observe, report on the console,
# power off. Every report line starts with "NRI: "; the host
# (scripts/boottest.py) decides what is expected for each boot. Runs under
# busybox sh.
#
# Kernel arguments it reads (the kernel ignores them, /proc/cmdline shows them):
#   nri.mode=switch_root  from the initramfs, mount /dev/vda on /newroot and
#                         exec busybox switch_root into its /sbin/init
#   nri.mode=pivot        the same with pivot_root(2), as systemd does; falls
#                         back to switch_root when pivot_root fails
#   nri.rt=LIST           the container probes to run, comma-separated, of
#                         crun,runc,bwrap,bwrap-user,escape,escape-nopivot
#                         (default: all of them; "none": none)
PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
say() { echo "NRI: $*"; }

/bin/busybox --install -s /bin 2>/dev/null
mount -t proc proc /proc
say "begin $(uname -r)"
say "cmdline $(cat /proc/cmdline)"
# What the kernel passed to init as arguments: unknown options without "=".
say "argv $*"
# The mount table as user space first sees it, before /init mounts anything.
while read -r line; do say "mountinfo $line"; done </proc/self/mountinfo
say "root-fstype $(stat -f -c %T /)"
say "root-mode $(stat -c %a /)"
# The entries of our root directory.
entries=
for e in /* /.[!.]*; do [ -e "$e" ] && entries="$entries ${e#/}"; done
say "root-entries$entries"

role=initramfs
[ -e /etc/nri-disk-marker ] && role=disk
say "init $0 pid=$$ role=$role"

# karg NAME: the value of the last NAME=VALUE kernel argument.
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
shmem() { say "shmem stage=$1 $(awk '/^Shmem:/ { print $2 }' /proc/meminfo) kB"; }
shmem "$role"
[ -e /big.bin ] && say "big-file size=$(stat -c %s /big.bin) end=$(tail -c 12 /big.bin | tr -dc a-z-)"

mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs run /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup

# Leave the initramfs for the root on the disk, the way an initramfs does at
# the end of its job. Report, and power off if there is no way.
switch() {
	case "$1" in
	pivot | switch_root) ;;
	*) say "switch unknown nri.mode=$1" && return ;;
	esac
	i=0
	while ! [ -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	out=$(mount -t ext4 /dev/vda /newroot 2>&1)
	rc=$?
	say "mount-newroot rc=$rc $out"
	[ $rc = 0 ] || return
	# The new root mounts its own; nothing of ours stays mounted below it.
	umount /sys/fs/cgroup /sys /run
	if [ "$1" = pivot ]; then
		# systemd's way: pivot_root, detach the old root, exec the new init.
		cd /newroot || return
		out=$(pivot_root . oldroot 2>&1)
		rc=$?
		say "switch method=pivot_root rc=$rc $out"
		if [ $rc = 0 ]; then
			# Detaches the old root with everything still mounted on it.
			umount -l /oldroot
			say "switch exec /sbin/init"
			exec /bin/busybox chroot . /sbin/init
		fi
		cd /
	fi
	# switch_root deletes the initramfs, moves /newroot onto / and chroots.
	umount /proc /dev
	say "switch method=switch_root"
	exec switch_root /newroot /sbin/init
}
mode=$(karg nri.mode)
if [ "$role" = initramfs ] && [ -n "$mode" ]; then
	switch "$mode"
	say "switch failed"
	say "done"
	sync
	reboot -f
fi

# pivot_root(2) from the initramfs, in a private mount namespace, into a fresh
# tmpfs: the call a container runtime makes.
out=$(unshare -m sh -c 'mount -t tmpfs nri /newroot && mkdir /newroot/old &&
	cd /newroot && pivot_root . old && echo pivoted' 2>&1)
rc=$?
say "pivot_root rc=$rc $(echo "$out" | tr '\n' ' ')"
# The operator's check (tools/pivotable): its verdict must agree with the
# pivot_root(2) above (made in a copy of this mount namespace, with the same
# root: the probes below pair the two in one shell).
out=$(pivotable 2>&1)
rc=$?
say "pivotable rc=$rc $(echo "$out" | tr '\n' ' ')"

# The same, where an operator's process is not that plain root: each probe
# makes a private mount namespace with a fresh tmpfs on /newroot, sets it up
# (SETUP, shell code, as root) and runs, through RUNNER..., one shell that
# runs pivotable and then pivot_root(2) into /newroot. Reported as
# "NRI: probe NAME pivotable rc=N VERDICT" and "NRI: probe NAME pivot_root
# rc=N ERROR"; the host checks that the two agree. (After a pivot_root that
# worked, the shell's root is the empty tmpfs: only builtins from there on.)
#   over    a tmpfs mounted over "/": not the process's root, which is still
#           the one below (lookups do not follow mounts stacked on the root)
#   rbind   the rbind workaround (crun issue 1507): / bound onto a directory,
#           moved onto / and chrooted into
#   nobody  the same root, as nobody: no CAP_SYS_ADMIN, pivot_root EPERM
#   nodev   an empty, read-only /dev (a tmpfs over it): no /dev/null
#   userns  root in a user namespace of its own, the mount namespace still
#           the older one: CAP_SYS_ADMIN, but not over it (EPERM)
# shellcheck disable=SC2016 # expanded by the probe's shell
probe_check='out=$(pivotable 2>&1)
echo "pivotable rc=$? $(echo "$out" | tr "\n" " ")"
out=$(cd /newroot && pivot_root . old 2>&1)
echo "pivot_root rc=$? $out"'
probe() {
	name=$1
	shift
	# shellcheck disable=SC2016 # expanded by the namespace's shell
	unshare -m sh -c 'mount -t tmpfs nri /newroot && mkdir /newroot/old &&
		eval "$1" || { echo "setup rc=$?"; exit 1; }
		shift
		exec "$@"' probe "$@" 2>&1 | while IFS= read -r line; do say "probe $name $line"; done
}
probe over 'mount -t tmpfs over /' sh -c "$probe_check"
probe rbind 'mkdir -p /run/nri-rbind && mount --rbind / /run/nri-rbind &&
	cd /run/nri-rbind && mount --move . /' chroot . sh -c "$probe_check"
probe nobody : su -s /bin/sh nobody -c "$probe_check"
probe nodev 'mount -t tmpfs -o ro nodev /dev' sh -c "$probe_check"
probe userns : unshare -r sh -c "$probe_check"

# The series' kselftest (tools/testing/selftests/filesystems/pivot_root):
# pivot_root(2) from this root, into a tmpfs and into a bundle, and the old
# root out of reach afterwards.
if command -v pivot_root_test >/dev/null; then
	pivot_root_test >/run/ksft.out 2>&1
	say "kselftest rc=$?"
	while IFS= read -r line; do say "kselftest-out $line"; done </run/ksft.out
fi

# The fleet kernel (MODVERSIONS, scripts/modtest.sh): a module with one version
# CRC altered must be refused, the module as built must load.
if [ -d /nri-modules ]; then
	for m in bad good; do
		out=$(insmod "/nri-modules/$m.ko" 2>&1)
		say "insmod $m rc=$? $(echo "$out" | tr '\n' ' ')"
	done
fi

# Container runtimes running the bundle; the container reports what it sees of
# the mount tree after the runtime's pivot_root. rt NAME CMD...: run, report.
rt() {
	name=$1
	shift
	"$@" >/run/rt.out 2>&1
	rc=$?
	say "rt $name rc=$rc"
	while read -r line; do say "rt-out $name $line"; done </run/rt.out
}
want() {
	case ",$rts," in *",$1,"*) command -v "$2" >/dev/null ;; *) false ;; esac
}
rts=$(karg nri.rt)
rts=${rts:-crun,runc,bwrap,bwrap-user,escape,escape-nopivot}
bw="--ro-bind /bundle/rootfs / --proc /proc --dev /dev --unshare-pid --unshare-ipc --unshare-uts"
bw="$bw /bin/sh /report.sh"
want crun crun && rt crun crun --root /run/crun run --bundle /bundle nri-test
want runc runc && rt runc runc --root /run/runc run --bundle /bundle nri-test
# shellcheck disable=SC2086 # $bw is a list of arguments
want bwrap bwrap && rt bwrap bwrap $bw
# Unprivileged, in a user namespace of its own, as nobody.
want bwrap-user bwrap && rt bwrap-user su -s /bin/sh nobody -c "bwrap --unshare-user $bw"
# A privileged process tries to leave the container root (bundle/escape.json,
# escape.c). After the runtime's pivot_root nothing of the initramfs is left
# in the container's mount namespace; with --no-pivot (MS_MOVE and chroot
# instead of pivot_root, the workaround for a rootfs root) all of it is.
want escape crun && rt escape crun --root /run/crun run --bundle /bundle-escape nri-escape
want escape-nopivot crun &&
	rt escape-nopivot crun --root /run/crun run --no-pivot --bundle /bundle-escape nri-escape

mount -t debugfs debugfs /sys/kernel/debug
# The debug kernel (CONFIG_DEBUG_KMEMLEAK): scan for leaks now that boot and
# the probes are done, and report them.
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak >/run/kmemleak.out
	say "kmemleak $(grep -c '^unreferenced object' /run/kmemleak.out)"
	head -n 40 /run/kmemleak.out | while IFS= read -r line; do say "kmemleak-out $line"; done
fi

# KUnit keeps its suites after boot, in debugfs: read the results back. Last,
# and with oops no longer fatal: a kernel that oopses here still reports the
# rest (the host fails the boot for the Oops).
echo 0 >/proc/sys/kernel/panic_on_oops
say "kunit-debugfs begin"
cat /sys/kernel/debug/kunit/nonroot_initramfs/results >/run/kunit.out 2>&1
rc=$?
say "kunit-debugfs rc=$rc lines=$(wc -l </run/kunit.out)"
# The results (KTAP, indented as read), without what the cases logged.
grep -E '^ *((not )?ok [0-9]+ |# Subtest|KTAP)|^[^ ]' /run/kunit.out | head -n 60 |
	while IFS= read -r line; do say "kunit-debugfs-out $line"; done

say "done"
sync
reboot -f

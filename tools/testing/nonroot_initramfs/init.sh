#!/bin/sh
# /init of the test initramfs: observe, report on the console, power off.
# Every report line starts with "NRI: "; the host (scripts/boottest.py) decides
# what is expected for each boot. Runs under busybox sh.
PATH=/bin:/usr/bin
export PATH
say() { echo "NRI: $*"; }

/bin/busybox --install -s /bin
mount -t proc proc /proc
say "begin $(uname -r)"
say "cmdline $(cat /proc/cmdline)"
# The mount table as user space first sees it, before /init mounts anything.
while read -r line; do say "mountinfo $line"; done </proc/self/mountinfo
say "root-fstype $(stat -f -c %T /)"
# The entries of our root directory.
entries=
for e in /* /.[!.]*; do [ -e "$e" ] && entries="$entries ${e#/}"; done
say "root-entries$entries"

mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs run /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup

# pivot_root(2) from the initramfs, in a private mount namespace, into a fresh
# tmpfs: the call a container runtime makes.
out=$(unshare -m sh -c 'mount -t tmpfs nri /newroot && mkdir /newroot/old &&
	cd /newroot && pivot_root . old && echo pivoted' 2>&1)
rc=$?
say "pivot_root rc=$rc $(echo "$out" | tr '\n' ' ')"

# A real container runtime running the bundle; the container reports what it
# sees of the mount tree after its own pivot_root.
crun --root /run/crun run --bundle /bundle nri-test >/run/crun.out 2>&1
rc=$?
say "crun rc=$rc"
while read -r line; do say "crun-out $line"; done </run/crun.out

say "done"
sync
reboot -f

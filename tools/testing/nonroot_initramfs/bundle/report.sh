#!/bin/sh
# Runs inside the container, after the runtime's pivot_root.
echo "container-begin"
while read -r line; do echo "container-mountinfo $line"; done </proc/self/mountinfo
# /etc/nri-initramfs-marker is in the initramfs, not in the bundle.
if [ -e /etc/nri-initramfs-marker ]; then
	echo "container-marker visible"
else
	echo "container-marker absent"
fi
echo "container-end"

#!/bin/sh
# Runs inside the container, after the runtime's pivot_root.
echo "container-begin"
while read -r line; do echo "container-mountinfo $line"; done </proc/self/mountinfo
echo "container-end"

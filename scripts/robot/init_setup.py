#!/usr/bin/env python3
"""The .init.setup table of a vmlinux, as the boot parser walks it: an array of
struct obs_kernel_param from __setup_start to __setup_end. Every entry the Rust
macros made (boot_param::setup!/early_param!: symbols ending in ENTRY) must be
one element of it: its size that of the C struct, its offset from
__setup_start a multiple of it, and the array's start aligned for it. Works on
any architecture's vmlinux (llvm-nm reads them all); prints what it found and
exits 1 on any mismatch.
"""
import argparse
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("vmlinux")
    ap.add_argument("--nm", default="llvm-nm-19")
    ap.add_argument("--word", type=int, default=8, help="pointer size in bytes (default 8)")
    a = ap.parse_args()
    # struct obs_kernel_param: two pointers and an int, padded to pointer alignment.
    size = 3 * a.word
    out = subprocess.run([a.nm, "-n", "-S", a.vmlinux], stdout=subprocess.PIPE, text=True,
                         check=True).stdout
    syms = []
    for line in out.splitlines():
        f = line.split()
        if len(f) == 4:
            syms.append((int(f[0], 16), int(f[1], 16), f[3]))
        elif len(f) == 3:
            syms.append((int(f[0], 16), None, f[2]))
    addr = {name: at for at, _, name in syms}
    if "__setup_start" not in addr or "__setup_end" not in addr:
        print("no __setup_start/__setup_end in", a.vmlinux)
        return 1
    start, end = addr["__setup_start"], addr["__setup_end"]
    bad = []
    if start % a.word:
        bad.append(f"__setup_start {start:#x} is not aligned to {a.word}")
    if (end - start) % size:
        bad.append(f"the table is {end - start} bytes, not a multiple of {size}")
    rust = [(at, sz, n) for at, sz, n in syms if n.endswith("5ENTRY") and start <= at < end]
    outside = [n for at, _, n in syms if n.endswith("5ENTRY") and not start <= at < end]
    if not rust:
        bad.append("no Rust entry in the table")
    for n in outside:
        bad.append(f"{n} is outside the table")
    for at, sz, n in rust:
        where = f"{n} at +{at - start}"
        if (at - start) % size:
            bad.append(f"{where}: not on an element boundary ({size} bytes)")
        if sz != size:
            bad.append(f"{where}: {sz} bytes, the C struct has {size}")
        print(f"{where} ({sz} bytes): element {(at - start) // size} of {(end - start) // size}")
    for b in bad:
        print("wrong:", b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

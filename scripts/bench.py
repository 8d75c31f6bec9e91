#!/usr/bin/env python3
"""What nonroot_initramfs costs and what it saves, against stock and the
workarounds users run today: boot the 6.12 test kernel under virtme-ng (TCG)
in each mode, several runs each, for initramfs images of several sizes, each
uncompressed and compressed, and write the raw runs, a table of the headline
figures with a 95% interval and a verdict for each, and a plot of the runs.

Modes (tools/testing/nonroot_initramfs/bench-init.sh does the guest's part):
  stock    parameter absent; the initramfs stays in rootfs; crun cannot pivot
  nonroot  nonroot_initramfs
  copy     cp -a into a tmpfs, then switch_root (parameter absent)
  tar      tar into a tmpfs of size=90%, then switch_root (minikube)
  rbind    mount --rbind / /x; mount --move . /; chroot . (crun#1507)
  nopivot  crun run --no-pivot (parameter absent)

Each run boots one image: the test initramfs (scripts/mkinitramfs.sh, gzip)
followed by a cpio with bench-init.sh as /init, the memory sampler and a
payload of the size asked for, half compressible text and half random bytes,
files of 4 KiB to 8 MiB, all generated from --seed. --compress says how that
cpio is stored: none, zstd (zstd -q -19 -T0, as Debian's initramfs-tools
writes it) or gzip (gzip -n); the kernel needs CONFIG_RD_ZSTD / CONFIG_RD_GZIP.
Runs are interleaved (all modes and compressions of run 1, then of run 2, ...;
their order shuffled per run from the seed), so a slow stretch of the host
hits every mode alike.

Headline figures, per run:
  /init to container done  t_done: the kernel's "Run /init as init process"
           to the /dev/kmsg mark after crun (bundle/escape.json) has run;
           reference nonroot (stock never runs the container)
  unpack   t_unpack: the kernel's "Unpacking initramfs..." (or "Trying to
           unpack rootfs image as initramfs...") to its "Freeing initrd
           memory" line, both in do_populate_rootfs(); reference stock
  peak used memory after /init  peak_used_mib: the minimum of MemAvailable
           (plus the per-CPU free pages) sampled every 20 ms from /init on
           (tools/testing/nonroot_initramfs/memsample.c); misses the unpack;
           reference stock
  QEMU peak RSS  qemu_rss_mib: the RAM the boot took on the host: ru_maxrss
           of boot.sh from os.wait4, the maximum over boot.sh and every
           descendant it reaped, QEMU being by far the largest; reference stock
For each, mode against reference: n per side, the ratio of the medians, its
95% interval (percentile bootstrap, 2000 resamples per side, fixed seed) and a
verdict from the interval: above 1 (slower, more), below 1 (faster, less), or
"no difference detected" when it contains 1.
Also per run, not headlined: the kernel's time to /init (t_init: under TCG it
scatters by a second or more in every mode alike, so it is noise here), the
user-space switch of the copy modes, peak Shmem, the memory once the
container has run, and whether the initramfs was reachable from inside the
container (escape.c's setns way).

The feature's own work, the switch in mnt_init(), is timed by a KUnit case
(nonroot_initramfs.switch_cost) that runs the same code on the real VFS in a
private mount namespace, after boot: boots with kunit.filter_glob set to it.
The benchmark boots themselves run with kunit.enable=0.

--smoke (make check): one small size, one run per mode (the modes take turns
with the compressions); asserts that every mode ran and that reachability is
as expected, no timing. Appends "pass NAME" or "fail NAME" to --results.
Touch OUT/pause to hold the benchmark between two boots (e.g. while building
something else on the same machine).
"""
import argparse
import csv
import datetime
import gzip
import hashlib
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cache_dir():
    return os.environ.get("NRI_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "nonroot-initramfs")


# The plot needs matplotlib, which scripts/setup.sh installs in the workbench's
# venv: run there.
VENV_PY = os.path.join(cache_dir(), "tools", "venv", "bin", "python3")
try:
    import matplotlib  # noqa: F401
except ImportError:
    if os.path.exists(VENV_PY) and os.path.realpath(sys.prefix) != \
            os.path.realpath(os.path.dirname(os.path.dirname(VENV_PY))):
        os.execv(VENV_PY, [VENV_PY, *sys.argv])
    sys.exit("bench.py: no matplotlib: run scripts/setup.sh")
H = os.path.join(TOP, "tools", "testing", "nonroot_initramfs")
MODES = ["stock", "nonroot", "copy", "tar", "rbind", "nopivot"]
# Whether the container may reach the initramfs (escape.c, setns way); None:
# the container does not run (pivot_root fails with EINVAL).
REACHABLE = {"stock": None, "nonroot": False, "copy": False, "tar": False,
             "rbind": True, "nopivot": True}
# How the bench cpio is stored: the compressor's command (None: as is) and the
# kernel option that decompresses it. zstd as Debian's initramfs-tools writes
# it (mkinitramfs: zstd -q -19 -T0), gzip as it does without pigz.
COMPRESSORS = {"none": (None, None),
               "zstd": (["zstd", "-q", "-19", "-T0", "-c"], "CONFIG_RD_ZSTD"),
               "gzip": (["gzip", "-n", "-c"], "CONFIG_RD_GZIP")}
KLINE = re.compile(r"^\[\s*(\d+\.\d+)\] (.*)$")
FEATURE_LINE = "nonroot_initramfs: the initramfs will be unpacked into a second rootfs"
# init/initramfs.c, do_populate_rootfs(): the first line without
# CONFIG_BLK_DEV_RAM (the test config), the second with it; then
# unpack_to_rootfs(), then free_initrd_mem() prints "Freeing initrd memory".
UNPACK_START = ("Unpacking initramfs...", "Trying to unpack rootfs image as initramfs...")
UNPACK_END = re.compile(r"Freeing initrd memory: (\d+)K")
MiB = 1 << 20
BOOTSTRAP = 2000


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def sh(*args, **kw):
    return subprocess.run(args, check=True, text=True, stdout=subprocess.PIPE, **kw).stdout


WORDS = ("initramfs rootfs tmpfs pivot root mount namespace container runtime kernel "
         "boot switch chroot move bind tree leaf image memory page cache file "
         "directory busybox crun runc unpack cpio archive").split()


def payload(rng, total):
    """Yield (name, bytes) for a payload of TOTAL bytes, half text, half random."""
    left = {"txt": total // 2, "bin": total - total // 2}
    i = 0
    while any(left.values()):
        kind = "txt" if left["txt"] >= left["bin"] else "bin"
        size = min(left[kind], int(2 ** rng.uniform(12, 23)))
        if kind == "bin":
            data = rng.randbytes(size)
        else:
            line = " ".join(rng.choice(WORDS) for _ in range(12)).encode() + b"\n"
            data = (line * (size // len(line) + 1))[:size]
        left[kind] -= size
        yield f"payload/{i // 256:03d}/{i:05d}.{kind}", data
        i += 1


def bench_cpio(d, tools, size_mib, seed, path):
    """Write the bench cpio (uncompressed) for SIZE_MIB to PATH."""
    data = os.path.join(d, f"payload-{size_mib}M")
    shutil.rmtree(data, ignore_errors=True)
    os.makedirs(data)
    spec = ["file /init %s 755 0 0" % os.path.join(H, "bench-init.sh"),
            "file /bin/memsample %s 755 0 0" % os.path.join(tools, "nri-memsample"),
            "dir /payload 755 0 0"]
    dirs = set()
    rng = random.Random(f"{seed}:{size_mib}")
    for name, blob in payload(rng, size_mib * MiB):
        sub = os.path.dirname(name)
        if sub not in dirs:
            dirs.add(sub)
            os.makedirs(os.path.join(data, sub))
            spec.append(f"dir /{sub} 755 0 0")
        p = os.path.join(data, name)
        with open(p, "wb") as fh:
            fh.write(blob)
        spec.append(f"file /{name} {p} 644 0 0")
    specf = os.path.join(d, f"spec-{size_mib}M")
    with open(specf, "w") as fh:
        fh.write("\n".join(spec) + "\n")
    with open(path, "wb") as out:
        subprocess.run([os.path.join(tools, "gen_init_cpio"), "-t", "0", specf],
                       stdout=out, check=True)
    shutil.rmtree(data)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(MiB), b""):
            h.update(chunk)
    return h.hexdigest()


def make_images(cache, base, size_mib, seed, comps):
    """The boot images for SIZE_MIB, one per compression in COMPS: BASE (test
    initramfs) + the bench cpio, compressed so. {comp: (path, info)}; info:
    size_mib, compress, file_bytes (as loaded), uncompressed_bytes (the whole
    image, BASE decompressed too), sha256."""
    tools = os.path.join(cache, "tools")
    sampler = os.path.join(tools, "nri-memsample")
    src = os.path.join(H, "memsample.c")
    if not os.path.exists(sampler) or os.path.getmtime(src) > os.path.getmtime(sampler):
        sh("cc", "-static", "-O2", "-Wall", "-Wextra", "-o", sampler + ".tmp", src)
        os.replace(sampler + ".tmp", sampler)
    key = hashlib.sha256()
    for f in (base, sampler, os.path.join(H, "bench-init.sh")):
        with open(f, "rb") as fh:
            key.update(fh.read())
    key.update(f"{size_mib} {seed} v3".encode())
    d = os.path.join(cache, "bench")
    os.makedirs(d, exist_ok=True)
    want = {}
    for comp in comps:
        k = key.copy()
        k.update(repr(COMPRESSORS[comp][0]).encode())
        want[comp] = os.path.join(d, f"image-{size_mib}M-{comp}-{k.hexdigest()[:12]}.cpio")
    # Older images of this size and compression (and the v2 names, uncompressed).
    stale = re.compile(rf"image-{size_mib}M-(({'|'.join(comps)})-)?[0-9a-f]{{12}}\.cpio(\.json)?$")
    for old in os.listdir(d):
        if stale.match(old) and os.path.join(d, old.removesuffix(".json")) not in want.values():
            os.unlink(os.path.join(d, old))
    missing = [c for c in comps if not os.path.exists(want[c] + ".json")]
    if missing:
        with open(base, "rb") as fh:
            head = fh.read()
        base_raw = len(gzip.decompress(head)) if head[:2] == b"\x1f\x8b" else len(head)
        # The kernel takes the next archive only at a 4-byte aligned offset.
        pad = b"\0" * (-len(head) % 512)
        cpio = os.path.join(d, f"bench-{size_mib}M.cpio.tmp")
        log(f"writing the {size_mib} MiB payload")
        bench_cpio(d, tools, size_mib, seed, cpio)
        for comp in missing:
            img = want[comp]
            log(f"writing {img}")
            with open(img + ".tmp", "wb") as out:
                out.write(head + pad)
                out.flush()
                cmd = COMPRESSORS[comp][0]
                if cmd:
                    with open(cpio, "rb") as fh:
                        subprocess.run(cmd, stdin=fh, stdout=out, check=True)
                else:
                    with open(cpio, "rb") as fh:
                        shutil.copyfileobj(fh, out)
            os.replace(img + ".tmp", img)
            info = {"size_mib": size_mib, "compress": comp,
                    "file_bytes": os.path.getsize(img),
                    "uncompressed_bytes": base_raw + len(pad) + os.path.getsize(cpio),
                    "sha256": sha256_file(img)}
            with open(img + ".json", "w") as fh:
                json.dump(info, fh)
        os.unlink(cpio)
    out = {}
    for comp in comps:
        with open(want[comp] + ".json") as fh:
            out[comp] = (want[comp], json.load(fh))
    return out


def parse(logtext):
    """The figures of one boot log."""
    r = {"t_init": None, "t_mark_init": None, "t_stage2": None, "t_container": None, "container_rc": None,
         "t_unpack_start": None, "t_unpack_end": None, "initrd_freed_kib": None,
         "unpack_error": None, "release": None,
         "reachable": None, "peak_used_mib": None, "peak_shmem_mib": None,
         "settled_used_mib": None, "settled_shmem_mib": None, "init_used_mib": None,
         "samples": 0, "feature_line": False, "done": False, "rt_out": []}
    for line in logtext.splitlines():
        line = line.rstrip("\r")
        m = KLINE.match(line)
        if m:
            t, msg = float(m.group(1)), m.group(2)
            if msg.startswith("Run /init as init process"):
                r["t_init"] = t
            elif msg.startswith(UNPACK_START):
                r["t_unpack_start"] = t
            elif UNPACK_END.match(msg):
                r["t_unpack_end"] = t
                r["initrd_freed_kib"] = int(UNPACK_END.match(msg).group(1))
            elif msg.startswith("Initramfs unpacking failed"):
                r["unpack_error"] = msg
            elif msg.startswith("Linux version "):
                r["release"] = msg.split()[2]
            elif msg.startswith("nri-bench: init"):
                r["t_mark_init"] = t
            elif msg.startswith("nri-bench: stage2"):
                r["t_stage2"] = t
            elif msg.startswith("nri-bench: container rc="):
                r["t_container"] = t
            elif msg.startswith(FEATURE_LINE):
                r["feature_line"] = True
            continue
        if not line.startswith("BENCH "):
            continue
        f = line[6:].split()
        if not f:
            continue
        kv = dict(x.split("=", 1) for x in f[1:] if "=" in x)
        if f[0] == "peak" and "min_avail_kb" in kv:
            total = int(kv["total_kb"])
            r["peak_used_mib"] = (total - int(kv["min_avail_kb"])) / 1024
            r["peak_shmem_mib"] = int(kv["max_shmem_kb"]) / 1024
            r["samples"] = int(kv["samples"])
        elif f[0] in ("settled", "init") and "avail_kb" in kv:
            used = (int(kv["total_kb"]) - int(kv["avail_kb"])) / 1024
            r[f"{f[0]}_used_mib"] = used
            if f[0] == "settled":
                r["settled_shmem_mib"] = int(kv["shmem_kb"]) / 1024
        elif f[0] == "container":
            r["container_rc"] = int(kv["rc"])
        elif f[0] == "rt-out":
            out = " ".join(f[1:])
            r["rt_out"].append(out)
            if out.startswith("escape-marker setns "):
                r["reachable"] = out.endswith(" reachable")
        elif f[0] == "done":
            r["done"] = True
    if r["t_container"] is not None and r["container_rc"] != 0:
        r["t_container"] = None
    return r


def boot(bz, img, mode, logf, memory, extra=()):
    """Boot once: (exit status, wall seconds, peak RSS in MiB). The peak RSS is
    ru_maxrss of boot.sh as os.wait4 reports it, which the kernel takes as the
    maximum over boot.sh and all its descendants that were waited for: timeout,
    vng and virtme-run (Python, tens of MiB), the shell between them, and QEMU
    (virtme-run forks it and waits for it). QEMU is by far the largest."""
    args = [f"nri.bench={mode}", "kunit.enable=0", *extra]
    if mode == "nonroot":
        args.append("nonroot_initramfs")
    env = dict(os.environ, NRI_MEMORY=memory, NRI_BOOT_TIMEOUT="900")
    t0 = time.monotonic()
    p = subprocess.Popen([os.path.join(TOP, "scripts", "boot.sh"), bz, img, logf, *args],
                         env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, time.monotonic() - t0, ru.ru_maxrss / 1024


def check_run(mode, r):
    """What every run must show, whatever the timing: (ok, why)."""
    if not r["done"]:
        return False, "the guest did not finish"
    if r["unpack_error"]:
        return False, r["unpack_error"]
    if r["feature_line"] != (mode == "nonroot"):
        return False, f"feature log line {'missing' if mode == 'nonroot' else 'present'}"
    want = REACHABLE[mode]
    if want is None:
        if r["container_rc"] == 0:
            return False, "crun ran although the root is rootfs"
        if not any("pivot_root" in o and "Invalid argument" in o for o in r["rt_out"]):
            return False, "crun failed, but not with pivot_root: Invalid argument"
    else:
        if r["container_rc"] != 0:
            return False, f"crun failed: rc={r['container_rc']} {' | '.join(r['rt_out'][-3:])}"
        if r["reachable"] is None:
            return False, "the container did not report reachability"
        if r["reachable"] != want:
            return False, f"initramfs {'reachable' if r['reachable'] else 'unreachable'}" \
                f" from the container, expected {'reachable' if want else 'unreachable'}"
    for k in ("t_init", "peak_used_mib", "settled_used_mib"):
        if r[k] is None:
            return False, f"no {k} in the log"
    if r["samples"] < 1:
        return False, "the memory sampler took no sample"
    return True, ""


# The headline figures: key, label, unit, reference mode, what it is.
HEADLINE = [
    ("t_done", "/init to container done", "s", "nonroot",
     "per run: the kernel's \"Run /init as init process\" line to the /dev/kmsg mark "
     "written once crun has run the container (stock never runs it: pivot_root EINVAL)"),
    ("t_unpack", "initramfs unpack", "s", "stock",
     "per run: the kernel's \"Unpacking initramfs...\" line to its \"Freeing initrd "
     "memory\" line (init/initramfs.c, do_populate_rootfs(): unpack_to_rootfs() of the "
     "whole image, decompression included). The unpack is asynchronous: on the 1 vCPU "
     "this also counts the initcalls that ran meanwhile, the same in every mode"),
    ("peak_used_mib", "peak used memory after /init (guest)", "MiB", "stock",
     "MemTotal - MemAvailable, the per-CPU free pages added back, at its maximum over "
     "samples every 20 ms from /init until the container has run; it starts after the "
     "unpack, so it misses the moment when the image and the unpacked files coexist"),
    ("qemu_rss_mib", "QEMU peak RSS (host)", "MiB", "stock",
     "the RAM the boot took on the host: ru_maxrss from os.wait4 on boot.sh, the "
     "maximum over it and the descendants it waited for (QEMU by far the largest). "
     "It counts every guest page ever touched (the guest gives none back: the initrd "
     "buffer, the unpacked files, whatever was freed since) plus QEMU's own: code and "
     "libraries, the TCG translation cache, devices, its copy of the -initrd file"),
]
# The other figures: key, label, unit.
OTHER = [
    ("t_switch", "user-space switch (nri-bench marks init to stage2)", "s"),
    ("peak_shmem_mib", "peak Shmem after /init", "MiB"),
    ("settled_used_mib", "used memory once the container has run", "MiB"),
    ("settled_shmem_mib", "Shmem once the container has run", "MiB"),
]
UNITS = {k: u for k, _, u, *_ in HEADLINE + OTHER}


def normalize(rows):
    """Runs of older runs.json (before the compressed series) as new ones."""
    for r in rows:
        r.setdefault("compress", "none")
        if r.get("t_done") is None and None not in (r.get("t_container"), r.get("t_init")):
            r["t_done"] = r["t_container"] - r["t_init"]
        for k in UNITS:
            r.setdefault(k, None)
    return rows


def values(rows, size, comp, mode, key):
    return [r[key] for r in rows if r["size_mib"] == size and r["compress"] == comp
            and r["mode"] == mode and r["ok"] and r.get(key) is not None]


def ratio_ci(a, b, rng):
    """Median of A over median of B, and the 95% percentile-bootstrap interval
    of that ratio (each side resampled with replacement, BOOTSTRAP times)."""
    est = statistics.median(a) / statistics.median(b)
    rs = []
    for _ in range(BOOTSTRAP):
        ma = statistics.median(rng.choices(a, k=len(a)))
        mb = statistics.median(rng.choices(b, k=len(b)))
        rs.append(ma / mb)
    rs.sort()
    return est, rs[int(0.025 * BOOTSTRAP)], rs[int(0.975 * BOOTSTRAP) - 1]


def verdict(lo, hi, unit):
    if lo > 1:
        return "slower" if unit == "s" else "more"
    if hi < 1:
        return "faster" if unit == "s" else "less"
    return "no difference detected (interval contains 1)"


def compare(rows, size, comp, mode, key, ref, seed):
    """{n, ref_n, median, min, max, ratio, lo, hi, verdict} or None."""
    a = values(rows, size, comp, mode, key)
    if not a:
        return None
    c = {"n": len(a), "median": statistics.median(a), "min": min(a), "max": max(a)}
    b = values(rows, size, comp, ref, key)
    c["ref_n"] = len(b)
    if mode == ref:
        c["verdict"] = "reference"
    elif not b or statistics.median(b) == 0 or 0 in b:
        c["verdict"] = f"no reference ({ref})"
    elif len(a) < 2 or len(b) < 2:
        c["ratio"] = statistics.median(a) / statistics.median(b)
        c["verdict"] = "too few runs for an interval"
    else:
        rng = random.Random(f"{seed}:{size}:{comp}:{mode}:{key}")
        c["ratio"], c["lo"], c["hi"] = ratio_ci(a, b, rng)
        c["verdict"] = verdict(c["lo"], c["hi"], UNITS[key])
    return c


def fmt(x, unit):
    return f"{x:.3f}" if unit == "s" else f"{x:.1f}"


def mib(b):
    return f"{b / MiB:.1f}"


def image_info(meta, size, comp):
    for i in meta.get("images", []):
        if i["size_mib"] == size and i["compress"] == comp:
            return i
    return None


def header(meta, sizes, comps):
    h = meta.get("host", {})
    load = (lambda x: "/".join(f"{v:.2f}" for v in x) if x else "?")
    imgs = []
    for size in sizes:
        for comp in comps:
            i = image_info(meta, size, comp)
            if i:
                imgs.append(f"{size} MiB {comp}: {mib(i['uncompressed_bytes'])} MiB uncompressed, "
                            f"{mib(i['file_bytes'])} MiB file, sha256 {i['sha256'][:12]}")
    return (f"Measured {meta.get('started', meta['date'])} to {meta.get('finished', '?')} with "
            f"`make bench`: guest kernel {meta['kernel']}, "
            f"guest {meta['memory']} and 1 vCPU under QEMU TCG (no KVM, "
            f"{meta.get('qemu', 'QEMU version not recorded')}); host Linux "
            f"{h.get('kernel', '?')}, nproc {h.get('nproc', '?')}, load average (1/5/15 min) "
            f"{load(h.get('load_start'))} at the start, {load(h.get('load_end'))} at the end; "
            f"{meta['runs']} run{'' if meta['runs'] == 1 else 's'} per mode, payload size and "
            "compression, interleaved, seed "
            f"{meta['seed']}; images (test initramfs + bench cpio): "
            f"{'; '.join(imgs) if imgs else 'not recorded'}.")


def table(rows, meta, switch_cost):
    sizes = meta["sizes"]
    comps = meta.get("compress", ["none"])
    series = [(size, comp) for size in sizes for comp in comps]
    seed = meta["seed"]
    out = [header(meta, sizes, comps), "",
           "Headline figures, per payload size, compression and mode: n runs, median "
           "[min-max], the difference of the medians, the ratio of the median to the "
           "reference mode's median, its 95% "
           f"interval (percentile bootstrap, {BOOTSTRAP} resamples of each side, fixed seed) "
           "and the verdict the interval gives: slower / more when it lies above 1, faster "
           "/ less below 1, \"no difference detected (interval contains 1)\" otherwise. "
           "That verdict is not \"equal\", and the interval is approximate: with 2 runs a "
           "side it is the whole range of ratios, and a percentile bootstrap of medians of "
           "5 to 7 runs tends to be somewhat narrow. Image sizes in MiB: uncompressed / "
           "as loaded (the file). The time to /init (\"Run /init\") is not a headline: "
           "under TCG it scatters by a second or more in every mode alike (it is in "
           "runs.csv, t_init).", ""]
    for key, label, unit, ref, what in HEADLINE:
        out += [f"**{label}** ({unit}; reference {ref}): {what}.", "",
                "| payload | compression | image MiB | mode | n | median [min-max] | "
                f"difference | ratio (n {ref}) | 95% interval | verdict |",
                "|---|---|---|---|---|---|---|---|---|---|"]
        for size, comp in series:
            i = image_info(meta, size, comp)
            im = f"{mib(i['uncompressed_bytes'])} / {mib(i['file_bytes'])}" if i else "-"
            for mode in MODES:
                c = compare(rows, size, comp, mode, key, ref, seed)
                if not c:
                    cells = ["0", "-", "-", "-", "-", "-"]
                else:
                    b = values(rows, size, comp, ref, key)
                    d = c["median"] - statistics.median(b) if b and mode != ref else None
                    ratio = f"{c['ratio']:.3f} ({c['ref_n']})" if "ratio" in c else \
                        "1" if mode == ref else "-"
                    ci = f"[{c['lo']:.3f}, {c['hi']:.3f}]" if "lo" in c else "-"
                    cells = [str(c["n"]), f"{fmt(c['median'], unit)} [{fmt(c['min'], unit)}-"
                             f"{fmt(c['max'], unit)}]",
                             "-" if d is None else f"{'+' if d >= 0 else ''}{fmt(d, unit)}",
                             ratio, ci, c["verdict"]]
                out.append(f"| {size} MiB | {comp} | {im} | {mode} | " + " | ".join(cells) + " |")
        out.append("")
    cols = [f"{size} MiB {comp}" for size, comp in series]
    for key, label, unit in OTHER:
        out += [f"**{label}** ({unit}; median [min-max] (n))", "",
                "| mode | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
        for mode in MODES:
            cells = []
            for size, comp in series:
                v = values(rows, size, comp, mode, key)
                cells.append(f"{fmt(statistics.median(v), unit)} [{fmt(min(v), unit)}-"
                             f"{fmt(max(v), unit)}] ({len(v)})" if v else "-")
            out.append(f"| {mode} | " + " | ".join(cells) + " |")
        out.append("")
    out += ["**the initramfs reachable from inside the container** (runs that said so / "
            "runs). Reachable means: a container with CAP_SYS_ADMIN that escapes the way "
            "escape.c's setns way does (umount2(\"/\", MNT_DETACH), then setns() into its own "
            "mount namespace) can read the host's initramfs (its marker file).", "",
            "| mode | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for mode in MODES:
        cells = []
        for size, comp in series:
            rs = [r for r in rows if r["size_mib"] == size and r["compress"] == comp
                  and r["mode"] == mode and r["ok"]]
            if not rs:
                cells.append("-")
            elif REACHABLE[mode] is None:
                cells.append(f"no container: pivot_root EINVAL ({len(rs)}/{len(rs)})")
            else:
                yes = sum(1 for r in rs if r["reachable"])
                cells.append(f"yes ({yes}/{len(rs)})" if yes else f"no ({yes}/{len(rs)})")
        out.append(f"| {mode} | " + " | ".join(cells) + " |")
    out.append("")
    out += ["**The copy modes against nonroot_initramfs**: what each costs over nonroot "
            "(difference of the medians), the memory also as a multiple of the image file "
            "(compressed when the image is).", "",
            "| payload | compression | image MiB uncompressed | image MiB file | mode | "
            "peak used after /init | QEMU peak RSS | /init to container done |",
            "|---|---|---|---|---|---|---|---|"]
    for size, comp in series:
        i = image_info(meta, size, comp)
        for mode in ("copy", "tar"):
            parts = []
            for key in ("peak_used_mib", "qemu_rss_mib", "t_done"):
                a = values(rows, size, comp, mode, key)
                b = values(rows, size, comp, "nonroot", key)
                if not (a and b):
                    parts.append("-")
                    continue
                d = statistics.median(a) - statistics.median(b)
                unit = UNITS[key]
                cell = f"{'+' if d >= 0 else ''}{fmt(d, unit)} {unit}"
                if unit == "MiB" and i:
                    cell += f" ({d * MiB / i['file_bytes']:.2f}x the file)"
                parts.append(cell)
            if any(p != "-" for p in parts):
                out.append(f"| {size} MiB | {comp} | "
                           f"{mib(i['uncompressed_bytes']) if i else '-'} | "
                           f"{mib(i['file_bytes']) if i else '-'} | {mode} | "
                           + " | ".join(parts) + " |")
    if switch_cost and not switch_cost.get("boots"):
        out += ["", "**The switch in mnt_init()**: not timed: "
                + "; ".join(switch_cost.get("excluded", [])) + "."]
    elif switch_cost:
        v = switch_cost
        spread = ""
        if v.get("boot_medians_us"):
            spread = (f"per-boot medians {min(v['boot_medians_us']):.0f} to "
                      f"{max(v['boot_medians_us']):.0f} us; ")
        left = ""
        if v.get("excluded"):
            left = (" Left out, timed with a coarse clock or not at all: "
                    + "; ".join(v["excluded"]) + ".")
        out += ["", f"**The switch in mnt_init()**: {v['median_us']:.0f} us, the median of "
                f"n = {v['boots']} per-boot medians ({v['per_boot']} switches per boot; "
                f"{spread}fastest switch {v['min_us']:.0f} us, slowest {v['max_us']:.0f} us), "
                "timed by the KUnit case switch_cost on the real VFS in a private mount "
                f"namespace, under TCG.{left}"]
    return "\n".join(out) + "\n"


def plot(rows, path, meta):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter
    sizes = meta["sizes"]
    comps = meta.get("compress", ["none"])
    fig, axes = plt.subplots(2, 2, figsize=(16, 11))
    styles = {m: (f"C{i}", "osD^vP"[i]) for i, m in enumerate(MODES)}
    lines = {c: ["-", "--", ":"][i % 3] for i, c in enumerate(comps)}
    modes = [m for m in MODES if m in meta.get("modes", MODES)]
    groups = [(c, m) for c in comps for m in modes]
    for ax, (key, label, unit, ref, _) in zip(axes.flat, HEADLINE):
        ns = []
        for gi, (comp, mode) in enumerate(groups):
            # Spread the groups around each size so that the runs stay visible.
            shift = 2 ** (0.5 * (gi + 0.5) / len(groups) - 0.25)
            color, marker = styles[mode]
            med = []
            for size in sizes:
                v = values(rows, size, comp, mode, key)
                if not v:
                    continue
                ns.append(len(v))
                ax.scatter([size * shift] * len(v), v, s=14, color=color, marker=marker,
                           alpha=0.55, facecolors=color if comp == comps[0] else "none")
                med.append((size * shift, statistics.median(v)))
            if med:
                ax.plot([p[0] for p in med], [p[1] for p in med], color=color,
                        linestyle=lines[comp], linewidth=1.2)
                ax.scatter([p[0] for p in med], [p[1] for p in med], s=220, color=color,
                           marker="_", linewidths=2)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        # Labels on the minor ticks too when the axis spans less than a decade.
        ax.yaxis.set_minor_formatter(FuncFormatter(
            lambda v, _, ax=ax: f"{v:g}" if ax.get_ylim()[1] < 10 * ax.get_ylim()[0] else ""))
        ax.set_xticks(sizes, [str(x) for x in sizes])
        ax.set_xlabel("initramfs payload (MiB, uncompressed)")
        ax.set_ylabel(f"{label} ({unit})")
        if ns:
            n = f"n = {min(ns)}" if min(ns) == max(ns) else f"n = {min(ns)} to {max(ns)}"
            n += " runs per mode, size and compression"
        else:
            n = "not in these runs"
            ax.text(0.5, 0.5, "not measured", transform=ax.transAxes, ha="center")
        ax.set_title(f"{label}, reference {ref}\n{n}"
                     + (" (stock: none, crun cannot pivot)" if key == "t_done" else ""))
        # What the intervals stand behind (the table's verdicts): per mode,
        # in how many of the size x compression cells it differs from the
        # reference. Lines that part with no such verdict are noise.
        said = []
        for mode in modes:
            if mode == ref:
                continue
            cells = [compare(rows, size, comp, mode, key, ref, meta.get("seed", 0))
                     for size in sizes for comp in comps]
            cells = [c for c in cells if c and "lo" in c]
            if not cells:
                continue
            up = [c["ratio"] for c in cells if c["verdict"] in ("slower", "more")]
            down = [c["ratio"] for c in cells if c["verdict"] in ("faster", "less")]
            word = "slower" if UNITS[key] == "s" else "more"
            less = "faster" if UNITS[key] == "s" else "less"

            def span(rs):
                lo, hi = f"{min(rs):.4g}", f"{max(rs):.4g}"
                return f"x{lo}" if lo == hi else f"x{lo} to x{hi}"
            parts = ([f"{word} in {len(up)}/{len(cells)} ({span(up)})"] if up else []) + \
                ([f"{less} in {len(down)}/{len(cells)} ({span(down)})"] if down else [])
            said.append(f"{mode}: {', '.join(parts) if parts else 'no difference detected'}")
        if said:
            ax.text(0.01, 0.99, f"against {ref}, 95% bootstrap interval of the ratio of "
                    "medians:\n" + "\n".join(said), transform=ax.transAxes, va="top",
                    ha="left", fontsize="small",
                    bbox=dict(boxstyle="round", facecolor="white", alpha=0.85))
        ax.grid(True, which="both", alpha=0.3)
    handles = [Line2D([], [], color=styles[m][0], marker=styles[m][1], linestyle="", label=m)
               for m in modes]
    handles += [Line2D([], [], color="k", linestyle=lines[c], marker="o",
                       markerfacecolor="k" if c == comps[0] else "none",
                       label=f"compression {c}") for c in comps]
    handles.append(Line2D([], [], color="k", marker="_", markersize=14, linestyle="",
                          label="median"))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize="small")
    fig.suptitle(f"nonroot_initramfs bench, {meta['date']}, {meta['kernel']}, guest "
                 f"{meta['memory']}, TCG; points: the runs, bars and lines: medians")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(path, dpi=90)


SWITCH = re.compile(r"# switch_cost: (\d+) switches: min (\d+) ns, median (\d+) ns, max (\d+) ns")
CLOCKSOURCE = re.compile(r"clocksource: Switched to clocksource (\S+)")


def switch_cost_of(logs):
    """The switch_cost figures of boots LOGS: the median of the per-boot
    medians, their range, and the boots left out. A boot whose clock was
    jiffies-based when the case ran (TCG: "tsc: Marking TSC unstable", then
    refined-jiffies, 4 ms ticks at HZ=250) times 0 ns or a tick: left out."""
    meds, mins, maxs, per, excluded = [], [], [], 0, []
    for logf in logs:
        with open(logf, errors="replace") as fh:
            text = fh.read()
        m = SWITCH.search(text)
        if not m:
            log(f"no switch_cost line in {logf}")
            excluded.append(f"{os.path.basename(logf)}: no switch_cost line")
            continue
        clocks = CLOCKSOURCE.findall(text[:m.start()])
        clock = clocks[-1] if clocks else "unknown"
        if "jiffies" in clock:
            excluded.append(f"{os.path.basename(logf)}: clocksource {clock}")
            continue
        per = int(m.group(1))
        mins.append(int(m.group(2)) / 1000)
        meds.append(int(m.group(3)) / 1000)
        maxs.append(int(m.group(4)) / 1000)
    if not meds:
        return {"boots": 0, "excluded": excluded}
    return {"boots": len(meds), "per_boot": per, "median_us": statistics.median(meds),
            "boot_medians_us": meds, "min_us": min(mins), "max_us": max(maxs),
            "excluded": excluded}


def switch_cost(bz, img, memory, boots, outdir):
    logs = []
    for i in range(boots):
        logf = os.path.join(outdir, "logs", f"switch-cost-{i + 1}.log")
        boot(bz, img, "stock", logf, memory,
             ["kunit.enable=1", "kunit.filter_glob=nonroot_initramfs.switch_cost"])
        logs.append(logf)
    return switch_cost_of(logs)


def host_meta():
    return {"kernel": os.uname().release, "nproc": len(os.sched_getaffinity(0)),
            "load_start": list(os.getloadavg())}


def qemu_version():
    q = shutil.which("qemu-system-x86_64")
    if not q:
        return "qemu-system-x86_64 not in PATH"
    return subprocess.run([q, "--version"], text=True, stdout=subprocess.PIPE,
                          check=False).stdout.splitlines()[0].strip()


def write_outputs(out, rows, meta, cost):
    keys = ["size_mib", "compress", "mode", "run", "ok", "why", "wall_s"] + \
        [k for k, *_ in HEADLINE] + [k for k, *_ in OTHER] + \
        ["t_init", "t_container", "t_unpack_start", "t_unpack_end", "initrd_freed_kib",
         "container_rc", "reachable", "samples", "init_used_mib", "t_stage2", "feature_line"]
    with open(os.path.join(out, "runs.csv"), "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    with open(os.path.join(out, "runs.json"), "w") as fh:
        json.dump({"meta": meta, "switch_cost": cost, "runs": rows}, fh, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--kernel", help="bzImage (default: scripts/build.sh 6.12)")
    ap.add_argument("--initramfs", help="the test initramfs (default: built)")
    ap.add_argument("--sizes", default="32,256,1024", help="payload sizes in MiB")
    ap.add_argument("--compress", default="none,zstd",
                    help="how the bench cpio is stored, a series each: "
                    f"{', '.join(COMPRESSORS)} (default none,zstd)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--memory", default="4G", help="guest memory (default 4G)")
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--switch-boots", type=int, default=5,
                    help="boots that time the switch with KUnit (0: none)")
    ap.add_argument("--out", help="results directory (default $NRI_CACHE/runs/bench-DATE)")
    ap.add_argument("--smoke", action="store_true",
                    help="32 MiB, one run per mode (the modes take turns with the "
                    "compressions), 1G guest; assert, do not time")
    ap.add_argument("--results", help="append pass/fail lines here (make check)")
    ap.add_argument("--replot", metavar="DIR",
                    help="no boots: write DIR/table.md and DIR/plot.png again from DIR/runs.json")
    a = ap.parse_args()
    if a.replot:
        with open(os.path.join(a.replot, "runs.json")) as fh:
            d = json.load(fh)
        rows = normalize(d["runs"])
        with open(os.path.join(a.replot, "table.md"), "w") as fh:
            fh.write(table(rows, d["meta"], d["switch_cost"]))
        plot(rows, os.path.join(a.replot, "plot.png"), d["meta"])
        print(f"wrote {a.replot}/table.md and plot.png")
        return 0
    if a.smoke:
        a.sizes, a.runs, a.memory, a.switch_boots = "32", 1, "1G", 1
    sizes = [int(x) for x in a.sizes.split(",")]
    modes = a.modes.split(",")
    bad = [m for m in modes if m not in MODES]
    if bad:
        ap.error(f"unknown mode(s) {','.join(bad)}; known: {','.join(MODES)}")
    comps = a.compress.split(",")
    bad = [c for c in comps if c not in COMPRESSORS]
    if bad:
        ap.error(f"unknown compression(s) {','.join(bad)}; known: {','.join(COMPRESSORS)}")
    cache = cache_dir()
    started = datetime.datetime.now(datetime.timezone.utc)
    host = host_meta()
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    out = a.out or os.path.join(cache, "runs", f"bench-{stamp}")
    os.makedirs(os.path.join(out, "logs"), exist_ok=True)
    bz = a.kernel or sh(os.path.join(TOP, "scripts", "build.sh"), "6.12").strip().splitlines()[-1]
    # The decompressors: the build tree's .config, next to the bzImage.
    cfg = os.path.join(os.path.dirname(os.path.abspath(bz)), "..", "..", "..", ".config")
    if os.path.exists(cfg):
        with open(cfg) as fh:
            have = fh.read().splitlines()
        for comp in comps:
            opt = COMPRESSORS[comp][1]
            if opt and f"{opt}=y" not in have:
                sys.exit(f"bench.py: {os.path.realpath(cfg)} lacks {opt}=y: the kernel cannot "
                         f"unpack {comp} images (add that line to "
                         "tools/testing/nonroot_initramfs/kernel.config)")
    else:
        log(f"no .config next to {bz}: not checking for the decompressors")
    base = a.initramfs or os.path.join(cache, "bench", "base.cpio.gz")
    if not a.initramfs:
        os.makedirs(os.path.dirname(base), exist_ok=True)
        sh(os.path.join(TOP, "scripts", "mkinitramfs.sh"), base)
    release = "unknown"
    with open(bz, "rb") as fh:
        m = re.search(rb"(\d+\.\d+\.\d+[^ \0]*) \(", fh.read())
        release = m.group(1).decode() if m else release
    images = {}
    for size in sizes:
        for comp, v in make_images(cache, base, size, a.seed, comps).items():
            images[(size, comp)] = v
    meta = {"date": started.date().isoformat(),
            "started": started.strftime("%Y-%m-%d %H:%M:%SZ"),
            "kernel": f"Linux {release}", "guest_release": release,
            "memory": a.memory, "runs": a.runs, "seed": a.seed, "sizes": sizes,
            "compress": comps, "modes": modes, "host": host, "qemu": qemu_version(),
            "images": [images[k][1] for k in sorted(images)]}
    rows = []
    results = []
    rng = random.Random(a.seed)
    pause = os.path.join(out, "pause")
    for size in sizes:
        for run in range(1, a.runs + 1):
            if a.smoke:
                # One run per mode: the modes take turns with the compressions.
                order = [(comps[i % len(comps)], m) for i, m in enumerate(modes)]
            else:
                order = [(c, m) for c in comps for m in modes]
            rng.shuffle(order)
            for comp, mode in order:
                while os.path.exists(pause):
                    time.sleep(5)
                logf = os.path.join(out, "logs", f"{size}M-{comp}-{mode}-{run}.log")
                rc, wall, rss = boot(bz, images[(size, comp)][0], mode, logf, a.memory)
                with open(logf, errors="replace") as fh:
                    r = parse(fh.read())
                ok, why = check_run(mode, r)
                if rc != 0 and ok:
                    ok, why = False, f"boot.sh exit status {rc}"
                # The kernel frees the initrd it loaded, page-rounded: the image as built.
                size_b = images[(size, comp)][1]["file_bytes"]
                if ok and r["initrd_freed_kib"] is not None and \
                        abs(r["initrd_freed_kib"] * 1024 - size_b) > 8192:
                    ok, why = False, f"the kernel freed {r['initrd_freed_kib']} KiB of " \
                        f"initrd, the image has {size_b} bytes"
                if r["release"] and r["release"] != meta["guest_release"]:
                    meta["guest_release"] = r["release"]
                    meta["kernel"] = f"Linux {r['release']}"
                row = {"size_mib": size, "compress": comp, "mode": mode, "run": run, "ok": ok,
                       "why": why, "wall_s": round(wall, 1), "qemu_rss_mib": round(rss, 1)}
                row.update({k: v for k, v in r.items() if k not in ("rt_out", "release")})
                row["t_done"] = round(r["t_container"] - r["t_init"], 6) \
                    if None not in (r["t_container"], r["t_init"]) else None
                row["t_unpack"] = round(r["t_unpack_end"] - r["t_unpack_start"], 6) \
                    if None not in (r["t_unpack_end"], r["t_unpack_start"]) else None
                # The user-space switch of the modes that make one.
                row["t_switch"] = round(r["t_stage2"] - r["t_mark_init"], 6) \
                    if mode in ("copy", "tar", "rbind") and None not in \
                    (r["t_stage2"], r["t_mark_init"]) else None
                rows.append(row)
                results.append((f"bench-{size}M-{comp}-{mode}-{run}", ok, why))
                log(f"{size} MiB {comp} {mode} run {run}: {'ok' if ok else 'FAILED: ' + why}; "
                    f"unpack {row['t_unpack']} s, /init to done {row['t_done']} s, peak "
                    f"after /init {r['peak_used_mib']} MiB, QEMU RSS {rss:.0f} MiB ({wall:.0f} s)")
    cost = switch_cost(bz, images[(sizes[0], comps[0])][0], a.memory, a.switch_boots, out) \
        if a.switch_boots else None
    if a.switch_boots:
        # The KUnit case ran and reported in every boot (a boot left out
        # for its coarse clock still did: TCG cannot always calibrate the TSC).
        missing = [e for e in cost["excluded"] if "no switch_cost line" in e]
        results.append(("bench-switch-cost", not missing, "; ".join(missing)))
    host["load_end"] = list(os.getloadavg())
    meta["finished"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    write_outputs(out, rows, meta, cost)
    with open(os.path.join(out, "table.md"), "w") as fh:
        fh.write(table(rows, meta, cost))
    plot(rows, os.path.join(out, "plot.png"), meta)
    for f in ("runs.csv", "runs.json", "table.md", "plot.png"):
        results.append((f"bench-output-{f}", os.path.getsize(os.path.join(out, f)) > 0, "empty"))
    passed = sum(1 for _, ok, _ in results if ok)
    failed = len(results) - passed
    for name, ok, why in results:
        print(f"{'PASS' if ok else 'FAIL'}: {name}{'' if ok else ': ' + why}")
        if a.results:
            with open(a.results, "a") as fh:
                fh.write(f"{'pass' if ok else 'fail'} {name}\n")
    if not a.smoke:
        print(open(os.path.join(out, "table.md")).read())
    print(f"results: {out}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

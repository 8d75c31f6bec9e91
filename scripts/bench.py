#!/usr/bin/env python3
"""What nonroot_initramfs costs and what it saves, against stock and the
workarounds users run today: boot the 6.12 test kernel under virtme-ng (TCG)
in each mode, several runs each, for initramfs images of several sizes, and
write the raw runs, a table of medians with their spread and ratios, and a plot.

Modes (tools/testing/nonroot_initramfs/bench-init.sh does the guest's part):
  stock    parameter absent; the initramfs stays in rootfs; crun cannot pivot
  nonroot  nonroot_initramfs
  copy     cp -a into a tmpfs, then switch_root (parameter absent)
  tar      tar into a tmpfs of size=90%, then switch_root (minikube)
  rbind    mount --rbind / /x; mount --move . /; chroot . (crun#1507)
  nopivot  crun run --no-pivot (parameter absent)

Each run boots one image: the test initramfs (scripts/mkinitramfs.sh) followed
by an uncompressed cpio with bench-init.sh as /init, the memory sampler and a
payload of the size asked for, half compressible text and half random bytes,
files of 4 KiB to 8 MiB, all generated from --seed. Runs are interleaved (all
modes of run 1, then of run 2, ...; the order of the modes shuffled per run
from the seed), so a slow stretch of the host hits every mode alike.

Per run: the kernel's time to /init ("Run /init as init process"), the time
until the container (crun, bundle/escape.json) has run (a /dev/kmsg mark), the
switch of the copy modes, the minimum MemAvailable and the maximum Shmem
sampled every 20 ms from /init on (tools/testing/nonroot_initramfs/memsample.c),
the memory once the container has run, and whether the initramfs was reachable
from inside the container (escape.c's setns way).

The feature's own work, the switch in mnt_init(), is timed by a KUnit case
(nonroot_initramfs.switch_cost) that runs the same code on the real VFS in a
private mount namespace, after boot: boots with kunit.filter_glob set to it.
The benchmark boots themselves run with kunit.enable=0.

--smoke (make check): one small size, one run per mode; asserts that every
mode ran and that reachability is as expected, no timing. Appends "pass NAME"
or "fail NAME" to --results. Touch OUT/pause to hold the benchmark between two
boots (e.g. while building something else on the same machine).
"""
import argparse
import csv
import datetime
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
KLINE = re.compile(r"^\[\s*(\d+\.\d+)\] (.*)$")
FEATURE_LINE = "nonroot_initramfs: the initramfs will be unpacked into a second rootfs"
MiB = 1 << 20


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


def make_image(cache, base, size_mib, seed):
    """The boot image for SIZE_MIB: BASE (test initramfs) + the bench cpio."""
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
    key.update(f"{size_mib} {seed} v2".encode())
    d = os.path.join(cache, "bench")
    img = os.path.join(d, f"image-{size_mib}M-{key.hexdigest()[:12]}.cpio")
    if os.path.exists(img):
        return img
    for old in os.listdir(d) if os.path.isdir(d) else []:
        if old.startswith(f"image-{size_mib}M-"):
            os.unlink(os.path.join(d, old))
    data = os.path.join(d, f"payload-{size_mib}M")
    shutil.rmtree(data, ignore_errors=True)
    os.makedirs(data)
    spec = ["file /init %s 755 0 0" % os.path.join(H, "bench-init.sh"),
            "file /bin/memsample %s 755 0 0" % sampler, "dir /payload 755 0 0"]
    dirs = set()
    rng = random.Random(f"{seed}:{size_mib}")
    for name, blob in payload(rng, size_mib * MiB):
        sub = os.path.dirname(name)
        if sub not in dirs:
            dirs.add(sub)
            os.makedirs(os.path.join(data, sub))
            spec.append(f"dir /{sub} 755 0 0")
        path = os.path.join(data, name)
        with open(path, "wb") as fh:
            fh.write(blob)
        spec.append(f"file /{name} {path} 644 0 0")
    specf = os.path.join(d, f"spec-{size_mib}M")
    with open(specf, "w") as fh:
        fh.write("\n".join(spec) + "\n")
    log(f"writing {img}")
    with open(img + ".tmp", "wb") as out:
        with open(base, "rb") as fh:
            shutil.copyfileobj(fh, out)
        # The kernel takes the next archive only at a 4-byte aligned offset.
        out.write(b"\0" * (-out.tell() % 512))
        out.flush()
        subprocess.run([os.path.join(tools, "gen_init_cpio"), "-t", "0", specf],
                       stdout=out, check=True)
    os.replace(img + ".tmp", img)
    shutil.rmtree(data)
    return img


def parse(logtext):
    """The figures of one boot log."""
    r = {"t_init": None, "t_mark_init": None, "t_stage2": None, "t_container": None, "container_rc": None,
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
    args = [f"nri.bench={mode}", "kunit.enable=0", *extra]
    if mode == "nonroot":
        args.append("nonroot_initramfs")
    env = dict(os.environ, NRI_MEMORY=memory, NRI_BOOT_TIMEOUT="900")
    t0 = time.monotonic()
    rc = subprocess.run([os.path.join(TOP, "scripts", "boot.sh"), bz, img, logf, *args],
                        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL).returncode
    return rc, time.monotonic() - t0


def check_run(mode, r):
    """What every run must show, whatever the timing: (ok, why)."""
    if not r["done"]:
        return False, "the guest did not finish"
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


FIGURES = [  # key, label, unit
    ("t_init", "time to /init", "s"),
    ("t_container", "time to container done", "s"),
    ("t_switch", "user-space switch", "s"),
    ("peak_used_mib", "peak used memory", "MiB"),
    ("peak_shmem_mib", "peak Shmem", "MiB"),
    ("settled_used_mib", "settled used memory", "MiB"),
    ("settled_shmem_mib", "settled Shmem", "MiB"),
]


def summarize(rows, sizes):
    """{(size, mode, key): (median, min, max, n)}"""
    s = {}
    for size in sizes:
        for mode in MODES:
            for key, _, _ in FIGURES:
                v = [r[key] for r in rows if r["size_mib"] == size and r["mode"] == mode
                     and r.get(key) is not None and r["ok"]]
                if v:
                    s[(size, mode, key)] = (statistics.median(v), min(v), max(v), len(v))
    return s


def fmt(x, unit):
    return f"{x:.3f}" if unit == "s" else f"{x:.0f}"


def table(s, rows, sizes, meta, switch_cost):
    out = [f"Measured {meta['date']} with `make bench`: kernel {meta['kernel']}, guest "
           f"{meta['memory']} and 1 vCPU under QEMU TCG (no KVM), {meta['runs']} runs per mode "
           f"and size, images of {', '.join(str(x) for x in sizes)} MiB (uncompressed cpio, "
           f"half random bytes), seed {meta['seed']}. Median [min-max]; ratio: median over "
           "the stock median (the nonroot median for the container time, which stock never "
           "reaches).", ""]
    for key, label, unit in FIGURES:
        out += [f"**{label}** ({unit})", "",
                "| mode | " + " | ".join(f"{x} MiB" for x in sizes) + " |",
                "|---|" + "---|" * len(sizes)]
        for mode in MODES:
            cells = []
            for size in sizes:
                v = s.get((size, mode, key))
                if not v:
                    cells.append("-")
                    continue
                ref = s.get((size, "nonroot" if key in ("t_container",) else "stock", key))
                ratio = f" x{v[0] / ref[0]:.3f}" if ref and ref[0] else ""
                cells.append(f"{fmt(v[0], unit)} [{fmt(v[1], unit)}-{fmt(v[2], unit)}]{ratio}")
            out.append(f"| {mode} | " + " | ".join(cells) + " |")
        out.append("")
    out += ["**the initramfs reachable from inside the container** (escape.c: detach the "
            "container root, setns() into the own mount namespace; runs that said so / runs)", "",
            "| mode | " + " | ".join(f"{x} MiB" for x in sizes) + " |",
            "|---|" + "---|" * len(sizes)]
    for mode in MODES:
        cells = []
        for size in sizes:
            rs = [r for r in rows if r["size_mib"] == size and r["mode"] == mode and r["ok"]]
            if not rs:
                cells.append("-")
            elif REACHABLE[mode] is None:
                cells.append(f"no container: pivot_root EINVAL ({len(rs)}/{len(rs)})")
            else:
                yes = sum(1 for r in rs if r["reachable"])
                cells.append(f"yes ({yes}/{len(rs)})" if yes else f"no ({yes}/{len(rs)})")
        out.append(f"| {mode} | " + " | ".join(cells) + " |")
    out.append("")
    out += ["**nonroot_initramfs against stock** (goal: ratio <= 1.01, or inside the stock "
            "spread)", ""]
    for size in sizes:
        for key, unit in (("t_init", "s"), ("peak_used_mib", "MiB")):
            a, b = s.get((size, "nonroot", key)), s.get((size, "stock", key))
            if not (a and b):
                continue
            ratio = a[0] / b[0]
            verdict = "within noise" if ratio <= 1.01 or b[1] <= a[0] <= b[2] else "OUTSIDE noise"
            out.append(f"- {size} MiB, {key}: ratio {ratio:.3f}; nonroot {fmt(a[0], unit)} "
                       f"[{fmt(a[1], unit)}-{fmt(a[2], unit)}] {unit}, stock {fmt(b[0], unit)} "
                       f"[{fmt(b[1], unit)}-{fmt(b[2], unit)}] {unit}: {verdict}")
    out += ["", "**The copy modes against nonroot_initramfs** (extra over nonroot, ratio)", ""]
    for size in sizes:
        for mode in ("copy", "tar"):
            parts = []
            for key, unit in (("peak_used_mib", "MiB"), ("t_container", "s"),
                              ("settled_used_mib", "MiB")):
                a, b = s.get((size, mode, key)), s.get((size, "nonroot", key))
                if a and b:
                    parts.append(f"{key} +{fmt(a[0] - b[0], unit)} {unit} (x{a[0] / b[0]:.2f})")
            out.append(f"- {size} MiB, {mode}: " + ", ".join(parts))
    if switch_cost:
        v = switch_cost
        out += ["", f"**The switch in mnt_init()**, timed by the KUnit case switch_cost on the "
                f"real VFS ({v['boots']} boots x {v['per_boot']} switches, TCG): median "
                f"{v['median_us']:.1f} us [{v['min_us']:.1f}-{v['max_us']:.1f}]."]
    return "\n".join(out) + "\n"


def plot(s, sizes, path, meta):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(16, 5))
    styles = {m: (f"C{i}", "osD^vx"[i], ["-", "--", "-.", ":", "-", "--"][i])
              for i, m in enumerate(MODES)}
    for ax, (key, label, unit) in zip(axes, [FIGURES[0], FIGURES[1], FIGURES[3]]):
        for mode in MODES:
            pts = [(size, s[(size, mode, key)]) for size in sizes if (size, mode, key) in s]
            if not pts:
                continue
            x = [p[0] for p in pts]
            y = [p[1][0] for p in pts]
            err = [[p[1][0] - p[1][1] for p in pts], [p[1][2] - p[1][0] for p in pts]]
            color, marker, line = styles[mode]
            ax.errorbar(x, y, yerr=err, color=color, marker=marker, linestyle=line,
                        capsize=3, label=mode)
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [str(x) for x in sizes])
        ax.set_xlabel("initramfs payload (MiB)")
        ax.set_ylabel(f"{label} ({unit})")
        ax.set_title(label + (" (stock: none, crun cannot pivot)" if key == "t_container"
                              else " (the pivot modes overlap)" if key == "peak_used_mib" else ""))
        ax.grid(True, alpha=0.3)
    for ax in axes:
        ax.legend(fontsize="small")
    fig.suptitle(f"nonroot_initramfs bench, {meta['date']}, {meta['kernel']}, guest "
                 f"{meta['memory']}, TCG; median, bars min-max")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


SWITCH = re.compile(r"# switch_cost: (\d+) switches: min (\d+) ns, median (\d+) ns, max (\d+) ns")


def switch_cost(bz, img, memory, boots, outdir):
    meds, mins, maxs, per = [], [], [], 0
    for i in range(boots):
        logf = os.path.join(outdir, "logs", f"switch-cost-{i + 1}.log")
        boot(bz, img, "stock", logf, memory,
             ["kunit.enable=1", "kunit.filter_glob=nonroot_initramfs.switch_cost"])
        with open(logf, errors="replace") as fh:
            m = SWITCH.search(fh.read())
        if not m:
            log(f"no switch_cost line in {logf}")
            continue
        per = int(m.group(1))
        mins.append(int(m.group(2)) / 1000)
        meds.append(int(m.group(3)) / 1000)
        maxs.append(int(m.group(4)) / 1000)
    if not meds:
        return None
    return {"boots": len(meds), "per_boot": per, "median_us": statistics.median(meds),
            "min_us": min(mins), "max_us": max(maxs)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--kernel", help="bzImage (default: scripts/build.sh 6.12)")
    ap.add_argument("--initramfs", help="the test initramfs (default: built)")
    ap.add_argument("--sizes", default="32,256,1024", help="payload sizes in MiB")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--memory", default="4G", help="guest memory (default 4G)")
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--switch-boots", type=int, default=5,
                    help="boots that time the switch with KUnit (0: none)")
    ap.add_argument("--out", help="results directory (default $NRI_CACHE/runs/bench-DATE)")
    ap.add_argument("--smoke", action="store_true",
                    help="32 MiB, one run per mode, 1G guest; assert, do not time")
    ap.add_argument("--results", help="append pass/fail lines here (make check)")
    ap.add_argument("--replot", metavar="DIR",
                    help="no boots: write DIR/table.md and DIR/plot.png again from DIR/runs.json")
    a = ap.parse_args()
    if a.replot:
        with open(os.path.join(a.replot, "runs.json")) as fh:
            d = json.load(fh)
        sizes = d["meta"]["sizes"]
        s = summarize(d["runs"], sizes)
        with open(os.path.join(a.replot, "table.md"), "w") as fh:
            fh.write(table(s, d["runs"], sizes, d["meta"], d["switch_cost"]))
        plot(s, sizes, os.path.join(a.replot, "plot.png"), d["meta"])
        print(f"wrote {a.replot}/table.md and plot.png")
        return 0
    if a.smoke:
        a.sizes, a.runs, a.memory, a.switch_boots = "32", 1, "1G", 1
    sizes = [int(x) for x in a.sizes.split(",")]
    modes = a.modes.split(",")
    bad = [m for m in modes if m not in MODES]
    if bad:
        ap.error(f"unknown mode(s) {','.join(bad)}; known: {','.join(MODES)}")
    cache = cache_dir()
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = a.out or os.path.join(cache, "runs", f"bench-{stamp}")
    os.makedirs(os.path.join(out, "logs"), exist_ok=True)
    bz = a.kernel or sh(os.path.join(TOP, "scripts", "build.sh"), "6.12").strip().splitlines()[-1]
    base = a.initramfs or os.path.join(cache, "bench", "base.cpio.gz")
    if not a.initramfs:
        os.makedirs(os.path.dirname(base), exist_ok=True)
        sh(os.path.join(TOP, "scripts", "mkinitramfs.sh"), base)
    release = "unknown"
    with open(bz, "rb") as fh:
        m = re.search(rb"(\d+\.\d+\.\d+[^ \0]*) \(", fh.read())
        release = m.group(1).decode() if m else release
    meta = {"date": datetime.date.today().isoformat(), "kernel": f"Linux {release}",
            "memory": a.memory, "runs": a.runs, "seed": a.seed, "sizes": sizes}
    images = {size: make_image(cache, base, size, a.seed) for size in sizes}
    rows = []
    results = []
    rng = random.Random(a.seed)
    pause = os.path.join(out, "pause")
    for size in sizes:
        for run in range(1, a.runs + 1):
            order = list(modes)
            rng.shuffle(order)
            for mode in order:
                while os.path.exists(pause):
                    time.sleep(5)
                logf = os.path.join(out, "logs", f"{size}M-{mode}-{run}.log")
                rc, wall = boot(bz, images[size], mode, logf, a.memory)
                with open(logf, errors="replace") as fh:
                    r = parse(fh.read())
                ok, why = check_run(mode, r)
                if rc != 0 and ok:
                    ok, why = False, f"boot.sh exit status {rc}"
                row = {"size_mib": size, "mode": mode, "run": run, "ok": ok, "why": why,
                       "wall_s": round(wall, 1)}
                row.update({k: v for k, v in r.items() if k != "rt_out"})
                # The user-space switch of the modes that make one.
                row["t_switch"] = r["t_stage2"] - r["t_mark_init"] \
                    if mode in ("copy", "tar", "rbind") and None not in \
                    (r["t_stage2"], r["t_mark_init"]) else None
                rows.append(row)
                results.append((f"bench-{size}M-{mode}-{run}", ok, why))
                log(f"{size} MiB {mode} run {run}: {'ok' if ok else 'FAILED: ' + why}; "
                    f"init {r['t_init']} container {r['t_container']} peak "
                    f"{r['peak_used_mib']} MiB ({wall:.0f} s)")
    cost = switch_cost(bz, images[sizes[0]], a.memory, a.switch_boots, out) \
        if a.switch_boots else None
    if a.switch_boots:
        results.append(("bench-switch-cost", cost is not None, "no switch_cost line"))
    keys = ["size_mib", "mode", "run", "ok", "why", "wall_s"] + [k for k, _, _ in FIGURES] + \
        ["container_rc", "reachable", "samples", "init_used_mib", "t_stage2", "feature_line"]
    with open(os.path.join(out, "runs.csv"), "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    s = summarize(rows, sizes)
    with open(os.path.join(out, "runs.json"), "w") as fh:
        json.dump({"meta": meta, "switch_cost": cost, "runs": rows}, fh, indent=1)
    with open(os.path.join(out, "table.md"), "w") as fh:
        fh.write(table(s, rows, sizes, meta, cost))
    plot(s, sizes, os.path.join(out, "plot.png"), meta)
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

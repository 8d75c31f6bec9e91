#!/usr/bin/env python3
"""The configurations the kernel test robot would build, for the 6.12 series:
named configurations over the series' symbols and their neighbours, and
seeded random ones constrained to the same symbols. Each is taken through
olddefconfig and checked, then built far enough to fail if it would fail.

Checks of every configuration, one line each ("PASS: config-6.12-NAME: CHECK"
or "FAIL: ...: why"), appended to --results:

  kconfig   the configuration Kconfig made: no Rust code in a module when
            MODVERSIONS=y (the combination kbuild refuses), and what the
            named configuration expects (a symbol refused, kept or dropped)
  build     the objects the series touches (its C shims in fs/namespace.c,
            init/do_mounts.c, init/initramfs.c, its Rust, and the Rust users
            that the configuration turned on), with `make prepare` (which
            builds rust/); and where the configuration changes what is linked,
            vmlinux and the modules, and no module with Rust code when
            MODVERSIONS=y

The base is the fleet test kernel's configuration (fleet.config: MODULES,
MODVERSIONS, KUNIT=m, DEFAULT_ON, as distributions build). Random
configurations are named with their seed (random-SEED); one whose
configuration, over these symbols and the Rust users, equals an earlier one's
is not built again. The configurations that only compile objects build in
one directory (--out), one after the other, so that each build is
incremental; those that link build in the fleet kernel's own directory
(--link-dir), whose configuration is put back at the end, whatever happens:
they differ from it in symbols few files use, so the fleet kernel's next
build stays incremental.
"""
import argparse
import os
import random
import re
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The series' symbols and their neighbours, with the values the random
# configurations draw from.
SYMBOLS = {
    "RUST": "yn", "MODULES": "yn", "MODVERSIONS": "yn", "BLK_DEV_INITRD": "yn",
    "TMPFS": "yn", "SHMEM": "yn", "DEBUG_FS": "yn", "KUNIT": "ymn",
    "NONROOT_INITRAMFS": "yn", "NONROOT_INITRAMFS_DEFAULT_ON": "yn",
    "NONROOT_INITRAMFS_KUNIT_TEST": "yn",
}

# Rust code that may end up in a module: what turns it on, at m; its object;
# when it is part of a module.
RUST_USERS = {
    "SAMPLE_RUST_MINIMAL": ({"SAMPLES": "y", "SAMPLES_RUST": "y", "SAMPLE_RUST_MINIMAL": "m"},
                            "samples/rust/rust_minimal.o",
                            lambda c: c.get("SAMPLE_RUST_MINIMAL") == "m"),
    "BLK_DEV_RUST_NULL": ({"BLK_DEV": "y", "BLK_DEV_RUST_NULL": "m"},
                          "drivers/block/rnull.o",
                          lambda c: c.get("BLK_DEV_RUST_NULL") == "m"),
    "AMCC_QT2025_PHY": ({"NETDEVICES": "y", "PHYLIB": "y", "FW_LOADER": "y",
                         "RUST_PHYLIB_ABSTRACTIONS": "y", "RUST_FW_LOADER_ABSTRACTIONS": "y",
                         "AMCC_QT2025_PHY": "m"},
                        "drivers/net/phy/qt2025.o",
                        lambda c: c.get("AMCC_QT2025_PHY") == "m"),
    "AX88796B_RUST_PHY": ({"NETDEVICES": "y", "PHYLIB": "y", "RUST_PHYLIB_ABSTRACTIONS": "y",
                           "AX88796B_PHY": "m", "AX88796B_RUST_PHY": "y"},
                          "drivers/net/phy/ax88796b_rust.o",
                          lambda c: c.get("AX88796B_RUST_PHY") == "y" and c.get("AX88796B_PHY") == "m"),
    "DRM_PANIC_SCREEN_QR_CODE": ({"DRM": "m", "DRM_PANIC": "y", "DRM_PANIC_SCREEN_QR_CODE": "y"},
                                 "drivers/gpu/drm/drm_panic_qr.o",
                                 lambda c: c.get("DRM_PANIC_SCREEN_QR_CODE") == "y" and c.get("DRM") == "m"),
}
ALL_USERS = {}
for _req, _obj, _inmod in RUST_USERS.values():
    ALL_USERS.update(_req)

# The objects the series touches, built in every configuration (those the
# configuration does not build are skipped by name below).
SERIES_OBJS = ["fs/namespace.o", "init/do_mounts.o", "init/initramfs.o"]

# SHMEM=n needs EXPERT; BLK_DEV_INITRD=n needs BOOT_CONFIG=n (it selects it).
EXPERT = {"EXPERT": "y"}
NO_BOOTCONFIG = {"BOOT_CONFIG": "n"}


def want(**kv):
    """Expected values after olddefconfig ("n" for not set)."""
    return kv


# name -> (requested values over the base, expected values, link?)
# The base is the fleet kernel's configuration: MODULES, MODVERSIONS, KUNIT=m,
# the feature on by default.
NAMED = {
    # A distribution's kernel, linked with its modules: built-in Rust with
    # MODVERSIONS, and KUnit in a module while the kernel crate's KUnit
    # support is built in.
    "fleet": ({}, want(RUST="y", MODVERSIONS="y", KUNIT="m", NONROOT_INITRAMFS="y",
                       NONROOT_INITRAMFS_DEFAULT_ON="y", NONROOT_INITRAMFS_KUNIT_TEST="n"), True),
    "feature-off": ({"NONROOT_INITRAMFS": "n"}, want(NONROOT_INITRAMFS_DEFAULT_ON="n"), True),
    "no-rust": ({"RUST": "n"}, want(NONROOT_INITRAMFS="n"), True),
    "default-off": ({"NONROOT_INITRAMFS_DEFAULT_ON": "n"},
                    want(NONROOT_INITRAMFS="y", NONROOT_INITRAMFS_DEFAULT_ON="n"), False),
    "kunit-y": ({"KUNIT": "y", "NONROOT_INITRAMFS_KUNIT_TEST": "y"},
                want(NONROOT_INITRAMFS_KUNIT_TEST="y"), False),
    "kunit-n": ({"KUNIT": "n"}, want(NONROOT_INITRAMFS="y", NONROOT_INITRAMFS_KUNIT_TEST="n"), False),
    "no-debugfs": ({"DEBUG_FS": "n"}, want(DEBUG_FS="n", NONROOT_INITRAMFS="y"), False),
    "no-tmpfs": ({"TMPFS": "n"}, want(TMPFS="n", NONROOT_INITRAMFS="y"), False),
    "no-shmem": ({**EXPERT, "SHMEM": "n"}, want(SHMEM="n", NONROOT_INITRAMFS="y"), False),
    "no-initrd": ({"BLK_DEV_INITRD": "n", **NO_BOOTCONFIG}, want(NONROOT_INITRAMFS="n"), False),
    "no-modules": ({"MODULES": "n"}, want(MODVERSIONS="n", NONROOT_INITRAMFS="y"), False),
    "no-modversions": ({"MODVERSIONS": "n"}, want(RUST="y", NONROOT_INITRAMFS="y"), False),
    # Every Rust user at m without MODVERSIONS: offered, and built.
    "rust-users-m": ({"MODVERSIONS": "n", **ALL_USERS}, want(**ALL_USERS), False),
    # ... and with MODVERSIONS: each refused by Kconfig, one by one.
    **{f"modversions-{u.lower().replace('_', '-')}":
       (req, want(MODVERSIONS="y", RUST="y", NONROOT_INITRAMFS="y"), False)
       for u, (req, _, _) in RUST_USERS.items()},
}

# The random configurations: this many seeds, from 1.
SEEDS = 8


def parse(path):
    vals = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"^CONFIG_(\w+)=(.*)$", line)
            if m:
                vals[m.group(1)] = m.group(2)
            m = re.match(r"^# CONFIG_(\w+) is not set$", line)
            if m:
                vals[m.group(1)] = "n"
    return vals


def rust_in_module(c):
    return [u for u, (_, _, inmod) in RUST_USERS.items() if inmod(c)]


def check_kconfig(c, expect):
    """Why the configuration C is wrong, or ""."""
    bad = []
    if c.get("MODVERSIONS") == "y" and c.get("RUST") == "y":
        inmod = rust_in_module(c)
        if inmod:
            bad.append("Rust code in a module with MODVERSIONS=y: " + ", ".join(inmod))
    for k, v in expect.items():
        got = c.get(k, "n")
        if got != v:
            bad.append(f"{k}={got}, expected {v}")
    return "; ".join(bad)


class Builder:
    def __init__(self, a, out):
        self.a = a
        self.tree = a.tree
        self.out = out
        self.kargs = a.kargs
        os.makedirs(self.out, exist_ok=True)

    def make(self, *targets, log):
        with open(log, "a") as f:
            f.write(f"$ make {' '.join(targets)}\n")
            f.flush()
            st = subprocess.run(["make", "-C", self.tree, f"O={self.out}", "-s", *self.kargs,
                                 f"-j{os.cpu_count()}", *targets],
                                stdout=f, stderr=subprocess.STDOUT)
        return st.returncode == 0

    def configure(self, request, log):
        cfg = os.path.join(self.out, ".config")
        with open(cfg, "w") as dst:
            dst.write(self.a.base_text)
        args = []
        for k, v in request.items():
            args += {"y": ["--enable", k], "m": ["--module", k], "n": ["--disable", k]}[v]
        if args:
            subprocess.run([os.path.join(self.tree, "scripts/config"), "--file", cfg, *args],
                           check=True)
        if not self.make("olddefconfig", log=log):
            return None
        return parse(cfg)

    def module_objects_in_rust(self):
        """Modules built with Rust code: objects of a *.mod file with a .rs source."""
        bad = []
        for root, _, files in os.walk(self.out):
            for fn in files:
                if not fn.endswith(".mod"):
                    continue
                with open(os.path.join(root, fn)) as f:
                    for obj in f.read().split():
                        rel = os.path.relpath(os.path.join(self.out, obj), self.out) \
                            if not os.path.isabs(obj) else os.path.relpath(obj, self.out)
                        if os.path.exists(os.path.join(self.tree, rel[:-2] + ".rs")):
                            bad.append(f"{fn}: {rel}")
        return bad

    def build(self, c, link, log):
        objs = list(SERIES_OBJS)
        if c.get("NONROOT_INITRAMFS") == "y":
            objs.append("fs/nonroot_initramfs.o")
        if c.get("RUST") == "y":
            for u, (_, obj, inmod) in RUST_USERS.items():
                if c.get(u, "n") != "n":
                    objs.append(obj)
        if c.get("BLK_DEV_INITRD") != "y":
            objs.remove("init/initramfs.o")
        if not self.make("prepare", *objs, log=log):
            return "build failed"
        if link:
            targets = ["vmlinux"] + (["modules"] if c.get("MODULES") == "y" else [])
            if not self.make(*targets, log=log):
                return "link failed"
            if c.get("MODVERSIONS") == "y":
                bad = self.module_objects_in_rust()
                if bad:
                    return "modules with Rust code: " + ", ".join(bad)
        return ""


def random_request(seed):
    r = random.Random(seed)
    req = {k: r.choice(v) for k, v in SYMBOLS.items()}
    if req["SHMEM"] == "n":
        req.update(EXPERT)
    if req["BLK_DEV_INITRD"] == "n":
        req.update(NO_BOOTCONFIG)
    for u, (ureq, _, _) in RUST_USERS.items():
        if r.random() < 0.4:
            req.update(ureq)
    return req


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", required=True, help="the 6.12 series' kernel tree")
    ap.add_argument("--base", required=True, help="the base configuration (the fleet kernel's)")
    ap.add_argument("--out", required=True, help="the build directory of the object builds")
    ap.add_argument("--link-dir", help="the build directory of the links (the fleet kernel's; "
                    "its .config is put back at the end)")
    ap.add_argument("--logdir", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--kargs", default="", help="make arguments, one per line")
    ap.add_argument("--kconfig-only", action="store_true", help="no builds")
    ap.add_argument("names", nargs="*", help="configurations to run (default: all); 'list'")
    a = ap.parse_args()
    a.kargs = [x for x in a.kargs.splitlines() if x]
    with open(a.base) as f:
        a.base_text = f.read()
    cases = [(n, req, exp, link) for n, (req, exp, link) in NAMED.items()]
    for seed in range(1, SEEDS + 1):
        cases.append((f"random-{seed}", random_request(seed), {}, False))
    if a.names == ["list"]:
        for n, req, exp, link in cases:
            print(n, " ".join(f"{k}={v}" for k, v in req.items()), "(link)" if link else "")
        return 0
    if a.names:
        cases = [c for c in cases if c[0] in a.names]
    if not a.kconfig_only and any(link for *_, link in cases) and not a.link_dir:
        ap.error("--link-dir is needed for the configurations that link")
    os.makedirs(a.logdir, exist_ok=True)
    objs = Builder(a, a.out)
    fails = 0

    def report(lines, log):
        nonlocal fails
        with open(a.results, "a") as r:
            for w, why in lines:
                print(f"PASS: {w}" if not why else f"FAIL: {w}: {why}", flush=True)
                r.write(f"{'pass' if not why else 'fail'} {w}\n")
                fails += bool(why)
        if any(why for _, why in lines):
            print(f"  (log: {log})")
            with open(log) as f:
                for line in f.read().splitlines()[-15:]:
                    print("    " + line)

    # Kconfig first, for every configuration (in the object directory).
    resolved = []
    for name, req, exp, link in cases:
        what = f"config-6.12-{name}"
        log = os.path.join(a.logdir, what + ".log")
        open(log, "w").close()
        c = objs.configure(req, log)
        if c is None:
            report([(f"{what}: kconfig", "olddefconfig failed")], log)
            continue
        got = " ".join(f"{k}={c.get(k, 'n')}" for k in SYMBOLS)
        print(f"  {what}: {got}")
        refused = [f"{k}={v}" for k, v in req.items() if c.get(k, "n") != v]
        if refused:
            print(f"  {what}: not taken: {' '.join(refused)}")
        report([(f"{what}: kconfig", check_kconfig(c, exp))], log)
        key = tuple(sorted((k, v) for k, v in c.items()
                           if k in SYMBOLS or k in ALL_USERS or k in EXPERT or k in NO_BOOTCONFIG))
        resolved.append((name, req, c, key, link, what, log))
    if a.kconfig_only:
        return 1 if fails else 0

    # Then the builds: objects, each distinct configuration once (one that
    # links is built there).
    built = {key: name for name, _, _, key, link, _, _ in resolved if link}
    for name, req, c, key, link, what, log in resolved:
        if link:
            continue
        if key in built:
            print(f"  {what}: the configuration of {built[key]}, built there")
            continue
        built[key] = name
        objs.configure(req, log)
        report([(f"{what}: build", objs.build(c, False, log))], log)
    # The links, in the fleet kernel's directory, put back as it was.
    if any(link for *_, link, _, _ in resolved):
        links = Builder(a, a.link_dir)
        cfg = os.path.join(a.link_dir, ".config")
        try:
            for name, req, c, key, link, what, log in resolved:
                if link:
                    links.configure(req, log)
                    report([(f"{what}: build and link", links.build(c, True, log))], log)
        finally:
            with open(cfg, "w") as f:
                f.write(a.base_text)
            links.make("olddefconfig", log=os.path.join(a.logdir, "config-6.12-put-back.log"))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())

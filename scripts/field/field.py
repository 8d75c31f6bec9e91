#!/usr/bin/env python3
"""Field test: a whole Debian trixie system (systemd as PID 1, docker with
containerd and runc, podman with crun, containerd's ctr, systemd-nspawn,
bubblewrap, a RootDirectory= service) booted as the initramfs that stays the
final root, and from an ext4 disk through the distribution's own initrds
(initramfs-tools, dracut), with nonroot_initramfs off and on.

Kernels: the 6.12 series built DEFAULT_ON with tools/testing/nonroot_initramfs/
field/engines.config ("off" is nonroot_initramfs=0), and stock 7.3: Debian's
own 7.3.4 kernel (cloud flavour, the source of linux-source-7.3, without this
project's patches), booted with the fleet's command line. Image:
scripts/field/mkimage.sh. In the guest, nri-field (a systemd service) reports
on the second serial port; here each case's checks decide, one line each,
"PASS: field-CASE: check" or "FAIL: ...: why" (appended to --results), and
the table of what was seen is printed at the end (--table writes it too).
"""
import argparse
import dataclasses
import json
import os
import re
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "scripts"))
from boottest import (CRASH, Mount, record, root_is_absolute_rootfs,  # noqa: E402
                      root_on_hidden_parent)

MKIMAGE = os.path.join(TOP, "scripts/field/mkimage.sh")
CACHE = os.environ.get("NRI_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "nonroot-initramfs")
# The engines nri-field runs, in its order: report name -> table name.
ENGINES = {"docker": "docker run", "podman": "podman run", "ctr": "ctr run",
           "nspawn": "systemd-nspawn", "bwrap": "bwrap", "rootdir": "RootDirectory= service"}
# Each engine's documented workaround for a root that cannot pivot_root(2).
WORKAROUND = {"docker": "docker-ramdisk", "podman": "podman-no-pivot", "ctr": "ctr-no-pivot"}
WORKAROUND_NAME = {"docker": "DOCKER_RAMDISK=true", "podman": "no_pivot_root = true",
                   "ctr": "ctr run --no-pivot"}
# Engines that pivot_root(2) and have no fallback: on a rootfs root they must
# fail, with their own pivot_root EINVAL message.
PIVOTING = ("docker", "podman", "ctr", "bwrap")
# systemd's: they fall back to MS_MOVE on their own.
FALLING_BACK = ("nspawn", "rootdir")
# The run timeout in the guest (nri-field): timeout(1) says 124.
RUN_TIMEOUT = 180

# The field kernels: the 6.12 series as a Debian package (scripts/deb.sh:
# the field kernel's configuration, engines.config + default-on.config),
# installed in the disk image by dpkg; or Debian's own (scripts/field/
# mkimage.sh debian-kernel).
KERNELS = {
    "6.12": dict(deb=True),
    "7.3-stock": dict(debian=True),
}


@dataclasses.dataclass
class Run:
    """One engine run: "start NAME", "run NAME rc=N", "out NAME ..." lines."""
    started: bool = False
    rc: int = -1
    out: list = dataclasses.field(default_factory=list)

    @property
    def ran(self) -> bool:
        """The container ran to its end and did not see the host's root."""
        return self.rc == 0 and "container-end" in self.out and \
            "container-marker absent" in self.out

    @property
    def reached(self) -> list:
        """The escape ways (escape.c) that reached the initramfs marker."""
        return [l.split()[1] for l in self.out
                if l.startswith("escape-marker ") and l.endswith(" reachable")]

    @property
    def contained(self) -> bool:
        ways = [l for l in self.out if l.startswith("escape-marker ")]
        return self.rc == 0 and len(ways) == 2 and not self.reached

    def error(self) -> str:
        """The engine's own words about pivot_root, or its last line."""
        if not self.started:
            return "not run"
        if self.rc == -1:
            return "started, never finished (the guest stopped in it)"
        if self.rc == 124:
            return f"timed out after {RUN_TIMEOUT} s"
        if self.rc == 0 and "container-marker visible" in self.out:
            return "ran, and saw the initramfs's marker: its root is the host's"
        for l in self.out:
            if "pivot_root" in l.lower():
                return l.strip()
        return self.out[-1].strip() if self.out else f"rc={self.rc}, no output"

    def quote(self, width=90) -> str:
        """error(), cut to WIDTH around what it says of pivot_root."""
        e = self.error()
        i = e.lower().find("pivot_root")
        if len(e) <= width:
            return e
        if i < 0:
            return e[:width] + "..."
        start = max(0, min(i - width // 2, len(e) - width))
        return ("..." if start else "") + e[start:start + width] + \
            ("..." if start + width < len(e) else "")


@dataclasses.dataclass
class Guest:
    console: str
    exit_status: int
    took: float
    kv: dict = dataclasses.field(default_factory=dict)
    multi: dict = dataclasses.field(default_factory=dict)
    runs: dict = dataclasses.field(default_factory=dict)
    last_started: str = ""
    # The size of the initrd booted, compressed (disk cases).
    initrd_kb: int = 0

    def one(self, key: str) -> str:
        return self.kv.get(key, "")

    def many(self, key: str) -> list:
        return self.multi.get(key, [])

    def run(self, name: str) -> Run:
        return self.runs.get(name, Run())

    @property
    def mounts(self) -> list:
        return [Mount.parse(l) for l in self.many("mountinfo")]

    def root_mount(self):
        roots = [m for m in self.mounts if m.mountpoint == "/"]
        return roots[-1] if roots else None

    def failed(self) -> str:
        """Why this boot does not count, or "": no report, a kernel crash. A
        guest that stopped half-way still counts for what it reported (its
        checks then fail on what is missing, naming it)."""
        if not self.one("begin"):
            return f"no report from the guest (exit {self.exit_status})"
        for l in self.console.splitlines():
            if any(c in l for c in CRASH):
                return f"kernel: {l.strip()}"
        return ""

    def finished(self) -> str:
        if "done" in self.kv:
            return ""
        how = "timed out" if self.exit_status == 124 else f"exit {self.exit_status}"
        return f"the guest did not finish ({how})" + \
            (f"; it was running {self.last_started}" if self.last_started else "")


def parse(console: str, report: str, exit_status: int, took: float) -> Guest:
    g = Guest(console, exit_status, took)
    for line in report.splitlines():
        if not line.startswith("FIELD: "):
            continue
        key, _, rest = line[len("FIELD: "):].partition(" ")
        if key == "start":
            g.runs.setdefault(rest, Run()).started = True
            g.last_started = rest
        elif key == "run":
            name, _, rc = rest.partition(" rc=")
            r = g.runs.setdefault(name, Run())
            r.started = True
            r.rc = int(rc) if rc.isdigit() else -1
        elif key == "out":
            name, _, text = rest.partition(" ")
            g.runs.setdefault(name, Run()).out.append(text)
        else:
            g.kv[key] = rest
            g.multi.setdefault(key, []).append(rest)
    return g


# Checks: each takes the guest and returns "" (pass) or why it failed.

def real_system(g: Guest) -> str:
    """systemd runs the initramfs (or the disk) as the real system."""
    if g.one("initrd-release") != "absent":
        return f"/etc/initrd-release: {g.one('initrd-release') or 'not reported'}"
    if g.one("target") != "initrd=inactive multi-user=active":
        return f"targets: {g.one('target') or 'not reported'}"
    return ""


def system_running(g: Guest) -> str:
    """systemctl is-system-running says running: no failed unit."""
    s = g.one("system-running")
    failed = [u.split()[0] for u in g.many("failed-unit")]
    return "" if s == "running" else \
        f"systemctl is-system-running: {s or 'not reported'!r} {failed}"


def root_is_second_rootfs_on_rootfs(g: Guest) -> str:
    """6.12 with the feature: / is the second rootfs (mount 2), on rootfs
    (mount 1), which PID 1 cannot see: the shape 7.x has with nullfs."""
    return root_on_hidden_parent(g, "rootfs", parent=1)


def root_is_rootfs_on_nullfs(g: Guest) -> str:
    """7.x: / is rootfs (mount 2) on nullfs (mount 1), which PID 1 cannot see."""
    return root_on_hidden_parent(g, "rootfs", parent=1)


def root_is_the_disk_on(parent: int):
    """/ is the disk, mounted on mount PARENT: 1 is rootfs, where every switch
    puts it on the stock kernel; with the feature, klibc's run-init moves it
    onto the second rootfs (2), which stays below it, emptied, while
    systemd's switch-root pivots into it and detaches the second rootfs."""
    def check(g: Guest) -> str:
        r = g.root_mount()
        if r is None or r.fstype != "ext4" or r.source != "/dev/vda":
            return f"/ is {r.fstype} {r.source}" if r else "no / in PID 1's mountinfo"
        return "" if r.parent == parent else f"/ is on mount {r.parent}, want {parent}"
    check.__name__ = f"root_is_the_disk_on_mount_{parent}"
    return check


def engines_run(g: Guest) -> str:
    """Every engine runs its container with its defaults, and nothing of the
    initramfs is reachable from a privileged container that escapes."""
    bad = []
    for e in ENGINES:
        r = g.run(e)
        if not r.ran:
            bad.append(f"{e}: {r.error()}")
        esc = g.run(e + "-escape")
        if not esc.contained:
            bad.append(f"{e} escape: reached the initramfs ({', '.join(esc.reached)})"
                       if esc.reached else f"{e} escape: {esc.error()}")
    return "; ".join(bad)


def engines_run_on_disk(g: Guest) -> str:
    """Every engine runs its container with its defaults (the initramfs is
    gone: nothing to escape to)."""
    return "; ".join(f"{e}: {g.run(e).error()}" for e in ENGINES if not g.run(e).ran)


def pivoting_engines_fail_einval(g: Guest) -> str:
    """On rootfs, each engine that pivots fails with its pivot_root EINVAL."""
    bad = []
    for e in PIVOTING:
        r = g.run(e)
        err = r.error().lower()
        if r.ran or "pivot_root" not in err or "invalid argument" not in err:
            bad.append(f"{e}: rc={r.rc}: {r.error()}")
    return "; ".join(bad)


def run_and_reach(g: Guest, names) -> str:
    """Each of NAMES runs the container, and its escaping privileged
    container reaches the initramfs."""
    bad = []
    for n in names:
        if not g.run(n).ran:
            bad.append(f"{n}: {g.run(n).error()}")
        elif not g.run(n + "-escape").reached:
            bad.append(f"{n}: the escape did not reach the initramfs: "
                       f"{g.run(n + '-escape').error()}")
    return "; ".join(bad)


def workarounds_reach_initramfs(g: Guest) -> str:
    """Each documented workaround runs the container, and leaves the
    initramfs reachable."""
    return run_and_reach(g, WORKAROUND.values())


def systemd_falls_back_and_exposes(g: Guest) -> str:
    """On rootfs, systemd-nspawn and RootDirectory= do not fail: systemd falls
    back to MS_MOVE, and the initramfs is reachable from their containers."""
    return run_and_reach(g, FALLING_BACK)


def marker_present(g: Guest) -> str:
    return "" if g.one("marker") == "present" else "the initramfs marker is not in /"


def feature_line(present: bool):
    def check(g: Guest) -> str:
        log = g.console.splitlines()
        # The kernel's log from its start: the console has its command line.
        if not any("Kernel command line:" in l for l in log):
            return "no 'Kernel command line:' in the console log"
        # The feature's own lines ("nonroot_initramfs: ..."), not the
        # command line's echo.
        lines = [l.strip() for l in log if re.search(r"\]\s+nonroot_initramfs: ", l)]
        if present and not lines:
            return "no nonroot_initramfs line in the kernel log"
        if not present and lines:
            return f"unexpected: {lines}"
        return ""
    check.__name__ = "feature_log_line" if present else "no_feature_log_line"
    return check


def unknown_parameter_logged(g: Guest) -> str:
    """Stock 7.3 does not know the option: it says so, and hands it on."""
    want = 'Unknown kernel command line parameters "nonroot_initramfs"'
    return "" if want in g.console else f"no '{want}' in the kernel log"


def initrd_memory_freed(g: Guest) -> str:
    """After the switch to the disk, tmpfs and ramfs pages (Shmem +
    Unevictable: rootfs is a ramfs on the stock kernel booted with root=) hold
    less than half the initrd's compressed size, itself less than what its
    files take unpacked: the initrd's files are gone."""
    kb, lim = shmem(g), g.initrd_kb // 2
    return "" if 0 <= kb <= lim else \
        f"Shmem + Unevictable {kb} kB, more than {lim} kB (half the initrd)"


def pid1_got(token: str):
    def check(g: Guest) -> str:
        return "" if token in g.one("pid1-argv").split() else \
            f"PID 1's argv is {g.one('pid1-argv')!r}"
    check.__name__ = f"pid1_argv_has_{token}"
    return check


def pid1_not_given(token: str):
    def check(g: Guest) -> str:
        if not g.one("pid1-argv"):
            return "PID 1's argv was not reported"
        words = g.one("pid1-argv").split() + g.one("pid1-env").split()
        hit = [w for w in words if w.split("=")[0] == token]
        return f"PID 1 got {hit}" if hit else ""
    check.__name__ = f"pid1_not_given_{token}"
    return check


def kernel_package_installed(g: Guest) -> str:
    """The running kernel is the package scripts/deb.sh built, installed by
    dpkg in the image ("ii"): linux-image-RELEASE for the running release."""
    got = g.one("kernel-package")
    release = g.one("begin")
    want = f"linux-image-{release} "
    if not (got.startswith(want) and got.split()[-1] == "ii"):
        return f"dpkg says '{got or 'nothing'}' of linux-image-{release}, want it installed (ii)"
    return ""


def pivotable_reads_boot_config(g: Guest) -> str:
    """A distribution's kernel has no /proc/config.gz (the field kernel
    neither): pivotable takes the configuration from /boot/config-RELEASE,
    which the package installed, and sees DEFAULT_ON there."""
    raw = g.one("pivotable-json")
    try:
        j = json.loads(raw)
    except ValueError:
        return f"pivotable --json printed no JSON: '{raw}'"
    want = ("default-on", f"/boot/config-{g.one('begin')}")
    if (j.get("config"), j.get("config_source")) != want:
        return f"pivotable: config {j.get('config')} from {j.get('config_source')}, want {want}"
    return ""


def pivotable_says(rc: int):
    """tools/pivotable's verdict: 0 pivotable, 1 not."""
    def check(g: Guest) -> str:
        got = g.one("pivotable")
        return "" if got == f"rc={rc}" else \
            f"pivotable {got or 'not reported'}: {' '.join(g.many('pivotable-out'))}"
    check.__name__ = f"pivotable_exits_{rc}"
    return check


INITRAMFS_ON = [real_system, system_running, marker_present, root_is_second_rootfs_on_rootfs,
                feature_line(True), pivotable_says(0), engines_run,
                pid1_not_given("nonroot_initramfs")]
INITRAMFS_OFF = [real_system, system_running, marker_present, root_is_absolute_rootfs,
                 feature_line(False), pivotable_says(1), pivoting_engines_fail_einval,
                 workarounds_reach_initramfs, systemd_falls_back_and_exposes,
                 pid1_not_given("nonroot_initramfs")]
STOCK_73 = [real_system, system_running, marker_present, root_is_rootfs_on_nullfs,
            pivotable_says(0), engines_run, unknown_parameter_logged,
            pid1_got("nonroot_initramfs")]
DISK = [real_system, system_running, initrd_memory_freed, engines_run_on_disk,
        kernel_package_installed, pivotable_reads_boot_config]

# name: (kernel, medium, kernel arguments, checks, guest memory). Media:
# "initramfs" is the image as the final root; "disk:GEN" the image on
# /dev/vda, booted through the initrd GEN made. The 6.12 field kernel is
# DEFAULT_ON: off is nonroot_initramfs=0; the disk boots "on" have no option.
CASES = {
    "initramfs-off": ("6.12", "initramfs", ["nonroot_initramfs=0", "nri.workarounds=1"],
                      INITRAMFS_OFF, "3G"),
    "initramfs-on": ("6.12", "initramfs", ["nonroot_initramfs"], INITRAMFS_ON, "3G"),
    "initramfs-7.3-stock": ("7.3-stock", "initramfs", ["nonroot_initramfs"], STOCK_73, "3G"),
    "disk-initramfs-tools-off": ("6.12", "disk:initramfs-tools",
                                 ["root=/dev/vda", "rw", "nonroot_initramfs=0"],
                                 DISK + [root_is_the_disk_on(1), feature_line(False)], "2G"),
    "disk-initramfs-tools-on": ("6.12", "disk:initramfs-tools", ["root=/dev/vda", "rw"],
                                DISK + [root_is_the_disk_on(2), feature_line(True)], "2G"),
    "disk-dracut-off": ("6.12", "disk:dracut", ["root=/dev/vda", "rw", "nonroot_initramfs=0"],
                        DISK + [root_is_the_disk_on(1), feature_line(False)], "2G"),
    "disk-dracut-on": ("6.12", "disk:dracut", ["root=/dev/vda", "rw"],
                       DISK + [root_is_the_disk_on(1), feature_line(True)], "2G"),
}
# on/off pairs: what the feature changes, boot against boot.
PAIRS = (("initramfs-on", "initramfs-off"),
         ("disk-initramfs-tools-on", "disk-initramfs-tools-off"),
         ("disk-dracut-on", "disk-dracut-off"))
# How far apart on and off may be in tmpfs + ramfs pages after the switch to
# the disk (seen: a few kB; an initrd left behind is 10 MiB and more).
SHMEM_SLACK_KB = 2048


class StepFailed(Exception):
    pass


def sh(*cmd, env=None) -> str:
    """Run a workbench script; its last line of output is its answer. On
    failure: StepFailed with what it said of the error (apt's "E:" lines,
    "error:")."""
    e = dict(os.environ, **(env or {}))
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e)
    sys.stderr.write(p.stderr)
    if p.returncode:
        said = [l.strip() for l in p.stderr.splitlines()
                if re.match(r"(E: (Unable|Package|.*has no)|.*error:)", l.strip())]
        raise StepFailed("; ".join(said[-3:]) or f"{os.path.basename(cmd[0])} failed")
    out = p.stdout.strip()
    return out.splitlines()[-1] if out else ""


def kernel(name: str) -> tuple:
    """Build field kernel NAME: (its vmlinuz, its package or None)."""
    k = KERNELS[name]
    if k.get("debian"):
        return sh(MKIMAGE, "debian-kernel"), None
    deb = sh(os.path.join(TOP, "scripts/deb.sh"))
    # The initramfs cases boot the package's kernel too: its /boot/vmlinuz-*.
    pkg = subprocess.run(["dpkg-deb", "-f", deb, "Package"], check=True, text=True,
                         stdout=subprocess.PIPE).stdout.strip()
    vmlinuz = os.path.join(CACHE, "field", "vmlinuz-" + name)
    with open(vmlinuz + ".tmp", "wb") as out:
        tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
        subprocess.run(["tar", "-xOf", "-", "./boot/vmlinuz-" + pkg[len("linux-image-"):]],
                       stdin=tar.stdout, stdout=out, check=True)
        if tar.wait():
            raise StepFailed(f"dpkg-deb --fsys-tarfile {deb} failed")
    os.replace(vmlinuz + ".tmp", vmlinuz)
    return vmlinuz, deb


def boot(bz, initrd, disk, args, memory, logbase, timeout) -> Guest:
    console, report = logbase + ".log", logbase + ".ttyS1"
    for f in (console, report):
        open(f, "w").close()
    cmdline = ["console=ttyS0", "panic=-1", "kunit.enable=0"] + args
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-m", memory,
           "-kernel", bz, "-initrd", initrd, "-append", " ".join(cmdline),
           "-display", "none", "-monitor", "none", "-nic", "none", "-no-reboot",
           "-serial", f"file:{console}", "-serial", f"file:{report}"]
    if disk:
        cmd += ["-drive", f"file={disk},if=virtio,format=raw,snapshot=on"]
    t0 = time.monotonic()
    try:
        rc = subprocess.run(cmd, stdin=subprocess.DEVNULL, timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        rc = 124
    took = time.monotonic() - t0
    with open(console, errors="replace") as c, open(report, errors="replace") as r:
        return parse(c.read(), r.read(), rc, took)


def shmem(g: Guest) -> int:
    m = re.match(r"(\d+) kB", g.one("shmem-unevictable"))
    return int(m.group(1)) if m else -1


def cross_checks(guests: dict) -> list:
    """Checks across boots: what on changes against off. A pair of which a
    boot failed fails; one that was not run (make field CASES=...) is left."""
    lines = []
    for on, off in PAIRS:
        if on not in guests or off not in guests:
            continue
        a, b = guests[on], guests[off]
        why = a.failed() or b.failed()
        fa = sorted(u.split()[0] for u in a.many("failed-unit"))
        fb = sorted(u.split()[0] for u in b.many("failed-unit"))
        lines.append((f"field-{on}: failed_units_as_off",
                      why or ("" if fa == fb else f"failed units on: {fa}, off: {fb}")))
        if on.startswith("disk-"):
            # The initrd's memory is freed after the switch as on stock.
            sa, sb = shmem(a), shmem(b)
            lines.append((f"field-{on}: shmem_as_off", why or (
                "" if sa >= 0 and sb >= 0 and abs(sa - sb) <= SHMEM_SLACK_KB else
                f"Shmem + Unevictable on {sa} kB, off {sb} kB: more than "
                f"{SHMEM_SLACK_KB} kB apart")))
    return lines


def cell_engine(g: Guest, name: str) -> str:
    if g is None:
        return "not booted"
    if g.failed():
        return f"boot failed: {g.failed()}"
    r = g.run(name)
    if not r.ran:
        return f'fails: "{r.quote()}"' if r.rc not in (-1, 124) else r.error()
    esc = g.run(name + "-escape")
    if esc.reached:
        return f"runs; initramfs REACHABLE after escape ({', '.join(esc.reached)})"
    if esc.contained:
        return "runs; initramfs unreachable"
    return f'runs; escape probe: "{esc.quote(60)}"'


def cell_system(g: Guest) -> str:
    if g is None:
        return "not booted"
    if g.failed():
        return f"boot failed: {g.failed()}"
    s = g.one("system-running") or "not reported"
    failed = [u.split()[0] for u in g.many("failed-unit")]
    r = g.root_mount()
    root = f"/ {r.fstype}" + (f" ({r.source})" if r and r.source.startswith("/dev") else "") \
        if r else "/ ?"
    return f"{s}{' (' + ', '.join(failed) + ')' if failed else ''}; {root}"


def cell_disk(g: Guest) -> str:
    if g is None or g.failed():
        return cell_system(g)
    bad = [e for e in ENGINES if not g.run(e).ran]
    r = g.root_mount()
    # Where the switch put the disk: on mount 1 (rootfs) or on another.
    on = f", on mount {r.parent}" if r else ""
    runs = f"{len(ENGINES) - len(bad)}/{len(ENGINES)} engines run" + \
        (f" (not: {', '.join(bad)})" if bad else "")
    return f"{cell_system(g)}{on}; {runs}; Shmem + Unevictable {shmem(g)} kB"


def table(guests: dict) -> list:
    g = guests.get

    def one(name, key):
        return g(name).one(key) if g(name) else ""
    cols = ["", "6.12 off (nonroot_initramfs=0)", "6.12 off + the engine's workaround",
            "6.12 on (nonroot_initramfs; disk: DEFAULT_ON)", "stock 7.3 + nonroot_initramfs"]
    rows = [cols]
    for e, title in ENGINES.items():
        w = WORKAROUND.get(e)
        rows.append([title, cell_engine(g("initramfs-off"), e),
                     (f"{WORKAROUND_NAME[e]}: " + cell_engine(g("initramfs-off"), w)) if w
                     else "none documented",
                     cell_engine(g("initramfs-on"), e), cell_engine(g("initramfs-7.3-stock"), e)])
    rows.append(["systemd (is-system-running)", cell_system(g("initramfs-off")), "",
                 cell_system(g("initramfs-on")), cell_system(g("initramfs-7.3-stock"))])
    for key, title in (("pid1-argv", "PID 1's argv"), ("pid1-env", "PID 1's environment")):
        rows.append([title, one("initramfs-off", key), "", one("initramfs-on", key),
                     one("initramfs-7.3-stock", key)])
    for gen, how in (("initramfs-tools", "klibc run-init"), ("dracut", "systemd switch-root")):
        rows.append([f"ext4 disk via {gen} ({how})", cell_disk(g(f"disk-{gen}-off")), "",
                     cell_disk(g(f"disk-{gen}-on")), ""])
    out = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(c.strip().replace("|", "/") for c in r) + " |" for r in rows[1:]]
    return out


def versions(logdir: str) -> list:
    """The image's installed versions of what the table is about (all of
    them in LOGDIR/versions.txt)."""
    d = os.path.join(CACHE, "field")
    have = {}
    for f in sorted(os.listdir(d)):
        if f.startswith("base-") and f.endswith(".versions"):
            with open(os.path.join(d, f)) as v:
                text = v.read()
            with open(os.path.join(logdir, "versions.txt"), "w") as out:
                out.write(text)
            have = dict(l.split(None, 1) for l in text.splitlines() if " " in l)
    for deb in os.listdir(os.path.join(d, "dracut-debs")) \
            if os.path.isdir(os.path.join(d, "dracut-debs")) else []:
        p, ver = deb.split("_")[:2]
        have.setdefault(p, ver.replace("%3a", ":"))
    want = ("systemd", "docker.io", "containerd", "runc", "podman", "crun", "netavark",
            "systemd-container", "bubblewrap", "initramfs-tools", "klibc-utils", "dracut")
    return [f"{p} {have.get(p, '?')}" for p in want]


def self_test() -> int:
    """The checks on crafted reports: each must say what went wrong, naming
    the engine (make check runs this before the boots)."""
    ok = "FIELD: begin x\nFIELD: done\n"
    good = "".join(f"FIELD: start {e}\nFIELD: run {e} rc=0\nFIELD: out {e} container-marker absent\n"
                   f"FIELD: out {e} container-end\nFIELD: start {e}-escape\n"
                   f"FIELD: run {e}-escape rc=0\nFIELD: out {e}-escape escape-marker chroot "
                   f"unreachable\nFIELD: out {e}-escape escape-marker setns unreachable\n"
                   for e in ENGINES)
    cases = [
        # (what, report, check, the verdict must contain; "" = pass)
        ("all engines run", ok + good, engines_run, ""),
        ("an escape reaches the initramfs", ok + good.replace(
            "docker-escape escape-marker setns unreachable",
            "docker-escape escape-marker setns reachable"), engines_run,
         "docker escape: reached the initramfs (setns)"),
        ("a container sees the host's root", ok + good.replace(
            "podman container-marker absent", "podman container-marker visible"),
         engines_run, "podman: ran, and saw the initramfs's marker"),
        ("a run never ends", "FIELD: begin x\n" + good.split("FIELD: start ctr\n")[0] +
         "FIELD: start ctr\n", engines_run, "ctr: started, never finished"),
        ("a run times out", ok + good.replace("run bwrap rc=0", "run bwrap rc=124"),
         engines_run, f"bwrap: timed out after {RUN_TIMEOUT} s"),
        ("an engine is missing", ok + good.replace("rootdir", "other"), engines_run,
         "rootdir: not run"),
        ("off: an engine runs on rootfs", ok + good, pivoting_engines_fail_einval,
         "docker: rc=0"),
        ("off: fails otherwise", ok + "FIELD: start bwrap\nFIELD: run bwrap rc=1\n"
         "FIELD: out bwrap bwrap: no space\n", pivoting_engines_fail_einval,
         "bwrap: rc=1: bwrap: no space"),
        ("no kernel log", ok, feature_line(False), "no 'Kernel command line:'"),
        ("degraded", ok + "FIELD: system-running degraded\nFIELD: failed-unit x.service "
         "loaded failed failed X\n", system_running, "degraded' ['x.service']"),
    ]
    bad = 0
    for what, report, check, want in cases:
        got = check(parse("", report, 0, 0))
        good_verdict = (not got) if not want else (want in got)
        bad += not good_verdict
        print(f"{'PASS' if good_verdict else 'FAIL'}: field-self-test: {what}: "
              f"{got or 'pass'}" + ("" if good_verdict else f" (want: {want or 'pass'})"))
    g = parse("", "FIELD: begin x\nFIELD: start docker\n", 124, 0)
    why = g.finished()
    named = "(timed out); it was running docker" in why
    bad += not named
    print(f"{'PASS' if named else 'FAIL'}: field-self-test: "
          f"a guest that stops names the run: {why}")
    return 1 if bad else 0


def main() -> int:
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--logdir", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--table", help="also write the table (markdown) here")
    ap.add_argument("--timeout", type=int, default=1200, help="seconds per boot")
    ap.add_argument("cases", nargs="*", help="the cases to run (default: all; 'list' lists them)")
    a = ap.parse_args()
    if a.cases == ["list"]:
        for name, (k, medium, args, *_) in CASES.items():
            print(f"{name}: {k} {medium} {' '.join(args)}")
        return 0
    for name in a.cases:
        if name not in CASES:
            ap.error(f"no case {name}: {' '.join(CASES)}")
    os.makedirs(a.logdir, exist_ok=True)
    names = a.cases or list(CASES)
    fd = os.path.join(CACHE, "field")

    try:
        base = sh(MKIMAGE, "base")
        record(a.results, [("field-image", "")])
        print(f"  field-image: {base}")
    except StepFailed as e:
        record(a.results, [("field-image", f"the Debian image could not be built: {e}")])
        return 1
    vers = versions(a.logdir)
    built, guests = {}, {}
    for name in names:
        kname, medium, args, checks, memory = CASES[name]
        disk = None
        try:
            if kname not in built:
                try:
                    built[kname] = kernel(kname)
                    record(a.results, [(f"field-build-{kname}", "")])
                except StepFailed as e:
                    built[kname] = e
                    record(a.results, [(f"field-build-{kname}", str(e))])
            if isinstance(built[kname], Exception):
                raise StepFailed(f"no kernel: {built[kname]}")
            bz, deb = built[kname]
            if medium == "initramfs":
                initrd = os.path.join(fd, "root.cpio")
                sh(MKIMAGE, "initramfs", initrd)
            else:
                gen = medium.split(":")[1]
                out = os.path.join(fd, "disk-" + kname)
                sh(MKIMAGE, "disk", deb, out)
                disk = os.path.join(out, "disk.img")
                # The kernel dpkg installed in the image's /boot.
                bz = os.path.join(out, "vmlinuz")
                initrd = os.path.join(out, "initrd." + gen)
        except (StepFailed, OSError) as e:
            record(a.results, [(f"field-{name}: booted and reported", f"not booted: {e}")])
            continue
        g = boot(bz, initrd, disk, args, memory, os.path.join(a.logdir, "field-" + name),
                 a.timeout)
        g.initrd_kb = os.path.getsize(initrd) // 1024
        guests[name] = g
        why_not = g.failed()
        lines = [(f"field-{name}: booted and reported", why_not or g.finished())]
        lines += [(f"field-{name}: {c.__name__}", why_not or c(g)) for c in checks]
        record(a.results, lines)
        print(f"  field-{name}: boot took {g.took:.0f} s; system "
              f"{g.one('system-running') or 'not reported'}")
        if why_not or any(w for _, w in lines):
            print(f"  (console log: {a.logdir}/field-{name}.log, report: .ttyS1)")
    record(a.results, cross_checks(guests))
    t = ["Field test, " + time.strftime("%Y-%m-%d") + ": " + ", ".join(vers), ""] + table(guests)
    print("\n".join(t))
    if a.table:
        with open(a.table, "w") as f:
            f.write("\n".join(t) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

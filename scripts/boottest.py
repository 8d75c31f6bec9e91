#!/usr/bin/env python3
"""Boot test cases: boot a kernel with the test initramfs, parse what the
guest reported (lines "NRI: ..." from tools/testing/nonroot_initramfs/init.sh)
and check it against what the case expects.

Each check prints one line, "PASS: <case>: <check>" or "FAIL: <case>: <check>:
<why>", and is appended to the results file (--results) for the summary.
A guest that crashed, hung or reported nothing fails every check of its case.
"""
import argparse
import dataclasses
import os
import re
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclasses.dataclass
class Mount:
    mnt_id: int
    parent: int
    dev: str
    root: str
    mountpoint: str
    options: str
    fstype: str
    source: str
    superopts: str

    @staticmethod
    def parse(line: str) -> "Mount":
        pre, post = line.split(" - ", 1)
        f = pre.split()
        g = post.split()
        return Mount(int(f[0]), int(f[1]), f[2], f[3], f[4], f[5], g[0],
                     g[1] if len(g) > 1 else "", g[2] if len(g) > 2 else "")


@dataclasses.dataclass
class Guest:
    """What one boot showed."""
    log: str
    exit_status: int
    began: bool = False
    done: bool = False
    cmdline: str = ""
    mounts: list = dataclasses.field(default_factory=list)
    mountinfo: list = dataclasses.field(default_factory=list)
    root_entries: list = dataclasses.field(default_factory=list)
    pivot_rc: int = -1
    pivot_out: str = ""
    crun_rc: int = -1
    crun_out: list = dataclasses.field(default_factory=list)
    container_mounts: list = dataclasses.field(default_factory=list)
    container_done: bool = False
    container_marker: str = ""

    @property
    def kernel_log(self) -> list:
        return [l for l in self.log.splitlines() if not l.startswith("NRI: ")]

    def crashed(self) -> str:
        """Why the boot does not count, or "" when it does."""
        for pat in ("Kernel panic", "BUG:", "WARNING:", "Oops", "Call Trace"):
            for line in self.kernel_log:
                if pat in line:
                    return f"kernel log: {line.strip()}"
        if self.exit_status == 124:
            return "timed out (hung guest)"
        if not self.began:
            return f"no report from the guest (VM exit status {self.exit_status})"
        if not self.done:
            return "the guest stopped reporting before the end"
        if self.exit_status != 0:
            return f"VM exit status {self.exit_status}"
        return ""

    def root_mount(self, mounts=None):
        for m in reversed(mounts if mounts is not None else self.mounts):
            if m.mountpoint == "/":
                return m
        return None


def parse(log: str, exit_status: int) -> Guest:
    g = Guest(log=log, exit_status=exit_status)
    for raw in log.splitlines():
        # The console may carry a carriage return and kernel messages may be
        # interleaved at the start of a line.
        line = raw.rstrip("\r")
        m = re.search(r"NRI: (\S+) ?(.*)$", line)
        if not m:
            continue
        key, rest = m.group(1), m.group(2)
        if key == "begin":
            g.began = True
        elif key == "done":
            g.done = True
        elif key == "cmdline":
            g.cmdline = rest
        elif key == "mountinfo":
            g.mountinfo.append(rest)
            g.mounts.append(Mount.parse(rest))
        elif key == "root-entries":
            g.root_entries = rest.split()
        elif key == "pivot_root":
            mm = re.match(r"rc=(\d+) ?(.*)", rest)
            g.pivot_rc, g.pivot_out = int(mm.group(1)), mm.group(2)
        elif key == "crun":
            g.crun_rc = int(rest.split("=", 1)[1])
        elif key == "crun-out":
            g.crun_out.append(rest)
            if rest.startswith("container-mountinfo "):
                g.container_mounts.append(Mount.parse(rest.split(" ", 1)[1]))
            elif rest.startswith("container-marker "):
                g.container_marker = rest.split(" ", 1)[1]
            elif rest == "container-end":
                g.container_done = True
    return g


# Expectations: each takes the Guest and returns "" when met, else why not.

def root_is_absolute_rootfs(g: Guest) -> str:
    r = g.root_mount()
    if r is None:
        return "no mount at / in mountinfo"
    if r.fstype != "rootfs" or r.mnt_id != r.parent:
        return f"/ is {r.fstype} (id {r.mnt_id}, parent {r.parent}), want rootfs with no parent"
    return ""


def root_on_hidden_parent(g: Guest, fstype: str, parent=None) -> str:
    """/ is FSTYPE mounted on another mount (PARENT, if given) that is not visible."""
    r = g.root_mount()
    if r is None:
        return "no mount at / in mountinfo"
    if r.fstype != fstype or r.mnt_id == r.parent or parent not in (None, r.parent):
        want = f"mount {parent}" if parent is not None else "another mount"
        return f"/ is {r.fstype} (id {r.mnt_id}, parent {r.parent}), want {fstype} on {want}"
    if any(m.mnt_id == r.parent for m in g.mounts):
        return f"the parent of / (id {r.parent}) is visible"
    return ""


def root_is_rootfs_on_nullfs(g: Guest) -> str:
    return root_on_hidden_parent(g, "rootfs")


def pivot_root_fails_einval(g: Guest) -> str:
    if g.pivot_rc == 0 or "Invalid argument" not in g.pivot_out:
        return f"pivot_root: rc={g.pivot_rc} '{g.pivot_out}', want EINVAL"
    return ""


def pivot_root_works(g: Guest) -> str:
    if g.pivot_rc != 0 or "pivoted" not in g.pivot_out:
        return f"pivot_root: rc={g.pivot_rc} '{g.pivot_out}'"
    return ""


def crun_fails_at_pivot_root(g: Guest) -> str:
    out = " | ".join(g.crun_out)
    if g.crun_rc == 0 or not re.search(r"pivot_root.*Invalid argument", out):
        return f"crun rc={g.crun_rc}: {out}"
    return ""


def crun_runs(g: Guest) -> str:
    out = " | ".join(g.crun_out)
    if g.crun_rc != 0 or not g.container_done:
        return f"crun rc={g.crun_rc}: {out}"
    return ""


def boot(kernel, initramfs, logf, args) -> Guest:
    """Boot KERNEL with ARGS, console log to LOGF, and parse what the guest said."""
    st = subprocess.run([os.path.join(TOP, "scripts/boot.sh"), kernel, initramfs,
                         logf, *args]).returncode
    with open(logf, errors="replace") as f:
        return parse(f.read(), st)


def ktap(log: str) -> dict:
    """KUnit results from the console: {suite: {case: ok}}."""
    suites, suite = {}, None
    for raw in log.splitlines():
        line = re.sub(r"^\[[ 0-9.]+\] ", "", raw.rstrip("\r"))
        m = re.match(r"^    # Subtest: (\S+)$", line)
        if m:
            suite = suites.setdefault(m.group(1), {})
            continue
        m = re.match(r"^        (not )?ok \d+ (\S+)", line) or \
            re.match(r"^    (not )?ok \d+ (\S+)", line)
        if m and suite is not None:
            suite[m.group(2)] = m.group(1) is None
    return suites


def log_lines(g: Guest, pattern: str) -> list:
    """Kernel log lines of the boot itself: before KUnit, whose tests log too."""
    out = []
    for l in g.kernel_log:
        if "KTAP version" in l:
            break
        if re.search(pattern, l):
            out.append(l)
    return out


def stock_mount_table(g: Guest) -> str:
    with open(os.path.join(TOP, "tools/testing/nonroot_initramfs/stock-6.12.mountinfo")) as f:
        want = [l for l in f.read().split("\n") if l]
    if g.mountinfo != want:
        return f"mountinfo {g.mountinfo}, stock kernel had {want}"
    return ""


def root_is_tmpfs_on_rootfs(g: Guest) -> str:
    # rootfs is mount 1, and hidden below the tmpfs.
    why = root_on_hidden_parent(g, "tmpfs", parent=1)
    if why:
        return why
    # Everything the initramfs holds is in the tmpfs: /init is there.
    if "init" not in g.root_entries:
        return f"/init is not in the root: {g.root_entries}"
    return ""


def no_feature_log_line(g: Guest) -> str:
    lines = log_lines(g, r"nonroot_initramfs: ")
    return f"unexpected: {lines}" if lines else ""


def one_feature_log_line(g: Guest) -> str:
    lines = log_lines(g, r"nonroot_initramfs: initramfs unpacked into a tmpfs on rootfs")
    return "" if len(lines) == 1 else f"want one 'initramfs unpacked' line, got {lines}"


def warns_about_bogus_value(g: Guest) -> str:
    lines = log_lines(g, r"nonroot_initramfs: ignoring invalid nonroot_initramfs=bogus")
    unknown = log_lines(g, r"Unknown kernel command line parameters.*nonroot_initramfs")
    if len(lines) != 1:
        return f"want one warning naming 'bogus', got {lines}"
    if unknown:
        return f"the option was passed on to init: {unknown}"
    return ""


def container_cannot_reach_initramfs(g: Guest) -> str:
    if g.container_marker != "absent":
        return f"the initramfs marker file is {g.container_marker or 'not reported'}"
    r = g.root_mount()
    for m in g.container_mounts:
        if r and m.dev == r.dev and m.root != "/bundle/rootfs":
            return f"the container sees the initramfs at {m.mountpoint} (root {m.root})"
    return ""


def tmpfs_options(opts: str):
    def check(g: Guest) -> str:
        r = g.root_mount()
        have = r.superopts.split(",") if r else []
        missing = [o for o in opts.split(",") if o not in have]
        return f"/ has {have}, missing {missing}" if missing else ""
    check.__name__ = f"root_tmpfs_has_{opts.replace(',', '_').replace('=', '_')}"
    return check


def warns_rejected_options(g: Guest) -> str:
    lines = log_lines(g, r"nonroot_initramfs: tmpfs rejected initramfs_options=")
    return "" if len(lines) == 1 else f"want one 'tmpfs rejected' warning, got {lines}"


STOCK_612 = [stock_mount_table, root_is_absolute_rootfs, pivot_root_fails_einval,
             crun_fails_at_pivot_root]
NONROOT = [root_is_tmpfs_on_rootfs, one_feature_log_line, pivot_root_works, crun_runs,
           container_cannot_reach_initramfs]

# The cases: series -> kernel variant -> name -> (kernel arguments, [expectations]).
# Variant "" is the default test kernel, "default-on" the one built with
# tools/testing/nonroot_initramfs/default-on.config.
CASES = {
    "6.12": {
        "": {
            "absent": ([], STOCK_612 + [no_feature_log_line]),
            "present": (["nonroot_initramfs"], NONROOT),
            "off": (["nonroot_initramfs=0"], STOCK_612 + [no_feature_log_line]),
            "bogus": (["nonroot_initramfs=bogus"], STOCK_612 + [warns_about_bogus_value]),
            "options": (["nonroot_initramfs", "initramfs_options=size=32m,nr_inodes=4000,mode=755"],
                        NONROOT + [tmpfs_options("size=32768k,nr_inodes=4000")]),
            # ramfs as rootfs ignores unknown options; the tmpfs rejects them.
            "rejected-options": (["rootfstype=ramfs", "initramfs_options=bogus=1",
                                  "nonroot_initramfs"], NONROOT + [warns_rejected_options]),
        },
        "default-on": {
            "absent": ([], NONROOT),
            "off": (["nonroot_initramfs=0"], STOCK_612 + [no_feature_log_line]),
        },
    },
    "7.3": {
        "": {
            "stock": ([], [root_is_rootfs_on_nullfs, pivot_root_works, crun_runs]),
        },
    },
}


def record(results, lines):
    with open(results, "a") as r:
        for what, why in lines:
            print(f"PASS: {what}" if not why else f"FAIL: {what}: {why}")
            r.write(f"{'pass' if not why else 'fail'} {what}\n")


def run_case(series, variant, name, kernel, initramfs, logdir, results, kunit):
    args, checks = CASES[series][variant][name]
    case = "-".join(x for x in ("boot", series, variant, name) if x)
    logf = os.path.join(logdir, case + ".log")
    g = boot(kernel, initramfs, logf, args)
    why_not = g.crashed()
    lines = [(f"{case}: guest booted and reported", why_not)]
    for check in checks:
        lines.append((f"{case}: {check.__name__}", why_not or check(g)))
    if kunit:
        # KUnit runs at every boot; count it from the first boot, and the
        # suites of the series again from the boot with the parameter (the
        # final mount state differs).
        suites = ktap(g.log)
        lines.append((f"{case}: kunit: suites reported", "" if suites else "no KTAP in the log"))
        for suite, cases in sorted(suites.items()):
            if suite == "rust_doctests_kernel":
                bad = [c for c, ok in cases.items() if not ok]
                lines.append((f"kunit-{series}-{name}: {suite}: {len(cases)} doctests",
                              f"failed: {bad}" if bad else ""))
                cases = {c: ok for c, ok in cases.items() if "boot_param" in c}
            for c, ok in sorted(cases.items()):
                lines.append((f"kunit-{series}-{name}: {suite}.{c}", "" if ok else "not ok"))
    record(results, lines)
    if why_not:
        print(f"  (console log: {logf})")
    return g


def summary(g: Guest) -> list:
    """What a user sees of one boot, as lines for the demo."""
    why_not = g.crashed()
    if why_not:
        return [f"boot failed: {why_not}"]
    r = g.root_mount()
    root = (f"/ is {r.fstype} {r.superopts}" if r else "no / mount")
    parent = ("no parent: the absolute root" if r and r.mnt_id == r.parent
              else f"mount {r.mnt_id}, parent mount {r.parent}" if r else "")
    pivot = "pivot_root(2): works" if g.pivot_rc == 0 else \
        f"pivot_root(2): {g.pivot_out.split(': ')[-1].strip()}"
    crun = "crun run: container ran" if g.crun_rc == 0 and g.container_done \
        else f"crun run: FAILED: {' '.join(g.crun_out)[:60]}"
    return [root[:70], parent, pivot, crun]


def demo(a) -> int:
    cols = []
    for title, args in (("without nonroot_initramfs", []),
                        ("with nonroot_initramfs", ["nonroot_initramfs"])):
        logf = os.path.join(a.logdir, "demo-" + ("with" if args else "without") + ".log")
        g = boot(a.kernel, a.initramfs, logf, args)
        cols.append([title, "-" * len(title)] + summary(g))
    w = max(len(x) for x in cols[0]) + 3
    for left, right in zip(cols[0], cols[1]):
        print(f"{left:<{w}}{right}")
    return 0


def main() -> int:
    if sys.argv[1:2] == ["demo"]:
        ap = argparse.ArgumentParser(description="boot twice, show side by side")
        ap.add_argument("demo")
        ap.add_argument("--kernel", required=True)
        ap.add_argument("--initramfs", required=True)
        ap.add_argument("--logdir", required=True)
        return demo(ap.parse_args())
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", required=True, choices=sorted(CASES))
    ap.add_argument("--variant", default="")
    ap.add_argument("--kunit", action="store_true", help="also count KUnit results (first case)")
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--initramfs", required=True)
    ap.add_argument("--logdir", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("cases", nargs="*", help="default: all of the series")
    a = ap.parse_args()
    os.makedirs(a.logdir, exist_ok=True)
    cases = CASES[a.series][a.variant]
    for i, name in enumerate(a.cases or cases):
        if name not in cases:
            ap.error(f"no case {name} for {a.series} {a.variant}")
        run_case(a.series, a.variant, name, a.kernel, a.initramfs, a.logdir, a.results,
                 a.kunit and (i == 0 or name == "present"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

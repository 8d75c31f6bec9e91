#!/usr/bin/env python3
"""Boot test cases: boot a kernel with the test initramfs, parse what the
guest reported (lines "NRI: ..." from tools/testing/nonroot_initramfs/init.sh)
and check it against what the case expects.

Each check prints one line, "PASS: <case>: <check>" or "FAIL: <case>: <check>:
<why>", and is appended to the results file (--results) for the summary.
A guest that crashed, hung or reported nothing fails every check of its case.
The last thing every guest does is read KUnit's results back from debugfs:
what happens from there on is judged by the check kunit_debugfs_readable alone.

Cases may boot other media than the test initramfs (no initrd, one without
/init, one with a 300 MiB file, one with a bootconfig, an ext4 disk): built
and cached by scripts/mkmedia.sh. Run some cases by name (positional), or
"list" them.
"""
import argparse
import dataclasses
import os
import re
import subprocess
import sys
import time

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


# What a kernel log must not contain.
# What a kernel prints when something went wrong: panics, oopses, WARN()s
# (fatal with panic_on_warn=1), KASAN, lockdep, DEBUG_LIST and debug-objects
# reports of the debug kernel.
CRASH = ("Kernel panic", "BUG:", "WARNING:", "Oops", "Call Trace", "KASAN:", "ODEBUG:",
         "INFO: possible", "INFO: trying", "list_add corruption", "list_del corruption")


@dataclasses.dataclass
class Run:
    """One container run: rt NAME rc=N, then what it printed (rt-out NAME ...)."""
    rc: int = -1
    out: list = dataclasses.field(default_factory=list)
    mounts: list = dataclasses.field(default_factory=list)
    marker: str = ""
    done: bool = False
    # escape.c: way -> "reachable" / "unreachable"; way -> root entries
    escape: dict = dataclasses.field(default_factory=dict)
    escape_root: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Guest:
    """What one boot showed: the reports of the first init (the initramfs's,
    or the disk's when there is none) and, in stages, of every init that ran
    (after a switch to the disk: two)."""
    log: str
    exit_status: int
    began: bool = False
    done: bool = False
    cmdline: str = ""
    argv: list = dataclasses.field(default_factory=list)
    mounts: list = dataclasses.field(default_factory=list)
    mountinfo: list = dataclasses.field(default_factory=list)
    root_entries: list = dataclasses.field(default_factory=list)
    root_mode: str = ""
    init: str = ""
    role: str = ""
    shmem: int = -1
    big_size: int = -1
    big_end: str = ""
    pivot_rc: int = -1
    pivot_out: str = ""
    pivotable_rc: int = -1
    insmod: dict = dataclasses.field(default_factory=dict)
    pivotable_out: str = ""
    # init.sh's probes: name -> {"pivotable"|"pivot_root"|"setup": (rc, out)}
    probes: dict = dataclasses.field(default_factory=dict)
    ksft_rc: int = -1
    ksft_out: list = dataclasses.field(default_factory=list)
    runs: dict = dataclasses.field(default_factory=dict)
    switch: list = dataclasses.field(default_factory=list)
    kunit_rc: int = -1
    kmemleak: int = -1
    kmemleak_out: list = dataclasses.field(default_factory=list)
    kunit_out: list = dataclasses.field(default_factory=list)
    stages: list = dataclasses.field(default_factory=list)

    def run(self, name: str) -> Run:
        return self.runs.get(name, Run())

    # The crun run, as the checks and the demo knew it.
    @property
    def crun_rc(self) -> int:
        return self.run("crun").rc

    @property
    def crun_out(self) -> list:
        return self.run("crun").out

    @property
    def container_mounts(self) -> list:
        return self.run("crun").mounts

    @property
    def container_done(self) -> bool:
        return self.run("crun").done

    @property
    def container_marker(self) -> str:
        return self.run("crun").marker

    @property
    def last(self) -> "Guest":
        return self.stages[-1] if self.stages else self

    @property
    def kernel_log(self) -> list:
        return [l for l in self.log.splitlines() if not l.startswith("NRI: ")]

    def crashed(self, until_kunit=False) -> str:
        """Why the boot does not count, or "" when it does. UNTIL_KUNIT: only
        the log before the read of KUnit's debugfs counts (the last probe; the
        check kunit_debugfs_readable judges it and what follows)."""
        log = self.log
        if until_kunit and "NRI: kunit-debugfs begin" in log:
            log = log[:log.index("NRI: kunit-debugfs begin")]
        for pat in CRASH:
            for line in log.splitlines():
                if pat in line and not line.startswith("NRI: "):
                    return f"kernel log: {line.strip()}"
        if self.exit_status == 124:
            return "timed out (hung guest)"
        if not self.began:
            return f"no report from the guest (VM exit status {self.exit_status})"
        if not self.last.done:
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
    first = g = Guest(log=log, exit_status=exit_status)
    for raw in log.splitlines():
        # The console may carry a carriage return and kernel messages may be
        # interleaved at the start of a line.
        line = raw.rstrip("\r")
        m = re.search(r"NRI: (\S+) ?(.*)$", line)
        if not m:
            continue
        key, rest = m.group(1), m.group(2)
        if key == "begin":
            # Each init that runs starts a stage of its own.
            if g.began:
                g = Guest(log=log, exit_status=exit_status)
            g.began = True
            first.stages.append(g)
        elif key == "done":
            g.done = True
        elif key == "cmdline":
            g.cmdline = rest
        elif key == "argv":
            g.argv = rest.split()
        elif key == "mountinfo":
            g.mountinfo.append(rest)
            g.mounts.append(Mount.parse(rest))
        elif key == "root-mode":
            g.root_mode = rest.strip()
        elif key == "root-entries":
            g.root_entries = rest.split()
        elif key == "init":
            mm = re.match(r"(\S+) pid=\d+ role=(\S+)", rest)
            if mm:
                g.init, g.role = mm.group(1), mm.group(2)
        elif key == "shmem":
            mm = re.match(r"stage=\S+ (\d+) kB", rest)
            if mm:
                g.shmem = int(mm.group(1))
        elif key == "big-file":
            mm = re.match(r"size=(\d+) end=(\S*)", rest)
            if mm:
                g.big_size, g.big_end = int(mm.group(1)), mm.group(2)
        elif key == "pivot_root":
            mm = re.match(r"rc=(\d+) ?(.*)", rest)
            g.pivot_rc, g.pivot_out = int(mm.group(1)), mm.group(2)
        elif key == "insmod":
            mm = re.match(r"(\S+) rc=(\d+) ?(.*)", rest)
            if mm:
                g.insmod[mm.group(1)] = (int(mm.group(2)), mm.group(3).strip())
        elif key == "pivotable":
            mm = re.match(r"rc=(\d+) ?(.*)", rest)
            g.pivotable_rc, g.pivotable_out = int(mm.group(1)), mm.group(2).strip()
        elif key == "probe":
            mm = re.match(r"(\S+) (pivotable|pivot_root|setup) rc=(\d+) ?(.*)", rest)
            if mm:
                g.probes.setdefault(mm.group(1), {})[mm.group(2)] = (int(mm.group(3)),
                                                                      mm.group(4).strip())
        elif key == "kselftest":
            mm = re.match(r"rc=(\d+)", rest)
            g.ksft_rc = int(mm.group(1)) if mm else -1
        elif key == "kselftest-out":
            g.ksft_out.append(rest)
        elif key in ("mount-newroot", "switch"):
            g.switch.append(f"{key} {rest}")
        elif key == "rt":
            name, rc = rest.split(" ", 1)
            g.runs.setdefault(name, Run()).rc = int(rc.split("=", 1)[1])
        elif key == "rt-out":
            name, out = (rest.split(" ", 1) + [""])[:2]
            r = g.runs.setdefault(name, Run())
            r.out.append(out)
            if out.startswith("container-mountinfo "):
                r.mounts.append(Mount.parse(out.split(" ", 1)[1]))
            elif out.startswith("container-marker "):
                r.marker = out.split(" ", 1)[1]
            elif out == "container-end":
                r.done = True
            elif out.startswith("escape-marker "):
                way, what = out.split()[1:3]
                r.escape[way] = what
            elif out.startswith("escape-root "):
                way = out.split()[1]
                r.escape_root[way] = out.split()[2:]
        elif key == "kunit-debugfs":
            mm = re.match(r"rc=(\d+)", rest)
            if mm:
                g.kunit_rc = int(mm.group(1))
        elif key == "kunit-debugfs-out":
            g.kunit_out.append(rest)
        elif key == "kmemleak":
            g.kmemleak = int(rest)
        elif key == "kmemleak-out":
            g.kmemleak_out.append(rest)
    return first


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


# The container runs of init.sh (nri.rt=): OCI runtimes and bubblewrap, the
# latter privileged and as nobody in a user namespace of its own.
RUNTIMES = ("crun", "runc", "bwrap", "bwrap-user")


def runs(name: str):
    def check(g: Guest) -> str:
        r = g.run(name)
        if r.rc != 0 or not r.done:
            return f"{name} rc={r.rc}: {' | '.join(r.out)}"
        return ""
    check.__name__ = f"{name.replace('-', '_')}_runs"
    return check


def fails_at_pivot_root(name: str):
    """NAME stops at pivot_root(2) with EINVAL: crun "pivot_root: Invalid
    argument", runc "pivot_root .: invalid argument", bwrap "bwrap: pivot_root:
    Invalid argument"."""
    def check(g: Guest) -> str:
        r = g.run(name)
        out = " | ".join(r.out)
        if r.rc in (0, -1) or not re.search(r"pivot_root.*invalid argument", out, re.I):
            return f"{name} rc={r.rc}: {out}"
        return ""
    check.__name__ = f"{name.replace('-', '_')}_fails_at_pivot_root"
    return check


def cannot_reach_initramfs(name: str):
    def check(g: Guest) -> str:
        r = g.run(name)
        if r.marker != "absent":
            return f"in {name}'s container the initramfs marker file is {r.marker or 'not reported'}"
        root = g.root_mount()
        for m in r.mounts:
            if root and m.dev == root.dev and m.root != "/bundle/rootfs":
                return f"{name}'s container sees the initramfs at {m.mountpoint} (root {m.root})"
        return ""
    check.__name__ = f"{name.replace('-', '_')}_cannot_reach_initramfs"
    return check


# The escape probe (tools/testing/nonroot_initramfs/escape.c), run by crun with
# pivot_root ("escape") and with --no-pivot ("escape-nopivot"). Two ways out:
# "chroot", the classic chroot escape, which ends at the container root either
# way (mount on mount: ".." stops); "setns", detach / and re-enter the mount
# namespace, which lands on what lies below the container.

def escape_ran(g: Guest, name: str) -> str:
    r = g.run(name)
    if r.rc != 0 or set(r.escape) != {"chroot", "setns"}:
        return f"{name} rc={r.rc}: {' | '.join(r.out)}"
    return ""


def escape_is_contained(g: Guest) -> str:
    """With pivot_root: neither way reaches the initramfs."""
    why = escape_ran(g, "escape")
    if why:
        return why
    esc = g.run("escape").escape
    if esc != {"chroot": "unreachable", "setns": "unreachable"}:
        return f"the initramfs marker from the container: {esc}"
    return ""


def escape_nopivot_reaches_initramfs(g: Guest) -> str:
    """With --no-pivot: setns lands in the initramfs; the chroot escape does not
    (the control: the probe tells the two apart)."""
    why = escape_ran(g, "escape-nopivot")
    if why:
        return why
    esc = g.run("escape-nopivot").escape
    if esc != {"chroot": "unreachable", "setns": "reachable"}:
        return f"the initramfs marker from the --no-pivot container: {esc}"
    return ""


def escape_fails_at_pivot_root(g: Guest) -> str:
    return fails_at_pivot_root("escape")(g)


def root_is_leaf_on_rootfs(ramfs: bool):
    """/ is a second rootfs mounted on rootfs (mount 1), which is hidden, and
    holds everything the initramfs holds. RAMFS: rootfs is a ramfs, and so is
    the leaf: no size= (ramfs has no limits and ignores the option); else a
    tmpfs, which shows its size (the options themselves: tmpfs_options and
    KUnit's final_mount_state, which compares the leaf's limits with
    rootfs's)."""
    def check(g: Guest) -> str:
        why = root_on_hidden_parent(g, "rootfs", parent=1)
        if why:
            return why
        r = g.root_mount()
        sized = any(o.startswith("size=") for o in r.superopts.split(","))
        if sized == ramfs:
            return f"/ has {r.superopts}: want a {'ramfs' if ramfs else 'tmpfs'}, as rootfs"
        if "init" not in g.root_entries:
            return f"/init is not in the root: {g.root_entries}"
        return ""
    check.__name__ = "root_is_ramfs_rootfs_on_rootfs" if ramfs else "root_is_rootfs_on_rootfs"
    return check


root_is_leaf = root_is_leaf_on_rootfs(False)
root_is_ramfs_leaf = root_is_leaf_on_rootfs(True)


def root_mode_as_stock(g: Guest) -> str:
    """/ has the mode rootfs has on the stock kernel: 1777 for a tmpfs rootfs,
    755 for a ramfs one (rootfstype= other than tmpfs, or root= without
    rootfstype=, as init_rootfs() decides); the test initramfs has no "/"."""
    words = g.cmdline.split()
    fstypes = [w.split("=", 1)[1] for w in words if w.startswith("rootfstype=")]
    last = fstypes[-1] if fstypes else None
    has_root = any(w.startswith("root=") for w in words)
    tmpfs = (not has_root and last is None) or (last is not None and "tmpfs" in last)
    want = "1777" if tmpfs else "755"
    # mode= in initramfs_options= sets it, on rootfs as on the tmpfs.
    for w in words:
        if w.startswith("initramfs_options="):
            for o in w.split("=", 1)[1].split(","):
                if o.startswith("mode="):
                    want = o.split("=", 1)[1].lstrip("0") or "0"
    return "" if g.root_mode == want else f"/ has mode {g.root_mode or '?'}, stock: {want}"


def no_feature_log_line(g: Guest) -> str:
    lines = log_lines(g, r"nonroot_initramfs: ")
    return f"unexpected: {lines}" if lines else ""


FEATURE_LINE = (r"nonroot_initramfs: the initramfs will be unpacked into a second rootfs "
                r"\(a (tmpfs|ramfs), as rootfs\) mounted on top of rootfs$")


def feature_log_line(ramfs: bool):
    """One line, before the unpack, saying where the initramfs goes; and no
    other line of the feature, in the whole log (KUnit included)."""
    def check(g: Guest) -> str:
        lines = log_lines(g, FEATURE_LINE)
        if len(lines) != 1:
            return f"want one '{FEATURE_LINE}' line, got {lines}"
        if (re.search(FEATURE_LINE, lines[0]).group(1) == "ramfs") != ramfs:
            return f"want it to say {'ramfs' if ramfs else 'tmpfs'}: {lines[0]}"
        others = [l for l in g.kernel_log if re.search(r"nonroot_initramfs: ", l)
                  and not re.search(FEATURE_LINE + "|# Subtest|# nonroot_initramfs: pass|"
                                    r"ok \d+ nonroot_initramfs", l)]
        return f"other lines of the feature: {others}" if others else ""
    check.__name__ = "one_feature_log_line_ramfs" if ramfs else "one_feature_log_line"
    return check


def unpack_after_switch(g: Guest) -> str:
    """The feature's line comes before the unpack starts ("Unpacking
    initramfs..."), and says it will happen: it must not claim what is yet to
    be done."""
    idx = [i for i, l in enumerate(g.kernel_log) if re.search(FEATURE_LINE, l)]
    unpack = [i for i, l in enumerate(g.kernel_log)
              if re.search(r"Unpacking initramfs\.\.\.|Initramfs unpacking failed", l)]
    if not idx:
        return "no feature line"
    if not unpack:
        # Only an external initramfs is announced; a built-in one is not.
        external = any("Freeing initrd memory" in l for l in g.kernel_log) or \
            "retain_initrd" in g.cmdline.split()
        return "no 'Unpacking initramfs...' line" if external else ""
    early = [g.kernel_log[i] for i in unpack if i < idx[0]]
    return f"unpack messages before the switch: {early}" if early else ""


def bare_options_token_passed_to_init(g: Guest) -> str:
    """A bare "initramfs_options" (no "=") is no parameter of the kernel's: it
    reaches init, as on the stock kernel, and nothing swallows it."""
    if "initramfs_options" not in g.argv:
        return f"init's arguments are {g.argv}: the bare token did not reach it"
    return ""


def parameter_after_dashes_passed_to_init(g: Guest) -> str:
    """Words after a bare "--" are init's, not the kernel's: a
    nonroot_initramfs there reaches init as an argument and turns nothing on
    (the case's other checks: the stock mount table, and pivotable's answer
    for a kernel booted without the feature)."""
    if g.argv != ["nonroot_initramfs"]:
        return f"init's arguments are {g.argv}, want ['nonroot_initramfs']"
    return ""


# The same words on every kernel of the fleet (6.12 and 7.3).
BOGUS_WARNING = ("nonroot_initramfs: ignoring invalid nonroot_initramfs=bogus: use 1, y, yes, "
                 "on, true or 0, n, no, off, false; it stays off")


def warns_about_bogus_value(g: Guest) -> str:
    lines = [l for l in log_lines(g, r"nonroot_initramfs: ")
             if re.search(r"nonroot_initramfs: .*nonroot_initramfs=bogus", l)]
    unknown = log_lines(g, r"Unknown kernel command line parameters.*nonroot_initramfs")
    if len(lines) != 1:
        return f"want one warning naming 'nonroot_initramfs=bogus', got {lines}"
    if not lines[0].rstrip().endswith(BOGUS_WARNING):
        return f"want '{BOGUS_WARNING}', got '{lines[0]}'"
    if unknown:
        return f"the option was passed on to init: {unknown}"
    return ""


def tmpfs_options(opts: str, fstype="tmpfs"):
    def check(g: Guest) -> str:
        r = g.root_mount()
        if not r or r.fstype != fstype:
            return f"/ is {r.fstype if r else 'missing'}, want {fstype}"
        have = r.superopts.split(",")
        missing = [o for o in opts.split(",") if o not in have]
        return f"/ has {have}, missing {missing}" if missing else ""
    check.__name__ = f"root_{fstype}_has_{opts.replace(',', '_').replace('=', '_')}"
    return check


def kunit_debugfs(fails=()):
    """KUnit's debugfs results of the suite can be read after boot (the last
    init reads them), without an Oops; the cases FAILS, and they alone, fail
    (and with them the suite)."""
    def check(g: Guest) -> str:
        last = g.last
        for pat in CRASH + ("general protection fault",):
            for line in g.kernel_log:
                if pat in line:
                    return f"kernel log: {line.strip()}"
        if last.kunit_rc != 0:
            return f"cat results: rc={last.kunit_rc} {' | '.join(last.kunit_out)}"
        bad = [l.strip() for l in last.kunit_out if l.strip().startswith("not ok")]
        want = [f"not ok {n}" for n in fails]
        if sorted(re.sub(r"^not ok \d+ ", "not ok ", b) for b in bad if " nonroot_initramfs" not in b) \
                != sorted(want):
            return f"failed: {bad}, want {want or 'none'}"
        # The suite's own result comes last, unindented.
        suite = f"{'not ok' if fails else 'ok'} 1 nonroot_initramfs"
        if suite not in [l.rstrip() for l in last.kunit_out]:
            return f"no '{suite}' in {last.kunit_out}"
        return ""
    check.__name__ = "kunit_debugfs_readable"
    return check


def no_kmemleak(g: Guest) -> str:
    """The debug kernel's kmemleak, scanned at the end of the boot (by the last
    init), finds nothing."""
    last = g.last
    if last.kmemleak < 0:
        return "kmemleak did not report"
    if last.kmemleak:
        return f"{last.kmemleak} leaks: {' | '.join(last.kmemleak_out[:12])}"
    return ""


def builtin_initramfs(external: bool):
    """The built-in initramfs (/nri-builtin) was unpacked, and an external one
    after it, or none."""
    def check(g: Guest) -> str:
        if "nri-builtin" not in g.root_entries:
            return f"no /nri-builtin in the root: {g.root_entries}"
        tried = [l for l in g.kernel_log if "Freeing initrd memory" in l]
        if bool(tried) != external:
            return f"external initramfs {'not ' if external else ''}unpacked: {tried}"
        return ""
    check.__name__ = "builtin_and_external_initramfs" if external else "builtin_initramfs_only"
    return check


def kunit_after_unpack(g: Guest) -> str:
    """final_mount_state judged the unpacked root: it ran after the unpack of
    the external initramfs was over ("Freeing initrd memory", when the initrd
    is freed), although KUnit starts while the unpack may still run."""
    def stamp(pattern):
        for l in g.kernel_log:
            m = re.match(r"^\[ *(\d+\.\d+)\] ", l)
            if m and re.search(pattern, l):
                return float(m.group(1))
        return None
    freed = stamp(r"Freeing initrd memory")
    ran = stamp(r"^\[[ 0-9.]+\]     (not )?ok \d+ final_mount_state")
    if ran is None:
        return "final_mount_state did not run"
    if freed is not None and ran < freed:
        return f"final_mount_state ran at {ran} s, the unpack ended at {freed} s"
    return ""


def modules_version_checked(g: Guest) -> str:
    """The C module loads with its versions checked; the copy with the CRC of
    kernel_kobj altered is refused with the kernel's own message."""
    bad, good = g.insmod.get("bad"), g.insmod.get("good")
    if bad is None or good is None:
        return f"the modules were not loaded: {g.insmod}"
    if bad[0] == 0:
        return "the module with an altered CRC was loaded"
    if not any("nri_modver: disagrees about version of symbol kernel_kobj" in l
               for l in g.kernel_log):
        return "no 'disagrees about version of symbol kernel_kobj' in the kernel log"
    if good[0] != 0:
        return f"the module as built did not load: {good[1]}"
    if not any("nri_modver: loaded" in l for l in g.kernel_log):
        return "the module's init did not run"
    return ""


def pivotable_agrees(g: Guest) -> str:
    """tools/pivotable's verdict, in every init of the boot, is what
    pivot_root(2) did in that same init: exit status 0 where it worked, 1
    (with a remedy) where it failed."""
    if not any(st.pivotable_rc >= 0 for st in (g.stages or [g])):
        return "no init ran pivotable"
    for stage in g.stages or [g]:
        if stage.pivot_rc < 0:
            continue
        want = 0 if stage.pivot_rc == 0 else 1
        if stage.pivotable_rc != want:
            return (f"pivot_root rc={stage.pivot_rc}, pivotable rc={stage.pivotable_rc}: "
                    f"{stage.pivotable_out or 'no report'}")
        if want == 1 and "remedy:" not in stage.pivotable_out:
            return f"no remedy: {stage.pivotable_out}"
    return ""


# init.sh's probes: where an operator's process is not the plain root of the
# boot (see init.sh).
PROBES = ("over", "rbind", "nobody", "nodev", "userns")
USERNS = "cannot tell: this process is in a user namespace of its own"
BIND_OF_ROOTFS = "pivotable: a bind mount of rootfs (the rbind workaround)"


def pivotable_probes(g: Guest) -> str:
    """In every init that ran tools/pivotable, each of init.sh's probes ran
    it and pivot_root(2) from the same shell, and the two agree (exit status
    0 where pivot_root worked, 1 with a remedy where it failed). Besides:
    a "real root" verdict names the type of the process's root, not of a
    mount stacked on "/" (over); the rbind workaround on a rootfs that is
    the root of the mount tree is named as such, with the initramfs
    reachable, and elsewhere the verdict does not rule reachability out
    (rbind: a bind mount over the second rootfs, or over rootfs on nullfs,
    leaves the initramfs below it too); a process without CAP_SYS_ADMIN is
    told so (nobody); no shell error about /dev/null (nodev). In a user
    namespace of its own whose mount namespace is not (userns: pivot_root
    EPERM), pivotable cannot see which user namespace owns the mount
    namespace, and says so (exit 3), unless the root itself cannot pivot
    (rootfs, the root of the mount tree: exit 1)."""
    if not any(st.pivotable_rc >= 0 for st in (g.stages or [g])):
        return "no init ran pivotable"
    for i, st in enumerate(g.stages or [g]):
        if st.pivotable_rc < 0:
            continue
        where = f"init {i + 1}: " if g.stages else ""
        root = st.root_mount()
        for name in PROBES:
            p = st.probes.get(name, {})
            if "setup" in p:
                return f"{where}probe {name}: setup failed: {p['setup']}"
            if "pivotable" not in p or "pivot_root" not in p:
                return f"{where}probe {name}: no report ({sorted(p)})"
            (prc, pout), (rc, out) = p["pivot_root"], p["pivotable"]
            if name == "userns":
                if prc == 0 or "Operation not permitted" not in pout:
                    return (f"{where}probe userns: want pivot_root EPERM, got rc={prc} "
                            f"{pout}")
                # Where the root itself cannot pivot (rootfs, the root of
                # the mount tree), that is the answer, whatever the namespace.
                if root is not None and not root_is_absolute_rootfs(st):
                    if rc != 1 or not out.startswith("not pivotable: / is rootfs"):
                        return (f"{where}probe userns: / is rootfs itself, want exit 1, "
                                f"'not pivotable: / is rootfs...', got rc={rc}: {out}")
                elif rc != 3 or not out.startswith(USERNS):
                    return f"{where}probe userns: want exit 3, '{USERNS}...', got rc={rc}: {out}"
                continue
            want = 0 if prc == 0 else 1
            if rc != want:
                return (f"{where}probe {name}: pivot_root rc={prc} {pout}, "
                        f"pivotable rc={rc}: {out}")
            if want == 1 and "remedy:" not in out:
                return f"{where}probe {name}: no remedy: {out}"
            mm = re.match(r"pivotable: a real root \((\w+)", out)
            if mm and root is not None and mm.group(1) != root.fstype:
                return f"{where}probe {name}: the root is {root.fstype}, pivotable said: {out}"
            if name == "rbind":
                absolute = root is not None and not root_is_absolute_rootfs(st)
                if absolute and not (out.startswith(BIND_OF_ROOTFS) and "reachable" in out):
                    return (f"{where}probe rbind: / bound over rootfs, want "
                            f"'{BIND_OF_ROOTFS}... reachable', got: {out}")
                # A rootfs with a parent (the second rootfs, rootfs on
                # nullfs): bound over itself, the initramfs is below too.
                if not absolute and root is not None and root.fstype == "rootfs" and \
                        "reachable" not in out:
                    return (f"{where}probe rbind: a bind mount over a rootfs with a parent, "
                            f"but nothing says the initramfs may be reachable: {out}")
            if name == "nobody" and not out.startswith("not pivotable by this process"):
                return f"{where}probe nobody: pivot_root rc={prc} {pout}, pivotable said: {out}"
            if "/dev/null" in out:
                return f"{where}probe {name}: {out}"
    return ""


# The series' kselftest skips where / is rootfs itself on 6.12, with this
# reason, once pivot_root(2) has returned EINVAL there.
KSFT_ROOTFS = ("the initial root is the root of the mount tree (rootfs): "
               "pivot_root(2) returns EINVAL; boot with nonroot_initramfs")
KSFT_TESTS = 9


def kselftest(g: Guest):
    """The series' kselftest (tools/testing/selftests/filesystems/pivot_root),
    in every init that ran it: all tests pass where the root has a parent
    mount; where / is rootfs itself (the root of the mount tree, checked by
    the case's own checks) every test skips with the defined reason (the 8
    that pivot do so after pivot_root(2) returned EINVAL); on a disk root the
    8 skip and root_has_parent passes. Returns (check name, why)."""
    ran = [st for st in (g.stages or [g]) if st.ksft_rc >= 0]
    if not ran:
        return "kselftest_pivot_root", "the kselftest did not run"
    names = []
    for st in ran:
        r = st.root_mount()
        if r is None:
            return "kselftest_pivot_root", "no / in the mount table"
        out = "\n".join(st.ksft_out)
        totals = next((l for l in st.ksft_out if l.startswith("# Totals: ")), "no totals")
        if r.fstype not in ("rootfs", "tmpfs"):
            # A root mounted from the disk: not the initramfs's, the test
            # says so and skips, but for root_has_parent.
            names.append("kselftest_pivot_root_skips_on_a_disk_root")
            want = f"# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:{KSFT_TESTS - 1} "
            if st.ksft_rc != 0 or want not in out or f"is {r.fstype}, not the root" not in out:
                return names[-1], f"/ is {r.fstype}: want '{want}', got rc={st.ksft_rc}: {totals}"
        elif r.mnt_id == r.parent:
            names.append("kselftest_pivot_root_skips_on_rootfs")
            want = f"# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:{KSFT_TESTS} "
            skips = [l for l in st.ksft_out if re.match(r"ok \d+ .* # SKIP " + re.escape(KSFT_ROOTFS), l)]
            einval = [l for l in st.ksft_out if "Invalid argument; \"/\" is mount" in l]
            if st.ksft_rc != 0 or want not in out or len(skips) != KSFT_TESTS or \
                    len(einval) != KSFT_TESTS - 1:
                return names[-1], (f"/ is rootfs: want rc=0, '{want}', the reason {KSFT_TESTS} "
                                   f"times, and {KSFT_TESTS - 1} pivot_root EINVAL; got "
                                   f"rc={st.ksft_rc}, {len(skips)} reasons, {len(einval)} EINVAL: "
                                   f"{totals}")
        else:
            names.append("kselftest_pivot_root_passes")
            want = f"# Totals: pass:{KSFT_TESTS} fail:0 "
            if st.ksft_rc != 0 or want not in out:
                bad = [x for x in st.ksft_out if x.startswith("not ok") or "#" in x][:6]
                return names[-1], f"rc={st.ksft_rc}: {' | '.join(bad)}"
    return "+".join(dict.fromkeys(names)), ""


def pivotable_says(verdict: str):
    """The first init's tools/pivotable verdict starts with VERDICT; a "not
    pivotable" one names the exact remedy for a kernel that has the feature."""
    def check(g: Guest) -> str:
        if not g.pivotable_out.startswith(verdict):
            return f"pivotable said '{g.pivotable_out}', want '{verdict}...'"
        remedy = "remedy: boot with nonroot_initramfs (this kernel has CONFIG_NONROOT_INITRAMFS=y)"
        if verdict.startswith("not") and remedy not in g.pivotable_out:
            return f"pivotable said '{g.pivotable_out}', want '{remedy}'"
        return ""
    check.__name__ = "pivotable_says_" + re.sub(r"\W+", "_", verdict).strip("_")
    return check


def ran_as(path: str, role="initramfs"):
    def check(g: Guest) -> str:
        last = g.last
        if (last.init, last.role) != (path, role):
            return f"init ran as {last.init} ({last.role}), want {path} ({role})"
        return ""
    check.__name__ = f"init_ran_as_{path.strip('/').replace('/', '_')}_from_{role}"
    return check


def initrd_freed(g: Guest) -> str:
    lines = [l for l in g.kernel_log if "Freeing initrd memory" in l]
    return "" if len(lines) == 1 else f"want one 'Freeing initrd memory' line, got {lines}"


def initrd_retained(g: Guest) -> str:
    lines = [l for l in g.kernel_log if "Freeing initrd memory" in l]
    return f"retain_initrd, but: {lines}" if lines else ""


BIG = 300 << 20


def big_file_present(g: Guest) -> str:
    """The second archive of the initrd was unpacked in full: /big.bin is there,
    up to its end mark (the unpacker sets the size first: a short write leaves
    a hole at the end)."""
    if g.big_size != BIG or g.big_end != "nri-big-end":
        return f"/big.bin: size {g.big_size}, ends in '{g.big_end}'; want {BIG}, 'nri-big-end'"
    return ""


def rootfs_is_ramfs(g: Guest) -> str:
    """rootfs is a ramfs: no size cap (a tmpfs rootfs shows size=)."""
    r = g.root_mount()
    if not r or r.fstype != "rootfs" or "size=" in r.superopts:
        return f"/ is {r.fstype if r else 'missing'} {r.superopts if r else ''}, want a ramfs rootfs"
    return ""


def initramfs_unpacked(g: Guest) -> str:
    lines = [l for l in g.kernel_log if "Initramfs unpacking failed" in l]
    return f"{lines}" if lines else ""


def disk_root(leaf: bool):
    """The last init runs from the disk: / is the ext4 of /dev/vda, on a mount
    that is not visible: the leaf (LEAF: nonroot_initramfs) or rootfs."""
    def check(g: Guest) -> str:
        last = g.last
        if last.role != "disk":
            return f"the last init ran from {last.role or 'nowhere'} ({last.init})"
        r = last.root_mount()
        why = root_on_hidden_parent(last, "ext4")
        if why:
            return why
        if leaf and r.parent == 1:
            return f"/ (ext4, id {r.mnt_id}) is on rootfs, want it on the leaf"
        if not leaf and r.parent != 1:
            return f"/ (ext4, id {r.mnt_id}) is on mount {r.parent}, want rootfs (1)"
        return ""
    check.__name__ = "root_is_disk_on_" + ("leaf" if leaf else "rootfs")
    return check


def disk_root_hidden(g: Guest) -> str:
    """After a switch: the last init runs from the disk, / is its ext4 on a
    hidden mount; pivot_root works there; it reached the end."""
    last = g.last
    if len(g.stages) != 2:
        return f"want two inits (initramfs, disk), got {len(g.stages)}: {g.switch}"
    if last.role != "disk":
        return f"the last init ran from {last.role or 'nowhere'} ({last.init})"
    return root_on_hidden_parent(last, "ext4") or pivot_root_works(last)


def switched_by(method: str, after_failed=None):
    """The initramfs switched to the disk with METHOD (after AFTER_FAILED failed
    with EINVAL, if given)."""
    def check(g: Guest) -> str:
        tried = [l for l in g.switch if l.startswith("switch method=")]
        want = []
        if after_failed:
            want.append(f"switch method={after_failed} rc=1")
        want.append(f"switch method={method}")
        if len(tried) != len(want) or any(not t.startswith(w) for t, w in zip(tried, want)):
            return f"switch: {g.switch}, want {want}"
        if after_failed and "Invalid argument" not in tried[0]:
            return f"{after_failed} failed otherwise: {tried[0]}"
        return ""
    check.__name__ = f"switched_by_{method}" + (f"_after_{after_failed}_einval" if after_failed else "")
    return check


def shmem_reported(g: Guest) -> str:
    """Shmem: before the switch (initramfs) and after (the disk's init)."""
    if len(g.stages) != 2 or g.stages[0].shmem < 0 or g.stages[1].shmem < 0:
        return f"Shmem: {[st.shmem for st in g.stages]}"
    return ""


def info(g: Guest) -> list:
    """Lines worth showing with the results, whatever they are."""
    if len(g.stages) == 2:
        a, b = g.stages[0].shmem, g.stages[1].shmem
        return [f"Shmem: {a} kB in the initramfs, {b} kB after the switch ({b - a:+d} kB)"]
    return []


def boot(kernel, initramfs, logf, args, qemu_opts="") -> Guest:
    """Boot KERNEL with ARGS (INITRAMFS "-": none; QEMU_OPTS: more QEMU options),
    console log to LOGF, and parse what the guest said."""
    env = dict(os.environ, NRI_QEMU_OPTS=qemu_opts)
    st = subprocess.run([os.path.join(TOP, "scripts/boot.sh"), kernel, initramfs,
                         logf, *args], env=env).returncode
    with open(logf, errors="replace") as f:
        return parse(f.read(), st)


SKIP = "skip"


def ktap(log: str) -> dict:
    """KUnit results from the console: {suite: {case: True|False|SKIP}}."""
    suites, suite = {}, None
    for raw in log.splitlines():
        line = re.sub(r"^\[[ 0-9.]+\] ", "", raw.rstrip("\r"))
        m = re.match(r"^    # Subtest: (\S+)$", line)
        if m:
            suite = suites.setdefault(m.group(1), {})
            continue
        m = re.match(r"^        (not )?ok \d+ (\S+)(.*)", line) or \
            re.match(r"^    (not )?ok \d+ (\S+)(.*)", line)
        if m and suite is not None:
            skipped = re.match(r"\s*# SKIP", m.group(3)) is not None
            suite[m.group(2)] = SKIP if skipped and m.group(1) is None else m.group(1) is None
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


def without_memory_sizes(lines: list) -> list:
    """Mount table lines with the tmpfs limits that follow from the free memory
    (which moves with the size of the kernel and of the initramfs) blanked."""
    return [re.sub(r"\b(size=\d+k|nr_inodes=\d+)", lambda m: m.group(1).split("=")[0] + "=*", l)
            for l in lines]


def stock_mount_table_of(series: str):
    """The mount table /init sees is the stock kernel's (captured from the
    unpatched kernel with the same configuration and initramfs), but for the
    size= and nr_inodes= values, which depend on the free memory."""
    def check(g: Guest) -> str:
        path = os.path.join(TOP, f"tools/testing/nonroot_initramfs/stock-{series}.mountinfo")
        with open(path) as f:
            want = [l for l in f.read().split("\n") if l and not l.startswith("#")]
        if without_memory_sizes(g.mountinfo) != without_memory_sizes(want):
            return f"mountinfo {g.mountinfo}, stock kernel had {want}"
        return ""
    check.__name__ = "stock_mount_table"
    return check


stock_mount_table = stock_mount_table_of("6.12")


crun_runs = runs("crun")
crun_fails_at_pivot_root = fails_at_pivot_root("crun")

# The container probes of every boot that stays in the initramfs.
CONTAINERS_OFF = [fails_at_pivot_root(n) for n in RUNTIMES] + \
    [escape_fails_at_pivot_root, escape_nopivot_reaches_initramfs]
CONTAINERS_ON = [runs(n) for n in RUNTIMES] + [cannot_reach_initramfs(n) for n in RUNTIMES] + \
    [escape_is_contained, escape_nopivot_reaches_initramfs]

# What tools/pivotable tells the operator of a test kernel (it has
# CONFIG_NONROOT_INITRAMFS=y and /proc/config.gz) booted without the feature.
PIVOTABLE_OFF = pivotable_says("not pivotable: / is rootfs")
STOCK_612 = [stock_mount_table, root_is_absolute_rootfs, root_mode_as_stock, initramfs_unpacked,
             pivot_root_fails_einval, PIVOTABLE_OFF] + CONTAINERS_OFF
# The same without the exact mount table, for boots whose rootfs is set up
# differently (ramfs, options) or that hold more.
ROOTFS_612 = [root_is_absolute_rootfs, root_mode_as_stock, initramfs_unpacked,
              pivot_root_fails_einval,
              no_feature_log_line]
NONROOT = [root_is_leaf, root_mode_as_stock, feature_log_line(False),
           unpack_after_switch,
           pivotable_says("pivotable: nonroot_initramfs active"),
           initramfs_unpacked, pivot_root_works] + CONTAINERS_ON
NONROOT_RAMFS = [root_is_ramfs_leaf, root_mode_as_stock, feature_log_line(True),
                 unpack_after_switch,
                 pivotable_says("pivotable: nonroot_initramfs active"),
                 initramfs_unpacked, pivot_root_works]

# 7.3: rootfs is on nullfs already. With the feature on, the kernel changes
# no mount and says so, once.
FEATURE_LINE_73 = (r"nonroot_initramfs: rootfs is mounted on nullfs: the root is already "
                   r"pivotable, nothing to do$")


def feature_log_line_73(g: Guest) -> str:
    """One line saying the root is already pivotable, and no other line of
    the feature in the whole log."""
    lines = [l for l in g.kernel_log if re.search(FEATURE_LINE_73, l)]
    others = [l for l in g.kernel_log if re.search(r"nonroot_initramfs: ", l)
              and not re.search(FEATURE_LINE_73 + r"|# Subtest|# nonroot_initramfs: pass|"
                                r"ok \d+ nonroot_initramfs", l)]
    if len(lines) != 1:
        return f"want one '{FEATURE_LINE_73}' line, got {lines}"
    return f"other lines of the feature: {others}" if others else ""


feature_log_line_73.__name__ = "one_feature_log_line"


def no_feature_line_73(g: Guest) -> str:
    lines = [l for l in g.kernel_log if re.search(FEATURE_LINE_73, l)]
    return f"unexpected: {lines}" if lines else ""


def not_passed_to_init(*tokens):
    """None of TOKENS reaches init, as an argument or in the command line
    init sees as unknown ("Unknown kernel command line parameters")."""
    def check(g: Guest) -> str:
        bad = [t for t in tokens if t in g.argv]
        unknown = log_lines(g, r"Unknown kernel command line parameters")
        bad += [t for t in tokens if any(t.split("=")[0] in l for l in unknown)]
        return f"passed to init: {bad} (argv {g.argv}, {unknown})" if bad else ""
    check.__name__ = "not_passed_to_init"
    return check


# kernel::boot_param's test options (lib/tests/rust_boot_param_kunit.rs); the
# early one spelt with dashes, which the boot parser takes for underscores.
EARLY_TEST = ["rust_boot_param_test_setup=hello", "rust-boot-param-test-early=world"]


def early_param_is_early(g: Guest) -> str:
    """early_param!() is early: its handler ran from parse_early_param(), in
    setup_arch(), before the kernel logged its command line; the setup!()
    one after it. And the KUnit cases that check it ran (not skipped)."""
    log = g.kernel_log

    def at(pattern):
        return next((i for i, l in enumerate(log) if re.search(pattern, l)), None)
    early = at(r"rust_boot_param: early_param handler called: rust_boot_param_test_early=world$")
    cmdline = at(r"Kernel command line: ")
    setup = at(r"rust_boot_param: setup handler called: rust_boot_param_test_setup=hello$")
    if None in (early, cmdline, setup):
        return f"missing lines: early {early}, 'Kernel command line:' {cmdline}, setup {setup}"
    if not early < cmdline < setup:
        return f"order: early at {early}, 'Kernel command line:' at {cmdline}, setup at {setup}"
    for case in ("early_param_is_parsed_early", "boot_parser_calls_the_handlers"):
        if kunit_case(case, True)(g):
            return f"KUnit case {case} did not pass (skipped or failed)"
    return ""


STOCK_73 = [stock_mount_table_of("7.3"), root_is_rootfs_on_nullfs, pivot_root_works,
            pivotable_says("pivotable: on nullfs"), initramfs_unpacked] + CONTAINERS_ON

# Boot media besides the test initramfs (scripts/mkmedia.sh): "initrd" is
# "base" (the test initramfs), "none", or a mkmedia.sh kind; "disk" attaches
# the ext4 image as /dev/vda (snapshot=on: the guest's writes are dropped).
DISK = {"disk": True}
# Root on the disk: the kernel's own mount of root= (prepare_namespace).
# init= because vng would name its own (see scripts/boot.sh).
ROOT_DISK = ["root=/dev/vda", "rootfstype=ext4", "rw", "init=/sbin/init"]
# With nonroot_initramfs, the leaf is mounted whatever comes after it, and the
# kernel's mount of root= is moved onto the leaf; root= (without
# rootfstype=tmpfs) makes rootfs, and so the leaf, a ramfs. Without, the root
# is moved onto rootfs. pivot_root works on the disk root either way.
DISK_ON = [ran_as("/sbin/init", "disk"), disk_root(leaf=True), feature_log_line(True),
           pivot_root_works]
DISK_OFF = [ran_as("/sbin/init", "disk"), disk_root(leaf=False), no_feature_log_line,
            pivot_root_works]
# Switching from the initramfs to the disk (nri.mode=, init.sh).
SWITCH = [disk_root_hidden, shmem_reported]

def kunit_case(name: str, ok: bool):
    """The KUnit case NAME of the nonroot_initramfs suite passed (OK) or failed."""
    def check(g: Guest) -> str:
        want = rf"^\s*{'ok' if ok else 'not ok'} \d+ {name}$"
        if any(re.search(want, re.sub(r"^\[[ 0-9.]+\] ", "", l)) for l in g.kernel_log):
            return ""
        return f"no KUnit line '{'ok' if ok else 'not ok'} N {name}'"
    check.__name__ = f"kunit_{name}_{'passes' if ok else 'fails'}"
    return check


def warns_step_failed(step: str, err: str):
    """One warning: STEP failed with ERR, the initramfs stays in rootfs."""
    def check(g: Guest) -> str:
        want = rf"nonroot_initramfs: {re.escape(step)} failed \({err}\), the initramfs stays in rootfs$"
        lines = log_lines(g, r"nonroot_initramfs: ")
        if len(lines) != 1 or not re.search(want, lines[0]):
            return f"want one line '{want}', got {lines}"
        return ""
    check.__name__ = f"warns_{step.split()[0]}_failed_{err.split()[-1].lstrip('-')}"
    return check


# initramfs_options= of 294 bytes: mode=755 thirty times, then the limits.
LONG_OPTIONS = "initramfs_options=" + "mode=755," * 30 + "size=32m,nr_inodes=4000"

# The cases: series -> kernel variant -> name -> (kernel arguments,
# [expectations][, boot media]). Variant "" is the default test kernel; the
# others are built with tools/testing/nonroot_initramfs/VARIANT.config.
# Every case with the feature on has a counterpart with it off, named NAME-off,
# or the note says which case stands for it.
CASES = {
    "6.12": {
        "": {
            "absent": ([], STOCK_612 + [no_feature_log_line]),
            "present": (["nonroot_initramfs"], NONROOT),
            "off": (["nonroot_initramfs=0"], STOCK_612 + [no_feature_log_line]),
            "bogus": (["nonroot_initramfs=bogus"], STOCK_612 + [warns_about_bogus_value]),
            # After "--": init's argument, the feature stays off (init= makes
            # scripts/boot.sh hand over the whole command line, "--" last).
            "after-dashes": (["init=/init", "--", "nonroot_initramfs"],
                             STOCK_612 + [no_feature_log_line,
                                          parameter_after_dashes_passed_to_init]),
            # Longer than a page of options would need, longer than the 255
            # bytes v6 kept: the leaf gets them all, as rootfs does.
            "options": (["nonroot_initramfs", LONG_OPTIONS],
                        NONROOT + [tmpfs_options("size=32768k,nr_inodes=4000", "rootfs")]),
            "options-off": ([LONG_OPTIONS],
                            ROOTFS_612 + [tmpfs_options("size=32768k,nr_inodes=4000", "rootfs")]),
            # rootfs is a ramfs, which ignores unknown options; so does the
            # leaf, a ramfs too. Off: big-ramfs-off (rootfs a ramfs).
            "ramfs-ignores-options": (["rootfstype=ramfs", "initramfs_options=bogus=1",
                                       "nonroot_initramfs"],
                                      NONROOT_RAMFS + CONTAINERS_ON),
            # A bare initramfs_options token is not the kernel's: init gets it
            # as an argument. init= clears the arguments before it (vng names
            # one last; scripts/boot.sh then hands QEMU this command line).
            "bare-options-token": (["nonroot_initramfs", "init=/init", "initramfs_options"],
                                   NONROOT + [bare_options_token_passed_to_init]),
            # No /init in the initramfs: the kernel mounts root= itself.
            "disk-noinit": (ROOT_DISK + ["nonroot_initramfs"], DISK_ON,
                            {"initrd": "noinit", **DISK}),
            "disk-noinit-off": (ROOT_DISK, DISK_OFF, {"initrd": "noinit", **DISK}),
            # No initrd at all: the same, from the kernel's built-in initramfs.
            "disk-noinitrd": (ROOT_DISK + ["nonroot_initramfs"], DISK_ON,
                              {"initrd": "none", **DISK}),
            "disk-noinitrd-off": (ROOT_DISK, DISK_OFF, {"initrd": "none", **DISK}),
            # A built-in initramfs (CONFIG_INITRAMFS_SOURCE) needs a kernel of
            # its own: not here.
            # Other ways through the initramfs code: another rdinit=, the
            # unpack done synchronously, the initrd kept.
            "initrd-paths": (["rdinit=/sbin/init2", "initramfs_async=0", "retain_initrd",
                              "nonroot_initramfs"],
                             NONROOT + [ran_as("/sbin/init2"), initrd_retained]),
            "initrd-paths-off": (["rdinit=/sbin/init2", "initramfs_async=0", "retain_initrd"],
                                 STOCK_612 + [no_feature_log_line, ran_as("/sbin/init2"),
                                              initrd_retained]),
            # An initramfs larger than a tmpfs may grow (half the RAM): rootfs
            # must be a ramfs, and the leaf is one too. Only crun runs: the
            # 300 MiB stay in RAM.
            # size= is ignored by a ramfs: 300 MiB fit where size=64m says
            # otherwise, on rootfs as on the leaf.
            "big-ramfs": (["rootfstype=ramfs", "initramfs_options=size=64m", "nonroot_initramfs",
                           "nri.rt=crun"],
                          NONROOT_RAMFS + [big_file_present, crun_runs, ran_as("/init")],
                          {"initrd": "big"}),
            "big-ramfs-off": (["rootfstype=ramfs", "initramfs_options=size=64m", "nri.rt=crun"],
                              ROOTFS_612 + [rootfs_is_ramfs, big_file_present,
                                            crun_fails_at_pivot_root],
                              {"initrd": "big"}),
            # root= without rootfstype=tmpfs makes rootfs a ramfs as well; the
            # initramfs has /init, which runs (rdinit= wins over root=). No disk
            # attached: nothing mounts it.
            "big-root": (["root=/dev/vda", "rootfstype=ext4", "nonroot_initramfs", "nri.rt=crun"],
                         NONROOT_RAMFS + [big_file_present, crun_runs, ran_as("/init")],
                         {"initrd": "big"}),
            "big-root-off": (["root=/dev/vda", "rootfstype=ext4", "nri.rt=crun"],
                             ROOTFS_612 + [rootfs_is_ramfs, big_file_present,
                                           crun_fails_at_pivot_root, ran_as("/init")],
                             {"initrd": "big"}),
            # initramfs_options= and nonroot_initramfs from a bootconfig
            # appended to the initrd (kernel.* keys are __setup parameters);
            # with the unpack explicitly asynchronous (the default).
            "bootconfig": (["bootconfig", "initramfs_async=1"],
                           NONROOT + [tmpfs_options("size=32768k,nr_inodes=4000", "rootfs"),
                                      initrd_freed],
                           {"initrd": "bootconfig-on"}),
            # Off: the options apply to rootfs itself.
            "bootconfig-off": (["bootconfig", "initramfs_async=1"],
                               ROOTFS_612 + [tmpfs_options("size=32768k,nr_inodes=4000", "rootfs"),
                                             crun_fails_at_pivot_root],
                               {"initrd": "bootconfig-off"}),
            # From the initramfs to the disk: busybox switch_root (deletes the
            # initramfs, moves the new root onto /), and pivot_root as systemd
            # does it. Off, pivot_root fails with EINVAL and init.sh falls back
            # to switch_root: that case stands for switch-root-off as well.
            "switch-root": (["nonroot_initramfs", "nri.mode=switch_root"],
                            [root_is_leaf, switched_by("switch_root")] + SWITCH, DISK),
            "pivot-switch": (["nonroot_initramfs", "nri.mode=pivot"],
                             [root_is_leaf, switched_by("pivot_root")] + SWITCH, DISK),
            "pivot-switch-off": (["nri.mode=pivot"],
                                 [root_is_absolute_rootfs,
                                  switched_by("switch_root", after_failed="pivot_root")] + SWITCH,
                                 DISK),
        },
        # The test kernel with the mkdir wrapper made to return -EIO
        # (scripts/check.sh shim_fault): the switch is asked for and fails.
        # The boot goes on as without the parameter, and KUnit's
        # final_mount_state fails, as it must (so do the cases on the real
        # VFS, whose every mkdir fails; the fake's pass).
        "shim-fault": {
            "mkdir-eio": (["nonroot_initramfs"],
                          [root_is_absolute_rootfs, ran_as("/init"), initramfs_unpacked,
                           pivot_root_fails_einval, warns_step_failed("mkdir /root", "error -5"),
                           kunit_case("final_mount_state", False),
                           kunit_case("switch_succeeds", True)],
                          {"kunit_fails": ("real_vfs_undo", "switch_cost", "final_mount_state")}),
        },
        # The fleet kernel (fleet.config): CONFIG_NONROOT_INITRAMFS_DEFAULT_ON,
        # MODULES and MODVERSIONS next to the series' built-in Rust, and a
        # built-in initramfs (the test initramfs and /nri-builtin). Booted
        # with an external initramfs on top (the test initramfs with the
        # modules of scripts/modtest.sh: version-checked), or alone.
        "fleet": {
            "absent": ([], NONROOT + [builtin_initramfs(True), modules_version_checked],
                       {"initrd": "modules"}),
            "off": (["nonroot_initramfs=0"],
                    ROOTFS_612 + CONTAINERS_OFF + [builtin_initramfs(True),
                                                   modules_version_checked],
                    {"initrd": "modules"}),
            "builtin": ([], NONROOT + [builtin_initramfs(False)], {"initrd": "none"}),
            "builtin-off": (["nonroot_initramfs=0"],
                            ROOTFS_612 + CONTAINERS_OFF + [builtin_initramfs(False)],
                            {"initrd": "none"}),
        },
    },
    # 7.3: nullfs below rootfs makes the root pivotable; the option is
    # accepted as on 6.12 and changes no mount. init= so that init's
    # arguments are the kernel's (see scripts/boot.sh).
    "7.3": {
        "": {
            "absent": (["init=/init"], STOCK_73 + [no_feature_log_line]),
            "present": (["init=/init", "nonroot_initramfs"] + EARLY_TEST,
                        STOCK_73 + [feature_log_line_73, early_param_is_early,
                                    not_passed_to_init("nonroot_initramfs", *EARLY_TEST)]),
            "off": (["init=/init", "nonroot_initramfs=0"],
                    STOCK_73 + [no_feature_log_line, not_passed_to_init("nonroot_initramfs=0")]),
            "bogus": (["init=/init", "nonroot_initramfs=bogus"],
                      STOCK_73 + [warns_about_bogus_value, no_feature_line_73,
                                  not_passed_to_init("nonroot_initramfs=bogus")]),
        },
    },
}

# The debug kernel (debug.config: KASAN, lockdep, DEBUG_VM, DEBUG_LIST,
# DEBUG_OBJECTS, kmemleak) runs the cases of the test kernel that go through
# the feature's code: every case with it on, and the parser's (absent,
# bogus); not the "-off" twins, whose paths are the stock kernel's (the test
# kernel runs those). Any splat fails the boot (CRASH), and kmemleak must
# find nothing. Its configuration differs: the stock mount table is the test
# kernel's, so it is not compared here (the other checks of the stock
# behaviour are).
CASES["6.12"]["debug"] = {
    name: (case[0], [c for c in case[1] if c is not stock_mount_table] + [no_kmemleak], *case[2:])
    for name, case in CASES["6.12"][""].items() if name != "off" and not name.endswith("-off")}

# The arm64 test kernel (arm64.config: the test kernel built for ARCH=arm64
# with the pinned LLVM, booted under qemu-system-aarch64 with the arm64 test
# initramfs): the initramfs as the final root without the parameter, with it,
# with it off and with a bogus value, each with crun, runc and bwrap and the
# kselftest, and KUnit's results (--kunit: the suite's cases, with the checks
# of the .init.setup entry's layout). The stock mount table recorded from the
# x86_64 stock kernel is not compared (its sizes and ids differ); the other
# checks of the stock behaviour are made.
CASES["6.12"]["arm64"] = {
    name: ([*CASES["6.12"][""][name][0]],
           [c for c in CASES["6.12"][""][name][1] if c is not stock_mount_table])
    for name in ("absent", "present", "off", "bogus")}

# Series whose kernel has the nonroot_initramfs KUnit suite (read back from
# debugfs after every boot).
KUNIT_SUITE = {"6.12"}
# Kernel variants of those series built without it (fleet.config: KUNIT=m).
NO_KUNIT_VARIANTS = {"fleet"}


def record(results, lines):
    """One result per line: passed (why is ""), skipped (why is SKIP: a KUnit
    case that said so), or failed."""
    with open(results, "a") as r:
        for what, why in lines:
            if why == SKIP:
                print(f"SKIP: {what}")
                r.write(f"skip {what}\n")
                continue
            print(f"PASS: {what}" if not why else f"FAIL: {what}: {why}")
            r.write(f"{'pass' if not why else 'fail'} {what}\n")


def media(kind: str, initramfs: str) -> str:
    """The path of boot medium KIND (scripts/mkmedia.sh), built if need be."""
    out = subprocess.run([os.path.join(TOP, "scripts/mkmedia.sh"), kind, initramfs],
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    return out.strip().splitlines()[-1]


def run_case(series, variant, name, kernel, initramfs, logdir, results, kunit):
    args, checks, *more = CASES[series][variant][name]
    how = more[0] if more else {}
    case = "-".join(x for x in ("boot", series, variant, name) if x)
    logf = os.path.join(logdir, case + ".log")
    initrd = how.get("initrd", "base")
    initrd = {"base": initramfs, "none": "-"}.get(initrd) or media(initrd, initramfs)
    qemu = ""
    if how.get("disk"):
        qemu = f"-drive file={media('disk', initramfs)},if=virtio,format=raw,snapshot=on"
    t0 = time.monotonic()
    g = boot(kernel, initrd, logf, args, qemu)
    took = time.monotonic() - t0
    checks = checks + [pivotable_agrees, pivotable_probes]
    suite = series in KUNIT_SUITE and variant not in NO_KUNIT_VARIANTS
    if suite:
        checks = checks + [kunit_debugfs(how.get("kunit_fails", ())), kunit_after_unpack]
    why_not = g.crashed(until_kunit=suite)
    lines = [(f"{case}: guest booted and reported", why_not)]
    for check in checks:
        lines.append((f"{case}: {check.__name__}", why_not or check(g)))
    kname, kwhy = kselftest(g)
    lines.append((f"{case}: {kname}", why_not or kwhy))
    if kunit:
        # KUnit runs at every boot; count it from the first boot, and the
        # suites of the series again from the boot with the parameter (the
        # final mount state differs).
        suites = ktap(g.log)
        kprefix = "-".join(x for x in ("kunit", series, variant, name) if x)
        lines.append((f"{case}: kunit: suites reported", "" if suites else "no KTAP in the log"))
        for suite, cases in sorted(suites.items()):
            if suite == "rust_doctests_kernel":
                bad = [c for c, ok in cases.items() if not ok]
                lines.append((f"{kprefix}: {suite}: {len(cases)} doctests",
                              f"failed: {bad}" if bad else ""))
                cases = {c: ok for c, ok in cases.items() if "boot_param" in c}
            for c, ok in sorted(cases.items()):
                lines.append((f"{kprefix}: {suite}.{c}",
                              SKIP if ok == SKIP else "" if ok else "not ok"))
    record(results, lines)
    for line in info(g) + [f"boot took {took:.0f} s"]:
        print(f"  {case}: {line}")
    if why_not or any(why for _, why in lines):
        print(f"  (console log: {logf})")
    return g


def summary(g: Guest) -> list:
    """What a user sees of one boot, as lines for the demo."""
    why_not = g.crashed(until_kunit=True)
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
    os.makedirs(a.logdir, exist_ok=True)
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
    ap.add_argument("cases", nargs="*", help="the cases to run, by name (default: all of the "
                    "series and variant; 'list' lists them)")
    a = ap.parse_args()
    cases = CASES[a.series].get(a.variant)
    if cases is None:
        ap.error(f"no variant '{a.variant}' for {a.series}")
    if a.cases == ["list"]:
        for name, (args, checks, *_) in cases.items():
            print(f"{name}: {' '.join(args)}")
        return 0
    for name in a.cases:
        if name not in cases:
            ap.error(f"no case {name} for {a.series} {a.variant}: {' '.join(cases)}")
    os.makedirs(a.logdir, exist_ok=True)
    for i, name in enumerate(a.cases or cases):
        run_case(a.series, a.variant, name, a.kernel, a.initramfs, a.logdir, a.results,
                 a.kunit and (i == 0 or name == "present"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

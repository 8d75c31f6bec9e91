#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Crafted-input tests of tools/pivotable/pivotable: each case writes a fake
/proc (PIVOTABLE_PROC: self/mountinfo, self/fdinfo/9, self/status,
self/uid_map, cmdline, config.gz, sys/kernel/osrelease), maybe a /boot
(PIVOTABLE_BOOT) and a kernel log (PIVOTABLE_DMESG), runs the script
under each shell there is among
busybox sh, dash and bash --posix, plainly, with --json and with -q, and
checks the exit status, the verdict and the JSON.

Every run must agree with itself: the same exit status in the three modes,
--json's "verdict" the first line of the text, "pivotable" and "exit" the
exit status, a "remedy:" line and a JSON remedy on every not-pivotable
answer, no output with -q, nothing on standard error.

One line per case, "PASS: <case>" or "FAIL: <case>: <why>", and "pass NAME"
or "fail NAME: why" appended to --results; a last line "N passed, N failed";
exit status 1 on any failure. --script runs another version of the script
(the one before these tests, say, to see them fail).
"""
import argparse
import dataclasses
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))))
SCRIPT = os.path.join(TOP, "tools/pivotable/pivotable")

ALL_CAPS = "000001ffffffffff"
R612 = "6.12.117"
R73 = "7.3.4"

# Mount tables, as /proc/self/mountinfo shows them, and the mount id of the
# root (fdinfo's mnt_id: of "/" opened).
# 6.12 stock: / is rootfs, its own parent (tools/testing/.../stock-6.12.mountinfo).
STOCK = ("1 1 0:2 / / rw - rootfs rootfs rw,size=245024k,nr_inodes=61256\n"
         "15 1 0:14 / /proc rw,relatime - proc proc rw\n", 1)
# 6.12 with nonroot_initramfs, or the rbind workaround: a rootfs whose parent
# (mount 1) is below the root and so not listed.
ROOTFS_ON_ROOTFS = ("2 1 0:3 / / rw - rootfs rootfs rw,size=245024k,nr_inodes=61256\n"
                    "16 2 0:15 / /proc rw,relatime - proc proc rw\n", 2)
# 7.3 stock: rootfs on nullfs (stock-7.3.mountinfo).
NULLFS = ("2 1 0:3 / / rw - rootfs rootfs rw,size=247060k,nr_inodes=61765\n"
          "19 2 0:17 / /proc rw,relatime - proc proc rw\n", 2)
# The same outside the initial mount namespace (unshare -m renumbers every
# mount), or the rbind workaround over the second rootfs or over rootfs on
# nullfs: the root's parent is not mount 1, the boot's first mount.
ROOTFS_ELSEWHERE = ("31 30 0:3 / / rw - rootfs rootfs rw,size=245024k,nr_inodes=61256\n"
                    "40 31 0:15 / /proc rw,relatime - proc proc rw\n", 31)
# A root file system mounted on rootfs and switched to.
EXT4 = ("22 1 253:1 / / rw,relatime - ext4 /dev/vda1 rw\n"
        "23 22 0:20 / /proc rw,nosuid - proc proc rw\n", 22)
# mount -t tmpfs x / on stock 6.12: the tmpfs is listed last on "/", but the
# process's root is still rootfs (mount 1).
TMPFS_OVER = ("1 1 0:2 / / rw - rootfs rootfs rw,size=245024k,nr_inodes=61256\n"
              "15 1 0:14 / /proc rw,relatime - proc proc rw\n"
              "20 1 0:20 / / rw,relatime - tmpfs x rw\n", 1)
# chroot into a directory of mount 22 that is no mount point: mount 22 is
# outside the root and not listed, its proc is.
CHROOT = ("40 22 0:20 / /proc rw,relatime - proc proc rw\n", 22)

DEFAULT_ON = "CONFIG_NONROOT_INITRAMFS=y\nCONFIG_NONROOT_INITRAMFS_DEFAULT_ON=y\n"
CONFIG_Y = "CONFIG_NONROOT_INITRAMFS=y\n# CONFIG_NONROOT_INITRAMFS_DEFAULT_ON is not set\n"
CONFIG_N = "CONFIG_TMPFS=y\n# CONFIG_NONROOT_INITRAMFS is not set\n"
KLOG_LINE = ("[    0.031337] nonroot_initramfs: the initramfs will be unpacked into a second "
             "rootfs (a tmpfs, as rootfs) mounted on top of rootfs\n")

ON = "pivotable: nonroot_initramfs active"
RBIND = ("pivotable: a bind mount of rootfs (the rbind workaround): the initramfs stays in "
         "rootfs below it, reachable from a container that escapes with CAP_SYS_ADMIN; "
         "remedy: boot with nonroot_initramfs")
EITHER = "pivotable: rootfs on rootfs"
OFF = "not pivotable: / is rootfs"
REMEDY_Y = "remedy: boot with nonroot_initramfs (this kernel has CONFIG_NONROOT_INITRAMFS=y)"
EPERM = ("not pivotable by this process: it lacks CAP_SYS_ADMIN (pivot_root(2) fails "
         "with EPERM)")


@dataclasses.dataclass
class Case:
    name: str
    why: str
    mounts: tuple = STOCK
    # None: no fdinfo file; a str: the file's whole text.
    fdinfo: object = ""
    # self/uid_map (None: no such file); the default, the initial namespace's.
    uid_map: object = "         0          0 4294967295\n"
    capeff: object = ALL_CAPS
    cmdline: str = "console=ttyS0 quiet"
    config: object = None
    where: str = "proc"          # the config: "proc" (config.gz), "boot", "both"
    release: object = R612
    klog: object = None          # PIVOTABLE_DMESG's text
    boot_env: bool = True        # PIVOTABLE_BOOT set
    status: object = ""          # self/status text instead of one CapEff line
    # What to expect.
    rc: int = 0
    prefix: str = ""
    has: tuple = ()
    hasnt: tuple = ()
    js: dict = dataclasses.field(default_factory=dict)
    # Run with /dev hidden (an initramfs without it).
    nodev: bool = False


def param_case(cmdline, want, name, why=""):
    """The command line's nonroot_initramfs, as the kernel reads it: rootfs
    on rootfs with CONFIG_NONROOT_INITRAMFS=y, not on by default, is the
    feature where the parameter says on and the rbind workaround otherwise."""
    return Case(f"param-{name}", why or f"cmdline {cmdline!r}: parameter {want}",
                mounts=ROOTFS_ON_ROOTFS, cmdline=cmdline, config=CONFIG_Y,
                prefix=ON if want == "on" else RBIND,
                has=("nonroot_initramfs given",) if want == "on" else (),
                js={"parameter": want, "initramfs_reachable": want != "on"})


CASES = [
    # 1. The process's root, not the last mount on "/".
    Case("tmpfs-over-root", "mount -t tmpfs x / leaves the root rootfs (problem 1)",
         mounts=TMPFS_OVER, config=CONFIG_Y, rc=1, prefix=OFF, has=(REMEDY_Y,),
         hasnt=("real root",),
         js={"root": {"mount_id": 1, "parent_id": 1, "fstype": "rootfs", "source": "rootfs"}}),
    Case("root-by-fdinfo", "the root is the mount fdinfo names, wherever it is listed (problem 1)",
         mounts=("22 1 253:1 / / rw - ext4 /dev/vda1 rw\n"
                 "30 22 0:30 / / rw - tmpfs over rw\n", 22),
         prefix="pivotable: a real root (ext4)",
         js={"root": {"mount_id": 22, "parent_id": 1, "fstype": "ext4", "source": "/dev/vda1"}}),
    # 2. rootfs on rootfs before 7.0: the feature or the rbind workaround.
    Case("rbind-config-y", "rootfs on rootfs, feature built but not given: rbind (problem 2)",
         mounts=ROOTFS_ON_ROOTFS, config=CONFIG_Y, prefix=RBIND,
         has=("(this kernel has CONFIG_NONROOT_INITRAMFS=y)",),
         js={"initramfs_reachable": True, "parameter": None, "config": "y",
             "remedy": "boot with nonroot_initramfs (this kernel has CONFIG_NONROOT_INITRAMFS=y)"}),
    Case("rbind-param-off", "default-on turned off on the command line: rbind (problem 2)",
         mounts=ROOTFS_ON_ROOTFS, config=DEFAULT_ON, cmdline="nonroot_initramfs=0",
         prefix=RBIND, has=("the command line turns it off",),
         js={"initramfs_reachable": True, "parameter": "off", "config": "default-on"}),
    Case("rbind-config-n", "a kernel without the feature ignores the parameter: rbind (problem 2)",
         mounts=ROOTFS_ON_ROOTFS, config=CONFIG_N, cmdline="nonroot_initramfs",
         prefix="pivotable: a bind mount of rootfs (the rbind workaround)",
         has=("nonroot_initramfs does nothing on this kernel",),
         js={"initramfs_reachable": True, "parameter": "on", "config": "n"}),
    Case("rbind-param-off-no-config", "parameter off, no configuration: rbind (problem 2)",
         mounts=ROOTFS_ON_ROOTFS, cmdline="nonroot_initramfs=off", prefix=RBIND,
         js={"initramfs_reachable": True, "config": None}),
    Case("rootfs-on-rootfs-unknown", "nothing tells feature from rbind: both said (problem 2)",
         mounts=ROOTFS_ON_ROOTFS, prefix=EITHER,
         has=("nonroot_initramfs active, or a bind mount of rootfs",
              "remedy: if it is the rbind workaround"),
         hasnt=(ON,), js={"initramfs_reachable": None, "config": None, "parameter": None,
                          "kernel_log": None}),
    Case("klog-says-feature", "the series' kernel log line is evidence (problem 2)",
         mounts=ROOTFS_ON_ROOTFS, klog="[    0.000000] Linux version 6.12.117\n" + KLOG_LINE,
         prefix=ON, has=("the kernel log says so",),
         js={"kernel_log": True, "initramfs_reachable": False}),
    Case("klog-without-line", "a kernel log without the line proves nothing (problem 2)",
         mounts=ROOTFS_ON_ROOTFS, klog="[    0.000000] Linux version 6.12.117\n",
         prefix=EITHER, js={"kernel_log": False, "initramfs_reachable": None}),
    # 3. The configuration from /boot/config-RELEASE.
    Case("boot-config-default-on", "DEFAULT_ON from /boot/config-R, no /proc/config.gz (problem 3)",
         mounts=ROOTFS_ON_ROOTFS, config=DEFAULT_ON, where="boot", prefix=ON,
         has=("CONFIG_NONROOT_INITRAMFS_DEFAULT_ON=y",),
         js={"config": "default-on", "config_source": "BOOT/config-" + R612,
             "initramfs_reachable": False}),
    Case("boot-config-y-remedy", "the exact remedy from /boot/config-R (problem 3)",
         config=CONFIG_Y, where="boot", rc=1, prefix=OFF, has=(REMEDY_Y,),
         js={"config": "y", "config_source": "BOOT/config-" + R612}),
    Case("proc-config-first", "/proc/config.gz wins over /boot/config-R (problem 3)",
         mounts=ROOTFS_ON_ROOTFS, config=(DEFAULT_ON, CONFIG_N), where="both", prefix=ON,
         js={"config": "default-on", "config_source": "PROC/config.gz"}),
    # 4. CAP_SYS_ADMIN.
    Case("no-cap-real-root", "no CAP_SYS_ADMIN: EPERM, the root's verdict after (problem 4)",
         mounts=EXT4, capeff="0000000000000000", rc=1, prefix=EPERM,
         has=("pivotable: a real root (ext4)", "remedy: run it as root"),
         js={"cap_sys_admin": False, "pivotable": False}),
    Case("no-cap-stock", "no CAP_SYS_ADMIN on stock rootfs: both reasons (problem 4)",
         capeff="000001ffffdfffff", config=CONFIG_Y, rc=1, prefix=EPERM,
         has=(OFF, REMEDY_Y), js={"cap_sys_admin": False}),
    Case("cap-bit-21-only", "CapEff with bit 21 alone is enough (problem 4)",
         mounts=EXT4, capeff="0000000000200000", prefix="pivotable: a real root (ext4)",
         js={"cap_sys_admin": True}),
    Case("cap-short-capeff", "a CapEff of fewer digits (problem 4)",
         mounts=EXT4, capeff="200000", prefix="pivotable: a real root", js={"cap_sys_admin": True}),
    Case("no-capeff", "no CapEff: cannot tell (problem 4)",
         mounts=EXT4, status="Name:\tsh\n", rc=3, prefix="cannot tell:",
         js={"cap_sys_admin": None}),
    # 5. The command line: see the param-* cases below.
    # 6. Could not tell: exit 3.
    Case("garbage-mountinfo", "garbage in mountinfo: cannot tell (problem 6)",
         mounts=("this is no mount table\nat all\n", 1), rc=3, prefix="cannot tell:",
         js={"root": None}),
    Case("root-line-no-separator", "the root's line without ' - ' (problem 6)",
         mounts=("1 1 0:2 / / rw rootfs rootfs rw\n", 1), rc=3, prefix="cannot tell:"),
    Case("root-line-bad-parent", "the root's line with a non-numeric parent (problem 6)",
         mounts=("1 x 0:2 / / rw - rootfs rootfs rw\n", 1), rc=3, prefix="cannot tell:"),
    Case("root-line-few-fields", "the root's line with too few fields (problem 6)",
         mounts=("1 1 / - rootfs rootfs rw\n", 1), rc=3, prefix="cannot tell:"),
    Case("root-line-no-fstype", "the root's line ending at the separator (problem 6)",
         mounts=("22 1 253:1 / / rw -\n", 22), rc=3, prefix="cannot tell:"),
    Case("empty-mountinfo", "an empty mountinfo (problem 6)",
         mounts=("", 1), rc=3, prefix="cannot tell:"),
    Case("no-mountinfo", "no mountinfo (problem 6)",
         mounts=(None, 1), rc=3, prefix="cannot tell:"),
    Case("no-fdinfo", "no fdinfo of the root: cannot tell (problem 6)",
         mounts=EXT4, fdinfo=None, rc=3, prefix="cannot tell:"),
    Case("fdinfo-without-mnt-id", "fdinfo of a kernel before 3.15 (problem 6)",
         mounts=EXT4, fdinfo="pos:\t0\nflags:\t0100000\n", rc=3, prefix="cannot tell:"),
    Case("no-release", "no kernel release in the fake /proc: nothing of the system (problem 6, 8)",
         mounts=EXT4, release=None, rc=3, prefix="cannot tell:", js={"kernel": None}),
    Case("no-dev", "no /dev: the script never uses /dev/null (problem 6)",
         config=CONFIG_Y, rc=1, prefix=OFF, has=(REMEDY_Y,), nodev=True),
    # 7. JSON strings escaped.
    Case("json-escapes", "quotes, backslashes and control characters in JSON strings (problem 7)",
         mounts=('22 1 253:1 / / rw - ext4 /dev/my"disk\\040\x01x rw\n', 22),
         release='6.12.0-"q\\"\tx', prefix="pivotable: a real root (ext4)",
         js={"root": {"mount_id": 22, "parent_id": 1, "fstype": "ext4",
                      "source": '/dev/my"disk\\040\x01x'},
             "kernel": '6.12.0-"q\\"\tx', "nullfs": False}),
    # 8. Nothing of the running system with a fake /proc: not its
    # /proc/config.gz, /boot/config-RELEASE (the release is this system's),
    # kernel log or uname.
    Case("no-leak", "no config in the fake /proc, none read from the system (problem 8)",
         rc=1, prefix=OFF, release=os.uname().release, boot_env=False,
         has=("if this kernel has CONFIG_NONROOT_INITRAMFS=y (neither ",
              "/proc/config.gz nor /boot/config-" + os.uname().release + " to tell)"),
         js={"config": None, "config_source": None, "kernel": os.uname().release,
             "kernel_log": None}),
    Case("no-leak-klog", "no kernel log with a fake /proc unless named (problem 8)",
         mounts=ROOTFS_ON_ROOTFS, boot_env=False, prefix=EITHER, js={"kernel_log": None}),
    Case("no-leak-release", "the fake release, not uname's (problem 8)",
         mounts=NULLFS, release="7.0.0-rc1", prefix="pivotable: on nullfs",
         has=("Linux 7.0.0-rc1",), js={"kernel": "7.0.0-rc1", "nullfs": True}),
    # 9. Found by review: user namespaces, roots off mount 1, bytes.
    Case("userns-real-root", "a user namespace of its own: CAP_SYS_ADMIN there may not "
         "be over the mount namespace (unshare -Ur: EPERM)", mounts=EXT4, uid_map="0 1000 1\n",
         rc=3, prefix="cannot tell: this process is in a user namespace of its own",
         has=("pivotable: a real root (ext4)", "EPERM"),
         js={"user_namespace": True, "pivotable": None}),
    Case("userns-stock", "in a user namespace, rootfs itself is still EINVAL",
         config=CONFIG_Y, uid_map="0 1000 1\n", rc=1, prefix=OFF, has=(REMEDY_Y,),
         js={"user_namespace": True}),
    Case("userns-unmapped", "a user namespace without a mapping (unshare -U)", mounts=EXT4,
         uid_map="", rc=3, prefix="cannot tell: this process is in a user namespace",
         js={"user_namespace": True}),
    Case("userns-initial", "the initial user namespace", mounts=EXT4,
         prefix="pivotable: a real root (ext4)", js={"user_namespace": False}),
    Case("userns-no-uid-map", "no uid_map (no user namespaces)", mounts=EXT4, uid_map=None,
         prefix="pivotable: a real root (ext4)", js={"user_namespace": None}),
    Case("feature-elsewhere", "the feature, root not on mount 1: maybe the rbind workaround "
         "over the second rootfs, which leaves the initramfs reachable", mounts=ROOTFS_ELSEWHERE,
         config=CONFIG_Y, cmdline="nonroot_initramfs", prefix=ON,
         has=("a bind mount of it put over it (the rbind workaround)", "reachable",
              "not mount 1"), js={"initramfs_reachable": None}),
    Case("nullfs-elsewhere", "7.x, root not on mount 1: maybe the rbind workaround",
         mounts=ROOTFS_ELSEWHERE, release=R73, prefix="pivotable: on nullfs",
         has=("the rbind workaround", "reachable"), js={"initramfs_reachable": None}),
    Case("rbind-elsewhere", "the rbind workaround on a kernel with the feature off, in "
         "another mount namespace: reachable all the same", mounts=ROOTFS_ELSEWHERE,
         config=CONFIG_Y, prefix=RBIND, js={"initramfs_reachable": True}),
    Case("param-without-config", "the parameter alone: a kernel without the feature ignores "
         "it", mounts=ROOTFS_ON_ROOTFS, cmdline="nonroot_initramfs", klog="", prefix=EITHER,
         has=("which a kernel without the feature ignores",), hasnt=(ON,),
         js={"initramfs_reachable": None, "parameter": "on", "kernel_log": False}),
    Case("klog-switch-failed", "asked for, but the kernel log says the switch failed: the "
         "rbind workaround over rootfs (make check's shim-fault boot)", mounts=ROOTFS_ON_ROOTFS,
         config=CONFIG_Y, cmdline="nonroot_initramfs",
         klog="[    0.287154] nonroot_initramfs: mkdir /root failed (error -5), the initramfs "
         "stays in rootfs\n", prefix="pivotable: a bind mount of rootfs (the rbind workaround)",
         has=("remedy: nonroot_initramfs given, but the switch failed",),
         js={"initramfs_reachable": True, "kernel_log": False, "parameter": "on"}),
    param_case("console=ttyS0\udca0nonroot_initramfs", "on", "nbsp",
               "0xa0 separates arguments, as the kernel's isspace() says"),
    Case("json-high-bytes", "bytes above 0x7f in a mountinfo field: ASCII JSON",
         mounts=("22 1 253:1 / / rw - ext4 /dev/nri\udcff rw\n", 22),
         prefix="pivotable: a real root (ext4)",
         js={"root": {"mount_id": 22, "parent_id": 1, "fstype": "ext4",
                      "source": "/dev/nri\u00ff"}}),
    # What the boot tests elsewhere see.
    Case("nullfs-7.3", "7.3: rootfs on nullfs", mounts=NULLFS, release=R73,
         cmdline="nonroot_initramfs", prefix="pivotable: on nullfs",
         js={"nullfs": True, "initramfs_reachable": False, "pivotable": True}),
    Case("feature-param", "6.12, parameter given", mounts=ROOTFS_ON_ROOTFS, config=CONFIG_Y,
         cmdline="console=ttyS0 nonroot_initramfs", prefix=ON, has=("nonroot_initramfs given",),
         js={"parameter": "on", "config": "y", "initramfs_reachable": False,
             "config_source": "PROC/config.gz"}),
    Case("feature-default-on", "6.12, default-on from /proc/config.gz", mounts=ROOTFS_ON_ROOTFS,
         config=DEFAULT_ON, prefix=ON, js={"config": "default-on", "parameter": None}),
    Case("stock-config-y", "stock rootfs, feature built: the exact remedy",
         config=CONFIG_Y, rc=1, prefix=OFF, has=(REMEDY_Y,),
         js={"pivotable": False, "exit": 1, "root": {"mount_id": 1, "parent_id": 1,
                                                      "fstype": "rootfs", "source": "rootfs"}}),
    Case("stock-config-n", "stock rootfs, feature not built", config=CONFIG_N, rc=1, prefix=OFF,
         has=("remedy: a kernel with CONFIG_NONROOT_INITRAMFS=y", "Linux 7.0 or later"),
         hasnt=(REMEDY_Y,), js={"config": "n"}),
    Case("stock-default-on-no-switch", "stock rootfs though default-on: the switch failed",
         config=DEFAULT_ON, rc=1, prefix=OFF,
         has=("remedy: nonroot_initramfs on by default (CONFIG_NONROOT_INITRAMFS_DEFAULT_ON=y), "
              "but the switch did not happen",), js={"config": "default-on"}),
    Case("stock-param-no-switch", "stock rootfs though given, feature built: the switch failed",
         config=CONFIG_Y, cmdline="nonroot_initramfs", rc=1, prefix=OFF,
         has=("remedy: nonroot_initramfs given, but the switch did not happen",)),
    Case("stock-param-unknown", "stock rootfs though given, no config",
         cmdline="nonroot_initramfs", rc=1, prefix=OFF,
         has=("remedy: nonroot_initramfs was given, but the switch did not happen",)),
    Case("stock-param-off", "stock rootfs, default-on turned off", config=DEFAULT_ON,
         cmdline="nonroot_initramfs=off", rc=1, prefix=OFF,
         has=(REMEDY_Y, "the command line turns it off")),
    Case("stock-unknown", "stock rootfs, no configuration anywhere", rc=1, prefix=OFF,
         has=("remedy: boot with nonroot_initramfs if this kernel has CONFIG_NONROOT_INITRAMFS=y",)),
    Case("stock-7.3-absolute", "7.x with rootfs as the absolute root: unexpected", release=R73,
         rc=1, prefix=OFF, has=("remedy: unexpected on Linux 7.3.4",)),
    Case("real-root-ext4", "a real root with a parent", mounts=EXT4, config=CONFIG_Y,
         prefix="pivotable: a real root (ext4)", hasnt=("remedy",),
         js={"remedy": None, "initramfs_reachable": None, "cap_sys_admin": True}),
    Case("real-root-feature-on", "a real root on the second rootfs", mounts=EXT4,
         config=DEFAULT_ON, prefix="pivotable: a real root (ext4; nonroot_initramfs on as well)"),
    Case("chroot-directory", "chroot into a directory that is no mount point", mounts=CHROOT,
         rc=1, prefix="not pivotable: the root directory is not a mount point",
         has=("EINVAL", "remedy: bind-mount the new root onto itself"), js={"root": None}),
    # 5. The command line grammar.
    param_case("console=ttyS0 nonroot_initramfs", "on", "bare"),
    param_case("nonroot_initramfs=1", "on", "1"),
    param_case("nonroot_initramfs=YES", "on", "YES"),
    param_case("nonroot_initramfs=True\tquiet", "on", "True-tab"),
    param_case('nonroot_initramfs="on"', "on", "quoted-value", "a quoted value (problem 5)"),
    param_case('"nonroot_initramfs=on"', "on", "quoted-arg", "a quoted argument (problem 5)"),
    param_case('nonroot_initramfs "nonroot_initramfs=off"', "off", "quoted-off",
               "a quoted argument turns it off (problem 5)"),
    param_case("nonroot-initramfs", "on", "dashes", "'-' is '_' in names (problem 5)"),
    param_case("nonroot-initramfs=Off", "off", "dashes-off", "'-' is '_', any case (problem 5)"),
    param_case("nonroot_initramfs=1 nonroot_initramfs=2", "on", "2-keeps-on"),
    param_case("nonroot_initramfs=0 nonroot_initramfs=2", "off", "2-keeps-off"),
    param_case("nonroot_initramfs=on nonroot_initramfs=", "on", "empty-ignored"),
    param_case("nonroot_initramfsX", None, "suffix-ignored"),
    param_case("nonroot_initramfs=on nonroot_initramfs=off", "off", "last-wins-off"),
    param_case("nonroot_initramfs=off nonroot_initramfs", "on", "last-wins-on"),
    param_case("console=ttyS0 -- nonroot_initramfs", None, "after-dashdash",
               "after -- it is init's (problem 5)"),
    param_case("nonroot_initramfs=off -- nonroot_initramfs=on", "off", "after-dashdash-off",
               "after -- it is init's (problem 5)"),
    param_case('"--" nonroot_initramfs', None, "quoted-dashdash",
               "a quoted -- ends the kernel's too (problem 5)"),
    param_case('foo="a nonroot_initramfs b"', None, "inside-quotes",
               "inside a quoted value it is foo's (problem 5)"),
    param_case('foo="a nonroot_initramfs=off b" nonroot_initramfs', "on", "inside-quotes-then",
               "a quoted value ends at its quote (problem 5)"),
]

SHELLS = [("busybox", ["busybox", "sh"]), ("dash", ["dash"]), ("bash", ["bash", "--posix"])]


def write_fake(c: Case, d: str):
    """The fake /proc in D/proc, /boot in D/boot, the kernel log in D/klog;
    returns the environment that names them."""
    proc, boot = os.path.join(d, "proc"), os.path.join(d, "boot")
    for sub in ("self/fdinfo", "sys/kernel"):
        os.makedirs(os.path.join(proc, sub))
    os.makedirs(boot)

    def put(path, text, opener=open):
        with opener(path, "wb") as f:
            f.write(text.encode("utf-8", "surrogateescape"))

    mountinfo, mnt_id = c.mounts
    if mountinfo is not None:
        put(os.path.join(proc, "self/mountinfo"), mountinfo)
    if c.fdinfo is not None:
        put(os.path.join(proc, "self/fdinfo/9"),
            c.fdinfo or f"pos:\t0\nflags:\t02200000\nmnt_id:\t{mnt_id}\nino:\t1\n")
    put(os.path.join(proc, "self/status"),
        c.status or f"Name:\tsh\nCapInh:\t0000000000000000\nCapPrm:\t{c.capeff}\n"
        f"CapEff:\t{c.capeff}\nCapBnd:\t{ALL_CAPS}\n")
    put(os.path.join(proc, "cmdline"), c.cmdline + "\n")
    if c.uid_map is not None:
        put(os.path.join(proc, "self/uid_map"), c.uid_map)
    if c.release is not None:
        put(os.path.join(proc, "sys/kernel/osrelease"), c.release + "\n")
    if c.config is not None:
        gz, plain = c.config if c.where == "both" else (c.config, c.config)
        if c.where in ("proc", "both"):
            put(os.path.join(proc, "config.gz"), gz, gzip.open)
        if c.where in ("boot", "both"):
            put(os.path.join(boot, f"config-{c.release}"), plain)
    env = dict(os.environ, PIVOTABLE_PROC=proc, PIVOTABLE_BOOT=boot)
    env.pop("PIVOTABLE_DMESG", None)
    if not c.boot_env:
        del env["PIVOTABLE_BOOT"]
    if c.klog is not None:
        put(os.path.join(d, "klog"), c.klog)
        env["PIVOTABLE_DMESG"] = os.path.join(d, "klog")
    return env, proc, boot


def nodev_prefix() -> list:
    """A command prefix that runs without /dev (a read-only empty tmpfs on it,
    in namespaces of its own), or [] where that cannot be had."""
    pre = ["unshare", "-rm", "sh", "-c", 'mount -t tmpfs -o ro nodev /dev && exec "$@"', "sh"]
    if not shutil.which("unshare"):
        return []
    r = subprocess.run(pre + ["test", "!", "-e", "/dev/null"], capture_output=True)
    return pre if r.returncode == 0 else []


def run(cmd, env):
    r = subprocess.run(cmd, env=env, capture_output=True, timeout=60)
    return (r.returncode, r.stdout.decode("utf-8", "surrogateescape"),
            r.stderr.decode("utf-8", "surrogateescape"))


def subset(want, got, where="") -> str:
    """Why GOT does not have WANT's fields (recursively), or ""."""
    if isinstance(want, dict) and isinstance(got, dict):
        for k, v in want.items():
            if k not in got:
                return f"no {where}{k}"
            why = subset(v, got[k], f"{where}{k}.")
            if why:
                return why
        return ""
    return "" if want == got and type(want) is type(got) else \
        f"{where.rstrip('.')} is {got!r}, want {want!r}"


def check_case(c: Case, script: str, shells, nodev: list) -> str:
    with tempfile.TemporaryDirectory(prefix="pivotable-") as d:
        env, proc, boot = write_fake(c, d)
        for sname, sh in shells:
            pre = nodev if c.nodev else []
            why = check_run(c, pre + sh + [script], env, proc, boot)
            if why:
                return f"[{sname}] {why}"
    return ""


def check_run(c: Case, cmd, env, proc, boot) -> str:
    rc, out, err = run(cmd, env)
    if "/dev/null" in err:
        return f"stderr mentions /dev/null: {err.strip()!r}"
    if err:
        return f"stderr: {err.strip()!r}"
    first = out.split("\n", 1)[0]
    if rc != c.rc:
        return f"exit {rc}, want {c.rc}: {out.strip()!r}"
    if not first.startswith(c.prefix):
        return f"verdict {first!r}, want {c.prefix!r}..."
    for s in c.has:
        if s not in out:
            return f"no {s!r} in {out.strip()!r}"
    for s in c.hasnt:
        if s in out:
            return f"{s!r} in {out.strip()!r}"
    if rc == 1 and "remedy:" not in out:
        return f"not pivotable without a remedy: {out.strip()!r}"

    qrc, qout, qerr = run(cmd + ["-q"], env)
    if (qrc, qout, qerr) != (rc, "", ""):
        return f"-q: exit {qrc}, output {qout + qerr!r}, want exit {rc} and nothing"

    jrc, jout, jerr = run(cmd + ["--json"], env)
    if jrc != rc or jerr:
        return f"--json: exit {jrc} (want {rc}), stderr {jerr.strip()!r}"
    try:
        jout.encode("utf-8", "surrogateescape").decode("ascii")
    except UnicodeDecodeError as e:
        return f"--json is not ASCII ({e}): {jout!r}"
    # Bytes above 0x7f: \u00XX in the JSON, the byte itself in the text.
    first, out = (re.sub("[\udc80-\udcff]", lambda m: chr(ord(m.group()) - 0xdc00), x)
                  for x in (first, out))
    try:
        j = json.loads(jout)
    except ValueError as e:
        return f"--json is no JSON ({e}): {jout!r}"
    if jout.count("\n") != 1 or not isinstance(j, dict):
        return f"--json is not one object on one line: {jout!r}"
    fields = {"pivotable", "exit", "verdict", "remedy", "root", "kernel", "nullfs",
              "parameter", "config", "config_source", "cap_sys_admin", "initramfs_reachable"}
    if fields - set(j):
        return f"--json lacks {sorted(fields - set(j))}"
    agree = {"exit": rc, "verdict": first, "pivotable": {0: True, 1: False}.get(rc)}
    why = subset(agree, j)
    if why:
        return f"--json disagrees with the text: {why}"
    if rc == 1 and not j["remedy"]:
        return "--json: not pivotable without a remedy"
    if j["remedy"] is not None and j["remedy"] not in out:
        return f"--json remedy {j['remedy']!r} is not in the text"
    want = {k: (v.replace("PROC/", proc + "/").replace("BOOT/", boot + "/")
                if isinstance(v, str) else v) for k, v in c.js.items()}
    why = subset(want, j)
    return f"--json: {why}" if why else ""


def check_usage(script, shells) -> list:
    """The options: -h, --help exit 0 with the usage on stdout; anything
    else is a usage error (exit 2, usage on stderr, nothing on stdout)."""
    results = []
    env = dict(os.environ)
    for name, args, want_rc in [("usage-h", ["-h"], 0), ("usage-help", ["--help"], 0),
                                ("usage-extra-arg", ["extra"], 2),
                                ("usage-q-extra-arg", ["-q", "extra"], 2),
                                ("usage-json-extra-arg", ["--json", "x"], 2),
                                ("usage-unknown-option", ["--bogus"], 2)]:
        why = ""
        for sname, sh in shells:
            rc, out, err = run(sh + [script] + args, env)
            text = out if want_rc == 0 else err
            if rc != want_rc:
                why = f"[{sname}] exit {rc}, want {want_rc}"
            elif "usage:" not in text:
                why = f"[{sname}] no usage on {'stdout' if want_rc == 0 else 'stderr'}"
            elif want_rc and out:
                why = f"[{sname}] stdout on a usage error: {out!r}"
            elif want_rc == 0 and ("PIVOTABLE_PROC" not in out or "PIVOTABLE_BOOT" not in out):
                why = f"[{sname}] the usage does not document PIVOTABLE_PROC and PIVOTABLE_BOOT"
            if why:
                break
        results.append((name, why))
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--script", default=SCRIPT, help="the script to test (%(default)s)")
    ap.add_argument("--results", help="append 'pass NAME' / 'fail NAME: why' lines to FILE")
    ap.add_argument("cases", nargs="*", help="run these cases only (by name)")
    a = ap.parse_args()
    script = os.path.abspath(a.script)
    shells = [(n, sh) for n, sh in SHELLS if shutil.which(sh[0])]
    if not shells:
        print("no shell to run the script with (busybox, dash, bash)", file=sys.stderr)
        return 1
    print(f"script {script}, shells: {' '.join(n for n, _ in shells)}")
    nodev = nodev_prefix()
    results = []
    for c in CASES:
        if a.cases and c.name not in a.cases:
            continue
        if c.nodev and not nodev:
            print(f"SKIP: {c.name}: cannot hide /dev here (unshare -rm)")
            continue
        results.append((c.name, check_case(c, script, shells, nodev)))
        print(f"PASS: {c.name}" if not results[-1][1] else
              f"FAIL: {c.name}: {results[-1][1]}  ({c.why})", flush=True)
    if not a.cases:
        for name, why in check_usage(script, shells):
            results.append((name, why))
            print(f"PASS: {name}" if not why else f"FAIL: {name}: {why}")
    if a.results:
        with open(a.results, "a") as r:
            for name, why in results:
                r.write(f"pass {name}\n" if not why else f"fail {name}: {why}\n")
    failed = sum(1 for _, why in results if why)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The Kconfig entries a series adds or changes, as the section of the
top-level Kconfig copy for that series.

usage: kconfig-entries.py TREE BASE REV SERIES           print the section
       kconfig-entries.py --update FILE SECTION_FILE       put it into FILE
       kconfig-entries.py --extract FILE SERIES            print FILE's section

An entry is a "config" or "menuconfig" block: its line and the indented lines
after it. The blocks of REV's Kconfig files that are not in BASE, byte for
byte, are the series' entries: new ones and changed ones (patch 1 of 6.12
changes "config RUST")."""
import re
import subprocess
import sys

HEADER = """\
# The Kconfig entries of the nonroot_initramfs series, one section per
# series: each block as the series leaves it in the file named above it,
# new or changed. Generated from patches/ by scripts/series.sh (make export);
# make drift fails when this copy differs. Read it here; edit the series.
"""


def git(tree, *args):
    return subprocess.run(["git", "-C", tree, *args], check=True,
                          capture_output=True, text=True).stdout


def blocks(text):
    out, cur = [], None
    for line in text.splitlines(keepends=True):
        if re.match(r"(menu)?config \w+", line):
            cur = [line]
            out.append(cur)
        elif cur is not None and (line.startswith(("\t", " ")) or line.strip() == ""):
            cur.append(line)
        else:
            cur = None
    return ["".join(b).rstrip("\n") + "\n" for b in out]


def section(tree, base, rev, series):
    files = git(tree, "diff", "--name-only", f"{base}..{rev}", "--", "*Kconfig*").split()
    out = [f"# ---- v{series} ----\n"]
    for f in files:
        old = set(blocks(git(tree, "show", f"{base}:{f}"))) if \
            subprocess.run(["git", "-C", tree, "cat-file", "-e", f"{base}:{f}"],
                           capture_output=True).returncode == 0 else set()
        for b in blocks(git(tree, "show", f"{rev}:{f}")):
            if b not in old:
                out.append(f"\n# {f}\n{b}")
    return "".join(out)


def split(text):
    """{series: section} of a Kconfig copy."""
    parts = re.split(r"(?m)^(?=# ---- v[0-9.]+ ----$)", text)
    return {re.match(r"# ---- v([0-9.]+) ----", p).group(1): p.rstrip("\n") + "\n"
            for p in parts if p.startswith("# ---- v")}


def main():
    a = sys.argv[1:]
    if a and a[0] == "--update":
        path, new = a[1], open(a[2]).read()
        try:
            secs = split(open(path).read())
        except FileNotFoundError:
            secs = {}
        secs.update(split(new))
        order = sorted(secs, key=lambda s: [int(x) for x in s.split(".")])
        with open(path, "w") as f:
            f.write(HEADER + "".join("\n" + secs[s] for s in order))
    elif a and a[0] == "--extract":
        sys.stdout.write(split(open(a[1]).read()).get(a[2], ""))
    elif len(a) == 4:
        sys.stdout.write(section(*a))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()

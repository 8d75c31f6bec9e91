#!/usr/bin/env bash
# Make a copy of a series to post under one's own name.
set -euo pipefail

usage() {
	cat <<USAGE
usage: ${0##*/} [-h] SERIES "Name <email>" OUTDIR

Copies patches/vSERIES to OUTDIR with the project's placeholder identity
(From:, Signed-off-by:, the MAINTAINERS entries, the cover letter's sender
and shortlog) replaced by yours, and checks that the copy still applies
with git am to the series' base. Sign off only if you can certify the
Developer's Certificate of Origin (Documentation/process/
submitting-patches.rst) for every patch: the script writes your
Signed-off-by: where the placeholder's was. Then, for example:
  git send-email --to=... OUTDIR/*.patch
USAGE
}
case "${1:-}" in
-h | --help) usage; exit 0 ;;
esac
[ $# = 3 ] || { usage >&2; exit 2; }

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
series=$1 who=$2 out=$3
check_series "$series"
[[ "$who" =~ ^[^\<\>]+\ \<[^\<\>@\ ]+@[^\<\>\ ]+\>$ ]] ||
	die "identity '$who' is not of the form 'Name <user@host>'"
name=${who% <*}

mkdir -p "$out"
find "$out" -maxdepth 1 -name '*.patch' -delete
cp "$TOP/patches/v$series"/*.patch "$out/"
# The placeholders: the authors' and the cover letter's sender.
ph1='Kernel Team <kernel-team@nonroot-initramfs.invalid>'
ph2="$SERIES_COMMITTER_NAME <$SERIES_COMMITTER_EMAIL>"
python3 - "$out" "$who" "$name" "$ph1" "$ph2" <<'PY'
import glob, re, sys
out, who, name, ph1, ph2 = sys.argv[1:]
for p in sorted(glob.glob(out + "/*.patch")):
    s = open(p, encoding="utf-8").read()
    s = s.replace(ph1, who).replace(ph2, who)
    # The cover letter's shortlog: "Kernel Team (7):".
    s = re.sub(r"(?m)^Kernel Team \((\d+)\):$", lambda m: f"{name} ({m.group(1)}):", s)
    open(p, "w", encoding="utf-8").write(s)
PY
if grep -l 'nonroot-initramfs.invalid\|nonroot-initramfs@invalid' "$out"/*.patch; then
	die "the placeholder identity is still in the files above"
fi

# The copy applies to the base, as the original does.
t=$("$TOP/scripts/fetch.sh" "$series")
scratch=$(mktemp -d "$CACHE/identity.XXXXXX")
trap 'git -C "$t" worktree remove -f "$scratch/tree" 2>/dev/null || true; rm -rf "$scratch"' EXIT
git -C "$t" worktree add -q --detach "$scratch/tree" base
find "$out" -maxdepth 1 -name '*.patch' ! -name '*-0000-*' | LC_ALL=C sort |
	xargs git -C "$scratch/tree" -c user.name="$name" -c user.email=x@invalid am -q
log "$out: $(find "$out" -maxdepth 1 -name '*.patch' | wc -l) files, from and signed off by $who; they apply to the base"

#!/usr/bin/env bash
# make field: set up, build the field kernels and image, boot every field
# case (scripts/field/field.py), print the table and "N passed, N failed".
set -euo pipefail

usage() {
	cat <<USAGE
usage: ${0##*/} [-h] [CASE...]

Runs the field test's CASEs (default: all; scripts/field/field.py list).
Logs and the table go to \$NRI_CACHE/runs/field-latest.
USAGE
}
case "${1:-}" in
-h | --help) usage; exit 0 ;;
esac

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../lib.sh"
"$TOP/scripts/setup.sh" 6.12 7.3 >&2
lock_cache
run=$CACHE/runs/field-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$run"
ln -sfn "$run" "$CACHE/runs/field-latest"
: >"$run/results"
start=$SECONDS
rc=0
python3 -u "$TOP/scripts/field/field.py" --logdir "$run" --results "$run/results" \
	--table "$run/table.md" "$@" || rc=$?
passed=$(grep -c '^pass ' "$run/results" || true)
failed=$(grep -c '^fail ' "$run/results" || true)
echo "results: $run/results; $((SECONDS - start)) s"
echo "$passed passed, $failed failed"
[ "$rc" = 0 ] && [ "$failed" = 0 ]

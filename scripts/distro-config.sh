#!/usr/bin/env bash
# Turn a distribution's kernel configuration into one with nonroot_initramfs:
# CONFIG_RUST and CONFIG_NONROOT_INITRAMFS on (and _DEFAULT_ON if asked),
# everything else as the distribution chose it, MODVERSIONS included. Prints
# every symbol that changed and why.
set -euo pipefail

usage() {
	cat <<USAGE
usage: ${0##*/} [-h] [--default-on] FROM [OUT]

FROM is a kernel .config (plain or .xz), e.g. Debian's
/usr/src/linux-config-6.12/config.amd64_none_amd64.xz (package
linux-config-6.12). OUT defaults to FROM's name + .nonroot-initramfs in the
current directory. Uses the 6.12 series tree and the toolchain of
scripts/setup.sh (Rust must be available for CONFIG_RUST). Fails, naming the
reason, when the feature cannot be turned on, or when MODVERSIONS was on and
would not stay on.
USAGE
}
default_on=
case "${1:-}" in
-h | --help) usage; exit 0 ;;
--default-on) default_on=1; shift ;;
esac
[ $# = 1 ] || [ $# = 2 ] || { usage >&2; exit 2; }

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
from=$1
[ -f "$from" ] || die "no configuration $from"
name=$(basename "$from" .xz)
out=${2:-$PWD/$name.nonroot-initramfs}
t=${NRI_TREE:-$("$TOP/scripts/series.sh" tree 6.12)}
mapfile -t kargs < <(kmake_args)
work=$(mktemp -d "$CACHE/distro-config.XXXXXX")
trap 'rm -rf "$work"' EXIT
km() { make -C "$t" O="$work" -s "${kargs[@]}" "$@" >/dev/null; }

case "$from" in
*.xz) xz -dc "$from" >"$work/.config" ;;
*) cp "$from" "$work/.config" ;;
esac
# The distribution's choices, as this tree reads them: the baseline to
# compare with, so that only what the feature changes is listed.
km olddefconfig
cp "$work/.config" "$work/before"

want=(RUST NONROOT_INITRAMFS)
[ -z "$default_on" ] || want+=(NONROOT_INITRAMFS_DEFAULT_ON)
args=()
for w in "${want[@]}"; do args+=(--enable "$w"); done
"$t/scripts/config" --file "$work/.config" "${args[@]}"
km olddefconfig

value() { # value FILE SYMBOL -> y, m, a value, or n
	sed -n -e "s/^CONFIG_$2=\\(.*\\)/\\1/p" -e "s/^# CONFIG_$2 is not set/n/p" "$1" | head -n 1
}

# Why CONFIG_RUST could not be turned on: the dependencies in init/Kconfig
# that distributions trip over.
explain_rust() {
	if ! km rustavailable 2>"$work/rust.err"; then
		log "Rust is not available: $(tail -n 1 "$work/rust.err")"
	fi
	if [ "$(value "$work/.config" DEBUG_INFO_BTF)" = y ] &&
		[ "$(value "$work/.config" PAHOLE_HAS_LANG_EXCLUDE)" != y ]; then
		log "DEBUG_INFO_BTF=y needs pahole >= 1.24 (package dwarves) for Rust;" \
			"have: $(value "$work/.config" PAHOLE_VERSION)"
	fi
	for s in RANDSTRUCT GCC_PLUGIN_RANDSTRUCT KASAN_SW_TAGS LTO; do
		[ "$(value "$work/.config" "$s")" != y ] || log "CONFIG_$s=y rules out CONFIG_RUST"
	done
}

bad=0
for w in "${want[@]}"; do
	if [ "$(value "$work/.config" "$w")" != y ]; then
		log "CONFIG_$w could not be turned on"
		[ "$w" != RUST ] || explain_rust
		bad=1
	fi
done
if [ "$(value "$work/before" MODVERSIONS)" = y ] && [ "$(value "$work/.config" MODVERSIONS)" != y ]; then
	log "CONFIG_MODVERSIONS was on and is not any more"
	bad=1
fi
[ "$bad" = 0 ] || die "the feature cannot be turned on in $from"

# Every symbol that changed: asked for, or a consequence (a new option under
# one that is now on, with its default, or one selected by it).
echo "changes to $name:"
{
	sed -n -e 's/^CONFIG_\([A-Za-z0-9_]*\)=.*/\1/p' -e 's/^# CONFIG_\([A-Za-z0-9_]*\) is not set/\1/p' \
		"$work/before" "$work/.config"
} | LC_ALL=C sort -u | while read -r s; do
	a=$(value "$work/before" "$s") b=$(value "$work/.config" "$s")
	[ "$a" != "$b" ] || continue
	if [ -z "$a" ]; then
		a="(absent)"
		why="an option that exists only with CONFIG_RUST or the feature: its default"
	else
		why="follows from the options asked for (select or dependency)"
	fi
	for w in "${want[@]}"; do [ "$s" != "$w" ] || why="asked for"; done
	echo "  CONFIG_$s: $a -> ${b:-(absent)} ($why)"
done
echo "kept: CONFIG_MODVERSIONS=$(value "$work/.config" MODVERSIONS)"
cp "$work/.config" "$out"
echo "wrote $out"

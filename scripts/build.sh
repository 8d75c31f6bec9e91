#!/usr/bin/env bash
# Configure and build a test kernel from the series tree.
set -euo pipefail

usage() {
	cat <<USAGE
usage: ${0##*/} [-h] SERIES [FRAGMENT...]

Builds base + patches/vSERIES in \$NRI_CACHE/build/SERIES[-NAME] (NAME joins the
extra fragments' names) from allnoconfig + tools/testing/nonroot_initramfs/
kernel.config + vSERIES.config there + each FRAGMENT, and prints the boot
image's path (bzImage; Image for a fragment that asks for ARCH=arm64).
Incremental.

NRI_MODULES=DIR: also build the modules and install them under DIR
(modules_install's INSTALL_MOD_PATH: DIR/lib/modules/VERSION).
USAGE
}
case "${1:-}" in
-h | --help) usage; exit 0 ;;
esac
[ $# -ge 1 ] || { usage >&2; exit 2; }

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
series=$1
shift
check_series "$series"
h=$TOP/tools/testing/nonroot_initramfs
frags=("$h/kernel.config")
[ -f "$h/v$series.config" ] && frags+=("$h/v$series.config")
frags+=("$@")
name=$series
for f in "$@"; do
	[ -f "$f" ] || die "no config fragment $f"
	n=$(basename "$f")
	name=$name-${n%.config}
done

# NRI_TREE/NRI_OUT: build another tree (scripts/bisect.sh); NRI_CONFIG_LENIENT:
# options that do not exist in that tree are not an error.
t=${NRI_TREE:-$("$TOP/scripts/series.sh" tree "$series")}
out=${NRI_OUT:-$CACHE/build/$name}
mkdir -p "$out"
mapfile -t kargs < <(kmake_args)
# A fragment may ask for make arguments ("# build.sh: LLVM=-19").
while read -r a; do
	kargs+=("$a")
done < <(sed -n 's/^# build\.sh: //p' "${frags[@]}" | tr ' ' '\n' | sed '/^$/d')
km() { make -C "$t" O="$out" -s "${kargs[@]}" "$@"; }

# Reconfigure only when the fragments change, so rebuilds stay incremental.
# A later fragment may set a symbol again: its value is the one checked.
want=$(cat "${frags[@]}" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$out/.nri-config" 2>/dev/null || true)" != "$want" ] || ! [ -f "$out/.config" ]; then
	km allnoconfig >/dev/null
	KCONFIG_CONFIG="$out/.config" "$t/scripts/kconfig/merge_config.sh" -m -Q \
		-O "$out" "$out/.config" "${frags[@]}" >/dev/null
	km olddefconfig >/dev/null
	bad=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=n) grep -q "^${line%=n}=" "$out/.config" || continue ;;
		CONFIG_*) grep -qxF "$line" "$out/.config" && continue ;;
		*) continue ;;
		esac
		log "config: '$line' did not take effect"
		bad=1
	done < <(cat "${frags[@]}" | tac | awk -F= '/^CONFIG_/ { if (seen[$1]++) next } { print }')
	if [ "$bad" = 1 ] && [ -z "${NRI_CONFIG_LENIENT:-}" ]; then
		km rustavailable >&2 || true
		die "the kernel configuration in $out is not what the fragments ask for"
	fi
	echo "$want" >"$out/.nri-config"
fi
# The boot image of the architecture the fragments ask for (ARCH=).
image=bzImage arch=x86
for a in "${kargs[@]}"; do
	case "$a" in ARCH=arm64) image=Image arch=arm64 ;; esac
done
log "building $name in $out"
km -j"$(nproc)" "$image" >&2
if [ -n "${NRI_MODULES:-}" ]; then
	km -j"$(nproc)" modules >&2
	rm -rf "$NRI_MODULES/lib/modules"
	km INSTALL_MOD_PATH="$NRI_MODULES" modules_install >&2
fi
printf '%s\n' "$out/arch/$arch/boot/$image"

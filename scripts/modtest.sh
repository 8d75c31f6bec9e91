#!/usr/bin/env bash
# The MODVERSIONS test of the fleet kernel (fleet.config): build a C
# module for it and a copy with one symbol version CRC altered, check that a
# Rust module does not build and that Module.symvers has no Rust symbols, and
# write an initramfs holding both modules (the test initramfs and
# /nri-modules/{good,bad}.ko) for init.sh to load.
set -euo pipefail

usage() {
	cat <<USAGE
usage: ${0##*/} [-h] BUILD_DIR INITRAMFS OUT.cpio.gz

BUILD_DIR is the fleet test kernel's build directory, INITRAMFS the
test initramfs to extend. Prints what it checked; fails when a check fails.
USAGE
}
case "${1:-}" in
-h | --help) usage; exit 0 ;;
esac
[ $# = 3 ] || { usage >&2; exit 2; }

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
build=$(realpath "$1") base=$2 out=$3
t=${NRI_TREE:-$CACHE/git/linux-6.12}
src=$TOP/tools/testing/nonroot_initramfs/modversions
grep -qx 'CONFIG_MODVERSIONS=y' "$build/.config" || die "$build is not built with MODVERSIONS"
mapfile -t kargs < <(kmake_args)
work=$(mktemp -d "$CACHE/modtest.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r "$src/c" "$src/rust" "$work/"

# Module.symvers: the kernel's exports and their CRCs (the test kernel is built
# as bzImage only; this adds modpost's module step).
make -C "$t" O="$build" -s "${kargs[@]}" -j"$(nproc)" modules >&2

# A C module, versioned against this kernel.
make -C "$t" O="$build" -s "${kargs[@]}" M="$work/c" modules >&2
echo "C module built: $(modinfo -F vermagic "$work/c/nri_modver.ko")"

# The same module with the version CRC of kernel_kobj flipped.
python3 - "$work/c/nri_modver.ko" "$work/bad.ko" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
# ELF64: section headers, the section name string table, then __versions:
# struct modversion_info { unsigned long crc; char name[56]; }.
shoff, = struct.unpack_from("<Q", data, 0x28)
shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
def section(i):
    name, _, _, _, off, size = struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
    return name, off, size
_, stroff, _ = section(shstrndx)
def name_of(n):
    return bytes(data[stroff + n:data.index(b"\0", stroff + n)]).decode()
for i in range(shnum):
    n, off, size = section(i)
    if name_of(n) != "__versions":
        continue
    for e in range(off, off + size, 64):
        if data[e + 8:e + 64].split(b"\0")[0] == b"kernel_kobj":
            crc, = struct.unpack_from("<Q", data, e)
            struct.pack_into("<Q", data, e, crc ^ 0xff)
            open(sys.argv[2], "wb").write(data)
            print(f"kernel_kobj CRC {crc:#010x} -> {crc ^ 0xff:#010x} in the altered copy")
            sys.exit(0)
sys.exit("no __versions entry for kernel_kobj")
PY

# No Rust symbol is exported: nothing can link against them unchecked.
rust_syms=$(awk '$2 ~ /^_R/' "$build/Module.symvers" | wc -l)
[ "$rust_syms" = 0 ] || die "Module.symvers lists $rust_syms Rust symbols"
grep -q "	kernel_kobj	" "$build/Module.symvers" || die "Module.symvers has no kernel_kobj"
echo "Module.symvers: $(wc -l <"$build/Module.symvers") symbols, none of them Rust"

# A Rust module must not build, and must say why.
if make -C "$t" O="$build" -s "${kargs[@]}" M="$work/rust" modules >"$work/rust.log" 2>&1; then
	die "a Rust module built with CONFIG_MODVERSIONS=y"
fi
grep -q "Rust code cannot be built as a module with CONFIG_MODVERSIONS=y" "$work/rust.log" ||
	{ cat "$work/rust.log" >&2; die "the Rust module failed, but not with the MODVERSIONS message"; }
echo "Rust module refused: $(grep -o 'nri_rust_mod.o: Rust code cannot.*' "$work/rust.log" | head -n 1)"

# The test initramfs, and the two modules.
gen=$TOOLS/gen_init_cpio
printf '%s\n' "dir /nri-modules 755 0 0" \
	"file /nri-modules/good.ko $work/c/nri_modver.ko 644 0 0" \
	"file /nri-modules/bad.ko $work/bad.ko 644 0 0" >"$work/spec"
cp "$base" "$work/img"
"$gen" -t 0 "$work/spec" | gzip -n -9 >>"$work/img"
mkdir -p "$(dirname "$out")"
mv "$work/img" "$out"
echo "wrote $out"

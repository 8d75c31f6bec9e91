#!/usr/bin/env bash
# The series' Rust with the second rustc (scripts/pins RUSTC2_*, Debian's
# rustc-web 1.85, extracted by scripts/setup.sh), and what keeps out what is
# newer than the series' minimum rustc when that rustc cannot be had.
set -euo pipefail

usage() {
	cat <<USAGE
usage: ${0##*/} [-h] build|msrv SERIES

  build  build rust/ and the series' Rust objects with the second rustc, in
         \$NRI_CACHE/build/SERIES-rustc2 (the test kernel's configuration);
         first make rustavailable, which checks it against the kernel's
         minimum
  msrv   the language features stabilized after the series' minimum rustc
         (scripts/min-tool-version.sh) and up to the second rustc, which that
         rustc would accept: none may appear in the Rust the series adds.
         (Library APIs newer than the minimum are clippy's incompatible_msrv,
         with the msrv of the tree's .clippy.toml, in make check's clippy step;
         anything newer than the second rustc fails its build.)
USAGE
}
case "${1:-}" in
-h | --help) usage; exit 0 ;;
esac
[ $# = 2 ] || { usage >&2; exit 2; }

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../lib.sh"
cmd=$1 s=$2
check_series "$s"
t=$CACHE/git/linux-$s
r2=$TOOLS/rustc-$RUSTC2_VERSION

case "$cmd" in
build)
	[ -x "$r2/bin/rustc" ] || "$TOP/scripts/setup.sh" "$s" >&2
	out=$CACHE/build/$s-rustc2
	mkdir -p "$out"
	toolchain_env
	mapfile -t kargs < <(RUSTC=$r2/bin/rustc RUSTDOC=$r2/bin/rustdoc RUSTFMT=$RUSTFMT \
		RUST_LIB_SRC=$r2/usr/lib/rustlib/src/rust/library kmake_args)
	km() { make -C "$t" O="$out" -s "${kargs[@]}" "$@"; }
	if ! cmp -s "$CACHE/build/$s/.config" "$out/.config"; then
		cp "$CACHE/build/$s/.config" "$out/.config"
		km olddefconfig
	fi
	km rustavailable
	grep -q "^CONFIG_RUSTC_VERSION_TEXT=\"rustc $RUSTC2_VERSION " "$out/.config" ||
		die "the configuration in $out is not for rustc $RUSTC2_VERSION"
	mapfile -t objs < <(git -C "$t" diff --name-only --diff-filter=A base..series -- '*.rs' |
		grep -v '^rust/' | sed 's/\.rs$/.o/' |
		while read -r o; do [ -f "$CACHE/build/$s/$o" ] && echo "$o"; done)
	km -j"$(nproc)" prepare "${objs[@]}"
	# Each object says which rustc made it.
	for o in rust/kernel.o "${objs[@]}"; do
		v=$(llvm-readelf-"$LLVM_VERSION" -p .comment "$out/$o" | grep -o 'rustc version [0-9.]*')
		echo "$o: $v"
		[ "$v" = "rustc version $RUSTC2_VERSION" ] || die "$o was not built by rustc $RUSTC2_VERSION"
	done
	;;
msrv)
	min=$(SRCARCH=x86 ARCH=x86_64 "$t/scripts/min-tool-version.sh" rustc)
	echo "minimum rustc of $s: $min; second rustc: $RUSTC2_VERSION"
	# version%what%pattern (extended regex over one line of added code)
	features=(
		'1.79.0%inline const blocks%(^|[^a-z_])const[[:space:]]*\{'
		'1.80.0%exclusive range patterns%([0-9]|[A-Z_])[[:space:]]*\.\.[[:space:]]*[0-9A-Z_]+[[:space:]]*(=>|\|)'
		'1.82.0%&raw const / &raw mut%&raw[[:space:]]+(const|mut)[[:space:]]'
		'1.82.0%unsafe extern blocks%unsafe[[:space:]]+extern[[:space:]]*("[^"]*")?[[:space:]]*\{'
		'1.82.0%unsafe attributes%#\[unsafe\('
		'1.82.0%precise capturing use<..>%[[:space:]+]use<'
		'1.82.0%nested fields in offset_of!%offset_of!\([^,]+,[[:space:]]*[a-z_0-9]+\.[a-z_0-9]'
		'1.85.0%async closures%async[[:space:]]+(move[[:space:]]+)?\|'
	)
	added=$(git -C "$t" diff base..series -- '*.rs' | sed -n -e '/^+++ /d' -e 's/^+//p' | sed 's#//.*##')
	rc=0
	for f in "${features[@]}"; do
		IFS='%' read -r ver what re <<<"$f"
		# Only what is newer than the minimum and not newer than the second rustc.
		[ "$(printf '%s\n%s\n' "$ver" "$min" | sort -V | tail -n 1)" = "$min" ] && continue
		[ "$(printf '%s\n%s\n' "$ver" "$RUSTC2_VERSION" | sort -V | tail -n 1)" = "$RUSTC2_VERSION" ] ||
			continue
		if hits=$(grep -nE -- "$re" <<<"$added"); then
			echo "rustc $ver: $what, newer than $min:"
			while IFS= read -r l; do echo "  $l"; done <<<"$hits"
			rc=1
		else
			echo "rustc $ver: $what: none"
		fi
	done
	exit "$rc"
	;;
*) usage >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# What the kernel test robot runs on every patch, on the files a series
# touches: W=1, sparse (C=2), kernel-doc, the documents through the kernel's
# Sphinx setup, rustdoc. A finding fails the check only when the base (the
# same files, the same configuration, before the series) does not have it.
set -euo pipefail

usage() {
	cat <<USAGE
usage: ${0##*/} [-h] CHECK SERIES

CHECK:
  w1          make W=1 on the C objects the series touches (kernel-doc -none
              included, as kbuild runs it)
  sparse      make C=2 (sparse) on the same objects
  kernel-doc  scripts/kernel-doc -Wall on the C files and headers the series
              touches; every non-static function it adds has kernel-doc
  htmldocs    make htmldocs SPHINXDIRS= the directories of the documents the
              series touches
  rustdoc     make rustdoc: no warning in a file the series touches

The series side builds in the clippy build directory (the test kernel's
configuration); the base side in a work tree of the base commit
(\$NRI_CACHE/git/linux-SERIES-base), configured the same, without Rust. Both
are kept for the next run. Prints the new findings; exit status 1 if any.
USAGE
}
case "${1:-}" in
-h | --help) usage; exit 0 ;;
esac
[ $# = 2 ] || { usage >&2; exit 2; }

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../lib.sh"
check=$1 s=$2
check_series "$s"
t=$CACHE/git/linux-$s
bt=$CACHE/git/linux-$s-base
out=$CACHE/build/$s-clippy
bout=$CACHE/build/$s-base-robot
mapfile -t kargs < <(kmake_args)
[ -f "$out/.config" ] || die "no $out/.config: run make check's clippy step (scripts/check.sh) first"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The base commit in a work tree of its own (the series tree is the test
# kernel's), configured like the series' test kernel without Rust.
base_tree() {
	if ! [ -d "$bt" ]; then
		git -C "$t" worktree prune
		git -C "$t" worktree add -q --detach "$bt" base
	else
		git -C "$bt" checkout -q --detach "$(git -C "$t" rev-parse base)"
	fi
	mkdir -p "$bout"
	if ! cmp -s "$out/.config" "$bout/.config.from"; then
		cp "$out/.config" "$bout/.config"
		"$bt/scripts/config" --file "$bout/.config" --disable RUST
		make -C "$bt" O="$bout" -s "${kargs[@]}" olddefconfig
		cp "$out/.config" "$bout/.config.from"
	fi
}

changed() { git -C "$t" diff --name-only --diff-filter="${2:-AM}" base..series -- "$1"; }

# The C objects the series touches that the test kernel builds.
objects() {
	local c o
	for c in $(changed '*.c'); do
		o=${c%.c}.o
		[ -f "$CACHE/build/$s/$o" ] && echo "$o"
	done
	return 0
}

# normalize: compiler and kernel-doc findings as "file: message", without
# line numbers or the tree's path, sorted.
normalize() {
	sed -nE "s#^([^ :]*/(linux-$s(-base)?|build/[^/ :]+)/)?([^ :]+):[0-9]+(:[0-9]+)?: (warning|error|WARNING|ERROR): #\\4: \\6: #p" |
		sed -E 's/ \[-W[^]]*\]$//' | LC_ALL=C sort
}

# compare WHAT: $tmp/series and $tmp/base are the findings of both sides;
# print those the base does not have.
compare() {
	normalize <"$tmp/series" >"$tmp/series.n"
	normalize <"$tmp/base" >"$tmp/base.n"
	echo "$1: $(wc -l <"$tmp/series.n") findings with the series, $(wc -l <"$tmp/base.n") on the base"
	# Lines of the series beyond those of the base, counted (comm on sorted lists).
	LC_ALL=C comm -23 "$tmp/series.n" "$tmp/base.n" >"$tmp/new"
	if [ -s "$tmp/new" ]; then
		echo "new with the series:"
		sed 's/^/  /' "$tmp/new"
		grep -F -f <(cut -d: -f1 "$tmp/new" | sort -u) "$tmp/series" | sed 's/^/  | /' | head -n 40
		return 1
	fi
	echo "nothing new"
}

# make_objs DIR TREE ARGS...: build the objects again (removed first, so that
# every finding is printed again on a warm run).
make_objs() {
	local d=$1 tr=$2 o have=()
	shift 2
	for o in "${objs[@]}"; do
		[ -f "$tr/${o%.o}.c" ] || continue
		rm -f "$d/$o"
		have+=("$o")
	done
	make -C "$tr" O="$d" "${kargs[@]}" -j"$(nproc)" "$@" "${have[@]}" 2>&1 || true
}

case "$check" in
w1 | sparse)
	mapfile -t objs < <(objects)
	((${#objs[@]})) || { echo "no C object of the series is built"; exit 0; }
	echo "objects: ${objs[*]}"
	base_tree
	if [ "$check" = w1 ]; then
		make_objs "$out" "$t" CLIPPY=1 W=1 >"$tmp/series"
		make_objs "$bout" "$bt" W=1 >"$tmp/base"
	else
		command -v sparse >/dev/null || die "no sparse: run scripts/setup.sh"
		# C=1: sparse on what is compiled, the objects only (prepare's files
		# are up to date, or not the series').
		make_objs "$out" "$t" CLIPPY=1 C=1 >"$tmp/series.all"
		make_objs "$bout" "$bt" C=1 >"$tmp/base.all"
		# The findings in the objects' sources and the headers the series touches.
		mine=$({ printf '%s\n' "${objs[@]/%.o/.c}"; changed '*.h'; } | sed 's/\./\\./g' | paste -sd'|')
		grep -E "(^|/)($mine):" "$tmp/series.all" >"$tmp/series" || true
		grep -E "(^|/)($mine):" "$tmp/base.all" >"$tmp/base" || true
		grep -E '^  (CC|CHECK) ' "$tmp/series.all" >>"$tmp/series" || true
		grep -E '^  (CC|CHECK) ' "$tmp/base.all" >>"$tmp/base" || true
	fi
	# Each object was compiled (W=1) or checked (sparse) on both sides.
	for o in "${objs[@]}"; do
		for side in series base; do
			grep -qE "^  (CC|CHECK) +([^ ]*/linux-$s(-base)?/)?${o%.o}\\.[co]\$" "$tmp/$side" ||
				{ cat "$tmp/$side"; die "$o: not built with $check on the $side side"; }
		done
	done
	compare "$check"
	;;
kernel-doc)
	mapfile -t files < <(changed '*.[ch]' | grep -v '^tools/')
	echo "files: ${files[*]}"
	base_tree
	: >"$tmp/series"
	: >"$tmp/base"
	for f in "${files[@]}"; do
		"$t/scripts/kernel-doc" -none -Wall "$t/$f" >>"$tmp/series" 2>&1 || true
		[ -f "$bt/$f" ] && { "$bt/scripts/kernel-doc" -none -Wall "$bt/$f" >>"$tmp/base" 2>&1 || true; }
	done
	rc=0
	compare kernel-doc || rc=1
	# Every function with external linkage that the series adds to a .c file
	# has a kernel-doc comment.
	for f in $(changed '*.c' | grep -v '^tools/'); do
		for fn in $(git -C "$t" diff base..series -- "$f" |
			sed -nE 's/^\+([a-z_][a-zA-Z0-9_ *]*[ *])?([a-z_][a-z0-9_]*)\(.*[^;]$/\1 \2/p' |
			grep -v '^static' | awk '{print $NF}'); do
			if "$t/scripts/kernel-doc" -rst -function "$fn" "$t/$f" 2>/dev/null | grep -q "c:function::"; then
				echo "kernel-doc: $f: $fn()"
			else
				echo "no kernel-doc: $f: $fn()"
				rc=1
			fi
		done
	done
	exit "$rc"
	;;
htmldocs)
	mapfile -t docs < <(changed 'Documentation/*' | grep -E '\.(rst|txt)$')
	((${#docs[@]})) || { echo "no document touched"; exit 0; }
	mapfile -t dirs < <(printf '%s\n' "${docs[@]}" | cut -d/ -f2 | sort -u)
	echo "documents: ${docs[*]}; SPHINXDIRS=${dirs[*]}"
	base_tree
	# -E: read every document again (Sphinx only prints the findings of the
	# documents it reads). The base's findings are kept per base commit.
	make -C "$t" O="$CACHE/build/$s-docs" SPHINXDIRS="${dirs[*]}" SPHINXOPTS=-E \
		htmldocs >"$tmp/series" 2>&1 ||
		{ tail -n 20 "$tmp/series"; echo "make htmldocs failed"; exit 1; }
	bd=$CACHE/build/$s-base-docs
	bf=$bd/findings-$(git -C "$t" rev-parse base)-$(printf '%s' "${dirs[*]}" | tr ' ' +)
	mkdir -p "$bd"
	if ! [ -f "$bf" ]; then
		make -C "$bt" O="$bd" SPHINXDIRS="${dirs[*]}" SPHINXOPTS=-E htmldocs >"$bf.tmp" 2>&1 ||
			{ tail -n 20 "$bf.tmp"; echo "make htmldocs failed on the base"; exit 1; }
		mv "$bf.tmp" "$bf"
	fi
	cp "$bf" "$tmp/base"
	compare htmldocs
	;;
rustdoc)
	make -C "$t" O="$out" -s "${kargs[@]}" CLIPPY=1 rustdoc >"$tmp/log" 2>&1 ||
		{ tail -n 30 "$tmp/log"; echo "make rustdoc failed"; exit 1; }
	mapfile -t rs < <(changed '*.rs')
	echo "rustdoc built; the series' Rust files: ${rs[*]}"
	# rustdoc's findings name the file on a "--> FILE:LINE:COL" line.
	if grep -E -- "--> .*($(IFS='|'; echo "${rs[*]}"))" "$tmp/log"; then
		grep -B5 -A10 -E "^(warning|error)" "$tmp/log" | head -n 60
		exit 1
	fi
	echo "warnings: $(grep -c '^warning' "$tmp/log" || true) in all, none in the series' files"
	;;
*) usage >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# The test command: set up, lint, drift-check, build and boot every series,
# then print "N passed, N failed". Exit status 0 only when nothing failed.
set -euo pipefail

usage() {
	cat <<USAGE
usage: ${0##*/} [-h] [SERIES...]

SERIES defaults to "6.12 7.3". Logs go to \$NRI_CACHE/runs/latest.
USAGE
}
case "${1:-}" in
-h | --help) usage; exit 0 ;;
esac

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
series=("$@")
((${#series[@]})) || series=(6.12 7.3)
for s in "${series[@]}"; do check_series "$s"; done
lock_cache

run=$CACHE/runs/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$run"
ln -sfn "$run" "$CACHE/runs/latest"
results=$run/results
: >"$results"
start=$SECONDS

# record NAME CMD...: run CMD with its output in $run/NAME.log; one result.
record() {
	local name=$1
	shift
	if "$@" >"$run/$name.log" 2>&1; then
		echo "pass $name" >>"$results"
		echo "PASS: $name"
	else
		echo "fail $name" >>"$results"
		echo "FAIL: $name (log: $run/$name.log)"
		tail -n 20 "$run/$name.log" | sed 's/^/    /'
		return 1
	fi
}

# drift_must_fail SERIES VAR FILE WHAT: the drift check of SERIES, with VAR
# pointing to FILE (a tampered copy), must fail.
drift_must_fail() {
	if env "$2=$3" "$TOP/scripts/series.sh" check "$1"; then
		echo "drift check passed $4"
		return 1
	fi
	echo "drift check failed on $4, as it must"
}

# The drift check must catch a patch edited by hand: tamper with a copy.
drift_catches_hand_edit() (
	s=$1
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	cp "$TOP/patches/v$s"/*.patch "$tmp/"
	f=$(find "$tmp" -name '*.patch' ! -name '*-0000-*' | LC_ALL=C sort | tail -n 1)
	# Change one added line of the last patch, keeping it applicable.
	orig=$TOP/patches/v$s/${f##*/}
	awk '!done && /^\+[^+]/ { print $0 " (edited)"; done = 1; next } { print }' "$orig" >"$f"
	cmp -s "$f" "$orig" && { echo "could not tamper with $f"; return 1; }
	drift_must_fail "$s" NRI_PATCHES_DIR "$tmp" "a hand-edited patch"
)

# And an edit of the top-level Kconfig copy.
drift_catches_kconfig_edit() (
	s=$1
	tmp=$(mktemp)
	trap 'rm -f "$tmp"' EXIT
	sed 's/^\tdepends on NONROOT_INITRAMFS$/\tdepends on NONROOT_INITRAMFS \&\& EXPERT/' \
		"$TOP/Kconfig" >"$tmp"
	cmp -s "$tmp" "$TOP/Kconfig" && { echo "could not edit the Kconfig copy"; return 1; }
	drift_must_fail "$s" NRI_KCONFIG "$tmp" "an edited Kconfig copy"
)

# The copy of a series a poster sends under their own name (scripts/identity.sh):
# every patch from and signed off by them, and it applies.
identity_copy() (
	s=$1
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	"$TOP/scripts/identity.sh" "$s" "Jane Doe <jane@example.org>" "$tmp"
	n=$(find "$TOP/patches/v$s" -name '*.patch' ! -name '*-0000-*' | wc -l)
	for want in "^From: Jane Doe <jane@example.org>$" "^Signed-off-by: Jane Doe <jane@example.org>$"; do
		got=$(cat "$tmp"/*.patch | grep -c "$want" || true)
		[ "$got" -ge "$n" ] || { echo "$got lines '$want', want $n or more"; return 1; }
	done
	echo "$n patches from and signed off by Jane Doe, applied to the base"
)

record setup "$TOP/scripts/setup.sh" "${series[@]}" || true
mapfile -t kargs < <(kmake_args)
toolchain_env
record shellcheck shellcheck -x "$TOP"/scripts/*.sh "$TOP"/scripts/*/*.sh \
	"$TOP"/tools/testing/nonroot_initramfs/*.sh "$TOP"/tools/pivotable/pivotable \
	"$TOP"/tools/testing/nonroot_initramfs/bundle/*.sh \
	"$TOP"/tools/testing/nonroot_initramfs/field/nri-field "$TOP/.ci/run" || true
record python-syntax python3 -m py_compile "$TOP"/scripts/*.py "$TOP"/scripts/*/*.py \
	"$TOP"/tools/testing/nonroot_initramfs/pivotable/*.py || true
# The man page: groff's warnings (-ww) are failures.
man_page() {
	local w
	w=$(groff -man -ww -z "$TOP/tools/pivotable/pivotable.8" 2>&1)
	[ -z "$w" ] || { echo "$w"; return 1; }
	echo "pivotable.8: no groff warnings"
}
record pivotable-man man_page || true
# The published benchmark: its table is what scripts/bench.py makes of its
# runs (seconds, no boots); the README quotes that table.
bench_published() (
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	cp "$TOP/Documentation/bench/runs.json" "$tmp/"
	python3 "$TOP/scripts/bench.py" --replot "$tmp"
	diff -u "$TOP/Documentation/bench/table.md" "$tmp/table.md"
)
record bench-published-table bench_published || true
# pivotable on crafted /proc and /boot trees, under each shell there is
# (tools/testing/nonroot_initramfs/pivotable/crafted.py; seconds). The boots
# check that it agrees with a real pivot_root.
python3 "$TOP/tools/testing/nonroot_initramfs/pivotable/crafted.py" --results "$results" \
	>"$run/pivotable-crafted.log" 2>&1 ||
	echo "fail pivotable-crafted-driver (log: $run/pivotable-crafted.log)" >>"$results"
grep -E '^FAIL: ' "$run/pivotable-crafted.log" || true
tail -n 1 "$run/pivotable-crafted.log"
record initramfs "$TOP/scripts/mkinitramfs.sh" "$CACHE/initramfs.cpio.gz" || true
record builtin-initramfs "$TOP/scripts/mkmedia.sh" builtin "$CACHE/initramfs.cpio.gz" || true
if [[ " ${series[*]} " == *" 6.12 "* ]]; then
	record initramfs-arm64 "$TOP/scripts/mkinitramfs.sh" --arch arm64 \
		"$CACHE/initramfs-arm64.cpio.gz" || true
fi

# series_rs SERIES [FILTER]: the Rust files base..series adds (A) or touches (AM).
series_rs() {
	git -C "$CACHE/git/linux-$1" diff --name-only --diff-filter="${2:-AM}" base..series -- '*.rs'
}

# Style of what the series adds: checkpatch --strict on every patch, rustfmt on
# every Rust file it touches. Three checkpatch messages are false positives
# here: FILE_PATH_CHANGES (rust/ is covered by the RUST entry of MAINTAINERS),
# REPEATED_WORD (the "rootfs rootfs" of a mountinfo line in the documentation)
# and UNKNOWN_COMMIT_ID (the trees are imports of Debian's source packages,
# without history: the mainline commits patch 2 cites are not in them).
style() (
	s=$1 t=$CACHE/git/linux-$1
	rc=0
	# From the kernel tree: checkpatch reads its surroundings (MAINTAINERS, ...).
	for p in "$TOP/patches/v$s"/*.patch; do
		case "$p" in *-0000-cover-letter.patch) continue ;; esac
		(cd "$t" && PATH=$TOOLS/venv/bin:$PATH ./scripts/checkpatch.pl --strict --quiet \
			--ignore FILE_PATH_CHANGES,REPEATED_WORD,UNKNOWN_COMMIT_ID "$p") || rc=1
	done
	mapfile -t rs < <(series_rs "$s")
	if ((${#rs[@]})); then
		(cd "$t" && "$RUSTFMT" --config-path .rustfmt.toml --edition 2021 --check "${rs[@]}") || rc=1
	fi
	exit "$rc"
)

# clippy (CLIPPY=1) on the Rust the series adds, in a build directory of its
# own, configured like the test kernel's, so the test kernel stays incremental.
clippy() (
	s=$1 t=$CACHE/git/linux-$1 out=$CACHE/build/$1-clippy
	mkdir -p "$out"
	if ! cmp -s "$CACHE/build/$s/.config" "$out/.config"; then
		cp "$CACHE/build/$s/.config" "$out/.config"
		make -C "$t" O="$out" -s "${kargs[@]}" olddefconfig
	fi
	mapfile -t objs < <(series_rs "$s" A | grep -v '^rust/' | sed 's/\.rs$/.o/')
	make -C "$t" O="$out" -s "${kargs[@]}" CLIPPY=1 -j"$(nproc)" rust/ "${objs[@]}"
)

# kernel::boot_param handlers may only borrow the value: a handler that asks
# for &'static CStr must not compile, and the same handler borrowing must. The
# kernel's doctests cannot express compile_fail, so compile it here, as a
# single object in the tree, removed afterwards.
handler_lifetime() (
	s=$1 t=$CACHE/git/linux-$1 out=$CACHE/build/$1
	src=$t/fs/nri_handler_lifetime.rs
	trap 'rm -f "$src" "$out/fs/nri_handler_lifetime.o" "$out/fs/.nri_handler_lifetime.o.cmd"' EXIT
	tmpl=$TOP/tools/testing/nonroot_initramfs/handler_lifetime.rs
	sed "s/&LIFETIME /\&'static /" "$tmpl" >"$src"
	if make -C "$t" O="$out" -s "${kargs[@]}" fs/nri_handler_lifetime.o 2>"$run/lifetime.err"; then
		echo "a handler taking Option<&'static CStr> compiled"
		return 1
	fi
	grep -q "one type is more general than the other" "$run/lifetime.err" ||
		{ cat "$run/lifetime.err"; echo "failed, but not for the lifetime"; return 1; }
	echo "Option<&'static CStr> handler: rejected (one type is more general than the other)"
	sed "s/&LIFETIME /\&/" "$tmpl" >"$src"
	make -C "$t" O="$out" -s "${kargs[@]}" fs/nri_handler_lifetime.o
	echo "Option<&CStr> handler: compiles"
)

# A distribution's own configuration (Debian's, package linux-config-6.12)
# with the feature: RUST and NONROOT_INITRAMFS on, MODVERSIONS kept, and
# exactly the expected changes (config only: seconds, no build).
distro_config() (
	from=/usr/src/linux-config-6.12/config.amd64_none_amd64.xz
	out=$run/config.debian-nonroot-initramfs
	"$TOP/scripts/distro-config.sh" "$from" "$out" | tee "$run/distro-config.txt"
	for want in CONFIG_RUST=y CONFIG_NONROOT_INITRAMFS=y CONFIG_MODVERSIONS=y; do
		grep -qx "$want" "$out" || { echo "no $want in $out"; return 1; }
	done
	sed -n 's/^  //p' "$run/distro-config.txt" |
		diff -u "$TOP/tools/testing/nonroot_initramfs/distro-config.expected" -
)

# A 6.12 fleet configuration carries over to a later kernel: the options keep
# their names and meaning. Take the Debian 6.12 configuration with the feature
# (make distro-config; the 6.12 run of distro_config made it), turn on
# DEFAULT_ON, run olddefconfig in the later tree (config only): the feature
# must still be on by default. One change is needed, and it is not ours: 7.3
# builds Rust with MODVERSIONS through GENDWARFKSYMS (6.12 has no such
# option; its series' patch 1 does it another way); without it, RUST and with
# it the feature go.
config_carries_over() (
	s=$1 t=$CACHE/git/linux-$1 out=$CACHE/build/$1-carry
	from=$run/config.debian-nonroot-initramfs
	mkdir -p "$out"
	[ -f "$from" ] || "$TOP/scripts/distro-config.sh" \
		/usr/src/linux-config-6.12/config.amd64_none_amd64.xz "$from" >/dev/null
	cp "$from" "$out/.config"
	"$t/scripts/config" --file "$out/.config" --enable NONROOT_INITRAMFS_DEFAULT_ON \
		--enable GENDWARFKSYMS
	make -C "$t" O="$out" -s "${kargs[@]}" olddefconfig
	for want in CONFIG_RUST=y CONFIG_NONROOT_INITRAMFS=y CONFIG_NONROOT_INITRAMFS_DEFAULT_ON=y; do
		grep -qx "$want" "$out/.config" || { echo "not in the $s configuration: $want"; return 1; }
		echo "$want: kept"
	done
)

# KUnit's final_mount_state must fail when the switch was asked for and did
# not happen, while the boot goes on: the test kernel once more, with the
# mkdir wrapper of fs/namespace.c returning -EIO (incremental: seconds), booted
# with the parameter (boottest.py variant shim-fault); then built back.
shim_fault() (
	t=$CACHE/git/linux-6.12 f=fs/namespace.c
	trap 'git -C "$t" checkout -q -- "$f"; NRI_KEEP_TREE=1 "$TOP/scripts/build.sh" 6.12 >/dev/null' EXIT
	sed -i '/^int __init nonroot_initramfs_mkdir(/,/^}/ s/return init_mkdir(path, mode);/return -EIO;/' \
		"$t/$f"
	if git -C "$t" diff --quiet -- "$f"; then
		echo "could not make the mkdir wrapper fail"
		return 1
	fi
	bz=$(NRI_KEEP_TREE=1 "$TOP/scripts/build.sh" 6.12 | tail -n 1)
	python3 "$TOP/scripts/boottest.py" --series 6.12 --variant shim-fault --kernel "$bz" \
		--initramfs "$CACHE/initramfs.cpio.gz" --logdir "$run" --results "$results"
)

# The other test kernels of a series: a config fragment each, booted with the
# cases of boottest.py's variant of the same name. fleet has a built-in
# initramfs (scripts/mkmedia.sh builtin); debug is built with clang; arm64
# is the test kernel for arm64, built with LLVM, booted with the arm64
# initramfs.
variants() {
	case "$1" in
	6.12)
		echo "$TOP/tools/testing/nonroot_initramfs/fleet.config"
		echo "$TOP/tools/testing/nonroot_initramfs/debug.config"
		echo "$TOP/tools/testing/nonroot_initramfs/arm64.config"
		;;
	esac
}

# What the kernel test robot runs (scripts/robot/), for series S after its
# clippy step: W=1, sparse, kernel-doc and rustdoc against the base; the Rust
# with the second rustc, and no language feature newer than the series'
# minimum rustc. htmldocs (Sphinx: minutes of one core) runs in the
# background, next to the boots, which leave a core idle; its result is
# waited for before the summary.
robot() {
	local s=$1 c
	for c in w1 sparse kernel-doc rustdoc; do
		record "robot-$s-$c" "$TOP/scripts/robot/static.sh" "$c" "$s" || true
	done
	record "rustc-$RUSTC2_VERSION-$s" "$TOP/scripts/robot/rustc2.sh" build "$s" || true
	record "msrv-$s" "$TOP/scripts/robot/rustc2.sh" msrv "$s" || true
	record "robot-$s-htmldocs" "$TOP/scripts/robot/static.sh" htmldocs "$s" &
	background+=($!)
}
background=()

# The configuration matrix of the 6.12 series (scripts/robot/configs.py) from
# the fleet kernel's configuration: the object builds in a build directory of
# their own, the links in the fleet kernel's, put back afterwards.
config_matrix() {
	cp "$CACHE/build/6.12-fleet/.config" "$run/configs-base.config"
	python3 -u "$TOP/scripts/robot/configs.py" --tree "$CACHE/git/linux-6.12" \
		--base "$run/configs-base.config" --out "$CACHE/build/6.12-robot" \
		--link-dir "$CACHE/build/6.12-fleet" \
		--logdir "$run/configs" --results "$results" --kargs "$(printf '%s\n' "${kargs[@]}")"
}

# The configuration that patch 1 of v7 let through (MODVERSIONS with
# SAMPLE_RUST_MINIMAL=m) must fail the matrix's Kconfig check when the
# dependency on RUST_MODULES is taken out again (as in v7): the check is
# what refuses it (config only, seconds; the Kconfig file is restored).
kconfig_hole_is_caught() (
	t=$CACHE/git/linux-6.12 f=samples/rust/Kconfig
	trap 'git -C "$t" checkout -q -- "$f"' EXIT
	sed -i '/^config SAMPLE_RUST_MINIMAL$/,/^config /{/^\tdepends on RUST_MODULES$/d}' "$t/$f"
	if git -C "$t" diff --quiet -- "$f"; then
		echo "could not take the dependency out of $f"
		return 1
	fi
	if python3 "$TOP/scripts/robot/configs.py" --tree "$t" --base "$CACHE/build/6.12-fleet/.config" \
		--out "$CACHE/build/6.12-robot-kconfig" --logdir "$run/configs-hole" \
		--results /dev/null --kconfig-only modversions-sample-rust-minimal; then
		echo "the matrix accepted MODVERSIONS=y with SAMPLE_RUST_MINIMAL=m"
		return 1
	fi
	echo "without the dependency, the matrix's Kconfig check fails, as it must"
)

# The two series cannot share files; make range-diff shows how they differ.
# It must keep working, and pair the two versions of kernel::boot_param.
range_diff() {
	"$TOP/scripts/range-diff.sh" >"$run/range-diff.txt"
	grep -E '^[0-9]+: +[0-9a-f]+ ! [0-9]+: +[0-9a-f]+ rust: add boot_param' "$run/range-diff.txt"
}
if [[ " ${series[*]} " == *" 6.12 "* && " ${series[*]} " == *" 7.3 "* ]]; then
	record range-diff range_diff || true
fi

for s in "${series[@]}"; do
	record "drift-$s" "$TOP/scripts/series.sh" check "$s" || true
	record "drift-$s-catches-hand-edit" drift_catches_hand_edit "$s" || true
	record "drift-$s-catches-kconfig-edit" drift_catches_kconfig_edit "$s" || true
	record "identity-$s" identity_copy "$s" || true
	# Beyond Debian's tree: a vanilla 6.12.y (upstream tarball, deb-src).
	[ "$s" != 6.12 ] || record vanilla-6.12-applies "$TOP/scripts/vanilla.sh" || true
	# Every patch on its own, in the test kernel's tree and build directory:
	# the build of the series that follows is then incremental.
	"$TOP/scripts/bisect.sh" "$s" "$results" "$run" || echo "fail bisect-$s-driver" >>"$results"
	if record "build-$s" "$TOP/scripts/build.sh" "$s"; then
		record "style-$s" style "$s" || true
		record "boot_param-handler-lifetime-$s" handler_lifetime "$s" || true
		if [ "$s" = 6.12 ]; then
			record "distro-config-debian-$s" distro_config || true
		else
			record "config-carries-over-$s" config_carries_over "$s" || true
		fi
		# Only where the series has Rust to check.
		if series_rs "$s" | grep -q .; then
			record "clippy-$s" clippy "$s" || true
		fi
		robot "$s"
		if [ "$s" = 6.12 ]; then
			record "init-setup-layout-$s" python3 "$TOP/scripts/robot/init_setup.py" \
				"$CACHE/build/$s/vmlinux" || true
		fi
		bz=$(tail -n 1 "$run/build-$s.log")
		record "rustavailable-$s" make -C "$CACHE/git/linux-$s" O="$CACHE/build/$s" \
			-s "${kargs[@]}" rustavailable || true
		python3 "$TOP/scripts/boottest.py" --series "$s" --kunit --kernel "$bz" \
			--initramfs "$CACHE/initramfs.cpio.gz" --logdir "$run" \
			--results "$results" || echo "fail boottest-$s-driver" >>"$results"
		if [ "$s" = 6.12 ]; then
			# make bench, small: every mode runs, reachability as expected.
			python3 "$TOP/scripts/bench.py" --smoke --kernel "$bz" \
				--initramfs "$CACHE/initramfs.cpio.gz" --out "$run/bench-smoke" \
				--results "$results" >"$run/bench-smoke.log" 2>&1 ||
				echo "fail bench-smoke-driver (log: $run/bench-smoke.log)" >>"$results"
			tail -n 1 "$run/bench-smoke.log"
			shim_fault >"$run/shim-fault.log" 2>&1 ||
				echo "fail shim-fault-driver (log: $run/shim-fault.log)" >>"$results"
			grep -E '^(PASS|FAIL): ' "$run/shim-fault.log" | grep -v '^PASS' || true
		fi
	fi
	for frag in $(variants "$s"); do
		v=$(basename "$frag" .config)
		if record "build-$s-$v" "$TOP/scripts/build.sh" "$s" "$frag"; then
			bz=$(tail -n 1 "$run/build-$s-$v.log")
			initrd=$CACHE/initramfs.cpio.gz kunit=()
			if [ "$v" = arm64 ]; then
				initrd=$CACHE/initramfs-arm64.cpio.gz kunit=(--kunit)
				record "init-setup-layout-$s-$v" python3 "$TOP/scripts/robot/init_setup.py" \
					"$CACHE/build/$s-$v/vmlinux" || true
			fi
			if [ "$v" = fleet ]; then
				# The modules the fleet kernel's boots load; a Rust module
				# must not build.
				record "modversions-$s-$v-modules" "$TOP/scripts/modtest.sh" \
					"$CACHE/build/$s-$v" "$CACHE/initramfs.cpio.gz" \
					"$CACHE/media/modules.cpio.gz" || continue
			fi
			python3 "$TOP/scripts/boottest.py" --series "$s" --variant "$v" "${kunit[@]}" \
				--kernel "$bz" --initramfs "$initrd" --logdir "$run" \
				--results "$results" || echo "fail boottest-$s-$v-driver" >>"$results"
			if [ "$v" = fleet ]; then
				# After its boots: the matrix starts from this kernel's
				# configuration and links in its build directory (the
				# next build.sh of it is incremental).
				config_matrix >"$run/configs.log" 2>&1 ||
					echo "fail config-matrix-driver (log: $run/configs.log)" >>"$results"
				grep -E '^(PASS|FAIL): ' "$run/configs.log" || true
				record kconfig-hole-is-caught kconfig_hole_is_caught || true
			fi
		fi
	done
done

# An image whose package list names a package that does not exist: the build
# fails, naming it (seconds: apt stops before downloading anything).
field_image_names_a_missing_package() (
	l=$(mktemp) e=$(mktemp)
	trap 'rm -f "$l" "$e"' EXIT
	{ cat "$TOP/tools/testing/nonroot_initramfs/field/packages"; echo nri-no-such-package; } >"$l"
	if NRI_FIELD_PACKAGES=$l "$TOP/scripts/field/mkimage.sh" base 2>"$e"; then
		echo "an image with nri-no-such-package was built"
		return 1
	fi
	cat "$e"
	grep -q "Unable to locate package nri-no-such-package" "$e"
)

# The field test: a whole Debian system with the engines fleets run, on the
# 6.12 series (DEFAULT_ON) and on stock 7.3; its table closes the run.
if [[ " ${series[*]} " == *" 6.12 "* && " ${series[*]} " == *" 7.3 "* ]]; then
	record field-checks-self-test python3 "$TOP/scripts/field/field.py" --self-test || true
	record field-image-names-a-missing-package field_image_names_a_missing_package || true
	# Its PASS/FAIL lines as they come; the rest in field.log.
	{ python3 -u "$TOP/scripts/field/field.py" --logdir "$run" --results "$results" \
		--table "$run/field-table.md" 2>&1 || echo "FAIL: field-driver: exit $?"; } |
		tee "$run/field.log" | grep --line-buffered -E '^(PASS|FAIL): ' || true
	grep -q '^FAIL: field-driver' "$run/field.log" &&
		echo "fail field-driver (log: $run/field.log)" >>"$results"
else
	echo "skip field (it boots the 6.12 series and stock 7.3: run both series)" >>"$results"
	echo "SKIP: field (needs both series)"
fi

for p in "${background[@]}"; do wait "$p" || true; done
passed=$(grep -c '^pass ' "$results" || true)
failed=$(grep -c '^fail ' "$results" || true)
skipped=$(grep -c '^skip ' "$results" || true)
[ -f "$run/field-table.md" ] && cat "$run/field-table.md"
echo "results: $results; $((SECONDS - start)) s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]

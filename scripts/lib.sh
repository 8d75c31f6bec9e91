# shellcheck shell=bash
# Common definitions for the scripts in this directory. Source it; do not run it.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/pins
. "$TOP/scripts/pins"

# Everything big lives outside the clone so that a fresh clone reuses it.
CACHE=${NRI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nonroot-initramfs}
TOOLS=$CACHE/tools

# lock_cache: hold the cache for this process and its children. Two runs that
# share a cache (make check, make demo) would race on the trees and builds.
lock_cache() {
	mkdir -p "$CACHE"
	exec 9>"$CACHE/.lock"
	if ! flock -n 9; then
		log "waiting for another run that uses $CACHE"
		flock 9
	fi
}

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { printf '%s: error: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# Kernel series known to the workbench: "6.12" and "7.3".
check_series() {
	case "${1:-}" in
	6.12 | 7.3) ;;
	*) die "unknown kernel series '${1:-}' (expected 6.12 or 7.3)" ;;
	esac
}

# pin SERIES FIELD -> value of KSRC_<series>_<FIELD> from scripts/pins.
pin() {
	local var="KSRC_${1//./_}_$2"
	printf '%s' "${!var}"
}

# apt_mirror SUITE-REGEX: the URI of the first archive in this system's apt
# sources whose suite matches, as apt itself reports it.
apt_mirror() {
	apt-cache policy | awk -v re="$1" '
		$1 ~ /^[0-9]+$/ && $2 ~ /^[a-z]+:\/\// {
			split($3, s, "/")
			if (s[1] ~ re) { print $2; exit }
		}'
}

# apt options for a private view of another Debian suite: its own source list,
# lists and cache; the system's sources, preferences and dpkg state are untouched.
PAPT=$CACHE/apt
papt_opts() {
	printf '%s\n' \
		-o "Dir::Etc::SourceList=$PAPT/sources.list" \
		-o "Dir::Etc::SourceParts=/dev/null" \
		-o "Dir::Etc::Preferences=/dev/null" \
		-o "Dir::Etc::PreferencesParts=/dev/null" \
		-o "Dir::State::Lists=$PAPT/lists" \
		-o "Dir::State::Status=/dev/null" \
		-o "Dir::Cache=$PAPT/cache" \
		-o "APT::Sandbox::User=root"
}

# Toolchain environment for kernel builds; the user may override each piece.
toolchain_env() {
	RUSTC=${RUSTC:-$HOME/.rustup/toolchains/$RUSTC_VERSION-x86_64-unknown-linux-gnu/bin/rustc}
	local bin
	bin=$(dirname "$RUSTC")
	CLIPPY_DRIVER=${CLIPPY_DRIVER:-$bin/clippy-driver}
	RUSTFMT=${RUSTFMT:-$bin/rustfmt}
	RUSTDOC=${RUSTDOC:-$bin/rustdoc}
	BINDGEN=${BINDGEN:-$TOOLS/bindgen/bin/bindgen}
	RUST_LIB_SRC=${RUST_LIB_SRC:-$TOOLS/rust-src/usr/src/rustc-$RUSTC_VERSION/library}
	LIBCLANG_PATH=${LIBCLANG_PATH:-/usr/lib/llvm-$LLVM_VERSION/lib}
	VNG=${VNG:-$TOOLS/venv/bin/vng}
	export RUSTC CLIPPY_DRIVER RUSTFMT RUSTDOC BINDGEN RUST_LIB_SRC LIBCLANG_PATH VNG
}

# Arguments for the kernel's make: the toolchain and a quiet build.
kmake_args() {
	toolchain_env
	printf '%s\n' "RUSTC=$RUSTC" "BINDGEN=$BINDGEN" "RUSTFMT=$RUSTFMT" \
		"RUSTDOC=$RUSTDOC" "CLIPPY_DRIVER=$CLIPPY_DRIVER" \
		"RUST_LIB_SRC=$RUST_LIB_SRC" "HOSTRUSTC=$RUSTC"
}

# ksft_pivot_root: the path of the series' kselftest of pivot_root(2) from the
# initial root (tools/testing/selftests/filesystems/pivot_root, as exported
# from the patches), built statically for the test media. kselftest.h comes
# from the pinned 6.12 base.
ksft_pivot_root() {
	local src=$TOP/tools/testing/selftests/filesystems/pivot_root/pivot_root_test.c
	local bin=$TOOLS/nri-pivot_root_test t
	if ! [ -x "$bin" ] || [ "$src" -nt "$bin" ]; then
		t=$("$TOP/scripts/fetch.sh" 6.12)
		mkdir -p "$TOOLS"
		cc -static -O2 -Wall -I"$t/tools/testing/selftests" -o "$bin.tmp" "$src" >&2
		mv "$bin.tmp" "$bin"
	fi
	printf '%s\n' "$bin"
}

# The private apt view, used for rust-src, linux-source-7.3 and the field
# test's Debian 7.3 kernel (scripts/field/mkimage.sh debian-kernel).
setup_papt() {
	[ -f "$PAPT/lists/.updated" ] && return 0
	mkdir -p "$PAPT/lists/partial" "$PAPT/cache/archives/partial"
	local kr=/usr/share/keyrings/debian-archive-keyring.gpg main security
	# The mirrors this system already uses: the archive that serves a plain
	# suite (bookworm, trixie, ...) and the one that serves its -security.
	main=$(apt_mirror '^[a-z]+$')
	security=$(apt_mirror '^[a-z]+-security$')
	[ -n "$main" ] || die "no Debian archive in this system's apt sources (apt-cache policy)"
	[ -n "$security" ] || die "no Debian security archive in this system's apt sources (apt-cache policy)"
	cat >"$PAPT/sources.list" <<SRC
deb [signed-by=$kr] $main trixie-backports main
deb [signed-by=$kr] $security bookworm-security main
SRC
	mapfile -t o < <(papt_opts)
	apt-get "${o[@]}" update -qq
	touch "$PAPT/lists/.updated"
}

# fetch_deb PKG VERSION SHA256 [ARCH] -> path of the verified .deb in the cache
fetch_deb() {
	local pkg=$1 ver=$2 sum=$3 arch=${4:-all} dir=$CACHE/debs f
	mkdir -p "$dir"
	f=$dir/${pkg}_${ver//:/%3a}_$arch.deb
	if ! [ -f "$f" ] || ! echo "$sum  $f" | sha256sum -c --quiet - 2>/dev/null; then
		setup_papt
		mapfile -t o < <(papt_opts)
		log "downloading $pkg $ver"
		(cd "$dir" && apt-get "${o[@]}" download -qq "$pkg=$ver")
	fi
	echo "$sum  $f" | sha256sum -c --quiet - || die "$f: sha256 mismatch"
	printf '%s\n' "$f"
}

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
	printf '%s' "${!var:-}"
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

# target_cc ARCH: the C compiler for static test programs of ARCH (x86_64:
# the system's; arm64: the pinned clang, with the libc of the arm64 root that
# arm64_root extracts).
target_cc() {
	case "$1" in
	x86_64) printf '%s\n' cc ;;
	arm64) printf '%s\n' "clang-$LLVM_VERSION" --target=aarch64-linux-gnu \
		--sysroot="$(arm64_root)" -fuse-ld=lld ;;
	*) die "unknown architecture '$1' (expected x86_64 or arm64)" ;;
	esac
}

# static_prog ARCH NAME SRC [CFLAGS...]: SRC built statically for ARCH as
# $TOOLS/NAME[-ARCH] (rebuilt when SRC is newer); prints its path.
static_prog() {
	local arch=$1 name=$2 src=$3 bin cc
	shift 3
	bin=$TOOLS/$name
	[ "$arch" = x86_64 ] || bin=$bin-$arch
	if ! [ -x "$bin" ] || [ "$src" -nt "$bin" ]; then
		mapfile -t cc < <(target_cc "$arch")
		mkdir -p "$TOOLS"
		"${cc[@]}" -static -O2 -Wall "$@" -o "$bin.tmp" "$src" >&2
		mv "$bin.tmp" "$bin"
	fi
	printf '%s\n' "$bin"
}

# ksft_pivot_root [ARCH]: the path of the series' kselftest of pivot_root(2)
# from the initial root (tools/testing/selftests/filesystems/pivot_root, as
# exported from the patches), built statically for the test media. kselftest.h
# comes from the pinned 6.12 base.
ksft_pivot_root() {
	local t
	t=$("$TOP/scripts/fetch.sh" 6.12)
	static_prog "${1:-x86_64}" nri-pivot_root_test \
		"$TOP/tools/testing/selftests/filesystems/pivot_root/pivot_root_test.c" \
		-I"$t/tools/testing/selftests"
}

# The arm64 test programs come from Debian's arm64 packages, extracted (not
# installed: nothing of them runs on the host) from this system's own suite,
# the same packages as the x86_64 ones on the host; the C library and GCC's
# start files to link static test programs with clang.
ARM64_PACKAGES=(busybox-static crun runc bubblewrap libc6-dev
	"libgcc-$(gcc -dumpversion 2>/dev/null | cut -d. -f1)-dev")

# arm64_root: the path of that tree, made once per package list.
arm64_root() {
	local key r kr main security suite
	suite=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
	[ -n "$suite" ] || die "no VERSION_CODENAME in /etc/os-release"
	key=$(printf '%s\n' "$suite" "${ARM64_PACKAGES[@]}" | sha256sum | cut -c1-12)
	r=$CACHE/arm64-root-$key
	if ! [ -f "$r/.done" ]; then
		main=$(apt_mirror '^[a-z]+$')
		security=$(apt_mirror '^[a-z]+-security$')
		if [ -z "$main" ] || [ -z "$security" ]; then
			die "no Debian archive and security archive in this system's apt sources"
		fi
		kr=/usr/share/keyrings/debian-archive-keyring.gpg
		rm -rf "$r" "$r.tmp"
		log "extracting the arm64 packages: ${ARM64_PACKAGES[*]}"
		mmdebstrap --quiet --architectures=arm64 --variant=extract --format=directory \
			--include="$(IFS=,; echo "${ARM64_PACKAGES[*]}")" "$suite" "$r.tmp" \
			"deb [signed-by=$kr] $main $suite main" \
			"deb [signed-by=$kr] $security $suite-security main" >&2 ||
			die "could not extract the arm64 packages (mmdebstrap)"
		touch "$r.tmp/.done"
		mv "$r.tmp" "$r"
	fi
	printf '%s\n' "$r"
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

# fetch_deb PKG VERSION SHA256 [ARCH] -> path of the verified .deb in the cache,
# from the private view; NRI_SYSTEM_APT=1: from the system's own suites
# (apt-get download: nothing is installed).
fetch_deb() {
	local pkg=$1 ver=$2 sum=$3 arch=${4:-all} dir=$CACHE/debs f o=(-o APT::Sandbox::User=root)
	mkdir -p "$dir"
	f=$dir/${pkg}_${ver//:/%3a}_$arch.deb
	if ! [ -f "$f" ] || ! echo "$sum  $f" | sha256sum -c --quiet - 2>/dev/null; then
		if [ -z "${NRI_SYSTEM_APT:-}" ]; then
			setup_papt
			mapfile -t o < <(papt_opts)
		fi
		log "downloading $pkg $ver"
		(cd "$dir" && apt-get "${o[@]}" download -qq "$pkg=$ver")
	fi
	echo "$sum  $f" | sha256sum -c --quiet - || die "$f: sha256 mismatch"
	printf '%s\n' "$f"
}

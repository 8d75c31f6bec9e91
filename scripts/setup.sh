#!/usr/bin/env bash
# Install what the workbench needs: Debian packages from the system's own
# suites, rust-src matching the rustc in use (a private, read-only view of
# Debian trixie-backports: never added to the system's sources), bindgen from
# crates.io and virtme-ng from PyPI in a virtual environment. Idempotent.
set -euo pipefail

usage() {
	cat <<USAGE
usage: ${0##*/} [-h] [SERIES...]

Installs the toolchain into the system (Debian packages) and into the cache
(\$NRI_CACHE, default ~/.cache/nonroot-initramfs), and downloads the kernel
sources of each SERIES (default: 6.12 7.3). Set RUSTC, BINDGEN, RUST_LIB_SRC
or VNG to bring your own; the matching step is then skipped.
USAGE
}
case "${1:-}" in
-h | --help) usage; exit 0 ;;
-*) usage >&2; exit 2 ;;
esac

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
series=("$@")
((${#series[@]})) || series=(6.12 7.3)
for s in "${series[@]}"; do check_series "$s"; done

user_rustc=${RUSTC:-}
user_bindgen=${BINDGEN:-}
user_src=${RUST_LIB_SRC:-}
user_vng=${VNG:-}
toolchain_env
mkdir -p "$TOOLS"

PKGS=(build-essential flex bison bc libelf-dev libssl-dev cpio xz-utils git
	python3-venv ca-certificates "libclang-$LLVM_VERSION-dev"
	"clang-$LLVM_VERSION" "llvm-$LLVM_VERSION" "lld-$LLVM_VERSION"
	qemu-system-x86 busybox-static crun runc bubblewrap e2fsprogs kmod shellcheck
	dwarves linux-config-6.12 mmdebstrap qemu-system-arm sparse python3-sphinx
	python3-sphinx-rtd-theme debhelper dpkg-dev rsync groff-base zstd)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing+=("$p")
done
if ((${#missing[@]})); then
	log "installing Debian packages: ${missing[*]}"
	[ "$(id -u)" = 0 ] || die "need root to install: ${missing[*]}"
	apt-get update -qq
	# --no-upgrade: never move an installed package to a newer version.
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		--no-upgrade "${missing[@]}" >/dev/null
fi

if [ -z "$user_src" ] && ! [ -f "$RUST_LIB_SRC/core/src/lib.rs" ]; then
	deb=$(fetch_deb rust-src "$RUST_SRC_DEBVER" "$RUST_SRC_SHA256")
	rm -rf "$TOOLS/rust-src"
	dpkg-deb -x "$deb" "$TOOLS/rust-src"
fi
[ -f "$RUST_LIB_SRC/core/src/lib.rs" ] || die "no core/src/lib.rs under RUST_LIB_SRC=$RUST_LIB_SRC"

if [ -z "$user_rustc" ]; then
	have=$("$RUSTC" --version 2>/dev/null | cut -d' ' -f2) ||
		die "no rustc at $RUSTC (install Rust $RUSTC_VERSION with rustup, or set RUSTC)"
	[ "$have" = "$RUSTC_VERSION" ] || die "rustc is $have, rust-src is $RUSTC_VERSION: set RUSTC and RUST_LIB_SRC"
fi

# The second rustc (scripts/pins, RUSTC2_*): Debian's rustc-web, extracted
# into the cache, not installed; bin/rustc runs it with its own libraries.
r2=$TOOLS/rustc-$RUSTC2_VERSION
if ! "$r2/bin/rustc" --version 2>/dev/null | grep -qF " $RUSTC2_VERSION "; then
	log "extracting rustc $RUSTC2_VERSION (Debian rustc-web $RUSTC2_DEBVER)"
	rm -rf "$r2"
	for p in rustc-web:RUSTC:amd64 libstd-rust-web-${RUSTC2_VERSION%.*}:STD:amd64 \
		libstd-rust-web-dev:STDDEV:amd64 rust-web-src:SRC:all; do
		IFS=: read -r pkg sum arch <<<"$p"
		sum=RUSTC2_${sum}_SHA256
		dpkg-deb -x "$(NRI_SYSTEM_APT=1 fetch_deb "$pkg" "$RUSTC2_DEBVER" "${!sum}" "$arch")" "$r2"
	done
	mkdir -p "$r2/bin"
	for b in rustc rustdoc; do
		printf '#!/bin/sh\nLD_LIBRARY_PATH=%s/usr/lib/x86_64-linux-gnu exec %s/usr/bin/%s "$@"\n' \
			"$r2" "$r2" "$b" >"$r2/bin/$b"
		chmod +x "$r2/bin/$b"
	done
	"$r2/bin/rustc" --version | grep -qF " $RUSTC2_VERSION " || die "$r2/bin/rustc does not run"
fi

if [ -z "$user_bindgen" ] && ! "$BINDGEN" --version 2>/dev/null | grep -qF " $BINDGEN_VERSION"; then
	log "building bindgen-cli $BINDGEN_VERSION"
	cargo install --quiet --locked --root "$TOOLS/bindgen" bindgen-cli --version "$BINDGEN_VERSION"
fi

if [ -z "$user_vng" ] && ! "$VNG" --version 2>/dev/null | grep -qF "$VIRTME_NG_VERSION"; then
	log "installing virtme-ng $VIRTME_NG_VERSION"
	python3 -m venv "$TOOLS/venv"
	"$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check "virtme-ng==$VIRTME_NG_VERSION"
fi
# checkpatch.pl runs scripts/spdxcheck.py, which needs ply and GitPython: in
# the same venv, which scripts/check.sh puts first in PATH for checkpatch.
# scripts/bench.py plots with matplotlib.
if ! "$TOOLS/venv/bin/python3" -c "import ply, git, matplotlib
assert matplotlib.__version__ == '$MATPLOTLIB_VERSION'" 2>/dev/null; then
	[ -x "$TOOLS/venv/bin/pip" ] || python3 -m venv "$TOOLS/venv"
	"$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check "ply==$PLY_VERSION" \
		"GitPython==$GITPYTHON_VERSION" "matplotlib==$MATPLOTLIB_VERSION"
fi

# Kernel sources that come from the private view must be fetchable too.
for s in "${series[@]}"; do
	d=$CACHE/debs/$(pin "$s" PKG)_$(pin "$s" DEBVER)_all.deb
	[ -f "$d" ] || fetch_deb "$(pin "$s" PKG)" "$(pin "$s" DEBVER)" "$(pin "$s" SHA256)" >/dev/null
done
log "toolchain ready: $("$RUSTC" --version), bindgen $("$BINDGEN" --version | cut -d' ' -f2), $("$VNG" --version)"

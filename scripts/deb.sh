#!/usr/bin/env bash
# make deb: the 6.12 series as an installable Debian kernel package, built
# by the kernel's own `make bindeb-pkg`.
set -euo pipefail

usage() {
	cat <<USAGE
usage: ${0##*/} [-h] [--config FILE] [--out DIR]

Builds base + patches/v6.12 as Debian binary packages with the kernel's
\`make bindeb-pkg\` (linux-image-VERSION and linux-libc-dev; no headers or
debug package), copies them to DIR (default \$NRI_CACHE/deb/NAME) and prints
the linux-image package's path.

--config FILE  a whole kernel configuration, e.g. a distribution's made by
               \`make distro-config\`; built in \$NRI_CACHE/build/deb-HASH.
               It must have CONFIG_NONROOT_INITRAMFS=y after olddefconfig.
(default)      the field test's kernel (scripts/build.sh 6.12 with
               tools/testing/nonroot_initramfs/field/engines.config and
               default-on.config: the feature on by default, module
               versions, what systemd and the container engines need): the
               package make check installs in the field image and boots.

The package's version is the kernel release with revision 1, and the build
number is fixed to match, so that building again without a change neither
relinks the kernel nor makes a different package.
USAGE
}

config=
dest=
while [ $# -gt 0 ]; do
	case "$1" in
	-h | --help) usage; exit 0 ;;
	--config) [ $# -ge 2 ] || { usage >&2; exit 2; }; config=$2; shift 2 ;;
	--out) [ $# -ge 2 ] || { usage >&2; exit 2; }; dest=$2; shift 2 ;;
	*) usage >&2; exit 2 ;;
	esac
done

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
for c in dpkg-buildpackage dh_testdir; do
	command -v "$c" >/dev/null || die "no $c: run scripts/setup.sh (dpkg-dev, debhelper)"
done
t=$("$TOP/scripts/series.sh" tree 6.12)
mapfile -t kargs < <(kmake_args)
# bindeb-pkg builds with KBUILD_BUILD_VERSION=<the package's revision>; the
# kernel is built with the same number, or every package build relinks it.
export KBUILD_BUILD_VERSION=1
# The packages' maintainer: the caller's DEBFULLNAME and DEBEMAIL where set,
# else the workbench's fixed identity (not root@this-host).
export DEBFULLNAME=${DEBFULLNAME:-$BASE_AUTHOR_NAME} DEBEMAIL=${DEBEMAIL:-$BASE_AUTHOR_EMAIL}
if [ -n "$config" ]; then
	[ -f "$config" ] || die "no configuration file $config"
	name=deb-$( (cat "$config"; git -C "$t" rev-parse HEAD) | sha256sum | cut -c1-12)
	out=$CACHE/build/$name
	mkdir -p "$out"
	if ! cmp -s "$config" "$out/.nri-deb-config"; then
		cp "$config" "$out/.config"
		make -C "$t" O="$out" -s "${kargs[@]}" olddefconfig >&2
		cp "$config" "$out/.nri-deb-config"
	fi
	grep -qx 'CONFIG_NONROOT_INITRAMFS=y' "$out/.config" ||
		die "$config: no CONFIG_NONROOT_INITRAMFS=y after olddefconfig (is CONFIG_RUST on? make distro-config FROM=$config makes one that has it)"
	log "building the kernel in $out"
	make -C "$t" O="$out" -s "${kargs[@]}" -j"$(nproc)" >&2
else
	f=$TOP/tools/testing/nonroot_initramfs/field
	bz=$("$TOP/scripts/build.sh" 6.12 "$f/engines.config" "$f/default-on.config")
	out=$(dirname "$(dirname "$(dirname "$(dirname "$bz")")")")
	name=$(basename "$out")
fi
dest=${dest:-$CACHE/deb/$name}
rel=$(make -C "$t" O="$out" -s "${kargs[@]}" kernelrelease)
version=$rel-$KBUILD_BUILD_VERSION
deb=linux-image-${rel}_${version}_$(dpkg --print-architecture).deb

# What the package is made of: package again only when that changes.
stamp=$(cd "$out" && { echo "$DEBFULLNAME <$DEBEMAIL>"; sha256sum arch/x86/boot/bzImage .config; find . -name '*.ko' -print0 |
	LC_ALL=C sort -z | xargs -0r sha256sum; } | sha256sum | cut -c1-16)
if [ -f "$dest/$deb" ] && [ "$(cat "$dest/.stamp" 2>/dev/null)" = "$stamp" ]; then
	printf '%s\n' "$dest/$deb"
	exit 0
fi
log "packaging $rel (bindeb-pkg) from $out"
# dpkg-buildpackage writes the packages next to the build directory.
parent=$(dirname "$out")
rm -f "$parent"/linux-*_"${version}"_*.deb "$parent"/linux-upstream_"${version}"_*
make -C "$t" O="$out" -s "${kargs[@]}" -j"$(nproc)" bindeb-pkg \
	KDEB_PKGVERSION="$version" KDEB_CHANGELOG_DIST=unstable \
	DEB_BUILD_PROFILES="pkg.linux-upstream.nokernelheaders pkg.linux-upstream.nokerneldbg" \
	>"$out/.nri-deb.log" 2>&1 || { tail -n 40 "$out/.nri-deb.log" >&2; die "make bindeb-pkg failed ($out/.nri-deb.log)"; }
[ -f "$parent/$deb" ] || die "bindeb-pkg made no $deb (in $parent)"
rm -rf "$dest"
mkdir -p "$dest"
mv "$parent"/linux-*_"${version}"_*.deb "$dest/"
rm -f "$parent"/linux-upstream_"${version}"_*
echo "$stamp" >"$dest/.stamp"
log "$dest: $(cd "$dest" && echo ./*.deb)"
printf '%s\n' "$dest/$deb"

#!/usr/bin/env bash
# The field test's Debian system (scripts/field/field.py): a trixie root built
# by mmdebstrap from this system's own apt mirrors, and the media booted from
# it. Cached in $NRI_CACHE/field; each piece is rebuilt only when what it is
# made of changes.
set -euo pipefail

usage() {
	cat <<USAGE
usage: ${0##*/} [-h] base
       ${0##*/} [-h] debian-kernel
       ${0##*/} [-h] initramfs OUT.cpio
       ${0##*/} [-h] disk DEB OUTDIR

base       the Debian root as a tarball, from tools/testing/nonroot_initramfs/
           field/packages (rebuilt when that list changes), with the installed
           versions (versions.txt) and dracut's packages for the second initrd
           next to it; prints the tarball's path. A package that cannot be had
           is named, and the build fails. NRI_FIELD_PACKAGES=FILE: another
           list (make check tries one with a package that does not exist).
debian-kernel  stock 7.3: Debian's own kernel (scripts/pins: FIELD_73_*),
           fetched and verified; prints the path of its vmlinuz.
initramfs  that root, with the field test, as an uncompressed cpio to boot as
           the final root: /init is systemd (no /etc/initrd-release: systemd
           runs it as the real system), /etc/nri-initramfs-marker marks it.
           It holds the modules of the Debian kernel: one image for both
           kernels.
disk       that root on an ext4 image, OUTDIR/disk.img, with the kernel
           package DEB (scripts/deb.sh) installed by dpkg, and two initrds
           made for that kernel by the image's own tools:
           OUTDIR/initrd.initramfs-tools (made by the package's postinst
           through initramfs-tools' hook; klibc's run-init) and
           OUTDIR/initrd.dracut (systemd's switch-root). The package's
           kernel, as installed in /boot, is copied to OUTDIR/vmlinuz.
USAGE
}
case "${1:-}" in
-h | --help) usage; exit 0 ;;
base | debian-kernel) [ $# = 1 ] || { usage >&2; exit 2; } ;;
initramfs) [ $# = 2 ] || { usage >&2; exit 2; } ;;
disk) [ $# = 3 ] || { usage >&2; exit 2; } ;;
*) usage >&2; exit 2 ;;
esac

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../lib.sh"
F=$TOP/tools/testing/nonroot_initramfs/field
D=$CACHE/field
PACKAGES=${NRI_FIELD_PACKAGES:-$F/packages}
SUITE=trixie
# Bump when base() makes a different image from the same package list.
RECIPE=2
# mmdebstrap in root mode, chroot, mounts, and files owned by root.
[ "$(id -u)" = 0 ] || die "run as root: the image is built with mmdebstrap, chroot and mounts"
for c in mmdebstrap mkfs.ext4 cpio unshare; do
	command -v "$c" >/dev/null || die "no $c: run scripts/setup.sh"
done
mkdir -p "$D"

# Temporary directories: all in one, removed on exit, however it comes (also
# those made in subshells).
TMP=$(mktemp -d "$D/tmp.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
# tmpdir VAR: a new temporary directory, in VAR.
tmpdir() {
	local d
	d=$(mktemp -d "$TMP/d.XXXXXX")
	printf -v "$1" '%s' "$d"
}

# The package list without comments, one a line.
packages() { sed 's/#.*//; s/[[:space:]]//g; /^$/d' "$PACKAGES"; }

base() {
	local key tar main security pkgs
	key=$( (echo "$SUITE $RECIPE"; packages) | sha256sum | cut -c1-16)
	tar=$D/base-$key.tar
	if [ -f "$tar" ] && [ -f "$D/base-$key.versions" ] && [ -d "$D/dracut-debs" ]; then
		printf '%s\n' "$tar"
		return 0
	fi
	main=$(apt_mirror '^[a-z]+$')
	security=$(apt_mirror '^[a-z]+-security$')
	if [ -z "$main" ] || [ -z "$security" ]; then
		die "no Debian archive in this system's apt sources (apt-cache policy)"
	fi
	local kr=/usr/share/keyrings/debian-archive-keyring.gpg
	local tmp
	tmpdir tmp
	mapfile -t pkgs < <(packages)
	log "building the field image ($SUITE, ${#pkgs[@]} packages) from $main"
	mkdir -p "$tmp/dracut-debs"
	# The dracut packages (and what they need beyond the image) are fetched
	# in the image, for scripts/field/mkimage.sh disk.
	if ! mmdebstrap --variant=minbase --format=tar \
		--include="$(IFS=,; echo "${pkgs[*]}")" \
		--customize-hook="echo nri-field >\"\$1/etc/hostname\"" \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-include=/usr/share/doc/*/copyright' \
		--dpkgopt='path-exclude=/usr/share/info/*' \
		--customize-hook="mkdir -p \"\$1/tmp/dracut/partial\"" \
		--customize-hook="chroot \"\$1\" apt-get install -y -qq --download-only -o Dir::Cache::archives=/tmp/dracut dracut dracut-core" \
		--customize-hook="mv \"\$1\"/tmp/dracut/*.deb '$tmp/dracut-debs/'" \
		--customize-hook="rm -rf \"\$1/tmp/dracut\"" \
		--customize-hook="chroot \"\$1\" dpkg-query -W -f '\${Package} \${Version}\n' >'$tmp/versions'" \
		"$SUITE" "$tmp/base.tar" \
		"deb [signed-by=$kr] $main $SUITE main" \
		"deb [signed-by=$kr] $security $SUITE-security main" 2>"$tmp/log"; then
		# Name what apt could not find.
		grep -E "Unable to locate package|has no installation candidate|Depends:|^E:" \
			"$tmp/log" >&2 || tail -n 30 "$tmp/log" >&2
		die "the field image could not be built (packages: $PACKAGES)"
	fi
	rm -rf "$D/dracut-debs"
	mv "$tmp/dracut-debs" "$D/dracut-debs"
	mv "$tmp/versions" "$D/base-$key.versions"
	mv "$tmp/base.tar" "$tar"
	# Older images go: one is enough.
	find "$D" -maxdepth 1 -name 'base-*' ! -name "base-$key.*" -delete
	printf '%s\n' "$tar"
}

# debian_kernel: Debian's 7.3 kernel unpacked in $D/debian-7.3; prints the
# path of its vmlinuz.
debian_kernel() {
	local k=$D/debian-7.3 p deb
	local done=$k/.done-$FIELD_73_KVER-$FIELD_73_DEBVER-$FIELD_73_MODULES_SHA256
	if ! [ -f "$done" ]; then
		rm -rf "$k"
		for p in base binary modules; do
			local sum=FIELD_73_${p^^}_SHA256
			deb=$(fetch_deb "linux-${p,,}-$FIELD_73_KVER" "$FIELD_73_DEBVER" "${!sum}" amd64)
			dpkg-deb -x "$deb" "$k"
		done
		touch "$done"
	fi
	printf '%s\n' "$k/usr/lib/modules/$FIELD_73_KVER/vmlinuz"
}

# The busybox container of the field test, as a tarball to import: the
# probes of the test initramfs's bundle (report.sh, the static escape.c) and an
# os-release, which systemd-nspawn wants to see.
container() {
	local out=$1 c h=$TOP/tools/testing/nonroot_initramfs a
	tmpdir c
	mkdir -p "$c/bin" "$c/usr/lib" "$c/etc" "$c/proc" "$c/sys" "$c/dev" "$c/tmp" "$c/run"
	cp /bin/busybox "$c/bin/busybox"
	for a in sh cat ls echo mount stat; do ln -s busybox "$c/bin/$a"; done
	cc -static -O2 -Wall -Wextra -o "$c/escape" "$h/escape.c"
	install -m 755 "$h/bundle/report.sh" "$c/report.sh"
	printf 'ID=nri\nNAME="nonroot_initramfs field container"\n' >"$c/usr/lib/os-release"
	tar -C "$c" --numeric-owner --owner=0 --group=0 -cf "$out" .
}

# tree DIR: the base image unpacked into DIR, with the field test installed:
# nri-field and its unit (enabled), tools/pivotable, the container (as a
# tarball, and unpacked as a root directory for nspawn, bwrap and
# RootDirectory=).
tree() {
	local t=$1 tar
	tar=$(base)
	mkdir -p "$t"
	tar -C "$t" --xattrs --xattrs-include='*' --numeric-owner -xpf "$tar"
	install -m 755 "$F/nri-field" "$t/usr/local/sbin/nri-field"
	install -m 755 "$TOP/tools/pivotable/pivotable" "$t/usr/local/sbin/pivotable"
	install -m 644 "$F/nri-field.service" "$t/etc/systemd/system/nri-field.service"
	ln -sf ../nri-field.service "$t/etc/systemd/system/multi-user.target.wants/nri-field.service"
	mkdir -p "$t/usr/local/share/nri" "$t/var/lib/machines/nri"
	container "$t/usr/local/share/nri/container.tar"
	tar -C "$t/var/lib/machines/nri" -xf "$t/usr/local/share/nri/container.tar"
}

# key WORD...: a hash of the base image (the versions in it), what this
# script adds to it (the field test, the container's parts) and WORDs.
key() {
	local tar
	tar=$(base)
	{
		echo "$tar" "$@"
		cat "${tar%.tar}.versions" "$F/nri-field" "$F/nri-field.service" \
			"$TOP/tools/pivotable/pivotable" "$TOP/tools/testing/nonroot_initramfs/escape.c" \
			"$TOP/tools/testing/nonroot_initramfs/bundle/report.sh" /bin/busybox "$0"
		cc --version
	} | sha256sum | cut -c1-16
}

initramfs() {
	local out=$1 k t mods=
	# Stock 7.3's modules, so that the same image boots both kernels; without
	# them (the pinned package gone from the archive) the 6.12 cases still run.
	if debian_kernel >/dev/null; then
		mods=$D/debian-7.3/usr/lib/modules/$FIELD_73_KVER
	else
		log "no modules of Debian's $FIELD_73_KVER in the image: stock 7.3 will not boot it"
	fi
	k=$(key initramfs "$mods" "$FIELD_73_MODULES_SHA256")
	if [ "$(cat "$out.key" 2>/dev/null)" = "$k" ] && [ -f "$out" ]; then
		return 0
	fi
	tmpdir t
	tree "$t/root"
	# The kernel runs /init; the marker is what an escaped container looks for.
	ln -s /sbin/init "$t/root/init"
	if [ -n "$mods" ]; then
		mkdir -p "$t/root/lib/modules"
		cp -a "$mods" "$t/root/lib/modules/"
		rm "$t/root/lib/modules/$FIELD_73_KVER/vmlinuz"
		chroot "$t/root" depmod "$FIELD_73_KVER"
	fi
	echo "nonroot_initramfs field test: this file is in the initramfs" \
		>"$t/root/etc/nri-initramfs-marker"
	(cd "$t/root" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc --quiet --reproducible) >"$out.tmp"
	mv "$out.tmp" "$out"
	echo "$k" >"$out.key"
	log "$out: $(du -m "$out" | cut -f1) MiB"
}

# in_tree DIR CMD...: run CMD chrooted in DIR, with /proc, /sys and /dev, in a
# mount namespace of its own.
in_tree() {
	local t=$1
	shift
	# shellcheck disable=SC2016 # expanded by that sh
	unshare -m -- sh -c 'set -e; t=$1; shift
		mount -t proc proc "$t/proc"; mount --rbind /sys "$t/sys"
		mount --rbind /dev "$t/dev"; mount -t tmpfs tmpfs "$t/tmp"
		exec chroot "$t" "$@"' in_tree "$t" "$@"
}

disk() {
	local deb=$1 out=$2 k t kver size
	[ -f "$deb" ] || die "no package $deb"
	kver=$(dpkg-deb -f "$deb" Package) || die "$deb: not a Debian package"
	case "$kver" in
	linux-image-*) kver=${kver#linux-image-} ;;
	*) die "$deb: not a kernel package (it is $kver)" ;;
	esac
	k=$(key disk "$kver" "$(sha256sum <"$deb")")
	mkdir -p "$out"
	if [ "$(cat "$out/key" 2>/dev/null)" = "$k" ]; then
		return 0
	fi
	tmpdir t
	tree "$t/root"
	# The kernel package, installed as an operator installs it: its postinst
	# runs /etc/kernel/postinst.d, where initramfs-tools makes the initrd.
	cp "$deb" "$t/root/var/cache/apt/archives/"
	in_tree "$t/root" dpkg -i "/var/cache/apt/archives/${deb##*/}" >"$t/dpkg.log" 2>&1 ||
		{ cat "$t/dpkg.log" >&2; die "installing ${deb##*/} failed"; }
	rm "$t/root/var/cache/apt/archives/${deb##*/}"
	[ -f "$t/root/boot/vmlinuz-$kver" ] || die "${deb##*/} installed no /boot/vmlinuz-$kver"
	[ -f "$t/root/boot/initrd.img-$kver" ] || { cat "$t/dpkg.log" >&2
		die "installing ${deb##*/} made no /boot/initrd.img-$kver (initramfs-tools' postinst.d hook)"; }
	cp "$t/root/boot/vmlinuz-$kver" "$t/vmlinuz"
	cp "$t/root/boot/initrd.img-$kver" "$t/initrd.initramfs-tools"
	# Then dracut, which replaces initramfs-tools.
	in_tree "$t/root" dpkg --purge --force-depends initramfs-tools initramfs-tools-core \
		>"$t/dracut.log" 2>&1 || { cat "$t/dracut.log" >&2; die "removing initramfs-tools failed"; }
	cp "$D"/dracut-debs/*.deb "$t/root/var/cache/apt/archives/"
	in_tree "$t/root" sh -c 'dpkg -i /var/cache/apt/archives/*.deb && rm /var/cache/apt/archives/*.deb' \
		>>"$t/dracut.log" 2>&1 || { cat "$t/dracut.log" >&2; die "installing dracut failed"; }
	# A generic initrd (not host-only: the host is not the guest).
	in_tree "$t/root" dracut -q --force --no-hostonly --kver "$kver" /boot/initrd.dracut \
		>>"$t/dracut.log" 2>&1 || { cat "$t/dracut.log" >&2; die "dracut failed"; }
	mv "$t/root/boot/initrd.dracut" "$t/"
	size=$(($(du -sm "$t/root" | cut -f1) * 3 / 2 + 512))
	rm -f "$out/disk.img"
	mkfs.ext4 -q -L nri-root -d "$t/root" "$out/disk.img" "${size}M"
	mv "$t/vmlinuz" "$t/initrd.initramfs-tools" "$t/initrd.dracut" "$out/"
	echo "$k" >"$out/key"
	log "$out: disk $(du -m --apparent-size "$out/disk.img" | cut -f1) MiB, ${deb##*/}," \
		"initrds $(du -k "$out/initrd.initramfs-tools" | cut -f1) kB (initramfs-tools)," \
		"$(du -k "$out/initrd.dracut" | cut -f1) kB (dracut)"
}

case "$1" in
base) base ;;
debian-kernel) debian_kernel ;;
initramfs) initramfs "$2" ;;
disk) disk "$2" "$3" ;;
esac

#!/usr/bin/env bash
# The patch series round trip: patches/vSERIES/*.patch <-> a git work tree.
set -euo pipefail

usage() {
	cat <<USAGE
usage: ${0##*/} [-h] tree|export|check SERIES

  tree    check out base + git am patches/vSERIES/*.patch as branch "series"
          in the cache's kernel tree (a no-op when it is already there);
          prints the tree's path. Work in the tree that is not in the patches
          is kept on a branch autosave/DATE first. NRI_KEEP_TREE=1: use the
          tree as it is (for development builds)
  export  write the "series" branch back to patches/vSERIES with git
          format-patch (deterministic: re-exporting gives identical bytes)
  check   drift check: apply the committed patches to a scratch tree, export
          them again and fail on any difference
USAGE
}
case "${1:-}" in
-h | --help) usage; exit 0 ;;
esac
[ $# = 2 ] || { usage >&2; exit 2; }

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
cmd=$1 series=$2
check_series "$series"
pdir=${NRI_PATCHES_DIR:-$TOP/patches/v$series}

export GIT_COMMITTER_NAME=$SERIES_COMMITTER_NAME GIT_COMMITTER_EMAIL=$SERIES_COMMITTER_EMAIL
export GIT_COMMITTER_DATE=$SERIES_COMMITTER_DATE

patches() { [ -d "$pdir" ] || return 0; find "$pdir" -maxdepth 1 -name '*.patch' | LC_ALL=C sort; }
stamp() { patches | xargs -r cat | sha256sum | cut -d' ' -f1; }

# apply TREE BRANCH: reset BRANCH of TREE to base and apply the patches; the
# cover letter's subject and body become the branch description.
apply() {
	local t=$1 b=$2 p
	git -C "$t" checkout -q -f -B "$b" base
	git -C "$t" clean -q -f -d
	mapfile -t p < <(patches)
	((${#p[@]})) || return 0
	git -C "$t" am -q --empty=drop "${p[@]}" ||
		{ git -C "$t" am --abort; die "git am of $pdir failed"; }
	case "${p[0]}" in
	*-0000-cover-letter.patch)
		git -C "$t" config "branch.$b.description" \
			"$(python3 "$TOP/scripts/cover-letter.py" "${p[0]}")"
		;;
	esac
}

# export_to TREE BRANCH OUT: format the commits base..BRANCH into OUT.
export_to() {
	local t=$1 b=$2 out=$3 rfc=()
	mkdir -p "$out"
	find "$out" -maxdepth 1 -name '*.patch' -delete
	# A series posted for comment only (scripts/pins: KSRC_<series>_RFC=1).
	[ "$(pin "$series" RFC)" != 1 ] || rfc=(--rfc)
	git -C "$t" -c core.abbrev=12 -c diff.renames=true format-patch -q "${rfc[@]}" \
		--zero-commit --no-signature --base=base --cover-letter \
		--cover-from-description=subject --reroll-count="$(pin "$series" REROLL)" \
		--no-thread -o "$out" "base..$b"
	# The cover letter's Date: is the time of the export: pin it.
	sed -i "s/^Date: .*/Date: $(date -R -d "$SERIES_COMMITTER_DATE")/" \
		"$out"/*-0000-cover-letter.patch
}

# The primary series' new files are also kept, read-only, at their in-kernel
# paths in this repository (rust/, fs/, include/, Documentation/), to read and
# review without a kernel tree, and every series' Kconfig entries in the
# top-level Kconfig. They are generated from the patches.
MIRROR_SERIES=6.12

# mirror TREE BRANCH OUT: copy the files base..BRANCH adds into OUT.
mirror() {
	local t=$1 b=$2 out=$3 f
	git -C "$t" diff --name-only --diff-filter=A "base..$b" | while read -r f; do
		mkdir -p "$out/$(dirname "$f")"
		git -C "$t" show "$b:$f" >"$out/$f"
	done
}

case "$cmd" in
tree)
	t=$("$TOP/scripts/fetch.sh" "$series")
	if [ -n "${NRI_KEEP_TREE:-}" ]; then
		log "NRI_KEEP_TREE: using $t as it is"
	elif [ "$(git -C "$t" config nri.stamp || true)" != "$(stamp)" ] ||
		[ "$(git -C "$t" rev-parse HEAD)" != "$(git -C "$t" config nri.applied || true)" ] ||
		[ -n "$(git -C "$t" status --porcelain)" ]; then
		# Never throw work away: keep whatever is in the tree on a branch. A
		# freshly imported tree (clean, at base) has nothing to keep.
		head=$(git -C "$t" rev-parse HEAD)
		if [ -n "$(git -C "$t" status --porcelain)" ] ||
			{ [ "$head" != "$(git -C "$t" config nri.applied || true)" ] &&
				[ "$head" != "$(git -C "$t" rev-parse base)" ]; }; then
			save=autosave/$(date -u +%Y%m%dT%H%M%SZ)
			git -C "$t" add -A
			git -C "$t" commit -q --no-verify --allow-empty -m "autosave before make tree"
			git -C "$t" branch -f "$save" HEAD
			log "the tree had work not in $pdir: saved as branch $save of $t"
		fi
		apply "$t" series
		git -C "$t" config nri.stamp "$(stamp)"
		git -C "$t" config nri.applied "$(git -C "$t" rev-parse HEAD)"
	fi
	printf '%s\n' "$t"
	;;
export)
	t=$("$TOP/scripts/fetch.sh" "$series")
	export_to "$t" series "$pdir"
	[ "$series" != "$MIRROR_SERIES" ] || mirror "$t" series "$TOP"
	# Every series' Kconfig entries, in the top-level Kconfig.
	python3 "$TOP/scripts/kconfig-entries.py" "$t" base series "$series" >"$CACHE/kconfig.$$"
	python3 "$TOP/scripts/kconfig-entries.py" --update "$TOP/Kconfig" "$CACHE/kconfig.$$"
	rm -f "$CACHE/kconfig.$$"
	git -C "$t" config nri.stamp "$(stamp)"
	git -C "$t" config nri.applied "$(git -C "$t" rev-parse HEAD)"
	log "exported $(patches | wc -l) files to $pdir"
	;;
check)
	t=$("$TOP/scripts/fetch.sh" "$series")
	scratch=$(mktemp -d "$CACHE/check.XXXXXX")
	b=check-$$
	cleanup() {
		git -C "$t" worktree remove -f "$scratch/tree" 2>/dev/null || true
		git -C "$t" branch -q -D "$b" 2>/dev/null || true
		rm -rf "$scratch"
	}
	trap cleanup EXIT
	[ -n "$(patches)" ] || die "no patches in $pdir"
	git -C "$t" worktree add -q --detach "$scratch/tree" base
	apply "$scratch/tree" "$b"
	export_to "$scratch/tree" "$b" "$scratch/out"
	if ! diff -ru "$pdir" "$scratch/out" >&2; then
		die "patches/v$series has drifted: it does not round-trip (diff above; fix the tree, then 'make export')"
	fi
	if [ "$series" = "$MIRROR_SERIES" ] && [ -z "${NRI_PATCHES_DIR:-}" ]; then
		mirror "$scratch/tree" "$b" "$scratch/mirror"
		(cd "$scratch/mirror" && find . -type f) | while read -r f; do
			cmp -s "$scratch/mirror/$f" "$TOP/$f" ||
				die "$f differs from what patches/v$series adds: edit in the tree, then 'make export'"
		done
	fi
	if [ -z "${NRI_PATCHES_DIR:-}" ]; then
		python3 "$TOP/scripts/kconfig-entries.py" "$scratch/tree" base "$b" "$series" \
			>"$scratch/kconfig"
		python3 "$TOP/scripts/kconfig-entries.py" --extract "${NRI_KCONFIG:-$TOP/Kconfig}" "$series" |
			diff -u - "$scratch/kconfig" >&2 ||
			die "Kconfig differs from the entries patches/v$series adds: edit in the tree, then 'make export'"
	fi
	log "patches/v$series: $(patches | wc -l) files round-trip byte for byte"
	;;
*)
	usage >&2
	exit 2
	;;
esac

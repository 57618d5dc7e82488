#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The build chroot for the trixie (6.12) and trixie-backports (7.x) kernels of
# the matrix: Debian trixie made with mmdebstrap, gcc-14, make, pahole and the
# kernel headers of those kernels (their helper programs need trixie's glibc,
# and their Makefiles gcc-14). Kept under $CCHOST_CACHE/chroot/trixie and
# reused between runs; a stamp keyed on the wanted package list tells when the
# archive moved to new kernel versions, and the chroot is then updated.
#
#   chroot.sh ensure                   create/update the chroot, print its root
#   chroot.sh path                     print the root (no check)
#   chroot.sh run [--bind SRC:DST]... -- CMD [ARG...]
#                                      run CMD inside, in private mount and pid
#                                      namespaces with /proc mounted (7.x objtool
#                                      needs it) and SRC bind-mounted at DST
#   chroot.sh packages                 print the wanted package list
#   chroot.sh remove                   delete the chroot
#
# The 6.12 headers package depends on the 6.12 kernel image (100 MB); the
# chroot gets its -common and linux-kbuild packages through apt and the arch
# headers .deb is unpacked with dpkg-deb -x instead.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=kernels.sh
. "$CCHOST_ROOT/scripts/kernels.sh"

ROOT=$CCHOST_CACHE/chroot/trixie
STAMP=$CCHOST_CACHE/chroot/trixie.stamp
FETCH=$CCHOST_ROOT/scripts/fetch-deb.sh

usage() { sed -n '10,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# Packages installed with apt ("apt PKG") and .debs unpacked ("deb PKG SUITE").
wanted() {
	local kver suite
	echo "apt make"
	echo "apt gcc-14"
	echo "apt gcc"
	echo "apt pahole"
	echo "apt libc6-dev"
	# W=1 runs scripts/kernel-doc: perl (6.x), python3 (7.x)
	echo "apt perl"
	echo "apt python3"
	_kernels_matrix | while read -r kver suite; do
		case $suite in
		host) ;;
		trixie)
			# 6.12: the arch headers depend on the image; avoid it.
			echo "apt linux-headers-${kver%-amd64}-common"
			echo "apt linux-kbuild-$(linux_kbuild_version "$kver")"
			echo "deb linux-headers-$kver $suite"
			;;
		*)
			echo "apt linux-headers-$kver"
			;;
		esac
	done
}

# 6.12.107+deb13-amd64 -> 6.12.107+deb13 (linux-kbuild-<that>), with a
# fallback to the older linux-kbuild-6.12 naming.
linux_kbuild_version() {
	local v=${1%-amd64}
	if [ -n "$("$FETCH" -q --names trixie "^linux-kbuild-${v//+/\\+}\$")" ]; then
		echo "$v"
	else
		echo "$v" | cut -d. -f1,2
	fi
}

mirror_lines() {
	local m
	m=$(debian_mirror)
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $m trixie main"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $m trixie-backports main"
}

unpack_debs() {
	local pkg suite f
	wanted | awk '$1 == "deb" {print $2, $3}' | while read -r pkg suite; do
		f=$("$FETCH" -q "$suite" "$pkg")
		log "unpacking $(basename "$f") into the chroot"
		dpkg-deb -x "$f" "$ROOT"
	done
}

create() {
	local tmp=$ROOT.new apt_pkgs m
	apt_pkgs=$(wanted | awk '$1 == "apt" {print $2}' | paste -sd, -)
	rm -rf "$tmp"
	cchost_tmp "$tmp"
	mkdir -p "$(dirname "$ROOT")"
	log "creating the trixie build chroot with mmdebstrap (a few minutes)"
	mapfile -t m < <(mirror_lines)
	cchost_heartbeat "mmdebstrap trixie" mmdebstrap --quiet --mode=root --variant=apt \
		--aptopt='APT::Install-Recommends "false"' \
		--aptopt='Acquire::Check-Valid-Until "false"' \
		--aptopt='Acquire::Languages "none"' \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		--include="$apt_pkgs" \
		trixie "$tmp" "${m[@]}" </dev/null || { rm -rf "$tmp"; die "mmdebstrap failed"; }
	rm -rf "$ROOT"
	mv "$tmp" "$ROOT"
}

# Bring an existing chroot to the wanted package list with its own apt.
update() {
	local apt_pkgs
	apt_pkgs=$(wanted | awk '$1 == "apt" {print $2}')
	log "updating the build chroot to the archive's current kernels"
	cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
	# Kernel packages of versions that left the matrix become removable:
	# mark every linux-* package automatic, install the wanted ones (which
	# marks them manual again), then autoremove.
	# shellcheck disable=SC2086
	run_in -- sh -c 'export DEBIAN_FRONTEND=noninteractive
		apt-get -qq update &&
		dpkg-query -W -f "\${Package}\n" "linux-*" | xargs -r apt-mark auto >/dev/null &&
		apt-get -qq -y -o Dpkg::Use-Pty=0 --no-install-recommends install "$@" >/dev/null &&
		apt-get -qq -y -o Dpkg::Use-Pty=0 autoremove --purge >/dev/null &&
		apt-get -qq clean' sh $apt_pkgs </dev/null || return 1
	# Headers unpacked with dpkg-deb -x (6.12) are not known to dpkg.
	local d kver
	for d in "$ROOT"/usr/src/linux-headers-*-amd64; do
		[ -d "$d" ] || continue
		kver=${d##*/linux-headers-}
		_kernels_matrix | awk '{print $1}' | grep -qxF "$kver" || rm -rf "$d" "$ROOT/usr/lib/modules/$kver"
	done
}

run_in() {
	local binds=() b
	while [ $# -gt 0 ]; do
		case $1 in
		--bind) binds+=("$2"); shift 2 ;;
		--) shift; break ;;
		*) break ;;
		esac
	done
	[ $# -ge 1 ] || usage
	[ -x "$ROOT/usr/bin/make" ] || die "no chroot at $ROOT (run: scripts/chroot.sh ensure)"
	local setup=""
	for b in "${binds[@]+"${binds[@]}"}"; do
		local src=${b%%:*} dst=${b#*:}
		[ -d "$src" ] || die "bind source $src is not a directory"
		mkdir -p "$ROOT$dst"
		setup+="mount --bind $(printf %q "$src") $(printf %q "$ROOT$dst") && "
	done
	unshare --mount --pid --fork --mount-proc="$ROOT/proc" \
		sh -c "${setup}exec chroot $(printf %q "$ROOT") \"\$@\"" sh \
		env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" "$@"
}

ensure() {
	local want
	want=$(wanted)
	if [ -x "$ROOT/usr/bin/make" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; then
		echo "$ROOT"
		return 0
	fi
	if [ -x "$ROOT/usr/bin/make" ] && [ -e "$STAMP" ]; then
		update >&2 || { log "in-place update failed; recreating"; create >&2; }
	else
		create >&2
	fi
	unpack_debs >&2
	# The 6.12 headers' build symlink is in usr/lib/modules: nothing else
	# is needed; check that every kernel's headers are complete.
	local kver suite
	while read -r kver suite; do
		[ "$suite" = host ] && continue
		[ -e "$ROOT/usr/src/linux-headers-$kver/Makefile" ] ||
			die "chroot lacks /usr/src/linux-headers-$kver"
	done < <(_kernels_matrix)
	echo "$want" > "$STAMP"
	log "build chroot ready: $ROOT ($(du -sh "$ROOT" | cut -f1))"
	echo "$ROOT"
}

cmd=${1:-}
[ $# -ge 1 ] && shift
case $cmd in
ensure)
	exec 9>"$CCHOST_CACHE/chroot.lock"
	flock 9
	ensure
	;;
path) echo "$ROOT" ;;
run) run_in "$@" ;;
packages) wanted ;;
remove)
	exec 9>"$CCHOST_CACHE/chroot.lock"
	flock 9
	rm -rf "$ROOT" "$ROOT.new" "$STAMP"
	;;
*) usage ;;
esac

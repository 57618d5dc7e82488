#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# DKMS packaging of the modules (dkms.conf at the top of the tree).
#
#   dkms.sh install KVER       dkms add (fresh copy into /usr/src/cchost-<ver>),
#                              build -k KVER, install -k KVER
#   dkms.sh build KVER         dkms add + build -k KVER (nothing installed)
#   dkms.sh remove [KVER]      dkms remove --all of every cchost version and
#                              delete /usr/src/cchost-* (KVER is ignored:
#                              DKMS trees are per version, not per kernel)
#   dkms.sh test KVER          install, check what DKMS installed and print
#                              the installed .ko paths, one a line (stdout)
#   dkms.sh clean-check KVER   remove, then check nothing is left behind
#
# KVER defaults to the default 6.1 kernel (scripts/default-kver); DKMS builds
# for it through /lib/modules/KVER/build whatever kernel the host runs.
# test and clean-check record "dkms install <kver>" / "dkms remove <kver>".
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '4,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

conf() { sed -n "s/^$1=\"\{0,1\}\([^\"]*\)\"\{0,1\}$/\1/p" "$CCHOST_ROOT/dkms.conf" | head -n1; }

PKG=$(conf PACKAGE_NAME)
VER=$(conf PACKAGE_VERSION)
[ -n "$PKG" ] && [ -n "$VER" ] || die "dkms.conf lacks PACKAGE_NAME/PACKAGE_VERSION"
mapfile -t MODULES < <(sed -n 's/^BUILT_MODULE_NAME\[[0-9]*\]="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$CCHOST_ROOT/dkms.conf")
[ ${#MODULES[@]} -gt 0 ] || die "dkms.conf lists no BUILT_MODULE_NAME"

need_root() {
	[ "$(id -u)" = 0 ] || die "DKMS needs root (sudo $0 $*)"
	command -v dkms >/dev/null || die "dkms is not installed (scripts/deps.sh)"
	# One DKMS operation on the package at a time.
	exec 8>"/run/lock/$PKG-dkms.lock"
	flock 8
}

# Remove every registered version and its source copy.
do_remove() {
	local v
	for v in $(ls /var/lib/dkms/"$PKG" 2>/dev/null | grep -v '^kernel-' || true); do
		[ -d "/var/lib/dkms/$PKG/$v" ] || continue
		log "dkms remove $PKG/$v --all"
		dkms remove "$PKG/$v" --all </dev/null >&2 || true
	done
	rm -rf "/var/lib/dkms/$PKG"
	rm -rf /usr/src/"$PKG"-*
}

# A fresh source copy: tracked and untracked non-ignored files only.
do_add() {
	local src=/usr/src/$PKG-$VER
	do_remove
	mkdir -p "$src"
	if git -C "$CCHOST_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$CCHOST_ROOT" && git ls-files -z --cached --others --exclude-standard |
			while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
			xargs -0 -r cp -P --parents -t "$src")
	else
		(cd "$CCHOST_ROOT" && tar --exclude-vcs --exclude='*.o' --exclude='*.ko' -cf - .) |
			tar -C "$src" -xf -
	fi
	log "dkms add $PKG/$VER"
	dkms add "$PKG/$VER" </dev/null >&2
}

do_build() {
	local kver=$1
	[ -d "/lib/modules/$kver/build" ] || die "no headers for $kver in /lib/modules/$kver/build"
	log "dkms build $PKG/$VER -k $kver"
	if ! dkms build "$PKG/$VER" -k "$kver" </dev/null >&2; then
		cat "/var/lib/dkms/$PKG/$VER/build/make.log" >&2 || true
		die "dkms build failed for $kver"
	fi
}

do_install() {
	local kver=$1
	do_add
	do_build "$kver"
	log "dkms install $PKG/$VER -k $kver"
	dkms install "$PKG/$VER" -k "$kver" </dev/null >&2 || die "dkms install failed for $kver"
}

# Installed module files of our modules for KVER.
installed_kos() {
	local m
	for m in "${MODULES[@]}"; do
		find "/lib/modules/$1" -path "*/updates/dkms/$m.ko*" 2>/dev/null
	done
}

do_test() {
	local kver=$1 bad=() m f vm
	if ! (do_install "$kver"); then
		result_fail "dkms install $kver"
		return 1
	fi
	dkms status "$PKG" 2>/dev/null | grep -q "$kver.*installed" || bad+=("dkms status does not show $PKG installed for $kver")
	for m in "${MODULES[@]}"; do
		f=$(find "/lib/modules/$kver/updates/dkms" -name "$m.ko*" -print -quit 2>/dev/null)
		if [ -z "$f" ]; then
			bad+=("$m not installed under /lib/modules/$kver/updates/dkms")
			continue
		fi
		vm=$(modinfo -F vermagic "$f" | awk '{print $1}')
		[ "$vm" = "$kver" ] || bad+=("$f: vermagic $vm")
		grep -q "updates/dkms/$m.ko" "/lib/modules/$kver/modules.dep" ||
			bad+=("$m missing from modules.dep of $kver")
		[ "$(modinfo -F name -b / -k "$kver" "$m" 2>/dev/null)" = "$m" ] ||
			bad+=("modinfo -k $kver $m does not resolve to the DKMS module")
	done
	if [ ${#bad[@]} -gt 0 ]; then
		printf '    %s\n' "${bad[@]}" >&2
		result_fail "dkms install $kver" >&2
		return 1
	fi
	result_pass "dkms install $kver" >&2
	installed_kos "$kver"
}

do_clean_check() {
	local kver=$1 left=()
	do_remove
	ls -d /usr/src/"$PKG"-* >/dev/null 2>&1 && left+=("$(ls -d /usr/src/"$PKG"-*)")
	[ -e "/var/lib/dkms/$PKG" ] && left+=("/var/lib/dkms/$PKG")
	mapfile -t -O ${#left[@]} left < <(installed_kos "$kver")
	local m
	for m in "${MODULES[@]}"; do
		grep -qs "updates/dkms/$m.ko" "/lib/modules/$kver/modules.dep" &&
			left+=("$m in /lib/modules/$kver/modules.dep")
	done
	if [ ${#left[@]} -gt 0 ]; then
		printf '    left behind: %s\n' "${left[@]}"
		result_fail "dkms remove $kver leaves the system clean"
		return 1
	fi
	result_pass "dkms remove $kver leaves the system clean"
}

cmd=${1:-}
[ $# -ge 1 ] && shift
kver=${1:-$("$CCHOST_ROOT/scripts/default-kver")}
case $cmd in
install) need_root; do_install "$kver" ;;
build) need_root; do_add; do_build "$kver" ;;
remove) need_root; do_remove ;;
test) need_root; do_test "$kver" ;;
clean-check) need_root; do_clean_check "$kver" ;;
*) usage ;;
esac

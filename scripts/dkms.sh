#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# DKMS packaging of the product modules (gmem_pfnpool, tdi_dmabuf).
#
#   dkms.sh source DIR            write the DKMS source tree to DIR: the product
#                                 files only (no tests, scripts, kunit, tools)
#                                 and dkms.conf with the version of VERSION
#   dkms.sh [--tree T] install KVER
#                                 dkms add (if needed), build and install this
#                                 version for KVER, and nothing else
#   dkms.sh [--tree T] add        dkms add this version (no build)
#   dkms.sh [--tree T] build KVER dkms add (if needed) and build for KVER
#   dkms.sh [--tree T] remove KVER
#                                 remove this version from KVER; its source
#                                 goes once no kernel has it. Other versions
#                                 and other kernels are left alone.
#   dkms.sh test KVER             make check's DKMS step (see do_test); prints
#                                 the .ko paths it built for KVER, one a line
#
# --tree T runs DKMS in a private tree under T (its own dkms, source and
# install trees, signing key and depmod), in a private mount namespace so
# that nothing of the host's DKMS state is read or written. KVER defaults to
# the default 6.1 kernel (scripts/default-kver); DKMS builds for it through
# /lib/modules/KVER/build whatever kernel the host runs.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '4,/^set -e/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }

PKG=cchost
VER=${CCHOST_DKMS_VERSION:-$(cat "$CCHOST_ROOT/VERSION")}
PRODUCT=(gmem_pfnpool tdi_dmabuf)
TREE=

# Paths of the product inside the repository: what DKMS needs to build.
PRODUCT_PATHS=(VERSION Kbuild Kconfig COPYING README.md CHANGELOG.md compat include modules)

need_root() {
	[ "$(id -u)" = 0 ] || die "DKMS needs root (run it with sudo)"
	command -v dkms >/dev/null || die "dkms is not installed (scripts/deps.sh)"
	# One DKMS operation on the package at a time (the test's own calls
	# of this script run under its lock).
	if [ -z "${CCHOST_DKMS_LOCKED:-}" ]; then
		exec 8>"/run/lock/$PKG-dkms.lock"
		flock 8
		export CCHOST_DKMS_LOCKED=1
	fi
}

# dkms with the tree selected by --tree.
run_dkms() {
	if [ -z "$TREE" ]; then
		dkms "$@" </dev/null
		return
	fi
	# /var/lib/dkms holds DKMS's default signing key and /etc/dkms its
	# framework configuration: both are replaced by the private tree's in a
	# mount namespace of this command only.
	unshare --mount --propagation private -- sh -c '
		mount --bind "$1/var-lib-dkms" /var/lib/dkms &&
		mount --bind "$1/etc-dkms" /etc/dkms && shift && exec dkms "$@"' \
		sh "$TREE" "$@" --dkmstree "$TREE/dkms" --sourcetree "$TREE/src" \
		--installtree "$TREE/lib/modules" </dev/null
}

src_dir() { if [ -n "$TREE" ]; then echo "$TREE/src/$PKG-$VER"; else echo "/usr/src/$PKG-$VER"; fi; }
state_dir() { if [ -n "$TREE" ]; then echo "$TREE/dkms/$PKG/$VER"; else echo "/var/lib/dkms/$PKG/$VER"; fi; }
mod_dir() { echo "$TREE/lib/modules/$1"; }

# A private tree: DKMS state, sources, a module tree per kernel (headers
# linked in, depmod's inputs copied), and a framework.conf that signs with a
# key of the tree's own.
tree_setup() {
	local kver=$1 f
	mkdir -p "$TREE"/{dkms,src,var-lib-dkms,etc-dkms/framework.conf.d}
	mkdir -p "$TREE/lib/modules/$kver"
	ln -sfn "/lib/modules/$kver/build" "$TREE/lib/modules/$kver/build"
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		[ -e "/lib/modules/$kver/$f" ] && cp "/lib/modules/$kver/$f" "$TREE/lib/modules/$kver/"
	done
	if [ ! -f "$TREE/mok.key" ]; then
		openssl req -new -x509 -nodes -days 1 -subj "/CN=cchost test signing key" \
			-newkey rsa:2048 -keyout "$TREE/mok.key" -outform DER \
			-out "$TREE/mok.der" >/dev/null 2>&1 || die "openssl could not make a signing key"
	fi
	printf 'mok_signing_key="%s"\nmok_certificate="%s"\n' "$TREE/mok.key" "$TREE/mok.der" \
		> "$TREE/etc-dkms/framework.conf.d/cchost-test.conf"
}

# The DKMS source: product files, and dkms.conf with the package version.
do_source() {
	local out=$1 p
	mkdir -p "$out"
	out=$(cd "$out" && pwd)
	for p in "${PRODUCT_PATHS[@]}"; do
		[ -e "$CCHOST_ROOT/$p" ] || die "product file $p is missing"
		if git -C "$CCHOST_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
			(cd "$CCHOST_ROOT" && git ls-files -z --cached --others --exclude-standard -- "$p" |
				while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
				xargs -0 -r cp -P --parents -t "$out")
		else
			(cd "$CCHOST_ROOT" && tar --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
				-cf - "$p") | tar -C "$out" -xf -
		fi
	done
	# A version other than VERSION's (a test's) is the source's version too.
	echo "$VER" > "$out/VERSION"
	sed "s/@VERSION@/$VER/" "$CCHOST_ROOT/dkms.conf.in" > "$out/dkms.conf"
}

# Sources this script placed carry this file; others (a Debian package's)
# are never rewritten or deleted.
MARK=.cchost-dkms-sh

do_add() {
	local src
	src=$(src_dir)
	if [ ! -e "$src" ] || [ -e "$src/$MARK" ]; then
		rm -rf "$src"
		do_source "$src"
		touch "$src/$MARK"
	fi
	[ -d "$(state_dir)" ] && return 0
	log "dkms add $PKG/$VER${TREE:+ (private tree $TREE)}"
	run_dkms add "$PKG/$VER" >&2
}

do_build() {
	local kver=$1
	[ -d "/lib/modules/$kver/build" ] || die "no headers for $kver in /lib/modules/$kver/build"
	do_add
	log "dkms build $PKG/$VER -k $kver"
	# --force: the source may have been refreshed since an earlier build.
	if ! run_dkms build "$PKG/$VER" -k "$kver" --force >&2; then
		cat "$(state_dir)/build/make.log" >&2 || true
		die "dkms build failed for $kver"
	fi
}

do_install() {
	local kver=$1
	[ -n "$TREE" ] && tree_setup "$kver"
	do_build "$kver"
	log "dkms install $PKG/$VER -k $kver"
	if [ -n "$TREE" ]; then
		run_dkms install "$PKG/$VER" -k "$kver" --force --no-depmod >&2 ||
			die "dkms install failed for $kver"
		depmod -b "$TREE" "$kver"
	else
		run_dkms install "$PKG/$VER" -k "$kver" --force >&2 || die "dkms install failed for $kver"
	fi
}

do_remove() {
	local kver=$1
	[ -d "$(state_dir)" ] || { log "$PKG/$VER is not registered with DKMS${TREE:+ in $TREE}"; return 0; }
	log "dkms remove $PKG/$VER -k $kver"
	if [ -n "$TREE" ]; then
		run_dkms remove "$PKG/$VER" -k "$kver" --no-depmod >&2 || true
		[ -d "$TREE/lib/modules/$kver" ] && depmod -b "$TREE" "$kver"
	else
		run_dkms remove "$PKG/$VER" -k "$kver" >&2 || true
	fi
	# The last kernel gone: the version and its source go too.
	local d left=0
	for d in "$(state_dir)"/*/; do
		case ${d%/} in */source | */build | *'/*') ;; *) left=1 ;; esac
	done
	if [ $left = 0 ]; then
		log "dkms remove $PKG/$VER --all (no kernel has it any more)"
		[ -d "$(state_dir)" ] && { run_dkms remove "$PKG/$VER" --all ${TREE:+--no-depmod} >&2 || true; }
		[ -e "$(src_dir)/$MARK" ] && rm -rf "$(src_dir)"
		rm -rf "$(state_dir)"
		rmdir "$(dirname "$(state_dir)")" 2>/dev/null || true
	fi
}

# .ko files of ours installed for KVER.
installed_kos() {
	local m
	for m in "${PRODUCT[@]}"; do
		find "$(mod_dir "$1")" -path "*/updates/dkms/$m.ko*" 2>/dev/null
	done
}

# --- make check's DKMS step --------------------------------------------------

SENTINEL=0.0.1

# What of the host's DKMS state a run could change, in a comparable form.
host_snapshot() {
	local kver=$1
	dkms status 2>/dev/null | sort
	find /var/lib/dkms /usr/src -maxdepth 3 \( -path "*/$PKG*" -o -path "*/$PKG-*" \) 2>/dev/null | sort
	find "/lib/modules/$kver/updates" -type f -exec md5sum {} + 2>/dev/null | sort
	md5sum "/lib/modules/$kver/modules.dep" 2>/dev/null
}

# expect DESC COMMAND...: a "dkms: DESC" result (result_expect in lib.sh).
expect() { result_expect "dkms: $1" "${@:2}"; }

# A copy of KVER's headers whose configuration has no vfio-pci core.
novfio_headers() {
	local kver=$1 out=$2 src l
	src=$(readlink -f "/lib/modules/$kver/build")
	cp -a "$src" "$out"
	# Relative links (scripts, tools) point into the original's neighbours.
	(cd "$src" && find . -type l) | while read -r l; do
		ln -sfn "$(readlink -f "$src/$l")" "$out/$l"
	done
	sed -i '/^CONFIG_VFIO_PCI_CORE=/d' "$out/.config" "$out/include/config/auto.conf"
	sed -i '/define CONFIG_VFIO_PCI_CORE\(_MODULE\)\{0,1\} /d' "$out/include/generated/autoconf.h"
}

# The DKMS step of make check, for KVER:
#  - a different version of the package is installed in the host's real DKMS
#    tree first (unless the host already has one), and must come out of the
#    run untouched; the host's DKMS state must be as it was at the end;
#  - this version is installed in a private tree: only the two product
#    modules, with the version of VERSION, KVER's vermagic, signed with the
#    tree's key, no test file in the DKMS source; a second version in the
#    same tree survives the removal of this one, which leaves nothing;
#  - the binary-only path: mktarball --binaries-only, then ldtarball and
#    install in a tree without the source, gives the same signed modules;
#  - on a kernel configured without VFIO, gmem_pfnpool alone is built.
# Prints the .ko paths of the private install (stdout) for a guest boot; they
# stay under $CCHOST_CACHE/dkms-tree.ko until the next run.
do_test() {
	local kver=$1 before after host_had_key=0 sentinel=0 t kos v m f fails=0 left
	local undo_sentinel=
	[ -f /var/lib/dkms/mok.key ] && host_had_key=1
	before=$(host_snapshot "$kver")
	if ! dkms status "$PKG" 2>/dev/null | grep -q .; then
		sentinel=1
		log "installing $PKG/$SENTINEL in the host's DKMS tree (removed at the end)"
		# Interrupted, the step still takes it away.
		undo_sentinel="CCHOST_DKMS_VERSION=$SENTINEL $(printf '%q' "$0") remove $kver >&2"
		[ $host_had_key = 1 ] || undo_sentinel+="; rm -f /var/lib/dkms/mok.key /var/lib/dkms/mok.pub"
		cchost_at_exit "$undo_sentinel"
		CCHOST_DKMS_VERSION=$SENTINEL "$0" install "$kver" >&2 ||
			{ result_fail "dkms: install $PKG/$SENTINEL in the host tree" >&2; return 1; }
	fi
	local host_mid
	host_mid=$(host_snapshot "$kver")

	t=$CCHOST_CACHE/dkms-tree
	rm -rf "$t"
	cchost_tmp "$t"
	mkdir -p "$t"
	"$0" --tree "$t" install "$kver" >&2 || fails=$((fails + 1))
	expect "dkms status of the private tree shows $PKG/$VER installed for $kver" \
		eval 'run_in_tree "$t" dkms status "$PKG/$VER" -k "$kver" | grep -q installed'
	kos=$(cd "$t/lib/modules/$kver" && find . -name '*.ko*' | sed 's|^\./||' | sort)
	expect "only the product modules are installed (${kos//$'\n'/ })" \
		[ "$(echo "$kos" | sed 's|.*/||' | tr '\n' ' ')" = "gmem_pfnpool.ko tdi_dmabuf.ko " ]
	expect "the DKMS source has no tests, scripts, kunit or tools" \
		eval '! ls -d "$t/src/$PKG-$VER"/{tests,scripts,kunit,tools} 2>/dev/null | grep -q .'
	for m in "${PRODUCT[@]}"; do
		f=$(find "$t/lib/modules/$kver" -name "$m.ko*" -print -quit)
		[ -n "$f" ] || continue
		v=$(modinfo -F version "$f")
		expect "$m: modinfo version $v is VERSION ($VER)" [ "$v" = "$VER" ]
		v=$(modinfo -F vermagic "$f" | awk '{print $1}')
		expect "$m: vermagic $v" [ "$v" = "$kver" ]
		v=$(modinfo -F signer "$f")
		expect "$m: signed with the configured key (signer: ${v:-none})" \
			[ "$v" = "cchost test signing key" ]
		expect "$m: in the private tree's modules.dep" \
			grep -q "updates/dkms/$m.ko" "$t/lib/modules/$kver/modules.dep"
	done
	expect "the host's DKMS state is untouched by the private install" \
		[ "$(host_snapshot "$kver")" = "$host_mid" ]
	# Kept for the guest boot of make check.
	rm -rf "$t.ko"
	mkdir -p "$t.ko"
	find "$t/lib/modules/$kver/updates/dkms" -name '*.ko*' -exec cp {} "$t.ko/" \;

	# The binary-only path (README): a tarball of the built modules, loaded
	# into a tree that has no source of the package, installs there
	# without a build: the same signed files.
	local t2=$t/binary-only bin=$t/$PKG-$VER-$kver-binaries.tar.gz sums=
	run_in_tree "$t" dkms mktarball "$PKG/$VER" -k "$kver" --binaries-only \
		--archive "$bin" >&2 || fails=$((fails + 1))
	(TREE=$t2 tree_setup "$kver")
	# dkms 3.0.10's ldtarball exits 1 after loading the binaries: what
	# counts is that the install then finds them.
	[ -s "$bin" ] && { run_in_tree "$t2" dkms ldtarball "$bin" >&2 || true; }
	if run_in_tree "$t2" dkms install "$PKG/$VER" -k "$kver" --no-depmod >&2; then
		sums=$(cd "$t2/lib/modules/$kver/updates/dkms" 2>/dev/null && md5sum -- *.ko*)
	fi
	expect "mktarball --binaries-only, then ldtarball and install in a tree without the source: the same signed modules" \
		eval '[ ! -e "$t2/src/$PKG-$VER" ] && [ -n "$sums" ] &&
		      [ "$sums" = "$(cd "$t/lib/modules/$kver/updates/dkms" && md5sum -- *.ko*)" ]'

	# Removal touches only the version asked for. DKMS installs one
	# version of a module per kernel, so the other version is only added.
	CCHOST_DKMS_VERSION=$SENTINEL "$0" --tree "$t" add >&2 || fails=$((fails + 1))
	"$0" --tree "$t" remove "$kver" >&2 || fails=$((fails + 1))
	expect "remove of $PKG/$VER leaves $PKG/$SENTINEL (added) and its source" \
		eval 'run_in_tree "$t" dkms status "$PKG/$SENTINEL" | grep -q added &&
		      [ -e "$t/src/$PKG-$SENTINEL/dkms.conf" ] &&
		      [ -z "$(find "$t/lib/modules/$kver" -name "*.ko*")" ] &&
		      ! run_in_tree "$t" dkms status "$PKG/$VER" | grep -q .'
	CCHOST_DKMS_VERSION=$SENTINEL "$0" --tree "$t" remove "$kver" >&2 || fails=$((fails + 1))
	left=$({ find "$t/lib/modules/$kver" -name "*.ko*"; ls -A "$t/src"; ls -A "$t/dkms"
		 grep "updates/dkms" "$t/lib/modules/$kver/modules.dep"; } | grep "$PKG\|\.ko" || true)
	expect "removing the last version leaves nothing in the tree${left:+ (left: ${left//$'\n'/ })}" \
		[ -z "$left" ]

	# A kernel without VFIO gets gmem_pfnpool alone.
	novfio_headers "$kver" "$t/hdr-novfio"
	kos="build failed"
	if (TREE=$t; do_add) &&
	   run_in_tree "$t" dkms build "$PKG/$VER" -k "$kver-novfio" \
		--kernelsourcedir "$t/hdr-novfio" >&2; then
		kos=$(cd "$t/dkms/$PKG/$VER/$kver-novfio" && find . -name '*.ko*' |
			sed 's|.*/||' | sort | tr '\n' ' ')
	fi
	expect "a kernel without VFIO builds gmem_pfnpool alone ($kos)" [ "$kos" = "gmem_pfnpool.ko " ]

	rm -rf "$t"

	if [ $sentinel = 1 ]; then
		cchost_at_exit_done "$undo_sentinel"
		CCHOST_DKMS_VERSION=$SENTINEL "$0" remove "$kver" >&2 || fails=$((fails + 1))
		[ $host_had_key = 1 ] || rm -f /var/lib/dkms/mok.key /var/lib/dkms/mok.pub
	fi
	after=$(host_snapshot "$kver")
	expect "the host's DKMS state is as it was before the step" [ "$after" = "$before" ]
	[ "$after" = "$before" ] || diff <(echo "$before") <(echo "$after") | sed 's/^/    /' >&2
	for m in "${PRODUCT[@]}"; do
		find "$t.ko" -name "$m.ko*" 2>/dev/null
	done
	[ $fails = 0 ]
}

# run_in_tree T CMD...: CMD (a dkms command) against the private tree T.
run_in_tree() {
	local tree=$1
	shift
	[ "$1" = dkms ] && shift
	TREE=$tree run_dkms "$@"
}

while [ $# -gt 0 ]; do
	case $1 in
	--tree) TREE=$(mkdir -p "$2" && cd "$2" && pwd); shift 2 ;;
	-h|--help) usage 0 ;;
	*) break ;;
	esac
done
cmd=${1:-}
[ $# -ge 1 ] && shift
case $cmd in
source) [ $# = 1 ] || usage; do_source "$1" ;;
install) need_root; do_install "${1:-$("$CCHOST_ROOT/scripts/default-kver")}" ;;
add) need_root; do_add ;;
build) need_root; k=${1:-$("$CCHOST_ROOT/scripts/default-kver")}; [ -n "$TREE" ] && tree_setup "$k"; do_build "$k" ;;
remove) need_root; do_remove "${1:-$("$CCHOST_ROOT/scripts/default-kver")}" ;;
test) need_root; do_test "${1:-$("$CCHOST_ROOT/scripts/default-kver")}" ;;
*) usage ;;
esac

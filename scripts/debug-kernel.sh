#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The debug guest kernel: Debian's linux-source (the tree KUnit uses, trixie's
# 6.12) built with KASAN, lockdep, kmemleak, DEBUG_OBJECTS, UBSAN and fault
# injection, from a small config: allnoconfig + kvm_guest.config +
# tests/kernel/base.config (what a q35 test guest needs) +
# tests/kernel/trim.config + tests/kernel/debug.config. Built once with ccache
# and rebuilt only when the tree, the fragments or the compiler change.
#
#   debug-kernel.sh ensure     build it if needed; print the kernel release
#   debug-kernel.sh release    print the release it has (or will have)
#   debug-kernel.sh dir        print the build directory (for M= builds)
#   debug-kernel.sh image      print the path of the bzImage
#   debug-kernel.sh moddir     print ROOT with ROOT/lib/modules/<release>
#
# Every =y/=m of debug.config must survive olddefconfig: a symbol that a
# dependency dropped fails the build instead of silently missing from the
# guest. Logs: $CCHOST_CACHE/debug-kernel/build.log.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

D=$CCHOST_CACHE/debug-kernel
B=$D/build
FRAGS=("$CCHOST_ROOT/tests/kernel/base.config" "$CCHOST_ROOT/tests/kernel/trim.config"
       "$CCHOST_ROOT/tests/kernel/debug.config")

usage() { sed -n '4,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

tree() { "$CCHOST_ROOT/scripts/kunit.sh" --print-tree; }

# What the build depends on: tree, fragments, compiler.
key() {
	{
		basename "$1"
		cat "${FRAGS[@]}"
		gcc --version | head -n1
	} | sha256sum | cut -c1-16
}

release_of() {
	local t=$1
	echo "$(make -s -C "$t" kernelversion)-cchost-debug"
}

built() {
	local k=$1 rel=$2
	[ "$(cat "$D/key" 2>/dev/null)" = "$k" ] &&
		[ -e "$B/arch/x86/boot/bzImage" ] &&
		[ -e "$D/root/lib/modules/$rel/modules.dep" ]
}

# Symbols set in debug.config that the final .config lacks.
missing_symbols() {
	local line sym
	cat "$CCHOST_ROOT/tests/kernel/base.config" "$CCHOST_ROOT/tests/kernel/debug.config" |
		grep -E '^CONFIG_[A-Z0-9_]+=[ym]$' |
		while read -r line; do
			sym=${line%%=*}
			grep -qE "^$sym=[ym]$" "$B/.config" || echo "$line"
		done
}

build() {
	local t=$1 k=$2 rel=$3 miss start
	start=$(date +%s)
	log "building the debug guest kernel $rel from $t (log: $D/build.log)"
	mkdir -p "$B" "$D/ccache"
	export CCACHE_DIR=$D/ccache CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-4G}
	local mk=(make -C "$t" O="$B" CC="ccache gcc" -j"$(nproc)")
	{
		"${mk[@]}" allnoconfig kvm_guest.config &&
		"$t/scripts/kconfig/merge_config.sh" -m -O "$B" "$B/.config" "${FRAGS[@]}" &&
		"${mk[@]}" olddefconfig
	} > "$D/build.log" 2>&1 || { tail -n 30 "$D/build.log" >&2; die "configuring the debug kernel failed"; }
	miss=$(missing_symbols)
	[ -z "$miss" ] || die "debug kernel config lacks (dependencies not met): $(echo $miss)"
	cchost_heartbeat "debug kernel build (log: $D/build.log)" \
		"${mk[@]}" bzImage modules >> "$D/build.log" 2>&1 ||
		{ grep -E 'error|Error' "$D/build.log" | head -n 20 >&2; die "building the debug kernel failed"; }
	[ "$(cat "$B/include/config/kernel.release")" = "$rel" ] ||
		die "debug kernel release is $(cat "$B/include/config/kernel.release"), expected $rel"
	rm -rf "$D/root.tmp"
	cchost_tmp "$D/root.tmp"
	"${mk[@]}" INSTALL_MOD_PATH="$D/root.tmp" INSTALL_MOD_STRIP=1 modules_install >> "$D/build.log" 2>&1 ||
		die "modules_install of the debug kernel failed"
	rm -f "$D/root.tmp/lib/modules/$rel/build" "$D/root.tmp/lib/modules/$rel/source"
	depmod -b "$D/root.tmp" "$rel"
	rm -rf "$D/root"
	mv "$D/root.tmp" "$D/root"
	echo "$k" > "$D/key"
	log "debug kernel $rel built in $(($(date +%s) - start)) s"
}

cmd=${1:-}
case $cmd in
ensure|release|dir|image|moddir) ;;
*) usage ;;
esac

case $cmd in
dir) echo "$B"; exit 0 ;;
image) echo "$B/arch/x86/boot/bzImage"; exit 0 ;;
moddir) echo "$D/root"; exit 0 ;;
esac

mkdir -p "$D"
t=$(tree)
rel=$(release_of "$t")
if [ "$cmd" = release ]; then
	echo "$rel"
	exit 0
fi
exec 7>"$D/lock"
flock 7
k=$(key "$t")
built "$k" "$rel" || build "$t" "$k" "$rel"
echo "$rel"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make demo: build both modules for the default kernel (Debian 6.1), boot it
# in QEMU (TCG, q35, intel-iommu, edu, two memmap= reserved ranges) and walk
# through the platform and the modules' flows with readable output.
#
# The walk-throughs are the guest scripts tests/guest/demo/*.sh, run in name
# order after a tour of the platform (tests/guest/runner/demo-platform.sh);
# without any, both modules are loaded, shown and unloaded.
#
#   scripts/demo.sh [--kernel KVER]      (the full console: $CCHOST_CACHE/logs/demo-KVER.log)

set -u
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=kernels.sh
. "$CCHOST_ROOT/scripts/kernels.sh"
# shellcheck source=qemu.sh
. "$CCHOST_ROOT/scripts/qemu.sh"

kver=
[ "${1:-}" = --kernel ] && kver=${2:-}
[ -n "$kver" ] || kver=$("$CCHOST_ROOT/scripts/default-kver")

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
[ -t 1 ] || step() { printf '\n==> %s\n' "$*"; }

step "Building gmem_pfnpool and tdi_dmabuf for Linux $kver"
kernel_prepare "$kver" || die "cannot prepare kernel $kver"
# The build directory is shared with build-matrix.sh: build under a lock
# and keep a snapshot of the .ko files for the initramfs.
build=$CCHOST_CACHE/guest/demo-$kver/ko
(flock 9 && kernel_build "$kver" "$CCHOST_CACHE/build/$kver" && rm -rf "$build" && mkdir -p "$build" &&
 find "$CCHOST_CACHE/build/$kver" -name '*.ko' -exec cp -t "$build" {} +) \
	9> "$CCHOST_CACHE/build-$kver.lock" > "$CCHOST_CACHE/build-$kver.log" 2>&1 ||
	{ cat "$CCHOST_CACHE/build-$kver.log"; die "module build failed"; }
find "$build" -name '*.ko' -printf '  %P\n' | sort
qemu_build_tools "$CCHOST_CACHE/tools" || die "cannot build modload"
# The walk-throughs drive the in-guest test programs (e.g. /tests/tdi/flow -v).
bindir=$CCHOST_CACHE/guest-bin/demo
qemu_build_tests "$bindir" "$CCHOST_ROOT/tests/guest" > /dev/null ||
	die "cannot build the in-guest test programs"

step "Packing the guest initramfs (busybox, modload, vfio modules, our modules, test programs)"
initrd=$CCHOST_CACHE/guest/demo-$kver/initramfs.cpio.gz
qemu_initramfs "$kver" "$build" "$bindir" "$initrd" "$CCHOST_ROOT/tests/guest/demo" ||
	die "cannot build the initramfs"
echo "  $initrd ($(du -h "$initrd" | cut -f1))"

step "Booting Linux $kver in QEMU (TCG: q35, 2 vCPUs, intel-iommu, edu, memmap= reserved ranges)"
logf=$CCHOST_CACHE/logs/demo-$kver.log
start=$(date +%s)
# Show the console from the first demo script on; markers become headings.
CCHOST_QEMU_ECHO=1 qemu_boot "$kver" "$initrd" "$logf" cchost.mode=demo |
	awk '
	/^@@cchost demo-status / { if ($4 != 0) print "  (" $3 " failed with status " $4 ")"; next }
	/^@@cchost demo / { shown = 1; name = $3; sub(/\.sh$/, "", name); sub(/^[0-9]+-/, "", name)
			    printf "\n--- %s ---\n", name; fflush(); next }
	/^@@cchost done/ { shown = 0; next }
	/^# cchost runner:/ { next }
	/^@@cchost / { next }
	shown { print "  " $0; fflush() }'
qrc=${PIPESTATUS[0]}
echo
echo "(guest ran for $(($(date +%s) - start)) s; full console: $logf)"

rc=0
[ "$qrc" -eq 0 ] || { log "QEMU exited with status $qrc"; rc=1; }
grep -q '^@@cchost done' "$logf" || { log "the guest did not finish the demo"; rc=1; }
if grep -E '^@@cchost demo-status [^ ]+ [1-9]' "$logf"; then
	log "a demo script failed"
	rc=1
fi
qemu_scan_log "$logf" || rc=1
if [ $rc -eq 0 ]; then
	step "Demo finished: every step succeeded, console free of kernel warnings"
else
	step "Demo FAILED (see above and $logf)"
fi
echo
exit $rc

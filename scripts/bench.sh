#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make bench: performance numbers of gmem_pfnpool from one guest boot (not
# part of make check's pass/fail). Prints the "bench:" lines of
# tools/gmem-bench/gmem_bench.c:
#   - faults and time to touch 1 GiB of a gmem file vs a memfd of the same
#     size (ratio against the memfd baseline of the same boot),
#   - conversion time for 2 MiB vs 1 GiB,
#   - metadata bytes per GiB managed (must stay <= 64 KiB) and per
#     shared/private range.
#
#   scripts/bench.sh [--kernel KVER]    (console: $CCHOST_CACHE/logs/bench-KVER.log)

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

work=$CCHOST_CACHE/bench/$kver
rm -rf "$work" && mkdir -p "$work/ko" "$work/tests/bench" "$CCHOST_CACHE/logs"

log "bench: building the modules for $kver"
kernel_prepare "$kver" || die "cannot prepare kernel $kver"
kernel_build "$kver" "$work/build" > "$work/build.log" 2>&1 ||
	{ cat "$work/build.log"; die "module build failed"; }
find "$work/build" -name '*.ko' -exec cp -t "$work/ko" {} +
qemu_build_tools "$CCHOST_CACHE/tools" || die "cannot build modload"

log "bench: building tools/gmem-bench"
gcc -static -O2 -Wall -I "$CCHOST_ROOT/include/uapi" \
	-I "$CCHOST_ROOT/tests/guest/lib" -I "$CCHOST_ROOT/tests/guest/gmem" \
	-o "$work/tests/bench/gmem_bench" "$CCHOST_ROOT/tools/gmem-bench/gmem_bench.c" ||
	die "cannot build gmem_bench"

initrd=$work/initramfs.cpio.gz
qemu_initramfs "$kver" "$work/ko" "$work/tests" "$initrd" || die "cannot build the initramfs"

logf=$CCHOST_CACHE/logs/bench-$kver.log
log "bench: booting $kver (console: $logf)"
qemu_boot "$kver" "$initrd" "$logf" cchost.tests=bench
qrc=$?

echo
echo "gmem_pfnpool bench on Linux $kver (QEMU TCG: absolute times are slow, compare ratios)"
grep -a '^bench: ' "$logf" | sed 's/^bench: /  /' | column -t -l 2 2>/dev/null ||
	grep -a '^bench: ' "$logf" | sed 's/^bench: /  /'
if grep -aq '^not ok' "$logf" || [ "$qrc" -ne 0 ] || ! grep -aq '^bench: ' "$logf"; then
	grep -a '^not ok' "$logf"
	die "bench did not complete (QEMU status $qrc), see $logf"
fi
per_gib=$(grep -a '^bench: metadata_bytes_per_gib_1g_file' "$logf" | awk '{print $3}')
per_range=$(grep -a '^bench: metadata_bytes_per_attr_range' "$logf" | awk '{print $3}')
echo
echo "metadata: ${per_gib:-?} bytes per GiB managed with a 1 GiB file in use (limit 65536),"
echo "          plus ${per_range:-?} bytes per shared/private range of a file"

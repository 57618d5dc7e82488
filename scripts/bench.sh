#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make bench: performance numbers of gmem_pfnpool and tdi_dmabuf from one
# guest boot per kernel (not part of make check's pass/fail). Prints the
# "bench:" lines of tools/gmem-bench/gmem_bench.c and tdi_bench.c as a table,
# grouped:
#   - touch anchors: faults and time to touch 1 GiB of a cold memfd, a memfd
#     after fallocate, 2 MiB hugetlb pages, anonymous THP, the memset and
#     "rep stosq" bandwidth, and a gmem file (its time ratio to each),
#   - conversion time for 2 MiB vs 1 GiB,
#   - zeroing: fallocate, punch and last close of 1 GiB and 256 MiB (bytes
#     per second, ratio to memset), and the latency of faults and GET_ATTR
#     while a 1 GiB punch zeroes vs without one,
#   - TDI scale: GET_LAYOUT, GET_DMABUF, GET_RANGES, BIND and CPU faults of
#     a DMA-BUF mapping with 1, 16 and up to 256 report ranges (the fake
#     report provider's limit caps the count; the line says so),
#   - metadata bytes per GiB managed (must stay <= 64 KiB) and per
#     shared/private range.
#
#   scripts/bench.sh [--kernel KVER | --all]
#     --kernel KVER  guest kernel (default: scripts/default-kver, 6.1)
#     --all          6.1 and the newest 7.x that boots under QEMU TCG
#   Console: $CCHOST_CACHE/logs/bench-KVER.log. Absolute times come from
#   QEMU TCG and a shared host: compare the ratios.

set -u
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=kernels.sh
. "$CCHOST_ROOT/scripts/kernels.sh"
# shellcheck source=qemu.sh
. "$CCHOST_ROOT/scripts/qemu.sh"

# The bench programs run longer than a test; the guest's per-test timeout.
export CCHOST_TEST_TIMEOUT=${CCHOST_TEST_TIMEOUT:-900}
export CCHOST_QEMU_TIMEOUT=${CCHOST_QEMU_TIMEOUT:-1800}

BENCH_CFLAGS="-static -O2 -Wall -Wextra -I $CCHOST_ROOT/include/uapi"
BENCH_CFLAGS+=" -I $CCHOST_ROOT/tests/guest/lib"

# Print the bench lines of LOG as a table, one group after the other.
bench_table() {
	local logf=$1

	grep -a '^bench: ' "$logf" | sed 's/^bench: //' | awk '
	function group(k) {
		if (k ~ /^tdi_/)
			return 4
		if (k ~ /^metadata_/)
			return 5
		if (k ~ /^convert_/)
			return 2
		if (k ~ /^(zero_|gmem_fallocate_|punch_)/ || k ~ /_latency/)
			return 3
		if (k ~ /^(memfd|hugetlb|thp|memset|rep_stos|gmem_touch|gmem_vs|gmem_retouch|gmem_huge_retouch)/)
			return 1
		return 6
	}
	BEGIN {
		name[1] = "touch anchors (1 GiB, one write per 4 KiB page)"
		name[2] = "conversion"
		name[3] = "zeroing (memory returns to the pool zeroed)"
		name[4] = "TDI scale (per call)"
		name[5] = "metadata"
		name[6] = "other"
	}
	{
		g = group($1)
		val = $0
		sub(/^[^ ]+ */, "", val)
		line[g, ++n[g]] = sprintf("    %-50s %s", $1, val)
	}
	END {
		for (g = 1; g <= 6; g++) {
			if (!n[g])
				continue
			print "  " name[g]
			for (i = 1; i <= n[g]; i++)
				print line[g, i]
		}
	}'
}

bench_kernel() {
	local kver=$1 work logf initrd qrc per_gib per_range
	local src=$CCHOST_ROOT/tools/gmem-bench

	work=$CCHOST_CACHE/bench/$kver
	rm -rf "$work" && mkdir -p "$work/ko" "$work/tests/bench" "$CCHOST_CACHE/logs"

	log "bench: building the modules for $kver"
	kernel_prepare "$kver" || die "cannot prepare kernel $kver"
	kernel_build "$kver" "$work/build" > "$work/build.log" 2>&1 ||
		{ cat "$work/build.log"; die "module build failed"; }
	find "$work/build" -name '*.ko' -exec cp -t "$work/ko" {} +
	qemu_build_tools "$CCHOST_CACHE/tools" || die "cannot build modload"

	log "bench: building tools/gmem-bench"
	# shellcheck disable=SC2086 # word splitting of the flags is intended
	gcc $BENCH_CFLAGS -I "$CCHOST_ROOT/tests/guest/gmem" \
		-o "$work/tests/bench/gmem_bench" "$src/gmem_bench.c" ||
		die "cannot build gmem_bench"
	# shellcheck disable=SC2086
	gcc $BENCH_CFLAGS -I "$CCHOST_ROOT/tests/guest/tdi" \
		-o "$work/tests/bench/tdi_bench" "$src/tdi_bench.c" ||
		die "cannot build tdi_bench"

	initrd=$work/initramfs.cpio.gz
	qemu_initramfs "$kver" "$work/ko" "$work/tests" "$initrd" ||
		die "cannot build the initramfs"

	logf=$CCHOST_CACHE/logs/bench-$kver.log
	log "bench: booting $kver (console: $logf)"
	qemu_boot "$kver" "$initrd" "$logf" cchost.tests=bench
	qrc=$?

	echo
	echo "gmem_pfnpool / tdi_dmabuf bench on Linux $kver"
	echo "(QEMU TCG on a shared host: absolute times are slow and noisy, compare ratios)"
	bench_table "$logf"
	if grep -aq '^not ok' "$logf" || [ "$qrc" -ne 0 ] ||
	   ! grep -aq '^bench: ' "$logf" || grep -aq '^@@cchost end bench/.* [^0]' "$logf"; then
		grep -a '^not ok\|^@@cchost end bench/' "$logf"
		log "bench did not complete (QEMU status $qrc), see $logf"
		return 1
	fi
	per_gib=$(grep -a '^bench: metadata_bytes_per_gib_1g_file' "$logf" | awk '{print $3}')
	per_range=$(grep -a '^bench: metadata_bytes_per_attr_range' "$logf" | awk '{print $3}')
	echo
	echo "metadata: ${per_gib:-?} bytes per GiB managed with a 1 GiB file in use (limit 65536),"
	echo "          plus ${per_range:-?} bytes per shared/private range of a file"
}

kvers=
case ${1:-} in
--kernel) kvers=${2:-} ;;
--all) kvers="$("$CCHOST_ROOT/scripts/default-kver") $(CCHOST_DEBUG_KERNEL=0 kernel_guest_list |
	sed -n 2p)" ;;
esac
[ -n "$kvers" ] || kvers=$("$CCHOST_ROOT/scripts/default-kver")

rc=0
for kver in $kvers; do
	bench_kernel "$kver" || rc=1
done
exit $rc

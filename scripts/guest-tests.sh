#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run the in-guest tests: for each guest kernel of the matrix (or the one
# given), build the modules, pack an initramfs with them and the test
# programs of tests/guest/<suite>/, boot it once in QEMU and report one
# result per TAP test point, plus one for a clean console (and one for a boot
# retried because the guest died before its first test).
#
#   scripts/guest-tests.sh [--kernel KVER] [--suite PAT[,PAT]] [--moddir DIR]
#                          [--tests DIR] [--name LABEL] [--append ARGS]
#
#   --kernel KVER  only these kernels (space-separated; default: every kernel
#                  of kernel_guest_list; "debug" is the debug kernel of
#                  scripts/debug-kernel.sh)
#   --suite PAT    run only matching suites or suite/test names (shell patterns)
#   --moddir DIR   use the prebuilt .ko files under DIR instead of building
#   --tests DIR    take the suites from DIR instead of tests/guest (repeatable)
#   --name LABEL   label of the results (default: the kernel release;
#                  LABEL-KVER when there are several kernels)
#   --append ARGS  extra guest kernel command line
#
# Kernels boot CCHOST_GUEST_JOBS at a time (default 2).
# Exit status: 0 when every result passed. Logs: $CCHOST_CACHE/logs/.

set -u
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=kernels.sh
. "$CCHOST_ROOT/scripts/kernels.sh"
# shellcheck source=qemu.sh
. "$CCHOST_ROOT/scripts/qemu.sh"

kernels=
suite=
moddir=
tests=()
label=
append=
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernels=$2; shift 2 ;;
	--suite) suite=$2; shift 2 ;;
	--moddir) moddir=$2; shift 2 ;;
	--tests) tests+=("$2"); shift 2 ;;
	--name) label=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	-h|--help) cchost_usage "$0"; exit 0 ;;
	*) die "unknown argument: $1" ;;
	esac
done
[ ${#tests[@]} -gt 0 ] || tests=("$CCHOST_ROOT/tests/guest")
# "debug" names the debug guest kernel, whatever its version.
kernels=$(for k in $kernels; do [ "$k" = debug ] && kernel_debug_release || echo "$k"; done)
if [ -z "$kernels" ]; then
	kernels=$(kernel_guest_list)
	# The matrix promises the 6.1 host kernel and one 7.x kernel in QEMU.
	grep -q '^7\.' <<<"$kernels" ||
		result_fail "guest: no 7.x kernel of the matrix available to boot (got: ${kernels//$'\n'/ })"
fi

rc=0
qemu_build_tools "$CCHOST_CACHE/tools" || { result_fail "guest: build modload"; exit 1; }

bindir=$CCHOST_CACHE/guest-bin/${label:-default}
if failed=$(qemu_build_tests "$bindir" "${tests[@]}"); then
	result_pass "guest: build in-guest test programs"
else
	for t in $failed; do
		result_fail "guest: build in-guest test $t"
	done
	rc=1
fi

# One kernel: build, pack, boot, collect. Status 0 when everything passed.
guest_kernel() {
	local kver=$1 name kodir initrd logf ttest tqemu kappend start qrc rc=0

	name=${label:-$kver}
	# Several kernels under one label run side by side: one name each.
	[ -n "$label" ] && [ "$(wc -w <<<"$kernels")" -gt 1 ] && name=$label-$kver
	log "guest $name: preparing kernel $kver"
	if ! kernel_prepare "$kver"; then
		result_fail "guest $name: prepare kernel $kver"
		return 1
	fi
	kodir=$moddir
	if [ -z "$kodir" ]; then
		# The build directory is shared with build-matrix.sh: build under
		# a lock and keep a snapshot of the .ko files for the initramfs.
		kodir=$CCHOST_CACHE/guest/$name/ko
		if ! (flock 9 && kernel_build "$kver" "$CCHOST_CACHE/build/$kver" &&
		      rm -rf "$kodir" && mkdir -p "$kodir" &&
		      find "$CCHOST_CACHE/build/$kver" -name '*.ko' -exec cp -t "$kodir" {} +) \
			9> "$CCHOST_CACHE/build-$kver.lock" > "$CCHOST_CACHE/build-$kver.log" 2>&1; then
			cat "$CCHOST_CACHE/build-$kver.log"
			result_fail "guest $name: build modules for $kver"
			return 1
		fi
	fi

	initrd=$CCHOST_CACHE/guest/$name/initramfs.cpio.gz
	logf=$CCHOST_CACHE/logs/guest-$name.log
	if ! qemu_initramfs "$kver" "$kodir" "$bindir" "$initrd"; then
		result_fail "guest $name: initramfs"
		return 1
	fi

	# The debug kernel (KASAN, lockdep, kmemleak) runs the same tests
	# several times slower under TCG: longer default timeouts.
	ttest=${CCHOST_TEST_TIMEOUT:-120}
	tqemu=${CCHOST_QEMU_TIMEOUT:-900}
	kappend=
	if [ "$(_kernel_suite "$kver")" = debug ]; then
		ttest=${CCHOST_TEST_TIMEOUT:-480}
		tqemu=${CCHOST_QEMU_TIMEOUT:-3000}
		# 6.12 clears the boot CPU's capabilities while identifying
		# it; an interrupt in that window sees LA57 off and KASAN
		# reports a wild access in the IRQ path (1 boot in 4 here):
		# the debug kernel runs with 4-level page tables.
		# (Each kmemleak scan reads the KASAN shadow and the struct
		# pages of all RAM, 30 s per scan with 4.3 GiB under TCG;
		# with RAM clipped at 2 GiB, mem=2G, the stress suite ran
		# out of memory and files: the guest keeps its RAM.)
		kappend=no5lvl
	fi
	log "guest $name: booting $kver (console: $logf)"
	start=$(date +%s)
	# A guest that dies before its first test (nothing of ours ran) is
	# booted once more; the retry is one more result.
	CCHOST_TEST_TIMEOUT=$ttest CCHOST_QEMU_TIMEOUT=$tqemu \
		qemu_boot_retry "$kver" "$initrd" "$logf" ${suite:+cchost.tests=$suite} $kappend $append
	qrc=$?
	log "guest $name: boot and tests took $(($(date +%s) - start)) s (qemu status $qrc${QEMU_BOOT_RETRIED:+, booted twice})"
	grep -a '^# cchost runner:' "$logf" | sed "s/^# cchost runner:/[cchost] guest $name:/" >&2
	if [ "$qrc" -eq 124 ]; then
		log "guest $name: QEMU killed after $tqemu s"
		# Where the vCPUs of the hung guest were (qemu_boot).
		grep -a 'vCPU sample' "${logf%.log}.host.log" 2>/dev/null |
			sed "s/^/[cchost] guest $name: /" >&2 || :
	fi

	qemu_collect "$name" "$logf" "$QEMU_BOOT_RETRIED" || rc=1
	if qemu_scan_log "$logf"; then
		result_pass "guest $name: console free of kernel warnings"
	else
		result_fail "guest $name: console free of kernel warnings"
		rc=1
	fi
	return $rc
}

# Kernels run CCHOST_GUEST_JOBS at a time (default 2: the debug kernel's
# boot beside the two stock ones in turn, one per host CPU), the longest
# (the debug kernel) first when there are several; each kernel's output is
# printed when it ends. CCHOST_GUEST_JOBS=1 runs them one after the other.
# (An earlier round saw the 6.1 stress suite time out twice side by side,
# before fault injection was turned off safely after the stress program;
# not seen since in any two-at-a-time run.)
jobs=${CCHOST_GUEST_JOBS:-2}
dbg=$(kernel_debug_release 2>/dev/null || echo none)
order=$(grep -xF "$dbg" <<<"$kernels" || true)
order+=$'\n'$(grep -vxF "$dbg" <<<"$kernels" || true)
declare -A jobout=()
running=0
reap() {
	local pid kst

	wait -n -p pid
	kst=$?
	[ "$kst" -eq 0 ] || rc=1
	cat "${jobout[$pid]}"
	cchost_rmtmp "${jobout[$pid]}"
	unset "jobout[$pid]"
	running=$((running - 1))
}
for kver in $order; do
	[ "$running" -lt "$jobs" ] || reap
	cchost_mktemp out "$CCHOST_CACHE/guest-out.XXXXXX" || exit 1
	guest_kernel "$kver" > "$out" 2>&1 &
	jobout[$!]=$out
	running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
	reap
done
exit $rc

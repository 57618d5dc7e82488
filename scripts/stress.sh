#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Seeded stress and fuzz run of both modules in one QEMU guest: boots the
# guest with scripts/guest-tests.sh, runs only the "stress" suite
# (tests/guest/stress/) for DURATION seconds with SEED, and reports its TAP
# points like any in-guest test.
#
#   scripts/stress.sh [--kernel KVER|NAME] [--seed N] [--duration SECONDS]
#                     [--threads N]
#
#   --kernel    guest kernel, any name guest-tests.sh --kernel accepts
#               (default: the stock 6.1 kernel, scripts/default-kver)
#   --seed      seed of the run (default: a new one, printed); the same seed
#               replays the same operations per thread
#   --duration  seconds of stress inside the guest (default 120)
#   --threads   worker threads (default 4)
#
# The parameters reach the guest on the kernel command line
# (cchost.stress_seed=, cchost.stress_duration=, cchost.stress_threads=);
# the per-test and whole-guest timeouts are raised to fit the duration.
# When the kernel ships DRM vgem as a module, it is added to the guest so
# that exported DMA-BUFs get a real importer. Console: the guest log of
# guest-tests.sh, $CCHOST_CACHE/logs/guest-stress-<kernel>.log.

set -u
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=kernels.sh
. "$CCHOST_ROOT/scripts/kernels.sh"

kernel=
seed=
duration=120
threads=4
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--threads) threads=$2; shift 2 ;;
	-h|--help) cchost_usage "$0"; exit 0 ;;
	*) die "unknown argument: $1" ;;
	esac
done
[ -n "$kernel" ] || kernel=$("$CCHOST_ROOT/scripts/default-kver")
[ -n "$seed" ] || seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
case $seed$duration$threads in
*[!0-9]*) die "seed, duration and threads must be decimal numbers" ;;
esac
[ "$duration" -gt 0 ] || die "duration must be positive"

# The guest needs about 60 s besides the stress itself (boot, module
# loads, fault injection, teardown); TCG is slow, so leave a wide margin.
export CCHOST_TEST_TIMEOUT=$((duration * 2 + 180))
export CCHOST_QEMU_TIMEOUT=$((CCHOST_TEST_TIMEOUT + 300))

# "debug" names the debug guest kernel (scripts/debug-kernel.sh).
if [ "$kernel" = debug ] && declare -F kernel_debug_release > /dev/null; then
	kernel=$(kernel_debug_release) || die "no debug kernel release"
fi
kernel_prepare "$kernel" || die "cannot prepare kernel $kernel"

# vgem, when the kernel has it as a module: build our modules as
# guest-tests.sh does (same build directory and lock) and add vgem.ko.
moddir=()
root=$(kernel_moddir "$kernel" 2>/dev/null) || root=
vgem=
[ -n "$root" ] && [ -d "$root/lib/modules/$kernel" ] &&
	vgem=$(find "$root/lib/modules/$kernel" -name 'vgem.ko*' 2>/dev/null | head -n1)
if [ -n "$vgem" ]; then
	kodir=$CCHOST_CACHE/stress/$kernel/ko
	if (flock 9 && kernel_build "$kernel" "$CCHOST_CACHE/build/$kernel" &&
	    rm -rf "$kodir" && mkdir -p "$kodir" &&
	    find "$CCHOST_CACHE/build/$kernel" -name '*.ko' -exec cp -t "$kodir" {} +) \
		9> "$CCHOST_CACHE/build-$kernel.lock" > "$CCHOST_CACHE/build-$kernel.log" 2>&1; then
		cp "$vgem" "$kodir/"
		moddir=(--moddir "$kodir")
	else
		cat "$CCHOST_CACHE/build-$kernel.log" >&2
		log "stress: could not build the modules; guest-tests.sh will try"
	fi
else
	log "stress: no vgem module for $kernel (built in or absent); the guest says which"
fi

log "stress: kernel $kernel, seed $seed, $duration s, $threads threads" \
    "(reproduce: make stress SEED=$seed DURATION=$duration KERNEL=$kernel)"
"$CCHOST_ROOT/scripts/guest-tests.sh" --kernel "$kernel" --suite stress \
	--name "stress-$kernel" "${moddir[@]}" \
	--append "cchost.stress_seed=$seed cchost.stress_duration=$duration cchost.stress_threads=$threads"
rc=$?
log "stress: seed $seed: $([ $rc = 0 ] && echo passed || echo FAILED)" \
    "(console: $CCHOST_CACHE/logs/guest-stress-$kernel.log)"
exit $rc

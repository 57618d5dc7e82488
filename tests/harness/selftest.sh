#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Self-tests of the test harness: prove that the things meant to fail a run
# do fail it. Results go to $CCHOST_RESULTS as "harness self-test: ..." lines;
# the deliberate failures themselves are recorded in a scratch file only.
#
#   tests/harness/selftest.sh [--no-guest] [--no-kunit] [--no-debug] [--kernel KVER]
#
# 1. offline: the console scanner and the TAP collector on canned logs; a
#    guest that dies before its first test is booted once more, visibly, and
#    only then (qemu_boot replaced by canned consoles);
# 2. one guest boot (6.1) of tests/harness/guest/ with the cchost_splat module
#    (tests/harness/splat/, WARNs on load): a failing test point, a non-zero
#    exit, a hung test and a kernel warning must each be reported as a FAIL,
#    while the passing test points still count as passed;
# 2b. one boot of the debug kernel with tests/harness/instruments-guest/ and the
#    cchost_instruments module (tests/harness/instruments/): a KASAN
#    use-after-free, a lockdep inversion and a leak must each be reported and
#    fail the run (CCHOST_DEBUG_KERNEL=0 or --no-debug skips it);
# 3. KUnit: a deliberately failing case (cchost_harness_kunit.fail=1) and a
#    case that WARNs but passes as far as KUnit knows
#    (cchost_harness_kunit.warn=1) must each make scripts/kunit.sh fail that
#    case (one x86_64 run with both, --expect-fail, on the kernel the kunit
#    step built).

set -u
# shellcheck source=../../scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
# shellcheck source=../../scripts/kernels.sh
. "$CCHOST_ROOT/scripts/kernels.sh"
# shellcheck source=../../scripts/qemu.sh
. "$CCHOST_ROOT/scripts/qemu.sh"

guest=1
kunit=1
debug=${CCHOST_DEBUG_KERNEL:-1}
kver=
while [ $# -gt 0 ]; do
	case $1 in
	--no-guest) guest=0; shift ;;
	--no-kunit) kunit=0; shift ;;
	--no-debug) debug=0; shift ;;
	--kernel) kver=$2; shift 2 ;;
	*) die "unknown argument: $1" ;;
	esac
done
[ -n "$kver" ] || kver=$("$CCHOST_ROOT/scripts/default-kver")

results=$CCHOST_RESULTS
cchost_mktemp scratch -d "$CCHOST_CACHE/selftest.XXXXXX" || exit 1
rc=0

# expect DESCRIPTION CMD...: one harness result for the status of CMD.
expect() {
	local desc=$1
	shift
	if "$@"; then
		CCHOST_RESULTS=$results result_pass "harness self-test: $desc"
	else
		CCHOST_RESULTS=$results result_fail "harness self-test: $desc"
		rc=1
	fi
}

# --- 1. offline: scanner and collector ---------------------------------------

ts='[    4.123456]'
printf '%s\n' "$ts Linux version 6.1.0" "@@cchost begin s/t" "WARNING: printed by a test" \
	"ok 1 - fine" "1..1" "@@cchost end s/t 0" "@@cchost done" > "$scratch/clean.log"
expect "scanner ignores test output and a clean boot" qemu_scan_log "$scratch/clean.log"

for splat in "WARNING: CPU: 1 PID: 87 at lib/foo.c:12 foo+0x1/0x2" \
	     "BUG: kernel NULL pointer dereference, address: 0000000000000008" \
	     "WARNING: possible circular locking dependency detected" \
	     "WARNING: suspicious RCU usage" \
	     "BUG: KASAN: slab-use-after-free in gmem_pfnpool_free+0x1/0x2" \
	     "UBSAN: shift-out-of-bounds in modules/x.c:1:2" \
	     "INFO: task modload:77 blocked for more than 120 seconds." \
	     "Kernel panic - not syncing: Fatal exception" \
	     "general protection fault, probably for non-canonical address" \
	     "kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)"; do
	printf '%s\n' "$ts Linux" "$ts $splat" "@@cchost done" > "$scratch/splat.log"
	expect "scanner flags '${splat:0:40}'" \
		eval '! qemu_scan_log "$scratch/splat.log" > /dev/null'
done

# collector: a failing point, a crash (no end marker), an empty test
cat > "$scratch/tap.log" <<'EOF'
@@cchost begin s/a
ok 1 - first
not ok 2 - second
1..2
@@cchost end s/a 1
@@cchost begin s/b
ok 1 - before crash
@@cchost begin s/c
@@cchost end s/c 0
@@cchost begin s/d
ok 1 - one
1..3
@@cchost end s/d 0
@@cchost done
EOF
CCHOST_RESULTS=$scratch/tap.res qemu_collect k "$scratch/tap.log" > /dev/null
expect "collector: failing TAP point is a FAIL" grep -qx 'FAIL guest k s/a: second' "$scratch/tap.res"
expect "collector: passing TAP point is a PASS" grep -qx 'PASS guest k s/a: first' "$scratch/tap.res"
expect "collector: missing end marker is a FAIL" grep -q '^FAIL guest k s/b: no end marker' "$scratch/tap.res"
expect "collector: test without TAP points is a FAIL" grep -q '^FAIL guest k s/c: no TAP test points' "$scratch/tap.res"
expect "collector: plan mismatch is a FAIL" grep -q '^FAIL guest k s/d: plan 1..3 but 1' "$scratch/tap.res"
# a kernel message printed in the middle of a marker or a test point
printf '%s\n' '@@cchost begin s/e' 'ok 1 - in[  109.047080] hrtimer: interrupt took 10185370 ns' \
	'[  109.047081] second message' 'tact' '1..1' \
	'@@cchost end s[  109.047090] hrtimer: interrupt took 10185370 ns' '/e 0' \
	'[  110.000000] a message of its own line' '@@cchost done' > "$scratch/splice.log"
CCHOST_RESULTS=$scratch/splice.res qemu_collect k "$scratch/splice.log" > /dev/null
expect "collector: a kernel message splitting a line is taken out" \
	eval 'grep -qx "PASS guest k s/e: intact" "$scratch/splice.res" &&
	      ! grep -q "^FAIL" "$scratch/splice.res"'
printf '@@cchost begin s/a\nok 1 - x\n' > "$scratch/nodone.log"
CCHOST_RESULTS=$scratch/nodone.res qemu_collect k "$scratch/nodone.log" > /dev/null
expect "collector: guest that never finished is a FAIL" grep -q '^FAIL guest k runner: did not finish' "$scratch/nodone.res"

# --- 1a. a boot that died before its first test is retried once ---------------

# Consoles: 7.3's int3 Oops 1.5 s into boot and a hang after /init started
# (both before any test), a crash inside the first test, the same with the
# begin marker split by the Oops, or lost with only the kernel's copy of
# the start left, QEMU that did not start, an initramfs
# without a usable /init, and a boot that ran its test.
printf '%s\n' '[    1.512345] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI' \
	'[    1.512400] CPU: 1 UID: 0 PID: 0 Comm: swapper/1 Not tainted 7.3.0-1-amd64 #1' \
	'[    1.512500] RIP: 0010:set_next_task_fair+0x38/0x140' \
	'[    1.512900] Kernel panic - not syncing: Fatal exception in interrupt' > "$scratch/early-oops.log"
runner='# cchost runner: Linux 7.3.0-1-amd64, /init reached at 5.12 s of guest uptime'
printf '%s\n' "$runner" 'qemu-system-x86_64: terminating on signal 15 from pid 4242 (timeout)' \
	> "$scratch/early-hang.log"
printf '%s\n' "$runner" '@@cchost begin s/a' '[    9.000000] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI' \
	'[    9.100000] Kernel panic - not syncing: Fatal exception' > "$scratch/late.log"
printf '%s\n' '@@cchost be[    9.000000] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI' \
	'[    9.100000] Kernel panic - not syncing: Fatal exception' > "$scratch/late-split.log"
printf '%s\n' "$runner" '[    9.000000] cchost-runner: tests started' \
	'[    9.000100] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI' > "$scratch/late-lost.log"
printf '%s\n' "qemu-system-x86_64: -device edu: 'edu' is not a valid device model name" > "$scratch/noqemu.log"
printf '%s\n' '[    1.900000] Kernel panic - not syncing: No working init found.' > "$scratch/noinit.log"
printf '%s\n' "$runner" '@@cchost begin s/a' 'ok 1 - fine' '1..1' '@@cchost end s/a 0' '@@cchost done' > "$scratch/pass.log"

why=$(qemu_early_death "$scratch/early-oops.log" 0)
wrc=$?
expect "retry: a guest that died before its first test is retried, its first kernel report is the reason" \
	eval '[ $wrc = 0 ] && [ "$why" = "Oops: int3: 0000 [#1] PREEMPT SMP NOPTI" ]'
why=$(qemu_early_death "$scratch/early-hang.log" 124)
wrc=$?
expect "retry: a guest that hung before its first test is retried ($why)" \
	eval '[ $wrc = 0 ] && [ "$why" = "hung until the timeout, no kernel report, last console line: ${runner:0:80}" ]'
# Not retried, and the classifier must be there to say so.
for c in late.log:0 late-split.log:0 late-lost.log:0 early-oops.log:130 noqemu.log:1 noinit.log:0 pass.log:0 missing.log:124; do
	expect "retry: no retry for ${c%:*} with QEMU status ${c##*:}" \
		eval 'declare -F qemu_early_death > /dev/null &&
		      ! qemu_early_death "$scratch/${c%:*}" "${c##*:}" > /dev/null'
done

# retry_case NAME CONSOLE:STATUS...: qemu_boot_retry and qemu_collect with
# qemu_boot replaced by one that gives the consoles in turn (each call
# recorded in NAME.boots); results in NAME.res, run output in NAME.err.
retry_case() {
	local name=$1

	shift
	: > "$scratch/$name.boots"
	(
		stub=$scratch/$name
		consoles=("$@")
		# shellcheck disable=SC2317 # called by qemu_boot_retry
		qemu_boot() {
			local c=${consoles[$(wc -l < "$stub.boots")]:-noqemu.log:1}

			echo "$*" >> "$stub.boots"
			cp "$scratch/${c%:*}" "$3"
			echo "host requests of ${c%:*}" > "${3%.log}.host.log"
			return "${c##*:}"
		}
		qemu_boot_retry k "$scratch/initrd" "$stub.log" cchost.tests=s > /dev/null 2> "$stub.err"
		echo $? > "$stub.rc"
		CCHOST_RESULTS=$stub.res qemu_collect k "$stub.log" "${QEMU_BOOT_RETRIED-}" > /dev/null
		echo $? > "$stub.crc"
	)
}

retry_case rpass early-oops.log:0 pass.log:0
expect "retry: a boot that died early is booted once more with the same arguments" \
	eval '[ "$(wc -l < "$scratch/rpass.boots")" = 2 ] &&
	      [ "$(sort -u "$scratch/rpass.boots" | wc -l)" = 1 ] && [ "$(cat "$scratch/rpass.rc")" = 0 ]'
expect "retry: the first console and host log are kept as .attempt1" \
	eval 'cmp -s "$scratch/early-oops.log" "$scratch/rpass.log.attempt1" &&
	      grep -q "of early-oops.log" "$scratch/rpass.host.log.attempt1" &&
	      cmp -s "$scratch/pass.log" "$scratch/rpass.log"'
expect "retry: the run output says so" \
	grep -q "guest k: the boot ended before the first test, nothing of ours ran (Oops: int3" "$scratch/rpass.err"
expect "retry: a retried boot that then passed is a PASS with the reason, nothing fails" \
	eval 'grep -qx "PASS guest k boot: retried, the first boot ended before any test: Oops: int3: 0000 \[#1\] PREEMPT SMP NOPTI (console: rpass.log.attempt1)" "$scratch/rpass.res" &&
	      grep -qx "PASS guest k s/a: fine" "$scratch/rpass.res" &&
	      ! grep -q "^FAIL" "$scratch/rpass.res" && [ "$(cat "$scratch/rpass.crc")" = 0 ]'

retry_case rtwice early-oops.log:0 early-hang.log:124
expect "retry: a second early death is not retried again and fails the run" \
	eval '[ "$(wc -l < "$scratch/rtwice.boots")" = 2 ] && [ "$(cat "$scratch/rtwice.rc")" = 124 ] &&
	      [ "$(cat "$scratch/rtwice.crc")" = 1 ] &&
	      grep -q "^FAIL guest k runner: did not finish" "$scratch/rtwice.res" &&
	      grep -q "^FAIL guest k boot: retried, the first boot ended before any test: Oops: int3.*the second did not get to a test either$" "$scratch/rtwice.res"'

retry_case rlate late.log:0 pass.log:0
expect "retry: a boot that died in its first test is not retried and fails" \
	eval '[ "$(wc -l < "$scratch/rlate.boots")" = 1 ] && [ ! -e "$scratch/rlate.log.attempt1" ] &&
	      cmp -s "$scratch/late.log" "$scratch/rlate.log" &&
	      grep -q "^FAIL guest k s/a: no end marker" "$scratch/rlate.res" &&
	      ! grep -q "boot: retried" "$scratch/rlate.res"'

retry_case rnoqemu noqemu.log:1 pass.log:0
expect "retry: QEMU that did not start is not retried" \
	eval '[ "$(wc -l < "$scratch/rnoqemu.boots")" = 1 ] && [ "$(cat "$scratch/rnoqemu.rc")" = 1 ] &&
	      [ "$(cat "$scratch/rnoqemu.crc")" = 1 ]'

# --- 1b. make kunit KERNEL_SRC=DIR never modifies DIR --------------------------

fake=$scratch/fake-linux
mkdir -p "$fake/tools/testing/kunit" "$fake/drivers"
echo '# stub' > "$fake/tools/testing/kunit/kunit.py"
printf 'menu "Device Drivers"\nsource "drivers/base/Kconfig"\nendmenu\n' > "$fake/drivers/Kconfig"
echo 'obj-y += base/' > "$fake/drivers/Makefile"
snap() { (cd "$1" && find . -printf '%p %y %s %T@\n' | sort && find . -type f -exec md5sum {} + | sort); }
before=$(snap "$fake")
prepared=$(CCHOST_CACHE=$scratch/kcache "$CCHOST_ROOT/scripts/kunit.sh" --kernel-src "$fake" --prepare 2>/dev/null)
expect "kunit.sh --kernel-src DIR leaves DIR untouched" [ "$(snap "$fake")" = "$before" ]
expect "kunit.sh --kernel-src DIR builds from a tree of its own with drivers/cchost linked in" \
	eval '[ -n "$prepared" ] && [ "$prepared" != "$fake" ] &&
	      [ "$(readlink "$prepared/drivers/cchost")" = "$CCHOST_ROOT" ] &&
	      grep -qxF "source \"drivers/cchost/Kconfig\"" "$prepared/drivers/Kconfig" &&
	      grep -qxF "obj-y += cchost/" "$prepared/drivers/Makefile"'

# --- 1c. --help of every script prints its usage and runs nothing else --------

# With an empty cache, a script that ran anything (deps, a build, a boot)
# would create something there, and check.sh would reset the results file.
hcache=$scratch/help-cache
for s in "$CCHOST_ROOT"/scripts/*.sh "$CCHOST_ROOT"/tests/harness/selftest.sh; do
	name=${s#"$CCHOST_ROOT"/}
	[ "$name" = scripts/lib.sh ] && continue
	rm -rf "$hcache"
	mkdir -p "$hcache"
	out=$(CCHOST_CACHE=$hcache CCHOST_RESULTS=$hcache/results timeout 30 "$s" --help 2> "$scratch/help.err" < /dev/null)
	hrc=$?
	expect "$name --help: status 0, usage on stdout, nothing on stderr, nothing run" \
		eval '[ $hrc -eq 0 ] && [ -n "$out" ] && [ ! -s "$scratch/help.err" ] &&
		      [ -z "$(ls -A "$hcache")" ]'
done
expect "scripts/check.sh --help names its steps" eval 'CCHOST_CACHE=$hcache "$CCHOST_ROOT/scripts/check.sh" --help | grep -q "^  harness "'

# --- 1c2. make check counts only its own results ----------------------------

# A script started beside make check records into the cache's shared
# results.txt; it writes there the whole time check.sh runs (an unknown
# step: one FAIL of its own), and none of it may count.
icache=$scratch/iso-cache
mkdir -p "$icache"
(while :; do echo "FAIL an intruder" >> "$icache/results.txt"; done) &
ipid=$!
iout=$(env -u CCHOST_RESULTS CCHOST_CACHE="$icache" CHECK_STEPS=no-such-step \
	"$CCHOST_ROOT/scripts/check.sh" 2>&1 < /dev/null)
kill "$ipid"
wait "$ipid" 2> /dev/null
expect "make check counts only its own results, then leaves them in the cache ($(tail -n 1 <<<"$iout"))" \
	eval '[ "$(tail -n 1 <<<"$iout")" = "0 passed, 1 failed" ] &&
	      grep -qx "FAIL unknown check step: no-such-step" "$icache/results.txt" &&
	      [ -z "$(ls "$icache" | grep results.check)" ]'

# --- 1d. Ctrl-C: temporary files and undo steps -----------------------------

# A script that registers a temporary directory and an undo step, then waits
# in a subshell that made a file: SIGINT must undo all three and end the
# script with the signal's status.
cat > "$scratch/intr.sh" <<'EOF'
#!/bin/bash
. "$CCHOST_ROOT/scripts/lib.sh"
cchost_mktemp d -d "$1/dir.XXXXXX"
touch "$d/f"
cchost_at_exit "touch $1/undone"
x=$(cchost_mktemp f "$1/sub.XXXXXX"; echo ready > "$1/ready"; sleep 60)
EOF
chmod +x "$scratch/intr.sh"
mkdir -p "$scratch/intr"
# Job control on: the job gets a process group of its own, as a terminal's
# foreground job. SIGINT back to its default: this script may itself have
# been started with it ignored (a background job of a non-interactive
# shell), and bash cannot trap a signal ignored at its start.
set -m
env --default-signal=INT "$scratch/intr.sh" "$scratch/intr" &
ipid=$!
set +m
for ((i = 0; i < 100; i++)); do
	[ -e "$scratch/intr/ready" ] && break
	sleep 0.1
done
made=$(ls "$scratch/intr" | tr '\n' ' ')
kill -INT -- -"$ipid" 2> /dev/null
wait "$ipid"
irc=$?
expect "Ctrl-C: a script's temporary files are removed and its undo steps run (made: $made)" \
	eval '[ -e "$scratch/intr/undone" ] &&
	      [ "$(ls "$scratch/intr" | grep -cv "^ready$\|^undone$")" = 0 ] &&
	      [ "$(echo "$made" | wc -w)" -ge 3 ]'
expect "Ctrl-C: the script ends with SIGINT's status (130, got $irc)" [ "$irc" = 130 ]

# --- 1e. a long silent step prints a heartbeat --------------------------------

hb=$(CCHOST_HEARTBEAT=1 cchost_heartbeat "silent step" sh -c 'sleep 2.5; exit 3' 2>&1 > /dev/null)
hrc=$?
expect "heartbeat: a 2.5 s step prints 2 lines at 1 s intervals and keeps its status (3, got $hrc)" \
	eval '[ "$(grep -c "^\[cchost\] silent step: still running ([12] s)$" <<<"$hb")" = 2 ] && [ $hrc = 3 ]'

# --- 1b. a guest still running near its timeout gets its vCPUs sampled ------

# What the monitor's "info registers -a" prints (QEMU 7.2), one vCPU halted
# in the idle loop, one spinning in a kernel function, and a System.map.
printf '%s\n' 'CPU#0' 'RAX=0000000000000000 RBX=0000000000000000' \
	'RIP=ffffffff81a01234 RFL=00000246 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=1' \
	'CS =0010 0000000000000000 ffffffff 00af9b00 DPL=0 CS64 [-RA]' \
	'CPU#1' 'RAX=0000000000000001 RBX=0000000000000000' \
	'RIP=ffffffff81234568 RFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=0' \
	'CPU#2' 'RIP=00007f0000001000 RFL=00000202 [-------] CPL=3 II=0 A20=1 SMM=0 HLT=0' \
	> "$scratch/regs.txt"
printf '%s\n' 'ffffffff81000000 T _stext' 'ffffffff81234500 t spin_here' \
	'ffffffff81234600 D some_data' 'ffffffff81a01200 T default_idle' > "$scratch/System.map"
sampled=$(python3 - "$CCHOST_ROOT/tests/guest/runner/host-requests.py" "$scratch" <<'PY'
import importlib.util, sys
spec = importlib.util.spec_from_file_location('hr', sys.argv[1])
hr = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hr)
table = hr.load_map(sys.argv[2] + '/System.map')
print(hr.describe_cpus(open(sys.argv[2] + '/regs.txt').read(), table))
PY
)
expect "vCPU samples: each vCPU named from System.map, halted and user mode told ($sampled)" \
	eval '[ "$sampled" = "CPU0 0xffffffff81a01234 default_idle+0x34, halted | CPU1 0xffffffff81234568 spin_here+0x68 | CPU2 0x7f0000001000 user" ]'

# --- 2. one guest boot: failing test, bad exit, hang, kernel splat -------------

if [ $guest = 1 ]; then
	splat=$scratch/splat
	cp -r "$CCHOST_ROOT/tests/harness/splat" "$splat"
	if ! make -s -C "/lib/modules/$kver/build" M="$splat" modules > "$scratch/splat-build.log" 2>&1; then
		cat "$scratch/splat-build.log"
		CCHOST_RESULTS=$results result_fail "harness self-test: build tests/harness/splat for $kver"
		rc=1
	else
		guestres=$scratch/guest.res
		CCHOST_RESULTS=$guestres CCHOST_TEST_TIMEOUT=15 \
			"$CCHOST_ROOT/scripts/guest-tests.sh" --kernel "$kver" --name "harness-$kver" \
			--tests "$CCHOST_ROOT/tests/harness/guest" --moddir "$splat" > "$scratch/guest.out" 2>&1
		grc=$?
		rc_before=$rc
		logf=$CCHOST_CACHE/logs/guest-harness-$kver.log
		g="guest harness-$kver harness"
		expect "guest run with failing tests exits non-zero" [ $grc -ne 0 ]
		expect "failing guest test detected" \
			grep -qx "FAIL $g/10-fail: harness: a deliberately failing test point" "$guestres"
		expect "passing points of a failing test still pass" \
			grep -qx "PASS $g/10-fail: harness: a passing test point" "$guestres"
		expect "non-zero exit without a failing point detected" \
			grep -qx "FAIL $g/20-badexit: exit status 3 without a failing test point" "$guestres"
		expect "hung guest test killed and reported as timed out" \
			grep -qx "FAIL $g/30-hang: timed out" "$guestres"
		expect "passing C test program reported as passed" \
			grep -qx "PASS $g/50-pass: harness: CCHOST_KVER is set" "$guestres"
		expect "kernel splat detected although its test passed" \
			eval 'grep -qx "PASS $g/40-splat: harness: cchost_splat loaded" "$guestres" &&
			      grep -qx "FAIL guest harness-$kver: console free of kernel warnings" "$guestres" &&
			      grep -q "cchost_splat: deliberate warning" "$logf"'
		expect "runner unloads a module a test left loaded" \
			eval 'grep -q "^@@cchost leftover harness/40-splat cchost_splat" "$logf" &&
			      ! grep -q "^@@cchost unload-failed" "$logf"'
		# The guest's own report only matters when an expectation failed.
		[ $rc = "$rc_before" ] || sed 's/^/    /' "$scratch/guest.out"
	fi

	# A guest that never finishes: killed at its timeout, its vCPUs
	# sampled half-way (both idle here: the test sleeps).
	CCHOST_RESULTS=$scratch/hang.res CCHOST_TEST_TIMEOUT=600 CCHOST_QEMU_TIMEOUT=60 \
		"$CCHOST_ROOT/scripts/guest-tests.sh" --kernel "$kver" --name "harness-hang-$kver" \
		--tests "$CCHOST_ROOT/tests/harness/guest" --suite harness/30-hang \
		> "$scratch/hang.out" 2>&1
	expect "hung guest: killed at its timeout, 5 samples of both vCPUs in the run output" \
		eval 'grep -q "QEMU killed after 60 s" "$scratch/hang.out" &&
		      [ "$(grep -cE "vCPU sample [1-5]: CPU0 0x[0-9a-f]+ .* [|] CPU1 0x[0-9a-f]+ " \
			"$scratch/hang.out")" = 5 ] &&
		      grep -q "^FAIL guest harness-hang-$kver runner: did not finish" "$scratch/hang.res"'
fi

# --- 2a. Ctrl-C during a guest boot leaves no QEMU, service or directory -----

if [ $guest = 1 ]; then
	ls -d /tmp/cchost-qemu.* 2> /dev/null | sort > "$scratch/runs.before"
	set -m
	CCHOST_RESULTS=$scratch/intr.res env --default-signal=INT \
		"$CCHOST_ROOT/scripts/guest-tests.sh" --kernel "$kver" \
		--name "harness-intr-$kver" --suite smoke/iomem > "$scratch/intr.out" 2>&1 &
	ipid=$!
	set +m
	newrun=
	for ((i = 0; i < 600; i++)); do
		newrun=$(ls -d /tmp/cchost-qemu.* 2> /dev/null | sort | comm -13 "$scratch/runs.before" - | head -1)
		[ -n "$newrun" ] && pgrep -f "qemu-system-x86_64.*$newrun" > /dev/null && break
		sleep 0.2
	done
	sleep 1
	kill -INT -- -"$ipid" 2> /dev/null
	wait "$ipid"
	irc=$?
	sleep 1
	expect "Ctrl-C in a guest boot: status 130 (got $irc), no QEMU or host service left, no run directory" \
		eval '[ "$irc" = 130 ] && [ -n "$newrun" ] && [ ! -e "$newrun" ] &&
		      ! pgrep -f "$newrun" > /dev/null'
fi

# --- 2b. the debug kernel: KASAN, lockdep and kmemleak reports fail a run -----

# segment LOG TEST: the console lines of one test (begin to end marker).
segment() {
	awk -v t="$2" '$0 == "@@cchost begin " t { on = 1 } on { print } on && index($0, "@@cchost end " t " ") == 1 { exit }' "$1"
}

if [ $guest = 1 ] && [ $debug = 1 ]; then
	dkver=$(kernel_debug_release)
	inst=$scratch/instruments
	cp -r "$CCHOST_ROOT/tests/harness/instruments" "$inst"
	if ! "$CCHOST_ROOT/scripts/debug-kernel.sh" ensure > "$scratch/inst-build.log" 2>&1 ||
	   ! make -s -C "$("$CCHOST_ROOT/scripts/debug-kernel.sh" dir)" M="$inst" modules \
		>> "$scratch/inst-build.log" 2>&1; then
		cat "$scratch/inst-build.log"
		CCHOST_RESULTS=$results result_fail "harness self-test: build tests/harness/instruments for $dkver"
		rc=1
	else
		ires=$scratch/inst.res
		# RAM clipped at 2 GiB (the pool ranges above stay): each of
		# the two kmemleak scans reads the shadow and struct pages of all
		# RAM, half as much then; this boot only loads one small module.
		CCHOST_RESULTS=$ires "$CCHOST_ROOT/scripts/guest-tests.sh" --kernel "$dkver" \
			--name harness-debug --tests "$CCHOST_ROOT/tests/harness/instruments-guest" \
			--moddir "$inst" --append mem=2G > "$scratch/inst.out" 2>&1
		irc=$?
		rc_before=$rc
		logf=$CCHOST_CACHE/logs/guest-harness-debug.log
		g="guest harness-debug harness"
		segment "$logf" harness/30-kasan > "$scratch/kasan.seg"
		segment "$logf" harness/10-lockdep > "$scratch/lockdep.seg"
		expect "debug kernel: run with an instrument report exits non-zero" [ $irc -ne 0 ]
		expect "debug kernel: KASAN use-after-free reported and fails the run" \
			eval 'grep -qx "PASS $g/30-kasan: harness: cchost_instruments trigger=kasan loaded" "$ires" &&
			      grep -q "BUG: KASAN: slab-use-after-free in cchost_instruments" "$scratch/kasan.seg" &&
			      ! qemu_scan_log "$scratch/kasan.seg" > /dev/null'
		expect "debug kernel: lockdep inversion reported and fails the run" \
			eval 'grep -qx "PASS $g/10-lockdep: harness: cchost_instruments trigger=lockdep loaded" "$ires" &&
			      grep -q "possible circular locking dependency" "$scratch/lockdep.seg" &&
			      ! qemu_scan_log "$scratch/lockdep.seg" > /dev/null'
		expect "debug kernel: kmemleak leak reported and fails the run" \
			eval 'grep -qx "PASS $g/20-leak: harness: cchost_instruments trigger=leak loaded" "$ires" &&
			      grep -q "^FAIL guest harness-debug kmemleak: " "$ires" &&
			      sed -n "/^@@cchost kmemleak /,\$p" "$logf" | grep -q "5a 5a 5a 5a 5a 5a 5a 5a"'
		expect "debug kernel: the console scan fails the boot" \
			grep -qx "FAIL guest harness-debug: console free of kernel warnings" "$ires"
		[ $rc = "$rc_before" ] || sed 's/^/    /' "$scratch/inst.out"
	fi
fi

# --- 3. KUnit: a failing case and a warning case must each fail ----------------

# One kunit.py run of the harness suite with cchost_harness_kunit.fail=1 and
# .warn=1, on the x86_64 kernel the kunit step built (kunit.sh --no-build;
# built here if there is none): exactly those two cases must be reported
# failed, the one that fails and the one that only WARNs.
if [ $kunit = 1 ]; then
	out=$scratch/kunit.out
	kres=$scratch/kunit.res
	CCHOST_RESULTS=$kres "$CCHOST_ROOT/scripts/kunit.sh" \
		--suite 'cchost_harness*' --arch x86_64 --no-build \
		--kernel-args "cchost_harness_kunit.fail=1 cchost_harness_kunit.warn=1" \
		--expect-fail > "$out" 2>&1
	krc=$?
	# --expect-fail exits 0 and records one PASS once a case was
	# reported failed; it lists those cases as "failed as expected".
	kok=0
	[ $krc -eq 0 ] && grep -q '^PASS ' "$kres" && ! grep -q '^FAIL ' "$kres" && kok=1
	expect "failing KUnit case detected" \
		eval '[ $kok = 1 ] && grep -q "failed as expected: FAIL cchost_harness\.deliberate_failure\$" "$out"'
	expect "kernel WARNING fails the KUnit case it is printed in" \
		eval '[ $kok = 1 ] && grep -q "failed as expected: FAIL cchost_harness\.deliberate_warning\$" "$out"'
	expect "no other KUnit case failed" [ "$(grep -c 'failed as expected: ' "$out")" = 2 ]
	[ $rc = 0 ] || tail -n 40 "$out" | sed 's/^/    /'
fi

exit $rc

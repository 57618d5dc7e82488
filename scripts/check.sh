#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make check: every test of the project, in order. A failing step does not
# stop the later ones. Each step records PASS/FAIL lines in $CCHOST_RESULTS
# (reset here; unless set by the caller, a private file copied to the cache's
# results.txt at the end); the last line printed is exactly "N passed, N
# failed" and the exit status is non-zero if anything failed.
#
#   deps         scripts/deps.sh (run by make before this script)
#   build        scripts/build-matrix.sh: both modules, W=1, every kernel
#   style        scripts/style.sh: checkpatch --strict, uapi layout
#   kunit        scripts/kunit.sh: the KUnit suites through kunit.py, all arches
#   guest        scripts/guest-tests.sh: in-guest tests, one boot per kernel
#   dkms         scripts/dkms.sh test on 6.1 (private DKMS tree, host state
#                kept)
#   deb          scripts/deb.sh test on 6.1: cchost-dkms installed in a clean
#                bookworm chroot (DKMS builds there), booted, purged
#   harness      tests/harness/selftest.sh: failures are caught
#
# CHECK_STEPS="build guest" limits the run to the named steps.

set -u
given_results=${CCHOST_RESULTS:-}
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Unless the caller named one, the run records into a file of its own:
# scripts started beside it (a kunit.sh, a guest run) record into the shared
# default file, and their results must not count here. The run's results
# are copied there at the end.
shared_results=
if [ -z "$given_results" ]; then
	shared_results=$CCHOST_RESULTS
	mkdir -p "$CCHOST_CACHE"
	cchost_mktemp CCHOST_RESULTS "$CCHOST_CACHE/results.check.XXXXXX" || exit 1
	export CCHOST_RESULTS
fi
: > "$CCHOST_RESULTS"
cd "$CCHOST_ROOT" || exit 1

steps=${CHECK_STEPS:-deps build style kunit guest dkms deb harness}
timings=()
total_start=$(date +%s)

nfail() { grep -c '^FAIL ' "$CCHOST_RESULTS"; }
nlines() { grep -c -E '^(PASS|FAIL) ' "$CCHOST_RESULTS"; }

# run_step NAME CMD...: run CMD, time it, make sure its failure is counted.
run_step() {
	local name=$1 start fail0 lines0 rc
	shift
	printf '\n===== %s: %s =====\n' "$name" "$*"
	start=$(date +%s)
	fail0=$(nfail)
	lines0=$(nlines)
	"$@"
	rc=$?
	if [ $rc -ne 0 ] && [ "$(nfail)" -eq "$fail0" ]; then
		result_fail "$name: $* exited with status $rc"
	elif [ $rc -eq 0 ] && [ "$(nlines)" -eq "$lines0" ]; then
		result_pass "$name: $*"
	fi
	timings+=("$(printf '%-8s %5d s  %s' "$name" $(($(date +%s) - start)) \
		"$([ $rc -eq 0 ] && echo ok || echo "FAILED (status $rc)")")")
}

# A step whose script is not there yet is a failure, not a silent skip.
script_step() {
	local name=$1 script=$2
	shift 2
	if [ ! -x "$CCHOST_ROOT/$script" ]; then
		printf '\n===== %s =====\n' "$name"
		result_fail "$name: $script is missing"
		timings+=("$(printf '%-8s %5d s  %s' "$name" 0 "MISSING")")
		return
	fi
	run_step "$name" "$script" "$@"
}

# DKMS: scripts/dkms.sh test on 6.1 (a private DKMS tree; the host's DKMS
# state must survive it). The modules DKMS builds are booted by the deb step
# (same source, kernel and compiler, built by DKMS from the package).
dkms_test() {
	scripts/dkms.sh test "$("$CCHOST_ROOT/scripts/default-kver")" >/dev/null
}

# The Debian package: installed, built by DKMS and purged in a clean bookworm
# chroot, then the modules it built booted in a 6.1 guest.
deb_test() {
	local kver ko rc=0

	kver=$("$CCHOST_ROOT/scripts/default-kver")
	cchost_mktemp ko -d "$CCHOST_CACHE/deb-ko.XXXXXX" || return 1
	scripts/deb.sh test "$kver" | tee "$ko.out"
	[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
	grep -E '^/.*\.ko(\.[a-z]+)?$' "$ko.out" | while read -r p; do cp "$p" "$ko/"; done
	rm -f "$ko.out"
	if [ "$(find "$ko" -name '*.ko*' | wc -l)" -eq 2 ]; then
		scripts/guest-tests.sh --kernel "$kver" --moddir "$ko" --suite smoke \
			--name "deb-$kver" || rc=1
	fi
	rm -rf "$ko"
	return $rc
}

for step in $steps; do
	case $step in
	deps)
		# make runs deps.sh before this script; run it when called directly.
		if [ -n "${MAKELEVEL:-}" ]; then
			timings+=("$(printf '%-8s %5s    %s' deps - "run by make")")
		else
			script_step deps scripts/deps.sh
		fi
		;;
	build) script_step build scripts/build-matrix.sh ;;
	style) script_step style scripts/style.sh ;;
	kunit) script_step kunit scripts/kunit.sh ;;
	guest) script_step guest scripts/guest-tests.sh ;;
	dkms)
		if [ -x scripts/dkms.sh ]; then
			run_step dkms dkms_test
		else
			script_step dkms scripts/dkms.sh
		fi
		;;
	deb) run_step deb deb_test ;;
	harness) script_step harness tests/harness/selftest.sh ;;
	*) result_fail "unknown check step: $step" ;;
	esac
done

printf '\n===== summary =====\n'
grep '^FAIL ' "$CCHOST_RESULTS" | sed 's/^/  /'
printf '%s\n' "${timings[@]}"
printf 'total    %5d s\n' $(($(date +%s) - total_start))
passed=$(grep -c '^PASS ' "$CCHOST_RESULTS")
failed=$(grep -c '^FAIL ' "$CCHOST_RESULTS")
[ -z "$shared_results" ] || cp "$CCHOST_RESULTS" "$shared_results"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]

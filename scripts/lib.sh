#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Common helpers for the project's scripts. Source it; do not run it.
#
#   CCHOST_CACHE   caches outside the checkout (chroots, kernel trees, images)
#   CCHOST_RESULTS file where check steps record one line per result
#
# Results: every step records "PASS <name>" or "FAIL <name>" lines through
# result_pass/result_fail; scripts/check.sh sums them into the final
# "N passed, N failed" line.

CCHOST_ROOT=${CCHOST_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
CCHOST_CACHE=${CCHOST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cchost}
CCHOST_RESULTS=${CCHOST_RESULTS:-$CCHOST_CACHE/results.txt}
export CCHOST_ROOT CCHOST_CACHE CCHOST_RESULTS
mkdir -p "$CCHOST_CACHE"

# Kernel reports that fail a guest boot (qemu.sh) or the KUnit case they are
# printed in (kunit.sh), as one extended regexp.
CCHOST_SPLAT_RE='Oops|BUG:|WARNING:|Kernel panic|general protection fault|'\
'possible circular locking|inconsistent lock state|suspicious RCU usage|'\
'INFO: task .* blocked|possible recursive locking|held lock freed|'\
'hung_task|possible irq lock inversion|bad unlock balance|'\
'lock held when returning to user space|sleeping function called from invalid context|'\
'KASAN:|UBSAN:|kmemleak: [0-9]+ new suspected|unreferenced object|'\
'Call Trace:|list_add corruption|list_del corruption|refcount_t:|'\
'kernel BUG at|RIP: [0-9a-f]{4}:|stack-protector|double fault|'\
'rcu_sched detected stall|rcu_preempt detected stall|soft lockup|hard LOCKUP'

# --help or -h as the first argument of a script: its header comment (the
# usage) on stdout, and nothing else is run.
cchost_usage() {
	sed -n '3,/^[^#]/{/^#/!q;s/^# \{0,1\}//;p}' "$1" | sed '1{/^$/d}'
}
if [ "${BASH_SOURCE[1]:-}" = "$0" ] && { [ "${1:-}" = --help ] || [ "${1:-}" = -h ]; }; then
	cchost_usage "$0"
	exit 0
fi

# Temporary files and directories: cchost_mktemp VAR [mktemp args] is
# VAR=$(mktemp ...), cchost_tmp PATH registers a path made otherwise (and
# cchost_rmtmp PATH removes it early), and
# cchost_at_exit CMD registers an undo step (run with eval, last first).
# They run when the (sub)shell that registered them exits, also on Ctrl-C or
# SIGTERM; cchost_at_exit_done CMD drops a step that is no longer needed.
# Each entry carries its shell's PID, so a subshell's exit undoes only what
# it registered itself.
declare -p CCHOST_UNDO > /dev/null 2>&1 || CCHOST_UNDO=()
cchost_cleanup() {
	local i t keep=()

	for ((i = ${#CCHOST_UNDO[@]} - 1; i >= 0; i--)); do
		t=${CCHOST_UNDO[i]}
		if [ "${t%%:*}" = "$BASHPID" ]; then
			eval "${t#*:}" || true
		else
			keep=("$t" "${keep[@]}")
		fi
	done
	CCHOST_UNDO=("${keep[@]}")
}
cchost_on_signal() {
	cchost_cleanup
	trap - "$1" EXIT
	kill -"$1" "$BASHPID"
}
cchost_at_exit() {
	CCHOST_UNDO+=("$BASHPID:$1")
	trap cchost_cleanup EXIT
	trap 'cchost_on_signal INT' INT
	trap 'cchost_on_signal TERM' TERM
}
cchost_at_exit_done() {
	local i

	for i in "${!CCHOST_UNDO[@]}"; do
		[ "${CCHOST_UNDO[i]}" = "$BASHPID:$1" ] && unset 'CCHOST_UNDO[i]'
	done
	CCHOST_UNDO=("${CCHOST_UNDO[@]}")
}
cchost_tmp() {
	cchost_at_exit "rm -rf -- $(printf '%q' "$1")"
}
cchost_rmtmp() {
	rm -rf -- "$1"
	cchost_at_exit_done "rm -rf -- $(printf '%q' "$1")"
}
# cchost_heartbeat WHAT CMD...: run CMD; while it runs, print
# "WHAT: still running (N s)" on stderr every CCHOST_HEARTBEAT (whole) seconds
# (default 60), so that a long silent step (a kernel build, a chroot, a
# boot) shows it is alive. Status: CMD's.
cchost_heartbeat() {
	local what=$1 hb st

	shift
	# The ticker holds none of the caller's lock files (fds 3-9), and its
	# sleep ends with it: neither keeps a lock or a pipe after the step.
	(
		exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
		trap 'kill "$s" 2>/dev/null; exit 0' TERM
		# Whole intervals, not $SECONDS (whole seconds of the shell's
		# clock: a 1 s tick started late in a second read as 2 s).
		n=0
		while :; do
			sleep "${CCHOST_HEARTBEAT:-60}" &
			s=$!
			wait "$s"
			n=$((n + ${CCHOST_HEARTBEAT:-60}))
			log "$what: still running ($n s)"
		done
	) &
	hb=$!
	cchost_at_exit "kill $hb 2>/dev/null"
	"$@"
	st=$?
	kill "$hb" 2>/dev/null
	wait "$hb" 2>/dev/null
	cchost_at_exit_done "kill $hb 2>/dev/null"
	return $st
}
cchost_mktemp() {
	local __var=$1 __path

	shift
	__path=$(mktemp "$@") || return 1
	cchost_tmp "$__path"
	printf -v "$__var" '%s' "$__path"
}

log()  { printf '[cchost] %s\n' "$*" >&2; }
die()  { printf '[cchost] error: %s\n' "$*" >&2; exit 1; }

result_pass() { printf 'PASS %s\n' "$*" >> "$CCHOST_RESULTS"; printf '  ok    %s\n' "$*"; }
result_fail() { printf 'FAIL %s\n' "$*" >> "$CCHOST_RESULTS"; printf '  FAIL  %s\n' "$*"; }

# result_expect DESC COMMAND...: run COMMAND, record DESC as PASS or FAIL
# (console lines on stderr); a failure counts in the caller's $fails.
result_expect() {
	local desc=$1
	shift
	if "$@"; then
		result_pass "$desc" >&2
	else
		result_fail "$desc" >&2
		fails=$((fails + 1))
	fi
}

# Debian mirror URI as configured on this host (deb822 or one-line format).
debian_mirror() {
	local m
	m=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n1)
	[ -n "$m" ] || m=$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
			   awk '$2 ~ /debian\/?$/ {print $2; exit}')
	echo "${m:-http://deb.debian.org/debian}"
}

# SPDX-License-Identifier: GPL-2.0-only
#
# TAP helpers for in-guest shell tests (busybox sh). Installed in the guest as
# /lib/cchost/tap.sh; use it with ". /lib/cchost/tap.sh".
#
#   ok COND_STATUS "description"   e.g.  test -d /sys/module/x; ok $? "x loaded"
#                                   ("description # TODO reason": an expected
#                                   failure, which does not fail the test)
#   check "description" CMD...     run CMD, one test point for its status
#   check_fail "description" CMD...  CMD must fail
#   diag "text"
#   tap_done                        print the plan, exit 1 if anything failed

tap_n=0
tap_failed=0

ok() {
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		# a "# TODO" point is an expected failure
		case $2 in
		*"# TODO"*) ;;
		*) tap_failed=$((tap_failed + 1)) ;;
		esac
	fi
}

diag() {
	echo "# $*"
}

check() {
	_d=$1
	shift
	_out=$("$@" 2>&1)
	_st=$?
	ok $_st "$_d"
	[ $_st -eq 0 ] || echo "$_out" | sed 's/^/#   /'
	return $_st
}

check_fail() {
	_d=$1
	shift
	_out=$("$@" 2>&1)
	_st=$?
	[ $_st -ne 0 ]
	ok $? "$_d"
	[ -n "$_out" ] && echo "$_out" | sed 's/^/#   /'
	return 0
}

tap_done() {
	echo "1..$tap_n"
	[ $tap_failed -eq 0 ] && exit 0
	exit 1
}

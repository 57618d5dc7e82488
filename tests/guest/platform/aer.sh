#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# AER errors requested from the host arrive: the host injects them into the
# NVMe PF's root port through QEMU's monitor (pcie_aer_inject_error), and the
# guest kernel's AER driver counts them and logs the port as their source.
# Requests that cannot succeed fail in bounded time instead of hanging.

. /lib/cchost/tap.sh
. /lib/cchost/host.sh

# logged BDF: how many non-fatal errors of BDF the kernel logged ("Uncorrected"
# on 6.1, "Uncorrectable" on 7.x).
logged() {
	dmesg | grep -c "$1: PCIe Bus Error: severity=Uncorrect[a-z]* (Non-Fatal)"
}

pf=$(nvme_pf)
ok $? "NVMe PF present${pf:+ at $pf}"
port=$(nvme_port)
[ -n "$port" ] && [ "$(aer_count "$port" nonfatal)" -ge 0 ] &&
	[ "$(aer_port_count "$port" nonfatal)" -ge 0 ]
ok $? "its root port ${port:-?} has AER (aer_dev_nonfatal, aer_rootport_total_err_nonfatal)"
if [ -z "$pf" ] || [ -z "$port" ]; then tap_done; fi

own=$(aer_count "$port" nonfatal)
rcv=$(aer_port_count "$port" nonfatal)
log=$(logged "$port")
reply=$(host_aer "$HOST_PORT_ID" COMP_TIME)
ok $? "host injected a non-fatal error (COMP_TIME) into $HOST_PORT_ID: $reply"
aer_wait 10 "$rcv" aer_port_count "$port" nonfatal
ok $? "the root port received it: aer_rootport_total_err_nonfatal $rcv -> $(aer_port_count "$port" nonfatal)"
aer_wait 10 "$own" aer_count "$port" nonfatal
ok $? "and counted it as its own: TOTAL_ERR_NONFATAL $own -> $(aer_count "$port" nonfatal)"
aer_wait 10 "$log" logged "$port"
ok $? "the kernel logged a non-fatal PCIe Bus Error of $port"

# A second request is served the same way (requests are serialized).
rcv=$(aer_port_count "$port" nonfatal)
reply=$(host_aer "$HOST_PORT_ID" UNX_COMP)
ok $? "host injected a second non-fatal error (UNX_COMP): $reply"
aer_wait 10 "$rcv" aer_port_count "$port" nonfatal
ok $? "it arrived too: aer_rootport_total_err_nonfatal $rcv -> $(aer_port_count "$port" nonfatal)"

# Self-tests of the request path: each must fail, and quickly.
start=$(date +%s)
reply=$(host_aer no-such-device COMP_TIME)
st=$?
[ $st -eq 1 ]
ok $? "a request for an unknown QEMU device is refused (status $st: $reply)"
reply=$(host_aer "$HOST_PORT_ID" NO_SUCH_ERROR)
st=$?
[ $st -eq 1 ]
ok $? "a request for an unknown error name is refused (status $st: $reply)"
[ $(($(date +%s) - start)) -lt 10 ]
ok $? "refusals come back without waiting for a time-out"

# A malformed request is ignored by the host: no answer, time-out.
start=$(date +%s)
reply=$(HOST_TIMEOUT=3 host_request aer "$HOST_PORT_ID" 'COMP;TIME')
st=$?
el=$(($(date +%s) - start))
[ $st -eq 2 ] && [ $el -ge 3 ] && [ $el -lt 8 ]
ok $? "a malformed request gets no answer and times out after 3 s (status $st, ${el}s)"

# An injection that never arrives: a correctable error is not non-fatal, so
# waiting for the non-fatal count must time out.
rcv=$(aer_port_count "$port" nonfatal)
host_aer "$HOST_PORT_ID" BAD_TLP > /dev/null
ok $? "host injected a correctable error (BAD_TLP)"
start=$(date +%s)
aer_wait 3 "$rcv" aer_port_count "$port" nonfatal
st=$?
el=$(($(date +%s) - start))
[ $st -ne 0 ] && [ $el -ge 3 ] && [ $el -lt 8 ]
ok $? "waiting for an error that never arrives times out (status $st, ${el}s)"

reply=$(host_ping)
ok $? "the request port still answers after the time-outs ($reply)"

tap_done

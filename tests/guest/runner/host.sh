# SPDX-License-Identifier: GPL-2.0-only
#
# The guest's fault platforms and host requests, for in-guest tests (busybox
# sh). Installed as /lib/cchost/host.sh; use it with ". /lib/cchost/host.sh".
# C tests run the same functions through platform.h (tests/guest/lib/).
#
# Devices every test guest has (scripts/qemu.sh, qemu_boot):
#   edu            1234:11e8 on the root bus (no PCIe, no PM, no reset method)
#   NVMe PF        1b36:0010 behind a PCIe root port (QEMU id $HOST_NVME_ID,
#                  port $HOST_PORT_ID): SR-IOV with 2 VFs, FLR, PM
#   AER            errors the host injects into the root port reach the
#                  guest kernel's AER driver, which counts them and runs error
#                  recovery for the devices below the port. QEMU 7.2 forwards
#                  only uncorrectable errors (e.g. COMP_TIME, non-fatal), and
#                  none from the NVMe PF (no AER capability, and its Device
#                  Control reporting enables are read-only zero).
#
#   nvme_pf                       print the BDF of the NVMe PF (status 1 if none)
#   nvme_vfs PF                   print the BDFs of PF's VFs, one a line
#   nvme_port                     print the BDF of the root port above the PF
#   pci_driver BDF                print the bound driver's name (empty if none)
#   cfg_read BDF OFFSET SIZE      print a config space value (SIZE 1, 2 or 4)
#   cfg_write BDF OFFSET SIZE VALUE
#   pci_cap BDF ID                print the offset of standard capability ID
#                                 (e.g. 0x10 PCI Express, 0x01 PM), or 0
#   aer_port_count PORT KIND      print the root port's count of error messages
#                                 received (aer_rootport_total_err_*; KIND:
#                                 cor, nonfatal, fatal), or -1
#   aer_count BDF KIND            print a device's own TOTAL_ERR_* counter of
#                                 aer_dev_KIND (correctable, nonfatal, fatal), or -1
#   aer_wait SECONDS BEFORE CMD [ARGS...]
#                                 wait until CMD (e.g. aer_port_count PORT cor)
#                                 prints more than BEFORE; status 1 after SECONDS
#   host_aer QEMU_ID ERROR        ask the host to inject an AER error
#                                 (pcie_aer_inject_error QEMU_ID ERROR, e.g.
#                                 "host_aer $HOST_PORT_ID COMP_TIME"); prints the
#                                 host's answer; status 0 injected, 1 refused,
#                                 2 no answer within $HOST_TIMEOUT seconds
#   host_ping                     round trip without side effect (same status)
#
# Requests go over the second serial port (/dev/ttyS1), not the console:
# kernel messages cannot interleave with them or fake them. One request at a
# time (a lock directory serializes concurrent callers); the host runs them in
# order and answers each with the request's random token.

# QEMU ids of the NVMe PF and its root port, for host_aer
# shellcheck disable=SC2034 # used by the tests that source this file
HOST_NVME_ID=nvme0
# shellcheck disable=SC2034
HOST_PORT_ID=rp1
HOST_TTY=${HOST_TTY:-/dev/ttyS1}
HOST_TIMEOUT=${HOST_TIMEOUT:-20}
HOST_LOCK=/tmp/.cchost-host.lock

nvme_pf() {
	for _d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$_d/vendor")" = 0x1b36 ] && [ "$(cat "$_d/device")" = 0x0010 ] &&
		   [ -e "$_d/sriov_totalvfs" ]; then
			echo "${_d##*/}"
			return 0
		fi
	done
	return 1
}

nvme_vfs() {
	for _l in /sys/bus/pci/devices/"$1"/virtfn*; do
		[ -L "$_l" ] && basename "$(readlink "$_l")"
	done
	return 0
}

pci_driver() {
	if [ -L /sys/bus/pci/devices/"$1"/driver ]; then
		basename "$(readlink /sys/bus/pci/devices/"$1"/driver)"
	fi
}

cfg_read() {
	od -An -tu"$3" -j "$2" -N"$3" /sys/bus/pci/devices/"$1"/config | tr -d ' '
}

cfg_write() {
	_v=$4
	_hex=
	_i=0
	while [ $_i -lt "$3" ]; do
		_hex=$_hex$(printf %02x $((_v & 255)))
		_v=$((_v >> 8))
		_i=$((_i + 1))
	done
	printf %s "$_hex" | xxd -r -p |
		dd of=/sys/bus/pci/devices/"$1"/config bs="$3" seek=$(($2 / $3)) count=1 \
		   conv=notrunc 2>/dev/null
}

pci_cap() {
	_p=$(cfg_read "$1" 52 1)
	_n=0
	while [ "$_p" -ge 64 ] && [ $_n -lt 48 ]; do
		if [ "$(cfg_read "$1" "$_p" 1)" -eq $(($2)) ]; then
			echo "$_p"
			return 0
		fi
		_p=$(($(cfg_read "$1" $((_p + 1)) 1) & 252))
		_n=$((_n + 1))
	done
	echo 0
	return 1
}

nvme_port() {
	_pf=$(nvme_pf) || return 1
	basename "$(dirname "$(readlink -f /sys/bus/pci/devices/"$_pf")")"
}

aer_port_count() {
	_v=$(cat /sys/bus/pci/devices/"$1"/aer_rootport_total_err_"$2" 2>/dev/null)
	echo "${_v:--1}"
	[ -n "$_v" ]
}

aer_count() {
	case $2 in
	correctable) _k=TOTAL_ERR_COR ;;
	nonfatal) _k=TOTAL_ERR_NONFATAL ;;
	fatal) _k=TOTAL_ERR_FATAL ;;
	*) echo -1; return 1 ;;
	esac
	_v=$(awk -v k="$_k" '$1 == k { print $2 }' /sys/bus/pci/devices/"$1"/aer_dev_"$2" 2>/dev/null)
	echo "${_v:--1}"
	[ -n "$_v" ]
}

aer_wait() {
	_end=$(($(date +%s) + $1))
	_before=$2
	shift 2
	while :; do
		[ "$("$@")" -gt "$_before" ] && return 0
		[ "$(date +%s)" -ge "$_end" ] && return 1
		sleep 0.2
	done
}

# Take the request lock; break it if its owner died (e.g. a killed test).
_host_lock() {
	_end=$(($(date +%s) + HOST_TIMEOUT))
	until mkdir "$HOST_LOCK" 2>/dev/null; do
		_owner=$(cat "$HOST_LOCK/pid" 2>/dev/null)
		if [ -n "$_owner" ] && ! kill -0 "$_owner" 2>/dev/null; then
			rm -rf "$HOST_LOCK"
			continue
		fi
		[ "$(date +%s)" -ge "$_end" ] && return 1
		sleep 0.1
	done
	echo $$ > "$HOST_LOCK/pid"
}

# host_request WORDS...: send "@@cchost host WORDS... TOKEN" and wait for the
# answer carrying TOKEN; print its text.
host_request() {
	[ -c "$HOST_TTY" ] || { echo "no request port $HOST_TTY"; return 2; }
	_host_lock || { echo "request lock busy for ${HOST_TIMEOUT}s"; return 2; }
	_tok=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
	stty -F "$HOST_TTY" raw -echo 2>/dev/null
	exec 8<>"$HOST_TTY"
	echo "@@cchost host $* $_tok" >&8
	_st=2
	_end=$(($(date +%s) + HOST_TIMEOUT))
	while [ "$(date +%s)" -lt "$_end" ]; do
		# shellcheck disable=SC3045 # busybox sh has read -t
		read -r -t 1 _tag _word _rtok _res _text <&8 || continue
		[ "$_tag $_word $_rtok" = "@@cchost host-reply $_tok" ] || continue
		echo "$_text"
		[ "$_res" = ok ] && _st=0 || _st=1
		break
	done
	[ $_st -eq 2 ] && echo "no answer from the host within ${HOST_TIMEOUT}s"
	exec 8<&-
	rm -rf "$HOST_LOCK"
	return $_st
}

host_aer() {
	host_request aer "$1" "$2"
}

host_ping() {
	host_request ping
}

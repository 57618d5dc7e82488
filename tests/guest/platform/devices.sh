#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The fault platforms are there: the NVMe PF sits behind a PCIe root port,
# offers SR-IOV, FLR and AER, the host answers requests, and edu is still
# present beside it.

. /lib/cchost/tap.sh
. /lib/cchost/host.sh

# pcie_type BDF: device/port type of the PCI Express capability, or empty.
pcie_type() {
	_c=$(pci_cap "$1" 0x10) && echo $(($(cfg_read "$1" $((_c + 2)) 1) >> 4))
}

pf=$(nvme_pf)
ok $? "NVMe PF (1b36:0010 with SR-IOV) present${pf:+ at $pf}"
[ -n "$pf" ] || tap_done
dev=/sys/bus/pci/devices/$pf

port=$(basename "$(dirname "$(readlink -f "$dev")")")
diag "upstream of $pf: $port"
[ "$(pcie_type "$pf")" = 0 ]
ok $? "$pf is a PCI Express endpoint"
[ -e /sys/bus/pci/devices/"$port" ] && [ "$(pcie_type "$port")" = 4 ]
ok $? "its upstream device $port is a PCI Express root port"
[ "$(pci_driver "$port")" = pcieport ]
ok $? "the root port is bound to pcieport"
[ "$(cat "$dev/sriov_totalvfs")" = 2 ] && [ "$(cat "$dev/sriov_numvfs")" = 0 ]
ok $? "$pf offers 2 VFs (sriov_totalvfs), none enabled at boot"
grep -qw flr "$dev/reset_method"
ok $? "$pf reset_method has flr ($(cat "$dev/reset_method"))"
test -e "/sys/bus/pci/devices/$port/aer_dev_nonfatal" &&
	test -e "/sys/bus/pci/devices/$port/aer_rootport_total_err_nonfatal"
ok $? "the root port has AER, handled by the kernel (aer_dev_*, aer_rootport_total_err_*)"
[ "$(nvme_port)" = "$port" ]
ok $? "nvme_port finds the same root port"
[ -z "$(pci_driver "$pf")" ]
ok $? "no driver claimed $pf at boot (nvme is not in the initramfs)"
test -e "$dev/iommu_group"
ok $? "$pf is in an IOMMU group ($(basename "$(readlink "$dev/iommu_group")"))"

edu=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] && edu=${d##*/}
done
[ "$edu" = 0000:00:02.0 ]
ok $? "edu still at 0000:00:02.0${edu:+ (found at $edu)}"

reply=$(host_ping)
ok $? "the host answers a request on the request port ($reply)"

tap_done

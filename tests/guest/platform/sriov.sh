#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# SR-IOV on the NVMe PF: vfio-pci (enable_sriov=1) bound to the PF creates
# VFs through sriov_numvfs, the VFs bind to vfio-pci and get VFIO groups, and
# a VF's PCI_COMMAND memory-space bit is hard-wired to 0 (the PF's is not).

. /lib/cchost/tap.sh
. /lib/cchost/host.sh

# cmd_after_set BDF: set the memory-space bit of PCI_COMMAND through the
# config file, print the bit as read back, restore the old value.
cmd_after_set() {
	_old=$(cfg_read "$1" 4 2)
	cfg_write "$1" 4 2 $((_old | 2))
	_now=$(cfg_read "$1" 4 2)
	cfg_write "$1" 4 2 "$_old"
	printf '# %s: PCI_COMMAND 0x%04x, wrote 0x%04x, read 0x%04x\n' "$1" "$_old" \
		$((_old | 2)) "$_now" >&2
	echo $(((_now >> 1) & 1))
}

pf=$(nvme_pf)
ok $? "NVMe PF present${pf:+ at $pf}"
[ -n "$pf" ] || tap_done
dev=/sys/bus/pci/devices/$pf

check "modload vfio-pci enable_sriov=1" modload vfio-pci enable_sriov=1
echo vfio-pci > "$dev/driver_override"
echo "$pf" > /sys/bus/pci/drivers_probe
[ "$(pci_driver "$pf")" = vfio-pci ]
ok $? "vfio-pci bound to the PF"

check "echo 2 > sriov_numvfs" sh -c "echo 2 > $dev/sriov_numvfs"
vfs=$(nvme_vfs "$pf")
n=$(echo "$vfs" | grep -c .)
[ "$n" -eq 2 ] && [ "$(cat "$dev/sriov_numvfs")" = 2 ]
ok $? "2 VFs exist: $(echo "$vfs" | tr '\n' ' ')"
for vf in $vfs; do
	vdev=/sys/bus/pci/devices/$vf
	[ "$(basename "$(readlink "$vdev/physfn")")" = "$pf" ]
	ok $? "$vf: physfn is the PF"
	[ "$(pci_driver "$vf")" = vfio-pci ]
	ok $? "$vf: bound to vfio-pci (driver: $(pci_driver "$vf"))"
	group=$(basename "$(readlink "$vdev/iommu_group")")
	test -n "$group" && test -c "/dev/vfio/$group"
	ok $? "$vf: /dev/vfio/$group exists"
done
vf=$(echo "$vfs" | head -n1)
if [ -n "$vf" ]; then
	# QEMU 7.2 keeps a VF's memory bit writable (decoding follows the PF's
	# VF MSE bit): expected to fail until the emulator hard-wires it.
	[ "$(cmd_after_set "$vf")" = 0 ]
	ok $? "$vf: PCI_COMMAND memory bit reads 0 after setting it # TODO QEMU 7.2 VFs keep it writable"
else
	ok 1 "a VF to check PCI_COMMAND on"
fi
[ "$(cmd_after_set "$pf")" = 1 ]
ok $? "the PF's PCI_COMMAND memory bit reads 1 after setting it (control)"

check "echo 0 > sriov_numvfs" sh -c "echo 0 > $dev/sriov_numvfs"
[ -z "$(nvme_vfs "$pf")" ] && [ ! -e "/sys/bus/pci/devices/$vf" ]
ok $? "the VFs are gone"

echo "$pf" > /sys/bus/pci/drivers/vfio-pci/unbind
echo > "$dev/driver_override"
[ -z "$(pci_driver "$pf")" ]
ok $? "PF unbound from vfio-pci"
check "unload vfio modules" modload -r vfio_pci vfio_pci_core vfio_iommu_type1
modload -r vfio_virqfd irqbypass > /dev/null 2>&1
modload -r vfio > /dev/null 2>&1

tap_done

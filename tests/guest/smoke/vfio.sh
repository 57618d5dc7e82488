#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The guest platform the modules rely on: the edu device sits behind the
# emulated IOMMU and vfio-pci binds it, creating /dev/vfio/<group>.

. /lib/cchost/tap.sh

bdf=
for d in /sys/bus/pci/devices/*; do
	if [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ]; then
		bdf=${d##*/}
		break
	fi
done
[ -n "$bdf" ]
ok $? "edu device (1234:11e8) present${bdf:+ at $bdf}"
[ -n "$bdf" ] || tap_done

dev=/sys/bus/pci/devices/$bdf
test -e "$dev/iommu_group"
ok $? "edu is in an IOMMU group"
group=$(basename "$(readlink "$dev/iommu_group")")
diag "iommu group $group"

check "modload vfio-pci" modload vfio-pci
echo vfio-pci > "$dev/driver_override"
echo "$bdf" > /sys/bus/pci/drivers_probe
[ "$(basename "$(readlink "$dev/driver")")" = vfio-pci ]
ok $? "vfio-pci bound to edu"
test -c "/dev/vfio/$group"
ok $? "/dev/vfio/$group appeared"

echo "$bdf" > /sys/bus/pci/drivers/vfio-pci/unbind
echo > "$dev/driver_override"
test ! -e "$dev/driver"
ok $? "edu unbound from vfio-pci"
check "unload vfio modules" modload -r vfio_pci vfio_pci_core vfio_iommu_type1
modload -r vfio_virqfd irqbypass > /dev/null 2>&1
modload -r vfio > /dev/null 2>&1

tap_done

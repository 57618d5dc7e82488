#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# make demo: the tdi_dmabuf walk-through on QEMU's edu device.
# The seven steps of the flow are run by the in-guest test program
# tests/guest/tdi/flow.c in verbose mode (its "#" lines narrate, its
# "ok" lines are the checks); this script sets the scene around it.

flow=/tests/tdi/flow

echo "tdi_dmabuf is a vfio-pci variant driver: bound to a PCI device it offers"
echo "everything vfio-pci does, plus ioctls that bind the device's TDISP"
echo "interface through a TDI report provider and export its MMIO as a shared"
echo "and a private DMA-BUF. Here the device is QEMU's edu (1234:11e8) and the"
echo "provider is the fake one, configured through debugfs."
echo

bdf=
for d in /sys/bus/pci/devices/*; do
	if [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ]; then
		bdf=${d##*/}
	fi
done
[ -n "$bdf" ] || { echo "no edu device"; exit 1; }
echo "edu at $bdf; its BAR0 (start end flags):"
echo "\$ head -n1 /sys/bus/pci/devices/$bdf/resource"
head -n1 /sys/bus/pci/devices/"$bdf"/resource
echo

if [ ! -x "$flow" ]; then
	echo "(the in-guest test programs are not in this image; showing the setup only)"
	echo "\$ modload -v tdi_dmabuf; modload -v tdi_fake_provider"
	modload -v tdi_dmabuf || exit 1
	modload -v tdi_fake_provider || exit 1
	echo "\$ echo tdi_dmabuf > /sys/bus/pci/devices/$bdf/driver_override; echo $bdf > /sys/bus/pci/drivers_probe"
	echo tdi_dmabuf > /sys/bus/pci/devices/"$bdf"/driver_override
	echo "$bdf" > /sys/bus/pci/drivers_probe
	echo "\$ readlink /sys/bus/pci/devices/$bdf/driver"
	readlink /sys/bus/pci/devices/"$bdf"/driver
	echo "\$ echo 'add $bdf' > /sys/kernel/debug/tdi_fake_provider/control"
	echo "add $bdf" > /sys/kernel/debug/tdi_fake_provider/control
	echo "range $bdf 0 0x0 16 0x4" > /sys/kernel/debug/tdi_fake_provider/control
	echo "range $bdf 0 0x10000 16 0x0" > /sys/kernel/debug/tdi_fake_provider/control
	cat /sys/kernel/debug/tdi_fake_provider/status
	echo "$bdf" > /sys/bus/pci/drivers/tdi_dmabuf/unbind
	echo > /sys/bus/pci/devices/"$bdf"/driver_override
	modload -r tdi_fake_provider
	modload -r tdi_dmabuf
	exit 0
fi

echo "\$ $flow -v"
"$flow" -v
rc=$?
echo
if [ $rc -eq 0 ]; then
	echo "tdi_dmabuf walk-through: all checks passed"
else
	echo "tdi_dmabuf walk-through: some checks FAILED (status $rc)"
fi
exit $rc

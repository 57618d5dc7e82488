#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The loader and both modules: load and unload through modload, the kernel's
# view in /sys/module, dependency and softdep resolution, parameters and the
# error paths (unknown module, module not loaded, module in use).

. /lib/cchost/tap.sh

for m in gmem_pfnpool tdi_dmabuf; do
	check "modload $m" modload "$m"
	test -d /sys/module/$m
	ok $? "/sys/module/$m appears"
	[ "$(cat /sys/module/$m/initstate 2>/dev/null)" = live ]
	ok $? "$m initstate is live"
	grep -q O /sys/module/$m/taint 2>/dev/null
	ok $? "$m is marked out-of-tree (taint O)"
	grep -q "^$m " /proc/modules
	ok $? "$m listed in /proc/modules"
	check "modload $m again is not an error" modload "$m"
	check "modload -r $m" modload -r "$m"
	test ! -e /sys/module/$m
	ok $? "/sys/module/$m disappears"
done

# A parameter of our own module reaches it through modload.
check "modload gmem_pfnpool ranges=64M@0x1a0000000" modload gmem_pfnpool ranges=64M@0x1a0000000
[ "$(cat /sys/module/gmem_pfnpool/parameters/ranges 2>/dev/null)" = 64M@0x1a0000000 ]
ok $? "gmem_pfnpool parameter ranges reads back 64M@0x1a0000000"
check "modload -r gmem_pfnpool (with ranges)" modload -r gmem_pfnpool

out=$(modload cchost_no_such_module 2>&1)
st=$?
[ $st -ne 0 ] && echo "$out" | grep -q "not found"
ok $? "modload of an unknown module fails with 'not found'"
diag "$out"

out=$(modload -r gmem_pfnpool 2>&1)
st=$?
[ $st -ne 0 ] && echo "$out" | grep -q "not loaded"
ok $? "modload -r of a module that is not loaded fails"
diag "$out"

# tdi_dmabuf pulled in the vfio stack: remove it to start from scratch.
unload_vfio() {
	for m in vfio_pci vfio_pci_core vfio_iommu_type1 vfio_virqfd vfio irqbypass \
		 iommufd; do
		[ -d /sys/module/$m ] && [ ! -e /sys/module/$m/initstate ] && continue
		modload -r $m > /dev/null 2>&1
	done
}
unload_vfio
test ! -e /sys/module/vfio_iommu_type1/initstate
ok $? "vfio_iommu_type1 not loaded before the softdep check"

# vfio has "softdep post: vfio_iommu_type1": busybox modprobe ignores it.
check "modload vfio" modload vfio
test -d /sys/module/vfio_iommu_type1
ok $? "softdep of vfio honoured: vfio_iommu_type1 loaded"

# Dependencies and parameters: vfio-pci needs vfio-pci-core.
check "modload vfio-pci nointxmask=1" modload vfio-pci nointxmask=1
test -d /sys/module/vfio_pci_core
ok $? "dependency vfio_pci_core loaded"
[ "$(cat /sys/module/vfio_pci/parameters/nointxmask 2>/dev/null)" = Y ]
ok $? "parameter nointxmask=1 reached vfio_pci"

out=$(modload -r vfio 2>&1)
st=$?
[ $st -ne 0 ] && echo "$out" | grep -q "in use"
ok $? "modload -r of a module in use fails (EBUSY)"
diag "$out"
test -d /sys/module/vfio
ok $? "vfio still loaded after the refused removal"

check "modload -r vfio_pci vfio_pci_core vfio_iommu_type1" \
	modload -r vfio_pci vfio_pci_core vfio_iommu_type1
modload -r vfio_virqfd irqbypass > /dev/null 2>&1
check "modload -r vfio" modload -r vfio
test ! -e /sys/module/vfio_pci
ok $? "vfio_pci unloaded"

tap_done

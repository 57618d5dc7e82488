#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Demo fallback while the module walk-throughs (tests/guest/demo/) are not
# there: load both modules with modload, show them, unload them.

for m in gmem_pfnpool tdi_dmabuf; do
	echo "\$ modload -v $m"
	modload -v "$m" || exit 1
	echo "\$ cat /sys/module/$m/initstate /sys/module/$m/taint"
	cat /sys/module/$m/initstate /sys/module/$m/taint
	if [ -d /sys/module/$m/parameters ]; then
		echo "\$ grep . /sys/module/$m/parameters/*"
		grep . /sys/module/$m/parameters/* 2>/dev/null
	fi
	echo
done
echo "\$ grep -E 'gmem_pfnpool|tdi_dmabuf' /proc/modules"
grep -E 'gmem_pfnpool|tdi_dmabuf' /proc/modules
echo
echo "\$ modload -v -r tdi_dmabuf gmem_pfnpool"
modload -v -r tdi_dmabuf gmem_pfnpool || exit 1
ls -d /sys/module/gmem_pfnpool /sys/module/tdi_dmabuf 2>/dev/null && exit 1
echo "both modules unloaded"

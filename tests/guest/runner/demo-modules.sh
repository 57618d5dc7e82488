#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Demo fallback while the module walk-throughs (tests/guest/demo/) are not
# there: load both modules with modload, show them, unload them.

for m in gmem_pfnpool tdi_dmabuf; do
	args=
	[ $m = gmem_pfnpool ] && args="ranges=1G@0x140000000,64M@0x1a0000000"
	echo "\$ modload -v $m $args"
	# shellcheck disable=SC2086
	modload -v "$m" $args || exit 1
	echo "\$ cat /sys/module/$m/initstate /sys/module/$m/taint"
	cat /sys/module/$m/initstate /sys/module/$m/taint
	if [ -d /sys/module/$m/parameters ]; then
		echo "\$ grep . /sys/module/$m/parameters/*"
		grep . /sys/module/$m/parameters/* 2>/dev/null
	fi
	echo
done
echo "\$ grep -A2 -E '^(140000000|1a0000000)' /proc/iomem   # the ranges, now owned by the pool"
grep -A2 -E '^(140000000|1a0000000)' /proc/iomem
echo
echo "\$ grep -E 'gmem_pfnpool|tdi_dmabuf' /proc/modules"
grep -E 'gmem_pfnpool|tdi_dmabuf' /proc/modules
echo
echo "\$ modload -v -r tdi_dmabuf gmem_pfnpool"
modload -v -r tdi_dmabuf gmem_pfnpool || exit 1
ls -d /sys/module/gmem_pfnpool /sys/module/tdi_dmabuf 2>/dev/null && exit 1
echo "both modules unloaded"

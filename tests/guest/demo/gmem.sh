#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# make demo: the gmem_pfnpool walk-through. The flow is run by the in-guest
# test program tests/guest/gmem/walkthrough.c in verbose mode (its lines
# without "ok" narrate, its "ok" lines are the checks); this script sets
# the scene around it.

flow=/tests/gmem/walkthrough

echo "gmem_pfnpool owns physical ranges the kernel does not manage (no struct"
echo "page), carved out at boot with memmap=SIZE\$ADDR, and hands them out as"
echo "guest-memory files: mmap-able where shared, SIGBUS where private, and"
echo "converted only when every user (mappings, DMA-BUF exports, in-kernel"
echo "users) agrees, in two phases: prepare, then commit or abort."
echo
echo "\$ cat /proc/cmdline"
cat /proc/cmdline
echo

if [ ! -x "$flow" ]; then
	echo "(the in-guest test programs are not in this image; showing the pool only)"
	echo "\$ modload -v gmem_pfnpool ranges=1G@0x140000000,64M@0x1a0000000"
	modload -v gmem_pfnpool ranges=1G@0x140000000,64M@0x1a0000000 || exit 1
	echo "\$ cat /sys/kernel/debug/gmem_pfnpool/pool"
	cat /sys/kernel/debug/gmem_pfnpool/pool
	echo "\$ ls -l /dev/gmem_pfnpool"
	ls -l /dev/gmem_pfnpool
	echo "\$ modload -r gmem_pfnpool"
	modload -r gmem_pfnpool
	exit 0
fi

echo "\$ $flow -v"
"$flow" -v

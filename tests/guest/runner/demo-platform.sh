#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Demo, part 0: the guest platform the modules run on.

echo "Kernel:  $(uname -r)"
echo "Command line: $(cat /proc/cmdline)"
echo
echo "The pool owns the memory the kernel was told to keep out of System RAM"
echo "(memmap=SIZE\$START). /proc/iomem shows these ranges as top-level Reserved:"
for r in 140000000-17fffffff 1a0000000-1a3ffffff; do
	if grep -q "^$r : Reserved\$" /proc/iomem; then
		s=${r%-*}
		e=${r#*-}
		echo "  0x$r  Reserved  $(( (0x$e - 0x$s + 1) >> 20 )) MiB"
	else
		echo "  0x$r  MISSING"
		exit 1
	fi
done
echo
echo "System RAM around them:"
grep -E '^[0-9a-f]+-[0-9a-f]+ : (System RAM|Reserved)$' /proc/iomem |
	awk -F'[- ]' 'length($1) >= 9 { print "  " $0 }'
echo
for d in /sys/bus/pci/devices/*; do
	if [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ]; then
		echo "PCI device edu (1234:11e8) at ${d##*/}, IOMMU group" \
			"$(basename "$(readlink "$d/iommu_group")")"
	fi
done
echo "Modules available to modload:"
for ko in /lib/modules/"$(uname -r)"/extra/*.ko*; do
	echo "  ${ko##*/}"
done

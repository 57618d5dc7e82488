#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The reserved ranges the pool will own (memmap=1G$0x140000000 and
# memmap=64M$0x1a0000000 on the guest's command line) must be top-level
# "Reserved" entries of /proc/iomem, outside every System RAM range.

. /lib/cchost/tap.sh

diag "top-level Reserved ranges of /proc/iomem:"
grep -E '^[0-9a-f]+-[0-9a-f]+ : Reserved$' /proc/iomem | sed 's/^/#   /'

# in_reserved START END: the exact range is a top-level Reserved entry.
in_reserved() {
	grep -E '^[0-9a-f]+-[0-9a-f]+ : Reserved$' /proc/iomem |
	while IFS='- ' read -r s e _; do
		if [ $((0x$s)) -le $(($1)) ] && [ $((0x$e)) -ge $(($2)) ]; then
			echo yes
			break
		fi
	done | grep -q yes
}

# overlaps_ram START END: some System RAM range intersects it.
overlaps_ram() {
	grep -E '^ *[0-9a-f]+-[0-9a-f]+ : System RAM$' /proc/iomem |
	while IFS='- ' read -r s e _; do
		s=${s## }
		if [ $((0x$s)) -le $(($2)) ] && [ $((0x$e)) -ge $(($1)) ]; then
			echo "$s-$e"
		fi
	done | grep -q .
}

for r in 0x140000000:0x17fffffff 0x1a0000000:0x1a3ffffff; do
	s=${r%:*}
	e=${r#*:}
	in_reserved "$s" "$e"
	ok $? "$s-$e is Reserved in /proc/iomem"
	overlaps_ram "$s" "$e"
	[ $? -ne 0 ]
	ok $? "$s-$e is outside System RAM"
done

# The 1 GiB range must stay 1 GiB aligned for huge mappings.
[ $((0x140000000 % (1 << 30))) -eq 0 ]
ok $? "0x140000000 is 1 GiB aligned"

grep -q 'memmap=1G\$0x140000000' /proc/cmdline
ok $? "guest command line carries memmap=1G\$0x140000000"

tap_done

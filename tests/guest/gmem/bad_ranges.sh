#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Bad ranges= at load: the load fails with a clear message in the kernel log,
# and leaves nothing behind (a good load works afterwards).

n=0
failed=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
	fi
}

# bad_load DESCRIPTION RANGES MESSAGE-REGEXP
bad_load() {
	dmesg -c > /dev/null
	if modload gmem_pfnpool "ranges=$2" > /dev/null 2>&1; then
		ok 1 "ranges=$2 ($1) refused"
		modload -r gmem_pfnpool
		return
	fi
	ok 0 "ranges=$2 ($1) refused"
	msg=$(dmesg | grep 'gmem_pfnpool: ranges=')
	echo "$msg" | grep -qE "$3"
	ok $? "  clear message: ${msg#*] }"
	[ ! -d /sys/module/gmem_pfnpool ]
	ok $? "  module not loaded"
}

bad_load "unaligned address" 64M@0x140000800 'multiples of'
bad_load "unaligned size" 1001K@0x140000000 'multiples of'
bad_load "zero size" 0@0x140000000 'multiples of'
bad_load "System RAM" 64M@0x1000000 'System RAM'
bad_load "overlapping each other" 64M@0x140000000,64M@0x142000000 'overlaps .* given before'
bad_load "garbage" banana 'cannot parse'
bad_load "no address" 64M@ 'cannot parse'
bad_load "no size" @0x140000000 'cannot parse'
bad_load "trailing garbage" 64M@0x140000000x 'cannot parse'
bad_load "second range bad" 64M@0x140000000,junk 'cannot parse'

modload gmem_pfnpool ranges=1G@0x140000000,64M@0x1a0000000
ok $? "a good ranges= loads afterwards (nothing left claimed)"
grep -q 'gmem_pfnpool' /proc/iomem
ok $? "the ranges appear in /proc/iomem"
[ "$(cat /sys/module/gmem_pfnpool/parameters/ranges)" = "1G@0x140000000,64M@0x1a0000000" ]
ok $? "ranges= is visible in sysfs"
modload -r gmem_pfnpool
ok $? "unload"
! grep -q 'gmem_pfnpool' /proc/iomem
ok $? "the ranges are released"

echo "1..$n"
exit $failed

// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pool's state in sysfs (/sys/class/misc/gmem_pfnpool/pool/), which is
 * there without debugfs: totals and per-range usage of the ranges= given,
 * before and after a file takes memory, agreeing with debugfs.
 */
#include "gmem_test.h"

#define POOL "/sys/class/misc/gmem_pfnpool/pool/"

static long long pool_sysfs(const char *name)
{
	char path[128], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), POOL "%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return buf[0] ? strtoll(buf, NULL, 0) : -1;
}

/* Sum of the free column of pool/ranges; the lines in @lines. */
static long long ranges_free(char *lines, size_t len)
{
	unsigned long long phys, size, free, sum = 0;
	FILE *f = fopen(POOL "ranges", "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(lines, 1, len - 1, f);
	lines[n] = '\0';
	fclose(f);
	for (char *l = lines; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (sscanf(l, "%llx %llu %llu", &phys, &size, &free) != 3)
			return -1;
		sum += free;
	}
	return sum;
}

int main(void)
{
	const long long total = GIB + 64 * MIB;
	char lines[512];
	int dev, fd;
	uint8_t *p;

	ok(gmem_load() == 0, "load gmem_pfnpool with " GMEM_RANGES);
	ok(pool_sysfs("total") == total, "pool/total is 1 GiB + 64 MiB (%lld)",
	   pool_sysfs("total"));
	ok(pool_sysfs("free") == total && pool_sysfs("used") == 0,
	   "pool/free is all of it, pool/used 0");
	ok(pool_sysfs("largest_free_block") == GIB,
	   "pool/largest_free_block is 1 GiB (%lld)",
	   pool_sysfs("largest_free_block"));
	ok(ranges_free(lines, sizeof(lines)) == total &&
	   strstr(lines, "0x140000000 1073741824 1073741824\n") &&
	   strstr(lines, "0x1a0000000 67108864 67108864\n"),
	   "pool/ranges: both ranges, all free");

	dev = gmem_dev();
	fd = gmem_create(dev, 8 * MIB, 0);
	p = gmem_map(fd, 8 * MIB, 0, 2 * MIB);
	if (!ok(fd >= 0 && p != MAP_FAILED, "create and map an 8 MiB file"))
		return tap_done();
	memset(p, 1, 8 * MIB);
	ok(pool_sysfs("used") == pool_value("used") && pool_sysfs("used") >= 8 * MIB,
	   "pool/used (%lld) is debugfs's used, at least the 8 MiB touched",
	   pool_sysfs("used"));
	ok(pool_sysfs("used") + pool_sysfs("free") == total,
	   "pool/used + pool/free == pool/total");
	ok(ranges_free(lines, sizeof(lines)) == pool_sysfs("free"),
	   "the free column of pool/ranges adds up to pool/free");
	munmap(p, 8 * MIB);
	close(fd);
	close(dev);
	ok(pool_sysfs("used") == 0 && pool_sysfs("free") == total,
	   "closed: pool/used back to 0");
	ok(gmem_unload() == 0, "unload gmem_pfnpool");
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * gmem_bench - the numbers behind `make bench` (scripts/bench.sh), measured
 * in one guest boot:
 *   - faults and time to touch 1 GiB of a gmem file vs a memfd of the same
 *     size (the memfd is the baseline of the same boot),
 *   - time to convert 2 MiB vs 1 GiB to private and back (mapped ranges),
 *   - metadata bytes per GiB managed (debugfs): idle, with a 1 GiB file
 *     in use (the memory-proportional part, limit 64 KiB per GiB), and
 *     the extra cost per attribute range once 1000 single-page
 *     conversions fragmented a file (it grows with ranges, not memory).
 * Prints "bench: key value" lines; checks nothing except that the steps
 * work (TAP lines), performance is judged by the reader.
 */
#include "gmem_test.h"
#include <sys/resource.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt + ru.ru_majflt;
}

static double touch(uint8_t *p, uint64_t size, long *faults)
{
	long f0 = minflt();
	double t0 = now();
	uint64_t i;

	for (i = 0; i < size; i += 4 * KIB)
		p[i] = 1;
	*faults = minflt() - f0;
	return now() - t0;
}

static double convert_time(int fd, uint64_t off, uint64_t size)
{
	double t0 = now();

	if (gmem_set_attr(fd, off, size, GMEM_PFNPOOL_ATTR_PRIVATE, NULL) ||
	    gmem_set_attr(fd, off, size, GMEM_PFNPOOL_ATTR_SHARED, NULL))
		return -1;
	return (now() - t0) / 2;
}

int main(void)
{
	long long meta_1g, meta_frag;
	long gfaults, mfaults;
	double gt, mt, c2m, c1g;
	uint64_t size = GIB, i;
	int dev, fd, mfd, small;
	uint8_t *p, *m;

	ok(gmem_load() == 0, "load gmem_pfnpool " GMEM_RANGES);
	printf("bench: metadata_bytes_per_gib_idle %lld\n",
	       pool_value("metadata_bytes_per_gib"));

	/* memfd baseline */
	mfd = memfd_create("bench", MFD_CLOEXEC);
	ok(mfd >= 0 && ftruncate(mfd, size) == 0, "memfd of 1 GiB");
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ok(m != MAP_FAILED, "map the memfd");
	mt = touch(m, size, &mfaults);
	munmap(m, size);
	close(mfd);

	/* gmem */
	dev = gmem_dev();
	fd = gmem_create(dev, size, 0);
	ok(fd >= 0, "gmem file of 1 GiB");
	p = gmem_map(fd, size, 0, GIB);
	ok(p != MAP_FAILED, "map it 1 GiB-aligned");
	if (p == MAP_FAILED)
		return tap_done();
	gt = touch(p, size, &gfaults);
	printf("bench: memfd_touch_1g_faults %ld\n", mfaults);
	printf("bench: memfd_touch_1g_seconds %.3f\n", mt);
	printf("bench: gmem_touch_1g_faults %ld\n", gfaults);
	printf("bench: gmem_touch_1g_module_faults %llu\n",
	       (unsigned long long)gmem_stats(fd).faults);
	printf("bench: gmem_touch_1g_seconds %.3f (includes taking 1 GiB from the pool)\n",
	       gt);
	printf("bench: gmem_vs_memfd_time_ratio %.3f\n", mt > 0 ? gt / mt : 0);
	printf("bench: gmem_vs_memfd_fault_ratio %.3g\n",
	       mfaults ? (double)gfaults / mfaults : 0);

	/* conversions of mapped ranges: zap + attribute flip */
	c2m = convert_time(fd, 512 * MIB, 2 * MIB);
	for (i = 0; i < size; i += 4 * KIB)
		p[i] = 2;
	c1g = convert_time(fd, 0, size);
	ok(c2m >= 0 && c1g >= 0, "conversions succeed");
	printf("bench: convert_2m_seconds %.6f\n", c2m);
	printf("bench: convert_1g_seconds %.6f\n", c1g);
	printf("bench: convert_1g_vs_2m_ratio %.2f\n", c2m > 0 ? c1g / c2m : 0);
	meta_1g = pool_value("metadata_bytes_per_gib");
	printf("bench: metadata_bytes_per_gib_1g_file %lld\n", meta_1g);
	ok(meta_1g <= 64 * 1024,
	   "metadata within 64 KiB per GiB (%lld bytes)", meta_1g);

	/* fragment the attributes of a second file: 1000 single pages */
	small = gmem_create(dev, 64 * MIB, 0);
	for (i = 0; i < 1000; i++)
		gmem_set_attr(small, (i * 16) * 4 * KIB, 4 * KIB,
			      GMEM_PFNPOOL_ATTR_PRIVATE, NULL);
	meta_frag = pool_value("metadata_bytes_per_gib");
	printf("bench: metadata_bytes_per_gib_plus_2000_attr_ranges %lld\n",
	       meta_frag);
	/* Per range, in absolute bytes (the figure above is per GiB). */
	printf("bench: metadata_bytes_per_attr_range %.1f\n",
	       (meta_frag - meta_1g) * ((double)pool_value("total") / GIB) /
	       2000);
	run("cat " GMEM_DEBUGFS "/pool");
	close(small);
	munmap(p, size);
	close(fd);
	close(dev);
	ok(gmem_unload() == 0, "unload gmem_pfnpool");
	return tap_done();
}

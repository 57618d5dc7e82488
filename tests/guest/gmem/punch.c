// SPDX-License-Identifier: GPL-2.0-only
/*
 * fallocate: allocation, and PUNCH_HOLE | KEEP_SIZE returning memory to the
 * pool zeroed: after a punch the range reads zeros, the pool's used bytes
 * drop, and a new file never sees an old file's bytes.
 *
 * A punch must also unmap the range: memory freed to the pool is zeroed, so
 * a mapping left pointing at it would read zeros as well. After each punch
 * another file therefore takes the freed memory and writes its own pattern
 * there before the hole is read (a stale entry would show that pattern),
 * and reading the hole must have faulted in new memory.
 */
#include "gmem_test.h"

static uint64_t count_nonzero(const uint8_t *p, uint64_t n)
{
	uint64_t i, c = 0;

	for (i = 0; i < n; i++)
		c += p[i] != 0;
	return c;
}

/*
 * Another file takes @size of free memory (the pool allocates first fit, so
 * it gets the memory a punch just freed) and fills it with @v.
 */
static int other_file(int dev, uint64_t size, uint8_t v)
{
	int fd = gmem_create(dev, size, 0);
	uint8_t *q;

	if (fd < 0 || fallocate(fd, 0, 0, size))
		return -1;
	q = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (q == MAP_FAILED)
		return -1;
	memset(q, v, size);
	munmap(q, size);
	return fd;
}

int main(void)
{
	struct gmem_pfnpool_stats s;
	long long used0, used1;
	uint8_t *p;
	int dev, fd, other;

	ok(gmem_load() == 0, "load gmem_pfnpool");
	dev = gmem_dev();
	fd = gmem_create(dev, 8 * MIB, 0);
	ok(fd >= 0, "create an 8 MiB shared file");
	ok(fallocate(fd, 0, 0, 8 * MIB) == 0, "fallocate the whole file");
	ok(gmem_stats(fd).allocated == 8 * MIB, "8 MiB allocated");
	ok(pool_value("used") == (long long)(8 * MIB) && accounting_holds(),
	   "pool: 8 MiB used, free + used == total");
	ok(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 8 * MIB) == 0,
	   "fallocate again is a no-op");
	ok(gmem_stats(fd).allocated == 8 * MIB, "still 8 MiB allocated");

	p = gmem_map(fd, 8 * MIB, 0, 2 * MIB);
	ok(p != MAP_FAILED, "map it");
	if (p == MAP_FAILED)
		return tap_done();
	memset(p, 0xa7, 8 * MIB);

	used0 = pool_value("used");
	ok(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		     2 * MIB + 64 * KIB, 1 * MIB) == 0,
	   "punch 1 MiB in the middle of a 2 MiB block");
	used1 = pool_value("used");
	ok(used0 - used1 == (long long)MIB && accounting_holds(),
	   "1 MiB went back to the pool (%lld -> %lld)", used0, used1);
	s = gmem_stats(fd);
	ok(s.allocated == 7 * MIB, "7 MiB allocated");
	other = other_file(dev, MIB, 0x3c);
	ok(other >= 0, "another file takes the freed MiB and writes 0x3c to it");
	ok(count_nonzero(p + 2 * MIB + 64 * KIB, MIB) == 0,
	   "the hole reads zeros (fresh zeroed memory on the next fault), not 0x3c");
	ok(gmem_stats(fd).allocated == 8 * MIB && gmem_stats(fd).faults > s.faults,
	   "reading the hole faulted: the punch unmapped it");
	close(other);
	ok(p[2 * MIB + 64 * KIB - 1] == 0xa7 && p[3 * MIB + 64 * KIB] == 0xa7,
	   "the bytes around the hole are kept");
	ok(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
		     8 * MIB) == 0, "punch the whole file");
	s = gmem_stats(fd);
	ok(s.allocated == 0 && pool_value("used") == 0,
	   "nothing allocated after the punch");
	other = other_file(dev, 8 * MIB, 0xd2);
	ok(other >= 0, "another file takes the freed 8 MiB and writes 0xd2 to it");
	ok(count_nonzero(p, 8 * MIB) == 0, "everything reads zeros, not 0xd2");
	ok(gmem_stats(fd).allocated == 8 * MIB && gmem_stats(fd).faults > s.faults,
	   "reading faulted in new memory: the punch unmapped the whole file");
	close(other);
	munmap(p, 8 * MIB);
	close(fd);
	ok(pool_value("used") == 0 && accounting_holds(),
	   "closing returns the rest");

	/* Another file gets the same memory back, zeroed. */
	fd = gmem_create(dev, 8 * MIB, 0);
	p = gmem_map(fd, 8 * MIB, 0, 2 * MIB);
	ok(fd >= 0 && p != MAP_FAILED, "a second file, mapped");
	memset(p, 0x5b, 8 * MIB);
	munmap(p, 8 * MIB);
	close(fd);
	fd = gmem_create(dev, 8 * MIB, 0);
	p = gmem_map(fd, 8 * MIB, 0, 2 * MIB);
	ok(fd >= 0 && p != MAP_FAILED, "a third file on the same memory");
	ok(count_nonzero(p, 8 * MIB) == 0,
	   "no byte of the previous file is visible");
	munmap(p, 8 * MIB);
	close(fd);
	close(dev);
	ok(gmem_unload() == 0, "unload gmem_pfnpool");
	return tap_done();
}

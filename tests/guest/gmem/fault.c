// SPDX-License-Identifier: GPL-2.0-only
/*
 * Create a 1 GiB shared gmem file, map it 1 GiB-aligned, touch every page
 * and count faults: huge mappings (PUD/PMD) or 2 MiB PTE batches must keep
 * it at one fault per 2 MiB at most. Contents written are read back, and
 * pool accounting (free + used == total) holds throughout.
 */
#include "gmem_test.h"

int main(void)
{
	struct gmem_pfnpool_stats s;
	uint64_t size = GIB, i, bad = 0;
	int dev, fd;
	uint8_t *p;

	ok(gmem_load() == 0, "load gmem_pfnpool " GMEM_RANGES);
	ok(pool_value("total") == (long long)(GIB + 64 * MIB),
	   "pool owns 1 GiB + 64 MiB");
	ok(accounting_holds() && pool_value("used") == 0,
	   "free + used == total, nothing used");
	dev = gmem_dev();
	ok(dev >= 0, "open " GMEM_DEV);
	fd = gmem_create(dev, size, 0);
	ok(fd >= 0, "create a 1 GiB shared file");
	ok((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, "the fd is O_CLOEXEC");

	p = gmem_map(fd, size, 0, GIB);
	ok(p != MAP_FAILED, "mmap MAP_SHARED at a 1 GiB-aligned address");
	if (p == MAP_FAILED)
		return tap_done();

	for (i = 0; i < size; i += 4 * KIB)
		p[i] = (uint8_t)(i >> 12) | 1;
	s = gmem_stats(fd);
	diag("1 GiB touched: %llu faults, %llu PTEs, %llu PMDs, %llu PUDs",
	     (unsigned long long)s.faults, (unsigned long long)s.mapped_pte,
	     (unsigned long long)s.mapped_pmd, (unsigned long long)s.mapped_pud);
	/* One PUD, or one PMD or one 2 MiB batch of PTEs per 2 MiB. */
	ok(s.faults == 1 || s.faults == size / (2 * MIB),
	   "one fault per GiB or per 2 MiB (%llu faults for 1 GiB)",
	   (unsigned long long)s.faults);
	ok(s.faults != 1 || s.mapped_pud == 1,
	   "a single fault means a single PUD mapping");
	ok(s.mapped_pud * GIB + s.mapped_pmd * 2 * MIB +
	   s.mapped_pte * 4 * KIB >= size,
	   "the mappings inserted cover the whole file");
	ok(s.allocated == size, "1 GiB allocated from the pool");
	ok(pool_value("used") == (long long)size && accounting_holds(),
	   "pool: used == 1 GiB, free + used == total");

	for (i = 0; i < size; i += 4 * KIB)
		if (p[i] != ((uint8_t)(i >> 12) | 1))
			bad++;
	ok(bad == 0, "every page reads back what was written");
	s = gmem_stats(fd);
	ok(s.faults <= size / (2 * MIB), "reading back took no new faults");

	munmap(p, size);
	close(fd);

	/* 16 MiB: 2 MiB extents, so PMDs (or 2 MiB PTE batches), 8 faults. */
	fd = gmem_create(dev, 16 * MIB, 0);
	p = gmem_map(fd, 16 * MIB, 0, 2 * MIB);
	ok(fd >= 0 && p != MAP_FAILED, "create and map a 16 MiB file");
	if (p != MAP_FAILED) {
		for (i = 0; i < 16 * MIB; i += 4 * KIB)
			p[i] = 1;
		s = gmem_stats(fd);
		diag("16 MiB touched: %llu faults, %llu PTEs, %llu PMDs",
		     (unsigned long long)s.faults,
		     (unsigned long long)s.mapped_pte,
		     (unsigned long long)s.mapped_pmd);
		ok(s.faults == 8 && s.mapped_pud == 0 &&
		   (s.mapped_pmd == 8 || s.mapped_pte == 4096),
		   "8 faults: 2 MiB mappings (PMD or a batch of PTEs) each");
		munmap(p, 16 * MIB);
	}
	close(fd);
	close(dev);
	ok(pool_value("used") == 0 && accounting_holds(),
	   "closing the file returns its memory");
	ok(gmem_unload() == 0, "unload gmem_pfnpool");
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * With mmap_huge=1 (VM_PFNMAP mappings), create a 1 GiB shared gmem file,
 * map it 1 GiB-aligned, touch every page and count what the faults
 * installed: one PUD, one PMD per 2 MiB, or (on kernels that never call
 * ->huge_fault() for VM_PFNMAP) one ->fault per 2 MiB populating its 512
 * PTEs. Contents written are read back without a new fault, and pool
 * accounting (free + used == total) holds throughout. With the default
 * mappings (VM_MIXEDMAP, see iommu.c for why) every kernel maps 4 KiB
 * entries, one ->fault per 2 MiB and no ->huge_fault() call.
 *
 * The "faults" counter counts calls of ->fault and ->huge_fault, not page
 * faults: where the core mm offers huge faults it first asks for a PUD when
 * the 1 GiB region has no page table yet, and the module declines with
 * VM_FAULT_FALLBACK (counted) before the PMD call. So exact call counts are
 * only asserted on the PTE path, where no ->huge_fault call is made.
 */
#include "gmem_test.h"

int main(void)
{
	struct gmem_pfnpool_stats s;
	uint64_t size = GIB, i, bad = 0;
	struct gmem_pfnpool_stats s0;
	int dev, fd, fdflags;
	uint8_t *p;

	ok(gmem_load() == 0, "load gmem_pfnpool " GMEM_RANGES);
	ok(pool_value("total") == (long long)(GIB + 64 * MIB),
	   "pool owns 1 GiB + 64 MiB");
	ok(accounting_holds() && pool_value("used") == 0,
	   "free + used == total, nothing used");
	ok(gmem_mmap_huge(1) == 0, "mmap_huge=1: VM_PFNMAP, huge entries");
	dev = gmem_dev();
	ok(dev >= 0, "open " GMEM_DEV);
	fd = gmem_create(dev, size, 0);
	ok(fd >= 0, "create a 1 GiB shared file");
	fdflags = fd >= 0 ? fcntl(fd, F_GETFD) : -1;
	ok(fdflags >= 0 && (fdflags & FD_CLOEXEC), "the fd is O_CLOEXEC");

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
	ok((s.mapped_pud == 1 && s.mapped_pmd == 0 && s.mapped_pte == 0) ||
	   (s.mapped_pud == 0 && s.mapped_pmd == size / (2 * MIB) &&
	    s.mapped_pte == 0) ||
	   (s.mapped_pud == 0 && s.mapped_pmd == 0 &&
	    s.mapped_pte == size / (4 * KIB) && s.faults == size / (2 * MIB)),
	   "one PUD, one PMD per 2 MiB, or one PTE batch per 2 MiB fault");
	ok(s.mapped_pud * GIB + s.mapped_pmd * 2 * MIB +
	   s.mapped_pte * 4 * KIB == size,
	   "the mappings inserted cover the whole file exactly once");
	ok(s.allocated == size, "1 GiB allocated from the pool");
	ok(pool_value("used") == (long long)size && accounting_holds(),
	   "pool: used == 1 GiB, free + used == total");

	s0 = s;
	for (i = 0; i < size; i += 4 * KIB)
		if (p[i] != ((uint8_t)(i >> 12) | 1))
			bad++;
	ok(bad == 0, "every page reads back what was written");
	s = gmem_stats(fd);
	ok(s.faults == s0.faults && s.mapped_pte == s0.mapped_pte &&
	   s.mapped_pmd == s0.mapped_pmd && s.mapped_pud == s0.mapped_pud,
	   "reading back took no new fault (%llu -> %llu)",
	   (unsigned long long)s0.faults, (unsigned long long)s.faults);

	/*
	 * Convert one page in the middle of the huge mapping. Zapping part
	 * of a PUD entry asserts mmap_lock in the 6.12+ core, which the
	 * conversion does not hold (a WARN on the console fails the boot):
	 * the module zaps whole huge entries and the rest refaults.
	 */
	{
		uint64_t mid = 512 * MIB + 4 * KIB, nbad = 0;
		uint8_t v;

		ok(gmem_set_attr(fd, mid, 4 * KIB, GMEM_PFNPOOL_ATTR_PRIVATE,
				 NULL) == 0,
		   "convert one page in the middle of the mapping to private");
		ok(probe_read(p + mid, &v) < 0, "that page raises SIGBUS");
		for (i = 0; i < size; i += 2 * MIB) {
			uint64_t o = i == (mid & ~(2 * MIB - 1)) ? i + 8 * KIB : i;

			if (probe_read(p + o, &v) < 0 ||
			    v != ((uint8_t)(o >> 12) | 1))
				nbad++;
		}
		ok(nbad == 0, "the rest still reads back what was written");
	}

	munmap(p, size);
	close(fd);

	/* 16 MiB: 2 MiB extents, so 8 PMDs or 8 faults of 2 MiB PTE batches. */
	fd = gmem_create(dev, 16 * MIB, 0);
	p = gmem_map(fd, 16 * MIB, 0, 2 * MIB);
	ok(fd >= 0 && p != MAP_FAILED, "create and map a 16 MiB file");
	if (p != MAP_FAILED) {
		for (i = 0; i < 16 * MIB; i += 4 * KIB)
			p[i] = 1;
		s = gmem_stats(fd);
		ok(s.mapped_pud == 0 &&
		   ((s.mapped_pmd == 8 && s.mapped_pte == 0) ||
		    (s.mapped_pmd == 0 && s.mapped_pte == 4096 && s.faults == 8)),
		   "2 MiB mappings: 8 PMDs, or 8 faults of a batch of PTEs each");
		munmap(p, 16 * MIB);
	}
	close(fd);

	/* The default mappings: 4 KiB entries on every kernel. */
	ok(gmem_mmap_huge(0) == 0, "mmap_huge=0 (the default)");
	fd = gmem_create(dev, 16 * MIB, 0);
	p = gmem_map(fd, 16 * MIB, 0, 2 * MIB);
	ok(fd >= 0 && p != MAP_FAILED, "create and map a 16 MiB file");
	if (p != MAP_FAILED) {
		for (i = 0; i < 16 * MIB; i += 4 * KIB)
			p[i] = 1;
		s = gmem_stats(fd);
		ok(s.mapped_pud == 0 && s.mapped_pmd == 0 &&
		   s.mapped_pte == 4096 && s.faults == 8,
		   "default mapping: 8 faults of a batch of 512 PTEs, no huge entry (%llu faults, %llu PTEs, %llu PMDs)",
		   (unsigned long long)s.faults,
		   (unsigned long long)s.mapped_pte,
		   (unsigned long long)s.mapped_pmd);
		munmap(p, 16 * MIB);
	}
	close(fd);
	close(dev);
	ok(pool_value("used") == 0 && accounting_holds(),
	   "closing the file returns its memory");
	ok(gmem_unload() == 0, "unload gmem_pfnpool");
	return tap_done();
}

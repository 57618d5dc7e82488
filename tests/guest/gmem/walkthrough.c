// SPDX-License-Identifier: GPL-2.0-only
/*
 * The gmem_pfnpool flow end to end, narrated with -v (make demo runs it
 * that way from tests/guest/demo/gmem.sh): load the pool on the reserved
 * ranges, create a guest-memory file, map and touch it, convert a range
 * with an in-kernel user refusing and then agreeing, and show what the
 * module reports. Without -v it is one more in-guest test.
 */
#include "gmem_test.h"

static int verbose;

static void say(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void show(const char *cmd)
{
	if (!verbose)
		return;
	printf("$ %s\n", cmd);
	fflush(stdout);
	run(cmd);
}

int main(int argc, char **argv)
{
	struct gmem_pfnpool_set_attr sa;
	struct gmem_pfnpool_stats s0, s1;
	uint64_t size = 64 * MIB, i;
	uint8_t v, *p;
	int dev, fd, ret, err;

	verbose = argc > 1 && !strcmp(argv[1], "-v");

	say("\n1. Load the pool on the two ranges the kernel left alone (memmap=).");
	show("grep -E '^ *1(4|a)0000000' /proc/iomem");
	ok(gmem_load() == 0, "modload gmem_pfnpool " GMEM_RANGES);
	show("grep -A1 -E '^ *1(4|a)0000000' /proc/iomem");
	show("cat " GMEM_DEBUGFS "/pool");

	say("\n2. Create a 64 MiB guest-memory file (shared) and map it.");
	dev = gmem_dev();
	fd = gmem_create(dev, size, 0);
	ok(fd >= 0, "GMEM_PFNPOOL_IOC_CREATE: 64 MiB shared file, fd %d", fd);
	p = gmem_map(fd, size, 0, 2 * MIB);
	ok(p != MAP_FAILED, "mmap(MAP_SHARED) at a 2 MiB-aligned address %p",
	   (void *)p);
	if (p == MAP_FAILED)
		return tap_done();

	say("\n3. Touch every 4 KiB page: faults map a whole 2 MiB block at once.");
	for (i = 0; i < size; i += 4 * KIB)
		p[i] = 0x42;
	s0 = gmem_stats(fd);
	/*
	 * Count what the faults installed, not ->fault/->huge_fault calls:
	 * where the core mm calls ->huge_fault() for VM_PFNMAP (6.12+), a
	 * fault in a 1 GiB region without a page table first asks for a PUD,
	 * which the module declines (VM_FAULT_FALLBACK, counted as a call)
	 * before the PMD call; whether the mapping starts in such a region
	 * depends on where mmap() placed it. Without ->huge_fault() each
	 * ->fault populates the 512 PTEs of its 2 MiB block.
	 */
	ok(s0.mapped_pud == 0 &&
	   ((s0.mapped_pmd == size / (2 * MIB) && s0.mapped_pte == 0) ||
	    (s0.mapped_pmd == 0 && s0.mapped_pte == size / (4 * KIB) &&
	     s0.faults == size / (2 * MIB))),
	   "%llu faults for %llu pages (%llu PTEs, %llu PMDs, %llu PUDs mapped)",
	   (unsigned long long)s0.faults,
	   (unsigned long long)(size / (4 * KIB)),
	   (unsigned long long)s0.mapped_pte, (unsigned long long)s0.mapped_pmd,
	   (unsigned long long)s0.mapped_pud);
	show("cat " GMEM_DEBUGFS "/files");

	say("\n4. An in-kernel user attaches (the test user module) and refuses.");
	ok(run("modload gmem_pfnpool_testuser") == 0,
	   "modload gmem_pfnpool_testuser");
	ok(tu_ctl("attach %d", fd) == 0 && tu_ctl("veto 1") == 0,
	   "echo 'attach %d' 'veto 1' > " TU_DEBUGFS "/ctl", fd);
	ret = gmem_set_attr(fd, 8 * MIB, 2 * MIB, GMEM_PFNPOOL_ATTR_PRIVATE,
			    &sa);
	err = errno;
	ok(ret == -1 && err == EBUSY,
	   "convert [8M, 10M) to private: %s, refused by '%s' at %#llx",
	   strerror(err), (char *)sa.error_user,
	   (unsigned long long)sa.error_offset);
	ok(p[8 * MIB] == 0x42 && gmem_stats(fd).faults == s0.faults,
	   "the mapping is untouched: reads work with no new fault");
	ok(gmem_get_attr(fd, 8 * MIB, NULL, NULL) == GMEM_PFNPOOL_ATTR_SHARED,
	   "the range is still shared");

	say("\n5. The user agrees: every user commits, the range becomes private.");
	ok(tu_ctl("veto 0") == 0, "echo 'veto 0' > " TU_DEBUGFS "/ctl");
	ok(gmem_set_attr(fd, 8 * MIB, 2 * MIB, GMEM_PFNPOOL_ATTR_PRIVATE,
			 NULL) == 0, "convert [8M, 10M) to private: done");
	show("cat " TU_DEBUGFS "/state | head -5");
	ok(probe_read(p + 9 * MIB, &v) == -1,
	   "the host mapping of the range is gone: SIGBUS on access");
	s1 = gmem_stats(fd);
	ok(s1.conversions == 1 && s1.vetoes == 1,
	   "file counters: %llu conversion, %llu veto",
	   (unsigned long long)s1.conversions,
	   (unsigned long long)s1.vetoes);
	show("cat " GMEM_DEBUGFS "/files");

	say("\n6. Clean up: the memory returns to the pool, zeroed.");
	ok(tu_ctl("detach") == 0, "the user detaches");
	munmap(p, size);
	close(fd);
	close(dev);
	ok(pool_value("used") == 0 && accounting_holds(),
	   "pool: nothing used, free + used == total");
	show("grep -E '^(total|free|used|metadata_bytes_per_gib)' " GMEM_DEBUGFS "/pool");
	ok(run("modload -r gmem_pfnpool_testuser") == 0 && gmem_unload() == 0,
	   "modload -r gmem_pfnpool_testuser gmem_pfnpool");
	return tap_done();
}

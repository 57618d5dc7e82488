// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pool exhaustion: files can be created, but memory beyond the pool is
 * refused with ENOSPC (fallocate) or SIGBUS (fault); a file larger than the
 * pool cannot be created; freeing memory makes it usable again.
 */
#include "gmem_test.h"

int main(void)
{
	uint8_t *p, v;
	int dev, a, b, c, big;

	ok(gmem_load() == 0, "load gmem_pfnpool");
	dev = gmem_dev();

	big = gmem_create(dev, 2 * GIB, 0);
	ok(big == -1 && errno == ENOSPC, "a file larger than the pool: ENOSPC");

	a = gmem_create(dev, GIB, 0);
	b = gmem_create(dev, 64 * MIB, 0);
	c = gmem_create(dev, 4 * MIB, 0);
	ok(a >= 0 && b >= 0 && c >= 0, "create 1 GiB, 64 MiB and 4 MiB files");
	ok(fallocate(a, 0, 0, GIB) == 0, "fallocate 1 GiB");
	ok(fallocate(b, 0, 0, 64 * MIB) == 0, "fallocate 64 MiB");
	ok(pool_value("free") == 0 && accounting_holds(),
	   "the pool is full, accounting holds");
	ok(pool_value("free_2m_blocks") == 0, "no free 2 MiB block left");
	errno = 0;
	ok(fallocate(c, 0, 0, 4 * MIB) == -1 && errno == ENOSPC,
	   "fallocate on a full pool: ENOSPC (%s)", strerror(errno));
	p = gmem_map(c, 4 * MIB, 0, 0);
	ok(p != MAP_FAILED && probe_read(p, &v) == -1,
	   "a fault on a full pool raises SIGBUS");

	ok(fallocate(b, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
		     4 * MIB) == 0, "punch 4 MiB of the second file");
	ok(probe_write(p, 1) == 0 && probe_read(p, &v) == 0 && v == 1,
	   "the freed memory serves the fault");
	ok(fallocate(c, 0, 0, 4 * MIB) == 0, "and the rest of the file");
	ok(pool_value("free") == 0 && accounting_holds(),
	   "full again, accounting holds");
	munmap(p, 4 * MIB);
	close(a);
	close(b);
	close(c);
	ok(pool_value("used") == 0, "all memory back after closing");
	close(dev);
	ok(gmem_unload() == 0, "unload gmem_pfnpool");
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Private memory is not host-accessible: touching a private file or a
 * private page of a shared file raises SIGBUS, its shared neighbours work.
 */
#include "gmem_test.h"

int main(void)
{
	uint8_t v, *p;
	int dev, fd;

	ok(gmem_load() == 0, "load gmem_pfnpool");
	dev = gmem_dev();

	fd = gmem_create(dev, 4 * MIB, GMEM_PFNPOOL_CREATE_PRIVATE);
	ok(fd >= 0, "create a private 4 MiB file");
	ok(gmem_get_attr(fd, 0, NULL, NULL) == GMEM_PFNPOOL_ATTR_PRIVATE,
	   "its attribute is private");
	p = gmem_map(fd, 4 * MIB, 0, 0);
	ok(p != MAP_FAILED, "mmap of a private file succeeds");
	ok(probe_read(p, &v) == -1, "reading private memory raises SIGBUS");
	ok(probe_write(p + 3 * MIB, 1) == -1,
	   "writing private memory raises SIGBUS");
	ok(gmem_stats(fd).allocated == 0,
	   "a refused fault allocated nothing");
	munmap(p, 4 * MIB);
	close(fd);

	fd = gmem_create(dev, 4 * MIB, 0);
	ok(fd >= 0, "create a shared 4 MiB file");
	ok(gmem_set_attr(fd, 1 * MIB, 4 * KIB, GMEM_PFNPOOL_ATTR_PRIVATE,
			 NULL) == 0, "convert one page to private");
	p = gmem_map(fd, 4 * MIB, 0, 2 * MIB);
	ok(p != MAP_FAILED, "mmap it");
	ok(probe_write(p + 1 * MIB, 7) == -1, "the private page raises SIGBUS");
	ok(probe_write(p + 1 * MIB - 4 * KIB, 7) == 0 &&
	   probe_write(p + 1 * MIB + 4 * KIB, 7) == 0,
	   "its shared neighbours are writable");
	ok(probe_read(p + 1 * MIB + 4 * KIB, &v) == 0 && v == 7,
	   "and read back");
	munmap(p, 4 * MIB);
	close(fd);
	close(dev);
	ok(gmem_unload() == 0, "unload gmem_pfnpool");
	return tap_done();
}

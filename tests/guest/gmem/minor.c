// SPDX-License-Identifier: GPL-2.0-only
/*
 * Small promises of the uapi: guest memory is never mapped executable
 * (mmap with PROT_EXEC and mprotect to it fail), the size of a file is
 * fixed (ftruncate fails and leaves the mapping alone), and an ioctl that
 * cannot copy its result back leaves no new fd behind.
 */
#include <dirent.h>
#include "gmem_test.h"

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

int main(void)
{
	struct gmem_pfnpool_create *c;
	struct gmem_pfnpool_export_dmabuf *ex;
	int dev, fd, before, ret;
	uint8_t *p, v = 0;
	void *ro;

	ok(gmem_load() == 0, "load gmem_pfnpool");
	dev = gmem_dev();
	fd = gmem_create(dev, 4 * MIB, 0);
	ok(fd >= 0, "create a 4 MiB shared file");

	p = mmap(NULL, 2 * MIB, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	ok(p == MAP_FAILED, "mmap with PROT_EXEC is refused (%s)",
	   p == MAP_FAILED ? strerror(errno) : "mapped");
	if (p != MAP_FAILED)
		munmap(p, 2 * MIB);
	p = gmem_map(fd, 2 * MIB, 0, 0);
	ok(p != MAP_FAILED, "mmap without PROT_EXEC works");
	ret = mprotect(p, 2 * MIB, PROT_READ | PROT_EXEC);
	ok(ret == -1, "mprotect to PROT_EXEC is refused (%s)",
	   ret ? strerror(errno) : "allowed");
	mprotect(p, 2 * MIB, PROT_READ | PROT_WRITE);
	p[0] = 0x5a;

	ret = ftruncate(fd, 0);
	ok(ret == -1, "ftruncate is refused (%s)",
	   ret ? strerror(errno) : "allowed");
	ok(probe_read(p, &v) == 0 && v == 0x5a,
	   "the mapping still reads the data");
	munmap(p, 2 * MIB);

	/* Argument readable but not writable: the copy-back fails. */
	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	c = ro;
	c->size = 2 * MIB;
	ex = (void *)((char *)ro + 512);
	ex->offset = 0;
	ex->size = 2 * MIB;
	mprotect(ro, 4096, PROT_READ);
	before = count_fds();
	ret = ioctl(dev, GMEM_PFNPOOL_IOC_CREATE, c);
	ok(ret == -1 && errno == EFAULT && count_fds() == before,
	   "create that cannot copy back: EFAULT and no fd left (%d, %d fds -> %d)",
	   ret, before, count_fds());
	ret = ioctl(fd, GMEM_PFNPOOL_IOC_EXPORT_DMABUF, ex);
	ok(ret == -1 && errno == EFAULT && count_fds() == before,
	   "export that cannot copy back: EFAULT and no fd left (%d, %d fds -> %d)",
	   ret, before, count_fds());
	munmap(ro, 4096);

	close(fd);
	close(dev);
	ok(gmem_unload() == 0, "unload gmem_pfnpool");
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every rejected input of the uapi: zero, unaligned and overflowing sizes
 * and offsets, ranges past the end, unknown flags and attributes, non-zero
 * reserved fields, MAP_PRIVATE, mmap past the end, unsupported fallocate
 * modes, unknown ioctls.
 */
#include "gmem_test.h"

#define FSIZE (4 * MIB)

struct range_case {
	const char *what;
	uint64_t off, size;
};

static const struct range_case bad_ranges[] = {
	{ "zero size", 0, 0 },
	{ "unaligned offset", 100, 4 * KIB },
	{ "unaligned size", 0, 4 * KIB + 1 },
	{ "past the end", FSIZE - 4 * KIB, 8 * KIB },
	{ "offset at the end", FSIZE, 4 * KIB },
	{ "offset + size overflows", ~0ULL & ~4095ULL, 8 * KIB },
	{ "huge size overflows", 4 * KIB, ~0ULL & ~4095ULL },
};

int main(void)
{
	struct gmem_pfnpool_create c;
	struct gmem_pfnpool_set_attr sa;
	struct gmem_pfnpool_get_attr ga;
	struct gmem_pfnpool_export_dmabuf ex;
	struct gmem_pfnpool_stats st;
	unsigned int i;
	int dev, fd;
	void *p;

	ok(gmem_load() == 0, "load gmem_pfnpool");
	dev = gmem_dev();
	ok(dev >= 0, "open the device");

	/* CREATE */
	ok_errno(gmem_create(dev, 0, 0), EINVAL, "create: zero size");
	ok_errno(gmem_create(dev, 4 * KIB + 1, 0), EINVAL,
		 "create: unaligned size");
	ok_errno(gmem_create(dev, ~0ULL, 0), EINVAL,
		 "create: unaligned huge size");
	ok_errno(gmem_create(dev, 64 * GIB, 0), ENOSPC,
		 "create: larger than the pool");
	ok_errno(gmem_create(dev, FSIZE, 1U << 5), EINVAL,
		 "create: unknown flag");
	memset(&c, 0, sizeof(c));
	c.size = FSIZE;
	c.reserved[1] = 1;
	ok_errno(ioctl(dev, GMEM_PFNPOOL_IOC_CREATE, &c), EINVAL,
		 "create: non-zero reserved");
	ok_errno(ioctl(dev, _IOWR(GMEM_PFNPOOL_IOCTL_MAGIC, 0x7f, __u64), &c),
		 ENOTTY, "device: unknown ioctl");
	ok_errno(ioctl(dev, GMEM_PFNPOOL_IOC_CREATE, (void *)8), EFAULT,
		 "create: bad pointer");

	fd = gmem_create(dev, FSIZE, 0);
	ok(fd >= 0, "create a valid 4 MiB file");

	/* SET_ATTR, GET_ATTR, EXPORT_DMABUF, fallocate: the same ranges. */
	for (i = 0; i < ARRAY_SIZE(bad_ranges); i++) {
		const struct range_case *r = &bad_ranges[i];

		ok_errno(gmem_set_attr(fd, r->off, r->size,
				       GMEM_PFNPOOL_ATTR_PRIVATE, NULL),
			 EINVAL, "set_attr: %s", r->what);
		memset(&ex, 0, sizeof(ex));
		ex.offset = r->off;
		ex.size = r->size;
		ok_errno(ioctl(fd, GMEM_PFNPOOL_IOC_EXPORT_DMABUF, &ex), EINVAL,
			 "export: %s", r->what);
		if (r->size && (int64_t)r->off >= 0 && (int64_t)r->size > 0)
			ok_errno(fallocate(fd, 0, r->off, r->size), EINVAL,
				 "fallocate: %s", r->what);
	}
	memset(&sa, 0, sizeof(sa));
	sa.size = 4 * KIB;
	sa.attr = 2;
	ok_errno(ioctl(fd, GMEM_PFNPOOL_IOC_SET_ATTR, &sa), EINVAL,
		 "set_attr: unknown attribute");
	sa.attr = GMEM_PFNPOOL_ATTR_PRIVATE;
	sa.flags = 1;
	ok_errno(ioctl(fd, GMEM_PFNPOOL_IOC_SET_ATTR, &sa), EINVAL,
		 "set_attr: unknown flag");
	sa.flags = 0;
	sa.reserved[0] = 1;
	ok_errno(ioctl(fd, GMEM_PFNPOOL_IOC_SET_ATTR, &sa), EINVAL,
		 "set_attr: non-zero reserved");

	memset(&ga, 0, sizeof(ga));
	ga.offset = 4 * KIB + 8;
	ok_errno(ioctl(fd, GMEM_PFNPOOL_IOC_GET_ATTR, &ga), EINVAL,
		 "get_attr: unaligned offset");
	ga.offset = FSIZE;
	ok_errno(ioctl(fd, GMEM_PFNPOOL_IOC_GET_ATTR, &ga), EINVAL,
		 "get_attr: offset at the end");
	ga.offset = ~0ULL & ~4095ULL;
	ok_errno(ioctl(fd, GMEM_PFNPOOL_IOC_GET_ATTR, &ga), EINVAL,
		 "get_attr: offset overflows");
	ga.offset = 0;
	ga.flags = 4;
	ok_errno(ioctl(fd, GMEM_PFNPOOL_IOC_GET_ATTR, &ga), EINVAL,
		 "get_attr: unknown flag");
	ga.flags = 0;
	ga.reserved[1] = 9;
	ok_errno(ioctl(fd, GMEM_PFNPOOL_IOC_GET_ATTR, &ga), EINVAL,
		 "get_attr: non-zero reserved");

	memset(&ex, 0, sizeof(ex));
	ex.size = 4 * KIB;
	ex.flags = 1;
	ok_errno(ioctl(fd, GMEM_PFNPOOL_IOC_EXPORT_DMABUF, &ex), EINVAL,
		 "export: unknown flag");
	ex.flags = 0;
	ex.reserved[0] = 1;
	ok_errno(ioctl(fd, GMEM_PFNPOOL_IOC_EXPORT_DMABUF, &ex), EINVAL,
		 "export: non-zero reserved");

	memset(&st, 0, sizeof(st));
	st.flags = 1;
	ok_errno(ioctl(fd, GMEM_PFNPOOL_IOC_STATS, &st), EINVAL,
		 "stats: unknown flag");
	memset(&st, 0, sizeof(st));
	st.reserved0 = 1;
	ok_errno(ioctl(fd, GMEM_PFNPOOL_IOC_STATS, &st), EINVAL,
		 "stats: non-zero reserved0");
	memset(&st, 0, sizeof(st));
	st.reserved[3] = 1;
	ok_errno(ioctl(fd, GMEM_PFNPOOL_IOC_STATS, &st), EINVAL,
		 "stats: non-zero reserved");
	ok_errno(ioctl(fd, GMEM_PFNPOOL_IOC_CREATE, &c), ENOTTY,
		 "file: device ioctl on a file");

	/* fallocate modes */
	ok_errno(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4 * KIB), EOPNOTSUPP,
		 "fallocate: PUNCH_HOLE without KEEP_SIZE");
	ok_errno(fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, 4 * KIB),
		 EOPNOTSUPP, "fallocate: COLLAPSE_RANGE");
	ok_errno(fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, 4 * KIB), EOPNOTSUPP,
		 "fallocate: ZERO_RANGE");

	/* mmap */
	p = mmap(NULL, FSIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ok(p == MAP_FAILED && errno == EINVAL, "mmap: MAP_PRIVATE refused");
	p = mmap(NULL, FSIZE + 4 * KIB, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	ok(p == MAP_FAILED && errno == EINVAL, "mmap: longer than the file");
	p = mmap(NULL, 8 * KIB, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 FSIZE - 4 * KIB);
	ok(p == MAP_FAILED && errno == EINVAL, "mmap: offset + length past the end");
	p = mmap(NULL, 4 * KIB, PROT_READ, MAP_SHARED, fd, FSIZE);
	ok(p == MAP_FAILED && errno == EINVAL, "mmap: offset at the end");
	p = mmap(NULL, 4 * KIB, PROT_READ, MAP_SHARED, fd, FSIZE - 4 * KIB);
	ok(p != MAP_FAILED, "mmap: the last page is fine");
	if (p != MAP_FAILED) {
		ok(mremap(p, 4 * KIB, 8 * KIB, 0) == MAP_FAILED,
		   "mremap cannot grow the mapping");
		munmap(p, 4 * KIB);
	}
	ok(gmem_stats(fd).allocated == 0, "no rejected call allocated memory");

	close(fd);
	close(dev);
	ok(gmem_unload() == 0, "unload gmem_pfnpool");
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * gmem_pfnpool's tracepoints through tracefs: one fault, one vetoed and one
 * committed conversion (with the test user), one DMA-BUF export and its
 * revocation by a conversion, each seen with the file's inode and range.
 */
#include "gmem_test.h"
#include "trace.h"

#define FSIZE (4 * MIB)

static int export(int fd, uint64_t off, uint64_t size)
{
	struct gmem_pfnpool_export_dmabuf e = { .offset = off, .size = size };

	return ioctl(fd, GMEM_PFNPOOL_IOC_EXPORT_DMABUF, &e);
}

int main(void)
{
	struct gmem_pfnpool_set_attr sa;
	char ino[64], range[64], range2[64];
	struct stat st;
	int dev, fd, buf, ret;
	char *t;
	uint8_t *p;

	ok(gmem_load() == 0, "load gmem_pfnpool");
	ok(run("modload gmem_pfnpool_testuser") == 0,
	   "load gmem_pfnpool_testuser");
	if (!ok(trace_start("gmem_pfnpool") == 0,
		"tracefs: gmem_pfnpool events enabled"))
		return tap_done();
	dev = gmem_dev();
	fd = gmem_create(dev, FSIZE, 0);
	ok(fd >= 0 && fstat(fd, &st) == 0, "create a 4 MiB shared file");
	snprintf(ino, sizeof(ino), "ino=%llu ", (unsigned long long)st.st_ino);
	p = gmem_map(fd, FSIZE, 0, 2 * MIB);
	if (!ok(p != MAP_FAILED, "map it"))
		return tap_done();
	p[0] = 1;

	ok(tu_ctl("attach %d", fd) == 0, "test user attaches");
	ok(tu_ctl("veto 1") == 0, "test user will refuse");
	ret = gmem_set_attr(fd, 2 * MIB, 2 * MIB, GMEM_PFNPOOL_ATTR_PRIVATE,
			    &sa);
	ok(ret == -1 && errno == EBUSY, "conversion of pages 512-1023 vetoed");
	ok(tu_ctl("veto 0") == 0, "test user will agree");
	ok(gmem_set_attr(fd, 2 * MIB, 2 * MIB, GMEM_PFNPOOL_ATTR_PRIVATE,
			 &sa) == 0, "the same conversion commits");
	buf = export(fd, 0, MIB);
	ok(buf >= 0, "export pages 0-255 as a DMA-BUF");
	ok(gmem_set_attr(fd, 0, MIB, GMEM_PFNPOOL_ATTR_PRIVATE, &sa) == 0,
	   "converting them revokes the export");

	t = trace_read();
	trace_stop("gmem_pfnpool");
	if (!ok(!!t, "read the trace buffer"))
		return tap_done();
	snprintf(range, sizeof(range), "pages=[512,1024) to_private");
	snprintf(range2, sizeof(range2), "pages=[0,256)");
	ok(trace_count(t, "gmem_pfnpool_fault",
		       (const char *[]){ ino, "index=0 ", NULL }) >= 1,
	   "gmem_pfnpool_fault: the fault at page 0 of the file");
	ok(trace_count(t, "gmem_pfnpool_inv_start",
		       (const char *[]){ ino, range, NULL }) == 2,
	   "gmem_pfnpool_inv_start: twice for pages 512-1023");
	ok(trace_count(t, "gmem_pfnpool_inv_veto",
		       (const char *[]){ ino, range, "user=testuser",
					 "index=512 ", "err=-16", NULL }) == 1,
	   "gmem_pfnpool_inv_veto: once, by testuser at page 512, EBUSY");
	ok(trace_count(t, "gmem_pfnpool_inv_commit",
		       (const char *[]){ ino, range, NULL }) == 1,
	   "gmem_pfnpool_inv_commit: once for pages 512-1023");
	ok(trace_count(t, "gmem_pfnpool_dmabuf_export",
		       (const char *[]){ ino, range2, NULL }) == 1,
	   "gmem_pfnpool_dmabuf_export: pages 0-255");
	ok(trace_count(t, "gmem_pfnpool_dmabuf_revoke",
		       (const char *[]){ ino, range2, NULL }) == 1,
	   "gmem_pfnpool_dmabuf_revoke: pages 0-255, by the conversion");
	if (tap_failed)
		trace_dump(t);
	free(t);

	close(buf);
	ok(tu_ctl("detach") == 0, "test user detaches");
	munmap(p, FSIZE);
	close(fd);
	close(dev);
	ok(run("modload -r gmem_pfnpool_testuser") == 0, "unload the test user");
	ok(gmem_unload() == 0, "unload gmem_pfnpool");
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * DMA-BUF export of a shared range, imported by the test user: converting
 * a part of the range to private (or punching it) revokes the export:
 * move_notify reaches the importer and mapping again fails with ENODEV.
 * Conversions elsewhere leave it alone. Private ranges cannot be exported.
 */
#include "gmem_test.h"

static int export(int fd, uint64_t off, uint64_t size)
{
	struct gmem_pfnpool_export_dmabuf e = { .offset = off, .size = size };

	return ioctl(fd, GMEM_PFNPOOL_IOC_EXPORT_DMABUF, &e);
}

/* Lines of debugfs "files" (one per gmem file alive), or -1. */
static int open_files(void)
{
	FILE *f = fopen(GMEM_DEBUGFS "/files", "r");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += !strncmp(line, "file ", 5);
	fclose(f);
	return n;
}

int main(void)
{
	int dev, fd, dfd, dfd2, ret, fdflags;

	ok(gmem_load() == 0, "load gmem_pfnpool");
	ok(run("modload gmem_pfnpool_testuser") == 0, "load the test user");
	dev = gmem_dev();
	fd = gmem_create(dev, 8 * MIB, 0);
	ok(fd >= 0, "create an 8 MiB shared file");

	dfd = export(fd, 2 * MIB, 2 * MIB);
	ok(dfd >= 0, "export [2M, 4M) as a DMA-BUF");
	fdflags = dfd >= 0 ? fcntl(dfd, F_GETFD) : -1;
	ok(fdflags >= 0 && (fdflags & FD_CLOEXEC), "the DMA-BUF fd is O_CLOEXEC");
	ok(lseek(dfd, 0, SEEK_END) == (off_t)(2 * MIB),
	   "the DMA-BUF is 2 MiB large");
	ok(gmem_stats(fd).allocated >= 2 * MIB, "the export allocated its range");
	ok(tu_ctl("dmabuf %d", dfd) == 0, "the test user imports and maps it");
	ok(tu_value("dmabuf_mapped") == 1 &&
	   tu_value("dmabuf_sg_bytes") == (long long)(2 * MIB),
	   "mapped: 2 MiB of DMA addresses");
	/*
	 * The test device has no dma_parms of its own: 64 KiB segments at
	 * most (dma_get_max_seg_size()), so the one contiguous 2 MiB run
	 * comes in 32 entries.
	 */
	ok(tu_value("dmabuf_max_seg") > 0 &&
	   tu_value("dmabuf_sg_max") <= tu_value("dmabuf_max_seg") &&
	   tu_value("dmabuf_sg_nents") * tu_value("dmabuf_max_seg") >= (long long)(2 * MIB),
	   "no segment is longer than the importer's max segment size (%lld entries, largest %lld, max %lld)",
	   tu_value("dmabuf_sg_nents"), tu_value("dmabuf_sg_max"),
	   tu_value("dmabuf_max_seg"));

	ok(gmem_set_attr(fd, 6 * MIB, 4 * KIB, GMEM_PFNPOOL_ATTR_PRIVATE,
			 NULL) == 0, "convert a page outside the export");
	ok(tu_value("move_notify") == 0 && tu_value("dmabuf_mapped") == 1,
	   "the importer was not disturbed");

	ok(gmem_set_attr(fd, 3 * MIB, 4 * KIB, GMEM_PFNPOOL_ATTR_PRIVATE,
			 NULL) == 0, "convert a page inside the export");
	ok(tu_value("move_notify") == 1 && tu_value("dmabuf_mapped") == 0,
	   "the importer got move_notify and dropped its mapping");
	ret = tu_ctl("remap");
	ok(ret == 0 && tu_value("remap_ret") == -19,
	   "mapping again fails with ENODEV (%lld)", tu_value("remap_ret"));
	if (tu_value("remap_ret") != -19)
		run("cat " TU_DEBUGFS "/state");
	ok(gmem_set_attr(fd, 3 * MIB, 4 * KIB, GMEM_PFNPOOL_ATTR_SHARED,
			 NULL) == 0 && tu_ctl("remap") == 0 &&
	   tu_value("remap_ret") == -19,
	   "converting back does not revive the export");
	ok(tu_ctl("dmabuf_detach") == 0, "the importer detaches");
	close(dfd);

	dfd = export(fd, 5 * MIB, 1 * MIB);
	ok(dfd >= 0 && tu_ctl("dmabuf %d", dfd) == 0 &&
	   tu_value("dmabuf_mapped") == 1, "a second export is imported");
	ok(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		     5 * MIB + 64 * KIB, 4 * KIB) == 0,
	   "punch a hole inside it");
	ok(tu_value("move_notify") == 1 && tu_value("dmabuf_mapped") == 0,
	   "the punch revoked the importer");
	ok(tu_ctl("dmabuf_detach") == 0, "the importer detaches");
	close(dfd);

	dfd2 = export(fd, 6 * MIB, 2 * MIB);
	ok(dfd2 == -1 && errno == EINVAL,
	   "a range with a private page cannot be exported");
	dfd2 = export(fd, 0, 2 * MIB);
	ok(dfd2 >= 0, "an export outlives the gmem fd");
	close(fd);
	ok(tu_ctl("dmabuf %d", dfd2) == 0 && tu_value("dmabuf_mapped") == 1,
	   "and can still be imported after the gmem fd is closed");
	ok(tu_ctl("dmabuf_detach") == 0, "the importer detaches");
	close(dfd2);

	close(dev);
	ok(run("modload -r gmem_pfnpool_testuser") == 0, "unload the test user");
	/* Checked while the module is loaded: afterwards there is nothing to read. */
	ok(pool_value("used") == 0 && accounting_holds(),
	   "nothing left behind: the exports gave all memory back (used %lld)",
	   pool_value("used"));
	ok(open_files() == 0, "nothing left behind: no gmem file alive (%d)",
	   open_files());
	ok(gmem_unload() == 0, "unload gmem_pfnpool");
	ok(access(GMEM_DEBUGFS, F_OK) != 0 && access(GMEM_DEV, F_OK) != 0,
	   "unloaded: no debugfs directory, no device node");
	return tap_done();
}

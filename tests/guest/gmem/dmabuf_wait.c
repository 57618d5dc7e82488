// SPDX-License-Identifier: GPL-2.0-only
/*
 * A dynamic DMA-BUF importer is revoked by a conversion, but the memory may
 * only change once it has let go. The test user, told to be lazy, keeps its
 * mapping after move_notify: the conversion must wait (the range still
 * shared, nothing committed) until the importer unmaps, then complete.
 */
#include <sys/wait.h>
#include "gmem_test.h"

static int export(int fd, uint64_t off, uint64_t size)
{
	struct gmem_pfnpool_export_dmabuf e = { .offset = off, .size = size };

	return ioctl(fd, GMEM_PFNPOOL_IOC_EXPORT_DMABUF, &e);
}

int main(void)
{
	int dev, fd, dfd, st, done = 0;
	pid_t pid;

	ok(gmem_load() == 0, "load gmem_pfnpool");
	ok(run("modload gmem_pfnpool_testuser") == 0, "load the test user");
	dev = gmem_dev();
	fd = gmem_create(dev, 4 * MIB, 0);
	dfd = export(fd, 0, 2 * MIB);
	ok(fd >= 0 && dfd >= 0, "create a file and export [0, 2M)");
	ok(tu_ctl("lazy 1") == 0 && tu_ctl("dmabuf %d", dfd) == 0 &&
	   tu_value("dmabuf_mapped") == 1,
	   "a lazy dynamic importer maps it");

	pid = fork();
	if (!pid)
		_exit(gmem_set_attr(fd, 1 * MIB, 4 * KIB,
				    GMEM_PFNPOOL_ATTR_PRIVATE, NULL) ? 1 : 0);
	sleep(2);
	done = waitpid(pid, &st, WNOHANG) == pid;
	ok(!done, "the conversion waits while the importer still maps");
	ok(tu_value("move_notify") == 1, "the importer got move_notify");
	ok(tu_value("dmabuf_mapped") == 1, "and still holds its mapping");
	ok(gmem_get_attr(fd, 1 * MIB, NULL, NULL) == GMEM_PFNPOOL_ATTR_SHARED,
	   "the page is still shared meanwhile");

	ok(tu_ctl("dmabuf_detach") == 0, "the importer unmaps and detaches");
	if (!done)
		done = waitpid(pid, &st, 0) == pid;
	ok(done && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "then the conversion completes");
	ok(gmem_get_attr(fd, 1 * MIB, NULL, NULL) == GMEM_PFNPOOL_ATTR_PRIVATE,
	   "and the page is private");

	tu_ctl("lazy 0");
	close(dfd);
	close(fd);
	close(dev);
	ok(run("modload -r gmem_pfnpool_testuser") == 0, "unload the test user");
	ok(gmem_unload() == 0, "unload gmem_pfnpool");
	return tap_done();
}

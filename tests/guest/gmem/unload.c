// SPDX-License-Identifier: GPL-2.0-only
/*
 * The module cannot be unloaded while a gmem file (or a mapping of one) is
 * alive, and can once the last reference is gone.
 */
#include <sys/syscall.h>
#include "gmem_test.h"

static int delete_module(const char *name)
{
	return syscall(__NR_delete_module, name, O_NONBLOCK);
}

int main(void)
{
	int dev, fd, ret;
	uint8_t *p;

	ok(gmem_load() == 0, "load gmem_pfnpool");
	dev = gmem_dev();
	fd = gmem_create(dev, 2 * MIB, 0);
	ok(fd >= 0, "create a file");
	close(dev);

	ret = delete_module("gmem_pfnpool");
	ok(ret == -1 && (errno == EWOULDBLOCK || errno == EBUSY),
	   "unload refused while a file is open (%s)", strerror(errno));
	ok(gmem_unload() != 0, "modload -r fails too");

	p = gmem_map(fd, 2 * MIB, 0, 0);
	ok(p != MAP_FAILED, "map the file");
	p[0] = 1;
	close(fd);
	ret = delete_module("gmem_pfnpool");
	ok(ret == -1 && (errno == EWOULDBLOCK || errno == EBUSY),
	   "unload refused while a mapping is alive (%s)", strerror(errno));
	ok(access(GMEM_DEBUGFS "/pool", R_OK) == 0, "the module is still there");

	munmap(p, 2 * MIB);
	ok(gmem_unload() == 0, "unload succeeds after the last reference");
	ok(access("/sys/module/gmem_pfnpool", F_OK) != 0, "module gone");
	return tap_done();
}

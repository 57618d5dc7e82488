/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sysfs/procfs helpers shared by the in-guest C tests (tdi_test.h,
 * platform.h and the programs that include them).
 */
#ifndef CCHOST_TEST_SYSFS_H
#define CCHOST_TEST_SYSFS_H

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Write @val to @path in one write(); 0, or -1 with errno. */
static inline int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/* Read a number ("0x1234", "42") from @path; 0 or -1. */
static inline int sysfs_read_hex(const char *path, unsigned long *val)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	*val = strtoul(buf, NULL, 0);
	return 0;
}

#endif

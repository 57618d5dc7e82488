/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the gmem_pfnpool in-guest tests: module loading, file
 * creation, huge-aligned mappings, fault probes, debugfs readers.
 */
#ifndef GMEM_TEST_H
#define GMEM_TEST_H

#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <linux/gmem_pfnpool.h>

#include "tap.h"

#define KIB 1024ULL
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define GMEM_RANGES "ranges=1G@0x140000000,64M@0x1a0000000"
#define GMEM_DEV "/dev/gmem_pfnpool"
#define GMEM_DEBUGFS "/sys/kernel/debug/gmem_pfnpool"
#define TU_DEBUGFS "/sys/kernel/debug/gmem_pfnpool_testuser"

static inline int run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static inline int gmem_load(void)
{
	return run("modload gmem_pfnpool " GMEM_RANGES);
}

static inline int gmem_unload(void)
{
	return run("modload -r gmem_pfnpool");
}

/* Mappings made from now on: VM_PFNMAP with huge entries (1) or not (0). */
static inline int gmem_mmap_huge(int on)
{
	FILE *f = fopen("/sys/module/gmem_pfnpool/parameters/mmap_huge", "w");
	int ret;

	if (!f)
		return -1;
	ret = fputs(on ? "1" : "0", f) < 0;
	return fclose(f) || ret ? -1 : 0;
}

static inline int gmem_dev(void)
{
	return open(GMEM_DEV, O_RDWR | O_CLOEXEC);
}

/* Create a file; returns the fd or -1 with errno. */
static inline int gmem_create(int dev, uint64_t size, uint32_t flags)
{
	struct gmem_pfnpool_create c = { .size = size, .flags = flags };

	return ioctl(dev, GMEM_PFNPOOL_IOC_CREATE, &c);
}

static inline int gmem_set_attr(int fd, uint64_t off, uint64_t size,
				uint32_t attr, struct gmem_pfnpool_set_attr *out)
{
	struct gmem_pfnpool_set_attr a = {
		.offset = off, .size = size, .attr = attr,
	};
	int ret = ioctl(fd, GMEM_PFNPOOL_IOC_SET_ATTR, &a);

	if (out)
		*out = a;
	return ret;
}

static inline int gmem_get_attr(int fd, uint64_t off, uint64_t *rstart,
				uint64_t *rsize)
{
	struct gmem_pfnpool_get_attr a = { .offset = off };

	if (ioctl(fd, GMEM_PFNPOOL_IOC_GET_ATTR, &a))
		return -1;
	if (rstart)
		*rstart = a.range_offset;
	if (rsize)
		*rsize = a.range_size;
	return a.attr;
}

static inline struct gmem_pfnpool_stats gmem_stats(int fd)
{
	struct gmem_pfnpool_stats s = { 0 };

	if (ioctl(fd, GMEM_PFNPOOL_IOC_STATS, &s))
		diag("STATS failed: %s", strerror(errno));
	return s;
}

/* mmap MAP_SHARED at an address aligned to @align (0: any). */
static inline void *gmem_map(int fd, uint64_t size, uint64_t off,
			     uint64_t align)
{
	uint8_t *res, *p;

	if (!align)
		return mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			    fd, off);
	res = mmap(NULL, size + align, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		return MAP_FAILED;
	p = (uint8_t *)(((uintptr_t)res + align - 1) & ~(uintptr_t)(align - 1));
	if (p > res)
		munmap(res, p - res);
	munmap(p + size, res + size + align - (p + size));
	return mmap(p, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		    fd, off);
}

static sigjmp_buf probe_env;

static inline void probe_sigbus(int sig)
{
	siglongjmp(probe_env, 1);
}

/* Read one byte; returns 0 and *val, or -1 if it raised SIGBUS. */
static inline int probe_read(uint8_t *p, uint8_t *val)
{
	struct sigaction sa = { .sa_handler = probe_sigbus }, old;
	int ret = 0;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(probe_env, 1))
		ret = -1;
	else
		*val = __atomic_load_n(p, __ATOMIC_RELAXED);
	sigaction(SIGBUS, &old, NULL);
	return ret;
}

/* Write one byte; returns 0, or -1 if it raised SIGBUS. */
static inline int probe_write(uint8_t *p, uint8_t val)
{
	struct sigaction sa = { .sa_handler = probe_sigbus }, old;
	int ret = 0;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(probe_env, 1))
		ret = -1;
	else
		__atomic_store_n(p, val, __ATOMIC_RELAXED);
	sigaction(SIGBUS, &old, NULL);
	return ret;
}

/* Value of "key N" in a debugfs file; -1 if absent. */
static inline long long debugfs_value(const char *path, const char *key)
{
	char line[512], k[128];
	long long v, ret = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%127s %lld", k, &v) == 2 && !strcmp(k, key)) {
			ret = v;
			break;
		}
	fclose(f);
	return ret;
}

static inline long long pool_value(const char *key)
{
	return debugfs_value(GMEM_DEBUGFS "/pool", key);
}

static inline long long tu_value(const char *key)
{
	return debugfs_value(TU_DEBUGFS "/state", key);
}

/* Send a command to the test user; returns 0 or -1 with errno. */
static inline int tu_ctl(const char *fmt, ...)
{
	char buf[64];
	va_list ap;
	int fd, n, ret;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fd = open(TU_DEBUGFS "/ctl", O_WRONLY);
	if (fd < 0)
		return -1;
	ret = write(fd, buf, n) == n ? 0 : -1;
	n = errno;
	close(fd);
	errno = n;
	return ret;
}

static inline int accounting_holds(void)
{
	long long t = pool_value("total"), f = pool_value("free");
	long long u = pool_value("used");

	return t > 0 && f >= 0 && u >= 0 && f + u == t;
}

#endif /* GMEM_TEST_H */

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared setup of the tdi in-guest tests: load tdi_dmabuf (and the fake TDI
 * report provider), bind QEMU's edu device (1234:11e8) to it, open it
 * through a legacy VFIO type1 container, and small wrappers of the uapi.
 */
#ifndef TDI_TEST_H
#define TDI_TEST_H

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <linux/vfio.h>
#include <linux/tdi_dmabuf.h>

#include "fake_provider.h"
#include "sysfs.h"
#include "tap.h"

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

#define EDU_ID			0x010000edu
#define EDU_BAR0_SIZE		0x100000u
#define TYPE1_UNSAFE_IRQS	"/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"

struct tdi_env {
	char bdf[256];
	int group;
	int container;
	int dev;
	int verbose;
};

static int tdi_verbose;

/* Demo narration, printed as TAP comments only in verbose mode. */
static inline void say(const char *fmt, ...)
{
	va_list ap;

	if (!tdi_verbose)
		return;
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* Write one command to the fake provider; 0 or -1 with errno. */
static inline int fake(const char *fmt, ...)
{
	char cmd[256];
	va_list ap;
	int ret;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	ret = sysfs_write(FAKE_CONTROL, cmd);
	say("test provider control <- \"%s\"%s", cmd, ret ? " (refused)" : "");
	return ret;
}

/* One counter of the fake provider's status line for @bdf, or -1. */
static inline int find_edu(char *bdf, size_t len)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	int found = -1;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char path[300];
		unsigned long v, dv;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", e->d_name);
		if (sysfs_read_hex(path, &v))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", e->d_name);
		if (sysfs_read_hex(path, &dv))
			continue;
		if (v == 0x1234 && dv == 0x11e8) {
			snprintf(bdf, len, "%s", e->d_name);
			found = 0;
			break;
		}
	}
	closedir(d);
	return found;
}

static inline int modload(const char *args)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "%s %s", "modload", args);
	return system(cmd) == 0 ? 0 : -1;
}

/*
 * Load the modules, bind @bdf (called @what in the TAP lines) to tdi_dmabuf
 * and attach its group to a type1 container; the device fd is left to the
 * caller (tdi_open_dev()). TAP lines for each step.
 */
/* The VFIO group device of @bdf ("/dev/vfio/N") into @path; 0 or -1. */
static inline int vfio_group_path(const char *bdf, char *path, size_t len)
{
	char link[300], sys[300];
	ssize_t n;

	snprintf(sys, sizeof(sys), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(sys, link, sizeof(link) - 1);
	if (n <= 0)
		return -1;
	link[n] = 0;
	snprintf(path, len, "/dev/vfio/%s", strrchr(link, '/') + 1);
	return 0;
}

static inline int tdi_setup_bdf(struct tdi_env *e, const char *bdf, const char *what,
				int with_fake)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	char path[300], link[300];
	ssize_t n;

	snprintf(e->bdf, sizeof(e->bdf), "%s", bdf);
	if (!ok(modload("tdi_dmabuf") == 0, "modload tdi_dmabuf"))
		return -1;
	/* vfio's softdep loaded type1; the guest IOMMU has no IRQ remapping. */
	if (!ok(sysfs_write(TYPE1_UNSAFE_IRQS, "1") == 0,
		"vfio_iommu_type1 loaded (softdep), unsafe interrupts allowed"))
		return -1;
	if (with_fake &&
	    !ok(modload("tdi_fake_provider") == 0, "modload tdi_fake_provider"))
		return -1;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", e->bdf);
	sysfs_write(path, "tdi_dmabuf");
	sysfs_write("/sys/bus/pci/drivers_probe", e->bdf);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", e->bdf);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	if (!ok(n > 0 && strstr(link, "/tdi_dmabuf"), "%s bound to tdi_dmabuf", what))
		return -1;

	if (vfio_group_path(e->bdf, path, sizeof(path)))
		return -1;
	e->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	e->group = open(path, O_RDWR | O_CLOEXEC);
	if (!ok(e->container >= 0 && e->group >= 0, "open VFIO container and group %s", path))
		return -1;
	if (!ok(ioctl(e->group, VFIO_GROUP_GET_STATUS, &gs) == 0 &&
		(gs.flags & VFIO_GROUP_FLAGS_VIABLE), "group is viable") ||
	    !ok(ioctl(e->group, VFIO_GROUP_SET_CONTAINER, &e->container) == 0,
		"group set container: %s", strerror(errno)) ||
	    !ok(ioctl(e->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) == 0,
		"type1v2 IOMMU: %s", strerror(errno)))
		return -1;
	return 0;
}

/* The VFIO device fd of @name (a BDF, optionally " vf_token=UUID"); -1. */
static inline int tdi_open_dev(struct tdi_env *e, const char *name)
{
	e->dev = ioctl(e->group, VFIO_GROUP_GET_DEVICE_FD, name);
	return e->dev;
}

/* Load, bind edu to tdi_dmabuf and open it; TAP lines for each step. */
static inline int tdi_setup(struct tdi_env *e, int with_fake)
{
	char bdf[256];

	memset(e, 0, sizeof(*e));
	e->group = -1;
	e->container = -1;
	e->dev = -1;
	if (!ok(find_edu(bdf, sizeof(bdf)) == 0, "edu device present"))
		return -1;
	say("edu device at %s", bdf);
	if (tdi_setup_bdf(e, bdf, "edu", with_fake))
		return -1;
	if (!ok(tdi_open_dev(e, e->bdf) >= 0, "VFIO device fd of %s", e->bdf))
		return -1;
	return 0;
}

static inline void tdi_teardown(struct tdi_env *e, int with_fake)
{
	char path[300];

	if (e->dev >= 0)
		close(e->dev);
	if (e->group >= 0)
		close(e->group);
	if (e->container >= 0)
		close(e->container);
	if (e->bdf[0]) {
		snprintf(path, sizeof(path), "/sys/bus/pci/drivers/tdi_dmabuf/unbind");
		sysfs_write(path, e->bdf);
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", e->bdf);
		sysfs_write(path, "\n");
	}
	if (with_fake)
		ok(modload("-r tdi_fake_provider") == 0, "unload tdi_fake_provider");
	ok(modload("-r tdi_dmabuf") == 0, "unload tdi_dmabuf");
}

static inline int tdi_bind(int dev)
{
	struct tdi_dmabuf_bind b = { 0 };

	return ioctl(dev, TDI_DMABUF_IOCTL_BIND, &b);
}

static inline int tdi_unbind(int dev)
{
	struct tdi_dmabuf_bind b = { 0 };

	return ioctl(dev, TDI_DMABUF_IOCTL_UNBIND, &b);
}

static inline int tdi_state(int dev, struct tdi_dmabuf_state *st)
{
	memset(st, 0, sizeof(*st));
	return ioctl(dev, TDI_DMABUF_IOCTL_GET_STATE, st);
}

/* The state, or -1. */
static inline int tdi_state_of(int dev)
{
	struct tdi_dmabuf_state st;

	return tdi_state(dev, &st) ? -1 : (int)st.state;
}

static inline const char *tdi_state_name(int s)
{
	static const char * const names[] = { "unbound", "locked", "run", "error" };

	return s >= 0 && s < 4 ? names[s] : "?";
}

/* A private DMA-BUF is given an owner token, as a VMM would name its VM. */
#define TDI_TEST_OWNER		0x7e57c0de

static inline int tdi_get_dmabuf(int dev, unsigned int bar, unsigned int kind,
				 struct tdi_dmabuf_get_dmabuf *out)
{
	struct tdi_dmabuf_get_dmabuf g = {
		.bar = bar, .kind = kind, .open_flags = O_RDWR | O_CLOEXEC,
		.owner = kind == TDI_DMABUF_KIND_PRIVATE ? TDI_TEST_OWNER : 0,
	};
	int fd = ioctl(dev, TDI_DMABUF_IOCTL_GET_DMABUF, &g);

	if (out)
		*out = g;
	return fd;
}

static inline int tdi_ranges(int dev, int dmabuf, struct tdi_dmabuf_range *r,
			     unsigned int cap, struct tdi_dmabuf_get_ranges *out)
{
	struct tdi_dmabuf_get_ranges g = {
		.dmabuf_fd = dmabuf, .count = cap, .ranges = (uintptr_t)r,
	};
	int ret = ioctl(dev, TDI_DMABUF_IOCTL_GET_RANGES, &g);

	if (out)
		*out = g;
	return ret;
}

/* Configure the fake provider for edu BAR0 (see the layout in flow.c). */
static inline int fake_setup_edu(const char *bdf)
{
	return fake("add %s", bdf) ||
	       fake("offset %s 0x100000000", bdf) ||
	       /* shared: the register page and 15 more, as two ranges */
	       fake("range %s 0 0x0 1 0x4", bdf) ||
	       fake("range %s 0 0x1000 15 0x4", bdf) ||
	       /* private: 16 pages, then an MSI-X table page */
	       fake("range %s 0 0x10000 16 0x0", bdf) ||
	       fake("range %s 0 0x20000 1 0x1", bdf);
}

/* MMIO accessors: single, untorn accesses the compiler cannot elide. */
static inline __u32 mmio_read32(const void *base, unsigned int off)
{
	return __atomic_load_n((const __u32 *)((const char *)base + off), __ATOMIC_RELAXED);
}

static inline void mmio_write32(void *base, unsigned int off, __u32 v)
{
	__atomic_store_n((__u32 *)((char *)base + off), v, __ATOMIC_RELAXED);
}

static inline void mmio_write64(void *base, unsigned int off, __u64 v)
{
	__atomic_store_n((__u64 *)((char *)base + off), v, __ATOMIC_RELAXED);
}

static sigjmp_buf tdi_sigbus_jmp;

static void tdi_sigbus(int sig)
{
	siglongjmp(tdi_sigbus_jmp, 1);
}

/* Read a 32-bit register through a mapping; 0 on success, -1 on SIGBUS. */
static inline int read32_or_sigbus(const void *p, __u32 *val)
{
	struct sigaction sa = { .sa_handler = tdi_sigbus }, old;
	int ret = 0;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(tdi_sigbus_jmp, 1))
		ret = -1;
	else
		*val = mmio_read32(p, 0);
	sigaction(SIGBUS, &old, NULL);
	return ret;
}

#endif /* TDI_TEST_H */

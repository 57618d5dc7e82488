/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The guest's fault platforms for C tests: find the NVMe PF and its VFs,
 * read and write PCI config space through sysfs, read the AER counters and
 * ask the host for an AER injection. The shell side is /lib/cchost/host.sh
 * (tests/guest/runner/host.sh), which also documents the devices; host
 * requests go through it, so both share one request lock.
 */
#ifndef CCHOST_PLATFORM_H
#define CCHOST_PLATFORM_H

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "sysfs.h"

#define PLATFORM_NVME_QEMU_ID	"nvme0"	/* QEMU id of the PF */
#define PLATFORM_PORT_QEMU_ID	"rp1"	/* QEMU id of its root port, for AER requests */
#define PLATFORM_NVME_VENDOR	0x1b36
#define PLATFORM_NVME_DEVICE	0x0010

/* Is /sys/bus/pci/devices/@name a QEMU NVMe function (1b36:0010)? */
static inline int platform_is_nvme(const char *name)
{
	char path[300];
	unsigned long v, dv;

	if (name[0] == '.')
		return 0;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", name);
	if (sysfs_read_hex(path, &v) || v != PLATFORM_NVME_VENDOR)
		return 0;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", name);
	return !sysfs_read_hex(path, &dv) && dv == PLATFORM_NVME_DEVICE;
}

/* BDF of the NVMe PF (the 1b36:0010 function with SR-IOV); 0 or -1. */
static inline int platform_nvme_pf(char *bdf, size_t len)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	int found = -1;

	if (!d)
		return -1;
	while (found && (e = readdir(d))) {
		char path[300];

		if (!platform_is_nvme(e->d_name))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/sriov_totalvfs", e->d_name);
		if (access(path, F_OK))
			continue;
		snprintf(bdf, len, "%s", e->d_name);
		found = 0;
	}
	closedir(d);
	return found;
}

/* BDF of VF number @n (0-based) of @pf; 0 or -1 if there is none. */
static inline int platform_nvme_vf(const char *pf, int n, char *bdf, size_t len)
{
	char path[300], link[300];
	ssize_t r;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/virtfn%d", pf, n);
	r = readlink(path, link, sizeof(link) - 1);
	if (r <= 0)
		return -1;
	link[r] = 0;
	snprintf(bdf, len, "%s", strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
	return 0;
}

/* Config space of @bdf through sysfs: @size 1, 2 or 4 bytes; 0 or -1. */
static inline int platform_cfg_read(const char *bdf, int off, int size, unsigned int *val)
{
	char path[300];
	unsigned char b[4] = { 0 };
	int fd, i;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	if (pread(fd, b, size, off) != size) {
		close(fd);
		return -1;
	}
	close(fd);
	*val = 0;
	for (i = size - 1; i >= 0; i--)
		*val = *val << 8 | b[i];
	return 0;
}

static inline int platform_cfg_write(const char *bdf, int off, int size, unsigned int val)
{
	char path[300];
	unsigned char b[4];
	int fd, i, ret;

	for (i = 0; i < size; i++)
		b[i] = val >> (8 * i);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ret = pwrite(fd, b, size, off) == size ? 0 : -1;
	close(fd);
	return ret;
}

/* Offset of the standard capability @id of @bdf, or 0 if it has none. */
static inline int platform_find_cap(const char *bdf, unsigned int id)
{
	unsigned int pos, cap, n;

	if (platform_cfg_read(bdf, 0x34, 1, &pos))
		return 0;
	for (n = 0; pos >= 0x40 && n < 48; n++) {
		if (platform_cfg_read(bdf, pos, 2, &cap))
			return 0;
		if ((cap & 0xff) == id)
			return pos;
		pos = cap >> 8 & 0xfc;
	}
	return 0;
}

/* TOTAL_ERR_* of aer_dev_@kind ("correctable", "nonfatal", "fatal"), or -1. */
static inline long platform_aer_count(const char *bdf, const char *kind)
{
	const char *key = !strcmp(kind, "correctable") ? "TOTAL_ERR_COR" :
			  !strcmp(kind, "nonfatal") ? "TOTAL_ERR_NONFATAL" : "TOTAL_ERR_FATAL";
	char path[300], name[64];
	long val, found = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/aer_dev_%s", bdf, kind);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", name, &val) == 2)
		if (!strcmp(name, key))
			found = val;
	fclose(f);
	return found;
}

/*
 * The root port's count of received errors (aer_rootport_total_err_@kind:
 * "cor", "nonfatal", "fatal"), or -1.
 */
static inline long platform_aer_port_count(const char *port, const char *kind)
{
	char path[512];
	unsigned long val;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/aer_rootport_total_err_%s",
		 port, kind);
	return sysfs_read_hex(path, &val) ? -1 : (long)val;
}

/* BDF of the root port above @pf; 0 or -1. */
static inline int platform_nvme_port(const char *pf, char *bdf, size_t len)
{
	char path[300], real[PATH_MAX], *slash;
	size_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", pf);
	if (!realpath(path, real))
		return -1;
	slash = strrchr(real, '/');
	if (!slash)
		return -1;
	*slash = 0;
	slash = strrchr(real, '/');
	slash = slash ? slash + 1 : real;
	n = strlen(slash);
	if (n >= len)
		return -1;
	memcpy(bdf, slash, n + 1);
	return 0;
}

/*
 * Ask the host to inject AER error @err (a pcie_aer_inject_error name such as
 * "COMP_TIME") into the QEMU device @qemu_id (PLATFORM_PORT_QEMU_ID: QEMU 7.2
 * forwards only uncorrectable errors, and only from the root port). 0 injected, 1 refused,
 * 2 no answer in time (host.sh's HOST_TIMEOUT), -1 could not ask. The host's
 * answer is printed as a TAP comment.
 */
static inline int platform_host_aer(const char *qemu_id, const char *err)
{
	char cmd[256];
	int st;

	if (strpbrk(qemu_id, "'\"\\ ;") || strpbrk(err, "'\"\\ ;"))
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "sh -c '. /lib/cchost/host.sh && r=$(host_aer %s %s); s=$?; echo \"# host: $r\"; exit $s'",
		 qemu_id, err);
	fflush(stdout);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

#endif /* CCHOST_PLATFORM_H */

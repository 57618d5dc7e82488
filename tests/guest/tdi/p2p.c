// SPDX-License-Identifier: GPL-2.0-only
/*
 * Peer-to-peer routes of shared DMA-BUFs, with real PCI devices: two NVMe
 * controllers behind one PCIe switch (QEMU_P2P_DEVICES of scripts/qemu.sh),
 * the first bound to tdi_dmabuf, the second importing through
 * tdi_test_importer, which attaches on behalf of any device.
 *  - Where the kernel has CONFIG_PCI_P2PDMA (Debian's 7.x), the switch peer
 *    gets PCI bus addresses: on x86 the BAR's own addresses, although the
 *    guest has an IOMMU (a host-bridge route would get IOVAs), cut at the
 *    importer's max segment size. Where it has not (6.1, the debug kernel),
 *    the kernel vouches for no route and the map is refused (EOPNOTSUPP).
 *  - A device on another root port of QEMU's host bridge (not on the
 *    kernel's list) and a device that is not PCI are refused everywhere.
 *  - A reset of the exporting device (FLR) revokes with the importer
 *    attached: when VFIO_DEVICE_RESET returns, the importer was told and
 *    holds no mapping, and mapping again is refused (ENODEV).
 */
#include "platform.h"
#include "tdi_test.h"

#define IMP_CTL		"/sys/kernel/debug/tdi_test_importer/ctl"
#define IMP_STATE	"/sys/kernel/debug/tdi_test_importer/state"
#define SEG		4096u

/* Write one importer command; 0 or -errno. */
static int imp(const char *fmt, ...)
{
	char cmd[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return sysfs_write(IMP_CTL, cmd) ? -errno : 0;
}

/* Value of key @key of the importer's state, or -1000. */
static long long imp_val(const char *key)
{
	char line[256];
	long long v = -1000;
	size_t n = strlen(key);
	FILE *f = fopen(IMP_STATE, "r");

	if (!f)
		return v;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ' ') {
			v = strtoll(line + n + 1, NULL, 0);
			break;
		}
	fclose(f);
	return v;
}

/* Entry @i of the importer's mapping; 0 or -1. */
static int imp_sg(unsigned int i, unsigned long long *addr, unsigned long long *len)
{
	char line[256];
	unsigned int idx;
	int ret = -1;
	FILE *f = fopen(IMP_STATE, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "sg %u %llx %llx", &idx, addr, len) == 3 && idx == i) {
			ret = 0;
			break;
		}
	fclose(f);
	return ret;
}

/* The two NVMe controllers without SR-IOV (behind the switch), sorted. */
static int switch_pair(char *a, char *b, size_t len)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char path[300];

		if (!platform_is_nvme(e->d_name))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/sriov_totalvfs", e->d_name);
		if (!access(path, F_OK))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/physfn", e->d_name);
		if (!access(path, F_OK))
			continue;
		snprintf(n ? b : a, len, "%.60s", e->d_name);
		if (++n == 2)
			break;
	}
	closedir(d);
	if (n != 2)
		return -1;
	if (strcmp(a, b) > 0) {
		char t[64];

		snprintf(t, sizeof(t), "%.60s", a);
		snprintf(a, len, "%.60s", b);
		snprintf(b, len, "%.60s", t);
	}
	return 0;
}

/* Host physical start of BAR0 of @bdf (first line of its resource file). */
static int bar0_start(const char *bdf, unsigned long long *start)
{
	char path[300];
	unsigned long long end, flags;
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", bdf);
	f = fopen(path, "r");
	if (!f)
		return -1;
	ret = fscanf(f, "%llx %llx %llx", start, &end, &flags) == 3 ? 0 : -1;
	fclose(f);
	return ret;
}

int main(void)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = VFIO_PCI_BAR0_REGION_INDEX };
	char exp[64], peer[64], root_dev[256];
	unsigned long long start = 0, addr, len;
	long long notified, mapped, map_ret;
	struct tdi_dmabuf_get_ranges gr;
	struct tdi_dmabuf_range r[4];
	int shared = -1, p2p, x;
	unsigned int i, n;
	struct tdi_env e;

	memset(&e, 0, sizeof(e));
	e.group = -1;
	e.container = -1;
	e.dev = -1;
	if (!ok(switch_pair(exp, peer, sizeof(exp)) == 0,
		"two NVMe controllers behind the switch: %s exports, %s imports", exp, peer))
		return tap_done();
	if (tdi_setup_bdf(&e, exp, "the exporting NVMe", 0))
		goto out;
	if (!ok(tdi_open_dev(&e, exp) >= 0, "VFIO device fd of %s", exp))
		goto out;
	x = ioctl(e.dev, VFIO_DEVICE_GET_REGION_INFO, &ri) == 0 && ri.size >= 4 * SEG &&
	    bar0_start(exp, &start) == 0 && start;
	if (!ok(x, "BAR0 of %#llx bytes at %#llx", (unsigned long long)ri.size, start))
		goto out;
	shared = tdi_get_dmabuf(e.dev, 0, TDI_DMABUF_KIND_SHARED, NULL);
	if (!ok(shared >= 0, "shared DMA-BUF of BAR0 (unbound: the whole BAR)"))
		goto out;
	if (!ok(modload("tdi_test_importer") == 0, "modload tdi_test_importer"))
		goto out;
	p2p = imp_val("p2pdma");
	diag("kernel built %s CONFIG_PCI_P2PDMA", p2p == 1 ? "with" : "without");

	x = imp("import %d %s %u", shared, peer, SEG);
	ok(x == 0, "the switch peer attached (%s)", x ? strerror(-x) : "ok");
	map_ret = imp_val("map_ret");
	if (p2p == 1) {
		long long nents = imp_val("nents");

		n = ri.size / SEG;
		ok(map_ret == 0 && nents == n,
		   "  mapped: %u entries of its %u-byte max segment (map_ret %lld, nents %lld)",
		   n, SEG, map_ret, nents);
		for (i = 0, x = 1; i < n && i < 16; i++)
			x = x && !imp_sg(i, &addr, &len) && addr == start + i * SEG && len == SEG;
		ok(x, "  each entry the BAR's bus address (no IOMMU mapping, bus = host on x86)");
	} else {
		ok(map_ret == -EOPNOTSUPP && imp_val("mapped") == 0,
		   "  no CONFIG_PCI_P2PDMA: no route, the map refused with EOPNOTSUPP (map_ret %lld)",
		   map_ret);
	}

	/* A reset of the exporter revokes with the importer attached. */
	x = ioctl(e.dev, VFIO_DEVICE_RESET);
	ok(x == 0, "VFIO_DEVICE_RESET of %s (FLR): %s", exp, x ? strerror(errno) : "done");
	notified = imp_val("notified");
	mapped = imp_val("mapped");
	ok(notified == 1 && mapped == 0,
	   "  when it returned, the importer was told once and holds no mapping (notified %lld, mapped %lld)",
	   notified, mapped);
	x = imp("remap");
	map_ret = imp_val("map_ret");
	ok(x == 0 && map_ret == -ENODEV, "  mapping again is refused: ENODEV (map_ret %lld)",
	   map_ret);
	ok(tdi_ranges(e.dev, shared, r, 4, &gr) == 0 && gr.revoked, "  GET_RANGES: revoked");
	imp("detach");
	close(shared);
	shared = tdi_get_dmabuf(e.dev, 0, TDI_DMABUF_KIND_SHARED, NULL);
	ok(shared >= 0 && tdi_state_of(e.dev) == TDI_DMABUF_STATE_UNBOUND,
	   "a new shared DMA-BUF after the reset (the TDI stays unbound)");

	/* No route: a device on another root port, a device that is not PCI. */
	if (ok(platform_nvme_pf(root_dev, sizeof(root_dev)) == 0 && shared >= 0,
	       "a device on another root port: the NVMe PF %s", root_dev)) {
		x = imp("import %d %s 0", shared, root_dev);
		map_ret = imp_val("map_ret");
		ok(x == 0 && map_ret == -EOPNOTSUPP && imp_val("mapped") == 0,
		   "  attached, but its map is refused: EOPNOTSUPP (map_ret %lld)", map_ret);
		imp("detach");
	}
	if (shared >= 0) {
		x = imp("import %d - 0", shared);
		map_ret = imp_val("map_ret");
		ok(x == 0 && map_ret == -EOPNOTSUPP && imp_val("mapped") == 0,
		   "a device that is not PCI: its map is refused, EOPNOTSUPP (map_ret %lld)",
		   map_ret);
		imp("detach");
	}
	ok(modload("-r tdi_test_importer") == 0, "unload tdi_test_importer");
out:
	if (shared >= 0)
		close(shared);
	tdi_teardown(&e, 0);
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Power management on the NVMe PF: it has a PM capability, PMCSR takes
 * D3hot and reads it back, and D0 again; and the kernel itself moves it to
 * D3hot when vfio-pci holds it unused (runtime PM), back to D0 on release.
 * edu, the other test device, has no PM capability.
 */
#include <fcntl.h>
#include <time.h>

#include "tap.h"
#include "platform.h"

#define PCI_CAP_ID_PM		0x01
#define PCI_PM_CTRL		4
#define PCI_PM_STATE_MASK	3

static int read_power_state(const char *bdf, char *buf, size_t len)
{
	char path[300];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/power_state", bdf);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return n > 0 ? 0 : -1;
}

/* Wait up to @secs for power_state to read @want. */
static int wait_power_state(const char *bdf, const char *want, int secs, char *buf, size_t len)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	int i;

	for (i = 0; i < secs * 10; i++) {
		if (read_power_state(bdf, buf, len) == 0 && !strcmp(buf, want))
			return 0;
		nanosleep(&ts, NULL);
	}
	return -1;
}

int main(void)
{
	char pf[256], path[300], rt[300], st[32] = "";
	unsigned int pmcsr = ~0u, v = ~0u;
	int pm;

	if (!ok(platform_nvme_pf(pf, sizeof(pf)) == 0, "NVMe PF present"))
		return tap_done();
	pm = platform_find_cap(pf, PCI_CAP_ID_PM);
	if (!ok(pm != 0, "the PF has a PM capability (at 0x%x)", pm))
		return tap_done();
	platform_cfg_read(pf, pm + PCI_PM_CTRL, 2, &pmcsr);
	ok((pmcsr & PCI_PM_STATE_MASK) == 0, "PMCSR reads D0 at first (0x%04x)", pmcsr);

	platform_cfg_write(pf, pm + PCI_PM_CTRL, 2, (pmcsr & ~PCI_PM_STATE_MASK) | 3);
	platform_cfg_read(pf, pm + PCI_PM_CTRL, 2, &v);
	ok((v & PCI_PM_STATE_MASK) == 3, "PMCSR reads D3hot after writing D3hot (0x%04x)", v);
	platform_cfg_write(pf, pm + PCI_PM_CTRL, 2, pmcsr & ~PCI_PM_STATE_MASK);
	v = ~0u;
	platform_cfg_read(pf, pm + PCI_PM_CTRL, 2, &v);
	ok((v & PCI_PM_STATE_MASK) == 0, "PMCSR reads D0 after writing D0 (0x%04x)", v);

	/* The kernel's own D3hot entry: vfio-pci suspends an unused device. */
	if (!ok(system("modload vfio-pci") == 0, "modload vfio-pci"))
		return tap_done();
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", pf);
	sysfs_write(path, "vfio-pci");
	sysfs_write("/sys/bus/pci/drivers_probe", pf);
	/* Runtime PM (CONFIG_PM) is what suspends it: without it, say so. */
	snprintf(rt, sizeof(rt), "/sys/bus/pci/devices/%s/power/runtime_status", pf);
	if (access(rt, F_OK) == 0)
		ok(wait_power_state(pf, "D3hot", 10, st, sizeof(st)) == 0,
		   "vfio-pci put the unused PF into D3hot (power_state %s)", st);
	else
		ok(1, "vfio-pci put the unused PF into D3hot %s",
		   "# SKIP kernel without runtime PM (CONFIG_PM)");
	sysfs_write("/sys/bus/pci/drivers/vfio-pci/unbind", pf);
	sysfs_write(path, "\n");
	ok(wait_power_state(pf, "D0", 10, st, sizeof(st)) == 0,
	   "the PF is back in D0 after unbinding (power_state %s)", st);
	v = ~0u;
	platform_cfg_read(pf, pm + PCI_PM_CTRL, 2, &v);
	ok((v & PCI_PM_STATE_MASK) == 0, "PMCSR agrees: D0 (0x%04x)", v);
	ok(system("modload -r vfio_pci vfio_pci_core vfio_iommu_type1") == 0,
	   "unload vfio modules");
	system("modload -r vfio_virqfd irqbypass >/dev/null 2>&1; modload -r vfio >/dev/null 2>&1");
	return tap_done();
}

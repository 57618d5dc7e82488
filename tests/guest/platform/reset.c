// SPDX-License-Identifier: GPL-2.0-only
/*
 * FLR on the NVMe PF through VFIO: the PF advertises flr in reset_method,
 * vfio-pci reports that reset works, and VFIO_DEVICE_RESET with reset_method
 * restricted to flr really resets the function: the controller's interrupt
 * mask (INTMS, BAR0 + 0xc), set before, reads 0 after.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <linux/types.h>
#include <sys/ioctl.h>
#include <linux/vfio.h>

#include "tap.h"
#include "platform.h"

#define NVME_REG_INTMS		0xc
#define TYPE1_UNSAFE_IRQS	"/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"

static char pf[256];

static int sysfs_path_write(const char *fmt, const char *val)
{
	char path[300];

	snprintf(path, sizeof(path), fmt, pf);
	return sysfs_write(path, val);
}

static int bar0_rw(int dev, uint64_t bar0, int wr, uint32_t *val)
{
	ssize_t n = wr ? pwrite(dev, val, 4, bar0 + NVME_REG_INTMS) :
			 pread(dev, val, 4, bar0 + NVME_REG_INTMS);

	return n == 4 ? 0 : -1;
}

int main(void)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vfio_region_info ri = {
		.argsz = sizeof(ri), .index = VFIO_PCI_BAR0_REGION_INDEX,
	};
	char path[300], link[300], buf[128] = "";
	int container = -1, group = -1, dev = -1, fd, ret;
	uint32_t v = 0;
	ssize_t n;

	if (!ok(platform_nvme_pf(pf, sizeof(pf)) == 0, "NVMe PF present"))
		return tap_done();
	diag("PF at %s", pf);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset_method", pf);
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = 0;
		close(fd);
	}
	ok(!!strstr(buf, "flr"), "reset_method of the PF has flr (%.*s)",
	   (int)strcspn(buf, "\n"), buf);

	if (!ok(system("modload vfio-pci") == 0, "modload vfio-pci"))
		return tap_done();
	sysfs_write(TYPE1_UNSAFE_IRQS, "1");
	sysfs_path_write("/sys/bus/pci/devices/%s/driver_override", "vfio-pci");
	sysfs_write("/sys/bus/pci/drivers_probe", pf);
	/* only FLR may reset the function from here on */
	ok(sysfs_path_write("/sys/bus/pci/devices/%s/reset_method", "flr") == 0,
	   "reset_method restricted to flr");

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", pf);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	snprintf(path, sizeof(path), "/dev/vfio/%s", n > 0 ? strrchr(link, '/') + 1 : "none");
	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	group = open(path, O_RDWR | O_CLOEXEC);
	if (!ok(container >= 0 && group >= 0, "PF bound to vfio-pci: open %s", path))
		goto out;
	ret = ioctl(group, VFIO_GROUP_GET_STATUS, &gs);
	if (!ok(ret == 0 && (gs.flags & VFIO_GROUP_FLAGS_VIABLE), "the PF's group is viable"))
		goto out;
	ret = ioctl(group, VFIO_GROUP_SET_CONTAINER, &container);
	if (!ret)
		ret = ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
	if (!ok(ret == 0, "container with a type1v2 IOMMU: %s", ret ? strerror(errno) : "ok"))
		goto out;
	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, pf);
	if (!ok(dev >= 0, "VFIO device fd of the PF: %s", dev >= 0 ? "ok" : strerror(errno)))
		goto out;
	ret = ioctl(dev, VFIO_DEVICE_GET_INFO, &di);
	ok(ret == 0 && (di.flags & VFIO_DEVICE_FLAGS_RESET),
	   "VFIO_DEVICE_GET_INFO: reset supported (flags 0x%x)", di.flags);
	ret = ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &ri);
	if (!ok(ret == 0 && ri.size >= 0x1000, "BAR0 region (0x%llx bytes)",
		(unsigned long long)ri.size))
		goto out;

	v = 1;
	bar0_rw(dev, ri.offset, 1, &v);
	v = 0;
	ret = bar0_rw(dev, ri.offset, 0, &v);
	ok(ret == 0 && (v & 1), "INTMS bit 0 reads 1 after setting it (0x%x)", v);
	ret = ioctl(dev, VFIO_DEVICE_RESET);
	ok(ret == 0, "VFIO_DEVICE_RESET (FLR) succeeds: %s", ret ? strerror(errno) : "ok");
	v = ~0u;
	ret = bar0_rw(dev, ri.offset, 0, &v);
	ok(ret == 0 && v == 0, "INTMS reads 0 after the reset: the function was reset (0x%x)", v);
out:
	if (dev >= 0)
		close(dev);
	if (group >= 0)
		close(group);
	if (container >= 0)
		close(container);
	ok(sysfs_path_write("/sys/bus/pci/devices/%s/reset_method", "default") == 0,
	   "reset_method back to default");
	sysfs_write("/sys/bus/pci/drivers/vfio-pci/unbind", pf);
	sysfs_path_write("/sys/bus/pci/devices/%s/driver_override", "\n");
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", pf);
	ok(access(path, F_OK) != 0, "PF unbound from vfio-pci");
	ok(system("modload -r vfio_pci vfio_pci_core vfio_iommu_type1") == 0,
	   "unload vfio modules");
	system("modload -r vfio_virqfd irqbypass >/dev/null 2>&1; modload -r vfio >/dev/null 2>&1");
	return tap_done();
}

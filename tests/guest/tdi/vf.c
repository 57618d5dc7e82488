// SPDX-License-Identifier: GPL-2.0-only
/*
 * tdi_dmabuf on an SR-IOV VF: the first VF of the NVMe PF, created through
 * vfio-pci (enable_sriov=1) on the PF (opened first, to set the VF token
 * the VF then opens with), taken from vfio-pci (which claims the VFs of its
 * PFs) and bound to tdi_dmabuf, served by the fake provider (BAR0: first
 * half shared, second half private). A VF has no
 * memory-space bit of its own (pdev->no_command_memory; real VFs read it as
 * 0); vfio-pci keeps a virtual one, set at open, and that is the bit that
 * counts. Checked:
 *  - BIND, GET_DMABUF, mmap of the shared DMA-BUF and a read through it,
 *    with the VF's physical memory bit cleared as real VFs have it;
 *  - a command write that keeps memory decode (bus master on) changes
 *    nothing;
 *  - a command write that clears memory decode revokes the DMA-BUF (state
 *    error, cause memory, the mapping faults) and GET_DMABUF fails with EIO
 *    until it is set again;
 *  - a PMCSR write to D3hot revokes, GET_DMABUF fails with EIO until D0;
 *  - VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY revokes, GET_DMABUF fails with EIO
 *    until LOW_POWER_EXIT.
 * At exit the VF is unbound, the VFs removed and the PF unbound.
 */
#include "platform.h"
#include "tdi_test.h"

#define PCI_CAP_ID_PM		0x01
#define PCI_PM_CTRL		4
#define CMD_MEMORY		0x2
#define CMD_MASTER		0x4
/* The VF token shared by the PF (it sets it) and the VF (it proves it). */
#define VF_TOKEN		"2f1c0d6e-93a4-4c55-8b1e-7d2a6c9e0b31"

static struct vfio_region_info cfg;

/* The PF in vfio-pci, open in a container of its own. */
struct pf_env {
	int container;
	int group;
	int dev;
};

/*
 * A VF of a vfio-pci PF opens only with the PF's VF token, which opening
 * the PF with one sets while no VF is open. Done before the VFs exist:
 * vfio-pci resets the PF at open, and a PF reset takes its VFs away
 * (QEMU's VFs read all ones after it). 0 or -1.
 */
static int open_pf_with_token(const char *pf, struct pf_env *p)
{
	char path[512], name[400];

	if (vfio_group_path(pf, path, sizeof(path)))
		return -1;
	p->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	p->group = open(path, O_RDWR | O_CLOEXEC);
	if (p->container < 0 || p->group < 0 ||
	    ioctl(p->group, VFIO_GROUP_SET_CONTAINER, &p->container) ||
	    ioctl(p->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return -1;
	snprintf(name, sizeof(name), "%s vf_token=%s", pf, VF_TOKEN);
	p->dev = ioctl(p->group, VFIO_GROUP_GET_DEVICE_FD, name);
	return p->dev >= 0 ? 0 : -1;
}

static void close_pf(struct pf_env *p)
{
	if (p->dev >= 0)
		close(p->dev);
	if (p->group >= 0)
		close(p->group);
	if (p->container >= 0)
		close(p->container);
	p->dev = -1;
	p->group = -1;
	p->container = -1;
}

static int region_info(int dev, unsigned int index, struct vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = index;
	return ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, ri);
}

/* Config space as the VFIO user sees it (vfio-pci's virtual view). */
static int cfg_read16(int dev, unsigned int off, __u16 *v)
{
	return pread(dev, v, 2, cfg.offset + off) == 2 ? 0 : -1;
}

static int cfg_write16(int dev, unsigned int off, __u16 v)
{
	return pwrite(dev, &v, 2, cfg.offset + off) == 2 ? 0 : -1;
}

/* Offset of capability @id in the VFIO config region, 0 if none. */
static unsigned int vfio_find_cap(int dev, unsigned int id)
{
	__u8 pos = 0;
	__u16 cap;
	int n;

	if (pread(dev, &pos, 1, cfg.offset + 0x34) != 1)
		return 0;
	for (n = 0; pos >= 0x40 && n < 48; n++) {
		if (cfg_read16(dev, pos & ~3u, &cap))
			return 0;
		if ((cap & 0xff) == id)
			return pos & ~3u;
		pos = cap >> 8;
	}
	return 0;
}

static int feature_set(int dev, __u32 feature)
{
	struct vfio_device_feature f = {
		.argsz = sizeof(f), .flags = VFIO_DEVICE_FEATURE_SET | feature,
	};

	return ioctl(dev, VFIO_DEVICE_FEATURE, &f);
}

static int revoked(int dev, int fd)
{
	struct tdi_dmabuf_get_ranges gr;
	struct tdi_dmabuf_range r[4];

	return tdi_ranges(dev, fd, r, 4, &gr) == 0 && gr.revoked;
}

/* Bound and running with a mapped shared DMA-BUF: its fd, -1. */
static int bind_and_map(struct tdi_env *e, void **map, __u64 *size, const char *when)
{
	struct tdi_dmabuf_get_dmabuf g;
	int fd, ret, err, state;
	__u32 v;

	*map = MAP_FAILED;
	ret = tdi_bind(e->dev);
	err = errno;
	state = tdi_state_of(e->dev);
	if (!ok(ret == 0 && state == TDI_DMABUF_STATE_RUN, "%s: BIND on the VF: state %s (%s)",
		when, tdi_state_name(state), ret ? strerror(err) : "ok"))
		return -1;
	fd = tdi_get_dmabuf(e->dev, 0, TDI_DMABUF_KIND_SHARED, &g);
	err = errno;
	if (!ok(fd >= 0, "%s: GET_DMABUF shared (%s)", when, fd < 0 ? strerror(err) : "ok"))
		return -1;
	*size = g.size;
	*map = mmap(NULL, g.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ok(*map != MAP_FAILED && read32_or_sigbus(*map, &v) == 0,
	   "%s: the shared DMA-BUF maps and reads (%#llx bytes)", when,
	   (unsigned long long)g.size);
	return fd;
}

/* After an event that takes MMIO away: revoked, error/memory, faults, EIO. */
static void expect_revoked(struct tdi_env *e, int fd, void *map, const char *what)
{
	struct tdi_dmabuf_state st;
	int got;
	__u32 v;

	ok(revoked(e->dev, fd), "%s revoked the shared DMA-BUF", what);
	got = tdi_state(e->dev, &st) == 0;
	ok(got && st.state == TDI_DMABUF_STATE_ERROR && st.cause == TDI_DMABUF_CAUSE_MEMORY,
	   "%s: state %s, cause %u (want error, memory)", what,
	   got ? tdi_state_name(st.state) : "?", got ? st.cause : 0);
	ok(map == MAP_FAILED || read32_or_sigbus(map, &v) == -1,
	   "%s: the DMA-BUF mapping faults (SIGBUS)", what);
	ok_errno(tdi_get_dmabuf(e->dev, 0, TDI_DMABUF_KIND_SHARED, NULL), EIO,
		 "%s: no new DMA-BUF (EIO)", what);
}

static void drop(int *fd, void **map, __u64 size)
{
	if (*map != MAP_FAILED)
		munmap(*map, size);
	*map = MAP_FAILED;
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* ok() of a call that sets errno: the errno is read after the call. */
#define ok_call(call, ...) do {						\
	int __ret = (call), __err = errno;				\
	if (!ok(__ret == 0, __VA_ARGS__))				\
		printf("#   %s\n", strerror(__err));			\
} while (0)

int main(void)
{
	char pf[256], vf[256] = "", path[512], name[400];
	struct pf_env p = { .container = -1, .group = -1, .dev = -1 };
	struct tdi_env e = { .group = -1, .container = -1, .dev = -1 };
	struct vfio_region_info bar0;
	unsigned int pm, half;
	__u16 cmd = 0, pmcsr = 0, v16 = 0;
	unsigned int phys = 0;
	void *map = MAP_FAILED;
	__u64 size = 0;
	int fd = -1, x;
	__u32 v;

	if (!ok(platform_nvme_pf(pf, sizeof(pf)) == 0, "NVMe PF present"))
		return tap_done();

	/* The PF in vfio-pci, open with the VF token; then one VF. */
	if (!ok(modload("vfio-pci enable_sriov=1") == 0, "modload vfio-pci enable_sriov=1"))
		return tap_done();
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", pf);
	sysfs_write(path, "vfio-pci");
	sysfs_write("/sys/bus/pci/drivers_probe", pf);
	sysfs_write(TYPE1_UNSAFE_IRQS, "1");
	x = open_pf_with_token(pf, &p);
	if (!ok(x == 0, "PF %s open in vfio-pci with a VF token", pf))
		goto out;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/sriov_drivers_autoprobe", pf);
	sysfs_write(path, "0");
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/sriov_numvfs", pf);
	x = sysfs_write(path, "1") == 0 && platform_nvme_vf(pf, 0, vf, sizeof(vf)) == 0;
	if (!ok(x, "vfio-pci on the PF created a VF (%s)", vf))
		goto out;
	/* vfio-pci sets a new VF's driver_override to itself, so it took it. */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", vf);
	if (access(path, F_OK) == 0)
		sysfs_write(path, vf);
	if (tdi_setup_bdf(&e, vf, "the VF", 1))
		goto out;
	snprintf(name, sizeof(name), "%s vf_token=%s", vf, VF_TOKEN);
	x = tdi_open_dev(&e, name);
	if (!ok(x >= 0, "VFIO device fd of the VF %s", vf))
		goto out;
	x = region_info(e.dev, VFIO_PCI_CONFIG_REGION_INDEX, &cfg) == 0 &&
	    region_info(e.dev, VFIO_PCI_BAR0_REGION_INDEX, &bar0) == 0;
	if (!ok(x && bar0.size >= 0x2000, "VF BAR0 of %#llx bytes",
		x ? (unsigned long long)bar0.size : 0ULL))
		goto out;
	half = bar0.size / 2;
	x = !fake("add %s", vf) && !fake("range %s 0 0x0 %u 0x4", vf, half / 4096) &&
	    !fake("range %s 0 %#x %u 0x0", vf, half, half / 4096);
	ok(x, "fake provider serves the VF (BAR0 [0, %#x) shared, the rest private)", half);
	x = cfg_read16(e.dev, 4, &cmd) == 0;
	ok(x && (cmd & CMD_MEMORY), "vfio-pci shows the VF's memory decode on (command %#x)", cmd);
	/*
	 * Real VFs hard-wire the physical memory bit to 0; QEMU 7.2's keeps
	 * what the kernel wrote at enable. Clear it behind vfio-pci's back,
	 * as on hardware: nothing below may depend on it.
	 */
	x = platform_cfg_read(vf, 4, 2, &phys) == 0 &&
	    platform_cfg_write(vf, 4, 2, phys & ~CMD_MEMORY) == 0 &&
	    platform_cfg_read(vf, 4, 2, &phys) == 0;
	ok(x && !(phys & CMD_MEMORY),
	   "the VF's physical memory bit cleared, as real VFs hard-wire it (%#x)", phys);

	/* Memory decode as vfio-pci sees it, not the physical register. */
	fd = bind_and_map(&e, &map, &size, "memory decode on");
	ok_call(cfg_write16(e.dev, 4, cmd | CMD_MASTER), "command write: bus master on");
	x = tdi_state_of(e.dev);
	ok(fd >= 0 && !revoked(e.dev, fd) && x == TDI_DMABUF_STATE_RUN,
	   "a command write that keeps memory decode revokes nothing (state %s)",
	   tdi_state_name(x));
	ok(map != MAP_FAILED && read32_or_sigbus(map, &v) == 0, "the mapping still reads");
	ok_call(cfg_write16(e.dev, 4, (cmd | CMD_MASTER) & ~CMD_MEMORY),
		"command write: memory decode off");
	expect_revoked(&e, fd, map, "memory decode off");
	ok_call(cfg_write16(e.dev, 4, cmd | CMD_MEMORY), "command write: memory decode on");
	drop(&fd, &map, size);
	ok_call(tdi_unbind(e.dev), "UNBIND from error");
	x = tdi_state_of(e.dev);
	ok(x == TDI_DMABUF_STATE_UNBOUND, "unbound (%s)", tdi_state_name(x));

	/* D3hot through PMCSR, if the VF has a PM capability. */
	pm = vfio_find_cap(e.dev, PCI_CAP_ID_PM);
	if (!pm)
		diag("the VF has no PM capability: no PMCSR points");
	if (pm) {
		fd = bind_and_map(&e, &map, &size, "D0");
		x = cfg_read16(e.dev, pm + PCI_PM_CTRL, &pmcsr) == 0;
		ok(x && !(pmcsr & 3), "PMCSR reads D0 (%#x)", pmcsr);
		ok_call(cfg_write16(e.dev, pm + PCI_PM_CTRL, (pmcsr & ~3) | 3),
			"PMCSR write: D3hot");
		x = cfg_read16(e.dev, pm + PCI_PM_CTRL, &v16) == 0;
		ok(x && (v16 & 3) == 3, "PMCSR reads D3hot (%#x)", v16);
		expect_revoked(&e, fd, map, "D3hot");
		ok_call(cfg_write16(e.dev, pm + PCI_PM_CTRL, pmcsr & ~3), "PMCSR write: D0");
		drop(&fd, &map, size);
		ok_call(tdi_unbind(e.dev), "UNBIND from error after D3hot");
		fd = tdi_get_dmabuf(e.dev, 0, TDI_DMABUF_KIND_SHARED, NULL);
		x = errno;
		ok(fd >= 0, "back in D0: GET_DMABUF works (%s)", fd < 0 ? strerror(x) : "ok");
		drop(&fd, &map, size);
	}

	/* Runtime low power through VFIO_DEVICE_FEATURE. */
	fd = bind_and_map(&e, &map, &size, "before low power");
	ok_call(feature_set(e.dev, VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY),
		"VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY");
	expect_revoked(&e, fd, map, "low-power entry");
	ok_call(feature_set(e.dev, VFIO_DEVICE_FEATURE_LOW_POWER_EXIT),
		"VFIO_DEVICE_FEATURE_LOW_POWER_EXIT");
	drop(&fd, &map, size);
	ok_call(tdi_unbind(e.dev), "UNBIND from error after low power");
	fd = bind_and_map(&e, &map, &size, "after low power");
	drop(&fd, &map, size);
	ok_call(tdi_unbind(e.dev), "UNBIND");
	x = tdi_state_of(e.dev);
	ok(x == TDI_DMABUF_STATE_UNBOUND, "unbound (%s)", tdi_state_name(x));
	fake("del %s", vf);
out:
	drop(&fd, &map, size);
	/* The VF, then the VFs, then the PF (its reset takes the VFs away). */
	tdi_teardown(&e, 1);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/sriov_numvfs", pf);
	x = sysfs_write(path, "0");
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", vf);
	ok(x == 0 && (!vf[0] || access(path, F_OK)), "VFs removed");
	close_pf(&p);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/sriov_drivers_autoprobe", pf);
	sysfs_write(path, "1");
	sysfs_write("/sys/bus/pci/drivers/vfio-pci/unbind", pf);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", pf);
	sysfs_write(path, "\n");
	ok(system("modload -r vfio_pci vfio_pci_core vfio_iommu_type1") == 0,
	   "unload vfio modules");
	system("modload -r vfio_virqfd irqbypass >/dev/null 2>&1; modload -r vfio >/dev/null 2>&1");
	return tap_done();
}

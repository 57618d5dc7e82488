// SPDX-License-Identifier: GPL-2.0-only
/*
 * Private MMIO is reachable only through the private DMA-BUF. On edu with
 * the fake provider (BAR0: shared [0,64K), private [64K,132K)):
 *  - unbound, the VFIO region offers all of BAR0 (mmap, read, write,
 *    ioeventfd), as vfio-pci does; BIND is refused while an ioeventfd is
 *    registered;
 *  - a BAR0 mapping made before BIND no longer reaches BAR0 once bound:
 *    either BIND is refused with EBUSY while the mapping exists, or the
 *    mapping is zapped and a later access to a private page faults
 *    (SIGBUS), and VFIO_IOMMU_MAP_DMA of that private page fails;
 *  - bound, mmap/read/write/ioeventfd of a private offset through the
 *    VFIO region fail with EACCES, shared offsets keep working;
 *  - in ERROR after a failed provider unbind the shared DMA-BUF still
 *    covers only the report's shared pages and the region stays closed;
 *  - once the provider let go, everything is open again.
 */
#include <sys/eventfd.h>

#include "tdi_test.h"

#define PRIV_OFF	0x10000u

static int bar0_region(int dev, struct vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = VFIO_PCI_BAR0_REGION_INDEX;
	return ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, ri);
}

static int ioeventfd(int dev, __u64 offset, int fd)
{
	struct vfio_device_ioeventfd ie = {
		.argsz = sizeof(ie), .flags = VFIO_DEVICE_IOEVENTFD_32,
		.offset = offset, .data = 0x1234, .fd = fd,
	};

	return ioctl(dev, VFIO_DEVICE_IOEVENTFD, &ie);
}

/* Every host path of the VFIO region to BAR0 offset @off: 0 = all refused. */
static void expect_region_closed(struct tdi_env *e, const struct vfio_region_info *ri,
				 const char *when)
{
	__u32 v = 0;
	void *p;
	int efd = eventfd(0, EFD_CLOEXEC);

	ok_errno(pread(e->dev, &v, 4, ri->offset + PRIV_OFF) == 4 ? 0 : -1, EACCES,
		 "%s: read(2) of a private BAR0 offset refused", when);
	ok_errno(pwrite(e->dev, &v, 4, ri->offset + PRIV_OFF) == 4 ? 0 : -1, EACCES,
		 "%s: write(2) to a private BAR0 offset refused", when);
	p = mmap(NULL, EDU_BAR0_SIZE, PROT_READ, MAP_SHARED, e->dev, ri->offset);
	ok_errno(p == MAP_FAILED ? -1 : 0, EACCES, "%s: mmap of all of BAR0 refused", when);
	if (p != MAP_FAILED)
		munmap(p, EDU_BAR0_SIZE);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, e->dev, ri->offset + PRIV_OFF);
	ok_errno(p == MAP_FAILED ? -1 : 0, EACCES, "%s: mmap of a private page refused", when);
	if (p != MAP_FAILED)
		munmap(p, 4096);
	ok_errno(ioeventfd(e->dev, ri->offset + PRIV_OFF, efd), EACCES,
		 "%s: ioeventfd on a private offset refused", when);
	close(efd);
}

int main(void)
{
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	struct tdi_dmabuf_get_dmabuf g;
	struct vfio_region_info ri;
	struct tdi_dmabuf_state st;
	struct tdi_env e;
	void *old, *p;
	int efd, fd, ret;
	__u32 v = 0;

	if (tdi_setup(&e, 1))
		goto out;
	ok(fake_setup_edu(e.bdf) == 0, "fake provider serves %s", e.bdf);
	if (!ok(bar0_region(e.dev, &ri) == 0 && ri.size == EDU_BAR0_SIZE, "BAR0 region info"))
		goto out;

	/* Unbound: vfio-pci unchanged. */
	ok(pread(e.dev, &v, 4, ri.offset + PRIV_OFF) == 4,
	   "unbound: read(2) of BAR0 offset %#x works", PRIV_OFF);
	efd = eventfd(0, EFD_CLOEXEC);
	ok(ioeventfd(e.dev, ri.offset + PRIV_OFF, efd) == 0, "unbound: ioeventfd on BAR0 works");
	ok_errno(tdi_bind(e.dev), EBUSY, "bind refused (EBUSY) while an ioeventfd is registered");
	ok(ioeventfd(e.dev, ri.offset + PRIV_OFF, -1) == 0, "unbound: ioeventfd removed");
	close(efd);
	old = mmap(NULL, EDU_BAR0_SIZE, PROT_READ, MAP_SHARED, e.dev, ri.offset);
	if (!ok(old != MAP_FAILED, "unbound: mmap all of BAR0"))
		goto out;
	ok(read32_or_sigbus(old, &v) == 0 && v == EDU_ID, "unbound: BAR0 mapping reads the ID");
	ok(read32_or_sigbus((char *)old + PRIV_OFF, &v) == 0,
	   "unbound: BAR0 mapping reaches offset %#x", PRIV_OFF);

	/* BIND with the old mapping in place. */
	ret = tdi_bind(e.dev);
	if (ret && errno == EBUSY) {
		ok(1, "bind refused (EBUSY) while a BAR0 mapping exists");
		ok(tdi_state_of(e.dev) == TDI_DMABUF_STATE_UNBOUND, "still unbound");
		munmap(old, EDU_BAR0_SIZE);
		old = NULL;
		ret = tdi_bind(e.dev);
	}
	if (!ok(ret == 0 && tdi_state_of(e.dev) == TDI_DMABUF_STATE_RUN, "bind: state run"))
		goto out;
	if (old) {
		ok(read32_or_sigbus((char *)old + PRIV_OFF, &v) == -1,
		   "bound: the pre-bind mapping of a private page faults (SIGBUS)");
		map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
		map.vaddr = (uintptr_t)old + PRIV_OFF;
		map.iova = 0x100000;
		map.size = 4096;
		ret = ioctl(e.container, VFIO_IOMMU_MAP_DMA, &map);
		ok(ret != 0, "bound: MAP_DMA of the private page of that mapping fails (%s)",
		   ret ? strerror(errno) : "mapped");
		if (!ret) {
			struct vfio_iommu_type1_dma_unmap um = {
				.argsz = sizeof(um), .iova = map.iova, .size = map.size,
			};

			ioctl(e.container, VFIO_IOMMU_UNMAP_DMA, &um);
		}
		munmap(old, EDU_BAR0_SIZE);
	}

	expect_region_closed(&e, &ri, "run");
	v = 0;
	ok(pread(e.dev, &v, 4, ri.offset) == 4 && v == EDU_ID,
	   "run: read(2) of the shared register page works");
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, e.dev, ri.offset);
	ok(p != MAP_FAILED && read32_or_sigbus(p, &v) == 0 && v == EDU_ID,
	   "run: mmap of the shared register page works");
	if (p != MAP_FAILED)
		munmap(p, 4096);

	/* ERROR with the provider still holding the TDI. */
	fake("fault %s unbind", e.bdf);
	ok_errno(tdi_unbind(e.dev), EIO, "unbind with a failing provider: EIO");
	ok(tdi_state(e.dev, &st) == 0 && st.state == TDI_DMABUF_STATE_ERROR, "state error");
	fd = tdi_get_dmabuf(e.dev, 0, TDI_DMABUF_KIND_SHARED, &g);
	ok(fd >= 0 && g.size == 0x10000 && g.nr_ranges == 1,
	   "error: shared DMA-BUF covers only the shared pages (size %#llx, %u range)",
	   (unsigned long long)g.size, g.nr_ranges);
	if (fd >= 0)
		close(fd);
	expect_region_closed(&e, &ri, "error");

	/* The provider lets go: vfio-pci unchanged again. */
	fake("fault %s none", e.bdf);
	ok(tdi_unbind(e.dev) == 0 && tdi_state_of(e.dev) == TDI_DMABUF_STATE_UNBOUND,
	   "unbind retried: unbound");
	ok(pread(e.dev, &v, 4, ri.offset + PRIV_OFF) == 4,
	   "unbound again: read(2) of offset %#x works", PRIV_OFF);
	p = mmap(NULL, EDU_BAR0_SIZE, PROT_READ, MAP_SHARED, e.dev, ri.offset);
	ok(p != MAP_FAILED && read32_or_sigbus((char *)p + PRIV_OFF, &v) == 0,
	   "unbound again: mmap of all of BAR0 reaches offset %#x", PRIV_OFF);
	if (p != MAP_FAILED)
		munmap(p, EDU_BAR0_SIZE);
	fd = tdi_get_dmabuf(e.dev, 0, TDI_DMABUF_KIND_SHARED, &g);
	ok(fd >= 0 && g.size == EDU_BAR0_SIZE, "unbound again: shared DMA-BUF covers BAR0");
	if (fd >= 0)
		close(fd);
out:
	tdi_teardown(&e, 1);
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Plain VFIO use keeps working through the tdi_dmabuf variant driver: region
 * info and BAR0 mmap (reads the edu ID register), config space, and
 * VFIO_IOMMU_MAP_DMA with an edu DMA roundtrip (RAM -> device -> RAM,
 * 2048 bytes, bus master enabled) through the IOMMU.
 */
#include "tdi_test.h"

#define EDU_REG_ID		0x00
#define EDU_REG_LIVENESS	0x04
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_CNT		0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_DMA_RUN		0x1
#define EDU_DMA_TO_RAM		0x2
#define EDU_DMA_BUF		0x40000
#define DMA_LEN			2048
#define IOVA_SRC		0x100000
#define IOVA_DST		0x200000

static int dma_wait(void *bar)
{
	for (int i = 0; i < 2000; i++) {
		if (!(mmio_read32(bar, EDU_REG_DMA_CMD) & EDU_DMA_RUN))
			return 0;
		usleep(1000);
	}
	return -1;
}

int main(void)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = VFIO_PCI_BAR0_REGION_INDEX };
	struct vfio_region_info cfg = {
		.argsz = sizeof(cfg), .index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
	void *bar;
	__u8 *src, *dst;
	struct tdi_env e;
	__u16 cmd;
	__u32 v;
	void *p;
	int ret;

	if (tdi_setup(&e, 0))
		goto out;
	ret = ioctl(e.dev, VFIO_DEVICE_GET_INFO, &di);
	ok(ret == 0 && (di.flags & VFIO_DEVICE_FLAGS_PCI) &&
	   di.num_regions >= VFIO_PCI_NUM_REGIONS, "device info: PCI, %u regions", di.num_regions);
	ok(ioctl(e.dev, VFIO_DEVICE_GET_REGION_INFO, &ri) == 0 && ri.size == EDU_BAR0_SIZE &&
	   (ri.flags & VFIO_REGION_INFO_FLAG_MMAP), "BAR0 region: 1 MiB, mmap-able");
	p = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, e.dev, ri.offset);
	if (!ok(p != MAP_FAILED, "mmap BAR0 through the VFIO device fd"))
		goto out;
	bar = p;
	v = mmio_read32(bar, EDU_REG_ID);
	ok(v == EDU_ID, "BAR0 mapping reads the ID register (%#x)", v);
	mmio_write32(bar, EDU_REG_LIVENESS, 0x12345678);
	v = mmio_read32(bar, EDU_REG_LIVENESS);
	ok(v == ~0x12345678u, "liveness register inverts a write (%#x)", v);
	v = 0;
	ok(pread(e.dev, &v, 4, ri.offset) == 4 && v == EDU_ID, "read(2) of BAR0 reads the ID");

	ok(ioctl(e.dev, VFIO_DEVICE_GET_REGION_INFO, &cfg) == 0, "config region info");
	ok(pread(e.dev, &cmd, 2, cfg.offset + 4) == 2, "read the command register");
	cmd |= 0x4;
	ok(pwrite(e.dev, &cmd, 2, cfg.offset + 4) == 2, "set bus master");

	src = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	dst = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (int i = 0; i < DMA_LEN; i++) {
		src[i] = (__u8)(i * 7 + 3);
		dst[i] = 0;
	}
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	map.vaddr = (uintptr_t)src;
	map.iova = IOVA_SRC;
	map.size = 4096;
	ok(ioctl(e.container, VFIO_IOMMU_MAP_DMA, &map) == 0, "MAP_DMA source page");
	map.vaddr = (uintptr_t)dst;
	map.iova = IOVA_DST;
	ok(ioctl(e.container, VFIO_IOMMU_MAP_DMA, &map) == 0, "MAP_DMA destination page");

	mmio_write64(bar, EDU_REG_DMA_SRC, IOVA_SRC);
	mmio_write64(bar, EDU_REG_DMA_DST, EDU_DMA_BUF);
	mmio_write64(bar, EDU_REG_DMA_CNT, DMA_LEN);
	mmio_write64(bar, EDU_REG_DMA_CMD, EDU_DMA_RUN);
	ok(dma_wait(bar) == 0, "edu DMA RAM -> device done");
	mmio_write64(bar, EDU_REG_DMA_SRC, EDU_DMA_BUF);
	mmio_write64(bar, EDU_REG_DMA_DST, IOVA_DST);
	mmio_write64(bar, EDU_REG_DMA_CNT, DMA_LEN);
	mmio_write64(bar, EDU_REG_DMA_CMD, EDU_DMA_RUN | EDU_DMA_TO_RAM);
	ok(dma_wait(bar) == 0, "edu DMA device -> RAM done");
	ok(memcmp(src, dst, DMA_LEN) == 0, "DMA roundtrip of %d bytes through the IOMMU matches",
	   DMA_LEN);

	unmap.iova = IOVA_SRC;
	unmap.size = 4096;
	ok(ioctl(e.container, VFIO_IOMMU_UNMAP_DMA, &unmap) == 0, "UNMAP_DMA source");
	unmap.iova = IOVA_DST;
	ok(ioctl(e.container, VFIO_IOMMU_UNMAP_DMA, &unmap) == 0, "UNMAP_DMA destination");
	cmd &= ~0x4;
	pwrite(e.dev, &cmd, 2, cfg.offset + 4);
	munmap(p, ri.size);
out:
	tdi_teardown(&e, 0);
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * No device reaches gmem memory through an IOMMU mapping made from a gmem
 * mmap(): VFIO type1 builds IOMMU mappings of VM_PFNMAP memory by following
 * the page tables (and tells nobody), so such a mapping would outlive a
 * conversion to private or a punch.
 *
 * With the default mappings (VM_MIXEDMAP | VM_IO), VFIO_IOMMU_MAP_DMA of a
 * gmem mapping fails with EFAULT, for a page that is mapped and for one
 * that is not. With mmap_huge=1 (VM_PFNMAP, the documented trade-off) type1
 * does map it, and the test shows what the default prevents: an edu DMA
 * through that IOVA, made after the page was converted to private, lands in
 * the private memory (it reads back after converting to shared again, as a
 * conversion keeps contents). That half also proves the check of the first
 * half can see a DMA that lands.
 */
#include "gmem_test.h"
#include "../tdi/tdi_test.h"

#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_CNT		0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_DMA_RUN		0x1
#define EDU_DMA_TO_RAM		0x2
#define EDU_DMA_BUF		0x40000
#define DMA_LEN			2048
#define IOVA_SRC		0x100000
#define IOVA_GMEM		0x200000
#define MMAP_HUGE		"/sys/module/gmem_pfnpool/parameters/mmap_huge"

static int dma_wait(void *bar)
{
	for (int i = 0; i < 2000; i++) {
		if (!(mmio_read32(bar, EDU_REG_DMA_CMD) & EDU_DMA_RUN))
			return 0;
		usleep(1000);
	}
	return -1;
}

/* edu copies DMA_LEN bytes from IOVA_SRC into its buffer and on to @iova. */
static int edu_dma(void *bar, uint64_t iova)
{
	mmio_write64(bar, EDU_REG_DMA_SRC, IOVA_SRC);
	mmio_write64(bar, EDU_REG_DMA_DST, EDU_DMA_BUF);
	mmio_write64(bar, EDU_REG_DMA_CNT, DMA_LEN);
	mmio_write64(bar, EDU_REG_DMA_CMD, EDU_DMA_RUN);
	if (dma_wait(bar))
		return -1;
	mmio_write64(bar, EDU_REG_DMA_SRC, EDU_DMA_BUF);
	mmio_write64(bar, EDU_REG_DMA_DST, iova);
	mmio_write64(bar, EDU_REG_DMA_CNT, DMA_LEN);
	mmio_write64(bar, EDU_REG_DMA_CMD, EDU_DMA_RUN | EDU_DMA_TO_RAM);
	return dma_wait(bar);
}

static int map_dma(int container, void *vaddr, uint64_t iova)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = 4096,
	};

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &map);
}

static void unmap_dma(int container, uint64_t iova)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .iova = iova, .size = 4096,
	};

	ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap);
}

/* Bytes of @p equal to the pattern the edu DMA writes. */
static int count_dma_pattern(const uint8_t *p)
{
	int n = 0;

	for (int i = 0; i < DMA_LEN; i++)
		n += p[i] == (uint8_t)(i * 13 + 5);
	return n;
}

int main(void)
{
	struct vfio_region_info ri = {
		.argsz = sizeof(ri), .index = VFIO_PCI_BAR0_REGION_INDEX,
	};
	struct vfio_region_info cfg = {
		.argsz = sizeof(cfg), .index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	uint8_t *src, *m, *bar = MAP_FAILED;
	struct tdi_env e;
	int dev = -1, fd = -1, ret, n;
	__u16 cmd = 0;

	if (!ok(gmem_load() == 0, "load gmem_pfnpool " GMEM_RANGES))
		return tap_done();
	if (tdi_setup(&e, 0))
		goto out;
	if (!ok(ioctl(e.dev, VFIO_DEVICE_GET_REGION_INFO, &ri) == 0 &&
		ioctl(e.dev, VFIO_DEVICE_GET_REGION_INFO, &cfg) == 0,
		"edu BAR0 and config region info"))
		goto out;
	bar = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, e.dev, ri.offset);
	if (!ok(bar != MAP_FAILED, "mmap edu BAR0"))
		goto out;
	if (pread(e.dev, &cmd, 2, cfg.offset + 4) == 2) {
		cmd |= 0x4;
		ok(pwrite(e.dev, &cmd, 2, cfg.offset + 4) == 2, "edu bus master on");
	}
	src = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (int i = 0; i < DMA_LEN; i++)
		src[i] = (uint8_t)(i * 13 + 5);
	ok(map_dma(e.container, src, IOVA_SRC) == 0, "MAP_DMA of an anonymous page works");

	dev = gmem_dev();
	fd = gmem_create(dev, 4 * MIB, 0);
	if (!ok(fd >= 0, "create a 4 MiB shared file"))
		goto out;

	/* Default mappings: type1 cannot follow them. */
	ok(sysfs_write(MMAP_HUGE, "0") == 0, "mmap_huge=0 (the default)");
	m = gmem_map(fd, 4 * MIB, 0, 0);
	if (!ok(m != MAP_FAILED, "mmap the file"))
		goto out;
	memset(m, 0xa5, 4096);
	ok(m[4095] == 0xa5, "the host CPU writes and reads the mapping");
	errno = 0;
	ret = map_dma(e.container, m, IOVA_GMEM);
	ok(ret == -1 && errno == EFAULT,
	   "MAP_DMA of a mapped gmem page fails with EFAULT (%s)",
	   ret ? strerror(errno) : "mapped");
	if (ret == 0) {
		/* The defect: show where that DMA goes. */
		ok(gmem_set_attr(fd, 0, 4096, GMEM_PFNPOOL_ATTR_PRIVATE, NULL) == 0,
		   "convert the page to private");
		edu_dma(bar, IOVA_GMEM);
		ok(gmem_set_attr(fd, 0, 4096, GMEM_PFNPOOL_ATTR_SHARED, NULL) == 0,
		   "convert it back to shared");
		n = count_dma_pattern(m);
		ok(n < DMA_LEN,
		   "no device DMA landed in the page while it was private (%d bytes)", n);
		unmap_dma(e.container, IOVA_GMEM);
	}
	errno = 0;
	ret = map_dma(e.container, m + 2 * MIB, IOVA_GMEM);
	ok(ret == -1 && errno == EFAULT,
	   "MAP_DMA of a gmem page not mapped yet fails with EFAULT (%s)",
	   ret ? strerror(errno) : "mapped");
	if (ret == 0)
		unmap_dma(e.container, IOVA_GMEM);
	munmap(m, 4 * MIB);

	/* mmap_huge=1: VM_PFNMAP, and type1 follows (the trade-off). */
	ok(sysfs_write(MMAP_HUGE, "1") == 0, "mmap_huge=1");
	m = gmem_map(fd, 4 * MIB, 0, 0);
	if (!ok(m != MAP_FAILED, "mmap the file again"))
		goto out;
	memset(m, 0xa5, 4096);
	ret = map_dma(e.container, m, IOVA_GMEM);
	ok(ret == 0, "with mmap_huge=1, MAP_DMA of a gmem mapping works (%s)",
	   ret ? strerror(errno) : "mapped");
	if (ret == 0) {
		ok(gmem_set_attr(fd, 0, 4096, GMEM_PFNPOOL_ATTR_PRIVATE, NULL) == 0,
		   "convert the page to private");
		ok(edu_dma(bar, IOVA_GMEM) == 0, "edu DMA through the type1 mapping");
		ok(gmem_set_attr(fd, 0, 4096, GMEM_PFNPOOL_ATTR_SHARED, NULL) == 0,
		   "convert it back to shared");
		n = count_dma_pattern(m);
		ok(n == DMA_LEN,
		   "with mmap_huge=1 that DMA landed in the private page (%d of %d bytes): the hole the default closes",
		   n, DMA_LEN);
		unmap_dma(e.container, IOVA_GMEM);
	}
	munmap(m, 4 * MIB);
	sysfs_write(MMAP_HUGE, "0");
	unmap_dma(e.container, IOVA_SRC);
out:
	if (cmd & 0x4) {
		cmd &= ~0x4;
		pwrite(e.dev, &cmd, 2, cfg.offset + 4);
	}
	if (bar != MAP_FAILED)
		munmap(bar, ri.size);
	if (fd >= 0)
		close(fd);
	if (dev >= 0)
		close(dev);
	tdi_teardown(&e, 0);
	ok(gmem_unload() == 0, "unload gmem_pfnpool");
	return tap_done();
}

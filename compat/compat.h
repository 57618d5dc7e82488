/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * compat.h - the one place where kernel version differences live.
 *
 * Force-included into every object of this project (see ../Kbuild). The
 * CCHOST_HAVE_* flags come from feature probes of the target tree in
 * compat/features; the code elsewhere is written against the newest
 * upstream API and this header provides it on older kernels.
 */
#ifndef _CCHOST_COMPAT_H
#define _CCHOST_COMPAT_H

#include <linux/version.h>

/* The single version check of the project; mirrored in dkms.conf. */
#if KERNEL_VERSION(6, 1, 0) > LINUX_VERSION_CODE
#error "cchost requires Linux 6.1 or newer"
#endif

#include <linux/module.h>
#include <linux/mm.h>

#ifndef CCHOST_HAVE_MODULE_IMPORT_NS_STRING
/* Before 6.13 the namespace was a bare token; accept the upstream string form. */
#undef MODULE_IMPORT_NS
#define MODULE_IMPORT_NS(ns) MODULE_INFO(import_ns, ns)
#endif

#ifndef CCHOST_HAVE_VM_FLAGS_SET
static inline void vm_flags_set(struct vm_area_struct *vma, unsigned long flags)
{
	vma->vm_flags |= flags;
}

static inline void vm_flags_clear(struct vm_area_struct *vma, unsigned long flags)
{
	vma->vm_flags &= ~flags;
}
#endif

#ifndef CCHOST_HAVE_DMA_BUF_INVALIDATE_MAPPINGS
#include <linux/dma-buf.h>
/* Renamed upstream; same contract: caller holds the reservation lock. */
static inline void dma_buf_invalidate_mappings(struct dma_buf *dmabuf)
{
	dma_buf_move_notify(dmabuf);
}
#endif

#ifdef CCHOST_HAVE_PFN_T
#include <linux/pfn_t.h>
#include <linux/huge_mm.h>
/*
 * Upstream dropped pfn_t (6.17); the insert helpers take a raw pfn there.
 * On older kernels wrap them so the callers read like upstream.
 */
static inline vm_fault_t cchost_vmf_insert_pfn_pmd(struct vm_fault *vmf,
						   unsigned long pfn, bool write)
{
	return vmf_insert_pfn_pmd(vmf, pfn_to_pfn_t(pfn), write);
}

static inline vm_fault_t cchost_vmf_insert_pfn_pud(struct vm_fault *vmf,
						   unsigned long pfn, bool write)
{
	return vmf_insert_pfn_pud(vmf, pfn_to_pfn_t(pfn), write);
}

#define vmf_insert_pfn_pmd cchost_vmf_insert_pfn_pmd
#define vmf_insert_pfn_pud cchost_vmf_insert_pfn_pud
#endif

/* -- gmem_pfnpool: add fallbacks below, each keyed by a CCHOST_HAVE_* flag -- */

/*
 * 6.6: ->huge_fault() takes a page order instead of enum page_entry_size.
 * The .c file defines fn(vmf, order), invokes
 * CCHOST_HUGE_FAULT_ORDER_WRAPPER(fn) and sets
 * .huge_fault = cchost_huge_fault_op(fn).
 */
/*
 * 6.12: the core maps VM_PFNMAP memory with huge entries (->huge_fault() is
 * called for it, ARCH_SUPPORTS_*_PFNMAP), and zapping part of a huge PUD
 * entry asserts mmap_lock (zap_pud_range()).
 */
#if defined(CONFIG_ARCH_SUPPORTS_PMD_PFNMAP) || defined(CONFIG_ARCH_SUPPORTS_PUD_PFNMAP)
#define CCHOST_HAVE_HUGE_PFNMAP
#endif

#ifndef CCHOST_HAVE_HUGE_FAULT_ORDER
#define CCHOST_HUGE_FAULT_ORDER_WRAPPER(fn)				\
static vm_fault_t fn##_pe_size(struct vm_fault *vmf,			\
			       enum page_entry_size pe_size)		\
{									\
	return fn(vmf, pe_size == PE_SIZE_PUD ? PUD_SHIFT - PAGE_SHIFT :	\
		       pe_size == PE_SIZE_PMD ? PMD_SHIFT - PAGE_SHIFT : 0);	\
}

#define cchost_huge_fault_op(fn) fn##_pe_size
#else
#define CCHOST_HUGE_FAULT_ORDER_WRAPPER(fn) struct fn##_pe_size
#define cchost_huge_fault_op(fn) fn
#endif

/*
 * 7.0: the importer callback dma_buf_attach_ops.move_notify became
 * .invalidate_mappings (same contract: called with the reservation lock
 * held). Importers name it with CCHOST_DMA_BUF_INVALIDATE_OP(fn) in their
 * struct dma_buf_attach_ops initialiser.
 */
#ifdef CCHOST_HAVE_DMA_BUF_ATTACH_OPS_INVALIDATE
#define CCHOST_DMA_BUF_INVALIDATE_OP(fn)	.invalidate_mappings = (fn)
#else
#define CCHOST_DMA_BUF_INVALIDATE_OP(fn)	.move_notify = (fn)
#endif

#ifndef CCHOST_HAVE_MNT_IDMAP
/*
 * 6.3: inode_operations.setattr() and friends take a struct mnt_idmap where
 * they took a struct user_namespace. No kernel header before 6.3 uses the
 * token otherwise.
 */
#define mnt_idmap user_namespace
#endif

#ifndef CCHOST_HAVE_RELEASE_FAULT_LOCK
/*
 * With per-VMA locks a fault may run under the VMA lock instead of
 * mmap_lock, and release_fault_lock() drops whichever it holds. Without
 * them, faults hold mmap_lock for read.
 */
static inline void release_fault_lock(struct vm_fault *vmf)
{
	mmap_read_unlock(vmf->vma->vm_mm);
}
#endif

#ifndef CCHOST_HAVE_ASSERT_FAULT_LOCKED
/* assert_fault_locked(): the lock release_fault_lock() would drop. */
static inline void assert_fault_locked(struct vm_fault *vmf)
{
#ifdef CCHOST_HAVE_RELEASE_FAULT_LOCK
	if (vmf->flags & FAULT_FLAG_VMA_LOCK)
		return;
#endif
	mmap_assert_locked(vmf->vma->vm_mm);
}
#endif

#ifndef CCHOST_HAVE_KUNIT_CASE_SLOW
/* 6.6: KUNIT_CASE_SLOW() marks long cases; before, every case is normal. */
#define KUNIT_CASE_SLOW(test_name) KUNIT_CASE(test_name)
#endif

/* -- tdi_dmabuf: add fallbacks below, each keyed by a CCHOST_HAVE_* flag -- */

#ifndef CCHOST_HAVE_DMA_BUF_ATTACH_REVOCABLE
#include <linux/dma-buf.h>
/*
 * Before 7.0 every dynamic importer had to implement move_notify
 * (dma_buf_dynamic_attach() refuses ops without it): dynamic == revocable.
 */
static inline bool dma_buf_attach_revocable(struct dma_buf_attachment *attach)
{
	return dma_buf_attachment_is_dynamic(attach);
}
#endif

#ifdef CCHOST_HAVE_LINUX_UNALIGNED_H
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

#ifndef CCHOST_HAVE_GET_FILE_ACTIVE
#include <linux/fs.h>
/* Take a reference on a file unless its last one is already gone. */
static inline struct file *get_file_active(struct file **f)
{
	struct file *file = *f;

	return get_file_rcu(file) ? file : NULL;
}
#endif

/*
 * cchost_vfio_zap_mmaps() - zap every userspace mapping of a vfio device's
 * regions, as vfio_pci_core does before it disables memory decode.
 * Since 6.10 the mappings live in the device inode's address space. Before,
 * vfio_pci_core tracks them on a private list with no exported way to zap
 * them: return false and let the caller refuse instead.
 */
#include <linux/vfio.h>
#ifdef CCHOST_HAVE_VFIO_DEVICE_INODE
static inline bool cchost_vfio_zap_mmaps(struct vfio_device *vdev)
{
	unmap_mapping_range(vdev->inode->i_mapping, 0, 0, true);
	return true;
}
#else
static inline bool cchost_vfio_zap_mmaps(struct vfio_device *vdev)
{
	return false;
}
#endif

/*
 * cchost_vfio_pci_vma_pos() - region offset (VFIO_PCI_INDEX_TO_OFFSET() +
 * offset in the BAR) of the start of a BAR mapping made by
 * vfio_pci_core_mmap(). Since 6.10 the core keeps the file offset in
 * vm_pgoff (mappings are zapped by file offset); before, it replaced it by
 * the BAR's PFN.
 */
#include <linux/pci.h>
#include <linux/vfio_pci_core.h>
static inline bool cchost_vfio_pci_vma_pos(struct pci_dev *pdev,
					   struct vm_area_struct *vma, u64 *pos)
{
#ifdef CCHOST_HAVE_VFIO_DEVICE_INODE
	*pos = (u64)vma->vm_pgoff << PAGE_SHIFT;
	return true;
#else
	phys_addr_t phys = PFN_PHYS(vma->vm_pgoff);
	unsigned int i;

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		resource_size_t start = pci_resource_start(pdev, i);
		resource_size_t len = pci_resource_len(pdev, i);

		if (len && phys >= start && phys - start < len) {
			*pos = VFIO_PCI_INDEX_TO_OFFSET(i) + (phys - start);
			return true;
		}
	}
	return false;
#endif
}

/*
 * __vfio_pci_memory_enabled() - may the BARs of a vfio-pci device be
 * accessed, as vfio-pci decides it for its own BAR accesses and faults:
 * the device is in D0..D2 and the virtual PCI_COMMAND of the VFIO user has
 * memory decode on (vdev->vconfig, never the physical register), except for
 * devices without a memory bit of their own (pdev->no_command_memory: SR-IOV
 * VFs, whose decode the PF's VF MSE bit controls). Caller holds
 * vdev->memory_lock. Newer kernels export it; before, it is private to
 * vfio-pci (drivers/vfio/pci/vfio_pci_priv.h) and this is the same test.
 */
#ifndef CCHOST_HAVE_VFIO_PCI_MEMORY_ENABLED
static inline bool __vfio_pci_memory_enabled(struct vfio_pci_core_device *vdev)
{
	u16 virt_cmd = le16_to_cpu(*(__le16 *)&vdev->vconfig[PCI_COMMAND]);

	if ((__force int)vdev->pdev->current_state >= (__force int)PCI_D3hot)
		return false;
	return vdev->pdev->no_command_memory || (virt_cmd & PCI_COMMAND_MEMORY);
}
#endif

/* Is a VFIO_DEVICE_FEATURE request vfio-pci's own DMA-BUF export (7.0)? */
static inline bool cchost_vfio_feature_is_dma_buf(u32 flags)
{
#ifdef CCHOST_HAVE_VFIO_FEATURE_DMA_BUF
	return (flags & VFIO_DEVICE_FEATURE_MASK) == VFIO_DEVICE_FEATURE_DMA_BUF;
#else
	return false;
#endif
}

/*
 * vfio_device_ops members that exist only on some kernels, for variant
 * drivers that delegate them to vfio_pci_core.
 */
#ifdef CCHOST_HAVE_VFIO_IOMMUFD_DETACH_IOAS
#define CCHOST_VFIO_PCI_DETACH_IOAS_OP					\
	.detach_ioas = vfio_iommufd_physical_detach_ioas,
#else
#define CCHOST_VFIO_PCI_DETACH_IOAS_OP
#endif
#ifdef CCHOST_HAVE_VFIO_IOMMUFD_PHYSICAL
#define CCHOST_VFIO_PCI_IOMMUFD_OPS					\
	.bind_iommufd = vfio_iommufd_physical_bind,			\
	.unbind_iommufd = vfio_iommufd_physical_unbind,			\
	.attach_ioas = vfio_iommufd_physical_attach_ioas,		\
	CCHOST_VFIO_PCI_DETACH_IOAS_OP
#else
#define CCHOST_VFIO_PCI_IOMMUFD_OPS
#endif
#ifdef CCHOST_HAVE_VFIO_MATCH_TOKEN_UUID
#define CCHOST_VFIO_PCI_MATCH_TOKEN_OPS					\
	.match_token_uuid = vfio_pci_core_match_token_uuid,
#else
#define CCHOST_VFIO_PCI_MATCH_TOKEN_OPS
#endif
#ifdef CCHOST_HAVE_VFIO_GET_REGION_INFO_CAPS
#define CCHOST_VFIO_PCI_REGION_INFO_OPS					\
	.get_region_info_caps = vfio_pci_ioctl_get_region_info,
#else
#define CCHOST_VFIO_PCI_REGION_INFO_OPS
#endif

/* 6.19: struct phys_vec, a physical range (dma-buf mapping helpers). */
#ifndef CCHOST_HAVE_PHYS_VEC
struct phys_vec {
	phys_addr_t	paddr;
	size_t		len;
};
#endif

/*
 * cchost_p2pdma_init(), cchost_p2pdma_map() and cchost_p2pdma_unmap() - map
 * physical ranges of a BAR of a PCI device for the device of a DMA-BUF
 * attachment, peer to peer, on the route the kernel's p2pdma code gives.
 *
 * 6.19 has the exporter helper vfio-pci uses: with the BAR's provider
 * (pcim_p2pdma_init() at probe, devres until the driver unbinds),
 * dma_buf_phys_vec_to_sgt() asks pci_p2pdma_map_type() and maps with PCI bus
 * addresses through a switch, through the IOMMU via a host bridge the kernel
 * trusts, and fails (-EINVAL) where there is no route. Before, only
 * pci_p2pdma_distance() is exported: it tells whether a route exists but
 * not which, so a device it accepts gets dma_map_resource() mappings, the
 * host-bridge route (right through a trusted host bridge; through a switch
 * the access then goes up to the root complex and back). Without
 * CONFIG_PCI_P2PDMA (Debian's 6.1) the kernel vouches for no route and
 * every device is refused.
 *
 * cchost_p2pdma_map() returns the mapping, ERR_PTR(-EOPNOTSUPP) when the
 * device has no route, or another ERR_PTR(); entries may be as long as
 * 4 GiB - 1 page. Context: the attachment's reservation lock held (map and
 * unmap), after cchost_p2pdma_init() returned 0.
 */
#include <linux/dma-mapping.h>
#include <linux/pci-p2pdma.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#ifdef CCHOST_HAVE_DMA_BUF_PHYS_VEC_TO_SGT
#include <linux/dma-buf-mapping.h>

static inline int cchost_p2pdma_init(struct pci_dev *pdev)
{
	return pcim_p2pdma_init(pdev);
}

static inline struct sg_table *
cchost_p2pdma_map(struct pci_dev *pdev, int bar,
		  struct dma_buf_attachment *attach, struct phys_vec *ranges,
		  unsigned int nr, size_t size, enum dma_data_direction dir)
{
	struct p2pdma_provider *provider = pcim_p2pdma_provider(pdev, bar);
	struct sg_table *sgt;

	if (!provider)
		return ERR_PTR(-EOPNOTSUPP);
	sgt = dma_buf_phys_vec_to_sgt(attach, provider, ranges, nr, size, dir);
	/* The helper's way of saying that the device has no route. */
	return sgt == ERR_PTR(-EINVAL) ? ERR_PTR(-EOPNOTSUPP) : sgt;
}

static inline void cchost_p2pdma_unmap(struct dma_buf_attachment *attach,
				       struct sg_table *sgt,
				       enum dma_data_direction dir)
{
	dma_buf_free_sgt(attach, sgt, dir);
}
#else
#define CCHOST_P2PDMA_SEG	SZ_1G

static inline int cchost_p2pdma_init(struct pci_dev *pdev)
{
	return 0;
}

static inline void cchost_p2pdma_unmap(struct dma_buf_attachment *attach,
				       struct sg_table *sgt,
				       enum dma_data_direction dir)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (!sg_dma_len(sg))
			break;
		dma_unmap_resource(attach->dev, sg_dma_address(sg),
				   sg_dma_len(sg), dir, DMA_ATTR_SKIP_CPU_SYNC);
	}
	sg_free_table(sgt);
	kfree(sgt);
}

static inline struct sg_table *
cchost_p2pdma_map(struct pci_dev *pdev, int bar,
		  struct dma_buf_attachment *attach, struct phys_vec *ranges,
		  unsigned int nr, size_t size, enum dma_data_direction dir)
{
	struct scatterlist *sg;
	struct sg_table *sgt;
	unsigned int i, nents = 0;
	int ret;

	if (pci_p2pdma_distance(pdev, attach->dev, false) < 0)
		return ERR_PTR(-EOPNOTSUPP);
	for (i = 0; i < nr; i++)
		nents += DIV_ROUND_UP(ranges[i].len, CCHOST_P2PDMA_SEG);
	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table(sgt, nents, GFP_KERNEL);
	if (ret) {
		kfree(sgt);
		return ERR_PTR(ret);
	}
	sg = sgt->sgl;
	for (i = 0; i < nr; i++) {
		size_t off, len;

		for (off = 0; off < ranges[i].len; off += len) {
			dma_addr_t addr;

			len = min_t(size_t, ranges[i].len - off,
				    CCHOST_P2PDMA_SEG);
			addr = dma_map_resource(attach->dev,
						ranges[i].paddr + off, len, dir,
						DMA_ATTR_SKIP_CPU_SYNC);
			if (dma_mapping_error(attach->dev, addr)) {
				/* Unmapped entries have length 0: unmap stops. */
				cchost_p2pdma_unmap(attach, sgt, dir);
				return ERR_PTR(-ENOMEM);
			}
			sg_dma_address(sg) = addr;
			sg_dma_len(sg) = len;
			sg = sg_next(sg);
		}
	}
	return sgt;
}
#endif

/*
 * 6.10: __assign_str(dst) in a trace event's TP_fast_assign() copies the
 * string given to __string(); before, it was __assign_str(dst, src).
 */
#ifdef CCHOST_HAVE_TRACE_ASSIGN_STR_FIELD
#define __assign_str_compat(dst, src)	do { (void)(src); __assign_str(dst); } while (0)
#else
#define __assign_str_compat(dst, src)	__assign_str(dst, src)
#endif

#endif /* _CCHOST_COMPAT_H */

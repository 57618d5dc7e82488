// SPDX-License-Identifier: GPL-2.0-only
/*
 * DMA-BUF exporter for TDI MMIO fragments.
 *
 * A DMA-BUF holds the fragments of one kind (shared or private) of one BAR,
 * concatenated in BAR order; the memory is device MMIO without struct pages,
 * so importers get an sg_table with only DMA addresses and CPU mappings are
 * PFN maps filled at fault time.
 *
 * Peer-to-peer: an importing device gets the route the kernel's p2pdma code
 * gives for it and the BAR (struct tdi_dmabuf_tdi_ops.p2p_map, compat.h):
 * PCI bus addresses when both sit behind one switch, IOMMU mappings through
 * a host bridge the kernel trusts (before 6.19, which exports no route,
 * IOMMU mappings for every device the kernel's distance check accepts),
 * and nothing (map fails with -EOPNOTSUPP) when there is no route the
 * kernel vouches for: a device on another root port of a host bridge that
 * is not on the kernel's list, a device that is not PCI, any device on a
 * kernel built without CONFIG_PCI_P2PDMA. Entries never exceed the
 * importer's dma_get_max_seg_size().
 *
 * Revocation (the only kind of "move" this exporter does): under the
 * reservation lock set @revoked and call dma_buf_invalidate_mappings() so
 * every importer drops its mapping; then zap the CPU mappings. From then on
 * attach, map, pin, mmap and faults fail. A revoked DMA-BUF stays revoked;
 * userspace closes it and asks for a new one.
 *
 * Importers must be dynamic (they get move_notify) and peer-to-peer capable.
 * Private DMA-BUFs additionally require an importer registered as secure
 * (tdi_dmabuf_register_secure_importer()), are never DMA-mapped (the secure
 * importer takes their physical ranges and owner token with
 * tdi_dmabuf_private_ranges()), and cannot be mmap()ed: mmap fails with
 * -EACCES.
 *
 * Locking: tdi->lock -> dmabuf->resv -> i_mmap_rwsem (see tdi_dmabuf_core.h).
 * @node and the tdi's list are protected by tdi->lock; @revoked is written
 * under dmabuf->resv (map, pin and faults read it there; attach and mmap
 * peek without it); everything else is immutable after export.
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <kunit/visibility.h>

#include "tdi_dmabuf_core.h"

MODULE_IMPORT_NS("DMA_BUF");

/* Largest sg entry whatever the importer takes; sg lengths are 32-bit. */
#define TDI_DMABUF_SG_MAX	SZ_1G

/**
 * struct tdi_dmabuf_buf_frag - one fragment of a DMA-BUF (its host physical
 *	range is the same entry of struct tdi_dmabuf_buf.vecs)
 * @bar_offset: offset in the BAR
 * @buf_offset: offset in the DMA-BUF
 * @flags: TDI_DMABUF_RANGE_*
 */
struct tdi_dmabuf_buf_frag {
	u64 bar_offset;
	u64 buf_offset;
	u32 flags;
};

/**
 * struct tdi_dmabuf_buf - exporter state of one DMA-BUF
 * @dmabuf: the DMA-BUF
 * @tdi: the TDI, referenced until release
 * @node: entry in tdi->dmabufs (tdi->lock)
 * @bar: BAR index
 * @kind: TDI_DMABUF_KIND_*
 * @revoked: no access any more (dmabuf->resv)
 * @nr_mapped: sg_tables handed out and not yet unmapped (written under
 *	dmabuf->resv, read by the revoke's wait without it)
 * @unmap_wq: woken when @nr_mapped drops to 0
 * @owner: the VMM's token of a private DMA-BUF (set before its fd exists)
 * @vecs: host physical range of each fragment, as the kernel's p2p mapping
 *	helpers take them (@nr entries, fixed at export)
 * @nr: entries in @frags
 * @frags: the fragments, in BAR order
 */
struct tdi_dmabuf_buf {
	struct dma_buf *dmabuf;
	struct tdi_dmabuf_tdi *tdi;
	struct list_head node;
	u32 bar;
	u32 kind;
	u64 owner;
	bool revoked;
	atomic_t nr_mapped;
	wait_queue_head_t unmap_wq;
	struct phys_vec *vecs;
	unsigned int nr;
	struct tdi_dmabuf_buf_frag frags[] __counted_by(nr);
};

static const struct dma_buf_ops tdi_dmabuf_ops;

static int tdi_dmabuf_attach(struct dma_buf *dmabuf,
			     struct dma_buf_attachment *attach)
{
	struct tdi_dmabuf_buf *buf = dmabuf->priv;

	/* Revocation must reach every importer. */
	if (!dma_buf_attach_revocable(attach) || !attach->peer2peer)
		return -EOPNOTSUPP;
	if (buf->kind == TDI_DMABUF_KIND_PRIVATE &&
	    !tdi_dmabuf_importer_is_secure(attach->importer_ops))
		return -EPERM;

	/*
	 * Unlocked: attach runs without the reservation lock on some kernels
	 * and with it on others. Racing with a revocation is harmless: the
	 * attachment is on no list yet, and map fails once revoked.
	 */
	if (READ_ONCE(buf->revoked))
		return -ENODEV;
	return 0;
}

static int tdi_dmabuf_pin(struct dma_buf_attachment *attach)
{
	struct tdi_dmabuf_buf *buf = attach->dmabuf->priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	/* MMIO never moves; a pin cannot stop a revocation either. */
	return buf->revoked ? -ENODEV : 0;
}

static void tdi_dmabuf_unpin(struct dma_buf_attachment *attach)
{
}

/**
 * struct tdi_dmabuf_sgt - a mapping handed to an importer
 * @sgt: what the importer gets: DMA side only (there are no struct pages),
 *	entries no longer than its max segment size
 * @mapped: what tdi->ops->p2p_map() returned, given back to p2p_unmap()
 */
struct tdi_dmabuf_sgt {
	struct sg_table sgt;
	struct sg_table *mapped;
};

/* Largest sg entry for @dev: its max segment size, in whole pages. */
static u64 tdi_dmabuf_max_seg(struct device *dev)
{
	u64 seg = min_t(u64, dma_get_max_seg_size(dev), TDI_DMABUF_SG_MAX);

	return max_t(u64, ALIGN_DOWN(seg, PAGE_SIZE), PAGE_SIZE);
}

/*
 * Copy @from into @to, cutting entries at @seg bytes; @to is allocated.
 * Return: 0 or -ENOMEM.
 */
static int tdi_dmabuf_split_sgt(struct sg_table *to, struct sg_table *from,
				u64 seg)
{
	struct scatterlist *sg, *out;
	unsigned int i, nents = 0;
	int ret;

	for_each_sgtable_dma_sg(from, sg, i)
		nents += DIV_ROUND_UP_ULL(sg_dma_len(sg), seg);
	ret = sg_alloc_table(to, nents, GFP_KERNEL);
	if (ret)
		return ret;
	out = to->sgl;
	for_each_sgtable_dma_sg(from, sg, i) {
		u64 off, len;

		for (off = 0; off < sg_dma_len(sg); off += len) {
			len = min_t(u64, sg_dma_len(sg) - off, seg);
			sg_dma_address(out) = sg_dma_address(sg) + off;
			sg_dma_len(out) = len;
			out = sg_next(out);
		}
	}
	return 0;
}

/*
 * Map the DMA-BUF for an importing device on the peer-to-peer route the
 * kernel gives it (tdi->ops->p2p_map(): bus addresses through a switch,
 * IOMMU mappings through a trusted host bridge, -EOPNOTSUPP without a
 * route), then cut the entries at the importer's max segment size
 * (sg_dma_len is 32-bit, and a device may take less). The route is asked
 * here, under the reservation lock of a DMA-BUF that is not revoked, and
 * not at attach: the embedding driver's p2p state lives as long as the
 * device is open, which only the revoked flag under this lock tells.
 */
static struct sg_table *tdi_dmabuf_map(struct dma_buf_attachment *attach,
				       enum dma_data_direction dir)
{
	struct tdi_dmabuf_buf *buf = attach->dmabuf->priv;
	struct tdi_dmabuf_tdi *tdi = buf->tdi;
	struct tdi_dmabuf_sgt *map;
	int ret;

	dma_resv_assert_held(attach->dmabuf->resv);
	if (buf->revoked)
		return ERR_PTR(-ENODEV);
	/* Private MMIO: physical ranges for the secure importer, no DMA map. */
	if (buf->kind == TDI_DMABUF_KIND_PRIVATE)
		return ERR_PTR(-EPERM);
	if (!tdi->ops->p2p_map)
		return ERR_PTR(-EOPNOTSUPP);

	map = kzalloc(sizeof(*map), GFP_KERNEL);
	if (!map)
		return ERR_PTR(-ENOMEM);
	map->mapped = tdi->ops->p2p_map(tdi, buf->bar, attach, buf->vecs, buf->nr,
					attach->dmabuf->size, dir);
	if (IS_ERR(map->mapped)) {
		ret = PTR_ERR(map->mapped);
		if (ret == -EOPNOTSUPP)
			dev_dbg(tdi->dev, "BAR %u: no peer-to-peer route from %s\n",
				buf->bar, dev_name(attach->dev));
		goto err_free;
	}
	ret = tdi_dmabuf_split_sgt(&map->sgt, map->mapped,
				   tdi_dmabuf_max_seg(attach->dev));
	if (ret) {
		tdi->ops->p2p_unmap(tdi, attach, map->mapped, dir);
		goto err_free;
	}
	atomic_inc(&buf->nr_mapped);
	return &map->sgt;

err_free:
	kfree(map);
	return ERR_PTR(ret);
}

static void tdi_dmabuf_unmap(struct dma_buf_attachment *attach,
			     struct sg_table *sgt, enum dma_data_direction dir)
{
	struct tdi_dmabuf_buf *buf = attach->dmabuf->priv;
	struct tdi_dmabuf_sgt *map = container_of(sgt, struct tdi_dmabuf_sgt,
						  sgt);

	sg_free_table(sgt);
	buf->tdi->ops->p2p_unmap(buf->tdi, attach, map->mapped, dir);
	kfree(map);
	if (atomic_dec_and_test(&buf->nr_mapped))
		wake_up_all(&buf->unmap_wq);
}

static vm_fault_t tdi_dmabuf_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct tdi_dmabuf_buf *buf = vma->vm_private_data;
	u64 off = (u64)vmf->pgoff << PAGE_SHIFT;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	unsigned int i;

	dma_resv_lock(buf->dmabuf->resv, NULL);
	if (buf->revoked)
		goto out;
	for (i = 0; i < buf->nr; i++) {
		const struct tdi_dmabuf_buf_frag *f = &buf->frags[i];
		const struct phys_vec *v = &buf->vecs[i];

		if (off >= f->buf_offset && off - f->buf_offset < v->len) {
			ret = vmf_insert_pfn(vma, vmf->address,
					     PHYS_PFN(v->paddr + off - f->buf_offset));
			break;
		}
	}
out:
	dma_resv_unlock(buf->dmabuf->resv);
	return ret;
}

static const struct vm_operations_struct tdi_dmabuf_vm_ops = {
	.fault = tdi_dmabuf_fault,
};

static int tdi_dmabuf_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct tdi_dmabuf_buf *buf = dmabuf->priv;

	/* Private (TEE) MMIO is for the secure importer only. */
	if (buf->kind == TDI_DMABUF_KIND_PRIVATE)
		return -EACCES;
	/*
	 * VM_MAYSHARE, not VM_SHARED: the core clears VM_SHARED for a
	 * MAP_SHARED mapping of a file opened O_RDONLY (and refuses
	 * PROT_WRITE there itself).
	 */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;

	/*
	 * Unlocked like attach: a revocation after this check zaps whatever
	 * the fault handler inserted, and the handler rechecks @revoked under
	 * the reservation lock.
	 */
	if (READ_ONCE(buf->revoked))
		return -ENODEV;

	/* As vfio-pci maps BARs: uncached, and never encrypted (SME). */
	vma->vm_page_prot = pgprot_decrypted(pgprot_noncached(vma->vm_page_prot));
	vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_private_data = buf;
	vma->vm_ops = &tdi_dmabuf_vm_ops;
	return 0;
}

static void tdi_dmabuf_release(struct dma_buf *dmabuf)
{
	struct tdi_dmabuf_buf *buf = dmabuf->priv;
	struct tdi_dmabuf_tdi *tdi = buf->tdi;

	/*
	 * A concurrent revocation may still see us on the list; it skips
	 * DMA-BUFs whose file is gone, and our tdi reference keeps the list
	 * head alive.
	 */
	mutex_lock(&tdi->lock);
	list_del(&buf->node);
	tdi->nr_dmabufs--;
	mutex_unlock(&tdi->lock);
	tdi_dmabuf_tdi_put(tdi);
	kvfree(buf->vecs);
	kvfree(buf);
}

static const struct dma_buf_ops tdi_dmabuf_ops = {
	.attach = tdi_dmabuf_attach,
	.pin = tdi_dmabuf_pin,
	.unpin = tdi_dmabuf_unpin,
	.map_dma_buf = tdi_dmabuf_map,
	.unmap_dma_buf = tdi_dmabuf_unmap,
	.release = tdi_dmabuf_release,
	.mmap = tdi_dmabuf_mmap,
};

/**
 * tdi_dmabuf_kind() - kind of a DMA-BUF exported by tdi_dmabuf
 * @dmabuf: any DMA-BUF
 *
 * Lets an in-kernel importer check what it was handed before attaching.
 *
 * Return: TDI_DMABUF_KIND_SHARED or TDI_DMABUF_KIND_PRIVATE, or -EINVAL if
 * @dmabuf was not exported by tdi_dmabuf.
 */
int tdi_dmabuf_kind(struct dma_buf *dmabuf)
{
	struct tdi_dmabuf_buf *buf;

	if (dmabuf->ops != &tdi_dmabuf_ops)
		return -EINVAL;
	buf = dmabuf->priv;
	return buf->kind;
}
EXPORT_SYMBOL_GPL(tdi_dmabuf_kind);

/**
 * tdi_dmabuf_private_ranges() - physical ranges of a private DMA-BUF, for
 *	its secure importer
 * @attach: an attachment of a private DMA-BUF made with attach ops
 *	registered with tdi_dmabuf_register_secure_importer()
 * @ranges: output array, or NULL to only count
 * @count: in: capacity of @ranges; out: number of ranges
 * @owner: out: the token the VMM gave the DMA-BUF at GET_DMABUF (0: none)
 *
 * Private MMIO is never DMA-mapped for a device (map_dma_buf fails with
 * -EPERM): the secure importer (the secure-EPT or secure-IOMMU side of a
 * confidential VMM) installs the host physical ranges itself, in the order
 * and at the offsets of the DMA-BUF. They are valid until the importer's
 * invalidate callback (move_notify) runs, under the same reservation lock:
 * by the time that callback returns, the importer must have stopped every
 * access through them, or have added a fence to the reservation object
 * (any usage) that signals when it has; the revoke waits for it.
 *
 * Context: the DMA-BUF's reservation lock held.
 * Return: 0, -EINVAL if @attach is not of a private DMA-BUF of this
 * exporter, -EPERM if its attach ops are not a registered secure importer,
 * -ENODEV once revoked, -ENOSPC if @count was too small (@count updated).
 */
int tdi_dmabuf_private_ranges(struct dma_buf_attachment *attach,
			      struct tdi_dmabuf_phys_range *ranges,
			      unsigned int *count, u64 *owner)
{
	struct dma_buf *dmabuf = attach->dmabuf;
	struct tdi_dmabuf_buf *buf = dmabuf->priv;
	unsigned int i, cap = *count;

	dma_resv_assert_held(dmabuf->resv);
	if (dmabuf->ops != &tdi_dmabuf_ops ||
	    buf->kind != TDI_DMABUF_KIND_PRIVATE)
		return -EINVAL;
	if (!tdi_dmabuf_importer_is_secure(attach->importer_ops))
		return -EPERM;
	if (buf->revoked)
		return -ENODEV;
	*count = buf->nr;
	*owner = buf->owner;
	if (!ranges)
		return 0;
	if (cap < buf->nr)
		return -ENOSPC;
	for (i = 0; i < buf->nr; i++) {
		ranges[i].phys = buf->vecs[i].paddr;
		ranges[i].len = buf->vecs[i].len;
		ranges[i].offset = buf->frags[i].buf_offset;
	}
	return 0;
}
EXPORT_SYMBOL_GPL(tdi_dmabuf_private_ranges);

/**
 * tdi_dmabuf_buf_set_owner() - give a new private DMA-BUF the VMM's token
 * @dmabuf: a DMA-BUF just returned by tdi_dmabuf_export(), no fd yet
 * @owner: the token
 */
void tdi_dmabuf_buf_set_owner(struct dma_buf *dmabuf, u64 owner)
{
	struct tdi_dmabuf_buf *buf = dmabuf->priv;

	buf->owner = owner;
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_buf_set_owner);

/*
 * Wait until importers stopped using the DMA-BUF: every fence of the
 * reservation object signalled (an importer fences the access it cannot
 * stop at once, see struct dma_buf), then every sg_table unmapped.
 */
static int tdi_dmabuf_buf_wait_idle(struct tdi_dmabuf_tdi *tdi,
				    struct tdi_dmabuf_buf *buf)
{
	long left;

	left = dma_resv_wait_timeout(buf->dmabuf->resv, DMA_RESV_USAGE_BOOKKEEP,
				     false, tdi->revoke_timeout);
	if (left > 0)
		left = wait_event_timeout(buf->unmap_wq,
					  !atomic_read(&buf->nr_mapped), left);
	if (left > 0)
		return 0;
	dev_warn_ratelimited(tdi->dev,
			     "revoke of a BAR %u DMA-BUF incomplete after %u ms: %d mapping(s) left%s\n",
			     buf->bar, jiffies_to_msecs(tdi->revoke_timeout),
			     atomic_read(&buf->nr_mapped),
			     left < 0 ? ", fence wait failed" : "");
	return -ETIMEDOUT;
}

/*
 * Revoke one DMA-BUF and wait: mark it revoked, tell every importer to drop
 * its mappings, zap CPU mappings, then wait (at most tdi->revoke_timeout)
 * for the reservation fences and for every sg_table to be unmapped. Also
 * waits when the DMA-BUF was revoked before, so that a retry after a
 * timeout finds out whether the importers are done now. Sets *@revoked if
 * this call revoked it. Return: 0 once nothing of it is in use, or
 * -ETIMEDOUT. Context: tdi->lock held, may sleep.
 */
static int tdi_dmabuf_buf_revoke(struct tdi_dmabuf_tdi *tdi,
				 struct tdi_dmabuf_buf *buf, bool *revoked)
{
	struct dma_buf *dmabuf = buf->dmabuf;
	int ret;

	lockdep_assert_held(&tdi->lock);
	*revoked = false;

	/* Last reference gone: release is waiting for tdi->lock. */
	if (!get_file_active(&dmabuf->file))
		return 0;

	dma_resv_lock(dmabuf->resv, NULL);
	if (!buf->revoked) {
		WRITE_ONCE(buf->revoked, true);
		dma_buf_invalidate_mappings(dmabuf);
		*revoked = true;
	}
	dma_resv_unlock(dmabuf->resv);
	/* Zap CPU mappings; later faults see @revoked and SIGBUS. */
	unmap_mapping_range(dmabuf->file->f_mapping, 0, 0, 1);
	/* Importers unmap from their own context; our file reference keeps @buf. */
	ret = tdi_dmabuf_buf_wait_idle(tdi, buf);
	fput(dmabuf->file);
	return ret;
}

/**
 * __tdi_dmabuf_revoke_bufs() - revoke every DMA-BUF of the TDI and wait
 * @tdi: the TDI
 * @nr_revoked: out: how many were revoked by this call (not revoked before)
 *
 * The list of open DMA-BUFs (tdi->dmabufs) belongs to this file: entries
 * are added at export and removed at release, here, and nowhere else
 * walks it.
 *
 * Context: tdi->lock held, may sleep.
 * Return: 0 once no importer uses any of them, -ETIMEDOUT if one still
 * holds a mapping or an unsignalled fence after tdi->revoke_timeout.
 */
int __tdi_dmabuf_revoke_bufs(struct tdi_dmabuf_tdi *tdi,
			     unsigned int *nr_revoked)
{
	struct tdi_dmabuf_buf *buf;
	bool revoked;
	int ret = 0;

	lockdep_assert_held(&tdi->lock);
	*nr_revoked = 0;
	list_for_each_entry(buf, &tdi->dmabufs, node) {
		if (tdi_dmabuf_buf_revoke(tdi, buf, &revoked))
			ret = -ETIMEDOUT;
		*nr_revoked += revoked;
	}
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(__tdi_dmabuf_revoke_bufs);

/**
 * tdi_dmabuf_nr_live() - DMA-BUFs of the TDI open and not revoked
 * @tdi: the TDI
 *
 * A revoked DMA-BUF never gives access again, whoever still holds its
 * file, so it does not keep BIND from going on.
 *
 * Context: tdi->lock held.
 * Return: the number of open DMA-BUFs that are not revoked.
 */
unsigned int tdi_dmabuf_nr_live(struct tdi_dmabuf_tdi *tdi)
{
	struct tdi_dmabuf_buf *buf;
	unsigned int n = 0;

	lockdep_assert_held(&tdi->lock);
	list_for_each_entry(buf, &tdi->dmabufs, node)
		n += !READ_ONCE(buf->revoked);
	return n;
}

/**
 * tdi_dmabuf_export() - export the fragments of a BAR as a DMA-BUF
 * @tdi: the TDI
 * @bar: BAR index, < TDI_DMABUF_NR_BARS
 * @kind: TDI_DMABUF_KIND_*
 * @open_flags: flags of the DMA-BUF file (O_ACCMODE bits, O_CLOEXEC)
 *
 * Context: process context, tdi->lock held.
 * Return: the DMA-BUF (one reference), -ENODEV if @bar is not exportable,
 * -ENOENT if the BAR has no fragment of @kind, -ENOMEM.
 */
struct dma_buf *tdi_dmabuf_export(struct tdi_dmabuf_tdi *tdi, u32 bar,
				  u32 kind, int open_flags)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	const struct tdi_dmabuf_layout *layout = tdi->layout;
	bool private = kind == TDI_DMABUF_KIND_PRIVATE;
	struct tdi_dmabuf_buf *buf;
	struct dma_buf *dmabuf;
	unsigned int i, n;
	u64 size = 0;

	lockdep_assert_held(&tdi->lock);

	if (!tdi->bars[bar].len)
		return ERR_PTR(-ENODEV);
	n = tdi_dmabuf_layout_count(layout, bar, kind);
	if (!n)
		return ERR_PTR(-ENOENT);

	buf = kvzalloc(struct_size(buf, frags, n), GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	buf->vecs = kvcalloc(n, sizeof(*buf->vecs), GFP_KERNEL);
	if (!buf->vecs) {
		kvfree(buf);
		return ERR_PTR(-ENOMEM);
	}
	buf->nr = n;
	atomic_set(&buf->nr_mapped, 0);
	init_waitqueue_head(&buf->unmap_wq);
	buf->bar = bar;
	buf->kind = kind;
	n = 0;
	for (i = 0; i < layout->nr; i++) {
		const struct tdi_dmabuf_frag *f = &layout->frags[i];

		if (f->bar != bar ||
		    !!(f->flags & TDI_DMABUF_RANGE_PRIVATE) != private)
			continue;
		buf->vecs[n].paddr = tdi->bars[bar].start + f->offset;
		buf->vecs[n].len = f->len;
		buf->frags[n].bar_offset = f->offset;
		buf->frags[n].buf_offset = size;
		buf->frags[n].flags = f->flags;
		size += f->len;
		n++;
	}

	exp_info.ops = &tdi_dmabuf_ops;
	exp_info.size = size;
	exp_info.flags = open_flags;
	exp_info.priv = buf;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		kvfree(buf->vecs);
		kvfree(buf);
		return dmabuf;
	}
	/* From here dma_buf_put() frees @buf through tdi_dmabuf_release(). */
	buf->dmabuf = dmabuf;
	kref_get(&tdi->ref);
	buf->tdi = tdi;
	list_add_tail(&buf->node, &tdi->dmabufs);
	tdi->nr_dmabufs++;
	return dmabuf;
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_export);

/**
 * tdi_dmabuf_buf_ranges() - describe a DMA-BUF of this TDI
 * @tdi: the TDI the DMA-BUF must belong to
 * @dmabuf: the DMA-BUF
 * @ranges: output array, or NULL to only count
 * @count: in: capacity of @ranges; out: number of fragments
 * @bar: out: BAR index
 * @kind: out: TDI_DMABUF_KIND_*
 * @revoked: out: whether the DMA-BUF is revoked
 *
 * Context: process context, may sleep.
 * Return: 0, -EINVAL if @dmabuf is not a DMA-BUF of @tdi, -ENOSPC if
 * @count was too small (@count is updated).
 */
int tdi_dmabuf_buf_ranges(struct tdi_dmabuf_tdi *tdi, struct dma_buf *dmabuf,
			  struct tdi_dmabuf_range *ranges, unsigned int *count,
			  u32 *bar, u32 *kind, bool *revoked)
{
	struct tdi_dmabuf_buf *buf;
	unsigned int i, cap = *count;

	if (dmabuf->ops != &tdi_dmabuf_ops)
		return -EINVAL;
	buf = dmabuf->priv;
	if (buf->tdi != tdi)
		return -EINVAL;

	*count = buf->nr;
	*bar = buf->bar;
	*kind = buf->kind;
	dma_resv_lock(dmabuf->resv, NULL);
	*revoked = buf->revoked;
	dma_resv_unlock(dmabuf->resv);
	if (cap < buf->nr)
		return -ENOSPC;
	for (i = 0; i < buf->nr; i++) {
		ranges[i].offset = buf->frags[i].bar_offset;
		ranges[i].length = buf->vecs[i].len;
		ranges[i].dmabuf_offset = buf->frags[i].buf_offset;
		ranges[i].bar = buf->bar;
		ranges[i].flags = buf->frags[i].flags;
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_buf_ranges);

// SPDX-License-Identifier: GPL-2.0-only
/*
 * DMA-BUF exporter for TDI MMIO fragments.
 *
 * A DMA-BUF holds the fragments of one kind (shared or private) of one BAR,
 * concatenated in BAR order; the memory is device MMIO without struct pages,
 * so importers get an sg_table of DMA addresses from dma_map_resource() and
 * CPU mappings are PFN maps filled at fault time.
 *
 * Revocation (the only kind of "move" this exporter does): under the
 * reservation lock set @revoked and call dma_buf_invalidate_mappings() so
 * every importer drops its mapping; then zap the CPU mappings. From then on
 * attach, map, pin, mmap and faults fail. A revoked DMA-BUF stays revoked;
 * userspace closes it and asks for a new one.
 *
 * Importers must be dynamic (they get move_notify) and peer-to-peer capable.
 * Private DMA-BUFs additionally require an importer registered as secure
 * (tdi_dmabuf_register_secure_importer()), and cannot be mmap()ed: mmap
 * fails with -EACCES.
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

/* Largest sg entry; sg lengths are unsigned int. */
#define TDI_DMABUF_SG_MAX	SZ_1G

/**
 * struct tdi_dmabuf_buf_frag - one fragment of a DMA-BUF
 * @phys: host physical address
 * @len: length in bytes
 * @bar_offset: offset in the BAR
 * @buf_offset: offset in the DMA-BUF
 * @flags: TDI_DMABUF_RANGE_*
 */
struct tdi_dmabuf_buf_frag {
	phys_addr_t phys;
	u64 len;
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
 * @nr: entries in @frags
 * @frags: the fragments, in BAR order
 */
struct tdi_dmabuf_buf {
	struct dma_buf *dmabuf;
	struct tdi_dmabuf_tdi *tdi;
	struct list_head node;
	u32 bar;
	u32 kind;
	bool revoked;
	atomic_t nr_mapped;
	wait_queue_head_t unmap_wq;
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

static void tdi_dmabuf_unmap_sgt(struct device *dev, struct sg_table *sgt,
				 unsigned int nents,
				 enum dma_data_direction dir)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sg(sgt->sgl, sg, nents, i)
		dma_unmap_resource(dev, sg_dma_address(sg), sg_dma_len(sg),
				   dir, DMA_ATTR_SKIP_CPU_SYNC);
}

static struct sg_table *tdi_dmabuf_map(struct dma_buf_attachment *attach,
				       enum dma_data_direction dir)
{
	struct tdi_dmabuf_buf *buf = attach->dmabuf->priv;
	unsigned int i, nents = 0, done = 0;
	struct scatterlist *sg;
	struct sg_table *sgt;
	int ret;

	dma_resv_assert_held(attach->dmabuf->resv);
	if (buf->revoked)
		return ERR_PTR(-ENODEV);

	for (i = 0; i < buf->nr; i++)
		nents += DIV_ROUND_UP_ULL(buf->frags[i].len, TDI_DMABUF_SG_MAX);

	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table(sgt, nents, GFP_KERNEL);
	if (ret)
		goto err_free_sgt;

	sg = sgt->sgl;
	for (i = 0; i < buf->nr; i++) {
		const struct tdi_dmabuf_buf_frag *f = &buf->frags[i];
		u64 off;

		for (off = 0; off < f->len; off += TDI_DMABUF_SG_MAX) {
			u64 len = min_t(u64, f->len - off, TDI_DMABUF_SG_MAX);
			dma_addr_t addr;

			addr = dma_map_resource(attach->dev, f->phys + off, len,
						dir, DMA_ATTR_SKIP_CPU_SYNC);
			ret = dma_mapping_error(attach->dev, addr);
			if (ret)
				goto err_unmap;
			/* No struct page: only the DMA side is filled in. */
			sg_dma_address(sg) = addr;
			sg_dma_len(sg) = len;
			sg = sg_next(sg);
			done++;
		}
	}
	atomic_inc(&buf->nr_mapped);
	return sgt;

err_unmap:
	tdi_dmabuf_unmap_sgt(attach->dev, sgt, done, dir);
	sg_free_table(sgt);
err_free_sgt:
	kfree(sgt);
	return ERR_PTR(ret);
}

static void tdi_dmabuf_unmap(struct dma_buf_attachment *attach,
			     struct sg_table *sgt, enum dma_data_direction dir)
{
	struct tdi_dmabuf_buf *buf = attach->dmabuf->priv;

	tdi_dmabuf_unmap_sgt(attach->dev, sgt, sgt->orig_nents, dir);
	sg_free_table(sgt);
	kfree(sgt);
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

		if (off >= f->buf_offset && off - f->buf_offset < f->len) {
			ret = vmf_insert_pfn(vma, vmf->address,
					     PHYS_PFN(f->phys + off - f->buf_offset));
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

/**
 * __tdi_dmabuf_buf_revoke() - revoke one DMA-BUF of the TDI's list and wait
 * @tdi: the TDI
 * @node: the DMA-BUF's entry in tdi->dmabufs
 * @revoked: out: set to true if the DMA-BUF was revoked by this call
 *
 * Marks the DMA-BUF revoked, tells every importer to drop its mappings,
 * zaps CPU mappings, then waits (at most tdi->revoke_timeout) for the
 * reservation fences and for every sg_table to be unmapped. Also waits
 * when the DMA-BUF was revoked before, so that a retry after a timeout
 * finds out whether the importers are done now.
 *
 * Context: tdi->lock held, may sleep.
 * Return: 0 once nothing of the DMA-BUF is in use, -ETIMEDOUT if an
 * importer still holds a mapping or an unsignalled fence.
 */
int __tdi_dmabuf_buf_revoke(struct tdi_dmabuf_tdi *tdi, struct list_head *node,
			    bool *revoked)
{
	struct tdi_dmabuf_buf *buf = list_entry(node, struct tdi_dmabuf_buf, node);
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
EXPORT_SYMBOL_IF_KUNIT(__tdi_dmabuf_buf_revoke);

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
		buf->frags[n].phys = tdi->bars[bar].start + f->offset;
		buf->frags[n].len = f->len;
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
		ranges[i].length = buf->frags[i].len;
		ranges[i].dmabuf_offset = buf->frags[i].buf_offset;
		ranges[i].bar = buf->bar;
		ranges[i].flags = buf->frags[i].flags;
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_buf_ranges);

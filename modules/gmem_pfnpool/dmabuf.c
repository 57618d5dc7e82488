// SPDX-License-Identifier: GPL-2.0-only
/*
 * DMA-BUF export of a shared range of a gmem file.
 *
 * Each export is a registered user of the invalidation engine. What it does
 * when the exported range leaves the shared state (converted to private, or
 * punched) depends on the importers:
 *
 *  - An importer that cannot be revoked holds on: a static importer (no
 *    dma_buf_attach_ops: DRM PRIME import, videobuf2, ...), which dma-buf
 *    pins and maps once at attach time and which is never told about
 *    moves, or, on kernels that have dma_buf_attach_revocable(), a dynamic
 *    importer without invalidate_mappings. While one is attached, prepare
 *    refuses with -EBUSY and names the export and the importing device
 *    ("dmabuf:<inode> <device>"): its DMA could still reach the memory.
 *    The conversion succeeds once it has detached.
 *  - Revocable (dynamic) importers are revoked by commit: @revoked is set
 *    under the reservation lock and importers are told with
 *    dma_buf_invalidate_mappings(). Then commit waits until they have let
 *    go, before the engine frees the memory or makes it private: for every
 *    fence of the reservation object (DMA_RESV_USAGE_BOOKKEEP, i.e. all of
 *    them) and for every mapping handed out to be unmapped. Without
 *    DMABUF_MOVE_NOTIFY (Debian 6.1) dma-buf pins every dynamic mapping;
 *    such an importer still gets invalidate_mappings and is waited for the
 *    same way.
 * Attach and map fail with -ENODEV once revoked; an importer that cannot be
 * revoked cannot pin or map (-EBUSY) while a conversion of the range is
 * between prepare and commit, so it cannot slip in after prepare looked.
 * Converting the range back to shared does not revive an export.
 *
 * There are no struct pages: a mapping is an sg_table carrying only DMA
 * addresses (dma_map_resource() of each contiguous physical run, cut at the
 * importer's dma_get_max_seg_size()), built from
 * the file's extents at map time.
 *
 * Who pins whom: the export holds a reference to the gmem file (taken at
 * export, dropped in ->release), so the file, its extents and this module
 * outlive every export; the user is unregistered in ->release.
 *
 * Locking: the reservation lock (dma_resv) protects @revoked, @blocked and
 * the attachment list of the DMA-BUF. Map holds dma_resv (taken by its
 * caller), checks @revoked, then reads the extents under gf->lock:
 * dma_resv -> gf->lock. The commit phase, with gf->map_lock held for write,
 * sets @revoked under dma_resv before the apply step frees any extent under
 * gf->lock; so a map that saw @revoked clear reads extents that are still
 * allocated, and map never takes gf->map_lock (which would invert
 * gf->map_lock -> dma_resv). Commit waits for fences and unmaps with no
 * lock of the export held (unmap takes none of ours).
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/scatterlist.h>
#include <linux/wait.h>
#include <linux/slab.h>

#include "internal.h"
#include "trace.h"

MODULE_IMPORT_NS("DMA_BUF");

/**
 * struct gmem_pfnpool_dmabuf - one export
 * @dmabuf: the exported buffer
 * @gf: the gmem file (a reference held)
 * @start: first page of the range
 * @end: one past its last page
 * @user: registered with @gf
 * @registered: @user is registered (not yet while the export is set up)
 * @revoked: set once the range left the shared state; under dmabuf->resv
 * @blocked: conversions of the range between prepare and commit or abort;
 *	under dmabuf->resv
 * @mappings: sg tables handed out and not unmapped yet
 * @wq: woken when @mappings drops to zero
 */
struct gmem_pfnpool_dmabuf {
	struct dma_buf *dmabuf;
	struct gmem_pfnpool_file *gf;
	pgoff_t start;
	pgoff_t end;
	struct gmem_pfnpool_user user;
	bool registered;
	bool revoked;
	unsigned int blocked;
	atomic_t mappings;
	wait_queue_head_t wq;
};

static int gmem_pfnpool_dmabuf_attach(struct dma_buf *dmabuf,
				      struct dma_buf_attachment *attachment)
{
	struct gmem_pfnpool_dmabuf *priv = dmabuf->priv;

	if (READ_ONCE(priv->revoked))
		return -ENODEV;
	/* Unlocked hint; pin and map check again under dma_resv. */
	if (!dma_buf_attach_revocable(attachment) && READ_ONCE(priv->blocked))
		return -EBUSY;
	return 0;
}

/* May @attachment get a mapping (or a pin) now? */
static int gmem_pfnpool_dmabuf_may_map(struct gmem_pfnpool_dmabuf *priv,
				       struct dma_buf_attachment *attachment)
{
	dma_resv_assert_held(priv->dmabuf->resv);
	if (priv->revoked)
		return -ENODEV;
	if (priv->blocked && !dma_buf_attach_revocable(attachment))
		return -EBUSY;
	return 0;
}

/**
 * struct gmem_pfnpool_dmabuf_sgt - a mapping handed to an importer
 * @sgt: DMA addresses only, one entry per physically contiguous run
 * @page_backed: bit i set if entry i was mapped with dma_map_page(): part of
 *	a pool range may share a memory section with System RAM and then
 *	has (reserved) struct pages, which dma_map_resource() refuses
 */
struct gmem_pfnpool_dmabuf_sgt {
	struct sg_table sgt;
	unsigned long page_backed[];
};

static void gmem_pfnpool_dmabuf_unmap_sgt(struct dma_buf_attachment *a,
					  struct sg_table *sgt,
					  enum dma_data_direction dir)
{
	struct gmem_pfnpool_dmabuf_sgt *m =
		container_of(sgt, struct gmem_pfnpool_dmabuf_sgt, sgt);
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (test_bit(i, m->page_backed))
			dma_unmap_page_attrs(a->dev, sg_dma_address(sg),
					     sg_dma_len(sg), dir,
					     DMA_ATTR_SKIP_CPU_SYNC);
		else
			dma_unmap_resource(a->dev, sg_dma_address(sg),
					   sg_dma_len(sg), dir,
					   DMA_ATTR_SKIP_CPU_SYNC);
	}
	sg_free_table(sgt);
	kfree(m);
}

static void gmem_pfnpool_dmabuf_mapping_gone(struct gmem_pfnpool_dmabuf *priv)
{
	if (atomic_dec_and_test(&priv->mappings))
		wake_up_all(&priv->wq);
}

typedef void (*gmem_pfnpool_dmabuf_seg_fn)(void *data, unsigned int nr,
					   unsigned long pfn, pgoff_t npages);

/*
 * Hand out one contiguous run as segments of at most @max_pages pages (the
 * importer's dma_get_max_seg_size(): sg_dma_len is 32-bit, and a device
 * may take less). Returns the number of the next segment.
 */
static unsigned int gmem_pfnpool_dmabuf_segs(gmem_pfnpool_dmabuf_seg_fn fn,
					     void *data, unsigned int nr,
					     unsigned long pfn, pgoff_t npages,
					     pgoff_t max_pages)
{
	while (npages) {
		pgoff_t n = min(npages, max_pages);

		if (fn)
			fn(data, nr, pfn, n);
		nr++;
		pfn += n;
		npages -= n;
	}
	return nr;
}

/*
 * Walk the range's extents: call @fn once per segment, a physically
 * contiguous run of at most @max_pages pages. Returns the number of
 * segments, 0 if part of the range has no memory.
 */
static unsigned int
gmem_pfnpool_dmabuf_runs(struct gmem_pfnpool_dmabuf *priv, pgoff_t max_pages,
			 gmem_pfnpool_dmabuf_seg_fn fn, void *data)
{
	struct gmem_pfnpool_file *gf = priv->gf;
	unsigned long pfn, run_pfn = 0;
	pgoff_t i, first, last, n, run_pages = 0;
	unsigned int nr = 0;

	lockdep_assert_held(&gf->lock);
	for (i = priv->start; i < priv->end; i += n) {
		pfn = __gmem_pfnpool_extent_lookup(gf, i, &first, &last);
		if (!pfn)
			return 0;
		n = min(last + 1, priv->end) - i;
		if (run_pages && pfn == run_pfn + run_pages &&
		    pfn_valid(pfn) == pfn_valid(run_pfn)) {
			run_pages += n;
			continue;
		}
		nr = gmem_pfnpool_dmabuf_segs(fn, data, nr, run_pfn, run_pages,
					      max_pages);
		run_pfn = pfn;
		run_pages = n;
	}
	return gmem_pfnpool_dmabuf_segs(fn, data, nr, run_pfn, run_pages,
					max_pages);
}

struct gmem_pfnpool_dmabuf_fill {
	struct gmem_pfnpool_dmabuf_sgt *m;
	struct scatterlist *sg;
};

static void gmem_pfnpool_dmabuf_fill_one(void *data, unsigned int nr,
					 unsigned long pfn, pgoff_t npages)
{
	struct gmem_pfnpool_dmabuf_fill *f = data;

	f->sg = f->sg ? sg_next(f->sg) : f->m->sgt.sgl;
	/* Physical address for now; replaced by the DMA address below. */
	sg_dma_address(f->sg) = PFN_PHYS(pfn);
	sg_dma_len(f->sg) = npages << PAGE_SHIFT;
	if (pfn_valid(pfn))
		__set_bit(nr, f->m->page_backed);
}

static struct sg_table *
gmem_pfnpool_dmabuf_map(struct dma_buf_attachment *attachment,
			enum dma_data_direction dir)
{
	struct gmem_pfnpool_dmabuf *priv = attachment->dmabuf->priv;
	struct gmem_pfnpool_file *gf = priv->gf;
	struct gmem_pfnpool_dmabuf_fill fill = {};
	struct device *dev = attachment->dev;
	/* At least one page; never above UINT_MAX bytes (sg_dma_len). */
	pgoff_t max_pages = max(dma_get_max_seg_size(dev) >> PAGE_SHIFT, 1U);
	struct scatterlist *sg;
	unsigned int nents, i;
	int ret;

	ret = gmem_pfnpool_dmabuf_may_map(priv, attachment);
	if (ret)
		return ERR_PTR(ret);

	mutex_lock(&gf->lock);
	nents = gmem_pfnpool_dmabuf_runs(priv, max_pages, NULL, NULL);
	if (!nents) {
		ret = -ENODEV;
		goto unlock;
	}
	fill.m = kzalloc(struct_size(fill.m, page_backed,
				     BITS_TO_LONGS(nents)), GFP_KERNEL);
	if (!fill.m) {
		ret = -ENOMEM;
		goto unlock;
	}
	ret = sg_alloc_table(&fill.m->sgt, nents, GFP_KERNEL);
	if (ret)
		goto free_map;
	gmem_pfnpool_dmabuf_runs(priv, max_pages, gmem_pfnpool_dmabuf_fill_one,
				 &fill);
	mutex_unlock(&gf->lock);

	for_each_sgtable_dma_sg(&fill.m->sgt, sg, i) {
		phys_addr_t phys = sg_dma_address(sg);
		dma_addr_t dma;

		if (test_bit(i, fill.m->page_backed))
			dma = dma_map_page_attrs(dev, pfn_to_page(PHYS_PFN(phys)),
						 0, sg_dma_len(sg), dir,
						 DMA_ATTR_SKIP_CPU_SYNC);
		else
			dma = dma_map_resource(dev, phys, sg_dma_len(sg), dir,
					       DMA_ATTR_SKIP_CPU_SYNC);
		if (dma_mapping_error(dev, dma)) {
			fill.m->sgt.nents = i;
			gmem_pfnpool_dmabuf_unmap_sgt(attachment,
						      &fill.m->sgt, dir);
			return ERR_PTR(-EIO);
		}
		sg_dma_address(sg) = dma;
	}
	atomic_inc(&priv->mappings);
	return &fill.m->sgt;

free_map:
	kfree(fill.m);
unlock:
	mutex_unlock(&gf->lock);
	return ERR_PTR(ret);
}

static void gmem_pfnpool_dmabuf_unmap(struct dma_buf_attachment *attachment,
				      struct sg_table *sgt,
				      enum dma_data_direction dir)
{
	gmem_pfnpool_dmabuf_unmap_sgt(attachment, sgt, dir);
	gmem_pfnpool_dmabuf_mapping_gone(attachment->dmabuf->priv);
}

static void gmem_pfnpool_dmabuf_release(struct dma_buf *dmabuf)
{
	struct gmem_pfnpool_dmabuf *priv = dmabuf->priv;

	if (priv->registered)
		gmem_pfnpool_unregister_user(priv->gf, &priv->user);
	gmem_pfnpool_file_put(priv->gf);
	kfree(priv);
}

/*
 * Having pin/unpin makes this a dynamic exporter, so dma-buf calls
 * ->map_dma_buf() on every dynamic map instead of caching the first
 * mapping, and a revoked export really fails to map. A pin does not hold
 * revocation off for an importer that can be revoked (it is told with
 * invalidate_mappings like any other); one that cannot be revoked is found
 * on the attachment list by prepare and refuses the conversion.
 */
static int gmem_pfnpool_dmabuf_pin(struct dma_buf_attachment *attachment)
{
	return gmem_pfnpool_dmabuf_may_map(attachment->dmabuf->priv,
					   attachment);
}

static void gmem_pfnpool_dmabuf_unpin(struct dma_buf_attachment *attachment)
{
}

static const struct dma_buf_ops gmem_pfnpool_dmabuf_ops = {
	.attach = gmem_pfnpool_dmabuf_attach,
	.pin = gmem_pfnpool_dmabuf_pin,
	.unpin = gmem_pfnpool_dmabuf_unpin,
	.map_dma_buf = gmem_pfnpool_dmabuf_map,
	.unmap_dma_buf = gmem_pfnpool_dmabuf_unmap,
	.release = gmem_pfnpool_dmabuf_release,
};

/* How userspace names the export: the inode number of the DMA-BUF fd. */
static unsigned long long gmem_pfnpool_dmabuf_ino(struct gmem_pfnpool_dmabuf *priv)
{
	return file_inode(priv->dmabuf->file)->i_ino;
}

/* Does a change of @range take memory away from the export? */
static bool gmem_pfnpool_dmabuf_affected(struct gmem_pfnpool_dmabuf *priv,
					 const struct gmem_pfnpool_range *range)
{
	return range->event != GMEM_PFNPOOL_EVENT_TO_SHARED &&
	       range->start < priv->end && priv->start < range->end;
}

static int gmem_pfnpool_dmabuf_prepare(struct gmem_pfnpool_user *user,
				       const struct gmem_pfnpool_range *range)
{
	struct gmem_pfnpool_dmabuf *priv =
		container_of(user, struct gmem_pfnpool_dmabuf, user);
	struct dma_buf_attachment *attachment;
	char name[GMEM_PFNPOOL_USER_NAME_LEN];
	int ret = 0;

	if (!gmem_pfnpool_dmabuf_affected(priv, range))
		return 0;

	dma_resv_lock(priv->dmabuf->resv, NULL);
	list_for_each_entry(attachment, &priv->dmabuf->attachments, node) {
		if (dma_buf_attach_revocable(attachment))
			continue;
		snprintf(name, sizeof(name), "dmabuf:%llu %s",
			 gmem_pfnpool_dmabuf_ino(priv),
			 dev_name(attachment->dev));
		gmem_pfnpool_veto_describe(range, max(priv->start,
						      range->start), name);
		ret = -EBUSY;
		break;
	}
	if (!ret)
		priv->blocked++;
	dma_resv_unlock(priv->dmabuf->resv);
	return ret;
}

static void gmem_pfnpool_dmabuf_abort(struct gmem_pfnpool_user *user,
				      const struct gmem_pfnpool_range *range)
{
	struct gmem_pfnpool_dmabuf *priv =
		container_of(user, struct gmem_pfnpool_dmabuf, user);

	if (!gmem_pfnpool_dmabuf_affected(priv, range))
		return;
	dma_resv_lock(priv->dmabuf->resv, NULL);
	priv->blocked--;
	dma_resv_unlock(priv->dmabuf->resv);
}

static void gmem_pfnpool_dmabuf_commit(struct gmem_pfnpool_user *user,
				       const struct gmem_pfnpool_range *range)
{
	struct gmem_pfnpool_dmabuf *priv =
		container_of(user, struct gmem_pfnpool_dmabuf, user);
	struct dma_resv *resv = priv->dmabuf->resv;

	if (!gmem_pfnpool_dmabuf_affected(priv, range))
		return;

	dma_resv_lock(resv, NULL);
	priv->blocked--;
	if (!priv->revoked) {
		WRITE_ONCE(priv->revoked, true);
		dma_buf_invalidate_mappings(priv->dmabuf);
		trace_gmem_pfnpool_dmabuf_revoke(gmem_pfnpool_file_ino(priv->gf),
						 gmem_pfnpool_dmabuf_ino(priv),
						 priv->start, priv->end);
	}
	dma_resv_unlock(resv);

	/* Revoked; now wait until the importers have really let go. */
	dma_resv_wait_timeout(resv, DMA_RESV_USAGE_BOOKKEEP, false,
			      MAX_SCHEDULE_TIMEOUT);
	while (!wait_event_timeout(priv->wq, !atomic_read(&priv->mappings),
				   10 * HZ))
		pr_warn("dmabuf:%llu: waiting for importers to unmap %d revoked mappings\n",
			gmem_pfnpool_dmabuf_ino(priv),
			atomic_read(&priv->mappings));
}

static const struct gmem_pfnpool_user_ops gmem_pfnpool_dmabuf_user_ops = {
	.prepare = gmem_pfnpool_dmabuf_prepare,
	.commit = gmem_pfnpool_dmabuf_commit,
	.abort = gmem_pfnpool_dmabuf_abort,
};

/**
 * gmem_pfnpool_export_dmabuf() - export a shared range as a DMA-BUF
 * @gf: the file
 * @start: first page
 * @end: one past the last page
 *
 * The caller installs the DMA-BUF in an fd (O_CLOEXEC) or drops it with
 * dma_buf_put().
 *
 * Return: the DMA-BUF, or ERR_PTR(-EINVAL) if a part of the range is not
 * shared, -EAGAIN if a conversion of it is in flight, -ENOSPC, -ENOMEM,
 * -EINTR on a fatal signal while a conversion of the file calls its users.
 */
struct dma_buf *gmem_pfnpool_export_dmabuf(struct gmem_pfnpool_file *gf,
					   pgoff_t start, pgoff_t end)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct gmem_pfnpool_dmabuf *priv;
	struct dma_buf *dmabuf;
	int ret;

	if (!gmem_pfnpool_attrs_all(&gf->attrs, start, end,
				    GMEM_PFNPOOL_ATTR_SHARED))
		goto not_shared;
	ret = gmem_pfnpool_extent_allocate(gf, start, end);
	if (ret)
		return ERR_PTR(ret);

	priv = kzalloc(sizeof(*priv), GFP_KERNEL);
	if (!priv)
		return ERR_PTR(-ENOMEM);
	priv->gf = gf;
	priv->start = start;
	priv->end = end;
	atomic_set(&priv->mappings, 0);
	init_waitqueue_head(&priv->wq);
	priv->user.name = "dmabuf";
	priv->user.ops = &gmem_pfnpool_dmabuf_user_ops;

	exp_info.ops = &gmem_pfnpool_dmabuf_ops;
	exp_info.size = (size_t)(end - start) << PAGE_SHIFT;
	exp_info.flags = O_RDWR | O_CLOEXEC;
	exp_info.priv = priv;

	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		kfree(priv);
		return dmabuf;
	}
	priv->dmabuf = dmabuf;
	/* From here dma_buf_put() frees priv through ->release. */
	get_file(gf->file);
	/* Killable: a conversion calling users may take long. */
	ret = gmem_pfnpool_register_user(gf, &priv->user);
	if (ret) {
		dma_buf_put(dmabuf);
		return ERR_PTR(ret);
	}
	priv->registered = true;

	/*
	 * Registered first, checked second: a conversion to private that
	 * committed before we registered is seen here; one that starts
	 * after will revoke us.
	 */
	mutex_lock(&gf->lock);
	if (__gmem_pfnpool_inflight(gf, start, end))
		ret = -EAGAIN;
	else if (!gmem_pfnpool_attrs_all(&gf->attrs, start, end,
					 GMEM_PFNPOOL_ATTR_SHARED))
		ret = -EINVAL;
	mutex_unlock(&gf->lock);
	if (ret) {
		dma_buf_put(dmabuf);
		return ERR_PTR(ret);
	}
	trace_gmem_pfnpool_dmabuf_export(gmem_pfnpool_file_ino(gf),
					 gmem_pfnpool_dmabuf_ino(priv), start, end);
	return dmabuf;

not_shared:
	pr_debug("export of a range that is not shared\n");
	return ERR_PTR(-EINVAL);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * In-kernel API: reach a gmem file from an fd and look its PFNs up. User
 * registration and pins are in users.c, the engine that calls the users in
 * invalidate.c.
 *
 * Who pins whom: the caller's gmem_pfnpool_file_get() holds a reference to
 * the struct file, which keeps the gmem file and this module alive; a
 * registered user must stay registered only while that reference is held.
 *
 * Locking: gmem_pfnpool_lookup() takes gf->lock (a leaf, see internal.h);
 * gmem_pfnpool_lookup_retry() takes nothing: the ordering against the
 * commit phase comes from the caller's own lock, which its commit callback
 * takes after the engine made gf->invalidate_seq odd (invalidate.c).
 */
#include <linux/file.h>
#include <linux/fs.h>

#include "internal.h"

/**
 * gmem_pfnpool_file_get() - get a gmem file from a file descriptor
 * @fd: file descriptor in the current task
 *
 * Return: the file with a reference held (drop it with
 * gmem_pfnpool_file_put()), ERR_PTR(-EBADF) for a bad fd or ERR_PTR(-EINVAL)
 * if @fd is not a gmem file.
 */
struct gmem_pfnpool_file *gmem_pfnpool_file_get(int fd)
{
	struct file *file = fget(fd);

	if (!file)
		return ERR_PTR(-EBADF);
	if (file->f_op != &gmem_pfnpool_fops) {
		fput(file);
		return ERR_PTR(-EINVAL);
	}
	return file->private_data;
}
EXPORT_SYMBOL_GPL(gmem_pfnpool_file_get);

/**
 * gmem_pfnpool_file_put() - drop the reference of gmem_pfnpool_file_get()
 * @gf: the file
 */
void gmem_pfnpool_file_put(struct gmem_pfnpool_file *gf)
{
	fput(gf->file);
}
EXPORT_SYMBOL_GPL(gmem_pfnpool_file_put);

/**
 * gmem_pfnpool_file_pages() - size of a gmem file
 * @gf: the file
 *
 * Return: the size in pages.
 */
pgoff_t gmem_pfnpool_file_pages(struct gmem_pfnpool_file *gf)
{
	return gf->npages;
}
EXPORT_SYMBOL_GPL(gmem_pfnpool_file_pages);

/* Clip @order so that its block has no conversion in flight. */
static unsigned int gmem_pfnpool_stable_order(struct gmem_pfnpool_file *gf,
					      const struct gmem_pfnpool_map_ctx *ctx,
					      unsigned int order)
{
	lockdep_assert_held(&gf->lock);
	while (order) {
		pgoff_t n = 1UL << order;
		pgoff_t bs = ALIGN_DOWN(ctx->index, n);

		if (!__gmem_pfnpool_inflight(gf, bs, bs + n))
			break;
		order = order > GMEM_PFNPOOL_ORDER_PMD ?
			gmem_pfnpool_map_order(ctx, GMEM_PFNPOOL_ORDER_PMD) : 0;
	}
	return order;
}

/**
 * gmem_pfnpool_lookup() - PFN, attribute and mapping order of a file page
 * @gf: the file
 * @index: page index
 * @pfn: out: the PFN backing @index (allocated now if needed)
 * @attr: out: GMEM_PFNPOOL_ATTR_SHARED or GMEM_PFNPOOL_ATTR_PRIVATE
 * @order: out: the largest order of a mapping of the naturally aligned
 *	block around @index that has one attribute, contiguous PFNs and no
 *	conversion in flight (0, PMD order or PUD order), for a mapping whose
 *	address is congruent to the file offset
 * @seq: out: the lookup sequence, for gmem_pfnpool_lookup_retry()
 *
 * The result may be installed (in page tables, an IOMMU, a device) only
 * under the caller's own lock, after gmem_pfnpool_lookup_retry(@gf, @seq)
 * returned false under that lock, and the caller's commit callback must
 * take the same lock before it drops what it installed: see
 * include/linux/gmem_pfnpool.h. A user must register before looking up.
 *
 * Context: may sleep; takes gf->lock, so it may be called from the
 * callbacks of a user (it never waits for a conversion).
 * Return: 0, -EINVAL for an index outside the file, -EAGAIN while a
 * conversion of the page is in flight, -ENOSPC or -ENOMEM if the page
 * could not be allocated.
 */
int gmem_pfnpool_lookup(struct gmem_pfnpool_file *gf, pgoff_t index,
			unsigned long *pfn, u32 *attr, unsigned int *order,
			unsigned long *seq)
{
	struct gmem_pfnpool_map_ctx ctx = {
		.addr = index << PAGE_SHIFT,
		.vm_start = 0,
		.vm_end = ULONG_MAX,
		.index = index,
	};
	int ret;

	if (index >= gf->npages)
		return -EINVAL;

	mutex_lock(&gf->lock);
	*seq = gf->invalidate_seq;
	if (__gmem_pfnpool_inflight(gf, index, index + 1)) {
		ret = -EAGAIN;
		goto unlock;
	}
	ret = __gmem_pfnpool_extent_ensure(gf, index);
	if (ret)
		goto unlock;

	ctx.pfn = __gmem_pfnpool_extent_lookup(gf, index, &ctx.ext_first,
					       &ctx.ext_last);
	*attr = gmem_pfnpool_attrs_get(&gf->attrs, index, &ctx.attr_first,
				       &ctx.attr_last);
	*pfn = ctx.pfn;
	*order = gmem_pfnpool_stable_order(gf, &ctx,
					   gmem_pfnpool_map_order(&ctx,
								  GMEM_PFNPOOL_ORDER_PUD));
unlock:
	mutex_unlock(&gf->lock);
	return ret;
}
EXPORT_SYMBOL_GPL(gmem_pfnpool_lookup);

/**
 * gmem_pfnpool_lookup_retry() - must a lookup be redone before installing?
 * @gf: the file
 * @seq: the sequence gmem_pfnpool_lookup() returned
 *
 * Call it under the lock the caller's commit callback takes, right before
 * installing the result of the lookup. True means a commit phase ran or is
 * running since the lookup: drop the lock and look up again. While a commit
 * phase runs (it is short, but may wait for DMA-BUF importers to let go)
 * the answer stays true; a caller that loops should not hold locks the
 * commit callbacks need, and never loop from a callback of its own.
 *
 * Context: any; does not sleep.
 * Return: true if the result of the lookup must not be installed.
 */
bool gmem_pfnpool_lookup_retry(struct gmem_pfnpool_file *gf, unsigned long seq)
{
	return (seq & 1) || READ_ONCE(gf->invalidate_seq) != seq;
}
EXPORT_SYMBOL_GPL(gmem_pfnpool_lookup_retry);

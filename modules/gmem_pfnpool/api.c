// SPDX-License-Identifier: GPL-2.0-only
/*
 * In-kernel API: reach a gmem file from an fd and look its PFNs up. User
 * registration and pins are in invalidate.c, next to the engine that calls
 * the users.
 *
 * Who pins whom: the caller's gmem_pfnpool_file_get() holds a reference to
 * the struct file, which keeps the gmem file and this module alive; a
 * registered user must stay registered only while that reference is held.
 *
 * Locking: gmem_pfnpool_lookup() takes gf->lock (a leaf, see internal.h).
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

/**
 * gmem_pfnpool_lookup() - PFN, attribute and mapping order of a file page
 * @gf: the file
 * @index: page index
 * @pfn: out: the PFN backing @index (allocated now if needed)
 * @attr: out: GMEM_PFNPOOL_ATTR_SHARED or GMEM_PFNPOOL_ATTR_PRIVATE
 * @order: out: the largest order of a mapping of the naturally aligned
 *	block around @index that has one attribute and contiguous PFNs (0,
 *	PMD order or PUD order), for a mapping whose address is congruent to
 *	the file offset
 *
 * The result stays valid until the user's commit callback is called for a
 * range containing @index; a user must register before looking up, and
 * must order its own use of the PFN against its commit callback (e.g.
 * with a lock or a sequence count of its own).
 *
 * Context: may sleep.
 * Return: 0, -EINVAL for an index outside the file, -EAGAIN while a
 * conversion of the page is in flight, -ENOSPC or -ENOMEM if the page
 * could not be allocated.
 */
int gmem_pfnpool_lookup(struct gmem_pfnpool_file *gf, pgoff_t index,
			unsigned long *pfn, u32 *attr, unsigned int *order)
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
	*order = gmem_pfnpool_map_order(&ctx, GMEM_PFNPOOL_ORDER_PUD);
unlock:
	mutex_unlock(&gf->lock);
	return ret;
}
EXPORT_SYMBOL_GPL(gmem_pfnpool_lookup);

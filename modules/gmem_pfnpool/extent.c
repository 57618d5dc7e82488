// SPDX-License-Identifier: GPL-2.0-only
/*
 * The extent map of a gmem file: which PFN of the pool backs each page.
 *
 * Extents live in a maple tree: a range of file pages -> xa_mk_value(PFN of
 * the first page). Memory is allocated per naturally aligned block of the
 * file (1 GiB, else 2 MiB, else 4 KiB, whichever is free in the file and in
 * the pool) so that file offset and PFN share their alignment: a mapping at
 * an address congruent to the offset can then use PUD or PMD entries.
 *
 * Locking: gf->lock serialises writers of gf->extents (allocation on fault,
 * fallocate, lookup; free in the commit phase or at release). Readers walk
 * the tree under rcu_read_lock() holding gf->lock or gf->map_lock for read.
 * The tree is in RCU mode (MT_FLAGS_USE_RCU): an allocation under gf->lock
 * may store while a map_lock reader walks, and a node it replaces is freed
 * only after a grace period, so the walk never reads a freed or half
 * rewritten node. The memory an extent names is freed only with map_lock
 * held for write, so what a map_lock reader finds stays allocated.
 * Lock order: gf->users_rwsem -> gf->map_lock -> gf->lock (see internal.h).
 */
#include <linux/maple_tree.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <kunit/visibility.h>

#include "internal.h"

/**
 * __gmem_pfnpool_extent_lookup() - PFN backing a file page
 * @gf: the file
 * @index: page index
 * @first: out: first page of the extent holding @index (or of the hole)
 * @last: out: last page of that extent (or hole)
 *
 * Context: gf->lock or gf->map_lock held.
 * Return: the PFN, or 0 if @index is not allocated (the pool never holds
 * PFN 0).
 */
unsigned long __gmem_pfnpool_extent_lookup(struct gmem_pfnpool_file *gf,
					   pgoff_t index, pgoff_t *first,
					   pgoff_t *last)
{
	MA_STATE(mas, &gf->extents, index, index);
	void *entry;

	lockdep_assert(lockdep_is_held(&gf->lock) ||
		       lockdep_is_held(&gf->map_lock));
	rcu_read_lock();
	entry = mas_walk(&mas);
	*first = mas.index;
	*last = mas.last;
	rcu_read_unlock();
	if (!xa_is_value(entry))
		return 0;
	return xa_to_value(entry) + (index - *first);
}
EXPORT_SYMBOL_IF_KUNIT(__gmem_pfnpool_extent_lookup);

static const unsigned int gmem_pfnpool_alloc_orders[] = {
	GMEM_PFNPOOL_ORDER_PUD, GMEM_PFNPOOL_ORDER_PMD, 0,
};

/**
 * __gmem_pfnpool_extent_ensure() - allocate the memory of a file page
 * @gf: the file
 * @index: page index, < gf->npages
 *
 * Allocates the largest naturally aligned block of the file around @index
 * that has no memory yet and fits in the file, trying 1 GiB, 2 MiB, then
 * 4 KiB blocks of the pool.
 *
 * Context: gf->lock held.
 * Return: 0 (also if already allocated), -ENOSPC, -ENOMEM.
 */
int __gmem_pfnpool_extent_ensure(struct gmem_pfnpool_file *gf, pgoff_t index)
{
	pgoff_t first, last;
	unsigned int i;
	int ret = -ENOSPC;

	lockdep_assert_held(&gf->lock);
	if (__gmem_pfnpool_extent_lookup(gf, index, &first, &last))
		return 0;

	for (i = 0; i < ARRAY_SIZE(gmem_pfnpool_alloc_orders); i++) {
		pgoff_t n = 1UL << gmem_pfnpool_alloc_orders[i];
		pgoff_t bs = ALIGN_DOWN(index, n);
		phys_addr_t phys;

		/* The block must lie in the file and in the hole. */
		if (bs + n > gf->npages || bs < first || bs + n - 1 > last)
			continue;
		ret = gmem_pfnpool_pool_alloc(gf->pool, (u64)n << PAGE_SHIFT,
					      &phys);
		if (ret == -ENOSPC)
			continue;
		if (ret)
			return ret;
		ret = mtree_store_range(&gf->extents, bs, bs + n - 1,
					xa_mk_value(PHYS_PFN(phys)),
					GFP_KERNEL);
		if (ret) {
			gmem_pfnpool_pool_free(gf->pool, phys,
					       (u64)n << PAGE_SHIFT);
			return ret;
		}
		gf->allocated += n;
		return 0;
	}
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(__gmem_pfnpool_extent_ensure);

/**
 * gmem_pfnpool_extent_allocate() - allocate the memory of a page range
 * @gf: the file
 * @start: first page
 * @end: one past the last page
 *
 * On failure, what was allocated stays allocated (as with fallocate()).
 *
 * Return: 0, -ENOSPC, -ENOMEM, -EINTR.
 */
int gmem_pfnpool_extent_allocate(struct gmem_pfnpool_file *gf, pgoff_t start,
				 pgoff_t end)
{
	pgoff_t index = start, first, last;
	int ret = 0;

	mutex_lock(&gf->lock);
	while (index < end) {
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		ret = __gmem_pfnpool_extent_ensure(gf, index);
		if (ret)
			break;
		__gmem_pfnpool_extent_lookup(gf, index, &first, &last);
		index = last + 1;
	}
	mutex_unlock(&gf->lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_extent_allocate);

/*
 * A piece of an extent taken out of a file, on gf->freed until it is zeroed
 * and given back to the pool.
 */
struct gmem_pfnpool_freed {
	struct list_head node;
	phys_addr_t phys;
	u64 size;
};

/**
 * __gmem_pfnpool_extent_free() - take the memory of a page range out
 * @gf: the file
 * @start: first page
 * @end: one past the last page
 *
 * Extents that straddle the range are split. The memory leaves the file at
 * once (a later fault or lookup finds a hole) but is zeroed and given back
 * to the pool only by gmem_pfnpool_extent_release(), which the caller runs
 * once it dropped its locks: zeroing a GiB takes long, and nothing that
 * faults or converts may wait for it. Until then the pool counts it used.
 *
 * Context: gf->lock held, and gf->map_lock held for write or no mapping
 * possible (release).
 */
void __gmem_pfnpool_extent_free(struct gmem_pfnpool_file *gf, pgoff_t start,
				pgoff_t end)
{
	pgoff_t index = start;

	lockdep_assert_held(&gf->lock);
	while (index < end) {
		MA_STATE(mas, &gf->extents, index, index);
		struct gmem_pfnpool_freed *fr;
		pgoff_t first, last, os, oe;
		unsigned long base;
		void *entry;

		rcu_read_lock();
		entry = mas_find(&mas, end - 1);
		first = mas.index;
		last = mas.last;
		rcu_read_unlock();
		if (!entry)
			break;

		base = xa_to_value(entry);
		os = max(first, start);
		oe = min(last, end - 1);
		/* The commit phase cannot fail: none of these may. */
		fr = kmalloc(sizeof(*fr), GFP_KERNEL | __GFP_NOFAIL);
		/* Storing NULL keeps the left part [first, os) as it is. */
		mtree_store_range(&gf->extents, os, oe, NULL,
				  GFP_KERNEL | __GFP_NOFAIL);
		if (oe < last)
			mtree_store_range(&gf->extents, oe + 1, last,
					  xa_mk_value(base + (oe + 1 - first)),
					  GFP_KERNEL | __GFP_NOFAIL);
		fr->phys = PFN_PHYS(base + (os - first));
		fr->size = (u64)(oe - os + 1) << PAGE_SHIFT;
		list_add_tail(&fr->node, &gf->freed);
		gf->allocated -= oe - os + 1;
		index = oe + 1;
	}
}
EXPORT_SYMBOL_IF_KUNIT(__gmem_pfnpool_extent_free);

/**
 * gmem_pfnpool_extent_release() - zero and give back what was taken out
 * @gf: the file
 *
 * Zeroes the memory that __gmem_pfnpool_extent_free() took out of @gf,
 * whoever took it, and returns it to the pool.
 *
 * Context: may sleep; gf->lock and gf->map_lock not held.
 */
void gmem_pfnpool_extent_release(struct gmem_pfnpool_file *gf)
{
	struct gmem_pfnpool_freed *fr, *tmp;
	LIST_HEAD(freed);

	lockdep_assert_not_held(&gf->map_lock);
	mutex_lock(&gf->lock);
	list_splice_init(&gf->freed, &freed);
	mutex_unlock(&gf->lock);
	list_for_each_entry_safe(fr, tmp, &freed, node) {
		gmem_pfnpool_pool_free(gf->pool, fr->phys, fr->size);
		kfree(fr);
	}
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_extent_release);

/**
 * gmem_pfnpool_extent_count() - number of extents of a file
 * @gf: the file
 *
 * Return: the number of contiguous extents.
 */
unsigned long gmem_pfnpool_extent_count(struct gmem_pfnpool_file *gf)
{
	return gmem_pfnpool_mt_count(&gf->extents);
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_extent_count);

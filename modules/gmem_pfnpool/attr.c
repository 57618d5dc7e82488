// SPDX-License-Identifier: GPL-2.0-only
/*
 * Shared/private attribute of every page of a gmem file, kept as maximal
 * ranges in a maple tree: a 1 GiB file that is all shared is one entry;
 * converting one 4 KiB page in its middle leaves three; converting it back
 * merges them into one again. A change costs one store plus a look at each
 * neighbour, i.e. it grows with the ranges touched, never with the pages.
 *
 * Every index below the file size has an entry, so a walk never finds a gap.
 *
 * Locking: the maple tree's own spinlock serialises stores; callers
 * serialise changes of one file (gf->lock) so that reading the neighbours
 * and the store are atomic for other writers. Readers (GET_ATTR, the no-op
 * check of a conversion, faults) take no lock but rcu_read_lock(): the tree
 * is in RCU mode (MT_FLAGS_USE_RCU), so a store never rewrites a node in
 * place and frees replaced nodes after a grace period. A reader therefore
 * sees every entry either before or after a store, never a torn mix, and
 * never a freed node. Chosen over taking gf->lock (or a seqcount) in the
 * readers because GET_ATTR and the no-op check must not wait for a
 * conversion of another range that holds gf->lock for its apply step, and
 * because a change is one store: the merged range is computed from the
 * neighbours first and stored at once, so a reader never sees a range
 * split in two for the instant between a store and a merge.
 */
#include <linux/maple_tree.h>
#include <linux/rcupdate.h>
#include <linux/xarray.h>
#include <kunit/visibility.h>

#include "internal.h"

static void *gmem_pfnpool_attrs_walk(struct gmem_pfnpool_attrs *attrs,
				     pgoff_t index, pgoff_t *first,
				     pgoff_t *last)
{
	MA_STATE(mas, &attrs->mt, index, index);
	void *entry;

	rcu_read_lock();
	entry = mas_walk(&mas);
	*first = mas.index;
	*last = mas.last;
	rcu_read_unlock();
	return entry;
}

/**
 * gmem_pfnpool_attrs_init() - give every page of a file one attribute
 * @attrs: the attribute tree
 * @npages: size of the file in pages, non-zero
 * @attr: GMEM_PFNPOOL_ATTR_SHARED or GMEM_PFNPOOL_ATTR_PRIVATE
 *
 * Return: 0 or -ENOMEM.
 */
int gmem_pfnpool_attrs_init(struct gmem_pfnpool_attrs *attrs, pgoff_t npages,
			    u32 attr)
{
	mt_init_flags(&attrs->mt, MT_FLAGS_USE_RCU);
	return mtree_store_range(&attrs->mt, 0, npages - 1, xa_mk_value(attr),
				 GFP_KERNEL);
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_attrs_init);

/**
 * gmem_pfnpool_attrs_destroy() - free the attribute tree
 * @attrs: the attribute tree
 */
void gmem_pfnpool_attrs_destroy(struct gmem_pfnpool_attrs *attrs)
{
	mtree_destroy(&attrs->mt);
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_attrs_destroy);

/**
 * gmem_pfnpool_attrs_set() - set the attribute of a page range
 * @attrs: the attribute tree
 * @start: first page
 * @end: one past the last page; @start < @end <= file size
 * @attr: the new attribute
 * @gfp: allocation flags for maple nodes (__GFP_NOFAIL in a commit phase)
 *
 * Splits the ranges @start and @end fall in and merges the result with equal
 * neighbours, in one store: lock-free readers see the old or the new
 * ranges, both maximal.
 *
 * Context: the file's changes serialised by the caller (gf->lock).
 * Return: 0, or -ENOMEM with nothing changed.
 */
int gmem_pfnpool_attrs_set(struct gmem_pfnpool_attrs *attrs, pgoff_t start,
			   pgoff_t end, u32 attr, gfp_t gfp)
{
	void *val = xa_mk_value(attr);
	pgoff_t first = start, last = end - 1, f, l;

	if (start && gmem_pfnpool_attrs_walk(attrs, start - 1, &f, &l) == val)
		first = f;
	if (gmem_pfnpool_attrs_walk(attrs, end, &f, &l) == val)
		last = l;
	return mtree_store_range(&attrs->mt, first, last, val, gfp);
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_attrs_set);

/**
 * gmem_pfnpool_attrs_get() - attribute of a page and its maximal range
 * @attrs: the attribute tree
 * @index: page index inside the file
 * @first: out (may be NULL): first page of the range with that attribute
 * @last: out (may be NULL): last page of that range
 *
 * Return: the attribute; GMEM_PFNPOOL_ATTR_PRIVATE if @index is outside the
 * file (nothing there may be mapped).
 */
u32 gmem_pfnpool_attrs_get(struct gmem_pfnpool_attrs *attrs, pgoff_t index,
			   pgoff_t *first, pgoff_t *last)
{
	pgoff_t f, l;
	void *entry = gmem_pfnpool_attrs_walk(attrs, index, &f, &l);

	if (first)
		*first = f;
	if (last)
		*last = l;
	if (!xa_is_value(entry))
		return GMEM_PFNPOOL_ATTR_PRIVATE;
	return xa_to_value(entry);
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_attrs_get);

/**
 * gmem_pfnpool_attrs_all() - does a whole range have one attribute?
 * @attrs: the attribute tree
 * @start: first page
 * @end: one past the last page
 * @attr: the attribute
 *
 * Return: true if every page of [@start, @end) has @attr.
 */
bool gmem_pfnpool_attrs_all(struct gmem_pfnpool_attrs *attrs, pgoff_t start,
			    pgoff_t end, u32 attr)
{
	pgoff_t first, last;

	/* Ranges are maximal, so one walk answers. */
	return gmem_pfnpool_attrs_get(attrs, start, &first, &last) == attr &&
	       last >= end - 1;
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_attrs_all);

/**
 * gmem_pfnpool_attrs_count() - number of ranges in the tree
 * @attrs: the attribute tree
 *
 * Return: the number of maximal ranges (1 for a uniform file).
 */
unsigned long gmem_pfnpool_attrs_count(struct gmem_pfnpool_attrs *attrs)
{
	return gmem_pfnpool_mt_count(&attrs->mt);
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_attrs_count);

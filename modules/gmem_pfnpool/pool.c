// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pool: physical ranges without struct pages, handed out in naturally
 * aligned power-of-two blocks (1 GiB, 2 MiB, 4 KiB) by genalloc.
 *
 * Addresses inside genalloc are physical addresses, so the alignment
 * genalloc enforces (gen_pool_first_fit_align() aligns the absolute address)
 * is the alignment a huge page-table entry needs. Each chunk's owner pointer
 * is its struct gmem_pfnpool_pool_range, which gives the kernel address.
 *
 * Invariant: every free byte of the pool is zero. Ranges are zeroed when
 * added, blocks are zeroed when freed; so no byte of one file is ever visible
 * through another, and allocation is cheap.
 *
 * Metadata: genalloc keeps one bit per 4 KiB page (32 KiB per GiB) plus a
 * chunk header per range.
 *
 * Locking: none of its own besides genalloc's (lock-free bitmap updates, a
 * spinlock only to add chunks). @ranges is fixed once the pool is set up.
 * Allocation and free may be called from any sleepable context; free sleeps
 * while zeroing.
 */
#include <linux/bitmap.h>
#include <linux/genalloc.h>
#include <linux/log2.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <kunit/visibility.h>

#include "internal.h"

/**
 * gmem_pfnpool_pool_init() - set up an empty pool
 * @pool: the pool
 *
 * Return: 0 or -ENOMEM.
 */
int gmem_pfnpool_pool_init(struct gmem_pfnpool_pool *pool)
{
	pool->gp = gen_pool_create(PAGE_SHIFT, NUMA_NO_NODE);
	if (!pool->gp)
		return -ENOMEM;
	INIT_LIST_HEAD(&pool->ranges);
	pool->total = 0;
	atomic64_set(&pool->used, 0);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_pool_init);

/**
 * gmem_pfnpool_pool_destroy() - tear a pool down
 * @pool: the pool, with nothing allocated
 *
 * The ranges' memory itself belongs to the caller (memunmap, kvfree, ...).
 */
void gmem_pfnpool_pool_destroy(struct gmem_pfnpool_pool *pool)
{
	struct gmem_pfnpool_pool_range *r, *tmp;

	/* genalloc BUG()s on outstanding blocks: leak the pool instead. */
	if (!WARN_ON(atomic64_read(&pool->used)))
		gen_pool_destroy(pool->gp);
	list_for_each_entry_safe(r, tmp, &pool->ranges, node) {
		list_del(&r->node);
		kfree(r);
	}
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_pool_destroy);

static void gmem_pfnpool_zero(void *kva, u64 size)
{
	while (size) {
		u64 n = min_t(u64, size, SZ_2M);

		memset(kva, 0, n);
		kva += n;
		size -= n;
		cond_resched();
	}
}

/**
 * gmem_pfnpool_pool_add() - give a range to the pool
 * @pool: the pool
 * @phys: physical base, page-aligned, non-zero
 * @kva: kernel address of the range
 * @size: size in bytes, page-aligned, non-zero
 *
 * Zeroes the range. Ranges must not overlap (the caller checks).
 *
 * Return: 0, -EINVAL on misaligned input, or -ENOMEM.
 */
int gmem_pfnpool_pool_add(struct gmem_pfnpool_pool *pool, phys_addr_t phys,
			  void *kva, u64 size)
{
	struct gmem_pfnpool_pool_range *r;
	int ret;

	if (!phys || !size || !PAGE_ALIGNED(phys) || !PAGE_ALIGNED(size) ||
	    phys + size < phys)
		return -EINVAL;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->phys = phys;
	r->kva = kva;
	r->size = size;

	gmem_pfnpool_zero(kva, size);
	ret = gen_pool_add_owner(pool->gp, phys, phys, size, NUMA_NO_NODE, r);
	if (ret)
		goto free_range;

	list_add_tail(&r->node, &pool->ranges);
	pool->total += size;
	return 0;

free_range:
	kfree(r);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_pool_add);

/**
 * gmem_pfnpool_pool_alloc() - allocate a naturally aligned block
 * @pool: the pool
 * @size: a power of two, at least PAGE_SIZE, at most 1 GiB
 * @phys: out: physical address, aligned to @size
 *
 * The block is zero (see the invariant above).
 *
 * Return: 0, -EINVAL for a bad @size, -ENOSPC when no aligned block is free.
 */
int gmem_pfnpool_pool_alloc(struct gmem_pfnpool_pool *pool, u64 size,
			    phys_addr_t *phys)
{
	struct genpool_data_align align = { .align = size };
	unsigned long addr;

	if (size < PAGE_SIZE || size > SZ_1G || !is_power_of_2(size))
		return -EINVAL;

	addr = gen_pool_alloc_algo(pool->gp, size, gen_pool_first_fit_align,
				   &align);
	if (!addr)
		return -ENOSPC;

	atomic64_add(size, &pool->used);
	*phys = addr;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_pool_alloc);

/**
 * gmem_pfnpool_pool_kva() - kernel address of pool memory
 * @pool: the pool
 * @phys: a physical address inside one of the pool's ranges
 *
 * Return: the kernel address, or NULL if @phys is not in the pool.
 */
void *gmem_pfnpool_pool_kva(struct gmem_pfnpool_pool *pool, phys_addr_t phys)
{
	struct gmem_pfnpool_pool_range *r;

	list_for_each_entry(r, &pool->ranges, node)
		if (phys >= r->phys && phys - r->phys < r->size)
			return r->kva + (phys - r->phys);
	return NULL;
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_pool_kva);

/**
 * gmem_pfnpool_pool_free() - zero a block and give it back
 * @pool: the pool
 * @phys: physical address of the block (or of any page-aligned part of
 *	an allocated block)
 * @size: size in bytes, page-aligned
 *
 * Context: may sleep.
 */
void gmem_pfnpool_pool_free(struct gmem_pfnpool_pool *pool, phys_addr_t phys,
			    u64 size)
{
	void *kva = gmem_pfnpool_pool_kva(pool, phys);

	if (WARN_ON(!kva || !PAGE_ALIGNED(phys) || !PAGE_ALIGNED(size)))
		return;
	gmem_pfnpool_zero(kva, size);
	gen_pool_free(pool->gp, phys, size);
	atomic64_sub(size, &pool->used);
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_pool_free);

/**
 * gmem_pfnpool_pool_free_bytes() - bytes not handed out
 * @pool: the pool
 *
 * Return: free bytes, read from genalloc's own accounting.
 */
u64 gmem_pfnpool_pool_free_bytes(struct gmem_pfnpool_pool *pool)
{
	return gen_pool_avail(pool->gp);
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_pool_free_bytes);

/**
 * gmem_pfnpool_pool_used_bytes() - bytes handed out
 * @pool: the pool
 *
 * Return: used bytes, counted by this file independently of genalloc, so
 * that free + used == total is a real check.
 */
u64 gmem_pfnpool_pool_used_bytes(struct gmem_pfnpool_pool *pool)
{
	return atomic64_read(&pool->used);
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_pool_used_bytes);

struct gmem_pfnpool_blocks {
	unsigned int order;
	u64 count;
};

static void gmem_pfnpool_count_chunk(struct gen_pool *gp,
				     struct gen_pool_chunk *chunk, void *data)
{
	struct gmem_pfnpool_blocks *b = data;
	unsigned long block = 1UL << b->order;
	unsigned long nbits = (chunk->end_addr - chunk->start_addr + 1) >>
			      PAGE_SHIFT;
	unsigned long first, bit;

	/* Bit 0 is at start_addr; blocks are aligned on the physical address. */
	first = (ALIGN(chunk->start_addr, block << PAGE_SHIFT) -
		 chunk->start_addr) >> PAGE_SHIFT;
	for (bit = first; bit + block <= nbits; bit += block)
		if (find_next_bit(chunk->bits, bit + block, bit) >= bit + block)
			b->count++;
}

/**
 * gmem_pfnpool_pool_free_blocks() - count free naturally aligned blocks
 * @pool: the pool
 * @order: block order in pages (0: 4 KiB pages, 9: 2 MiB, 18: 1 GiB)
 *
 * Return: the number of free, aligned blocks of that order.
 */
u64 gmem_pfnpool_pool_free_blocks(struct gmem_pfnpool_pool *pool,
				  unsigned int order)
{
	struct gmem_pfnpool_blocks b = { .order = order };

	gen_pool_for_each_chunk(pool->gp, gmem_pfnpool_count_chunk, &b);
	return b.count;
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_pool_free_blocks);

struct gmem_pfnpool_range_avail {
	phys_addr_t phys;
	u64 avail;
};

static void gmem_pfnpool_chunk_avail(struct gen_pool *gp,
				     struct gen_pool_chunk *chunk, void *data)
{
	struct gmem_pfnpool_range_avail *r = data;

	if (chunk->phys_addr == r->phys)
		r->avail = atomic_long_read(&chunk->avail);
}

/**
 * gmem_pfnpool_pool_range_free() - free bytes of one range of the pool
 * @pool: the pool
 * @phys: physical base of the range (as added with gmem_pfnpool_pool_add())
 *
 * Return: bytes of the range not handed out (0 for an unknown range).
 */
u64 gmem_pfnpool_pool_range_free(struct gmem_pfnpool_pool *pool,
				 phys_addr_t phys)
{
	struct gmem_pfnpool_range_avail r = { .phys = phys };

	gen_pool_for_each_chunk(pool->gp, gmem_pfnpool_chunk_avail, &r);
	return r.avail;
}

static void gmem_pfnpool_chunk_meta(struct gen_pool *gp,
				    struct gen_pool_chunk *chunk, void *data)
{
	size_t *bytes = data;
	unsigned long nbits = (chunk->end_addr - chunk->start_addr + 1) >>
			      gp->min_alloc_order;

	*bytes += sizeof(*chunk) + BITS_TO_LONGS(nbits) * sizeof(long);
}

/**
 * gmem_pfnpool_pool_metadata_bytes() - memory spent to manage the pool
 * @pool: the pool
 *
 * Return: bytes of genalloc bitmaps, chunk and range descriptors.
 */
size_t gmem_pfnpool_pool_metadata_bytes(struct gmem_pfnpool_pool *pool)
{
	struct gmem_pfnpool_pool_range *r;
	size_t bytes = sizeof(*pool->gp);

	gen_pool_for_each_chunk(pool->gp, gmem_pfnpool_chunk_meta, &bytes);
	list_for_each_entry(r, &pool->ranges, node)
		bytes += sizeof(*r);
	return bytes;
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_pool_metadata_bytes);

// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suite gmem_pfnpool_pool: allocation alignment, exhaustion,
 * fragmentation, zeroing and accounting of the pool. The pool runs on
 * vmalloc'd buffers with made-up physical bases, so no reserved memory is
 * needed.
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/prandom.h>
#include <linux/random.h>
#include <linux/vmalloc.h>

#include "../modules/gmem_pfnpool/internal.h"

MODULE_IMPORT_NS("EXPORTED_FOR_KUNIT_TESTING");

/* 1 GiB-aligned fake physical base; the buffer starts 1 MiB past it. */
#define FAKE_BASE	(0x40000000ULL + SZ_1M)
#define POOL_SIZE	(8 * SZ_1M)
#define POOL_PAGES	(POOL_SIZE >> PAGE_SHIFT)

struct pool_ctx {
	struct gmem_pfnpool_pool pool;
	void *buf;
};

static int pool_test_init(struct kunit *test)
{
	struct pool_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->buf = vmalloc(POOL_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, ctx->buf);
	/* Garbage a previous owner left: the pool must zero it. */
	memset(ctx->buf, 0x5a, POOL_SIZE);
	KUNIT_ASSERT_EQ(test, gmem_pfnpool_pool_init(&ctx->pool), 0);
	KUNIT_ASSERT_EQ(test, gmem_pfnpool_pool_add(&ctx->pool, FAKE_BASE,
						    ctx->buf, POOL_SIZE), 0);
	test->priv = ctx;
	return 0;
}

static void pool_test_exit(struct kunit *test)
{
	struct pool_ctx *ctx = test->priv;

	gmem_pfnpool_pool_destroy(&ctx->pool);
	vfree(ctx->buf);
}

static void pool_accounting_holds(struct kunit *test,
				  struct gmem_pfnpool_pool *pool)
{
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pool_free_bytes(pool) +
			gmem_pfnpool_pool_used_bytes(pool), pool->total);
}

static void pool_alignment(struct kunit *test)
{
	struct pool_ctx *ctx = test->priv;
	phys_addr_t phys[3], small, page;
	int i;

	/* [base+1M, base+9M) holds three aligned 2 MiB blocks: 2M, 4M, 6M. */
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pool_free_blocks(&ctx->pool, 9), 3);
	for (i = 0; i < 3; i++) {
		KUNIT_ASSERT_EQ(test, gmem_pfnpool_pool_alloc(&ctx->pool, SZ_2M,
							      &phys[i]), 0);
		KUNIT_EXPECT_TRUE(test, IS_ALIGNED(phys[i], SZ_2M));
		KUNIT_EXPECT_GE(test, phys[i], FAKE_BASE);
		KUNIT_EXPECT_LE(test, phys[i] + SZ_2M, FAKE_BASE + POOL_SIZE);
	}
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pool_alloc(&ctx->pool, SZ_2M,
						      &small), -ENOSPC);
	/* The unaligned head and tail still serve smaller blocks. */
	KUNIT_ASSERT_EQ(test, gmem_pfnpool_pool_alloc(&ctx->pool, SZ_64K,
						      &small), 0);
	KUNIT_EXPECT_TRUE(test, IS_ALIGNED(small, SZ_64K));
	KUNIT_ASSERT_EQ(test, gmem_pfnpool_pool_alloc(&ctx->pool, PAGE_SIZE,
						      &page), 0);
	pool_accounting_holds(test, &ctx->pool);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pool_used_bytes(&ctx->pool),
			3 * SZ_2M + SZ_64K + PAGE_SIZE);

	for (i = 0; i < 3; i++)
		gmem_pfnpool_pool_free(&ctx->pool, phys[i], SZ_2M);
	gmem_pfnpool_pool_free(&ctx->pool, small, SZ_64K);
	gmem_pfnpool_pool_free(&ctx->pool, page, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pool_used_bytes(&ctx->pool), 0);
}

static void pool_bad_sizes(struct kunit *test)
{
	struct pool_ctx *ctx = test->priv;
	phys_addr_t phys;

	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pool_alloc(&ctx->pool, 0, &phys),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pool_alloc(&ctx->pool, 3 * PAGE_SIZE,
						      &phys), -EINVAL);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pool_alloc(&ctx->pool, 2ULL * SZ_1G,
						      &phys), -EINVAL);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pool_add(&ctx->pool, FAKE_BASE + 1,
						    ctx->buf, PAGE_SIZE),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pool_used_bytes(&ctx->pool), 0);
}

static void pool_exhaustion(struct kunit *test)
{
	struct pool_ctx *ctx = test->priv;
	phys_addr_t phys, first = 0;
	unsigned long n = 0;

	while (!gmem_pfnpool_pool_alloc(&ctx->pool, PAGE_SIZE, &phys)) {
		if (!n)
			first = phys;
		n++;
	}
	KUNIT_EXPECT_EQ(test, n, POOL_PAGES);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pool_free_bytes(&ctx->pool), 0);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pool_alloc(&ctx->pool, PAGE_SIZE,
						      &phys), -ENOSPC);
	pool_accounting_holds(test, &ctx->pool);

	/* A freed page is handed out again, and only it. */
	gmem_pfnpool_pool_free(&ctx->pool, first, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pool_alloc(&ctx->pool, PAGE_SIZE,
						      &phys), 0);
	KUNIT_EXPECT_EQ(test, phys, first);
	gmem_pfnpool_pool_free(&ctx->pool, FAKE_BASE, POOL_SIZE);
	pool_accounting_holds(test, &ctx->pool);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pool_used_bytes(&ctx->pool), 0);
}

static void pool_fragmentation(struct kunit *test)
{
	struct pool_ctx *ctx = test->priv;
	phys_addr_t phys;
	unsigned long i;

	for (i = 0; i < POOL_PAGES; i++)
		KUNIT_ASSERT_EQ(test, gmem_pfnpool_pool_alloc(&ctx->pool,
							      PAGE_SIZE,
							      &phys), 0);
	/* Free every other page: half the pool free, no 2 MiB block. */
	for (i = 0; i < POOL_PAGES; i += 2)
		gmem_pfnpool_pool_free(&ctx->pool, FAKE_BASE + i * PAGE_SIZE,
				       PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pool_free_bytes(&ctx->pool),
			POOL_SIZE / 2);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pool_free_blocks(&ctx->pool, 0),
			POOL_PAGES / 2);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pool_free_blocks(&ctx->pool, 9), 0);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pool_alloc(&ctx->pool, SZ_2M, &phys),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pool_alloc(&ctx->pool, 2 * PAGE_SIZE,
						      &phys), -ENOSPC);
	pool_accounting_holds(test, &ctx->pool);

	for (i = 1; i < POOL_PAGES; i += 2)
		gmem_pfnpool_pool_free(&ctx->pool, FAKE_BASE + i * PAGE_SIZE,
				       PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pool_free_blocks(&ctx->pool, 9), 3);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pool_alloc(&ctx->pool, SZ_2M, &phys),
			0);
	gmem_pfnpool_pool_free(&ctx->pool, phys, SZ_2M);
}

static bool all_zero(const u8 *p, size_t n)
{
	return !memchr_inv(p, 0, n);
}

static void pool_zeroing(struct kunit *test)
{
	struct pool_ctx *ctx = test->priv;
	phys_addr_t phys, again;
	u8 *kva;

	/* The garbage written before pool_add() is gone. */
	KUNIT_EXPECT_TRUE(test, all_zero(ctx->buf, POOL_SIZE));

	KUNIT_ASSERT_EQ(test, gmem_pfnpool_pool_alloc(&ctx->pool, SZ_64K,
						      &phys), 0);
	kva = gmem_pfnpool_pool_kva(&ctx->pool, phys);
	KUNIT_ASSERT_PTR_EQ(test, (void *)kva,
			    ctx->buf + (phys - FAKE_BASE));
	memset(kva, 0xa5, SZ_64K);
	gmem_pfnpool_pool_free(&ctx->pool, phys, SZ_64K);

	KUNIT_ASSERT_EQ(test, gmem_pfnpool_pool_alloc(&ctx->pool, SZ_64K,
						      &again), 0);
	KUNIT_EXPECT_EQ(test, again, phys);
	KUNIT_EXPECT_TRUE(test, all_zero(gmem_pfnpool_pool_kva(&ctx->pool,
							       again), SZ_64K));
	gmem_pfnpool_pool_free(&ctx->pool, again, SZ_64K);
	KUNIT_EXPECT_NULL(test, gmem_pfnpool_pool_kva(&ctx->pool,
						      FAKE_BASE + POOL_SIZE));
}

static void pool_random_accounting(struct kunit *test)
{
	struct pool_ctx *ctx = test->priv;
	struct rnd_state rnd;
	unsigned long *owned;
	struct {
		phys_addr_t phys;
		u64 size;
	} *live;
	unsigned int nlive = 0, i;
	u32 seed = get_random_u32();

	kunit_info(test, "random seed %u\n", seed);
	prandom_seed_state(&rnd, seed);
	owned = kunit_kcalloc(test, BITS_TO_LONGS(POOL_PAGES), sizeof(long),
			      GFP_KERNEL);
	live = kunit_kcalloc(test, POOL_PAGES, sizeof(*live), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, owned);
	KUNIT_ASSERT_NOT_NULL(test, live);

	for (i = 0; i < 2000; i++) {
		u32 r = prandom_u32_state(&rnd);

		if (nlive && (r & 1)) {
			unsigned int k = (r >> 1) % nlive;

			bitmap_clear(owned, (live[k].phys - FAKE_BASE) >>
				     PAGE_SHIFT, live[k].size >> PAGE_SHIFT);
			gmem_pfnpool_pool_free(&ctx->pool, live[k].phys,
					       live[k].size);
			live[k] = live[--nlive];
		} else {
			u64 size = PAGE_SIZE << ((r >> 1) % 10);
			phys_addr_t phys;
			unsigned long first;

			if (gmem_pfnpool_pool_alloc(&ctx->pool, size, &phys))
				continue;
			KUNIT_ASSERT_TRUE(test, IS_ALIGNED(phys, size));
			first = (phys - FAKE_BASE) >> PAGE_SHIFT;
			/* No page is handed out twice. */
			KUNIT_ASSERT_EQ(test, find_next_bit(owned,
							    first + (size >> PAGE_SHIFT),
							    first),
					first + (size >> PAGE_SHIFT));
			bitmap_set(owned, first, size >> PAGE_SHIFT);
			live[nlive].phys = phys;
			live[nlive++].size = size;
		}
		KUNIT_ASSERT_EQ(test, gmem_pfnpool_pool_free_bytes(&ctx->pool) +
				gmem_pfnpool_pool_used_bytes(&ctx->pool),
				ctx->pool.total);
		KUNIT_ASSERT_EQ(test, gmem_pfnpool_pool_used_bytes(&ctx->pool),
				(u64)bitmap_weight(owned, POOL_PAGES) <<
				PAGE_SHIFT);
	}
	while (nlive) {
		nlive--;
		gmem_pfnpool_pool_free(&ctx->pool, live[nlive].phys,
				       live[nlive].size);
	}
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pool_used_bytes(&ctx->pool), 0);
}

static void pool_metadata(struct kunit *test)
{
	struct pool_ctx *ctx = test->priv;
	size_t before = gmem_pfnpool_pool_metadata_bytes(&ctx->pool);
	void *more = vmalloc(POOL_SIZE);
	size_t delta;

	KUNIT_ASSERT_NOT_NULL(test, more);
	KUNIT_ASSERT_EQ(test, gmem_pfnpool_pool_add(&ctx->pool,
						    FAKE_BASE + SZ_1G, more,
						    POOL_SIZE), 0);
	delta = gmem_pfnpool_pool_metadata_bytes(&ctx->pool) - before;
	kunit_info(test, "%zu metadata bytes per %u MiB managed\n", delta,
		   POOL_SIZE >> 20);
	/* At most 64 KiB per GiB: 512 bytes per 8 MiB. */
	KUNIT_EXPECT_LE(test, delta, (size_t)(64 * SZ_1K) / (SZ_1G / POOL_SIZE));
	KUNIT_EXPECT_EQ(test, ctx->pool.total, 2ULL * POOL_SIZE);
	gmem_pfnpool_pool_destroy(&ctx->pool);
	vfree(more);
	/* exit() destroys again: re-create an empty pool for it. */
	KUNIT_ASSERT_EQ(test, gmem_pfnpool_pool_init(&ctx->pool), 0);
}

static struct kunit_case gmem_pfnpool_pool_cases[] = {
	KUNIT_CASE(pool_alignment),
	KUNIT_CASE(pool_bad_sizes),
	KUNIT_CASE(pool_exhaustion),
	KUNIT_CASE(pool_fragmentation),
	KUNIT_CASE(pool_zeroing),
	KUNIT_CASE_SLOW(pool_random_accounting),
	KUNIT_CASE(pool_metadata),
	{}
};

static struct kunit_suite gmem_pfnpool_pool_suite = {
	.name = "gmem_pfnpool_pool",
	.init = pool_test_init,
	.exit = pool_test_exit,
	.test_cases = gmem_pfnpool_pool_cases,
};

kunit_test_suite(gmem_pfnpool_pool_suite);

MODULE_DESCRIPTION("KUnit tests of the gmem_pfnpool pool");
MODULE_LICENSE("GPL");

// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suite gmem_pfnpool_map: which mapping (PUD, PMD or PTE) a fault
 * may insert, from the alignment of the address, the file offset and the
 * PFN, the extent backing the page, the shared range around it and the VMA.
 */
#include <kunit/test.h>

#include "../modules/gmem_pfnpool/internal.h"

MODULE_IMPORT_NS("EXPORTED_FOR_KUNIT_TESTING");

#define PUD_PAGES	BIT(GMEM_PFNPOOL_ORDER_PUD)
#define PMD_PAGES	BIT(GMEM_PFNPOOL_ORDER_PMD)
#define VA		0x7f0000000000UL	/* 1 GiB aligned */
#define PFN		(0x140000000UL >> PAGE_SHIFT)	/* 1 GiB aligned */

struct order_case {
	const char *name;
	struct gmem_pfnpool_map_ctx ctx;
	unsigned int max_order;
	unsigned int want;
};

/*
 * CTX(index, shift, vm_start, vm_end, pfn delta, ext_first, ext_last,
 * attr_first, attr_last). The test adds index pages to .addr (VA + shift)
 * and index to .pfn (PFN + pfn delta): the faulting address and its PFN.
 */
#define CTX(i, sh, vs, ve, pd, ef, el, af, al)				\
	{ .addr = VA + (sh), .vm_start = (vs), .vm_end = (ve),		\
	  .index = (i), .pfn = PFN + (pd), .ext_first = (ef),		\
	  .ext_last = (el), .attr_first = (af), .attr_last = (al) }
/* A 1 GiB file mapped at VA, one 1 GiB extent at PFN, all shared. */
#define GIB(i)	CTX(i, 0, VA, VA + SZ_1G, 0, 0, PUD_PAGES - 1, 0,	\
		    PUD_PAGES - 1)
#define LAST	(PUD_PAGES - 1)

static const struct order_case order_cases[] = {
	{ "all aligned: PUD", GIB(0), GMEM_PFNPOOL_ORDER_PUD,
	  GMEM_PFNPOOL_ORDER_PUD },
	{ "fault in the middle: still PUD", GIB(12345),
	  GMEM_PFNPOOL_ORDER_PUD, GMEM_PFNPOOL_ORDER_PUD },
	{ "caller takes at most PMD", GIB(7), GMEM_PFNPOOL_ORDER_PMD,
	  GMEM_PFNPOOL_ORDER_PMD },
	{ "PTE only caller", GIB(7), 0, 0 },
	{ "address only 2 MiB aligned: PMD",
	  CTX(0, SZ_2M, VA + SZ_2M, VA + SZ_2M + SZ_1G, 0, 0, LAST, 0, LAST),
	  GMEM_PFNPOOL_ORDER_PUD, GMEM_PFNPOOL_ORDER_PMD },
	{ "address not congruent to the offset: PTE",
	  CTX(0, PAGE_SIZE, VA + PAGE_SIZE, VA + PAGE_SIZE + SZ_1G, 0, 0,
	      LAST, 0, LAST),
	  GMEM_PFNPOOL_ORDER_PUD, 0 },
	{ "PFN only 2 MiB aligned: PMD",
	  CTX(0, 0, VA, VA + SZ_1G, PMD_PAGES, 0, LAST, 0, LAST),
	  GMEM_PFNPOOL_ORDER_PUD, GMEM_PFNPOOL_ORDER_PMD },
	{ "PFN only 4 KiB aligned: PTE",
	  CTX(0, 0, VA, VA + SZ_1G, 1, 0, LAST, 0, LAST),
	  GMEM_PFNPOOL_ORDER_PUD, 0 },
	{ "2 MiB extent: PMD",
	  CTX(PMD_PAGES + 3, 0, VA, VA + SZ_1G, 0, PMD_PAGES,
	      2 * PMD_PAGES - 1, 0, LAST),
	  GMEM_PFNPOOL_ORDER_PUD, GMEM_PFNPOOL_ORDER_PMD },
	{ "4 KiB extent: PTE",
	  CTX(5, 0, VA, VA + SZ_1G, 0, 5, 5, 0, LAST),
	  GMEM_PFNPOOL_ORDER_PUD, 0 },
	{ "one private page elsewhere in the GiB: PMD",
	  CTX(0, 0, VA, VA + SZ_1G, 0, 0, LAST, 0, 999),
	  GMEM_PFNPOOL_ORDER_PUD, GMEM_PFNPOOL_ORDER_PMD },
	{ "private page in the same 2 MiB: PTE",
	  CTX(0, 0, VA, VA + SZ_1G, 0, 0, LAST, 0, 99),
	  GMEM_PFNPOOL_ORDER_PUD, 0 },
	{ "VMA smaller than 1 GiB: PMD",
	  CTX(0, 0, VA, VA + SZ_1G - SZ_2M, 0, 0, LAST, 0, LAST),
	  GMEM_PFNPOOL_ORDER_PUD, GMEM_PFNPOOL_ORDER_PMD },
	{ "VMA ends inside the 2 MiB block: PTE",
	  CTX(0, 0, VA, VA + SZ_1M, 0, 0, LAST, 0, LAST),
	  GMEM_PFNPOOL_ORDER_PUD, 0 },
	{ "VMA starts inside the 2 MiB block: PTE",
	  CTX(300, 0, VA + SZ_1M, VA + SZ_1G, 0, 0, LAST, 0, LAST),
	  GMEM_PFNPOOL_ORDER_PUD, 0 },
};

static void order_case_desc(const struct order_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(order, order_cases, order_case_desc);

/* The fault moved to page @index of the same mapping and extent. */
static struct gmem_pfnpool_map_ctx ctx_at(const struct gmem_pfnpool_map_ctx *c,
					  pgoff_t index)
{
	struct gmem_pfnpool_map_ctx ctx = *c;

	ctx.addr += (index - c->index) << PAGE_SHIFT;
	ctx.pfn += index - c->index;
	ctx.index = index;
	return ctx;
}

static void map_order_selection(struct kunit *test)
{
	const struct order_case *c = test->param_value;
	struct gmem_pfnpool_map_ctx ctx = c->ctx, first, last;
	pgoff_t bs = ALIGN_DOWN(ctx.index, 1UL << c->want);

	ctx.addr += ctx.index << PAGE_SHIFT;
	ctx.pfn += ctx.index;
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_map_order(&ctx, c->max_order),
			c->want);
	if (!c->want)
		return;
	/*
	 * One entry maps the whole block: a fault on its first or its last
	 * page must choose the same order, or two faults of one block would
	 * disagree about how it is mapped.
	 */
	first = ctx_at(&ctx, bs);
	last = ctx_at(&ctx, bs + (1UL << c->want) - 1);
	KUNIT_EXPECT_EQ_MSG(test, gmem_pfnpool_map_order(&first, c->max_order),
			    c->want, "first page of the block");
	KUNIT_EXPECT_EQ_MSG(test, gmem_pfnpool_map_order(&last, c->max_order),
			    c->want, "last page of the block");
}

static void map_no_underflow(struct kunit *test)
{
	/* A fault near address 0 must not wrap the block start around. */
	struct gmem_pfnpool_map_ctx ctx = {
		.addr = PAGE_SIZE, .vm_start = PAGE_SIZE, .vm_end = SZ_4M,
		.index = PMD_PAGES + 2, .pfn = PFN + 2,
		.ext_first = 0, .ext_last = PUD_PAGES - 1,
		.attr_first = 0, .attr_last = PUD_PAGES - 1,
	};

	KUNIT_EXPECT_FALSE(test, gmem_pfnpool_order_fits(&ctx,
							 GMEM_PFNPOOL_ORDER_PMD));
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_map_order(&ctx,
						     GMEM_PFNPOOL_ORDER_PUD),
			0);
}

static struct kunit_case gmem_pfnpool_map_cases[] = {
	KUNIT_CASE_PARAM(map_order_selection, order_gen_params),
	KUNIT_CASE(map_no_underflow),
	{}
};

static struct kunit_suite gmem_pfnpool_map_suite = {
	.name = "gmem_pfnpool_map",
	.test_cases = gmem_pfnpool_map_cases,
};

kunit_test_suite(gmem_pfnpool_map_suite);

MODULE_DESCRIPTION("KUnit tests of the gmem_pfnpool mapping order");
MODULE_LICENSE("GPL");

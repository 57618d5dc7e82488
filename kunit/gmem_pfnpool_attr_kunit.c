// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suite gmem_pfnpool_attr: splitting and merging of the shared/private
 * ranges of a file, as a table of conversion sequences and the ranges they
 * must leave.
 */
#include <kunit/test.h>

#include "../modules/gmem_pfnpool/internal.h"

MODULE_IMPORT_NS("EXPORTED_FOR_KUNIT_TESTING");

#define SH GMEM_PFNPOOL_ATTR_SHARED
#define PR GMEM_PFNPOOL_ATTR_PRIVATE
#define GIB_PAGES (SZ_1G >> PAGE_SHIFT)

struct attr_op {
	pgoff_t start, end;
	u32 attr;
};

struct attr_case {
	const char *name;
	pgoff_t npages;
	u32 initial;
	struct attr_op ops[4];
	unsigned int nops;
	unsigned long ranges;	/* expected number of ranges */
	pgoff_t probe;		/* a page to look at */
	u32 probe_attr;		/* and what it must say */
	pgoff_t probe_first, probe_last;
};

static const struct attr_case attr_cases[] = {
	{ "one page in the middle of 1 GiB", GIB_PAGES, SH,
	  { { 1000, 1001, PR } }, 1, 3, 1000, PR, 1000, 1000 },
	{ "and back: merged into one", GIB_PAGES, SH,
	  { { 1000, 1001, PR }, { 1000, 1001, SH } }, 2, 1, 5, SH, 0,
	  GIB_PAGES - 1 },
	{ "first page", 512, SH, { { 0, 1, PR } }, 1, 2, 1, SH, 1, 511 },
	{ "last page", 512, SH, { { 511, 512, PR } }, 1, 2, 511, PR, 511, 511 },
	{ "whole file", 512, SH, { { 0, 512, PR } }, 1, 1, 100, PR, 0, 511 },
	{ "same attribute: no split", 512, SH, { { 10, 20, SH } }, 1, 1, 15, SH,
	  0, 511 },
	{ "adjacent ranges merge", 512, SH,
	  { { 10, 20, PR }, { 20, 30, PR } }, 2, 3, 25, PR, 10, 29 },
	{ "a bridge merges three", 512, SH,
	  { { 10, 20, PR }, { 30, 40, PR }, { 20, 30, PR } }, 3, 3, 35, PR, 10,
	  39 },
	{ "a hole in a range", 512, SH,
	  { { 10, 30, PR }, { 15, 20, SH } }, 2, 5, 17, SH, 15, 19 },
	{ "filling the hole merges", 512, SH,
	  { { 10, 30, PR }, { 15, 20, SH }, { 15, 20, PR } }, 3, 3, 12, PR, 10,
	  29 },
	{ "spanning several ranges", 512, PR,
	  { { 10, 20, SH }, { 30, 40, SH }, { 5, 45, SH } }, 3, 3, 44, SH, 5,
	  44 },
	{ "private file made shared", 512, PR, { { 0, 512, SH } }, 1, 1, 0, SH,
	  0, 511 },
};

static void attr_case_desc(const struct attr_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(attr, attr_cases, attr_case_desc);

static void attr_split_merge(struct kunit *test)
{
	const struct attr_case *c = test->param_value;
	struct gmem_pfnpool_attrs attrs;
	pgoff_t first, last;
	unsigned int i;

	KUNIT_ASSERT_EQ(test, gmem_pfnpool_attrs_init(&attrs, c->npages,
						      c->initial), 0);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_attrs_count(&attrs), 1);
	for (i = 0; i < c->nops; i++)
		KUNIT_ASSERT_EQ(test, gmem_pfnpool_attrs_set(&attrs,
							     c->ops[i].start,
							     c->ops[i].end,
							     c->ops[i].attr,
							     GFP_KERNEL), 0);

	KUNIT_EXPECT_EQ(test, gmem_pfnpool_attrs_count(&attrs), c->ranges);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_attrs_get(&attrs, c->probe, &first,
						     &last), c->probe_attr);
	KUNIT_EXPECT_EQ(test, first, c->probe_first);
	KUNIT_EXPECT_EQ(test, last, c->probe_last);
	/* The last operation's range reads back whole. */
	i = c->nops - 1;
	KUNIT_EXPECT_TRUE(test, gmem_pfnpool_attrs_all(&attrs, c->ops[i].start,
						       c->ops[i].end,
						       c->ops[i].attr));
	gmem_pfnpool_attrs_destroy(&attrs);
}

/* Neighbouring ranges never carry the same attribute. */
static void attr_maximal_ranges(struct kunit *test)
{
	struct gmem_pfnpool_attrs attrs;
	pgoff_t index = 0, first, last;
	u32 prev = U32_MAX, a;
	unsigned int i;

	KUNIT_ASSERT_EQ(test, gmem_pfnpool_attrs_init(&attrs, 4096, SH), 0);
	for (i = 0; i < 64; i++)
		KUNIT_ASSERT_EQ(test, gmem_pfnpool_attrs_set(&attrs, i * 37,
							     i * 37 + 20,
							     i % 3 ? PR : SH,
							     GFP_KERNEL), 0);
	while (index < 4096) {
		a = gmem_pfnpool_attrs_get(&attrs, index, &first, &last);
		KUNIT_EXPECT_EQ(test, first, index);
		KUNIT_EXPECT_NE(test, a, prev);
		prev = a;
		index = last + 1;
	}
	gmem_pfnpool_attrs_destroy(&attrs);
}

/* Converting pages one by one: ranges grow with conversions, not pages. */
static void attr_cost_follows_ranges(struct kunit *test)
{
	struct gmem_pfnpool_attrs attrs;
	unsigned int i;

	KUNIT_ASSERT_EQ(test, gmem_pfnpool_attrs_init(&attrs, GIB_PAGES, SH), 0);
	for (i = 0; i < 100; i++)
		KUNIT_ASSERT_EQ(test, gmem_pfnpool_attrs_set(&attrs,
							     i * 1024 + 1,
							     i * 1024 + 2, PR,
							     GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_attrs_count(&attrs), 201);
	/* One store over all of them collapses everything. */
	KUNIT_ASSERT_EQ(test, gmem_pfnpool_attrs_set(&attrs, 0, GIB_PAGES, SH,
						     GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_attrs_count(&attrs), 1);
	gmem_pfnpool_attrs_destroy(&attrs);
}

static struct kunit_case gmem_pfnpool_attr_cases[] = {
	KUNIT_CASE_PARAM(attr_split_merge, attr_gen_params),
	KUNIT_CASE(attr_maximal_ranges),
	KUNIT_CASE(attr_cost_follows_ranges),
	{}
};

static struct kunit_suite gmem_pfnpool_attr_suite = {
	.name = "gmem_pfnpool_attr",
	.test_cases = gmem_pfnpool_attr_cases,
};

kunit_test_suite(gmem_pfnpool_attr_suite);

MODULE_DESCRIPTION("KUnit tests of the gmem_pfnpool attribute ranges");
MODULE_LICENSE("GPL");

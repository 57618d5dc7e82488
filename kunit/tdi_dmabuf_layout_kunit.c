// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: splitting BARs into shared and private fragments
 * (suite tdi_dmabuf_layout).
 */
#include <kunit/test.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "../modules/tdi_dmabuf/tdi_dmabuf_core.h"

MODULE_IMPORT_NS("EXPORTED_FOR_KUNIT_TESTING");

#define NT	TDI_REPORT_ATTR_NON_TEE_MEM
#define PRIV	TDI_DMABUF_RANGE_PRIVATE
#define MSIX	TDI_DMABUF_RANGE_MSIX_TABLE
#define PBA	TDI_DMABUF_RANGE_MSIX_PBA
#define UPD	TDI_DMABUF_RANGE_ATTR_UPDATABLE

struct lay_range {
	u32 bar;
	u64 offset;
	u64 len;
	u16 attrs;
};

struct lay_frag {
	u32 bar;
	u64 offset;
	u64 len;
	u32 flags;
};

struct lay_case {
	const char *name;
	unsigned int nr;
	struct lay_range in[6];		/* sorted, non-overlapping */
	unsigned int nr_out;
	struct lay_frag out[6];
};

static const struct lay_case lay_cases[] = {
	{ "nothing reported", 0, {}, 0, {} },
	{ "adjacent shared merge", 2,
	  { { 0, 0, 0x1000, NT }, { 0, 0x1000, 0xf000, NT } },
	  1, { { 0, 0, 0x10000, 0 } } },
	{ "adjacent private merge", 3,
	  { { 0, 0x10000, 0x1000, 0 }, { 0, 0x11000, 0x1000, 0 }, { 0, 0x12000, 0x2000, 0 } },
	  1, { { 0, 0x10000, 0x4000, PRIV } } },
	{ "gap keeps fragments apart", 2,
	  { { 0, 0, 0x1000, NT }, { 0, 0x2000, 0x1000, NT } },
	  2, { { 0, 0, 0x1000, 0 }, { 0, 0x2000, 0x1000, 0 } } },
	{ "shared then private", 2,
	  { { 0, 0, 0x1000, NT }, { 0, 0x1000, 0x1000, 0 } },
	  2, { { 0, 0, 0x1000, 0 }, { 0, 0x1000, 0x1000, PRIV } } },
	{ "MSI-X table not merged into private", 3,
	  { { 0, 0, 0x2000, 0 }, { 0, 0x2000, 0x1000, TDI_REPORT_ATTR_MSIX_TABLE },
	    { 0, 0x3000, 0x1000, TDI_REPORT_ATTR_MSIX_PBA | NT } },
	  3, { { 0, 0, 0x2000, PRIV }, { 0, 0x2000, 0x1000, PRIV | MSIX },
	       { 0, 0x3000, 0x1000, PBA } } },
	{ "attribute-updatable kept", 2,
	  { { 0, 0, 0x1000, NT | TDI_REPORT_ATTR_MEM_ATTR_UPDATABLE }, { 0, 0x1000, 0x1000, NT } },
	  2, { { 0, 0, 0x1000, UPD }, { 0, 0x1000, 0x1000, 0 } } },
	{ "BARs never merge", 2,
	  { { 0, 0xf000, 0x1000, NT }, { 2, 0, 0x1000, NT } },
	  2, { { 0, 0xf000, 0x1000, 0 }, { 2, 0, 0x1000, 0 } } },
	{ "interleaved", 5,
	  { { 0, 0, 0x1000, NT }, { 0, 0x1000, 0x1000, 0 }, { 0, 0x2000, 0x1000, NT },
	    { 0, 0x3000, 0x1000, NT }, { 2, 0x4000, 0x1000, 0 } },
	  4, { { 0, 0, 0x1000, 0 }, { 0, 0x1000, 0x1000, PRIV }, { 0, 0x2000, 0x2000, 0 },
	       { 2, 0x4000, 0x1000, PRIV } } },
};

static void lay_case_desc(const struct lay_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(lay, lay_cases, lay_case_desc);

/* The layout of the parsed report with the @nr ranges @in. */
static struct tdi_dmabuf_layout *layout_of(struct kunit *test,
					   const struct lay_range *in,
					   unsigned int nr)
{
	struct tdi_dmabuf_report *r;
	unsigned int i;

	r = kunit_kzalloc(test, struct_size(r, ranges, nr), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	r->nr_ranges = nr;
	for (i = 0; i < nr; i++) {
		r->ranges[i].bar = in[i].bar;
		r->ranges[i].offset = in[i].offset;
		r->ranges[i].len = in[i].len;
		r->ranges[i].attrs = in[i].attrs;
	}
	return tdi_dmabuf_layout_from_report(r);
}

static void tdi_layout_table(struct kunit *test)
{
	const struct lay_case *c = test->param_value;
	struct tdi_dmabuf_layout *layout;
	unsigned int i;

	layout = layout_of(test, c->in, c->nr);
	KUNIT_ASSERT_NOT_NULL(test, layout);
	KUNIT_EXPECT_EQ(test, layout->nr, c->nr_out);
	for (i = 0; i < min(layout->nr, c->nr_out); i++) {
		KUNIT_EXPECT_EQ_MSG(test, layout->frags[i].bar, c->out[i].bar, "frag %u", i);
		KUNIT_EXPECT_EQ_MSG(test, layout->frags[i].offset, c->out[i].offset, "frag %u", i);
		KUNIT_EXPECT_EQ_MSG(test, layout->frags[i].len, c->out[i].len, "frag %u", i);
		KUNIT_EXPECT_EQ_MSG(test, layout->frags[i].flags, c->out[i].flags, "frag %u", i);
	}
	kvfree(layout);
}

/* Pages in no reported range belong to no fragment of either kind. */
static void tdi_layout_holes_are_neither(struct kunit *test)
{
	const struct lay_case *c = &lay_cases[8];	/* interleaved */
	struct tdi_dmabuf_layout *layout;
	u64 page, covered = 0;
	unsigned int i;

	layout = layout_of(test, c->in, c->nr);
	KUNIT_ASSERT_NOT_NULL(test, layout);
	/* BAR2 pages 0-3 are in no range: no fragment may cover them. */
	for (page = 0; page < 4; page++)
		for (i = 0; i < layout->nr; i++)
			KUNIT_EXPECT_FALSE(test, layout->frags[i].bar == 2 &&
					   page * 0x1000 >= layout->frags[i].offset &&
					   page * 0x1000 < layout->frags[i].offset +
							   layout->frags[i].len);
	for (i = 0; i < layout->nr; i++)
		covered += layout->frags[i].len;
	KUNIT_EXPECT_EQ(test, covered, 0x5000);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_layout_count(layout, 0, TDI_DMABUF_KIND_SHARED), 2);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_layout_count(layout, 0, TDI_DMABUF_KIND_PRIVATE), 1);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_layout_count(layout, 2, TDI_DMABUF_KIND_SHARED), 0);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_layout_count(layout, 2, TDI_DMABUF_KIND_PRIVATE), 1);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_layout_count(layout, 1, TDI_DMABUF_KIND_SHARED), 0);
	kvfree(layout);
}

static void tdi_layout_unbound(struct kunit *test)
{
	const struct tdi_dmabuf_bar bars[TDI_DMABUF_NR_BARS] = {
		[0] = { 0x3f00000000ULL, 0x100000 },
		[3] = { 0x3f20000000ULL, 0x4000 },
	};
	struct tdi_dmabuf_layout *layout = tdi_dmabuf_layout_unbound(bars);

	KUNIT_ASSERT_NOT_NULL(test, layout);
	KUNIT_ASSERT_EQ(test, layout->nr, 2);
	KUNIT_EXPECT_EQ(test, layout->frags[0].bar, 0);
	KUNIT_EXPECT_EQ(test, layout->frags[0].offset, 0);
	KUNIT_EXPECT_EQ(test, layout->frags[0].len, 0x100000);
	KUNIT_EXPECT_EQ(test, layout->frags[0].flags, 0);
	KUNIT_EXPECT_EQ(test, layout->frags[1].bar, 3);
	KUNIT_EXPECT_EQ(test, layout->frags[1].len, 0x4000);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_layout_count(layout, 0, TDI_DMABUF_KIND_PRIVATE), 0);
	kvfree(layout);
}

/* Shared/private boundaries against the alignment BIND requires. */
struct align_case {
	const char *name;
	unsigned int nr;
	struct lay_range in[4];		/* sorted, non-overlapping */
	u64 align;
	int ret;
	u32 bar;			/* of the first misaligned boundary */
	u64 offset;
};

static const struct align_case align_cases[] = {
	{ "4 KiB: any page split", 4,
	  { { 0, 0, 0x1000, NT }, { 0, 0x1000, 0x1000, 0 }, { 0, 0x3000, 0x1000, NT },
	    { 2, 0x4000, 0x1000, 0 } },
	  SZ_4K, 0 },
	{ "64 KiB: shared/private at 4 KiB", 2,
	  { { 0, 0, 0x1000, NT }, { 0, 0x1000, 0xf000, 0 } },
	  SZ_64K, -EOPNOTSUPP, 0, 0x1000 },
	{ "64 KiB: split on 64 KiB", 2,
	  { { 0, 0, 0x10000, NT }, { 0, 0x10000, 0x10000, 0 } },
	  SZ_64K, 0 },
	{ "64 KiB: private ends before a hole at 4 KiB", 2,
	  { { 0, 0, 0x10000, NT }, { 0, 0x10000, 0x1000, 0 } },
	  SZ_64K, -EOPNOTSUPP, 0, 0x11000 },
	{ "64 KiB: hole before a shared range", 1,
	  { { 0, 0x3000, 0xd000, NT } },
	  SZ_64K, -EOPNOTSUPP, 0, 0x3000 },
	{ "64 KiB: MSI-X page inside private memory is no boundary", 3,
	  { { 0, 0, 0x8000, 0 }, { 0, 0x8000, 0x1000, TDI_REPORT_ATTR_MSIX_TABLE },
	    { 0, 0x9000, 0x7000, 0 } },
	  SZ_64K, 0 },
	{ "64 KiB: BAR ends are no boundaries", 1,
	  { { 3, 0, 0x4000, 0 } },
	  SZ_64K, 0 },
	{ "64 KiB: misaligned in the second BAR", 2,
	  { { 0, 0, 0x100000, NT }, { 2, 0, 0x2000, NT } },
	  SZ_64K, -EOPNOTSUPP, 2, 0x2000 },
};

static const struct tdi_dmabuf_bar align_bars[TDI_DMABUF_NR_BARS] = {
	[0] = { 0x3f00000000ULL, 0x100000 },
	[2] = { 0x3f10000000ULL, 0x10000 },
	[3] = { 0x3f20000000ULL, 0x4000 },	/* smaller than 64 KiB */
};

static void align_case_desc(const struct align_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(align, align_cases, align_case_desc);

static void tdi_layout_align(struct kunit *test)
{
	const struct align_case *c = test->param_value;
	struct tdi_dmabuf_layout *layout;
	u32 bar = U32_MAX;
	u64 offset = U64_MAX;

	layout = layout_of(test, c->in, c->nr);
	KUNIT_ASSERT_NOT_NULL(test, layout);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_layout_check_align(layout, align_bars, c->align,
							    &bar, &offset), c->ret);
	if (c->ret) {
		KUNIT_EXPECT_EQ(test, bar, c->bar);
		KUNIT_EXPECT_EQ(test, offset, c->offset);
	}
	kvfree(layout);
}

/* Without a bound TDI nothing is split: aligned for any alignment. */
static void tdi_layout_unbound_aligned(struct kunit *test)
{
	struct tdi_dmabuf_layout *layout = tdi_dmabuf_layout_unbound(align_bars);
	u64 offset;
	u32 bar;

	KUNIT_ASSERT_NOT_NULL(test, layout);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_layout_check_align(layout, align_bars, SZ_1M,
							    &bar, &offset), 0);
	kvfree(layout);
}

static struct kunit_case tdi_layout_cases[] = {
	KUNIT_CASE_PARAM(tdi_layout_table, lay_gen_params),
	KUNIT_CASE_PARAM(tdi_layout_align, align_gen_params),
	KUNIT_CASE(tdi_layout_unbound_aligned),
	KUNIT_CASE(tdi_layout_holes_are_neither),
	KUNIT_CASE(tdi_layout_unbound),
	{}
};

static struct kunit_suite tdi_layout_suite = {
	.name = "tdi_dmabuf_layout",
	.test_cases = tdi_layout_cases,
};

kunit_test_suite(tdi_layout_suite);

MODULE_DESCRIPTION("KUnit tests of the tdi_dmabuf shared/private split");
MODULE_LICENSE("GPL");

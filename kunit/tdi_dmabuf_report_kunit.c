// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: TDISP DEVICE_INTERFACE_REPORT parser (suite tdi_dmabuf_report).
 *
 * A table of reports, valid and malformed, each built byte by byte in the
 * wire layout, against two fake BARs behind a translating host bridge:
 * BAR0 1 MiB at bus address 0x3f00000000 and BAR2 64 KiB at 0x3f10000000,
 * both CPU_OFF lower for the CPU. Reports name bus addresses. Malformed ones
 * must fail with -EBADMSG for the expected reason; valid ones must come back
 * sorted with BAR-relative offsets.
 */
#include <kunit/test.h>
#include <linux/slab.h>

#include "../modules/tdi_dmabuf/tdi_dmabuf_core.h"

MODULE_IMPORT_NS("EXPORTED_FOR_KUNIT_TESTING");

#define BAR0		0x3f00000000ULL
#define BAR0_LEN	0x100000ULL
#define BAR2		0x3f10000000ULL
#define BAR2_LEN	0x10000ULL
#define PG(addr)	((addr) >> 12)
#define OFF4G		0x100000000ULL
#define CPU_OFF		0x2000000000ULL	/* bus - CPU address of the BARs */

#define NON_TEE		TDI_REPORT_ATTR_NON_TEE_MEM

struct rep_range {
	u64 first_page;
	u32 pages;
	u16 attrs;
	u16 id;
};

struct rep_case {
	const char *name;
	u16 info;
	u16 reserved;
	u32 nr;				/* ranges written */
	s32 count_delta;		/* MMIO_RANGE_COUNT = nr + delta */
	struct rep_range r[4];
	u32 dsi_len;			/* DEVICE_SPECIFIC_INFO_LEN and bytes */
	s32 dsi_len_delta;		/* field = dsi_len + delta */
	s32 len_delta;			/* buffer length = exact + delta */
	u64 mmio_offset;
	int ret;
	enum tdi_dmabuf_report_fault fault;
	/* valid reports: first parsed range after sorting */
	u32 bar0;
	u64 off0;
};

static const struct rep_case rep_cases[] = {
	{ .name = "no ranges", .ret = 0 },
	{ .name = "one shared page", .nr = 1,
	  .r = { { PG(BAR0), 1, NON_TEE } }, .bar0 = 0, .off0 = 0 },
	{ .name = "whole BAR0 private, info bits", .info = 0x1f, .nr = 1,
	  .r = { { PG(BAR0), 256, 0 } } },
	{ .name = "sorted across BARs", .nr = 2,
	  .r = { { PG(BAR2) + 1, 2, NON_TEE, 2 }, { PG(BAR0) + 5, 1, 0 } },
	  .bar0 = 0, .off0 = 0x5000 },
	{ .name = "adjacent ranges", .nr = 2,
	  .r = { { PG(BAR0), 1, NON_TEE }, { PG(BAR0) + 1, 3, NON_TEE } } },
	{ .name = "MMIO reporting offset", .nr = 1, .mmio_offset = OFF4G,
	  .r = { { PG(BAR2 + OFF4G) + 3, 1, TDI_REPORT_ATTR_MSIX_TABLE, 2 } },
	  .bar0 = 2, .off0 = 0x3000 },
	{ .name = "device specific info", .nr = 1, .dsi_len = 8,
	  .r = { { PG(BAR0), 1, TDI_REPORT_ATTR_MEM_ATTR_UPDATABLE } } },
	{ .name = "last page of BAR2", .nr = 1,
	  .r = { { PG(BAR2 + BAR2_LEN) - 1, 1, NON_TEE, 2 } }, .bar0 = 2, .off0 = 0xf000 },
	{ .name = "96 KiB of device specific info", .nr = 1, .dsi_len = 96 * 1024,
	  .r = { { PG(BAR0), 1, NON_TEE } } },
	{ .name = "largest transferable report", .nr = 1,
	  .dsi_len = TDI_REPORT_MAX_LEN - TDI_REPORT_HDR_LEN - TDI_REPORT_RANGE_LEN -
		     TDI_REPORT_DSI_LEN_LEN,
	  .r = { { PG(BAR0), 1, NON_TEE } } },

	{ .name = "shorter than header", .len_delta = -10,
	  .ret = -EBADMSG, .fault = TDI_REPORT_TOO_SHORT },
	{ .name = "count beyond buffer", .nr = 1, .count_delta = 1,
	  .r = { { PG(BAR0), 1, 0 } }, .ret = -EBADMSG, .fault = TDI_REPORT_TOO_SHORT },
	{ .name = "count 0xffffffff", .nr = 1, .count_delta = -2,
	  .r = { { PG(BAR0), 1, 0 } }, .ret = -EBADMSG, .fault = TDI_REPORT_TOO_SHORT },
	{ .name = "info length beyond buffer", .dsi_len = 4, .dsi_len_delta = 1,
	  .ret = -EBADMSG, .fault = TDI_REPORT_TOO_SHORT },
	{ .name = "trailing byte", .nr = 1, .len_delta = 1,
	  .r = { { PG(BAR0), 1, 0 } }, .ret = -EBADMSG, .fault = TDI_REPORT_LENGTH_MISMATCH },
	{ .name = "info length short of buffer", .dsi_len = 4, .dsi_len_delta = -1,
	  .ret = -EBADMSG, .fault = TDI_REPORT_LENGTH_MISMATCH },
	{ .name = "too long", .len_delta = TDI_REPORT_MAX_LEN,
	  .ret = -EBADMSG, .fault = TDI_REPORT_TOO_LONG },
	{ .name = "one byte over the transferable size", .nr = 1,
	  .dsi_len = TDI_REPORT_MAX_LEN - TDI_REPORT_HDR_LEN - TDI_REPORT_RANGE_LEN -
		     TDI_REPORT_DSI_LEN_LEN + 1,
	  .r = { { PG(BAR0), 1, NON_TEE } }, .ret = -EBADMSG, .fault = TDI_REPORT_TOO_LONG },
	{ .name = "reserved INTERFACE_INFO bit", .info = 0x20,
	  .ret = -EBADMSG, .fault = TDI_REPORT_RESERVED },
	{ .name = "reserved u16 at 2", .reserved = 1,
	  .ret = -EBADMSG, .fault = TDI_REPORT_RESERVED },
	{ .name = "reserved RANGE_ATTRIBUTES bit", .nr = 1,
	  .r = { { PG(BAR0), 1, 0x10 } }, .ret = -EBADMSG, .fault = TDI_REPORT_RESERVED },
	{ .name = "zero pages", .nr = 1,
	  .r = { { PG(BAR0), 0, 0 } }, .ret = -EBADMSG, .fault = TDI_REPORT_EMPTY_RANGE },
	{ .name = "page number overflows", .nr = 1,
	  .r = { { U64_MAX >> 11, 1, 0 } }, .ret = -EBADMSG, .fault = TDI_REPORT_WRAP },
	{ .name = "range wraps", .nr = 1,
	  .r = { { (U64_MAX >> 12), 2, 0 } }, .ret = -EBADMSG, .fault = TDI_REPORT_WRAP },
	{ .name = "below reporting offset", .nr = 1, .mmio_offset = OFF4G << 8,
	  .r = { { PG(BAR0), 1, 0 } }, .ret = -EBADMSG, .fault = TDI_REPORT_OFFSET },
	{ .name = "unaligned reporting offset", .mmio_offset = 0x800,
	  .ret = -EBADMSG, .fault = TDI_REPORT_OFFSET },
	{ .name = "offset not applied", .nr = 1, .mmio_offset = OFF4G,
	  .r = { { PG(BAR0), 1, 0 } }, .ret = -EBADMSG, .fault = TDI_REPORT_OUTSIDE_BAR },
	{ .name = "past BAR0", .nr = 1,
	  .r = { { PG(BAR0 + BAR0_LEN), 1, 0 } }, .ret = -EBADMSG,
	  .fault = TDI_REPORT_OUTSIDE_BAR },
	{ .name = "straddles end of BAR2", .nr = 1,
	  .r = { { PG(BAR2 + BAR2_LEN) - 1, 2, 0, 2 } }, .ret = -EBADMSG,
	  .fault = TDI_REPORT_OUTSIDE_BAR },
	{ .name = "before BAR0", .nr = 1,
	  .r = { { PG(BAR0) - 1, 1, 0 } }, .ret = -EBADMSG, .fault = TDI_REPORT_OUTSIDE_BAR },
	{ .name = "CPU address instead of bus address", .nr = 1,
	  .r = { { PG(BAR0 - CPU_OFF), 1, 0 } }, .ret = -EBADMSG,
	  .fault = TDI_REPORT_OUTSIDE_BAR },
	{ .name = "RANGE_ID names another BAR", .nr = 1,
	  .r = { { PG(BAR2), 1, 0, 0 } }, .ret = -EBADMSG, .fault = TDI_REPORT_RANGE_ID },
	{ .name = "RANGE_ID of a BAR with no range", .nr = 2,
	  .r = { { PG(BAR0), 1, NON_TEE }, { PG(BAR0) + 1, 1, 0, 1 } },
	  .ret = -EBADMSG, .fault = TDI_REPORT_RANGE_ID },
	{ .name = "RANGE_ID out of BAR range", .nr = 1,
	  .r = { { PG(BAR0), 1, 0, 0xffff } }, .ret = -EBADMSG, .fault = TDI_REPORT_RANGE_ID },
	{ .name = "overlap", .nr = 2,
	  .r = { { PG(BAR0), 4, 0 }, { PG(BAR0) + 3, 1, NON_TEE } },
	  .ret = -EBADMSG, .fault = TDI_REPORT_OVERLAP },
	{ .name = "duplicate", .nr = 3,
	  .r = { { PG(BAR2), 1, 0, 2 }, { PG(BAR0), 1, 0 }, { PG(BAR2), 1, 0, 2 } },
	  .ret = -EBADMSG, .fault = TDI_REPORT_OVERLAP },
};

static void rep_case_desc(const struct rep_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(rep, rep_cases, rep_case_desc);

static const struct tdi_dmabuf_bar test_bars[TDI_DMABUF_NR_BARS] = {
	[0] = { .start = BAR0 - CPU_OFF, .len = BAR0_LEN, .bus = BAR0 },
	[2] = { .start = BAR2 - CPU_OFF, .len = BAR2_LEN, .bus = BAR2 },
};

/* Build the wire form of @c; returns its length (buffer may be longer). */
static u8 *rep_build(struct kunit *test, const struct rep_case *c, size_t *len)
{
	size_t exact = TDI_REPORT_HDR_LEN + c->nr * TDI_REPORT_RANGE_LEN +
		       TDI_REPORT_DSI_LEN_LEN + c->dsi_len;
	size_t alloc = exact + (c->len_delta > 0 ? c->len_delta : 0);
	u8 *p, *e;
	u32 i;

	p = kunit_kzalloc(test, alloc, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	put_unaligned_le16(c->info, p);
	put_unaligned_le16(c->reserved, p + 2);
	put_unaligned_le16(0x8003, p + 4);
	put_unaligned_le32(c->nr + c->count_delta, p + 12);
	for (i = 0; i < c->nr; i++) {
		e = p + TDI_REPORT_HDR_LEN + i * TDI_REPORT_RANGE_LEN;
		put_unaligned_le64(c->r[i].first_page, e);
		put_unaligned_le32(c->r[i].pages, e + 8);
		put_unaligned_le16(c->r[i].attrs, e + 12);
		put_unaligned_le16(c->r[i].id, e + 14);
	}
	e = p + TDI_REPORT_HDR_LEN + c->nr * TDI_REPORT_RANGE_LEN;
	put_unaligned_le32(c->dsi_len + c->dsi_len_delta, e);
	memset(e + TDI_REPORT_DSI_LEN_LEN, 0xa5, c->dsi_len);
	*len = exact + c->len_delta;
	return p;
}

static void tdi_report_table(struct kunit *test)
{
	const struct rep_case *c = test->param_value;
	enum tdi_dmabuf_report_fault fault = TDI_REPORT_RESERVED;
	struct tdi_dmabuf_report *r = NULL;
	size_t len;
	u8 *buf;
	u32 i;
	int ret;

	buf = rep_build(test, c, &len);
	ret = tdi_dmabuf_report_parse(buf, len, c->mmio_offset, test_bars, &r, &fault);
	KUNIT_EXPECT_EQ(test, ret, c->ret);
	KUNIT_EXPECT_EQ_MSG(test, fault, c->fault, "got \"%s\"",
			    tdi_dmabuf_report_fault_str(fault));
	if (ret) {
		KUNIT_EXPECT_NULL(test, r);
		return;
	}
	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_EXPECT_EQ(test, r->nr_ranges, c->nr);
	KUNIT_EXPECT_EQ(test, r->interface_info, c->info);
	KUNIT_EXPECT_EQ(test, r->msix_msg_ctrl, 0x8003);
	KUNIT_EXPECT_EQ(test, r->dsi_len, c->dsi_len);
	if (c->nr) {
		KUNIT_EXPECT_EQ(test, r->ranges[0].bar, c->bar0);
		KUNIT_EXPECT_EQ(test, r->ranges[0].offset, c->off0);
	}
	for (i = 0; i < r->nr_ranges; i++) {
		const struct tdi_dmabuf_report_range *rr = &r->ranges[i];

		KUNIT_EXPECT_NE(test, test_bars[rr->bar].len, 0);
		KUNIT_EXPECT_LE(test, rr->offset + rr->len, test_bars[rr->bar].len);
		if (i)
			KUNIT_EXPECT_TRUE(test, rr->bar > rr[-1].bar ||
					  rr->offset >= rr[-1].offset + rr[-1].len);
	}
	kvfree(r);
}

/* Attributes and range IDs survive sorting with their range. */
static void tdi_report_attrs_follow_sort(struct kunit *test)
{
	static const struct rep_case c = {
		.nr = 3,
		.r = { { PG(BAR2) + 9, 1, NON_TEE, 2 }, { PG(BAR0) + 2, 2, 0 },
		       { PG(BAR0), 1, TDI_REPORT_ATTR_MSIX_PBA } },
	};
	struct tdi_dmabuf_report *r;
	size_t len;
	u8 *buf = rep_build(test, &c, &len);

	KUNIT_ASSERT_EQ(test, tdi_dmabuf_report_parse(buf, len, 0, test_bars, &r, NULL), 0);
	KUNIT_EXPECT_EQ(test, r->ranges[0].offset, 0);
	KUNIT_EXPECT_EQ(test, r->ranges[0].attrs, TDI_REPORT_ATTR_MSIX_PBA);
	KUNIT_EXPECT_EQ(test, r->ranges[0].range_id, 0);
	KUNIT_EXPECT_EQ(test, r->ranges[1].offset, 0x2000);
	KUNIT_EXPECT_EQ(test, r->ranges[1].len, 0x2000);
	KUNIT_EXPECT_EQ(test, r->ranges[1].range_id, 0);
	KUNIT_EXPECT_EQ(test, r->ranges[2].bar, 2);
	KUNIT_EXPECT_EQ(test, r->ranges[2].range_id, 2);
	KUNIT_EXPECT_EQ(test, r->ranges[2].offset, 0x9000);
	KUNIT_EXPECT_EQ(test, r->ranges[2].attrs, NON_TEE);
	kvfree(r);
}

/* Every truncation of a valid report is rejected, never read past. */
static void tdi_report_every_truncation(struct kunit *test)
{
	static const struct rep_case c = {
		.nr = 2, .dsi_len = 5,
		.r = { { PG(BAR0), 1, NON_TEE }, { PG(BAR2), 1, 0, 2 } },
	};
	struct tdi_dmabuf_report *r;
	size_t len, cut;
	u8 *buf = rep_build(test, &c, &len);

	for (cut = 0; cut < len; cut++) {
		u8 *copy = kmemdup(buf, cut, GFP_KERNEL);

		KUNIT_ASSERT_TRUE(test, copy || !cut);
		KUNIT_EXPECT_EQ(test, tdi_dmabuf_report_parse(copy, cut, 0, test_bars,
							      &r, NULL), -EBADMSG);
		kfree(copy);
	}
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_report_parse(buf, len, 0, test_bars, &r, NULL), 0);
	kvfree(r);
}

static struct kunit_case tdi_report_cases[] = {
	KUNIT_CASE_PARAM(tdi_report_table, rep_gen_params),
	KUNIT_CASE(tdi_report_attrs_follow_sort),
	KUNIT_CASE(tdi_report_every_truncation),
	{}
};

static struct kunit_suite tdi_report_suite = {
	.name = "tdi_dmabuf_report",
	.test_cases = tdi_report_cases,
};

kunit_test_suite(tdi_report_suite);

MODULE_DESCRIPTION("KUnit tests of the tdi_dmabuf TDI report parser");
MODULE_LICENSE("GPL");

// SPDX-License-Identifier: GPL-2.0-only
/*
 * TDISP DEVICE_INTERFACE_REPORT parser.
 *
 * Layout (little-endian):
 *   @0  u16 INTERFACE_INFO        bits 5-15 reserved
 *   @2  u16 reserved              must be 0
 *   @4  u16 MSI_X_MESSAGE_CONTROL
 *   @6  u16 LNR_CONTROL
 *   @8  u32 TPH_CONTROL
 *   @12 u32 MMIO_RANGE_COUNT
 *   @16 MMIO_RANGE_COUNT x 16 bytes:
 *         u64 FIRST_PAGE          4 KiB page number, MMIO reporting offset added
 *         u32 NUMBER_OF_PAGES
 *         u16 RANGE_ATTRIBUTES    bits 4-15 reserved
 *         u16 RANGE_ID
 *   then  u32 DEVICE_SPECIFIC_INFO_LEN and that many bytes; nothing after.
 *
 * The parser trusts nothing: every length is checked before it is used, all
 * arithmetic on device-provided numbers is overflow-checked, each range must
 * lie entirely in one exportable BAR and no two ranges may overlap.
 *
 * Addresses are the function's own: FIRST_PAGE is a PCI bus address (what
 * the BAR register holds, as the device decodes it) plus the reporting
 * offset, so ranges are located with the BARs' bus addresses, which differ
 * from the CPU's physical ones behind a translating host bridge. The result
 * is BAR-relative, and only the exporter turns it into host addresses.
 *
 * RANGE_ID must be the index of the BAR holding the range: the guest side
 * of the TSMs (SEV-TIO, Arm CCA) finds a range's BAR by its RANGE_ID, not by
 * its address, so a report where the two disagree would have the guest
 * accept as private a BAR other than the one the host keeps private.
 *
 * get_unaligned_le*() come through compat.h (the header moved in 6.12).
 *
 * Locking: none; pure function of its arguments.
 */
#include <linux/kernel.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <kunit/visibility.h>

#include "tdi_dmabuf_core.h"

static const char * const tdi_dmabuf_report_fault_strs[] = {
	[TDI_REPORT_OK] = "ok",
	[TDI_REPORT_TOO_SHORT] = "report shorter than its header, ranges and info length",
	[TDI_REPORT_TOO_LONG] = "report too long",
	[TDI_REPORT_LENGTH_MISMATCH] = "report length does not match range count and info length",
	[TDI_REPORT_RESERVED] = "reserved field or bit set",
	[TDI_REPORT_EMPTY_RANGE] = "range of zero pages",
	[TDI_REPORT_WRAP] = "range wraps the address space",
	[TDI_REPORT_OFFSET] = "range below the MMIO reporting offset",
	[TDI_REPORT_OUTSIDE_BAR] = "range not inside one exportable BAR",
	[TDI_REPORT_OVERLAP] = "ranges overlap",
	[TDI_REPORT_RANGE_ID] = "RANGE_ID is not the index of the range's BAR",
};

/**
 * tdi_dmabuf_report_fault_str() - describe a report fault
 * @fault: the fault
 *
 * Return: a constant string.
 */
const char *tdi_dmabuf_report_fault_str(enum tdi_dmabuf_report_fault fault)
{
	if (fault >= ARRAY_SIZE(tdi_dmabuf_report_fault_strs))
		return "unknown";
	return tdi_dmabuf_report_fault_strs[fault];
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_report_fault_str);

static int tdi_dmabuf_range_cmp(const void *a, const void *b)
{
	const struct tdi_dmabuf_report_range *ra = a, *rb = b;

	if (ra->bar != rb->bar)
		return ra->bar < rb->bar ? -1 : 1;
	if (ra->offset != rb->offset)
		return ra->offset < rb->offset ? -1 : 1;
	return 0;
}

/* Locate bus addresses [addr, addr + len) in one BAR. */
static bool tdi_dmabuf_find_bar(const struct tdi_dmabuf_bar *bars, u64 addr,
				u64 len, struct tdi_dmabuf_report_range *r)
{
	unsigned int i;

	for (i = 0; i < TDI_DMABUF_NR_BARS; i++) {
		const struct tdi_dmabuf_bar *b = &bars[i];

		if (!b->len || addr < b->bus)
			continue;
		if (addr - b->bus >= b->len || len > b->len - (addr - b->bus))
			continue;
		r->bar = i;
		r->offset = addr - b->bus;
		return true;
	}
	return false;
}

/**
 * tdi_dmabuf_report_parse() - validate a DEVICE_INTERFACE_REPORT
 * @data: raw report
 * @len: its length in bytes
 * @mmio_offset: MMIO reporting offset in bytes, subtracted from each range
 * @bars: the device's exportable BARs (TDI_DMABUF_NR_BARS entries); ranges
 *	are located by their bus addresses
 * @out: on success, the parsed report (kvfree() it)
 * @fault: if not NULL, why the report was rejected (TDI_REPORT_OK on success)
 *
 * Context: process context, may sleep (allocates).
 * Return: 0, -EBADMSG for a malformed report, -ENOMEM.
 */
int tdi_dmabuf_report_parse(const void *data, size_t len, u64 mmio_offset,
			    const struct tdi_dmabuf_bar *bars,
			    struct tdi_dmabuf_report **out,
			    enum tdi_dmabuf_report_fault *fault)
{
	enum tdi_dmabuf_report_fault why = TDI_REPORT_OK;
	struct tdi_dmabuf_report *r;
	const u8 *p = data;
	size_t need;
	u32 count, dsi_len, i;

	*out = NULL;
	if (len > TDI_REPORT_MAX_LEN) {
		why = TDI_REPORT_TOO_LONG;
		goto bad;
	}
	if (len < TDI_REPORT_HDR_LEN + TDI_REPORT_DSI_LEN_LEN) {
		why = TDI_REPORT_TOO_SHORT;
		goto bad;
	}
	count = get_unaligned_le32(p + 12);
	/* len is bounded, so a count that does not fit is simply too short. */
	if (count > (len - TDI_REPORT_HDR_LEN - TDI_REPORT_DSI_LEN_LEN) /
		    TDI_REPORT_RANGE_LEN) {
		why = TDI_REPORT_TOO_SHORT;
		goto bad;
	}
	need = TDI_REPORT_HDR_LEN + (size_t)count * TDI_REPORT_RANGE_LEN;
	dsi_len = get_unaligned_le32(p + need);
	if (dsi_len > len - need - TDI_REPORT_DSI_LEN_LEN) {
		why = TDI_REPORT_TOO_SHORT;
		goto bad;
	}
	if (need + TDI_REPORT_DSI_LEN_LEN + dsi_len != len) {
		why = TDI_REPORT_LENGTH_MISMATCH;
		goto bad;
	}
	if ((get_unaligned_le16(p) & ~TDI_REPORT_INTERFACE_INFO_MASK) ||
	    get_unaligned_le16(p + 2)) {
		why = TDI_REPORT_RESERVED;
		goto bad;
	}
	if (mmio_offset & GENMASK_ULL(TDI_REPORT_PAGE_SHIFT - 1, 0)) {
		why = TDI_REPORT_OFFSET;
		goto bad;
	}

	r = kvzalloc(struct_size(r, ranges, count), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->nr_ranges = count;
	r->interface_info = get_unaligned_le16(p);
	r->msix_msg_ctrl = get_unaligned_le16(p + 4);
	r->lnr_ctrl = get_unaligned_le16(p + 6);
	r->tph_ctrl = get_unaligned_le32(p + 8);
	r->dsi_len = dsi_len;

	for (i = 0; i < count; i++) {
		const u8 *e = p + TDI_REPORT_HDR_LEN + i * TDI_REPORT_RANGE_LEN;
		struct tdi_dmabuf_report_range *rr = &r->ranges[i];
		u64 first = get_unaligned_le64(e);
		u32 pages = get_unaligned_le32(e + 8);
		u16 attrs = get_unaligned_le16(e + 12);
		u64 addr, size, end;

		if (attrs & ~TDI_REPORT_ATTR_MASK) {
			why = TDI_REPORT_RESERVED;
			goto bad_free;
		}
		if (!pages) {
			why = TDI_REPORT_EMPTY_RANGE;
			goto bad_free;
		}
		size = (u64)pages << TDI_REPORT_PAGE_SHIFT;
		if (first > (U64_MAX >> TDI_REPORT_PAGE_SHIFT) ||
		    check_add_overflow(first << TDI_REPORT_PAGE_SHIFT, size - 1,
				       &end)) {
			why = TDI_REPORT_WRAP;
			goto bad_free;
		}
		addr = first << TDI_REPORT_PAGE_SHIFT;
		if (addr < mmio_offset) {
			why = TDI_REPORT_OFFSET;
			goto bad_free;
		}
		if (!tdi_dmabuf_find_bar(bars, addr - mmio_offset, size, rr)) {
			why = TDI_REPORT_OUTSIDE_BAR;
			goto bad_free;
		}
		rr->len = size;
		rr->attrs = attrs;
		rr->range_id = get_unaligned_le16(e + 14);
		if (rr->range_id != rr->bar) {
			why = TDI_REPORT_RANGE_ID;
			goto bad_free;
		}
	}

	sort(r->ranges, count, sizeof(r->ranges[0]), tdi_dmabuf_range_cmp, NULL);
	for (i = 1; i < count; i++) {
		const struct tdi_dmabuf_report_range *a = &r->ranges[i - 1];
		const struct tdi_dmabuf_report_range *b = &r->ranges[i];

		if (a->bar == b->bar && b->offset < a->offset + a->len) {
			why = TDI_REPORT_OVERLAP;
			goto bad_free;
		}
	}

	if (fault)
		*fault = TDI_REPORT_OK;
	*out = r;
	return 0;

bad_free:
	kvfree(r);
bad:
	if (fault)
		*fault = why;
	pr_debug("malformed TDI report (%zu bytes): %s\n", len,
		 tdi_dmabuf_report_fault_str(why));
	return -EBADMSG;
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_report_parse);

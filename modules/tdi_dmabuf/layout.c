// SPDX-License-Identifier: GPL-2.0-only
/*
 * Shared/private layout of a TDI's BARs.
 *
 * A validated report lists ranges sorted by BAR and offset, none
 * overlapping. Each becomes a fragment: private (TEE memory) unless
 * IS_NON_TEE_MEM is set, with its MSI-X and attribute-updatable bits.
 * Adjacent fragments of a BAR with identical flags are merged, so a device
 * reporting its shared window as several ranges still exports one fragment.
 * Fragments with different MSI-X bits stay apart so that GET_LAYOUT tells
 * exactly where the MSI-X table and PBA are. Pages of a BAR in no range
 * belong to no fragment, hence to neither DMA-BUF.
 *
 * Without a bound TDI every exportable BAR is one shared fragment.
 *
 * A boundary between shared, private and unreported pages must fall on a
 * page of the CPU (PAGE_SIZE, for mmap and the region checks) and of the
 * IOMMU (for importers' DMA mappings); a report that needs a finer split
 * than both offer is refused (tdi_dmabuf_layout_check_align()).
 *
 * Locking: none; pure functions of their arguments.
 */
#include <linux/align.h>
#include <linux/slab.h>
#include <kunit/visibility.h>

#include "tdi_dmabuf_core.h"

static u32 tdi_dmabuf_attrs_to_flags(u16 attrs)
{
	u32 flags = 0;

	if (!(attrs & TDI_REPORT_ATTR_NON_TEE_MEM))
		flags |= TDI_DMABUF_RANGE_PRIVATE;
	if (attrs & TDI_REPORT_ATTR_MSIX_TABLE)
		flags |= TDI_DMABUF_RANGE_MSIX_TABLE;
	if (attrs & TDI_REPORT_ATTR_MSIX_PBA)
		flags |= TDI_DMABUF_RANGE_MSIX_PBA;
	if (attrs & TDI_REPORT_ATTR_MEM_ATTR_UPDATABLE)
		flags |= TDI_DMABUF_RANGE_ATTR_UPDATABLE;
	return flags;
}

/**
 * tdi_dmabuf_layout_from_report() - split BARs by a validated report
 * @report: output of tdi_dmabuf_report_parse() (sorted, non-overlapping)
 *
 * Context: process context, may sleep.
 * Return: the layout (kvfree() it) or NULL on allocation failure.
 */
struct tdi_dmabuf_layout *
tdi_dmabuf_layout_from_report(const struct tdi_dmabuf_report *report)
{
	struct tdi_dmabuf_layout *layout;
	unsigned int i, n = 0;

	layout = kvzalloc(struct_size(layout, frags, report->nr_ranges),
			  GFP_KERNEL);
	if (!layout)
		return NULL;
	layout->nr = report->nr_ranges;

	for (i = 0; i < report->nr_ranges; i++) {
		const struct tdi_dmabuf_report_range *r = &report->ranges[i];
		u32 flags = tdi_dmabuf_attrs_to_flags(r->attrs);
		struct tdi_dmabuf_frag *prev = n ? &layout->frags[n - 1] : NULL;

		if (prev && prev->bar == r->bar && prev->flags == flags &&
		    prev->offset + prev->len == r->offset) {
			prev->len += r->len;
			continue;
		}
		layout->frags[n].bar = r->bar;
		layout->frags[n].offset = r->offset;
		layout->frags[n].len = r->len;
		layout->frags[n].flags = flags;
		n++;
	}
	layout->nr = n;
	return layout;
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_layout_from_report);

/**
 * tdi_dmabuf_layout_unbound() - the layout without a bound TDI
 * @bars: exportable BARs
 *
 * Context: process context, may sleep.
 * Return: one shared fragment per exportable BAR (kvfree() it), or NULL on
 * allocation failure.
 */
struct tdi_dmabuf_layout *
tdi_dmabuf_layout_unbound(const struct tdi_dmabuf_bar *bars)
{
	struct tdi_dmabuf_layout *layout;
	unsigned int i, n = 0;

	layout = kvzalloc(struct_size(layout, frags, TDI_DMABUF_NR_BARS),
			  GFP_KERNEL);
	if (!layout)
		return NULL;
	layout->nr = TDI_DMABUF_NR_BARS;
	for (i = 0; i < TDI_DMABUF_NR_BARS; i++) {
		if (!bars[i].len)
			continue;
		layout->frags[n].bar = i;
		layout->frags[n].offset = 0;
		layout->frags[n].len = bars[i].len;
		layout->frags[n].flags = 0;
		n++;
	}
	layout->nr = n;
	return layout;
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_layout_unbound);

/**
 * tdi_dmabuf_layout_count() - fragments of one BAR and kind
 * @layout: the layout
 * @bar: BAR index
 * @kind: TDI_DMABUF_KIND_SHARED or TDI_DMABUF_KIND_PRIVATE
 *
 * Return: the number of fragments.
 */
unsigned int tdi_dmabuf_layout_count(const struct tdi_dmabuf_layout *layout,
				     u32 bar, u32 kind)
{
	bool private = kind == TDI_DMABUF_KIND_PRIVATE;
	unsigned int i, n = 0;

	for (i = 0; i < layout->nr; i++)
		if (layout->frags[i].bar == bar &&
		    !!(layout->frags[i].flags & TDI_DMABUF_RANGE_PRIVATE) == private)
			n++;
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_layout_count);

/* Kind of page a fragment holds: private, or shared. */
static bool tdi_dmabuf_frag_private(const struct tdi_dmabuf_frag *f)
{
	return f->flags & TDI_DMABUF_RANGE_PRIVATE;
}

/* Does @b continue @a without a change of kind (both in the same BAR)? */
static bool tdi_dmabuf_frag_continues(const struct tdi_dmabuf_frag *a,
				      const struct tdi_dmabuf_frag *b)
{
	return a->bar == b->bar && a->offset + a->len == b->offset &&
	       tdi_dmabuf_frag_private(a) == tdi_dmabuf_frag_private(b);
}

/**
 * tdi_dmabuf_layout_check_align() - are the shared/private boundaries aligned?
 * @layout: a layout of tdi_dmabuf_layout_from_report() (sorted, merged)
 * @bars: the BARs it splits
 * @align: required alignment of a boundary's host physical address, a
 *	power of two (max(PAGE_SIZE, IOMMU granule))
 * @bar: out: BAR of the first misaligned boundary
 * @offset: out: its offset in the BAR
 *
 * A boundary is an offset inside a BAR where the kind of page changes
 * between shared, private and in no fragment. Where only the flags change
 * (an MSI-X table inside private memory) there is none, nor at either end
 * of a BAR.
 *
 * Return: 0, or -EOPNOTSUPP if a boundary is not a multiple of @align.
 */
int tdi_dmabuf_layout_check_align(const struct tdi_dmabuf_layout *layout,
				  const struct tdi_dmabuf_bar *bars, u64 align,
				  u32 *bar, u64 *offset)
{
	unsigned int i;

	for (i = 0; i < layout->nr; i++) {
		const struct tdi_dmabuf_frag *f = &layout->frags[i];
		const struct tdi_dmabuf_bar *b = &bars[f->bar];
		u64 end = f->offset + f->len;
		bool start_is_boundary, end_is_boundary;

		start_is_boundary = f->offset &&
			!(i && tdi_dmabuf_frag_continues(f - 1, f));
		end_is_boundary = end != b->len &&
			!(i + 1 < layout->nr && tdi_dmabuf_frag_continues(f, f + 1));
		if (start_is_boundary && !IS_ALIGNED(b->start + f->offset, align)) {
			*bar = f->bar;
			*offset = f->offset;
			return -EOPNOTSUPP;
		}
		if (end_is_boundary && !IS_ALIGNED(b->start + end, align)) {
			*bar = f->bar;
			*offset = end;
			return -EOPNOTSUPP;
		}
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_layout_check_align);

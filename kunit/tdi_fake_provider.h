/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fake TDI report provider: API for KUnit suites (the in-guest tests drive
 * the same functions through debugfs, see tdi_fake_provider.c).
 */
#ifndef _TDI_FAKE_PROVIDER_H
#define _TDI_FAKE_PROVIDER_H

#include <linux/types.h>

/* Injected faults; sticky until replaced (TDI_FAKE_FAULT_NONE clears). */
enum tdi_fake_fault {
	TDI_FAKE_FAULT_NONE,
	TDI_FAKE_FAULT_BIND,		/* ->bind() fails -EIO */
	TDI_FAKE_FAULT_REPORT,		/* ->get_report() fails -EIO */
	TDI_FAKE_FAULT_START,		/* ->start() fails -EIO (half-way) */
	TDI_FAKE_FAULT_UNBIND,		/* ->unbind() fails -EIO */
	TDI_FAKE_FAULT_BAD_SHORT,	/* report truncated by 1 byte */
	TDI_FAKE_FAULT_BAD_COUNT,	/* MMIO_RANGE_COUNT one too high */
	TDI_FAKE_FAULT_BAD_OUTSIDE,	/* first range moved past its BAR */
	TDI_FAKE_FAULT_BAD_OVERLAP,	/* first range reported twice */
	TDI_FAKE_FAULT_BAD_RESERVED,	/* reserved RANGE_ATTRIBUTES bit set */
	TDI_FAKE_FAULT_BAD_WRAP,	/* first range wraps the address space */
	TDI_FAKE_FAULT_BAD_RANGE_ID,	/* first range's RANGE_ID names another BAR */
	TDI_FAKE_FAULT_MAX,
};

/* Counted provider calls. */
enum tdi_fake_call {
	TDI_FAKE_CALL_MATCH,
	TDI_FAKE_CALL_BIND,
	TDI_FAKE_CALL_REPORT,
	TDI_FAKE_CALL_START,
	TDI_FAKE_CALL_UNBIND,
	TDI_FAKE_CALL_ERROR,
	TDI_FAKE_CALL_MAX,
};

int tdi_fake_add(const char *name);
void tdi_fake_del(const char *name);
int tdi_fake_add_range(const char *name, u32 bar, u64 offset, u32 pages,
		       u16 attrs);
int tdi_fake_clear_ranges(const char *name);
int tdi_fake_set_mmio_offset(const char *name, u64 offset);
int tdi_fake_set_fault(const char *name, enum tdi_fake_fault fault);
int tdi_fake_trigger_error(const char *name);
int tdi_fake_lose(const char *name);
int tdi_fake_calls(const char *name, enum tdi_fake_call call);

#endif /* _TDI_FAKE_PROVIDER_H */

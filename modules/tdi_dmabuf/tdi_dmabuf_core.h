/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tdi_dmabuf internals shared by the files of the module and its KUnit
 * suites. Nothing here depends on PCI or VFIO: the core works on a
 * struct tdi_dmabuf_tdi that main.c fills from a vfio_pci_core_device and
 * the KUnit suites fill from a kunit_device_register() device.
 *
 * Locking (whole module), outer to inner:
 *   tdi->lock (mutex)
 *     -> tdi_dmabuf_providers_lock, tdi_dmabuf_importers_lock (mutexes)
 *     -> dmabuf->resv (reservation ww_mutex, taken without a ctx)
 *       -> i_mmap_rwsem (unmap_mapping_range)
 *   The mmap fault path takes mmap_lock -> dmabuf->resv, which the dma-resv
 *   lockdep priming already allows.
 */
#ifndef _TDI_DMABUF_CORE_H
#define _TDI_DMABUF_CORE_H

#include <linux/dma-direction.h>
#include <linux/kref.h>
#include <linux/limits.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pci_regs.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/tdi_dmabuf.h>
#include <uapi/linux/tdi_dmabuf.h>

#define TDI_DMABUF_NR_BARS		PCI_STD_NUM_BARS
/*
 * Largest report accepted: the most GET_DEVICE_INTERFACE_REPORT can
 * transfer, whose OFFSET and LENGTH are 16 bits each (0xffff + 0xffff).
 */
#define TDI_REPORT_MAX_LEN		(2 * U16_MAX)

/**
 * struct tdi_dmabuf_bar - an exportable BAR
 * @start: host physical address (CPU side: mappings, DMA-BUF ranges)
 * @len: length in bytes; 0 if the BAR is not exportable
 * @bus: PCI bus address, what the function decodes: the address its TDISP
 *	report names (plus the MMIO reporting offset). It differs from
 *	@start behind a host bridge that translates.
 */
struct tdi_dmabuf_bar {
	phys_addr_t start;
	u64 len;
	u64 bus;
};

/* report.c */

/**
 * struct tdi_dmabuf_report_range - one validated MMIO range
 * @bar: BAR holding the range
 * @offset: offset in the BAR
 * @len: length in bytes
 * @attrs: RANGE_ATTRIBUTES
 * @range_id: RANGE_ID
 */
struct tdi_dmabuf_report_range {
	u64 offset;
	u64 len;
	u32 bar;
	u16 attrs;
	u16 range_id;
};

/**
 * struct tdi_dmabuf_report - a validated DEVICE_INTERFACE_REPORT
 * @interface_info: INTERFACE_INFO
 * @msix_msg_ctrl: MSI_X_MESSAGE_CONTROL
 * @lnr_ctrl: LNR_CONTROL
 * @tph_ctrl: TPH_CONTROL
 * @dsi_len: DEVICE_SPECIFIC_INFO_LEN
 * @nr_ranges: entries in @ranges
 * @ranges: ranges sorted by BAR and offset
 */
struct tdi_dmabuf_report {
	u16 interface_info;
	u16 msix_msg_ctrl;
	u16 lnr_ctrl;
	u32 tph_ctrl;
	u32 dsi_len;
	u32 nr_ranges;
	struct tdi_dmabuf_report_range ranges[] __counted_by(nr_ranges);
};

/* Why a report was rejected; for messages and the KUnit table. */
enum tdi_dmabuf_report_fault {
	TDI_REPORT_OK,
	TDI_REPORT_TOO_SHORT,		/* shorter than header + count + DSI len */
	TDI_REPORT_TOO_LONG,		/* longer than TDI_REPORT_MAX_LEN */
	TDI_REPORT_LENGTH_MISMATCH,	/* length != header + ranges + DSI */
	TDI_REPORT_RESERVED,		/* reserved field or bit set */
	TDI_REPORT_EMPTY_RANGE,		/* NUMBER_OF_PAGES == 0 */
	TDI_REPORT_WRAP,		/* range wraps the address space */
	TDI_REPORT_OFFSET,		/* below the MMIO reporting offset */
	TDI_REPORT_OUTSIDE_BAR,		/* not entirely inside one BAR */
	TDI_REPORT_OVERLAP,		/* two ranges overlap */
	TDI_REPORT_RANGE_ID,		/* RANGE_ID is not the range's BAR */
};

int tdi_dmabuf_report_parse(const void *data, size_t len, u64 mmio_offset,
			    const struct tdi_dmabuf_bar *bars,
			    struct tdi_dmabuf_report **out,
			    enum tdi_dmabuf_report_fault *fault);
const char *tdi_dmabuf_report_fault_str(enum tdi_dmabuf_report_fault fault);

/* layout.c */

/**
 * struct tdi_dmabuf_frag - a run of pages of one BAR with the same attributes
 * @offset: offset in the BAR
 * @len: length in bytes
 * @bar: BAR index
 * @flags: TDI_DMABUF_RANGE_*
 */
struct tdi_dmabuf_frag {
	u64 offset;
	u64 len;
	u32 bar;
	u32 flags;
};

/**
 * struct tdi_dmabuf_layout - the fragments of every BAR
 * @nr: entries in @frags
 * @frags: sorted by BAR and offset, adjacent equal ones merged
 */
struct tdi_dmabuf_layout {
	unsigned int nr;
	struct tdi_dmabuf_frag frags[] __counted_by(nr);
};

struct tdi_dmabuf_layout *
tdi_dmabuf_layout_from_report(const struct tdi_dmabuf_report *report);
struct tdi_dmabuf_layout *
tdi_dmabuf_layout_unbound(const struct tdi_dmabuf_bar *bars);
unsigned int tdi_dmabuf_layout_count(const struct tdi_dmabuf_layout *layout,
				     u32 bar, u32 kind);
int tdi_dmabuf_layout_check_align(const struct tdi_dmabuf_layout *layout,
				  const struct tdi_dmabuf_bar *bars, u64 align,
				  u32 *bar, u64 *offset);

/* state.c */

struct dma_buf_attachment;
struct sg_table;

/**
 * struct tdi_dmabuf_tdi_ops - hooks of the embedding driver
 * @mem_enabled: true if the MMIO of the device may be accessed (memory
 *	decode on, powered up); called under tdi->lock, inside whatever
 *	the embedding driver holds around BIND and GET_DMABUF
 * @iommu_granule: smallest page the IOMMU maps for the device, 0 if
 *	unknown; optional
 * @p2p_map: map @nr physical ranges (@size bytes in all) of BAR @bar for
 *	the device of @attach, on the peer-to-peer route the kernel gives:
 *	an sg_table with only DMA addresses (entries may be up to 4 GiB - 1
 *	page long), ERR_PTR(-EOPNOTSUPP) if the device has no route, or
 *	another ERR_PTR(). Called under the reservation lock of a DMA-BUF that
 *	is not revoked, so while the device is open; may sleep
 * @p2p_unmap: undo one @p2p_map(), under the same lock
 */
struct tdi_dmabuf_tdi_ops {
	bool (*mem_enabled)(struct tdi_dmabuf_tdi *tdi);
	u64 (*iommu_granule)(struct tdi_dmabuf_tdi *tdi);
	struct sg_table *(*p2p_map)(struct tdi_dmabuf_tdi *tdi, u32 bar,
				    struct dma_buf_attachment *attach,
				    struct phys_vec *ranges, unsigned int nr,
				    size_t size, enum dma_data_direction dir);
	void (*p2p_unmap)(struct tdi_dmabuf_tdi *tdi,
			  struct dma_buf_attachment *attach,
			  struct sg_table *sgt, enum dma_data_direction dir);
};

/**
 * struct tdi_dmabuf_tdi - the TDI of one device
 * @ref: held by the embedding driver, by every DMA-BUF and by a provider
 *	binding
 * @dev: the device (a reference is held)
 * @ops: hooks of the embedding driver
 * @bars: exportable BARs, fixed at init
 * @error_work: applies errors signalled by tdi_dmabuf_tdi_error(), and runs
 *	an unbind put off by a reset (@unbind_deferred)
 * @error_pending: errno of a signalled, not yet applied error (atomic)
 * @lock: protects all fields below
 * @state: TDI_DMABUF_STATE_*
 * @closed: the embedding device was closed; no new DMA-BUFs, no provider
 * @provider: provider holding the TDI, from its successful ->bind() until
 *	an ->unbind() succeeds (or tdi_dmabuf_tdi_lost()); its module is pinned
 *	and the binding holds a reference on the TDI meanwhile
 * @put_binding: the binding ended under @lock; its reference is dropped
 *	after the unlock
 * @mmio_lost: a PCI reset or error recovery is taking the MMIO away behind
 *	vfio-pci's back (tdi_dmabuf_tdi_mmio_lost() until
 *	tdi_dmabuf_tdi_mmio_back()): BIND and GET_DMABUF fail with -EIO, and
 *	the provider's unbind waits
 * @unbind_deferred: the TDI entered ERROR inside such a window and the
 *	provider's ->unbind() was put off until it ends (@error_work runs it)
 * @unbound_layout: every exportable BAR shared, built at create
 * @layout: @unbound_layout while no provider holds the TDI, else the last
 *	report's layout (an empty one before the first report)
 * @dmabufs: open DMA-BUFs (struct tdi_dmabuf_buf.node); only dmabuf.c adds,
 *	removes and walks entries
 * @nr_dmabufs: entries in @dmabufs
 * @nr_revokes: DMA-BUFs revoked since the device was last opened
 * @cause: TDI_DMABUF_CAUSE_* of the last revocation
 * @error: positive errno of the last error transition
 * @revoke_timeout: how long a revocation waits for importers, in jiffies
 */
struct tdi_dmabuf_tdi {
	struct kref ref;
	struct device *dev;
	const struct tdi_dmabuf_tdi_ops *ops;
	struct tdi_dmabuf_bar bars[TDI_DMABUF_NR_BARS];
	struct work_struct error_work;
	atomic_t error_pending;

	/* protects everything below */
	struct mutex lock;
	u32 state;
	bool closed;
	struct tdi_dmabuf_provider *provider;
	bool put_binding;
	bool mmio_lost;
	bool unbind_deferred;
	struct tdi_dmabuf_layout *unbound_layout;
	struct tdi_dmabuf_layout *layout;
	struct list_head dmabufs;
	unsigned int nr_dmabufs;
	unsigned int nr_revokes;
	u32 cause;
	u32 error;
	unsigned long revoke_timeout;
};

/* How long a revocation waits for importers to let go by default. */
#define TDI_DMABUF_REVOKE_TIMEOUT_MS	10000

struct tdi_dmabuf_tdi *tdi_dmabuf_tdi_create(struct device *dev,
					     const struct tdi_dmabuf_tdi_ops *ops,
					     const struct tdi_dmabuf_bar *bars);
void tdi_dmabuf_tdi_put(struct tdi_dmabuf_tdi *tdi);
int tdi_dmabuf_tdi_open(struct tdi_dmabuf_tdi *tdi);
void tdi_dmabuf_tdi_close(struct tdi_dmabuf_tdi *tdi);
int tdi_dmabuf_tdi_bind(struct tdi_dmabuf_tdi *tdi);
int tdi_dmabuf_tdi_unbind(struct tdi_dmabuf_tdi *tdi);
int tdi_dmabuf_tdi_fail(struct tdi_dmabuf_tdi *tdi, u32 cause, int err);
int tdi_dmabuf_tdi_mmio_lost(struct tdi_dmabuf_tdi *tdi, u32 cause, int err);
void tdi_dmabuf_tdi_mmio_back(struct tdi_dmabuf_tdi *tdi);
void tdi_dmabuf_tdi_flush(struct tdi_dmabuf_tdi *tdi);
void tdi_dmabuf_tdi_get_state(struct tdi_dmabuf_tdi *tdi,
			      struct tdi_dmabuf_state *st);
bool tdi_dmabuf_tdi_held(struct tdi_dmabuf_tdi *tdi);
bool tdi_dmabuf_tdi_mmio_allowed(struct tdi_dmabuf_tdi *tdi, u32 bar,
				 u64 offset, u64 len);
int __tdi_dmabuf_tdi_revoke_all(struct tdi_dmabuf_tdi *tdi, u32 cause);
struct dma_buf *tdi_dmabuf_tdi_get_dmabuf(struct tdi_dmabuf_tdi *tdi, u32 bar,
					  u32 kind, int open_flags);
int tdi_dmabuf_tdi_get_layout(struct tdi_dmabuf_tdi *tdi,
			      struct tdi_dmabuf_range *ranges,
			      unsigned int *count, u32 *state);

/* dmabuf.c */

struct dma_buf *tdi_dmabuf_export(struct tdi_dmabuf_tdi *tdi, u32 bar,
				  u32 kind, int open_flags);
void tdi_dmabuf_buf_set_owner(struct dma_buf *dmabuf, u64 owner);
int tdi_dmabuf_buf_ranges(struct tdi_dmabuf_tdi *tdi, struct dma_buf *dmabuf,
			  struct tdi_dmabuf_range *ranges, unsigned int *count,
			  u32 *bar, u32 *kind, bool *revoked);
unsigned int tdi_dmabuf_nr_live(struct tdi_dmabuf_tdi *tdi);
int __tdi_dmabuf_revoke_bufs(struct tdi_dmabuf_tdi *tdi,
			     unsigned int *nr_revoked);

/* provider.c */

struct tdi_dmabuf_provider *tdi_dmabuf_provider_get(struct device *dev);
void tdi_dmabuf_provider_put(struct tdi_dmabuf_provider *prov);
bool tdi_dmabuf_importer_is_secure(const struct dma_buf_attach_ops *ops);

#endif /* _TDI_DMABUF_CORE_H */

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tdi_dmabuf - in-kernel interface of the TDI DMA-BUF exporter.
 *
 * Two kinds of users:
 *
 * 1. TDI report providers. A provider knows how to drive the TDISP state of
 *    a device's interface (through a platform TSM, or a fake for tests). It
 *    registers a struct tdi_dmabuf_provider; on BIND the exporter picks the
 *    first registered provider whose ->match() accepts the device and calls
 *    ->bind() (lock: CONFIG_UNLOCKED -> CONFIG_LOCKED), ->get_report(),
 *    ->start() (-> RUN), and on UNBIND or error ->unbind(). A provider
 *    reports asynchronous errors (the TDI left RUN, the link went down, ...)
 *    with tdi_dmabuf_tdi_error(), which revokes and unbinds from a work
 *    item; when its TSM has already destroyed the interface it calls
 *    tdi_dmabuf_tdi_lost() instead, which revokes and waits before it
 *    returns and ends the binding without ->unbind().
 *
 *    A provider backed by the kernel's PCI TSM core (include/linux/pci-tsm.h,
 *    7.x) fits this shape: ->match() accepts devices with pdev->tsm set,
 *    ->bind() is pci_tsm_bind() (the TSM locks the interface), ->get_report()
 *    returns the DEVICE_INTERFACE_REPORT the TSM fetched over SPDM together
 *    with the MMIO reporting offset of the TSM's ABI, ->start() asks the TSM
 *    to move the TDI to RUN (or is a no-op where the guest accepts it), and
 *    ->unbind() is pci_tsm_unbind(). TSM event notifications call
 *    tdi_dmabuf_tdi_error().
 *
 * 2. Secure in-kernel importers of private DMA-BUFs (the secure-EPT side of
 *    a confidential VMM). Private fragments must never reach userspace or an
 *    ordinary importer: the exporter's attach callback accepts a private
 *    DMA-BUF only when the attachment's dma_buf_attach_ops were registered
 *    with tdi_dmabuf_register_secure_importer(). The ops table is the
 *    importer's identity: it lives in the importer's module text, so no
 *    userspace-reachable importer (iommufd, DRM PRIME, ...) can present it.
 *    A private DMA-BUF is never DMA-mapped: the secure importer takes its
 *    host physical ranges, and the owner token the VMM gave it (e.g. the
 *    confidential VM it is for), with tdi_dmabuf_private_ranges() under
 *    the reservation lock, and must stop using them before its
 *    move_notify returns (or fence the reservation object until it has).
 *    All importers must be dynamic (implement move_notify) and allow
 *    peer-to-peer, since revocation is how the exporter withdraws MMIO.
 */
#ifndef _LINUX_TDI_DMABUF_H
#define _LINUX_TDI_DMABUF_H

#include <linux/list.h>
#include <linux/types.h>

struct device;
struct dma_buf;
struct dma_buf_attach_ops;
struct dma_buf_attachment;
struct module;
struct tdi_dmabuf_provider;
struct tdi_dmabuf_tdi;

/* TDISP DEVICE_INTERFACE_REPORT, little-endian on the wire. */
#define TDI_REPORT_HDR_LEN		16	/* up to MMIO_RANGE_COUNT */
#define TDI_REPORT_RANGE_LEN		16
#define TDI_REPORT_DSI_LEN_LEN		4	/* DEVICE_SPECIFIC_INFO_LEN */
#define TDI_REPORT_PAGE_SHIFT		12	/* FIRST_PAGE unit: 4 KiB */

/* INTERFACE_INFO bits 0-4 are defined, the rest reserved. */
#define TDI_REPORT_INTERFACE_INFO_MASK	0x001f
/* RANGE_ATTRIBUTES */
#define TDI_REPORT_ATTR_MSIX_TABLE	0x0001
#define TDI_REPORT_ATTR_MSIX_PBA	0x0002
#define TDI_REPORT_ATTR_NON_TEE_MEM	0x0004
#define TDI_REPORT_ATTR_MEM_ATTR_UPDATABLE 0x0008
#define TDI_REPORT_ATTR_MASK		0x000f

/**
 * struct tdi_dmabuf_report_buf - a report handed over by ->get_report()
 * @data: the raw DEVICE_INTERFACE_REPORT; allocated by the provider with
 *	kvmalloc(), freed by the exporter with kvfree()
 * @len: length of @data in bytes
 * @mmio_offset: MMIO reporting offset in bytes (4 KiB aligned): FIRST_PAGE
 *	of each range is (PCI bus address + @mmio_offset) >> 12, the bus
 *	address being what the function's BAR decodes (tdi_dmabuf_tdi_bar()),
 *	and RANGE_ID the index of that BAR
 */
struct tdi_dmabuf_report_buf {
	void *data;
	size_t len;
	u64 mmio_offset;
};

/**
 * struct tdi_dmabuf_provider_ops - what a TDI report provider implements
 * @match: return true if this provider drives the TDI of @dev
 * @bind: lock the interface (TDISP CONFIG_LOCKED); 0 or -errno
 * @get_report: fill @buf with the current report; 0 or -errno
 * @start: move the locked interface to RUN; 0 or -errno
 * @unbind: stop the interface and return it to CONFIG_UNLOCKED; 0 or -errno.
 *	Called after a successful ->bind() (also when a later step failed).
 *	A failed unbind is never forgotten: the TDI stays in ERROR, bound to
 *	the provider (its module pinned, the TDI kept in memory) even after
 *	the device is closed or removed, and the unbind is retried by UNBIND
 *	and by the provider's next tdi_dmabuf_tdi_error(). The @tdi pointer
 *	stays valid until an unbind returned 0.
 *
 * All callbacks run in process context under the device's TDI lock and may
 * sleep; they must not call back into the exporter except through
 * tdi_dmabuf_tdi_error(), tdi_dmabuf_tdi_dev() and tdi_dmabuf_tdi_bar().
 *
 * Locks held around a callback, outer to inner, depending on the path:
 *   BIND:                 mmio_rwsem, region_rwsem (the driver's), then
 *                         vdev->memory_lock (read), then the TDI lock
 *   UNBIND, provider error, config write taking the MMIO away:
 *                         (mmio_rwsem,) the TDI lock
 *   device close:         the VFIO device set's lock, the TDI lock
 *   ->unbind() after a PCI reset or AER recovery (from a work item, once
 *   the PCI core is done): the TDI lock
 * and the TDI lock is outside every DMA-BUF reservation lock. No callback
 * runs inside the PCI core's reset or error recovery (under the device
 * lock, or vfio-pci's memory_lock for a reset requested through VFIO): they
 * wait only for the revocation, and the unbind follows. So a callback
 * must not reset the function or its bus, change its power state or command
 * register, take the device lock, issue VFIO requests on the device, touch
 * the device's DMA-BUFs, call tdi_dmabuf_tdi_lost(), or wait for anything
 * that does. The driver primes lockdep with these orders when it binds a
 * device, so a callback that takes one of the VFIO locks is reported the
 * first time it runs (the PCI device lock is not validated by lockdep).
 *
 * Fit with the kernel's PCI TSM core (7.x): pci_tsm_bind()/pci_tsm_unbind()
 * and the TSM's report fit ->bind(), ->get_report() and ->unbind() as above;
 * what does not fit yet: the TSM core's own sysfs and ioctl flows can lock
 * or unbind a TDI behind this driver (no notifier reaches it: a provider has
 * to turn them into tdi_dmabuf_tdi_lost()), and its guest-side accept of
 * private MMIO, as well as the secure importer of private DMA-BUFs, have no
 * upstream counterpart here.
 */
struct tdi_dmabuf_provider_ops {
	bool (*match)(struct tdi_dmabuf_provider *prov, struct device *dev);
	int (*bind)(struct tdi_dmabuf_provider *prov, struct tdi_dmabuf_tdi *tdi);
	int (*get_report)(struct tdi_dmabuf_provider *prov,
			  struct tdi_dmabuf_tdi *tdi,
			  struct tdi_dmabuf_report_buf *buf);
	int (*start)(struct tdi_dmabuf_provider *prov, struct tdi_dmabuf_tdi *tdi);
	int (*unbind)(struct tdi_dmabuf_provider *prov, struct tdi_dmabuf_tdi *tdi);
};

/**
 * struct tdi_dmabuf_provider - a registered TDI report provider
 * @name: for messages
 * @owner: module implementing @ops (pinned while a TDI is bound through it)
 * @ops: callbacks
 * @node: registry entry, owned by the exporter
 */
struct tdi_dmabuf_provider {
	const char *name;
	struct module *owner;
	const struct tdi_dmabuf_provider_ops *ops;
	struct list_head node;
};

int tdi_dmabuf_register_provider(struct tdi_dmabuf_provider *prov);
void tdi_dmabuf_unregister_provider(struct tdi_dmabuf_provider *prov);

void tdi_dmabuf_tdi_error(struct tdi_dmabuf_tdi *tdi, int err);
int tdi_dmabuf_tdi_lost(struct tdi_dmabuf_tdi *tdi, int err);
struct device *tdi_dmabuf_tdi_dev(struct tdi_dmabuf_tdi *tdi);
int tdi_dmabuf_tdi_bar(struct tdi_dmabuf_tdi *tdi, unsigned int bar,
		       u64 *bus, u64 *len);

/**
 * struct tdi_dmabuf_phys_range - a range of private MMIO, for the secure
 *	importer (tdi_dmabuf_private_ranges())
 * @phys: host physical address
 * @len: length in bytes
 * @offset: offset of the range in the DMA-BUF
 */
struct tdi_dmabuf_phys_range {
	phys_addr_t phys;
	u64 len;
	u64 offset;
};

int tdi_dmabuf_register_secure_importer(const struct dma_buf_attach_ops *ops);
void tdi_dmabuf_unregister_secure_importer(const struct dma_buf_attach_ops *ops);
int tdi_dmabuf_kind(struct dma_buf *dmabuf);
int tdi_dmabuf_private_ranges(struct dma_buf_attachment *attach,
			      struct tdi_dmabuf_phys_range *ranges,
			      unsigned int *count, u64 *owner);

#endif /* _LINUX_TDI_DMABUF_H */

/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * tdi_dmabuf - userspace ABI of the vfio-pci variant driver that exports the
 * MMIO of a TDISP TDI as shared and private DMA-BUFs.
 *
 * The ioctls are issued on the VFIO *device* fd of a device bound to the
 * tdi_dmabuf driver. They use their own ioctl magic rather than a
 * VFIO_DEVICE_FEATURE: bind/unbind are actions with side effects on other
 * objects (every DMA-BUF of the device), GET_DMABUF returns a new fd, and
 * newer kernels already define VFIO_DEVICE_FEATURE_DMA_BUF with different
 * semantics (caller-chosen ranges, no TDI state); keeping the two apart
 * avoids any confusion between them. The vfio core hands every ioctl it does
 * not know to the variant driver, so no VFIO number is taken.
 *
 * Every struct starts with a flags word; unknown flags and non-zero reserved
 * fields are rejected with EINVAL so that they can be given meaning later.
 *
 * The flow (one device):
 *
 *   UNBOUND --BIND--> LOCKED --(report valid, start)--> RUN
 *      ^                 |                               |
 *      |  bind fails     |                               | UNBIND
 *      +-----------------+-------------------------------+
 *      |                                                 |
 *      +---UNBIND--- ERROR <--provider error, reset,-----+
 *                           memory decode off
 *
 * - In UNBOUND (and in ERROR once the provider let go of the TDI) every
 *   page of every memory BAR is shared: a shared DMA-BUF covers the whole
 *   BAR, there are no private pages, and the VFIO regions work exactly as
 *   with vfio-pci.
 * - In RUN the TDI report decides: pages with IS_NON_TEE_MEM are shared,
 *   other reported pages private, pages in no reported range are in neither.
 *   In ERROR while the provider still holds the TDI (its unbind failed) the
 *   last report's layout stays.
 * - Closing the VFIO device revokes every DMA-BUF and unbinds the TDI. If the
 *   provider refuses, the TDI stays bound to it, in ERROR (cause CLOSE): the
 *   next open finds ERROR and UNBIND retries. GET_STATE's nr_revokes counts
 *   from the open.
 * - From BIND until the provider let go of the TDI, the VFIO region of an
 *   exportable BAR reaches only pages the report marked shared: read(2),
 *   write(2) and mmap(2) of any other offset fail with EACCES, and an
 *   access through a mapping that covers one raises SIGBUS (mappings made
 *   before BIND are zapped by it; on kernels whose vfio-pci cannot zap them
 *   for a variant driver, before 6.10, BIND fails with EBUSY while one
 *   exists). VFIO_DEVICE_IOEVENTFD fails with EACCES, and BIND fails with
 *   EBUSY while an ioeventfd is registered. vfio-pci's own DMA-BUF export
 *   (VFIO_DEVICE_FEATURE_DMA_BUF) is never offered: use GET_DMABUF.
 * - BIND is refused with EBUSY while any DMA-BUF of the device is open and
 *   not revoked (a revoked one never gives access again, whoever holds it).
 * - Memory decode is judged as vfio-pci judges BAR access, never from the
 *   physical register: the VFIO user's virtual PCI_COMMAND memory bit (as
 *   read and written through the VFIO config region), the device in D0-D2,
 *   and not in VFIO runtime low power (VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY
 *   until LOW_POWER_EXIT). On an SR-IOV VF, whose physical bit is
 *   hard-wired to 0, the virtual bit counts too (vfio-pci ignores it).
 *   A config write that clears the memory bit or writes D3hot to PMCSR, and
 *   LOW_POWER_ENTRY, revoke every DMA-BUF before vfio-pci changes the
 *   device (a bound TDI enters ERROR with cause MEMORY); if an importer
 *   does not let go in time (see below) the write or the feature request
 *   fails with EBUSY and vfio-pci does not change the device (what was
 *   revoked stays revoked). Memory decode also counts as off while a PCI
 *   reset (also one not requested through VFIO, e.g. through sysfs) or AER
 *   error recovery of the device runs, from the revoke until the PCI core
 *   has restored the device. Such a reset or recovery of a bound TDI waits
 *   only for the revocation: the provider is unbound once the PCI core is
 *   done (until then the TDI is in ERROR, held by the provider, as after a
 *   failed unbind), and the first ioctl after that finds it unbound. A
 *   recovery that fails leaves that to UNBIND or the close.
 * - Any error (provider error, device reset, memory decode off, a bind
 *   failing half-way, unbind) revokes every open DMA-BUF of the device:
 *   importers are told to drop their mappings, new attachments/mappings fail,
 *   CPU mappings of shared DMA-BUFs are zapped (later access: SIGBUS) and
 *   mmap fails with ENODEV. A revoked DMA-BUF never comes back: userspace
 *   closes it and gets a new one.
 * - Revocation is complete when every importer has unmapped every mapping it
 *   was handed and every fence of the DMA-BUF's reservation object (all
 *   usages, BOOKKEEP included) has signalled. The kernel waits for that (up
 *   to 10 s per DMA-BUF) before the provider is asked to unbind and before
 *   VFIO_DEVICE_RESET goes on. If an importer does not let go in time,
 *   UNBIND fails with ETIMEDOUT and VFIO_DEVICE_RESET with EBUSY; the state
 *   is ERROR, the provider keeps the TDI (its private pages stay
 *   unreachable) and UNBIND may be retried. Paths that cannot be refused
 *   (a reset started by the PCI core, an AER error, closing the device)
 *   log the incomplete revocation and go on. A VFIO_DEVICE_RESET that
 *   vfio-pci refuses before touching the device (no reset method: EINVAL)
 *   revokes nothing.
 * - Importers: static importers (no move_notify/invalidate_mappings) and
 *   importers that cannot take peer-to-peer memory are refused at attach
 *   (EOPNOTSUPP). On kernels without CONFIG_DMABUF_MOVE_NOTIFY (Debian 6.1
 *   and 6.12) the DMA-BUF core pins every mapping of a dynamic importer, so
 *   a pin cannot tell a pinned importer from a dynamic one: pins are
 *   accepted (MMIO never moves), and safety rests on the wait above, which
 *   an importer that ignores the notification turns into the ETIMEDOUT /
 *   EBUSY refusal instead of a silent unbind. From 7.0 on, attach requires
 *   dma_buf_attach_revocable().
 */
#ifndef _UAPI_LINUX_TDI_DMABUF_H
#define _UAPI_LINUX_TDI_DMABUF_H

#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * Linux's ioctl-number.rst lists 0xB6 for linux/fpga-dfl.h (DFL FPGA, its own
 * character devices). These ioctls are only ever decoded by the tdi_dmabuf
 * driver on its VFIO device fds, which never reach a DFL driver, so the two
 * cannot be confused; a code of its own is to be requested on submission.
 */
#define TDI_DMABUF_MAGIC	0xB6

/* TDI states (struct tdi_dmabuf_state.state, struct tdi_dmabuf_get_layout.state) */
#define TDI_DMABUF_STATE_UNBOUND	0
#define TDI_DMABUF_STATE_LOCKED		1
#define TDI_DMABUF_STATE_RUN		2
#define TDI_DMABUF_STATE_ERROR		3

/* Why DMA-BUFs were last revoked (struct tdi_dmabuf_state.cause) */
#define TDI_DMABUF_CAUSE_NONE		0
#define TDI_DMABUF_CAUSE_PROVIDER	1	/* provider signalled an error */
#define TDI_DMABUF_CAUSE_RESET		2	/* device reset */
#define TDI_DMABUF_CAUSE_MEMORY		3	/* memory decode off, D3hot, low power */
#define TDI_DMABUF_CAUSE_BIND		4	/* bind failed half-way */
#define TDI_DMABUF_CAUSE_UNBIND		5	/* UNBIND */
#define TDI_DMABUF_CAUSE_CLOSE		6	/* VFIO device closed */

/* DMA-BUF kinds */
#define TDI_DMABUF_KIND_SHARED		0
#define TDI_DMABUF_KIND_PRIVATE		1

/* struct tdi_dmabuf_range.flags */
#define TDI_DMABUF_RANGE_PRIVATE	(1U << 0)	/* TEE memory */
#define TDI_DMABUF_RANGE_MSIX_TABLE	(1U << 1)
#define TDI_DMABUF_RANGE_MSIX_PBA	(1U << 2)
#define TDI_DMABUF_RANGE_ATTR_UPDATABLE	(1U << 3)	/* IS_MEM_ATTR_UPDATABLE */

/**
 * struct tdi_dmabuf_bind - argument of BIND and UNBIND
 * @flags: must be 0
 * @reserved: must be 0
 * @reserved2: must be 0
 */
struct tdi_dmabuf_bind {
	__u32 flags;
	__u32 reserved;
	__u64 reserved2[2];
};

/*
 * TDI_DMABUF_IOCTL_BIND - lock the TDI, fetch and validate its report, start it.
 *
 * Asks the report provider registered for the device to lock/bind the TDI,
 * reads the TDISP DEVICE_INTERFACE_REPORT, validates it and derives the
 * shared/private layout, then asks the provider to start the TDI. On success
 * the state is RUN. On failure the provider is unbound again, any DMA-BUF is
 * revoked and the state is UNBOUND; if the provider then refuses to unbind,
 * the state is ERROR (as after a failed UNBIND).
 *
 * Errors:
 *  EINVAL   unknown flags or non-zero reserved fields
 *  EBUSY    a DMA-BUF of the device is open and not revoked (close it), an
 *           ioeventfd is registered, or (before Linux 6.10) a BAR of the
 *           device is mmap()ed through the VFIO device fd
 *  EALREADY the TDI is bound (LOCKED, RUN) or in ERROR (UNBIND it first)
 *  ENODEV   no report provider handles this device
 *  EBADMSG  the report is malformed (length, count, range outside a BAR,
 *           overlap, wrap, reserved bits, a RANGE_ID that is not the index
 *           of the range's BAR); the kernel log says which. Ranges are
 *           PCI bus addresses (as the BARs decode them) plus the MMIO
 *           reporting offset; a report may be as long as TDISP can
 *           transfer (2 x 65535 bytes)
 *  EOPNOTSUPP a boundary between shared, private and unreported pages of
 *           the report is not aligned to the larger of the kernel's page
 *           size and the smallest page of the device's IOMMU domain (when
 *           one is known): such a split cannot be mapped; the kernel's
 *           debug log (dev_dbg) names the BAR, the offset and the alignment
 *  EIO      memory decode of the device is off (see "Memory decode" above)
 *  other    the provider's own error from lock/bind, report or start
 */
#define TDI_DMABUF_IOCTL_BIND	_IOW(TDI_DMABUF_MAGIC, 0x00, struct tdi_dmabuf_bind)

/*
 * TDI_DMABUF_IOCTL_UNBIND - stop and unbind the TDI.
 *
 * Revokes every DMA-BUF of the device, then asks the provider to stop and
 * unbind. From ERROR this acknowledges the error (retrying the provider's
 * unbind if it failed before). On success the state is UNBOUND.
 *
 * Errors:
 *  EINVAL   unknown flags or non-zero reserved fields
 *  ENOTCONN the TDI is not bound (UNBOUND)
 *  ETIMEDOUT an importer still uses a revoked DMA-BUF: the provider was not
 *           asked to unbind, the state is ERROR; UNBIND may be retried
 *  other    the provider failed to unbind: DMA-BUFs are revoked anyway, the
 *           state is ERROR; UNBIND may be retried
 */
#define TDI_DMABUF_IOCTL_UNBIND	_IOW(TDI_DMABUF_MAGIC, 0x01, struct tdi_dmabuf_bind)

/**
 * struct tdi_dmabuf_state - argument of GET_STATE
 * @flags: must be 0
 * @state: out: TDI_DMABUF_STATE_*
 * @cause: out: TDI_DMABUF_CAUSE_* of the last revocation
 * @error: out: positive errno of the last error transition, 0 if none
 * @nr_dmabufs: out: DMA-BUFs of the device that are still open
 * @nr_revokes: out: DMA-BUFs revoked since the VFIO device was last opened
 * @reserved: must be 0
 */
struct tdi_dmabuf_state {
	__u32 flags;
	__u32 state;
	__u32 cause;
	__u32 error;
	__u32 nr_dmabufs;
	__u32 nr_revokes;
	__u64 reserved[2];
};

/*
 * TDI_DMABUF_IOCTL_GET_STATE - read the TDI state.
 *
 * Errors:
 *  EINVAL   unknown flags or non-zero reserved fields
 *  EFAULT   bad argument pointer
 */
#define TDI_DMABUF_IOCTL_GET_STATE	_IOWR(TDI_DMABUF_MAGIC, 0x02, struct tdi_dmabuf_state)

/**
 * struct tdi_dmabuf_range - one fragment of a BAR
 * @offset: offset in the BAR, page aligned
 * @length: length in bytes, page aligned
 * @dmabuf_offset: GET_RANGES: offset of the fragment in the DMA-BUF (and in
 *	an mmap of it); GET_LAYOUT: 0
 * @bar: BAR index (0-5)
 * @flags: TDI_DMABUF_RANGE_*
 */
struct tdi_dmabuf_range {
	__u64 offset;
	__u64 length;
	__u64 dmabuf_offset;
	__u32 bar;
	__u32 flags;
};

/**
 * struct tdi_dmabuf_get_layout - argument of GET_LAYOUT
 * @flags: must be 0
 * @count: in: capacity of @ranges; out: number of fragments of the layout
 * @ranges: user pointer to an array of struct tdi_dmabuf_range
 * @state: out: the state this layout belongs to
 * @reserved: must be 0
 * @reserved2: must be 0
 */
struct tdi_dmabuf_get_layout {
	__u32 flags;
	__u32 count;
	__u64 ranges;
	__u32 state;
	__u32 reserved;
	__u64 reserved2;
};

/*
 * TDI_DMABUF_IOCTL_GET_LAYOUT - the shared/private fragments of every BAR.
 *
 * Fragments are sorted by BAR and offset; adjacent fragments with identical
 * flags are merged. In UNBOUND each exportable memory BAR is one shared
 * fragment, and in ERROR too once the provider let go of the TDI. Pages of
 * a BAR in no fragment belong to no DMA-BUF.
 *
 * Errors:
 *  EINVAL   unknown flags or non-zero reserved fields
 *  ENOSPC   @count was too small; @count is set to the number needed and
 *           nothing else is written
 *  EFAULT   bad argument or @ranges pointer
 */
#define TDI_DMABUF_IOCTL_GET_LAYOUT	_IOWR(TDI_DMABUF_MAGIC, 0x03, struct tdi_dmabuf_get_layout)

/**
 * struct tdi_dmabuf_get_dmabuf - argument of GET_DMABUF
 * @flags: must be 0
 * @bar: BAR index (0-5)
 * @kind: TDI_DMABUF_KIND_SHARED or TDI_DMABUF_KIND_PRIVATE
 * @open_flags: O_RDONLY or O_RDWR, optionally O_CLOEXEC (the new fd is
 *	always close-on-exec)
 * @size: out: size of the DMA-BUF (sum of its fragments)
 * @nr_ranges: out: number of fragments
 * @reserved: must be 0
 * @owner: private DMA-BUFs only (0 for a shared one): an opaque token the
 *	VMM chooses, e.g. naming the confidential VM the private MMIO is
 *	for. The secure importer receives it with the physical ranges of the
 *	DMA-BUF and can refuse a DMA-BUF that is not its VM's. 0 is a valid
 *	token ("no owner").
 * @reserved2: must be 0
 */
struct tdi_dmabuf_get_dmabuf {
	__u32 flags;
	__u32 bar;
	__u32 kind;
	__u32 open_flags;
	__u64 size;
	__u32 nr_ranges;
	__u32 reserved;
	__u64 owner;
	__u64 reserved2;
};

/*
 * TDI_DMABUF_IOCTL_GET_DMABUF - export the shared or private fragments of one
 * BAR as a DMA-BUF; returns the new fd.
 *
 * The DMA-BUF is the concatenation of the BAR's fragments of @kind, in BAR
 * order (GET_RANGES tells where each lies). Shared DMA-BUFs may be mmap()ed
 * (MAP_SHARED) and attached by any dynamic, peer-to-peer capable importer;
 * its device gets the route the kernel's PCI peer-to-peer code gives for it
 * (PCI bus addresses behind a common switch, IOMMU mappings through a host
 * bridge the kernel trusts). A device without such a route (not PCI, on a
 * host bridge the kernel does not list, or any device where the kernel is
 * built without CONFIG_PCI_P2PDMA, as Debian's 6.1) cannot map it: the
 * importer's map fails with EOPNOTSUPP. Scatterlist entries never exceed
 * the importing device's maximum segment size.
 * Private DMA-BUFs exist only in RUN, are never mmap-able (mmap fails with
 * EACCES) and accept only in-kernel importers that registered as secure
 * (see include/linux/tdi_dmabuf.h); they are never DMA-mapped for a device
 * (map fails with EPERM): the secure importer takes their physical ranges
 * and @owner instead.
 *
 * Errors:
 *  EINVAL   unknown flags, non-zero reserved fields, non-zero @size or
 *           @nr_ranges on input, @bar > 5, unknown @kind, @open_flags other
 *           than O_RDONLY/O_RDWR and O_CLOEXEC, non-zero @owner for a shared
 *           DMA-BUF
 *  ENODEV   @bar is not an exportable memory BAR (I/O, empty, not page sized)
 *  ENOENT   the BAR has no fragment of @kind in the current layout
 *  EPERM    private DMA-BUF requested while the TDI is not in RUN
 *  EIO      memory decode of the device is off (see "Memory decode" above)
 *  ENOMEM, EMFILE, ENFILE  resources
 */
#define TDI_DMABUF_IOCTL_GET_DMABUF	_IOWR(TDI_DMABUF_MAGIC, 0x04, struct tdi_dmabuf_get_dmabuf)

/**
 * struct tdi_dmabuf_get_ranges - argument of GET_RANGES
 * @flags: must be 0
 * @dmabuf_fd: a DMA-BUF fd obtained from GET_DMABUF on this device
 * @count: in: capacity of @ranges; out: number of fragments of the DMA-BUF
 * @kind: out: TDI_DMABUF_KIND_*
 * @ranges: user pointer to an array of struct tdi_dmabuf_range
 * @bar: out: BAR index
 * @revoked: out: 1 if the DMA-BUF was revoked, else 0
 * @reserved: must be 0
 */
struct tdi_dmabuf_get_ranges {
	__u32 flags;
	__s32 dmabuf_fd;
	__u32 count;
	__u32 kind;
	__u64 ranges;
	__u32 bar;
	__u32 revoked;
	__u64 reserved;
};

/*
 * TDI_DMABUF_IOCTL_GET_RANGES - the valid ranges of a DMA-BUF.
 *
 * Errors:
 *  EINVAL   unknown flags, non-zero reserved fields, or @dmabuf_fd is a
 *           DMA-BUF not exported by this device
 *  EBADF    @dmabuf_fd is not an open fd, or not a DMA-BUF
 *  ENOSPC   @count was too small; @count is set to the number needed
 *  EFAULT   bad argument or @ranges pointer
 */
#define TDI_DMABUF_IOCTL_GET_RANGES	_IOWR(TDI_DMABUF_MAGIC, 0x05, struct tdi_dmabuf_get_ranges)

#endif /* _UAPI_LINUX_TDI_DMABUF_H */

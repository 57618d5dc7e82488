// SPDX-License-Identifier: GPL-2.0-only
/*
 * tdi_dmabuf - vfio-pci variant driver exporting the MMIO of a TDISP TDI as
 * shared and private DMA-BUFs.
 *
 * Bound through driver_override to any PCI device; everything vfio-pci does
 * (regions, mmap, interrupts, DMA mapping, reset) is delegated to
 * vfio_pci_core. On top of it the device fd takes the ioctls of
 * include/uapi/linux/tdi_dmabuf.h. Events that invalidate MMIO behind the
 * exporter's back revoke every DMA-BUF of the device:
 *  - device reset: VFIO_DEVICE_RESET / hot reset through the device fd, and
 *    any other function or bus reset through the driver's
 *    ->reset_prepare() (called by the PCI core under the device lock);
 *  - AER errors: ->error_detected();
 *    from ->reset_prepare() or ->error_detected() until ->reset_done() or
 *    ->resume(), BIND and new DMA-BUFs fail with -EIO as well (vfio-pci's
 *    memory-enable state does not change there);
 *  - MMIO taken away: a config write through the device fd that clears the
 *    memory bit of PCI_COMMAND or puts the device into D3hot (PMCSR), and
 *    VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY. The revoke runs before vfio-pci
 *    writes the hardware, and the request fails with -EBUSY if an importer
 *    does not let go in time (as a reset does). While memory decode is off
 *    as vfio-pci sees it (tdi_dmabuf_vfio_mem_enabled()), new DMA-BUFs and
 *    BIND fail with -EIO;
 *  - the device fd closing: the TDI is unbound as well.
 *
 * From BIND until the provider let go of the TDI, the VFIO region of an
 * exportable BAR reaches only pages the last report marked shared
 * (tdi_dmabuf_tdi_mmio_allowed()): read, write and mmap of anything else
 * fail with -EACCES, faults of existing BAR mappings that cover anything
 * else SIGBUS, and VFIO_DEVICE_IOEVENTFD and vfio-pci's own DMA-BUF export
 * are refused. BIND first zaps every BAR mapping; where vfio_pci_core keeps
 * them on a private list (before 6.10, see cchost_vfio_zap_mmaps()) BIND is
 * refused with -EBUSY while one exists. BIND is also refused while an
 * ioeventfd is registered. Unbound, everything is vfio-pci's.
 *
 * Locking: @mmio_rwsem of struct tdi_dmabuf_device is taken for writing by
 * every config write and by low-power entry (revoke, then vfio-pci's
 * hardware write), and for reading by BIND and GET_DMABUF: none of those
 * passes its memory-enabled check between a revoke and the write that takes
 * the MMIO away. Their check itself runs under vdev->memory_lock (read),
 * which orders it against vfio-pci's own paths (resets, its zap before
 * disabling), as vfio-pci orders its BAR faults.
 * @region_rwsem is taken for reading around every BAR access and fault
 * (check and access as one), and for writing by BIND around the zap and the
 * provider's bind. Config-space accesses take no region_rwsem: they reach
 * no BAR, and before 6.10 vfio-pci's zap takes the mmap_lock of every
 * mapping's mm inside a config write. Order:
 *   mmio_rwsem -> mmap_lock (user copies; vfio-pci's zap before 6.10)
 *   mmio_rwsem -> region_rwsem -> vdev->memory_lock -> tdi->lock (BIND)
 *   mmio_rwsem -> vdev->memory_lock -> tdi->lock (GET_DMABUF)
 *   mmap_lock -> region_rwsem -> vdev->memory_lock -> tdi->lock
 * A region read or write copies from or to userspace inside region_rwsem;
 * a page fault there would take mmap_lock inside region_rwsem, the reverse of
 * the order above. So the buffer is faulted in first and the access runs
 * with page faults disabled (tdi_dmabuf_rw(), and the ioctl arguments copied
 * inside it: BIND, VFIO_DEVICE_IOEVENTFD), as vfio_pci_core never holds
 * memory_lock across a user copy either.
 * tdi->lock is never held while calling into vfio_pci_core, because the
 * core calls ->reset_prepare() (tdi->lock) with memory_lock held. tdi->lock
 * (state.c) nests inside the vfio device-set lock (open/close) and the PCI
 * device lock (reset).
 */
#include <linux/dma-buf.h>
#include <linux/file.h>
#include <linux/fcntl.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>
#include <linux/vfio_pci_core.h>

#include "tdi_dmabuf_core.h"

/* More fragments than any valid report can produce. */
#define TDI_DMABUF_MAX_RANGES	(TDI_REPORT_MAX_LEN / TDI_REPORT_RANGE_LEN + \
				 TDI_DMABUF_NR_BARS)

/**
 * struct tdi_dmabuf_device - one device bound to the driver
 * @core: the vfio-pci core device
 * @tdi: the TDI; created at init, reference dropped at release
 * @mmio_rwsem: orders the paths that take MMIO away (write: revoke, then
 *	vfio-pci's hardware write) against BIND and GET_DMABUF (read)
 * @region_rwsem: orders BIND (write) against region accesses, BAR mmaps
 *	and faults (read), so that none passes its check before BIND and
 *	reaches the BAR after it
 * @nr_bar_vmas: userspace mappings of BARs (atomic; open/close of the VMAs)
 * @p2pdma: the kernel's p2pdma state of the device is set up (until the
 *	driver unbinds); fixed at probe
 */
struct tdi_dmabuf_device {
	struct vfio_pci_core_device core;
	struct tdi_dmabuf_tdi *tdi;
	struct rw_semaphore mmio_rwsem;
	struct rw_semaphore region_rwsem;
	atomic_t nr_bar_vmas;
	bool p2pdma;
};

/*
 * BAR mappings keep vfio_pci_core's vm_operations, wrapped: faults check
 * tdi_dmabuf_tdi_mmio_allowed() first. The core's table is the same for
 * every mapping; it is taken from the first one (tdi_dmabuf_vm_ops_lock).
 * No huge faults: the check covers the whole VMA and 4 KiB faults keep it
 * simple.
 */
static DEFINE_MUTEX(tdi_dmabuf_vm_ops_lock);
static const struct vm_operations_struct *tdi_dmabuf_core_vm_ops;

static struct tdi_dmabuf_device *tdi_dmabuf_from_vdev(struct vfio_device *vdev)
{
	return container_of(vdev, struct tdi_dmabuf_device, core.vdev);
}

static struct tdi_dmabuf_device *tdi_dmabuf_from_pdev(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *core = dev_get_drvdata(&pdev->dev);

	return container_of(core, struct tdi_dmabuf_device, core);
}

/*
 * Memory decode as vfio-pci sees it, never the physical register (a VF's
 * memory bit is hard-wired to 0): __vfio_pci_memory_enabled() (the VFIO
 * user's virtual PCI_COMMAND, the power state), and not in runtime low
 * power (VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY), where vfio-pci refuses BAR
 * faults too. For a device without a memory bit (pdev->no_command_memory:
 * VFs) vfio-pci ignores the virtual bit; the TDI does not: a VFIO user who
 * clears it has its DMA-BUFs revoked and gets no new ones, as on a PF.
 * Context: vdev->memory_lock held.
 */
static bool tdi_dmabuf_vfio_mem_enabled(struct vfio_pci_core_device *vdev)
{
	u16 virt_cmd;

	lockdep_assert_held(&vdev->memory_lock);
	/* Not open: no config space of the user's. */
	if (!vdev->vconfig)
		return false;
	virt_cmd = le16_to_cpu(*(__le16 *)&vdev->vconfig[PCI_COMMAND]);
	return !vdev->pm_runtime_engaged && __vfio_pci_memory_enabled(vdev) &&
	       (virt_cmd & PCI_COMMAND_MEMORY);
}

/* ->mem_enabled(): the TDI core asks under vdev->memory_lock (read). */
static bool tdi_dmabuf_pci_mem_enabled(struct tdi_dmabuf_tdi *tdi)
{
	struct pci_dev *pdev = to_pci_dev(tdi_dmabuf_tdi_dev(tdi));

	return tdi_dmabuf_vfio_mem_enabled(dev_get_drvdata(&pdev->dev));
}

/* The same, taking vdev->memory_lock. */
static bool tdi_dmabuf_mmio_enabled(struct tdi_dmabuf_device *tdev)
{
	bool on;

	down_read(&tdev->core.memory_lock);
	on = tdi_dmabuf_vfio_mem_enabled(&tdev->core);
	up_read(&tdev->core.memory_lock);
	return on;
}

/* Smallest page of the IOMMU domain the device is attached to, 0 if none. */
static u64 tdi_dmabuf_pci_iommu_granule(struct tdi_dmabuf_tdi *tdi)
{
	struct iommu_domain *domain;

	domain = iommu_get_domain_for_dev(tdi_dmabuf_tdi_dev(tdi));
	if (!domain || !domain->pgsize_bitmap)
		return 0;
	return 1ULL << __ffs(domain->pgsize_bitmap);
}

/*
 * ->p2p_map(): the kernel's routes (compat.h). The core asks only from a
 * DMA-BUF map, under the reservation lock of a DMA-BUF that is not
 * revoked: the device is open, so bound to this driver, and its p2pdma
 * state (devres of the binding) is alive.
 */
static struct sg_table *
tdi_dmabuf_pci_p2p_map(struct tdi_dmabuf_tdi *tdi, u32 bar,
		       struct dma_buf_attachment *attach,
		       struct phys_vec *ranges, unsigned int nr, size_t size,
		       enum dma_data_direction dir)
{
	struct pci_dev *pdev = to_pci_dev(tdi_dmabuf_tdi_dev(tdi));

	if (!tdi_dmabuf_from_pdev(pdev)->p2pdma)
		return ERR_PTR(-EOPNOTSUPP);
	return cchost_p2pdma_map(pdev, bar, attach, ranges, nr, size, dir);
}

static void tdi_dmabuf_pci_p2p_unmap(struct tdi_dmabuf_tdi *tdi,
				     struct dma_buf_attachment *attach,
				     struct sg_table *sgt,
				     enum dma_data_direction dir)
{
	cchost_p2pdma_unmap(attach, sgt, dir);
}

static const struct tdi_dmabuf_tdi_ops tdi_dmabuf_pci_tdi_ops = {
	.mem_enabled = tdi_dmabuf_pci_mem_enabled,
	.iommu_granule = tdi_dmabuf_pci_iommu_granule,
	.p2p_map = tdi_dmabuf_pci_p2p_map,
	.p2p_unmap = tdi_dmabuf_pci_p2p_unmap,
};

/* Reject a malformed ioctl argument, saying which. */
static int tdi_dmabuf_einval(struct tdi_dmabuf_tdi *tdi, const char *what)
{
	dev_dbg(tdi_dmabuf_tdi_dev(tdi), "%s: invalid argument\n", what);
	return -EINVAL;
}

static int tdi_dmabuf_ioctl_bind(struct tdi_dmabuf_tdi *tdi, unsigned int cmd,
				 void __user *uarg)
{
	struct tdi_dmabuf_bind arg;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags || arg.reserved || arg.reserved2[0] || arg.reserved2[1])
		return tdi_dmabuf_einval(tdi, cmd == TDI_DMABUF_IOCTL_BIND ?
					 "BIND flags/reserved" : "UNBIND flags/reserved");
	if (cmd == TDI_DMABUF_IOCTL_BIND)
		return tdi_dmabuf_tdi_bind(tdi);
	return tdi_dmabuf_tdi_unbind(tdi);
}

static int tdi_dmabuf_ioctl_get_state(struct tdi_dmabuf_tdi *tdi,
				      void __user *uarg)
{
	struct tdi_dmabuf_state arg;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags || arg.reserved[0] || arg.reserved[1])
		return tdi_dmabuf_einval(tdi, "GET_STATE flags/reserved");
	tdi_dmabuf_tdi_get_state(tdi, &arg);
	return copy_to_user(uarg, &arg, sizeof(arg)) ? -EFAULT : 0;
}

static int tdi_dmabuf_ioctl_get_layout(struct tdi_dmabuf_tdi *tdi,
				       void __user *uarg)
{
	struct tdi_dmabuf_get_layout arg;
	struct tdi_dmabuf_range *ranges;
	unsigned int count;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags || arg.reserved || arg.reserved2)
		return tdi_dmabuf_einval(tdi, "GET_LAYOUT flags/reserved");

	count = min_t(u32, arg.count, TDI_DMABUF_MAX_RANGES);
	ranges = kvcalloc(count ?: 1, sizeof(*ranges), GFP_KERNEL);
	if (!ranges)
		return -ENOMEM;
	ret = tdi_dmabuf_tdi_get_layout(tdi, ranges, &count, &arg.state);
	arg.count = count;
	if (!ret && copy_to_user(u64_to_user_ptr(arg.ranges), ranges,
				 array_size(count, sizeof(*ranges))))
		ret = -EFAULT;
	kvfree(ranges);
	if (ret && ret != -ENOSPC)
		return ret;
	if (copy_to_user(uarg, &arg, sizeof(arg)))
		return -EFAULT;
	return ret;
}

static int tdi_dmabuf_ioctl_get_dmabuf(struct tdi_dmabuf_device *tdev,
				       void __user *uarg)
{
	struct tdi_dmabuf_tdi *tdi = tdev->tdi;
	struct tdi_dmabuf_get_dmabuf arg;
	struct dma_buf *dmabuf;
	unsigned int nr = 0;
	u32 bar, kind;
	bool revoked;
	int fd;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags || arg.reserved || arg.reserved2 || arg.size ||
	    arg.nr_ranges)
		return tdi_dmabuf_einval(tdi, "GET_DMABUF flags/reserved/output fields");
	if (arg.owner && arg.kind != TDI_DMABUF_KIND_PRIVATE)
		return tdi_dmabuf_einval(tdi, "GET_DMABUF owner of a shared DMA-BUF");
	if ((arg.open_flags & ~(O_ACCMODE | O_CLOEXEC)) ||
	    (arg.open_flags & O_ACCMODE) == O_WRONLY ||
	    (arg.open_flags & O_ACCMODE) == O_ACCMODE)
		return tdi_dmabuf_einval(tdi, "GET_DMABUF open_flags");

	/* No DMA-BUF while MMIO is being taken away (see Locking). */
	down_read(&tdev->mmio_rwsem);
	down_read(&tdev->core.memory_lock);
	dmabuf = tdi_dmabuf_tdi_get_dmabuf(tdi, arg.bar, arg.kind,
					   arg.open_flags & O_ACCMODE);
	up_read(&tdev->core.memory_lock);
	up_read(&tdev->mmio_rwsem);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	/* Before the fd exists: no importer can see the DMA-BUF yet. */
	tdi_dmabuf_buf_set_owner(dmabuf, arg.owner);

	/* Counting only: -ENOSPC with @nr set is the expected answer. */
	tdi_dmabuf_buf_ranges(tdi, dmabuf, NULL, &nr, &bar, &kind, &revoked);
	arg.size = dmabuf->size;
	arg.nr_ranges = nr;
	if (copy_to_user(uarg, &arg, sizeof(arg))) {
		dma_buf_put(dmabuf);
		return -EFAULT;
	}
	/* New fds are always close-on-exec. */
	fd = dma_buf_fd(dmabuf, (arg.open_flags & O_ACCMODE) | O_CLOEXEC);
	if (fd < 0)
		dma_buf_put(dmabuf);
	return fd;
}

static int tdi_dmabuf_ioctl_get_ranges(struct tdi_dmabuf_tdi *tdi,
				       void __user *uarg)
{
	struct tdi_dmabuf_get_ranges arg;
	struct tdi_dmabuf_range *ranges;
	struct dma_buf *dmabuf;
	unsigned int count;
	bool revoked;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags || arg.reserved)
		return tdi_dmabuf_einval(tdi, "GET_RANGES flags/reserved");

	dmabuf = dma_buf_get(arg.dmabuf_fd);
	if (IS_ERR(dmabuf))
		return -EBADF;
	count = min_t(u32, arg.count, TDI_DMABUF_MAX_RANGES);
	ranges = kvcalloc(count ?: 1, sizeof(*ranges), GFP_KERNEL);
	if (!ranges) {
		ret = -ENOMEM;
		goto out_put;
	}
	ret = tdi_dmabuf_buf_ranges(tdi, dmabuf, ranges, &count, &arg.bar,
				    &arg.kind, &revoked);
	if (ret && ret != -ENOSPC)
		goto out_free;
	arg.count = count;
	arg.revoked = revoked;
	if (!ret && copy_to_user(u64_to_user_ptr(arg.ranges), ranges,
				 array_size(count, sizeof(*ranges))))
		ret = -EFAULT;
	else if (copy_to_user(uarg, &arg, sizeof(arg)))
		ret = -EFAULT;
out_free:
	kvfree(ranges);
out_put:
	dma_buf_put(dmabuf);
	return ret;
}

/* BAR index and offset of a region offset, or false for other regions. */
static bool tdi_dmabuf_bar_of(u64 pos, u32 *bar, u64 *offset)
{
	unsigned int index = VFIO_PCI_OFFSET_TO_INDEX(pos);

	if (index > VFIO_PCI_BAR5_REGION_INDEX)
		return false;
	*bar = index;
	*offset = pos & VFIO_PCI_OFFSET_MASK;
	return true;
}

static bool tdi_dmabuf_region_allowed(struct tdi_dmabuf_device *tdev, u64 pos,
				      u64 len)
{
	u64 offset;
	u32 bar;

	lockdep_assert_held(&tdev->region_rwsem);
	if (!tdi_dmabuf_bar_of(pos, &bar, &offset))
		return true;
	return tdi_dmabuf_tdi_mmio_allowed(tdev->tdi, bar, offset, len);
}

/*
 * BIND: nothing that reaches a BAR may survive into the binding. Zap the
 * BAR mappings (faults then recheck), refuse while ioeventfds exist or
 * while mappings exist that cannot be zapped.
 */
static int tdi_dmabuf_bind_locked_down(struct tdi_dmabuf_device *tdev)
{
	struct vfio_pci_core_device *vdev = &tdev->core;
	struct device *dev = &vdev->pdev->dev;
	int nr;

	lockdep_assert_held_write(&tdev->region_rwsem);
	mutex_lock(&vdev->ioeventfds_lock);
	nr = vdev->ioeventfds_nr;
	mutex_unlock(&vdev->ioeventfds_lock);
	if (nr) {
		dev_dbg(dev, "BIND refused: %d ioeventfd(s) registered\n", nr);
		return -EBUSY;
	}
	if (!cchost_vfio_zap_mmaps(&vdev->vdev) && atomic_read(&tdev->nr_bar_vmas)) {
		dev_dbg(dev, "BIND refused: %d BAR mapping(s) of the VFIO region exist\n",
			atomic_read(&tdev->nr_bar_vmas));
		return -EBUSY;
	}
	return 0;
}

/*
 * Fault in an ioctl argument that is read inside region_rwsem, which then
 * runs with page faults disabled: mmap_lock never nests inside region_rwsem
 * (see the Locking comment). Non-zero if the argument is not readable.
 * Only for arguments the kernel reads there: fault_in_writeable() would
 * store zeros into the caller's argument.
 */
static int tdi_dmabuf_fault_in_arg(unsigned int cmd, void __user *uarg)
{
	return fault_in_readable(uarg, _IOC_SIZE(cmd)) ? -EFAULT : 0;
}

static int tdi_dmabuf_ioctl_bind_dev(struct tdi_dmabuf_device *tdev,
				     unsigned int cmd, void __user *uarg)
{
	int ret;

	if (cmd != TDI_DMABUF_IOCTL_BIND)
		return tdi_dmabuf_ioctl_bind(tdev->tdi, cmd, uarg);
	if (tdi_dmabuf_fault_in_arg(cmd, uarg))
		return -EFAULT;
	down_read(&tdev->mmio_rwsem);
	down_write(&tdev->region_rwsem);
	ret = tdi_dmabuf_bind_locked_down(tdev);
	if (!ret) {
		/* The memory-enabled check (and the bind) under memory_lock. */
		down_read(&tdev->core.memory_lock);
		pagefault_disable();
		ret = tdi_dmabuf_ioctl_bind(tdev->tdi, cmd, uarg);
		pagefault_enable();
		up_read(&tdev->core.memory_lock);
	}
	up_write(&tdev->region_rwsem);
	up_read(&tdev->mmio_rwsem);
	return ret;
}

/* Refuse ioeventfds (they write BARs from the kernel) while the TDI is held. */
static long tdi_dmabuf_ioctl_ioeventfd(struct tdi_dmabuf_device *tdev,
				       unsigned int cmd, unsigned long arg)
{
	struct vfio_device *core_vdev = &tdev->core.vdev;
	long ret;

	if (fault_in_readable((char __user *)arg, sizeof(struct vfio_device_ioeventfd)))
		return -EFAULT;
	down_read(&tdev->region_rwsem);
	/*
	 * The argument is not looked at: userspace could change it between
	 * this check and the core's copy. Any BAR offset is refused, and no
	 * ioeventfd exists while the TDI is held (BIND checks).
	 */
	if (tdi_dmabuf_tdi_held(tdev->tdi)) {
		dev_dbg(&tdev->core.pdev->dev, "ioeventfd refused while the TDI is bound\n");
		ret = -EACCES;
	} else {
		pagefault_disable();
		ret = vfio_pci_core_ioctl(core_vdev, cmd, arg);
		pagefault_enable();
	}
	up_read(&tdev->region_rwsem);
	return ret;
}

static long tdi_dmabuf_ioctl(struct vfio_device *core_vdev, unsigned int cmd,
			     unsigned long arg)
{
	struct tdi_dmabuf_device *tdev = tdi_dmabuf_from_vdev(core_vdev);
	void __user *uarg = (void __user *)arg;
	struct tdi_dmabuf_tdi *tdi = tdev->tdi;

	if (_IOC_TYPE(cmd) == TDI_DMABUF_MAGIC)
		/* Apply any error the provider signalled before answering. */
		tdi_dmabuf_tdi_flush(tdi);

	switch (cmd) {
	case TDI_DMABUF_IOCTL_BIND:
	case TDI_DMABUF_IOCTL_UNBIND:
		return tdi_dmabuf_ioctl_bind_dev(tdev, cmd, uarg);
	case TDI_DMABUF_IOCTL_GET_STATE:
		return tdi_dmabuf_ioctl_get_state(tdi, uarg);
	case TDI_DMABUF_IOCTL_GET_LAYOUT:
		return tdi_dmabuf_ioctl_get_layout(tdi, uarg);
	case TDI_DMABUF_IOCTL_GET_DMABUF:
		return tdi_dmabuf_ioctl_get_dmabuf(tdev, uarg);
	case TDI_DMABUF_IOCTL_GET_RANGES:
		return tdi_dmabuf_ioctl_get_ranges(tdi, uarg);
	case VFIO_DEVICE_IOEVENTFD:
		return tdi_dmabuf_ioctl_ioeventfd(tdev, cmd, arg);
	case VFIO_DEVICE_RESET:
		/*
		 * vfio-pci refuses it (-EINVAL) without a reset method: then
		 * nothing goes away, so nothing is revoked either.
		 */
		if (!tdev->core.reset_works)
			break;
		fallthrough;
	case VFIO_DEVICE_PCI_HOT_RESET:
		/*
		 * Revoke before the MMIO goes away, even if the reset then
		 * fails; no reset while an importer still uses a DMA-BUF.
		 */
		if (tdi_dmabuf_tdi_fail(tdi, TDI_DMABUF_CAUSE_RESET, -ECONNRESET))
			return -EBUSY;
		break;
	}
	return vfio_pci_core_ioctl(core_vdev, cmd, arg);
}

/* Does a VFIO_DEVICE_FEATURE request put the device into runtime low power? */
static bool tdi_dmabuf_feature_low_power(u32 flags)
{
	u32 feature = flags & VFIO_DEVICE_FEATURE_MASK;

	if (!(flags & VFIO_DEVICE_FEATURE_SET) || (flags & VFIO_DEVICE_FEATURE_PROBE))
		return false;
	return feature == VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY ||
	       feature == VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP;
}

static int tdi_dmabuf_device_feature(struct vfio_device *core_vdev, u32 flags,
				     void __user *arg, size_t argsz)
{
	struct tdi_dmabuf_device *tdev = tdi_dmabuf_from_vdev(core_vdev);
	int ret;

	/*
	 * vfio-pci's own DMA-BUFs cover caller-chosen BAR ranges and are not
	 * revoked by a bind: TDI_DMABUF_IOCTL_GET_DMABUF replaces them.
	 */
	if (cchost_vfio_feature_is_dma_buf(flags))
		return -ENOTTY;
	if (!tdi_dmabuf_feature_low_power(flags))
		return vfio_pci_core_ioctl_feature(core_vdev, flags, arg, argsz);

	/*
	 * Low power takes the MMIO away (vfio-pci zaps its BAR mappings and
	 * refuses faults from here on): revoke first, and not at all while
	 * an importer still uses a DMA-BUF.
	 */
	down_write(&tdev->mmio_rwsem);
	if (tdi_dmabuf_tdi_fail(tdev->tdi, TDI_DMABUF_CAUSE_MEMORY, -EIO))
		ret = -EBUSY;
	else
		ret = vfio_pci_core_ioctl_feature(core_vdev, flags, arg, argsz);
	up_write(&tdev->mmio_rwsem);
	return ret;
}

/*
 * One region access under region_rwsem (check and access as one), without
 * ever taking mmap_lock inside it: fault the user buffer in, then access
 * with page faults disabled. If the buffer was unmapped or reclaimed in
 * between (-EFAULT), fault it in again and retry, a bounded number of times.
 */
static ssize_t tdi_dmabuf_rw(struct tdi_dmabuf_device *tdev, char __user *buf,
			     size_t count, loff_t *ppos, bool write)
{
	struct vfio_device *core_vdev = &tdev->core.vdev;
	ssize_t ret = -EFAULT;
	int tries;

	for (tries = 0; tries < 3 && ret == -EFAULT; tries++) {
		if (write ? fault_in_readable(buf, count) :
			    fault_in_writeable(buf, count))
			return -EFAULT;
		down_read(&tdev->region_rwsem);
		if (tdi_dmabuf_region_allowed(tdev, *ppos, count)) {
			pagefault_disable();
			ret = write ? vfio_pci_core_write(core_vdev, buf, count, ppos) :
				      vfio_pci_core_read(core_vdev, buf, count, ppos);
			pagefault_enable();
		} else {
			ret = -EACCES;
		}
		up_read(&tdev->region_rwsem);
	}
	return ret;
}

static ssize_t tdi_dmabuf_read(struct vfio_device *core_vdev, char __user *buf,
			       size_t count, loff_t *ppos)
{
	return tdi_dmabuf_rw(tdi_dmabuf_from_vdev(core_vdev), buf, count, ppos,
			     false);
}

/*
 * Would a config write of @count bytes at @pos from @buf take the MMIO
 * away: clear the memory bit of PCI_COMMAND, or write D3hot into the PM
 * capability's PMCSR? vfio-pci splits a config write into naturally aligned
 * pieces and changes memory decode or power state only for a piece that
 * starts at PCI_COMMAND or at PCI_PM_CTRL (both dword aligned), so the
 * byte there decides. Return: 1 yes, 0 no, -EFAULT.
 */
static int tdi_dmabuf_cfg_write_takes_mmio(struct pci_dev *pdev,
					   const char __user *buf, u64 pos,
					   size_t count)
{
	u64 pmcsr = pdev->pm_cap ? pdev->pm_cap + PCI_PM_CTRL : 0;
	u8 b;

	if (pos <= PCI_COMMAND && PCI_COMMAND - pos < count) {
		if (get_user(b, (const u8 __user *)buf + (PCI_COMMAND - pos)))
			return -EFAULT;
		if (!(b & PCI_COMMAND_MEMORY))
			return 1;
	}
	if (pmcsr && pos <= pmcsr && pmcsr - pos < count) {
		if (get_user(b, (const u8 __user *)buf + (pmcsr - pos)))
			return -EFAULT;
		/* PowerState 3: D3hot */
		if ((b & PCI_PM_CTRL_STATE_MASK) == 3)
			return 1;
	}
	return 0;
}

/*
 * A config write: revoke before a write that takes the MMIO away reaches
 * the hardware (refused with -EBUSY if an importer does not let go), all
 * under mmio_rwsem so that no GET_DMABUF or BIND slips in between.
 */
static ssize_t tdi_dmabuf_config_write(struct tdi_dmabuf_device *tdev,
				       const char __user *buf, size_t count,
				       loff_t *ppos)
{
	struct vfio_pci_core_device *vdev = &tdev->core;
	ssize_t ret;
	int off;

	down_write(&tdev->mmio_rwsem);
	off = tdi_dmabuf_cfg_write_takes_mmio(vdev->pdev, buf,
					      *ppos & VFIO_PCI_OFFSET_MASK, count);
	if (off < 0) {
		ret = off;
		goto out_unlock;
	}
	if (off && tdi_dmabuf_tdi_fail(tdev->tdi, TDI_DMABUF_CAUSE_MEMORY, -EIO)) {
		ret = -EBUSY;
		goto out_unlock;
	}
	ret = vfio_pci_core_write(&vdev->vdev, buf, count, ppos);
	/*
	 * vfio-pci reads the buffer again: if another thread changed it in
	 * between, the MMIO can be gone without the check above knowing.
	 * Revoke then, late; normally there is nothing left to revoke.
	 */
	if (!tdi_dmabuf_mmio_enabled(tdev))
		tdi_dmabuf_tdi_fail(tdev->tdi, TDI_DMABUF_CAUSE_MEMORY, -EIO);
out_unlock:
	up_write(&tdev->mmio_rwsem);
	return ret;
}

static ssize_t tdi_dmabuf_write(struct vfio_device *core_vdev,
				const char __user *buf, size_t count,
				loff_t *ppos)
{
	struct tdi_dmabuf_device *tdev = tdi_dmabuf_from_vdev(core_vdev);

	if (VFIO_PCI_OFFSET_TO_INDEX(*ppos) == VFIO_PCI_CONFIG_REGION_INDEX)
		return tdi_dmabuf_config_write(tdev, buf, count, ppos);
	/* vfio_pci_core_write() only reads from the buffer. */
	return tdi_dmabuf_rw(tdev, (char __user *)buf, count, ppos, true);
}

static struct tdi_dmabuf_device *tdi_dmabuf_from_vma(struct vm_area_struct *vma)
{
	struct vfio_pci_core_device *vdev = vma->vm_private_data;

	return container_of(vdev, struct tdi_dmabuf_device, core);
}

static void tdi_dmabuf_bar_vm_open(struct vm_area_struct *vma)
{
	atomic_inc(&tdi_dmabuf_from_vma(vma)->nr_bar_vmas);
	if (tdi_dmabuf_core_vm_ops->open)
		tdi_dmabuf_core_vm_ops->open(vma);
}

static void tdi_dmabuf_bar_vm_close(struct vm_area_struct *vma)
{
	if (tdi_dmabuf_core_vm_ops->close)
		tdi_dmabuf_core_vm_ops->close(vma);
	atomic_dec(&tdi_dmabuf_from_vma(vma)->nr_bar_vmas);
}

static vm_fault_t tdi_dmabuf_bar_vm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct tdi_dmabuf_device *tdev = tdi_dmabuf_from_vma(vma);
	vm_fault_t ret = VM_FAULT_SIGBUS;
	u64 pos;

	down_read(&tdev->region_rwsem);
	/* The core may fill the whole VMA at once: check all of it. */
	if (cchost_vfio_pci_vma_pos(tdev->core.pdev, vma, &pos) &&
	    tdi_dmabuf_region_allowed(tdev, pos, vma->vm_end - vma->vm_start))
		ret = tdi_dmabuf_core_vm_ops->fault(vmf);
	up_read(&tdev->region_rwsem);
	return ret;
}

static const struct vm_operations_struct tdi_dmabuf_bar_vm_ops = {
	.open = tdi_dmabuf_bar_vm_open,
	.close = tdi_dmabuf_bar_vm_close,
	.fault = tdi_dmabuf_bar_vm_fault,
};

/* Return: 0, or -EINVAL if the core's table is not the one wrapped. */
static int tdi_dmabuf_wrap_vm_ops(struct vm_area_struct *vma)
{
	int ret = 0;

	mutex_lock(&tdi_dmabuf_vm_ops_lock);
	if (!tdi_dmabuf_core_vm_ops)
		tdi_dmabuf_core_vm_ops = vma->vm_ops;
	else if (WARN_ON_ONCE(vma->vm_ops != tdi_dmabuf_core_vm_ops))
		ret = -EINVAL;
	mutex_unlock(&tdi_dmabuf_vm_ops_lock);
	if (ret)
		return ret;
	vma->vm_ops = &tdi_dmabuf_bar_vm_ops;
	atomic_inc(&tdi_dmabuf_from_vma(vma)->nr_bar_vmas);
	return 0;
}

static int tdi_dmabuf_mmap(struct vfio_device *core_vdev,
			   struct vm_area_struct *vma)
{
	struct tdi_dmabuf_device *tdev = tdi_dmabuf_from_vdev(core_vdev);
	u64 pos = (u64)vma->vm_pgoff << PAGE_SHIFT, offset;
	int ret;
	u32 bar;

	if (!tdi_dmabuf_bar_of(pos, &bar, &offset))
		return vfio_pci_core_mmap(core_vdev, vma);

	down_read(&tdev->region_rwsem);
	if (!tdi_dmabuf_region_allowed(tdev, pos, vma->vm_end - vma->vm_start)) {
		ret = -EACCES;
		goto out_unlock;
	}
	ret = vfio_pci_core_mmap(core_vdev, vma);
	if (ret)
		goto out_unlock;
	/* A BAR mapping without the core's fault handler cannot be checked. */
	if (!vma->vm_ops || !vma->vm_ops->fault || vma->vm_private_data != &tdev->core)
		ret = -EINVAL;
	else
		ret = tdi_dmabuf_wrap_vm_ops(vma);
out_unlock:
	up_read(&tdev->region_rwsem);
	return ret;
}

static int tdi_dmabuf_open_device(struct vfio_device *core_vdev)
{
	struct tdi_dmabuf_device *tdev = tdi_dmabuf_from_vdev(core_vdev);
	int ret;

	ret = vfio_pci_core_enable(&tdev->core);
	if (ret)
		return ret;
	vfio_pci_core_finish_enable(&tdev->core);
	return tdi_dmabuf_tdi_open(tdev->tdi);
}

static void tdi_dmabuf_close_device(struct vfio_device *core_vdev)
{
	struct tdi_dmabuf_device *tdev = tdi_dmabuf_from_vdev(core_vdev);

	tdi_dmabuf_tdi_close(tdev->tdi);
	vfio_pci_core_close_device(core_vdev);
}

static int tdi_dmabuf_init_dev(struct vfio_device *core_vdev)
{
	struct tdi_dmabuf_device *tdev = tdi_dmabuf_from_vdev(core_vdev);
	struct pci_dev *pdev = to_pci_dev(core_vdev->dev);
	struct tdi_dmabuf_bar bars[TDI_DMABUF_NR_BARS] = {};
	struct tdi_dmabuf_tdi *tdi;
	unsigned int i;
	int ret;

	for (i = 0; i < TDI_DMABUF_NR_BARS; i++) {
		resource_size_t start = pci_resource_start(pdev, i);
		resource_size_t len = pci_resource_len(pdev, i);

		if (!(pci_resource_flags(pdev, i) & IORESOURCE_MEM) ||
		    len < PAGE_SIZE || !PAGE_ALIGNED(start) || !PAGE_ALIGNED(len))
			continue;
		bars[i].start = start;
		bars[i].len = len;
		bars[i].bus = pci_bus_address(pdev, i);
	}
	tdi = tdi_dmabuf_tdi_create(&pdev->dev, &tdi_dmabuf_pci_tdi_ops, bars);
	if (IS_ERR(tdi))
		return PTR_ERR(tdi);

	ret = vfio_pci_core_init_dev(core_vdev);
	if (ret) {
		tdi_dmabuf_tdi_put(tdi);
		return ret;
	}
	tdev->tdi = tdi;
	init_rwsem(&tdev->mmio_rwsem);
	init_rwsem(&tdev->region_rwsem);
	atomic_set(&tdev->nr_bar_vmas, 0);
	return 0;
}

static void tdi_dmabuf_release_dev(struct vfio_device *core_vdev)
{
	struct tdi_dmabuf_device *tdev = tdi_dmabuf_from_vdev(core_vdev);

	tdi_dmabuf_tdi_put(tdev->tdi);
	vfio_pci_core_release_dev(core_vdev);
}

static const struct vfio_device_ops tdi_dmabuf_vfio_ops = {
	.name = "tdi-dmabuf-vfio-pci",
	.init = tdi_dmabuf_init_dev,
	.release = tdi_dmabuf_release_dev,
	.open_device = tdi_dmabuf_open_device,
	.close_device = tdi_dmabuf_close_device,
	.ioctl = tdi_dmabuf_ioctl,
	.device_feature = tdi_dmabuf_device_feature,
	.read = tdi_dmabuf_read,
	.write = tdi_dmabuf_write,
	.mmap = tdi_dmabuf_mmap,
	.request = vfio_pci_core_request,
	.match = vfio_pci_core_match,
	/* Members of newer kernels only (see compat.h). */
	CCHOST_VFIO_PCI_IOMMUFD_OPS
	CCHOST_VFIO_PCI_MATCH_TOKEN_OPS
	CCHOST_VFIO_PCI_REGION_INFO_OPS
};

/*
 * Teach lockdep, at probe, the orders in which TDI provider callbacks run
 * (see include/linux/tdi_dmabuf.h): BIND and GET_DMABUF hold mmio_rwsem,
 * region_rwsem and vdev->memory_lock around tdi->lock, and close_device runs
 * under the device set's lock. A callback that takes one of those locks (a
 * provider resetting the function, or calling back into VFIO) is then
 * reported the first time it runs, not only once both paths happened.
 */
static void tdi_dmabuf_lockdep_prime(struct tdi_dmabuf_device *tdev)
{
	struct vfio_device_set *dev_set = tdev->core.vdev.dev_set;

	if (!IS_ENABLED(CONFIG_LOCKDEP))
		return;
	down_read(&tdev->mmio_rwsem);
	down_write(&tdev->region_rwsem);
	down_read(&tdev->core.memory_lock);
	mutex_lock(&tdev->tdi->lock);
	mutex_unlock(&tdev->tdi->lock);
	up_read(&tdev->core.memory_lock);
	up_write(&tdev->region_rwsem);
	up_read(&tdev->mmio_rwsem);
	if (dev_set) {
		mutex_lock(&dev_set->lock);
		mutex_lock(&tdev->tdi->lock);
		mutex_unlock(&tdev->tdi->lock);
		mutex_unlock(&dev_set->lock);
	}
}

static int tdi_dmabuf_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct tdi_dmabuf_device *tdev;
	int ret;

	tdev = vfio_alloc_device(tdi_dmabuf_device, core.vdev, &pdev->dev,
				 &tdi_dmabuf_vfio_ops);
	if (IS_ERR(tdev))
		return PTR_ERR(tdev);

	dev_set_drvdata(&pdev->dev, &tdev->core);
	/* Before anyone can open the device and map a DMA-BUF. */
	tdev->p2pdma = !cchost_p2pdma_init(pdev);
	ret = vfio_pci_core_register_device(&tdev->core);
	if (ret)
		goto out_put_vdev;
	tdi_dmabuf_lockdep_prime(tdev);
	return 0;

out_put_vdev:
	vfio_put_device(&tdev->core.vdev);
	return ret;
}

static void tdi_dmabuf_remove(struct pci_dev *pdev)
{
	struct tdi_dmabuf_device *tdev = tdi_dmabuf_from_pdev(pdev);

	vfio_pci_core_unregister_device(&tdev->core);
	vfio_put_device(&tdev->core.vdev);
}

/*
 * PCI resets and error recovery take the MMIO away without vfio-pci's
 * memory-enable state changing (a reset through sysfs holds no memory_lock;
 * the PCI core clears the command register after ->reset_prepare()): from
 * the revoke until the PCI core is done, no new DMA-BUF (mmio_lost). A
 * recovery that fails never calls ->resume(): the device stays that way.
 */
static pci_ers_result_t tdi_dmabuf_error_detected(struct pci_dev *pdev,
						  pci_channel_state_t state)
{
	tdi_dmabuf_tdi_mmio_lost(tdi_dmabuf_from_pdev(pdev)->tdi,
				 TDI_DMABUF_CAUSE_RESET, -EIO);
	return vfio_pci_core_aer_err_detected(pdev, state);
}

static void tdi_dmabuf_resume(struct pci_dev *pdev)
{
	tdi_dmabuf_tdi_mmio_back(tdi_dmabuf_from_pdev(pdev)->tdi);
}

static void tdi_dmabuf_reset_prepare(struct pci_dev *pdev)
{
	tdi_dmabuf_tdi_mmio_lost(tdi_dmabuf_from_pdev(pdev)->tdi,
				 TDI_DMABUF_CAUSE_RESET, -ECONNRESET);
}

static void tdi_dmabuf_reset_done(struct pci_dev *pdev)
{
	tdi_dmabuf_tdi_mmio_back(tdi_dmabuf_from_pdev(pdev)->tdi);
}

static const struct pci_error_handlers tdi_dmabuf_err_handlers = {
	.error_detected = tdi_dmabuf_error_detected,
	.resume = tdi_dmabuf_resume,
	.reset_prepare = tdi_dmabuf_reset_prepare,
	.reset_done = tdi_dmabuf_reset_done,
};

/*
 * Matches nothing by ID: bind with driver_override. No MODULE_DEVICE_TABLE:
 * its "vfio_pci:v*d*..." wildcard alias would make tools that pick a VFIO
 * variant driver by modalias (modprobe -R, libvirt, driverctl) choose this
 * driver for every device; vfio-pci is the generic one.
 */
static const struct pci_device_id tdi_dmabuf_pci_table[] = {
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_ANY_ID, PCI_ANY_ID) },
	{}
};

/*
 * TDI state under the PCI device (/sys/bus/pci/devices/<bdf>/tdi_*), readable
 * without debugfs: tdi_state (unbound, locked, run, error), tdi_cause (of
 * the last revocation: none, provider, reset, memory, bind, unbind, close),
 * tdi_dmabufs (open DMA-BUFs), tdi_revokes (DMA-BUFs revoked so far).
 */
static const char *const tdi_dmabuf_state_names[] = {
	[TDI_DMABUF_STATE_UNBOUND] = "unbound",
	[TDI_DMABUF_STATE_LOCKED] = "locked",
	[TDI_DMABUF_STATE_RUN] = "run",
	[TDI_DMABUF_STATE_ERROR] = "error",
};

static const char *const tdi_dmabuf_cause_names[] = {
	[TDI_DMABUF_CAUSE_NONE] = "none",
	[TDI_DMABUF_CAUSE_PROVIDER] = "provider",
	[TDI_DMABUF_CAUSE_RESET] = "reset",
	[TDI_DMABUF_CAUSE_MEMORY] = "memory",
	[TDI_DMABUF_CAUSE_BIND] = "bind",
	[TDI_DMABUF_CAUSE_UNBIND] = "unbind",
	[TDI_DMABUF_CAUSE_CLOSE] = "close",
};

/* As GET_STATE: a provider error signalled before the read is applied. */
static void tdi_dmabuf_sysfs_state(struct device *dev,
				   struct tdi_dmabuf_state *st)
{
	struct tdi_dmabuf_tdi *tdi = tdi_dmabuf_from_pdev(to_pci_dev(dev))->tdi;

	tdi_dmabuf_tdi_flush(tdi);
	tdi_dmabuf_tdi_get_state(tdi, st);
}

/* @val's name in @names, or the number if a newer uapi value has none. */
static ssize_t tdi_dmabuf_sysfs_name(char *buf, u32 val,
				     const char *const *names, size_t n)
{
	if (val >= n)
		return sysfs_emit(buf, "%u\n", val);
	return sysfs_emit(buf, "%s\n", names[val]);
}

static ssize_t tdi_state_show(struct device *dev, struct device_attribute *attr,
			      char *buf)
{
	struct tdi_dmabuf_state st;

	tdi_dmabuf_sysfs_state(dev, &st);
	return tdi_dmabuf_sysfs_name(buf, st.state, tdi_dmabuf_state_names,
				     ARRAY_SIZE(tdi_dmabuf_state_names));
}
static DEVICE_ATTR_RO(tdi_state);

static ssize_t tdi_cause_show(struct device *dev, struct device_attribute *attr,
			      char *buf)
{
	struct tdi_dmabuf_state st;

	tdi_dmabuf_sysfs_state(dev, &st);
	return tdi_dmabuf_sysfs_name(buf, st.cause, tdi_dmabuf_cause_names,
				     ARRAY_SIZE(tdi_dmabuf_cause_names));
}
static DEVICE_ATTR_RO(tdi_cause);

static ssize_t tdi_dmabufs_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct tdi_dmabuf_state st;

	tdi_dmabuf_sysfs_state(dev, &st);
	return sysfs_emit(buf, "%u\n", st.nr_dmabufs);
}
static DEVICE_ATTR_RO(tdi_dmabufs);

static ssize_t tdi_revokes_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct tdi_dmabuf_state st;

	tdi_dmabuf_sysfs_state(dev, &st);
	return sysfs_emit(buf, "%u\n", st.nr_revokes);
}
static DEVICE_ATTR_RO(tdi_revokes);

static struct attribute *tdi_dmabuf_dev_attrs[] = {
	&dev_attr_tdi_state.attr,
	&dev_attr_tdi_cause.attr,
	&dev_attr_tdi_dmabufs.attr,
	&dev_attr_tdi_revokes.attr,
	NULL
};
ATTRIBUTE_GROUPS(tdi_dmabuf_dev);

static struct pci_driver tdi_dmabuf_pci_driver = {
	.name = KBUILD_MODNAME,
	.dev_groups = tdi_dmabuf_dev_groups,
	.id_table = tdi_dmabuf_pci_table,
	.probe = tdi_dmabuf_probe,
	.remove = tdi_dmabuf_remove,
	.err_handler = &tdi_dmabuf_err_handlers,
	.driver_managed_dma = true,
};
module_pci_driver(tdi_dmabuf_pci_driver);

MODULE_DESCRIPTION("VFIO PCI variant driver exporting TDI MMIO as shared and private DMA-BUFs");
MODULE_VERSION(CCHOST_VERSION);
MODULE_LICENSE("GPL");

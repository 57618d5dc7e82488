// SPDX-License-Identifier: GPL-2.0-only
/*
 * The TDI state machine.
 *
 *            BIND: provider bind        report valid,
 *   UNBOUND ---------------------> LOCKED ---------------> RUN
 *      ^  ^     (refused -EBUSY      |    provider start     |
 *      |  |      while a DMA-BUF     | report/start fails:   |
 *      |  |      is open)            | revoke, provider      |
 *      |  +--------------------------+ unbind                |
 *      |                                                     |
 *      +------------------ UNBIND (revoke, provider unbind) -+
 *      |                                                     |
 *      |  UNBIND      provider error, device reset,          |
 *      +--------- ERROR <--- memory decode off, unbind fails-+
 *
 * Every transition out of LOCKED or RUN revokes every open DMA-BUF of the
 * device first. A device reset or memory decode disable in UNBOUND revokes
 * the shared DMA-BUFs but leaves the state alone. In UNBOUND, LOCKED and
 * ERROR the layout is "every exportable BAR fully shared" once the provider
 * let go of the TDI; from the provider's bind until then (LOCKED, RUN, and
 * ERROR after a failed unbind) the last report's layout applies (no page at
 * all before the first report), so that neither a shared DMA-BUF nor the
 * VFIO region (tdi_dmabuf_tdi_mmio_allowed()) reaches a private page.
 * Private DMA-BUFs exist only in RUN.
 *
 * Providers signal errors from any context through tdi_dmabuf_tdi_error(),
 * which only records the errno and queues @error_work; the work applies it
 * under tdi->lock. Every ioctl flushes the work first, so userspace never
 * sees a state older than an error the provider already signalled. The same
 * work runs the provider's unbind that a PCI reset or error recovery put off
 * until the PCI core was done (tdi_dmabuf_tdi_mmio_lost()).
 *
 * Locking: tdi->lock protects the state, the layout, the provider binding and
 * the DMA-BUF list; provider callbacks run under it. Lock order in
 * tdi_dmabuf_core.h.
 */
#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <kunit/visibility.h>

#include "tdi_dmabuf_core.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

/* Every state change goes through here, so that it is traced. */
static void __tdi_dmabuf_set_state(struct tdi_dmabuf_tdi *tdi, u32 state)
{
	lockdep_assert_held(&tdi->lock);
	trace_tdi_dmabuf_state(tdi->dev, tdi->state, state, tdi->cause);
	tdi->state = state;
}

static void tdi_dmabuf_tdi_release(struct kref *ref)
{
	struct tdi_dmabuf_tdi *tdi = container_of(ref, struct tdi_dmabuf_tdi, ref);

	/* A provider binding holds a reference until its unbind succeeded. */
	WARN_ON_ONCE(tdi->provider);
	/*
	 * The last reference may be the binding's, dropped by the error work
	 * once a retried unbind succeeded: a work item may free itself.
	 */
	if (current_work() != &tdi->error_work)
		cancel_work_sync(&tdi->error_work);
	if (tdi->layout != tdi->unbound_layout)
		kvfree(tdi->layout);
	kvfree(tdi->unbound_layout);
	mutex_destroy(&tdi->lock);
	put_device(tdi->dev);
	kfree(tdi);
}

/**
 * tdi_dmabuf_tdi_put() - drop a reference to a TDI
 * @tdi: the TDI
 *
 * Context: process context, may sleep.
 */
void tdi_dmabuf_tdi_put(struct tdi_dmabuf_tdi *tdi)
{
	kref_put(&tdi->ref, tdi_dmabuf_tdi_release);
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_tdi_put);

/*
 * Unlock, then drop the reference of a provider binding that ended under
 * the lock (it may be the last one: never under tdi->lock).
 */
static void tdi_dmabuf_unlock(struct tdi_dmabuf_tdi *tdi)
{
	bool put = tdi->put_binding;

	tdi->put_binding = false;
	mutex_unlock(&tdi->lock);
	if (put)
		tdi_dmabuf_tdi_put(tdi);
}

static void __tdi_dmabuf_set_layout(struct tdi_dmabuf_tdi *tdi,
				    struct tdi_dmabuf_layout *layout)
{
	lockdep_assert_held(&tdi->lock);
	if (tdi->layout != tdi->unbound_layout)
		kvfree(tdi->layout);
	tdi->layout = layout;
}

/**
 * __tdi_dmabuf_tdi_revoke_all() - revoke every DMA-BUF of the TDI and wait
 * @tdi: the TDI
 * @cause: TDI_DMABUF_CAUSE_* recorded if anything was revoked
 *
 * Returns once every importer unmapped and every fence of every DMA-BUF
 * signalled, or after tdi->revoke_timeout per DMA-BUF. Only a complete
 * revocation lets a caller hand the MMIO back (provider unbind, reset).
 *
 * Context: tdi->lock held, may sleep.
 * Return: 0, or -ETIMEDOUT if an importer still uses a DMA-BUF.
 */
int __tdi_dmabuf_tdi_revoke_all(struct tdi_dmabuf_tdi *tdi, u32 cause)
{
	unsigned int n;
	int ret;

	lockdep_assert_held(&tdi->lock);
	ret = __tdi_dmabuf_revoke_bufs(tdi, &n);
	if (n) {
		tdi->nr_revokes += n;
		tdi->cause = cause;
	}
	if (n || ret)
		trace_tdi_dmabuf_revoke(tdi->dev, n, cause, ret);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(__tdi_dmabuf_tdi_revoke_all);

/*
 * The provider let go of the TDI (or it is gone): unpin the provider and
 * have tdi_dmabuf_unlock() drop the binding's reference.
 */
static void __tdi_dmabuf_binding_end(struct tdi_dmabuf_tdi *tdi)
{
	lockdep_assert_held(&tdi->lock);
	tdi_dmabuf_provider_put(tdi->provider);
	tdi->provider = NULL;
	tdi->unbind_deferred = false;
	tdi->put_binding = true;
}

/*
 * Unbind from the provider if bound; drop the provider once it let go. A
 * failed unbind keeps everything: the provider still holds the TDI (its
 * private pages stay unreachable), so its module stays pinned and the TDI
 * referenced, whoever closes or removes the device, until an unbind
 * succeeds (UNBIND, or a provider error on the TDI in ERROR). The binding's
 * reference is dropped by tdi_dmabuf_unlock().
 */
static int __tdi_dmabuf_provider_unbind(struct tdi_dmabuf_tdi *tdi)
{
	int ret;

	lockdep_assert_held(&tdi->lock);
	if (!tdi->provider)
		return 0;
	ret = tdi->provider->ops->unbind(tdi->provider, tdi);
	trace_tdi_dmabuf_step(tdi->dev, "provider_unbind", ret);
	if (ret) {
		dev_err_ratelimited(tdi->dev, "provider %s: unbind failed: %d\n",
				    tdi->provider->name, ret);
		return ret;
	}
	__tdi_dmabuf_binding_end(tdi);
	return 0;
}

/*
 * Once a revocation is complete: unbind, and the unbound layout applies if
 * the provider let go. Inside a PCI reset or error recovery (mmio_lost) the
 * unbind waits until the PCI core is done (tdi_dmabuf_tdi_mmio_back()
 * queues it). The provider's unbind may talk to the device (a TSM's
 * STOP_INTERFACE over DOE) and take seconds: that must not hold up the
 * reset, which runs under the device lock, nor the AER recovery of every
 * device below the port, and a device whose link is down would not answer
 * anyway. Meanwhile the provider holds the TDI and its private pages stay
 * unreachable, as after a failed unbind.
 */
static void __tdi_dmabuf_provider_let_go(struct tdi_dmabuf_tdi *tdi)
{
	lockdep_assert_held(&tdi->lock);
	if (tdi->provider && tdi->mmio_lost) {
		tdi->unbind_deferred = true;
		trace_tdi_dmabuf_step(tdi->dev, "provider_unbind_deferred", 0);
		return;
	}
	if (!__tdi_dmabuf_provider_unbind(tdi))
		__tdi_dmabuf_set_layout(tdi, tdi->unbound_layout);
}

static int __tdi_dmabuf_tdi_fail(struct tdi_dmabuf_tdi *tdi, u32 cause, int err)
{
	int ret;

	lockdep_assert_held(&tdi->lock);

	ret = __tdi_dmabuf_tdi_revoke_all(tdi, cause);
	if (tdi->state == TDI_DMABUF_STATE_ERROR && tdi->provider) {
		/* An unbind failed earlier: the provider's error retries it. */
		if (!ret)
			__tdi_dmabuf_provider_let_go(tdi);
		return ret;
	}
	if (tdi->state != TDI_DMABUF_STATE_LOCKED &&
	    tdi->state != TDI_DMABUF_STATE_RUN)
		return ret;
	/*
	 * The TDI is lost; a failing unbind is retried by UNBIND, and so is
	 * one never tried because an importer still used a DMA-BUF. Until the
	 * provider let go, the report's layout stays: its private pages are
	 * still private.
	 */
	if (!ret)
		__tdi_dmabuf_provider_let_go(tdi);
	tdi->cause = cause;
	__tdi_dmabuf_set_state(tdi, TDI_DMABUF_STATE_ERROR);
	tdi->error = err < 0 ? -err : err;
	dev_warn_ratelimited(tdi->dev, "TDI error (cause %u, %d): DMA-BUFs revoked%s\n",
			     cause, err, ret ? ", an importer still uses one" : "");
	return ret;
}

/**
 * tdi_dmabuf_tdi_fail() - revoke everything after an error
 * @tdi: the TDI
 * @cause: TDI_DMABUF_CAUSE_*
 * @err: negative errno describing the error
 *
 * Revokes every DMA-BUF and waits for the importers; a bound TDI enters
 * ERROR and is unbound once the revocation is complete (inside a PCI reset
 * or error recovery, once that is over).
 *
 * Context: process context, may sleep; takes tdi->lock.
 * Return: 0 when no importer uses a DMA-BUF any more, -ETIMEDOUT if one
 * still does (the caller must not let the MMIO go away if it can refuse).
 */
int tdi_dmabuf_tdi_fail(struct tdi_dmabuf_tdi *tdi, u32 cause, int err)
{
	int ret;

	mutex_lock(&tdi->lock);
	ret = __tdi_dmabuf_tdi_fail(tdi, cause, err);
	tdi_dmabuf_unlock(tdi);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_tdi_fail);

/**
 * tdi_dmabuf_tdi_mmio_lost() - the MMIO goes away behind vfio-pci's back
 * @tdi: the TDI
 * @cause: TDI_DMABUF_CAUSE_*
 * @err: negative errno describing the event
 *
 * For a PCI reset (->reset_prepare()) or error recovery
 * (->error_detected()): vfio-pci's notion of memory decode does not change
 * there, so besides revoking as tdi_dmabuf_tdi_fail() does, BIND and
 * GET_DMABUF fail with -EIO until tdi_dmabuf_tdi_mmio_back(): no DMA-BUF
 * made between the revoke and the reset outlives the reset. Only the
 * revocation is waited for here: the provider's ->unbind() waits until
 * tdi_dmabuf_tdi_mmio_back() (or an UNBIND, or the close), so that the PCI
 * core's reset or recovery never waits for a TSM. A recovery that fails
 * never calls back: UNBIND or the close unbinds then.
 *
 * Context: process context, may sleep; takes tdi->lock.
 * Return: as tdi_dmabuf_tdi_fail().
 */
int tdi_dmabuf_tdi_mmio_lost(struct tdi_dmabuf_tdi *tdi, u32 cause, int err)
{
	int ret;

	mutex_lock(&tdi->lock);
	tdi->mmio_lost = true;
	ret = __tdi_dmabuf_tdi_fail(tdi, cause, err);
	tdi_dmabuf_unlock(tdi);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_tdi_mmio_lost);

/**
 * tdi_dmabuf_tdi_mmio_back() - the reset or recovery is over
 * @tdi: the TDI
 *
 * Queues the provider's unbind that tdi_dmabuf_tdi_mmio_lost() put off; the
 * next ioctl (which flushes the work) finds it done.
 *
 * Context: process context; takes tdi->lock.
 */
void tdi_dmabuf_tdi_mmio_back(struct tdi_dmabuf_tdi *tdi)
{
	mutex_lock(&tdi->lock);
	tdi->mmio_lost = false;
	/* The unbind put off by the reset: not from the PCI core's context. */
	if (tdi->unbind_deferred)
		schedule_work(&tdi->error_work);
	mutex_unlock(&tdi->lock);
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_tdi_mmio_back);

static void tdi_dmabuf_error_work(struct work_struct *work)
{
	struct tdi_dmabuf_tdi *tdi = container_of(work, struct tdi_dmabuf_tdi,
						  error_work);
	int err = atomic_xchg(&tdi->error_pending, 0);

	if (err) {
		/* Nothing to refuse: an incomplete revoke leaves the TDI held. */
		tdi_dmabuf_tdi_fail(tdi, TDI_DMABUF_CAUSE_PROVIDER, -err);
		return;
	}
	/* The unbind a reset or error recovery put off, now that it is over. */
	mutex_lock(&tdi->lock);
	if (tdi->unbind_deferred && !tdi->mmio_lost) {
		tdi->unbind_deferred = false;
		/* A failure leaves the TDI held in ERROR: UNBIND retries. */
		if (!__tdi_dmabuf_tdi_revoke_all(tdi, TDI_DMABUF_CAUSE_RESET))
			__tdi_dmabuf_provider_let_go(tdi);
	}
	tdi_dmabuf_unlock(tdi);
}

/**
 * tdi_dmabuf_tdi_error() - a provider signals an error of a bound TDI
 * @tdi: the TDI passed to the provider's ->bind()
 * @err: negative errno (0 is taken as -EIO)
 *
 * The error is applied asynchronously: every DMA-BUF of the device is
 * revoked, the provider's ->unbind() is called and the TDI enters ERROR.
 * Valid from ->bind() until ->unbind() returns 0; ignored if the TDI is no
 * longer bound when it is applied. On a TDI in ERROR that the provider
 * still holds (an unbind failed), it retries the unbind.
 *
 * Context: any context.
 */
void tdi_dmabuf_tdi_error(struct tdi_dmabuf_tdi *tdi, int err)
{
	atomic_set(&tdi->error_pending, err ? abs(err) : EIO);
	schedule_work(&tdi->error_work);
}
EXPORT_SYMBOL_GPL(tdi_dmabuf_tdi_error);

/**
 * tdi_dmabuf_tdi_lost() - the TSM already tore the TDI down: revoke now
 * @tdi: the TDI passed to the provider's ->bind()
 * @err: negative errno recorded as the TDI's error (0 is taken as -EIO)
 *
 * For a provider whose TSM destroyed the interface on its own (so that
 * ->unbind() has nothing left to do and the MMIO may already be gone):
 * unlike tdi_dmabuf_tdi_error(), every DMA-BUF of the device is revoked and
 * waited for before this returns, and the binding ends without ->unbind():
 * the provider's module is unpinned and the TDI enters ERROR (cause
 * PROVIDER; UNBIND acknowledges it). The provider must not use @tdi once
 * this returns, nor call it concurrently with its own ->unbind().
 *
 * Context: process context, may sleep; takes tdi->lock, so never from a
 * provider callback (lockdep asserts it).
 * Return: 0; -ETIMEDOUT if an importer still used a DMA-BUF after the wait
 * (the binding ends anyway); -ENOTCONN if no provider holds the TDI.
 */
int tdi_dmabuf_tdi_lost(struct tdi_dmabuf_tdi *tdi, int err)
{
	int ret;

	lockdep_assert_not_held(&tdi->lock);
	mutex_lock(&tdi->lock);
	if (!tdi->provider) {
		mutex_unlock(&tdi->lock);
		return -ENOTCONN;
	}
	ret = __tdi_dmabuf_tdi_revoke_all(tdi, TDI_DMABUF_CAUSE_PROVIDER);
	if (ret)
		dev_warn(tdi->dev, "TDI lost while an importer still uses a DMA-BUF\n");
	trace_tdi_dmabuf_step(tdi->dev, "provider_lost", err);
	__tdi_dmabuf_binding_end(tdi);
	__tdi_dmabuf_set_layout(tdi, tdi->unbound_layout);
	tdi->cause = TDI_DMABUF_CAUSE_PROVIDER;
	tdi->error = err ? abs(err) : EIO;
	__tdi_dmabuf_set_state(tdi, TDI_DMABUF_STATE_ERROR);
	tdi_dmabuf_unlock(tdi);
	return ret;
}
EXPORT_SYMBOL_GPL(tdi_dmabuf_tdi_lost);

/**
 * tdi_dmabuf_tdi_flush() - apply a signalled provider error now
 * @tdi: the TDI
 *
 * Context: process context, tdi->lock not held.
 */
void tdi_dmabuf_tdi_flush(struct tdi_dmabuf_tdi *tdi)
{
	flush_work(&tdi->error_work);
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_tdi_flush);

/**
 * tdi_dmabuf_tdi_dev() - the device of a TDI
 * @tdi: the TDI
 *
 * Return: the device (for a PCI device, &pdev->dev).
 */
struct device *tdi_dmabuf_tdi_dev(struct tdi_dmabuf_tdi *tdi)
{
	return tdi->dev;
}
EXPORT_SYMBOL_GPL(tdi_dmabuf_tdi_dev);

/**
 * tdi_dmabuf_tdi_bar() - bus address range of an exportable BAR
 * @tdi: the TDI
 * @bar: BAR index
 * @bus: out: PCI bus address, as the function decodes it
 * @len: out: length in bytes
 *
 * What a TDISP report's ranges are relative to (before the MMIO reporting
 * offset): lets a provider, or a fake one, check or build reports.
 *
 * Return: 0, or -EINVAL if @bar is not an exportable memory BAR.
 */
int tdi_dmabuf_tdi_bar(struct tdi_dmabuf_tdi *tdi, unsigned int bar,
		       u64 *bus, u64 *len)
{
	if (bar >= TDI_DMABUF_NR_BARS || !tdi->bars[bar].len)
		return -EINVAL;
	*bus = tdi->bars[bar].bus;
	*len = tdi->bars[bar].len;
	return 0;
}
EXPORT_SYMBOL_GPL(tdi_dmabuf_tdi_bar);

/**
 * tdi_dmabuf_tdi_create() - create the TDI of a device
 * @dev: the device; a reference is taken
 * @ops: hooks of the embedding driver
 * @bars: exportable BARs (TDI_DMABUF_NR_BARS entries; len 0 = not exportable;
 *	start and len page aligned)
 *
 * Context: process context, may sleep.
 * Return: the TDI with one reference, or an ERR_PTR().
 */
struct tdi_dmabuf_tdi *tdi_dmabuf_tdi_create(struct device *dev,
					     const struct tdi_dmabuf_tdi_ops *ops,
					     const struct tdi_dmabuf_bar *bars)
{
	struct tdi_dmabuf_tdi *tdi;

	tdi = kzalloc(sizeof(*tdi), GFP_KERNEL);
	if (!tdi)
		return ERR_PTR(-ENOMEM);
	memcpy(tdi->bars, bars, sizeof(tdi->bars));
	tdi->unbound_layout = tdi_dmabuf_layout_unbound(bars);
	if (!tdi->unbound_layout) {
		kfree(tdi);
		return ERR_PTR(-ENOMEM);
	}
	kref_init(&tdi->ref);
	tdi->dev = get_device(dev);
	tdi->ops = ops;
	INIT_WORK(&tdi->error_work, tdi_dmabuf_error_work);
	mutex_init(&tdi->lock);
	INIT_LIST_HEAD(&tdi->dmabufs);
	tdi->layout = tdi->unbound_layout;
	tdi->state = TDI_DMABUF_STATE_UNBOUND;
	tdi->closed = true;
	tdi->revoke_timeout = msecs_to_jiffies(TDI_DMABUF_REVOKE_TIMEOUT_MS);
	return tdi;
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_tdi_create);

/**
 * tdi_dmabuf_tdi_open() - the device was opened by userspace
 * @tdi: the TDI
 *
 * Context: process context, may sleep.
 * Return: 0.
 */
int tdi_dmabuf_tdi_open(struct tdi_dmabuf_tdi *tdi)
{
	mutex_lock(&tdi->lock);
	tdi->closed = false;
	tdi->nr_revokes = 0;
	/* A provider that refused to unbind at close still holds the TDI. */
	if (!tdi->provider) {
		tdi->cause = TDI_DMABUF_CAUSE_NONE;
		__tdi_dmabuf_set_state(tdi, TDI_DMABUF_STATE_UNBOUND);
		tdi->error = 0;
	}
	mutex_unlock(&tdi->lock);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_tdi_open);

/**
 * tdi_dmabuf_tdi_close() - the device was closed: revoke and unbind
 * @tdi: the TDI
 *
 * DMA-BUFs that outlive the device stay revoked until their last reference
 * goes. If the provider refuses to unbind, the TDI stays in ERROR, bound to
 * it (provider module pinned, TDI referenced): a later open finds ERROR and
 * UNBIND retries; after the device is gone, the provider's next error
 * (tdi_dmabuf_tdi_error()) retries.
 *
 * Context: process context, may sleep.
 */
void tdi_dmabuf_tdi_close(struct tdi_dmabuf_tdi *tdi)
{
	bool held;

	mutex_lock(&tdi->lock);
	/* Close cannot be refused: a timeout was already reported. */
	__tdi_dmabuf_tdi_revoke_all(tdi, TDI_DMABUF_CAUSE_CLOSE);
	if (!__tdi_dmabuf_provider_unbind(tdi)) {
		__tdi_dmabuf_set_layout(tdi, tdi->unbound_layout);
		__tdi_dmabuf_set_state(tdi, TDI_DMABUF_STATE_UNBOUND);
	} else {
		/* Never forgotten: the provider still holds the TDI. */
		dev_err(tdi->dev, "provider %s still holds the TDI after close: kept bound until an unbind succeeds\n",
			tdi->provider->name);
		tdi->cause = TDI_DMABUF_CAUSE_CLOSE;
		__tdi_dmabuf_set_state(tdi, TDI_DMABUF_STATE_ERROR);
	}
	tdi->closed = true;
	held = tdi->provider;
	tdi_dmabuf_unlock(tdi);
	if (held)
		return;
	/* The provider no longer signals; drop anything still queued. */
	cancel_work_sync(&tdi->error_work);
	atomic_set(&tdi->error_pending, 0);
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_tdi_close);

/* Context: tdi->lock held. */
static bool tdi_dmabuf_mem_enabled(struct tdi_dmabuf_tdi *tdi)
{
	lockdep_assert_held(&tdi->lock);
	if (tdi->mmio_lost)
		return false;
	return !tdi->ops || !tdi->ops->mem_enabled || tdi->ops->mem_enabled(tdi);
}

/*
 * Boundaries between shared and private pages must fall on what both the
 * CPU (PAGE_SIZE) and the device's IOMMU map; 0 from the hook is unknown.
 */
static u64 tdi_dmabuf_tdi_align(struct tdi_dmabuf_tdi *tdi)
{
	u64 granule = 0;

	if (tdi->ops && tdi->ops->iommu_granule)
		granule = tdi->ops->iommu_granule(tdi);
	return max_t(u64, PAGE_SIZE, granule);
}

/* LOCKED: fetch, validate and apply the report, then start. */
static int __tdi_dmabuf_tdi_run(struct tdi_dmabuf_tdi *tdi)
{
	struct tdi_dmabuf_provider *prov = tdi->provider;
	struct tdi_dmabuf_report_buf rb = {};
	enum tdi_dmabuf_report_fault fault = TDI_REPORT_OK;
	struct tdi_dmabuf_layout *layout;
	struct tdi_dmabuf_report *report;
	u64 align, where;
	u32 bar;
	int ret;

	lockdep_assert_held(&tdi->lock);

	ret = prov->ops->get_report(prov, tdi, &rb);
	trace_tdi_dmabuf_step(tdi->dev, "get_report", ret);
	if (ret) {
		dev_err_ratelimited(tdi->dev, "provider %s: no report: %d\n",
				    prov->name, ret);
		return ret;
	}
	ret = tdi_dmabuf_report_parse(rb.data, rb.len, rb.mmio_offset,
				      tdi->bars, &report, &fault);
	kvfree(rb.data);
	trace_tdi_dmabuf_step(tdi->dev, "parse", ret);
	if (ret == -EBADMSG)
		dev_err_ratelimited(tdi->dev, "provider %s: malformed TDI report (%zu bytes): %s\n",
				    prov->name, rb.len,
				    tdi_dmabuf_report_fault_str(fault));
	if (ret)
		return ret;
	layout = tdi_dmabuf_layout_from_report(report);
	kvfree(report);
	if (!layout)
		return -ENOMEM;
	align = tdi_dmabuf_tdi_align(tdi);
	ret = tdi_dmabuf_layout_check_align(layout, tdi->bars, align, &bar, &where);
	trace_tdi_dmabuf_step(tdi->dev, "align", ret);
	if (ret) {
		dev_dbg(tdi->dev, "provider %s: BAR %u: shared/private boundary at %#llx not aligned to %#llx (PAGE_SIZE %#lx or the IOMMU granule)\n",
			prov->name, bar, where, align, PAGE_SIZE);
		kvfree(layout);
		return ret;
	}

	ret = prov->ops->start(prov, tdi);
	trace_tdi_dmabuf_step(tdi->dev, "start", ret);
	if (ret) {
		dev_err_ratelimited(tdi->dev, "provider %s: start failed: %d\n",
				    prov->name, ret);
		kvfree(layout);
		return ret;
	}
	__tdi_dmabuf_set_layout(tdi, layout);
	__tdi_dmabuf_set_state(tdi, TDI_DMABUF_STATE_RUN);
	return 0;
}

/**
 * tdi_dmabuf_tdi_bind() - BIND: lock, validate the report, start
 * @tdi: the TDI
 *
 * Context: process context, may sleep; takes tdi->lock.
 * Return: 0 (state RUN) or the errno documented for TDI_DMABUF_IOCTL_BIND
 * (state UNBOUND; ERROR if the provider then refused to unbind).
 */
int tdi_dmabuf_tdi_bind(struct tdi_dmabuf_tdi *tdi)
{
	struct tdi_dmabuf_layout *empty;
	struct tdi_dmabuf_provider *prov;
	unsigned int n;
	int ret;

	mutex_lock(&tdi->lock);
	if (tdi->closed) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (tdi->state != TDI_DMABUF_STATE_UNBOUND) {
		ret = -EALREADY;
		goto out_unlock;
	}
	n = tdi_dmabuf_nr_live(tdi);
	if (n) {
		dev_dbg(tdi->dev, "BIND refused: %u DMA-BUF(s) open and not revoked\n",
			n);
		ret = -EBUSY;
		goto out_unlock;
	}
	if (!tdi_dmabuf_mem_enabled(tdi)) {
		ret = -EIO;
		goto out_unlock;
	}
	/* From the provider's bind until a report says otherwise: no page shared. */
	empty = kvzalloc(struct_size(empty, frags, 0), GFP_KERNEL);
	if (!empty) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	prov = tdi_dmabuf_provider_get(tdi->dev);
	if (!prov) {
		kvfree(empty);
		dev_dbg(tdi->dev, "no TDI report provider for this device\n");
		ret = -ENODEV;
		goto out_unlock;
	}
	ret = prov->ops->bind(prov, tdi);
	trace_tdi_dmabuf_step(tdi->dev, "provider_bind", ret);
	if (ret) {
		dev_err_ratelimited(tdi->dev, "provider %s: bind failed: %d\n",
				    prov->name, ret);
		tdi_dmabuf_provider_put(prov);
		kvfree(empty);
		tdi->error = -ret;
		goto out_unlock;
	}
	__tdi_dmabuf_set_layout(tdi, empty);
	tdi->provider = prov;
	/* The provider holds the TDI until its unbind succeeds. */
	kref_get(&tdi->ref);
	__tdi_dmabuf_set_state(tdi, TDI_DMABUF_STATE_LOCKED);

	ret = __tdi_dmabuf_tdi_run(tdi);
	if (ret)
		goto err_unbind;
	tdi->error = 0;
	mutex_unlock(&tdi->lock);
	return 0;

err_unbind:
	/* Half-way: nothing may survive that saw the TDI locked. */
	__tdi_dmabuf_tdi_revoke_all(tdi, TDI_DMABUF_CAUSE_BIND);
	tdi->cause = TDI_DMABUF_CAUSE_BIND;
	tdi->error = -ret;
	if (__tdi_dmabuf_provider_unbind(tdi)) {
		/* Still held: ERROR, as after a failed UNBIND. */
		__tdi_dmabuf_set_state(tdi, TDI_DMABUF_STATE_ERROR);
		goto out_unlock;
	}
	__tdi_dmabuf_set_layout(tdi, tdi->unbound_layout);
	__tdi_dmabuf_set_state(tdi, TDI_DMABUF_STATE_UNBOUND);
out_unlock:
	tdi_dmabuf_unlock(tdi);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_tdi_bind);

/**
 * tdi_dmabuf_tdi_unbind() - UNBIND: revoke, stop and unbind
 * @tdi: the TDI
 *
 * Context: process context, may sleep; takes tdi->lock.
 * Return: 0 (state UNBOUND), -ENOTCONN if not bound, -ETIMEDOUT if an
 * importer still uses a revoked DMA-BUF (state ERROR, provider not asked to
 * unbind), or the provider's error (state ERROR, DMA-BUFs revoked).
 */
int tdi_dmabuf_tdi_unbind(struct tdi_dmabuf_tdi *tdi)
{
	int ret;

	mutex_lock(&tdi->lock);
	if (tdi->state == TDI_DMABUF_STATE_UNBOUND) {
		ret = -ENOTCONN;
		goto out_unlock;
	}
	/* The provider may take the MMIO away only once no importer uses it. */
	ret = __tdi_dmabuf_tdi_revoke_all(tdi, TDI_DMABUF_CAUSE_UNBIND);
	if (!ret)
		ret = __tdi_dmabuf_provider_unbind(tdi);
	if (ret) {
		/* Still held by the provider: the report's layout stays. */
		tdi->cause = TDI_DMABUF_CAUSE_UNBIND;
		__tdi_dmabuf_set_state(tdi, TDI_DMABUF_STATE_ERROR);
		tdi->error = -ret;
		goto out_unlock;
	}
	__tdi_dmabuf_set_layout(tdi, tdi->unbound_layout);
	__tdi_dmabuf_set_state(tdi, TDI_DMABUF_STATE_UNBOUND);
out_unlock:
	tdi_dmabuf_unlock(tdi);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_tdi_unbind);

/**
 * tdi_dmabuf_tdi_get_dmabuf() - GET_DMABUF without the fd
 * @tdi: the TDI
 * @bar: BAR index
 * @kind: TDI_DMABUF_KIND_*
 * @open_flags: DMA-BUF file flags
 *
 * Context: process context, may sleep; takes tdi->lock.
 * Return: the DMA-BUF or an ERR_PTR() with the errno documented for
 * TDI_DMABUF_IOCTL_GET_DMABUF.
 */
struct dma_buf *tdi_dmabuf_tdi_get_dmabuf(struct tdi_dmabuf_tdi *tdi, u32 bar,
					  u32 kind, int open_flags)
{
	struct dma_buf *dmabuf;

	if (bar >= TDI_DMABUF_NR_BARS ||
	    (kind != TDI_DMABUF_KIND_SHARED && kind != TDI_DMABUF_KIND_PRIVATE)) {
		dev_dbg(tdi->dev, "GET_DMABUF: no BAR %u or kind %u\n",
			bar, kind);
		return ERR_PTR(-EINVAL);
	}

	mutex_lock(&tdi->lock);
	if (tdi->closed) {
		dmabuf = ERR_PTR(-ENODEV);
	} else if (kind == TDI_DMABUF_KIND_PRIVATE &&
		   tdi->state != TDI_DMABUF_STATE_RUN) {
		dev_dbg(tdi->dev, "GET_DMABUF: private DMA-BUF needs a TDI in run\n");
		dmabuf = ERR_PTR(-EPERM);
	} else if (!tdi_dmabuf_mem_enabled(tdi)) {
		dev_dbg(tdi->dev, "GET_DMABUF: memory decode disabled\n");
		dmabuf = ERR_PTR(-EIO);
	} else {
		dmabuf = tdi_dmabuf_export(tdi, bar, kind, open_flags);
	}
	mutex_unlock(&tdi->lock);
	return dmabuf;
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_tdi_get_dmabuf);

/**
 * tdi_dmabuf_tdi_get_state() - GET_STATE
 * @tdi: the TDI
 * @st: filled in (flags and reserved untouched)
 *
 * Context: process context, may sleep; takes tdi->lock.
 */
void tdi_dmabuf_tdi_get_state(struct tdi_dmabuf_tdi *tdi,
			      struct tdi_dmabuf_state *st)
{
	mutex_lock(&tdi->lock);
	st->state = tdi->state;
	st->cause = tdi->cause;
	st->error = tdi->error;
	st->nr_dmabufs = tdi->nr_dmabufs;
	st->nr_revokes = tdi->nr_revokes;
	mutex_unlock(&tdi->lock);
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_tdi_get_state);

/**
 * tdi_dmabuf_tdi_get_layout() - GET_LAYOUT
 * @tdi: the TDI
 * @ranges: output array
 * @count: in: capacity of @ranges; out: fragments in the layout
 * @state: out: the state the layout belongs to
 *
 * Context: process context, may sleep; takes tdi->lock.
 * Return: 0, or -ENOSPC if @count was too small (@count is updated).
 */
int tdi_dmabuf_tdi_get_layout(struct tdi_dmabuf_tdi *tdi,
			      struct tdi_dmabuf_range *ranges,
			      unsigned int *count, u32 *state)
{
	const struct tdi_dmabuf_layout *layout;
	unsigned int i, cap = *count;
	int ret = 0;

	mutex_lock(&tdi->lock);
	layout = tdi->layout;
	*count = layout->nr;
	*state = tdi->state;
	if (cap < layout->nr) {
		ret = -ENOSPC;
		goto out_unlock;
	}
	for (i = 0; i < layout->nr; i++) {
		ranges[i].offset = layout->frags[i].offset;
		ranges[i].length = layout->frags[i].len;
		ranges[i].dmabuf_offset = 0;
		ranges[i].bar = layout->frags[i].bar;
		ranges[i].flags = layout->frags[i].flags;
	}
out_unlock:
	mutex_unlock(&tdi->lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_tdi_get_layout);

/**
 * tdi_dmabuf_tdi_mmio_allowed() - may the host reach MMIO outside DMA-BUFs?
 * @tdi: the TDI
 * @bar: BAR index
 * @offset: offset in the BAR
 * @len: length in bytes
 *
 * Paths of the embedding driver that reach a BAR directly (a VFIO region's
 * mmap, read, write) ask this first. While no provider holds the TDI
 * everything is allowed; from the provider's bind until it let go only
 * pages the last report marked shared are, and none before the first
 * report. BARs that are not exportable hold no reported range.
 *
 * Context: process context, may sleep; takes tdi->lock.
 * Return: true if every byte of [@offset, @offset + @len) may be reached.
 */
bool tdi_dmabuf_tdi_mmio_allowed(struct tdi_dmabuf_tdi *tdi, u32 bar,
				 u64 offset, u64 len)
{
	const struct tdi_dmabuf_layout *layout;
	u64 cur = offset, end;
	bool allowed;
	unsigned int i;

	if (bar >= TDI_DMABUF_NR_BARS || !tdi->bars[bar].len)
		return true;
	if (check_add_overflow(offset, len, &end))
		return false;

	mutex_lock(&tdi->lock);
	allowed = !tdi->provider;
	layout = tdi->layout;
	/* Fragments are sorted by BAR and offset: walk the shared ones. */
	for (i = 0; !allowed && i < layout->nr && cur < end; i++) {
		const struct tdi_dmabuf_frag *f = &layout->frags[i];

		if (f->bar != bar || (f->flags & TDI_DMABUF_RANGE_PRIVATE))
			continue;
		if (f->offset <= cur && cur < f->offset + f->len)
			cur = f->offset + f->len;
	}
	if (!allowed)
		allowed = cur >= end;
	mutex_unlock(&tdi->lock);
	if (!allowed)
		dev_dbg(tdi->dev, "BAR %u [%#llx, +%#llx) is not shared while the TDI is bound\n",
			bar, offset, len);
	return allowed;
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_tdi_mmio_allowed);

/**
 * tdi_dmabuf_tdi_held() - does a provider hold the TDI?
 * @tdi: the TDI
 *
 * Context: process context, may sleep; takes tdi->lock.
 * Return: true from the provider's bind until it let go (a failed unbind
 * keeps it held).
 */
bool tdi_dmabuf_tdi_held(struct tdi_dmabuf_tdi *tdi)
{
	bool held;

	mutex_lock(&tdi->lock);
	held = tdi->provider;
	mutex_unlock(&tdi->lock);
	return held;
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_tdi_held);

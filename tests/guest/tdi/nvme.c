// SPDX-License-Identifier: GPL-2.0-only
/*
 * Resets and AER for real: the NVMe PF (which has FLR, unlike edu) bound to
 * tdi_dmabuf and served by the fake provider (BAR0: first half shared, the
 * rest private).
 *  - VFIO_DEVICE_RESET succeeds (its return is checked: an FLR happened) and
 *    has revoked both DMA-BUFs and unbound the provider: state error, cause
 *    reset;
 *  - a reset through sysfs (behind vfio-pci) revokes both the same way,
 *    the provider is unbound once the reset is done, and new DMA-BUFs can
 *    be had then;
 *  - a non-fatal AER error injected by the host into the PF's root port
 *    reaches the driver's error_detected(): both DMA-BUFs revoked, state
 *    error, cause reset, and the provider unbound once the recovery ended.
 * After each, UNBIND and BIND again work. At exit the PF is unbound.
 */
#include <time.h>

#include "platform.h"
#include "tdi_test.h"

static int region_size(int dev, unsigned int index, unsigned long long *size)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = index };

	if (ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &ri))
		return -1;
	*size = ri.size;
	return 0;
}

static int revoked(int dev, int dmabuf)
{
	struct tdi_dmabuf_get_ranges gr;
	struct tdi_dmabuf_range r[4];

	return tdi_ranges(dev, dmabuf, r, 4, &gr) == 0 && gr.revoked;
}

/* Wait up to @secs for the TDI to leave RUN; its state. */
static int wait_not_run(int dev, int secs)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	int i, s = -1;

	for (i = 0; i < secs * 10; i++) {
		s = tdi_state_of(dev);
		if (s != TDI_DMABUF_STATE_RUN)
			break;
		nanosleep(&ts, NULL);
	}
	return s;
}

/*
 * Wait for the end of an error recovery: GET_DMABUF fails with EIO until
 * ->resume(). Every ioctl first runs the work the recovery left behind (the
 * provider's unbind), so once one succeeded the next one finds it done.
 */
static int wait_recovered(int dev, int secs)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	int i, fd;

	for (i = 0; i < secs * 10; i++) {
		fd = tdi_get_dmabuf(dev, 0, TDI_DMABUF_KIND_SHARED, NULL);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (errno != EIO)
			return -1;
		nanosleep(&ts, NULL);
	}
	return -1;
}

/* BIND and open a shared and a private DMA-BUF. */
static int bind_and_export(struct tdi_env *e, int *shared, int *private, const char *why)
{
	*shared = -1;
	*private = -1;
	if (!ok(tdi_bind(e->dev) == 0, "%s: bind", why))
		return -1;
	*shared = tdi_get_dmabuf(e->dev, 0, TDI_DMABUF_KIND_SHARED, NULL);
	*private = tdi_get_dmabuf(e->dev, 0, TDI_DMABUF_KIND_PRIVATE, NULL);
	return ok(*shared >= 0 && *private >= 0, "%s: shared and private DMA-BUFs", why) ? 0 : -1;
}

static void expect_revoked(struct tdi_env *e, int shared, int private, int unbinds,
			   const char *why)
{
	struct tdi_dmabuf_state st;

	tdi_state(e->dev, &st);
	ok(st.state == TDI_DMABUF_STATE_ERROR && st.cause == TDI_DMABUF_CAUSE_RESET,
	   "%s: state %s, cause %u (reset)", why, tdi_state_name(st.state), st.cause);
	ok(revoked(e->dev, shared) && revoked(e->dev, private),
	   "%s: both DMA-BUFs revoked", why);
	ok(fake_count(e->bdf, "unbind") == unbinds + 1, "%s: the provider was unbound once", why);
	close(shared);
	close(private);
	ok(tdi_unbind(e->dev) == 0 && tdi_state_of(e->dev) == TDI_DMABUF_STATE_UNBOUND,
	   "%s: UNBIND acknowledges the error", why);
}

int main(void)
{
	unsigned long long size = 0;
	char pf[256], methods[128], path[320];
	int shared, private, unbinds, x;
	struct tdi_env e;
	FILE *f;

	memset(&e, 0, sizeof(e));
	e.group = -1;
	e.container = -1;
	e.dev = -1;
	if (!ok(platform_nvme_pf(pf, sizeof(pf)) == 0, "NVMe PF present"))
		return tap_done();
	if (tdi_setup_bdf(&e, pf, "the NVMe PF", 1))
		goto out;
	if (!ok(tdi_open_dev(&e, pf) >= 0, "VFIO device fd of the PF %s", pf))
		goto out;
	x = region_size(e.dev, VFIO_PCI_BAR0_REGION_INDEX, &size) == 0 && size >= 0x2000;
	if (!ok(x, "PF BAR0 of %#llx bytes", size))
		goto out;
	x = !fake("add %s", pf) && !fake("range %s 0 0x0 %llu 0x4", pf, size / 2 / 4096) &&
	    !fake("range %s 0 %#llx %llu 0x0", pf, size / 2, size / 2 / 4096);
	ok(x, "fake provider serves the PF (BAR0 [0, %#llx) shared, the rest private)", size / 2);

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset_method", pf);
	f = fopen(path, "r");
	methods[0] = 0;
	if (f) {
		if (!fgets(methods, sizeof(methods), f))
			methods[0] = 0;
		fclose(f);
	}
	methods[strcspn(methods, "\n")] = 0;
	ok(!!strstr(methods, "flr"), "the PF resets by FLR (reset_method: '%s')", methods);

	/* A reset that happens. */
	if (!bind_and_export(&e, &shared, &private, "reset")) {
		unbinds = fake_count(e.bdf, "unbind");
		x = ioctl(e.dev, VFIO_DEVICE_RESET);
		ok(x == 0, "VFIO_DEVICE_RESET succeeded (%s)", x ? strerror(errno) : "reset done");
		expect_revoked(&e, shared, private, unbinds, "after the reset");
	}

	/*
	 * A reset through sysfs, behind vfio-pci: revoked from
	 * ->reset_prepare() on, new DMA-BUFs again once ->reset_done() ran.
	 */
	if (!bind_and_export(&e, &shared, &private, "sysfs reset")) {
		unbinds = fake_count(e.bdf, "unbind");
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset", pf);
		x = sysfs_write(path, "1");
		ok(x == 0, "reset through sysfs succeeded");
		expect_revoked(&e, shared, private, unbinds, "after the sysfs reset");
		shared = tdi_get_dmabuf(e.dev, 0, TDI_DMABUF_KIND_SHARED, NULL);
		ok(shared >= 0, "a new shared DMA-BUF once the reset is done (%s)",
		   shared >= 0 ? "ok" : strerror(errno));
		if (shared >= 0)
			close(shared);
	}

	/* An AER error from the host. */
	if (!bind_and_export(&e, &shared, &private, "AER")) {
		unbinds = fake_count(e.bdf, "unbind");
		x = platform_host_aer(PLATFORM_PORT_QEMU_ID, "COMP_TIME");
		ok(x == 0, "the host injected a non-fatal error at the PF's root port (status %d)",
		   x);
		ok(wait_not_run(e.dev, 10) == TDI_DMABUF_STATE_ERROR,
		   "the error reached the driver: the TDI left run");
		/* The provider is unbound once the PCI core is done. */
		ok(wait_recovered(e.dev, 10) == 0,
		   "a shared DMA-BUF again once the recovery ended");
		expect_revoked(&e, shared, private, unbinds, "after the AER error");
	}
	/* Recovery ends with ->resume(), right after the error was handled. */
	for (x = 0; x < 50 && tdi_bind(e.dev) && errno == EIO; x++)
		nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
	ok(tdi_state_of(e.dev) == TDI_DMABUF_STATE_RUN && tdi_unbind(e.dev) == 0,
	   "bind and unbind work again once the recovery ended");
	fake("del %s", pf);
out:
	tdi_teardown(&e, 1);
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * A provider that refuses to unbind keeps the TDI, whatever userspace does
 * with the device (edu, the fake provider's "unbind" fault):
 *  - closing the device fd leaves the TDI bound: the provider's module
 *    stays pinned (its refcnt), and a reopen finds ERROR, not UNBOUND
 *    (GET_STATE's counters start again at the open);
 *  - removing the device from the driver does not free the TDI under the
 *    provider: its next error retries the unbind (counted), and once the
 *    unbind succeeds the provider's module is free again.
 * Forgetting the binding instead lets the provider's error reach a freed
 * TDI (a use-after-free that the debug kernel's KASAN reports).
 */
#include <time.h>

#include "tdi_test.h"

#define FAKE_REFCNT	"/sys/module/tdi_fake_provider/refcnt"

/* The fake provider module's reference count, or -1. */
static long refcnt(void)
{
	FILE *f = fopen(FAKE_REFCNT, "r");
	long v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* Wait up to 5 s for the provider's unbind count of @bdf to reach @want. */
static int wait_unbinds(const char *bdf, int want)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int i, n = -1;

	for (i = 0; i < 250; i++) {
		n = fake_count(bdf, "unbind");
		if (n >= want)
			break;
		nanosleep(&ts, NULL);
	}
	return n;
}

int main(void)
{
	struct tdi_dmabuf_state st;
	struct tdi_env e;
	char path[300];
	long base, held;
	int unbinds, shared;

	if (tdi_setup(&e, 1))
		goto out;
	ok(fake_setup_edu(e.bdf) == 0, "fake provider serves %s", e.bdf);
	base = refcnt();
	ok(base >= 0, "tdi_fake_provider refcnt %ld", base);

	ok(tdi_bind(e.dev) == 0, "bind");
	held = refcnt();
	ok(held == base + 1, "bound: the provider's module is pinned (refcnt %ld -> %ld)",
	   base, held);
	ok(fake("fault %s unbind", e.bdf) == 0, "the provider refuses to unbind from now on");
	unbinds = fake_count(e.bdf, "unbind");

	/* Close: the unbind fails, the binding is kept. */
	shared = tdi_get_dmabuf(e.dev, 0, TDI_DMABUF_KIND_SHARED, NULL);
	ok(shared >= 0, "a shared DMA-BUF stays open across the close");
	close(e.dev);
	e.dev = -1;
	ok(fake_count(e.bdf, "unbind") == unbinds + 1, "close asked the provider to unbind");
	ok(fake_count(e.bdf, "bound") == 1, "the provider still holds the TDI");
	ok(refcnt() == held, "closed: the provider's module is still pinned (refcnt %ld)",
	   refcnt());
	e.dev = ioctl(e.group, VFIO_GROUP_GET_DEVICE_FD, e.bdf);
	if (!ok(e.dev >= 0, "reopen the device"))
		goto out;
	ok(tdi_state(e.dev, &st) == 0 && st.state == TDI_DMABUF_STATE_ERROR &&
	   st.cause == TDI_DMABUF_CAUSE_CLOSE,
	   "reopened: state %s (cause %u), not unbound", tdi_state_name(st.state), st.cause);
	ok(st.nr_revokes == 0 && st.nr_dmabufs == 1,
	   "counters of this open: %u revoked (the close revoked one before), %u open",
	   st.nr_revokes, st.nr_dmabufs);
	close(shared);
	ok_errno(tdi_bind(e.dev), EALREADY, "BIND refused until the TDI is unbound");
	ok_errno(tdi_unbind(e.dev), EIO, "UNBIND retries, the provider refuses again");
	ok(fake_count(e.bdf, "unbind") == unbinds + 2, "UNBIND asked the provider");
	close(e.dev);
	e.dev = -1;

	/* The device leaves the driver: the TDI lives on for the provider. */
	sysfs_write("/sys/bus/pci/drivers/tdi_dmabuf/unbind", e.bdf);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", e.bdf);
	ok(access(path, F_OK) != 0, "edu removed from tdi_dmabuf");
	unbinds = fake_count(e.bdf, "unbind");
	ok(fake("error %s", e.bdf) == 0, "the provider signals an error on the held TDI");
	ok(wait_unbinds(e.bdf, unbinds + 1) == unbinds + 1,
	   "the error retried the unbind (refused again)");
	ok(refcnt() == held && fake_count(e.bdf, "bound") == 1,
	   "still held, module still pinned");
	fake("fault %s none", e.bdf);
	ok(fake("error %s", e.bdf) == 0, "another error, the provider now accepts");
	ok(wait_unbinds(e.bdf, unbinds + 2) == unbinds + 2, "the error retried the unbind");
	ok(fake_count(e.bdf, "bound") == 0, "the provider let go of the TDI");
	ok(refcnt() == base, "the provider's module is free again (refcnt %ld)", refcnt());
	ok_errno(fake("error %s", e.bdf), ENOTCONN, "nothing left to signal an error on");
out:
	tdi_teardown(&e, 1);
	return tap_done();
}

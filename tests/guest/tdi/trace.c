// SPDX-License-Identifier: GPL-2.0-only
/*
 * tdi_dmabuf's tracepoints through tracefs: the steps and state changes of
 * one BIND, of one UNBIND, and of a provider error that revokes an open
 * DMA-BUF, each seen with the device's name; and the same state in sysfs
 * under the PCI device (tdi_state, tdi_cause, tdi_dmabufs, tdi_revokes).
 */
#include "tdi_test.h"
#include "trace.h"

/* The first line of /sys/bus/pci/devices/<bdf>/<name>, or "". */
static const char *attr(const char *bdf, const char *name)
{
	static char buf[64];
	char path[384];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, name);
	buf[0] = '\0';
	f = fopen(path, "r");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

static int count(const char *t, const char *event, const char *dev,
		 const char *a, const char *b)
{
	return trace_count(t, event, (const char *[]){ dev, a, b, NULL });
}

int main(void)
{
	struct tdi_env e;
	char dev[300];
	int shared;
	char *t;

	if (tdi_setup(&e, 1))
		goto out;
	ok(fake_setup_edu(e.bdf) == 0, "fake provider serves %s", e.bdf);
	if (!ok(trace_start("tdi_dmabuf") == 0, "tracefs: tdi_dmabuf events enabled"))
		goto out;
	snprintf(dev, sizeof(dev), " %s ", e.bdf);

	ok(!strcmp(attr(e.bdf, "tdi_state"), "unbound"), "sysfs tdi_state: unbound");
	ok(tdi_bind(e.dev) == 0, "BIND");
	ok(!strcmp(attr(e.bdf, "tdi_state"), "run"), "sysfs tdi_state: run");
	ok(tdi_unbind(e.dev) == 0, "UNBIND");
	ok(!strcmp(attr(e.bdf, "tdi_state"), "unbound"), "sysfs tdi_state: unbound again");
	ok(tdi_bind(e.dev) == 0, "BIND again");
	shared = tdi_get_dmabuf(e.dev, 0, TDI_DMABUF_KIND_SHARED, NULL);
	ok(shared >= 0, "a shared DMA-BUF is open");
	ok(!strcmp(attr(e.bdf, "tdi_dmabufs"), "1"), "sysfs tdi_dmabufs: 1 (%s)",
	   attr(e.bdf, "tdi_dmabufs"));
	ok(fake("error %s", e.bdf) == 0, "fake provider signals an error");
	ok(!strcmp(attr(e.bdf, "tdi_state"), "error") &&
	   !strcmp(attr(e.bdf, "tdi_cause"), "provider"),
	   "sysfs tdi_state: error, tdi_cause: provider");
	ok(atoi(attr(e.bdf, "tdi_revokes")) >= 1, "sysfs tdi_revokes: %s",
	   attr(e.bdf, "tdi_revokes"));

	t = trace_read();
	trace_stop("tdi_dmabuf");
	if (!ok(!!t, "read the trace buffer"))
		goto out;
	ok(count(t, "tdi_dmabuf_step", dev, "provider_bind err=0", NULL) == 2 &&
	   count(t, "tdi_dmabuf_step", dev, "get_report err=0", NULL) == 2 &&
	   count(t, "tdi_dmabuf_step", dev, "parse err=0", NULL) == 2 &&
	   count(t, "tdi_dmabuf_step", dev, "start err=0", NULL) == 2,
	   "tdi_dmabuf_step: provider_bind, get_report, parse, start of both BINDs");
	ok(count(t, "tdi_dmabuf_state", dev, "unbound -> locked", NULL) == 2 &&
	   count(t, "tdi_dmabuf_state", dev, "locked -> run", NULL) == 2,
	   "tdi_dmabuf_state: unbound -> locked -> run, twice");
	ok(count(t, "tdi_dmabuf_step", dev, "provider_unbind err=0", NULL) >= 2,
	   "tdi_dmabuf_step: provider_unbind at UNBIND and at the error");
	ok(count(t, "tdi_dmabuf_state", dev, "run -> unbound", NULL) == 1,
	   "tdi_dmabuf_state: run -> unbound at UNBIND");
	ok(count(t, "tdi_dmabuf_revoke", dev, "revoked=1 ", "cause=provider err=0") == 1,
	   "tdi_dmabuf_revoke: the open DMA-BUF, cause provider");
	ok(count(t, "tdi_dmabuf_state", dev, "run -> error", "cause=provider") == 1,
	   "tdi_dmabuf_state: run -> error, cause provider");
	if (tap_failed)
		trace_dump(t);
	free(t);
	close(shared);
out:
	tdi_teardown(&e, 1);
	return tap_done();
}

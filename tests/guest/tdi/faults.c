// SPDX-License-Identifier: GPL-2.0-only
/*
 * Error paths on edu with the fake provider's fault injection:
 *  - malformed reports (six kinds): bind fails EBADMSG, device stays unbound;
 *  - bind failing in the provider, the report fetch failing, start failing
 *    half-way: bind fails, the provider is unbound again, state unbound;
 *  - unbind failing: DMA-BUFs revoked anyway, state error, retry recovers;
 *  - an asynchronous provider error: every DMA-BUF fd revoked (mapping
 *    faults, mmap fails), state error; closing and reopening recovers;
 *  - a VFIO_DEVICE_RESET request that vfio-pci refuses (edu has no reset
 *    method: EINVAL) changes nothing: the TDI stays in run, nothing is
 *    revoked (tdi/nvme.c checks a reset that happens);
 *  - memory decode disabled through config space revokes the DMA-BUFs.
 */
#include "tdi_test.h"

static void expect_bind_fails(struct tdi_env *e, const char *fault, int err)
{
	struct tdi_dmabuf_state st;
	int unbinds = fake_count(e->bdf, "unbind");

	fake("fault %s %s", e->bdf, fault);
	ok_errno(tdi_bind(e->dev), err, "bind with fault '%s' fails (%s)", fault, strerror(err));
	tdi_state(e->dev, &st);
	ok(st.state == TDI_DMABUF_STATE_UNBOUND && st.error == (unsigned int)err,
	   "fault '%s': state unbound, error %u", fault, st.error);
	if (strcmp(fault, "bind"))
		ok(fake_count(e->bdf, "unbind") == unbinds + 1,
		   "fault '%s': provider unbound again after the failed bind", fault);
	else
		ok(fake_count(e->bdf, "unbind") == unbinds,
		   "fault '%s': nothing to unbind", fault);
}

static int config_region(int dev, struct vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = VFIO_PCI_CONFIG_REGION_INDEX;
	return ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, ri);
}

/* The reset methods sysfs lists for @bdf ("" if none), or NULL. */
static const char *reset_methods(const char *bdf, char *buf, size_t len)
{
	char path[300];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset_method", bdf);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return errno == ENOENT ? "" : NULL;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return errno == ENOTTY ? "" : NULL;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

/*
 * VFIO_DEVICE_RESET on a bound TDI with an open private DMA-BUF, on edu,
 * which has no reset method (no FLR, no PM reset, no slot or bus reset on
 * the root bus): vfio-pci refuses the reset with EINVAL before it touches
 * the device, so tdi_dmabuf must not tear the TDI down for it. A reset
 * that happens (the NVMe PF's FLR) is checked in tdi/nvme.c.
 */
static void reset_request(struct tdi_env *e, int private)
{
	struct tdi_dmabuf_get_ranges gr;
	struct tdi_dmabuf_range r[4];
	struct tdi_dmabuf_state st;
	const char *methods;
	char buf[128];
	int unbinds = fake_count(e->bdf, "unbind");

	methods = reset_methods(e->bdf, buf, sizeof(buf));
	ok(methods && !methods[0], "edu has no reset method (reset_method: '%s')",
	   methods ? methods : "unreadable");
	ok_errno(ioctl(e->dev, VFIO_DEVICE_RESET), EINVAL,
		 "VFIO_DEVICE_RESET without a reset method fails (EINVAL)");
	tdi_state(e->dev, &st);
	ok(st.state == TDI_DMABUF_STATE_RUN,
	   "a reset request vfio-pci refuses leaves the TDI running (state %s, cause %u)",
	   tdi_state_name(st.state), st.cause);
	ok(tdi_ranges(e->dev, private, r, 4, &gr) == 0 && !gr.revoked,
	   "the refused reset request revoked nothing");
	ok(unbinds >= 0 && fake_count(e->bdf, "unbind") == unbinds,
	   "the refused reset request did not unbind the provider");
}

int main(void)
{
	static const char * const bad[] = {
		"short", "count", "outside", "overlap", "reserved", "wrap", "range_id",
	};
	struct vfio_region_info cfg;
	struct tdi_dmabuf_get_ranges gr;
	struct tdi_dmabuf_range r[4];
	struct tdi_dmabuf_state st;
	struct tdi_env e;
	void *map;
	int shared, private, shared2, unbinds;
	__u16 cmd;
	__u32 val;
	unsigned int i;
	void *p;

	if (tdi_setup(&e, 1))
		goto out;
	ok(fake_setup_edu(e.bdf) == 0, "fake provider serves %s", e.bdf);

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		expect_bind_fails(&e, bad[i], EBADMSG);
	expect_bind_fails(&e, "bind", EIO);
	expect_bind_fails(&e, "report", EIO);
	expect_bind_fails(&e, "start", EIO);
	fake("fault %s none", e.bdf);
	shared = tdi_get_dmabuf(e.dev, 0, TDI_DMABUF_KIND_SHARED, NULL);
	ok(shared >= 0, "after the failed binds, the unbound shared DMA-BUF still works");
	close(shared);

	/* unbind fails */
	ok(tdi_bind(e.dev) == 0, "bind");
	shared = tdi_get_dmabuf(e.dev, 0, TDI_DMABUF_KIND_SHARED, NULL);
	fake("fault %s unbind", e.bdf);
	ok_errno(tdi_unbind(e.dev), EIO, "unbind with fault 'unbind' fails (EIO)");
	tdi_state(e.dev, &st);
	ok(st.state == TDI_DMABUF_STATE_ERROR && st.cause == TDI_DMABUF_CAUSE_UNBIND,
	   "failed unbind: state error, cause unbind");
	ok(tdi_ranges(e.dev, shared, r, 4, &gr) == 0 && gr.revoked,
	   "failed unbind: the DMA-BUF was revoked anyway");
	close(shared);
	ok_errno(tdi_bind(e.dev), EALREADY, "bind refused in error until unbind");
	fake("fault %s none", e.bdf);
	ok(tdi_unbind(e.dev) == 0, "unbind retried after the fault cleared");
	ok(tdi_state_of(e.dev) == TDI_DMABUF_STATE_UNBOUND, "state unbound");

	/* asynchronous provider error */
	ok(tdi_bind(e.dev) == 0, "bind");
	shared = tdi_get_dmabuf(e.dev, 0, TDI_DMABUF_KIND_SHARED, NULL);
	private = tdi_get_dmabuf(e.dev, 0, TDI_DMABUF_KIND_PRIVATE, NULL);
	ok(shared >= 0 && private >= 0, "shared and private DMA-BUFs open");
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, shared, 0);
	map = p == MAP_FAILED ? NULL : p;
	val = 0;
	if (map && read32_or_sigbus(map, &val))
		val = 0;
	ok(val == EDU_ID, "shared mapping reads the ID register before the error");
	unbinds = fake_count(e.bdf, "unbind");
	ok(fake("error %s", e.bdf) == 0, "fake provider signals an asynchronous error");
	tdi_state(e.dev, &st);
	ok(st.state == TDI_DMABUF_STATE_ERROR && st.cause == TDI_DMABUF_CAUSE_PROVIDER &&
	   st.error == EIO, "state error, cause provider, error EIO");
	ok(tdi_ranges(e.dev, shared, r, 4, &gr) == 0 && gr.revoked, "shared fd revoked");
	ok(tdi_ranges(e.dev, private, r, 4, &gr) == 0 && gr.revoked, "private fd revoked");
	ok(map && read32_or_sigbus(map, &val) == -1, "old mapping faults (SIGBUS)");
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, shared, 0);
	ok_errno(p == MAP_FAILED ? -1 : 0, ENODEV, "mmap of the revoked fd fails (ENODEV)");
	ok(unbinds >= 0 && fake_count(e.bdf, "unbind") == unbinds + 1,
	   "provider was unbound once by the error (%d -> %d)", unbinds,
	   fake_count(e.bdf, "unbind"));
	if (map)
		munmap((void *)map, 4096);
	close(shared);
	close(private);
	shared = tdi_get_dmabuf(e.dev, 0, TDI_DMABUF_KIND_SHARED, NULL);
	p = shared >= 0 ? mmap(NULL, 4096, PROT_READ, MAP_SHARED, shared, 0) : MAP_FAILED;
	val = 0;
	if (p != MAP_FAILED && read32_or_sigbus(p, &val))
		val = 0;
	ok(val == EDU_ID, "closed and reopened: new shared DMA-BUF maps and reads %#x", val);
	if (p != MAP_FAILED)
		munmap(p, 4096);
	close(shared);
	ok(tdi_unbind(e.dev) == 0 && tdi_bind(e.dev) == 0 &&
	   tdi_state_of(e.dev) == TDI_DMABUF_STATE_RUN, "unbind from error and bind again: run");
	private = tdi_get_dmabuf(e.dev, 0, TDI_DMABUF_KIND_PRIVATE, NULL);
	ok(private >= 0, "private DMA-BUF available again");

	/* reset through the device fd */
	reset_request(&e, private);
	close(private);
	ok(tdi_unbind(e.dev) == 0, "unbind after the refused reset");

	/* memory decode disabled through config space */
	shared = tdi_get_dmabuf(e.dev, 0, TDI_DMABUF_KIND_SHARED, NULL);
	ok(config_region(e.dev, &cfg) == 0, "config region info");
	ok(pread(e.dev, &cmd, 2, cfg.offset + 4) == 2 && (cmd & 0x2),
	   "memory decode enabled (command %#x)", cmd);
	cmd &= ~0x2;
	ok(pwrite(e.dev, &cmd, 2, cfg.offset + 4) == 2, "clear memory decode");
	ok(tdi_ranges(e.dev, shared, r, 4, &gr) == 0 && gr.revoked,
	   "memory decode off revoked the shared fd");
	tdi_state(e.dev, &st);
	ok(st.cause == TDI_DMABUF_CAUSE_MEMORY, "cause memory");
	shared2 = tdi_get_dmabuf(e.dev, 0, TDI_DMABUF_KIND_SHARED, NULL);
	ok_errno(shared2, EIO, "no new DMA-BUF while memory decode is off (EIO)");
	ok_errno(tdi_bind(e.dev), EIO, "bind refused while memory decode is off (EIO)");
	cmd |= 0x2;
	ok(pwrite(e.dev, &cmd, 2, cfg.offset + 4) == 2, "enable memory decode");
	/* A revoked DMA-BUF that somebody keeps open does not block BIND. */
	ok(tdi_bind(e.dev) == 0 && tdi_state_of(e.dev) == TDI_DMABUF_STATE_RUN,
	   "bind while only a revoked DMA-BUF is open: run");
	ok(tdi_ranges(e.dev, shared, r, 4, &gr) == 0 && gr.revoked,
	   "the open DMA-BUF is still revoked");
	ok(tdi_unbind(e.dev) == 0, "unbind");
	close(shared);
	shared2 = tdi_get_dmabuf(e.dev, 0, TDI_DMABUF_KIND_SHARED, NULL);
	ok(shared2 >= 0, "memory decode on: new DMA-BUF");
	close(shared2);
	fake("del %s", e.bdf);
out:
	tdi_teardown(&e, 1);
	return tap_done();
}

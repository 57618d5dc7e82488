// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every rejected input of the tdi_dmabuf uapi, one check each: bad BAR,
 * bad kind, unknown flags, non-zero reserved fields, bad open flags, bind
 * twice, unbind while unbound, private DMA-BUF before bind, a DMA-BUF of
 * another exporter, a too small array, and bind with no provider.
 */
#include "tdi_test.h"

static int get(int dev, struct tdi_dmabuf_get_dmabuf g)
{
	return ioctl(dev, TDI_DMABUF_IOCTL_GET_DMABUF, &g);
}

int main(void)
{
	struct tdi_dmabuf_get_dmabuf g0 = { .open_flags = O_RDWR };
	struct tdi_dmabuf_range r[4];
	struct tdi_dmabuf_get_layout lay;
	struct tdi_dmabuf_get_ranges gr;
	struct tdi_dmabuf_state st;
	struct tdi_dmabuf_bind b;
	struct tdi_dmabuf_get_dmabuf g;
	struct tdi_env e;
	uint8_t *m;
	int fd;

	/* No provider module at all. */
	if (tdi_setup(&e, 0))
		goto out;
	ok_errno(tdi_bind(e.dev), ENODEV, "bind without a registered provider: ENODEV");
	ok(tdi_state_of(e.dev) == TDI_DMABUF_STATE_UNBOUND, "still unbound");
	/* A provider that does not serve this device. */
	ok(modload("tdi_fake_provider") == 0, "modload tdi_fake_provider");
	ok_errno(tdi_bind(e.dev), ENODEV, "bind with no provider for this device: ENODEV");
	ok(fake_setup_edu(e.bdf) == 0, "fake provider now serves %s", e.bdf);

	/* BIND/UNBIND argument checks */
	b = (struct tdi_dmabuf_bind){ .flags = 1 };
	ok_errno(ioctl(e.dev, TDI_DMABUF_IOCTL_BIND, &b), EINVAL, "bind: unknown flags");
	b = (struct tdi_dmabuf_bind){ .reserved = 1 };
	ok_errno(ioctl(e.dev, TDI_DMABUF_IOCTL_BIND, &b), EINVAL, "bind: reserved");
	b = (struct tdi_dmabuf_bind){ .reserved2[1] = 1 };
	ok_errno(ioctl(e.dev, TDI_DMABUF_IOCTL_BIND, &b), EINVAL, "bind: reserved2");
	b = (struct tdi_dmabuf_bind){ .flags = 0x80000000 };
	ok_errno(ioctl(e.dev, TDI_DMABUF_IOCTL_UNBIND, &b), EINVAL, "unbind: unknown flags");
	ok_errno(tdi_unbind(e.dev), ENOTCONN, "unbind while unbound: ENOTCONN");
	ok_errno(ioctl(e.dev, TDI_DMABUF_IOCTL_BIND, NULL), EFAULT, "bind: bad pointer");
	/* BIND and UNBIND only read their argument: _IOW, never _IOWR. */
	memset(&b, 0, sizeof(b));
	ok_errno(ioctl(e.dev, _IOWR(_IOC_TYPE(TDI_DMABUF_IOCTL_BIND), 0x00, struct tdi_dmabuf_bind),
		       &b), ENOTTY, "bind with the read-write direction: unknown ioctl (ENOTTY)");
	ok_errno(ioctl(e.dev, _IOWR(_IOC_TYPE(TDI_DMABUF_IOCTL_UNBIND), 0x01,
				    struct tdi_dmabuf_bind), &b),
		 ENOTTY, "unbind with the read-write direction: unknown ioctl (ENOTTY)");

	/* GET_STATE */
	memset(&st, 0, sizeof(st));
	st.flags = 2;
	ok_errno(ioctl(e.dev, TDI_DMABUF_IOCTL_GET_STATE, &st), EINVAL, "get state: unknown flags");
	memset(&st, 0, sizeof(st));
	st.reserved[0] = 1;
	ok_errno(ioctl(e.dev, TDI_DMABUF_IOCTL_GET_STATE, &st), EINVAL, "get state: reserved");

	/* GET_LAYOUT */
	lay = (struct tdi_dmabuf_get_layout){ .flags = 1, .count = 4, .ranges = (uintptr_t)r };
	ok_errno(ioctl(e.dev, TDI_DMABUF_IOCTL_GET_LAYOUT, &lay), EINVAL,
		 "get layout: unknown flags");
	lay = (struct tdi_dmabuf_get_layout){ .count = 4, .ranges = (uintptr_t)r, .reserved2 = 1 };
	ok_errno(ioctl(e.dev, TDI_DMABUF_IOCTL_GET_LAYOUT, &lay), EINVAL, "get layout: reserved");
	lay = (struct tdi_dmabuf_get_layout){ .count = 0, .ranges = (uintptr_t)r };
	ok_errno(ioctl(e.dev, TDI_DMABUF_IOCTL_GET_LAYOUT, &lay), ENOSPC, "get layout: count 0");
	ok(lay.count == 1, "get layout: ENOSPC tells the count needed (%u)", lay.count);
	lay = (struct tdi_dmabuf_get_layout){ .count = 4, .ranges = 16 };
	ok_errno(ioctl(e.dev, TDI_DMABUF_IOCTL_GET_LAYOUT, &lay), EFAULT, "get layout: bad array");

	/* GET_DMABUF */
	g = g0;
	g.bar = 6;
	ok_errno(get(e.dev, g), EINVAL, "get dmabuf: BAR 6");
	g = g0;
	g.bar = 0xffffffff;
	ok_errno(get(e.dev, g), EINVAL, "get dmabuf: BAR 0xffffffff");
	g = g0;
	g.bar = 1;
	ok_errno(get(e.dev, g), ENODEV, "get dmabuf: BAR 1 does not exist on edu");
	g = g0;
	g.kind = 2;
	ok_errno(get(e.dev, g), EINVAL, "get dmabuf: bad kind");
	g = g0;
	g.flags = 1;
	ok_errno(get(e.dev, g), EINVAL, "get dmabuf: unknown flags");
	g = g0;
	g.reserved = 1;
	ok_errno(get(e.dev, g), EINVAL, "get dmabuf: reserved");
	g = g0;
	g.reserved2 = 1;
	ok_errno(get(e.dev, g), EINVAL, "get dmabuf: reserved2");
	g = g0;
	g.owner = 1;
	ok_errno(get(e.dev, g), EINVAL, "get dmabuf: an owner token for a shared DMA-BUF");
	g = g0;
	g.size = 1;
	ok_errno(get(e.dev, g), EINVAL, "get dmabuf: output field set on input");
	g = g0;
	g.open_flags = O_RDWR | O_NONBLOCK;
	ok_errno(get(e.dev, g), EINVAL, "get dmabuf: unknown open flag");
	g = g0;
	g.open_flags = O_WRONLY;
	ok_errno(get(e.dev, g), EINVAL, "get dmabuf: O_WRONLY");
	g = g0;
	g.kind = TDI_DMABUF_KIND_PRIVATE;
	ok_errno(get(e.dev, g), EPERM, "get dmabuf: private before bind: EPERM");
	g = g0;
	g.open_flags = O_RDONLY;
	fd = get(e.dev, g);
	ok(fd >= 0, "get dmabuf: O_RDONLY shared accepted");

	/* mmap of the DMA-BUF: shared only, read-only for an O_RDONLY file. */
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	ok(m != MAP_FAILED && mmio_read32(m, 0) == EDU_ID,
	   "mmap: O_RDONLY DMA-BUF maps MAP_SHARED PROT_READ and reads edu's ID (%s)",
	   m == MAP_FAILED ? strerror(errno) : "mapped");
	if (m != MAP_FAILED)
		munmap(m, 4096);
	ok_errno(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED ?
		 -1 : 0, EACCES, "mmap: PROT_WRITE of an O_RDONLY DMA-BUF");
	ok_errno(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED ? -1 : 0,
		 EINVAL, "mmap: MAP_PRIVATE");

	/* GET_RANGES */
	gr = (struct tdi_dmabuf_get_ranges){ .dmabuf_fd = fd, .count = 4, .ranges = (uintptr_t)r,
					      .flags = 1 };
	ok_errno(ioctl(e.dev, TDI_DMABUF_IOCTL_GET_RANGES, &gr), EINVAL,
		 "get ranges: unknown flags");
	gr = (struct tdi_dmabuf_get_ranges){ .dmabuf_fd = fd, .count = 4, .ranges = (uintptr_t)r,
					      .reserved = 1 };
	ok_errno(ioctl(e.dev, TDI_DMABUF_IOCTL_GET_RANGES, &gr), EINVAL, "get ranges: reserved");
	gr = (struct tdi_dmabuf_get_ranges){ .dmabuf_fd = e.dev, .count = 4,
					      .ranges = (uintptr_t)r };
	ok_errno(ioctl(e.dev, TDI_DMABUF_IOCTL_GET_RANGES, &gr), EBADF,
		 "get ranges: not a DMA-BUF");
	gr = (struct tdi_dmabuf_get_ranges){ .dmabuf_fd = 999, .count = 4, .ranges = (uintptr_t)r };
	ok_errno(ioctl(e.dev, TDI_DMABUF_IOCTL_GET_RANGES, &gr), EBADF, "get ranges: closed fd");
	gr = (struct tdi_dmabuf_get_ranges){ .dmabuf_fd = fd, .count = 0, .ranges = (uintptr_t)r };
	ok_errno(ioctl(e.dev, TDI_DMABUF_IOCTL_GET_RANGES, &gr), ENOSPC, "get ranges: count 0");
	ok(gr.count == 1, "get ranges: ENOSPC tells the count needed (%u)", gr.count);

	/* bind twice */
	ok_errno(tdi_bind(e.dev), EBUSY, "bind while a DMA-BUF is open: EBUSY");
	close(fd);
	ok(tdi_bind(e.dev) == 0, "bind");
	ok_errno(tdi_bind(e.dev), EALREADY, "bind twice: EALREADY");
	ok(fake_count(e.bdf, "bind") == 1, "provider bound once");
	ok(tdi_unbind(e.dev) == 0, "unbind");
	ok_errno(tdi_unbind(e.dev), ENOTCONN, "unbind twice: ENOTCONN");
	fd = tdi_get_dmabuf(e.dev, 0, TDI_DMABUF_KIND_PRIVATE, NULL);
	ok_errno(fd, EPERM, "private DMA-BUF after unbind: EPERM");

	/* A report with shared ranges only: BAR0 has no private fragment. */
	ok(fake("clear %s", e.bdf) == 0 && fake("range %s 0 0x0 4 0x4", e.bdf) == 0 &&
	   fake("offset %s 0", e.bdf) == 0, "report with one shared range");
	ok(tdi_bind(e.dev) == 0, "bind");
	fd = tdi_get_dmabuf(e.dev, 0, TDI_DMABUF_KIND_PRIVATE, NULL);
	ok_errno(fd, ENOENT, "private DMA-BUF of a BAR without private pages: ENOENT");
	fd = tdi_get_dmabuf(e.dev, 0, TDI_DMABUF_KIND_SHARED, &g);
	ok(fd >= 0 && g.size == 0x4000, "shared DMA-BUF is the 16 KiB range (%#llx)",
	   (unsigned long long)g.size);
	close(fd);
	ok(tdi_unbind(e.dev) == 0, "unbind");
	ok(fake("del %s", e.bdf) == 0, "fake provider forgets %s", e.bdf);
out:
	tdi_teardown(&e, 1);
	return tap_done();
}

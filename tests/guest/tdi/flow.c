// SPDX-License-Identifier: GPL-2.0-only
/*
 * The seed-000 flow end to end on QEMU's edu device with the fake TDI
 * report provider:
 *  1. before bind, a shared DMA-BUF of BAR0 is exported and mmap()ed: it
 *     reads the edu ID register;
 *  2. bind is refused with EBUSY while that DMA-BUF is open; close it;
 *  3. bind: the state goes to run;
 *  4. shared and private DMA-BUFs of BAR0 are exported; their valid ranges
 *     follow the report (shared pages 0-15 merged from two ranges, private
 *     pages 16-31 and the MSI-X table page 32);
 *  5. the shared one is mmap()ed and reads the ID register;
 *  6. the private one cannot be mmap()ed (EACCES);
 *  7. unbind revokes both: the old mapping faults (SIGBUS), mmap fails
 *     (ENODEV), the state is unbound again.
 * "flow -v" narrates each step (make demo).
 */
#include "tdi_test.h"

int main(int argc, char **argv)
{
	struct tdi_dmabuf_range r[8];
	struct tdi_dmabuf_get_layout lay = { .count = 8, .ranges = (uintptr_t)r };
	struct tdi_dmabuf_get_dmabuf g;
	struct tdi_dmabuf_get_ranges gr;
	struct tdi_dmabuf_state st;
	struct tdi_env e;
	void *shared_map, *map;
	int shared, private, fdflags;
	__u32 val = 0;
	void *p;

	tdi_verbose = argc > 1 && !strcmp(argv[1], "-v");
	if (tdi_setup(&e, 1))
		goto out;
	ok(fake_setup_edu(e.bdf) == 0,
	   "fake provider serves %s (4 ranges, MMIO reporting offset 4 GiB)", e.bdf);

	say("step 1: before bind, export BAR0 as a shared DMA-BUF and mmap it");
	ok(tdi_state_of(e.dev) == TDI_DMABUF_STATE_UNBOUND, "initial state is unbound");
	shared = tdi_get_dmabuf(e.dev, 0, TDI_DMABUF_KIND_SHARED, &g);
	ok(shared >= 0 && g.size == EDU_BAR0_SIZE && g.nr_ranges == 1,
	   "unbound: shared DMA-BUF covers all of BAR0 (size %#llx, %u range)",
	   (unsigned long long)g.size, g.nr_ranges);
	fdflags = shared >= 0 ? fcntl(shared, F_GETFD) : -1;
	ok(fdflags >= 0 && (fdflags & FD_CLOEXEC),
	   "DMA-BUF fd is close-on-exec (F_GETFD %d)", fdflags);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, shared, 0);
	ok(p != MAP_FAILED, "mmap shared DMA-BUF before bind");
	if (p != MAP_FAILED) {
		map = p;
		int r = read32_or_sigbus(map, &val);

		ok(r == 0 && val == EDU_ID,
		   "edu ID register through the DMA-BUF mapping: %#x", val);
		say("read edu ID register 0x%08x at offset 0", val);
		munmap(p, 4096);
	}

	say("step 2: bind while the DMA-BUF is open must be refused");
	ok_errno(tdi_bind(e.dev), EBUSY, "bind refused with EBUSY while a DMA-BUF is open");
	ok(tdi_state_of(e.dev) == TDI_DMABUF_STATE_UNBOUND, "still unbound");
	close(shared);

	say("step 3: bind (provider locks the TDI, report validated, TDI started)");
	ok(tdi_bind(e.dev) == 0, "bind after closing the DMA-BUF");
	tdi_state(e.dev, &st);
	ok(st.state == TDI_DMABUF_STATE_RUN, "state is run (got %s)",
	   tdi_state_name(st.state));
	ok(fake_count(e.bdf, "bind") == 1 && fake_count(e.bdf, "report") == 1 &&
	   fake_count(e.bdf, "start") == 1, "provider saw bind, report, start once each");
	ioctl(e.dev, TDI_DMABUF_IOCTL_GET_LAYOUT, &lay);
	ok(lay.count == 3 && lay.state == TDI_DMABUF_STATE_RUN,
	   "layout of run has 3 fragments (got %u)", lay.count);
	ok(lay.count == 3 &&
	   r[0].bar == 0 && r[0].offset == 0 && r[0].length == 0x10000 && r[0].flags == 0 &&
	   r[1].offset == 0x10000 && r[1].length == 0x10000 &&
	   r[1].flags == TDI_DMABUF_RANGE_PRIVATE &&
	   r[2].offset == 0x20000 && r[2].length == 0x1000 &&
	   r[2].flags == (TDI_DMABUF_RANGE_PRIVATE | TDI_DMABUF_RANGE_MSIX_TABLE),
	   "layout: shared [0,64K) merged, private [64K,128K), private MSI-X [128K,132K)");
	for (unsigned int i = 0; i < lay.count && i < 8; i++)
		say("  layout: bar %u offset %#llx length %#llx %s%s", r[i].bar,
		    (unsigned long long)r[i].offset, (unsigned long long)r[i].length,
		    r[i].flags & TDI_DMABUF_RANGE_PRIVATE ? "private" : "shared",
		    r[i].flags & TDI_DMABUF_RANGE_MSIX_TABLE ? " msix-table" : "");

	say("step 4: export the shared and the private DMA-BUF of BAR0");
	shared = tdi_get_dmabuf(e.dev, 0, TDI_DMABUF_KIND_SHARED, &g);
	ok(shared >= 0 && g.size == 0x10000 && g.nr_ranges == 1,
	   "shared DMA-BUF: size %#llx, %u range", (unsigned long long)g.size, g.nr_ranges);
	private = tdi_get_dmabuf(e.dev, 0, TDI_DMABUF_KIND_PRIVATE, &g);
	ok(private >= 0 && g.size == 0x11000 && g.nr_ranges == 2,
	   "private DMA-BUF: size %#llx, %u ranges", (unsigned long long)g.size, g.nr_ranges);
	ok(tdi_ranges(e.dev, shared, r, 8, &gr) == 0 && gr.count == 1 &&
	   gr.kind == TDI_DMABUF_KIND_SHARED && !gr.revoked &&
	   r[0].offset == 0 && r[0].length == 0x10000 && r[0].dmabuf_offset == 0,
	   "valid ranges of the shared DMA-BUF: BAR0 [0,64K) at 0");
	ok(tdi_ranges(e.dev, private, r, 8, &gr) == 0 && gr.count == 2 &&
	   gr.kind == TDI_DMABUF_KIND_PRIVATE &&
	   r[0].offset == 0x10000 && r[0].dmabuf_offset == 0 &&
	   r[1].offset == 0x20000 && r[1].dmabuf_offset == 0x10000,
	   "valid ranges of the private DMA-BUF: BAR0 [64K,128K) at 0, [128K,132K) at 64K");
	ok(tdi_state(e.dev, &st) == 0 && st.nr_dmabufs == 2, "two DMA-BUFs open");

	say("step 5: mmap the shared DMA-BUF");
	p = mmap(NULL, 0x10000, PROT_READ, MAP_SHARED, shared, 0);
	shared_map = p == MAP_FAILED ? NULL : p;
	val = 0;
	if (shared_map && read32_or_sigbus(shared_map, &val))
		val = 0;
	ok(val == EDU_ID, "shared mapping reads the edu ID register (%#x)", val);

	say("step 6: the private DMA-BUF is never mmap-able by userspace");
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, private, 0);
	ok_errno(p == MAP_FAILED ? -1 : 0, EACCES, "mmap of the private DMA-BUF refused (EACCES)");
	if (p != MAP_FAILED)
		munmap(p, 4096);

	say("step 7: unbind revokes both DMA-BUFs");
	ok(tdi_unbind(e.dev) == 0, "unbind");
	tdi_state(e.dev, &st);
	ok(st.state == TDI_DMABUF_STATE_UNBOUND && st.cause == TDI_DMABUF_CAUSE_UNBIND &&
	   st.nr_revokes == 2, "state unbound, cause unbind, %u DMA-BUFs revoked",
	   st.nr_revokes);
	ok(tdi_ranges(e.dev, shared, r, 8, &gr) == 0 && gr.revoked == 1,
	   "shared DMA-BUF reports revoked");
	ok(tdi_ranges(e.dev, private, r, 8, &gr) == 0 && gr.revoked == 1,
	   "private DMA-BUF reports revoked");
	ok(shared_map && read32_or_sigbus(shared_map, &val) == -1,
	   "access through the old shared mapping faults (SIGBUS)");
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, shared, 0);
	ok_errno(p == MAP_FAILED ? -1 : 0, ENODEV,
		 "mmap of the revoked shared DMA-BUF fails (ENODEV)");
	ok(fake_count(e.bdf, "unbind") == 1, "provider saw one unbind");
	if (shared_map)
		munmap((void *)shared_map, 0x10000);
	close(shared);
	close(private);
	ok(tdi_state(e.dev, &st) == 0 && st.nr_dmabufs == 0, "no DMA-BUF left open");
	say("done: the VMM may bind again");
out:
	tdi_teardown(&e, 1);
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * tdi_bench - how the tdi_dmabuf calls scale with the number of ranges of
 * the TDI report, for `make bench` (scripts/bench.sh).
 *
 * QEMU's edu device is bound to tdi_dmabuf and served by the fake report
 * provider (the setup of the tdi tests, tests/guest/tdi/tdi_test.h). For
 * 1, 16 and 256 ranges of BAR0 in the report, shared and private in turn
 * (fewer if the provider or the BAR cannot hold that many: the largest
 * count that fits is used and printed) it times per call:
 *   - BIND and UNBIND (the report is fetched, validated and laid out;
 *     20 rounds),
 *   - GET_LAYOUT, GET_DMABUF (export and close of a shared DMA-BUF) and
 *     GET_RANGES,
 *   - the exporter's map path: the ranges cover the BAR whatever the
 *     count (ranges of 1 page at the largest count, of more pages at
 *     smaller ones; neighbours differ in kind, so none merge), the shared
 *     DMA-BUF (every other range) is mmap()ed and faulted page by page
 *     (the fault handler finds the fragment of each page), per page; and,
 *     if DRM vgem is in the guest, its
 *     PRIME import (a static importer, which the exporter refuses at
 *     attach: the refusal is printed instead).
 * Then the ratios t(16)/t(1) and t(max)/t(16) of each: linear growth in
 * the count shows as a ratio near the count's ratio.
 * Prints "bench: key value" lines; checks only that the steps work (TAP).
 */
/* The shared test header's signal handler ignores its argument (-Wextra). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "tdi_test.h"
#include "vgem.h"
#pragma GCC diagnostic pop
#include <errno.h>
#include <time.h>

#define PAGE		4096u
#define WANT_MAX	256u
#define CALLS		300
#define BIND_ROUNDS	20
#define MAP_ROUNDS	20
#define LAYOUT_CAP	4096u

enum metric { M_BIND, M_UNBIND, M_LAYOUT, M_DMABUF, M_RANGES, M_FAULT, M_IMPORT, M_NR };

static const char * const metric_names[M_NR] = {
	[M_BIND] = "bind",
	[M_UNBIND] = "unbind",
	[M_LAYOUT] = "get_layout",
	[M_DMABUF] = "get_dmabuf",
	[M_RANGES] = "get_ranges",
	[M_FAULT] = "mmap_fault_per_page",
	[M_IMPORT] = "vgem_import",
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- DRM vgem, a real (static) importer, as in the stress test ---- */

/* Import and release @dmabuf once; 0 or -1 with errno. */
static int vgem_import(int vgem, int dmabuf)
{
	struct drm_prime_handle_arg h = { .fd = dmabuf };
	struct drm_gem_close_arg c = { 0 };

	if (ioctl(vgem, DRM_IOC_PRIME_FD_TO_HANDLE, &h))
		return -1;
	c.handle = h.handle;
	ioctl(vgem, DRM_IOC_GEM_CLOSE, &c);
	return 0;
}

/* ---- the report ---- */

/* Shared (IS_NON_TEE_MEM, 0x4) and private ranges in turn, the first shared. */
#define RANGE_ATTRS(i)	((i) % 2 ? 0 : 0x4)
#define SHARED_OF(n)	(((n) + 1) / 2)

/* @n report ranges of @pages pages from the start of BAR0, no gap. */
static int configure(const char *bdf, unsigned int n, unsigned int pages)
{
	unsigned int i;

	if (fake("clear %s", bdf))
		return -1;
	for (i = 0; i < n; i++)
		if (fake("range %s 0 %#x %u %#x", bdf, i * pages * PAGE, pages, RANGE_ATTRS(i)))
			return -1;
	return 0;
}

/* How many one-page ranges the provider accepts (up to @limit). */
static unsigned int provider_max_ranges(const char *bdf, unsigned int limit, int *err)
{
	unsigned int n = 0;

	*err = 0;
	fake("clear %s", bdf);
	while (n < limit) {
		if (fake("range %s 0 %#x 1 %#x", bdf, n * PAGE, RANGE_ATTRS(n))) {
			*err = errno;
			break;
		}
		n++;
	}
	fake("clear %s", bdf);
	return n;
}

/* Per-call seconds of each metric at one count; -1 if not measured. */
static int bench_count(struct tdi_env *e, unsigned int n, unsigned int pages, int vgem,
		       double *t, char *import_err, size_t errlen)
{
	static struct tdi_dmabuf_range r[LAYOUT_CAP];
	struct tdi_dmabuf_get_layout lay;
	struct tdi_dmabuf_get_ranges gr;
	struct tdi_dmabuf_get_dmabuf g;
	unsigned int i, k, size = SHARED_OF(n) * pages * PAGE;
	int buf, fd, ret;
	double t0;
	char *m;

	for (i = 0; i < M_NR; i++)
		t[i] = -1;
	if (!ok(configure(e->bdf, n, pages) == 0, "%u ranges of %u pages configured", n, pages))
		return -1;
	t[M_BIND] = 0;
	t[M_UNBIND] = 0;
	for (k = 0; k < BIND_ROUNDS; k++) {
		t0 = now();
		ret = tdi_bind(e->dev);
		t[M_BIND] += now() - t0;
		if (ret || k == BIND_ROUNDS - 1)
			break;
		t0 = now();
		ret = tdi_unbind(e->dev);
		t[M_UNBIND] += now() - t0;
		if (ret)
			break;
	}
	t[M_BIND] /= BIND_ROUNDS;
	t[M_UNBIND] /= BIND_ROUNDS - 1;
	if (!ok(ret == 0 && k == BIND_ROUNDS - 1 && tdi_state_of(e->dev) == TDI_DMABUF_STATE_RUN,
		"%d binds and unbinds with %u ranges: %s", BIND_ROUNDS, n,
		ret ? strerror(errno) : "run"))
		return -1;

	t0 = now();
	for (k = 0; k < CALLS; k++) {
		memset(&lay, 0, sizeof(lay));
		lay.count = LAYOUT_CAP;
		lay.ranges = (uintptr_t)r;
		ret |= ioctl(e->dev, TDI_DMABUF_IOCTL_GET_LAYOUT, &lay);
	}
	t[M_LAYOUT] = (now() - t0) / CALLS;
	ok(ret == 0 && lay.count == n, "GET_LAYOUT: %u fragments", lay.count);

	t0 = now();
	for (k = 0; k < CALLS; k++) {
		fd = tdi_get_dmabuf(e->dev, 0, TDI_DMABUF_KIND_SHARED, &g);
		if (fd < 0)
			break;
		close(fd);
	}
	t[M_DMABUF] = (now() - t0) / CALLS;
	ok(k == CALLS && g.nr_ranges == SHARED_OF(n) && g.size == size,
	   "GET_DMABUF (and close): %u fragments, %llu bytes", g.nr_ranges,
	   (unsigned long long)g.size);

	buf = tdi_get_dmabuf(e->dev, 0, TDI_DMABUF_KIND_SHARED, NULL);
	t0 = now();
	for (k = 0; k < CALLS; k++)
		ret |= tdi_ranges(e->dev, buf, r, LAYOUT_CAP, &gr);
	t[M_RANGES] = (now() - t0) / CALLS;
	ok(buf >= 0 && ret == 0 && gr.count == SHARED_OF(n), "GET_RANGES: %u fragments",
	   gr.count);

	t0 = now();
	for (k = 0; k < MAP_ROUNDS; k++) {
		m = mmap(NULL, size, PROT_READ, MAP_SHARED, buf, 0);
		if (m == MAP_FAILED)
			break;
		for (i = 0; i < size; i += PAGE)
			(void)mmio_read32(m, i);
		munmap(m, size);
	}
	t[M_FAULT] = (now() - t0) / ((double)MAP_ROUNDS * (size / PAGE));
	if (!ok(k == MAP_ROUNDS, "mmap of the DMA-BUF, every page faulted"))
		t[M_FAULT] = -1;

	if (vgem >= 0) {
		t0 = now();
		for (k = 0; k < CALLS; k++)
			if (vgem_import(vgem, buf))
				break;
		if (k == CALLS)
			t[M_IMPORT] = (now() - t0) / CALLS;
		else
			snprintf(import_err, errlen, "vgem PRIME import refused: %s",
				 strerror(errno));
	} else {
		snprintf(import_err, errlen, "no DRM vgem device in this guest");
	}
	close(buf);

	ok(tdi_unbind(e->dev) == 0, "unbind with %u ranges", n);
	return 0;
}

int main(void)
{
	unsigned int counts[3] = { 1, 16, WANT_MAX }, nc = 3, bar_pages, maxr, span, i, j;
	double t[3][M_NR];
	char import_err[128] = "";
	struct tdi_dmabuf_get_dmabuf g;
	struct tdi_env e;
	int fd, vgem, err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (tdi_setup(&e, 1))
		return tap_done();
	if (!ok(fake("add %s", e.bdf) == 0, "fake provider serves %s", e.bdf))
		goto out;

	/* Unbound, the shared DMA-BUF of BAR0 is the whole BAR. */
	fd = tdi_get_dmabuf(e.dev, 0, TDI_DMABUF_KIND_SHARED, &g);
	if (!ok(fd >= 0 && g.size >= 2 * PAGE, "BAR0 is %llu bytes", (unsigned long long)g.size))
		goto out;
	close(fd);
	bar_pages = g.size / PAGE;
	/* Ranges of one page: at most one per page of the BAR. */
	span = bar_pages;
	maxr = provider_max_ranges(e.bdf, WANT_MAX, &err);
	printf("bench: tdi_bar0_pages %u\n", bar_pages);
	if (maxr < WANT_MAX)
		printf("bench: tdi_max_ranges %u (%u requested; %s: %s)\n", maxr, WANT_MAX,
		       "the fake provider refuses more", strerror(err));
	if (span < maxr) {
		printf("bench: tdi_max_ranges %u (%u requested; %s)\n", span, WANT_MAX,
		       "BAR0 holds no more one-page ranges");
		maxr = span;
	}
	if (maxr < WANT_MAX)
		counts[2] = maxr;
	while (nc > 1 && counts[nc - 1] <= counts[nc - 2])
		nc--;
	if (!ok(maxr >= 1, "fake provider accepts %u ranges", maxr))
		goto out;
	vgem = vgem_open();

	/* A first round, not reported: the first calls pay for cold caches. */
	if (bench_count(&e, counts[nc - 1], 1, vgem, t[0], import_err, sizeof(import_err)))
		goto out;
	for (i = 0; i < nc; i++)
		if (bench_count(&e, counts[i], counts[nc - 1] / counts[i], vgem, t[i],
				import_err, sizeof(import_err)))
			goto out;
	for (j = 0; j < M_NR; j++) {
		if (t[0][j] < 0) {
			if (j == M_IMPORT)
				printf("bench: tdi_vgem_import skipped (%s; %s)\n", import_err,
				       "the map path is timed through mmap faults");
			continue;
		}
		for (i = 0; i < nc; i++)
			printf("bench: tdi_%s_r%u_us %.2f\n", metric_names[j], counts[i],
			       t[i][j] * 1e6);
		for (i = 1; i < nc; i++)
			printf("bench: tdi_%s_ratio_r%u_vs_r%u %.2f (count ratio %.0f)\n",
			       metric_names[j], counts[i], counts[i - 1],
			       t[i - 1][j] > 0 ? t[i][j] / t[i - 1][j] : 0,
			       (double)counts[i] / counts[i - 1]);
	}
	if (vgem >= 0)
		close(vgem);
out:
	tdi_teardown(&e, 1);
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * gmem_bench - the numbers behind `make bench` (scripts/bench.sh), measured
 * in one guest boot:
 *   - touch anchors: faults and time to touch 1 GiB (one write per 4 KiB
 *     page) of a cold memfd, of a memfd after fallocate() (pure fault cost),
 *     of 2 MiB hugetlb pages, of anonymous THP memory, and the bandwidth of
 *     memset() (and of "rep stosq", what the kernel's memset runs on a CPU
 *     without ERMS) over an already faulted buffer; then the same touch of
 *     a gmem file and its time ratio to each anchor,
 *   - time to convert 2 MiB vs 1 GiB to private and back: mapped with
 *     4 KiB entries (the default), with huge entries (mmap_huge=1), and
 *     not mapped at all (what is left without the zap),
 *   - metadata bytes per GiB managed (debugfs): idle, with a 1 GiB file
 *     in use (the memory-proportional part, limit 64 KiB per GiB), and
 *     the extra cost per attribute range once 1000 single-page
 *     conversions fragmented a file (it grows with ranges, not memory),
 *   - zeroing: the pool zeroes memory when it comes back, so allocation
 *     (fallocate) is cheap and the price is paid by punch and by the close
 *     of the last reference; bytes per second of both for 1 GiB and
 *     256 MiB, and their ratio to memset,
 *   - latency while a 1 GiB punch zeroes: the worst fault on a fresh page
 *     of another file, and the worst fault and GET_ATTR on the punched
 *     file outside the punched range, against the same probes without a
 *     punch.
 * Prints "bench: key value" lines (or "bench: key skipped (reason)"); checks
 * nothing except that the steps work (TAP lines), performance is judged by
 * the reader.
 */
/* The shared test header's signal handler ignores its argument (-Wextra). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "gmem_test.h"
#pragma GCC diagnostic pop
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/falloc.h>

#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB	(21U << 26)
#endif

#define HUGE_2M		(2 * MIB)
#define HUGETLB_PAGES	(GIB / HUGE_2M)
#define MEMSET_BUF	(256 * MIB)
#define MEMSET_PASSES	4

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt + ru.ru_majflt;
}

static double touch(uint8_t *p, uint64_t size, long *faults)
{
	long f0 = minflt();
	double t0 = now();
	uint64_t i;

	for (i = 0; i < size; i += 4 * KIB)
		p[i] = 1;
	*faults = minflt() - f0;
	return now() - t0;
}

#define CONVERT_ROUNDS	3

/*
 * Seconds of a conversion of [@off, @off + @size) to private and back,
 * halved; the best of CONVERT_ROUNDS rounds, the range's pages written
 * through @map (if not NULL) before each so that the conversion has them
 * to zap. -1 if a conversion failed.
 */
static double convert_time(int fd, uint8_t *map, uint64_t off, uint64_t size)
{
	double best = -1;
	uint64_t i;
	int r;

	for (r = 0; r < CONVERT_ROUNDS; r++) {
		double t0, t;

		for (i = 0; map && i < size; i += 4096)
			map[off + i] = r;
		t0 = now();
		if (gmem_set_attr(fd, off, size, GMEM_PFNPOOL_ATTR_PRIVATE, NULL) ||
		    gmem_set_attr(fd, off, size, GMEM_PFNPOOL_ATTR_SHARED, NULL))
			return -1;
		t = (now() - t0) / 2;
		if (best < 0 || t < best)
			best = t;
	}
	return best;
}

/* "key N kB" of /proc/meminfo, or -1. */
static long long meminfo_kb(const char *key)
{
	return debugfs_value("/proc/meminfo", key);
}

/* First line of a small file into @buf; 0 or -1. */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	int ret = -1;

	if (!f)
		return -1;
	if (fgets(buf, len, f)) {
		buf[strcspn(buf, "\n")] = 0;
		ret = 0;
	}
	fclose(f);
	return ret;
}

static int write_str(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -1;
	ret = fputs(val, f) < 0 ? -1 : 0;
	if (fclose(f))
		ret = -1;
	return ret;
}

#define TESTUSER_CTL	"/sys/kernel/debug/gmem_pfnpool_testuser/ctl"

/*
 * A vetoed conversion of the mapped GiB: the test user (registered after
 * the mappings) refuses, so the engine asks every user, aborts them and
 * changes nothing; the GiB then re-reads without a fault (nothing was
 * zapped). Best of CONVERT_ROUNDS, next to the committed one's time.
 */
static void convert_vetoed(int fd, uint8_t *map, uint64_t size, double committed)
{
	double best = -1;
	char cmd[64];
	long faults = -1;
	int r, ret = 0;

	if (system("modload gmem_pfnpool_testuser") != 0) {
		printf("bench: convert_1g_vetoed_seconds skipped (no test user module)\n");
		return;
	}
	snprintf(cmd, sizeof(cmd), "attach %d", fd);
	if (write_str(TESTUSER_CTL, cmd) || write_str(TESTUSER_CTL, "veto 1")) {
		printf("bench: convert_1g_vetoed_seconds skipped (test user refused)\n");
		goto out;
	}
	touch(map, size, &faults);
	for (r = 0; r < CONVERT_ROUNDS && !ret; r++) {
		double t0 = now(), t;

		ret = gmem_set_attr(fd, 0, size, GMEM_PFNPOOL_ATTR_PRIVATE, NULL) == -1 &&
		      errno == EBUSY ? 0 : -1;
		t = now() - t0;
		if (best < 0 || t < best)
			best = t;
	}
	ok(!ret, "a vetoed conversion fails with EBUSY");
	touch(map, size, &faults);
	ok(faults == 0, "after vetoed conversions the GiB re-reads without a fault (%ld)",
	   faults);
	printf("bench: convert_1g_vetoed_seconds %.6f\n", best);
	printf("bench: convert_1g_vetoed_vs_committed_ratio %.3f\n",
	       committed > 0 ? best / committed : 0);
	printf("bench: convert_1g_vetoed_refaults %ld\n", faults);
	write_str(TESTUSER_CTL, "detach");
out:
	if (system("modload -r gmem_pfnpool_testuser") != 0)
		printf("# could not unload gmem_pfnpool_testuser\n");
}

/* A touch anchor: what it took, or why it was not measured. */
struct anchor {
	const char *key;
	double secs;
	long faults;
	char skip[160];
};

static void anchor_print(const struct anchor *a)
{
	if (a->skip[0]) {
		printf("bench: %s_touch_1g skipped (%s)\n", a->key, a->skip);
		return;
	}
	printf("bench: %s_touch_1g_faults %ld\n", a->key, a->faults);
	printf("bench: %s_touch_1g_seconds %.3f\n", a->key, a->secs);
}

/* memfd of 1 GiB, cold (ftruncate) or allocated first (fallocate). */
static void anchor_memfd(struct anchor *a, int allocate, double *alloc_secs)
{
	int fd = memfd_create("bench", MFD_CLOEXEC);
	double t0;
	uint8_t *m;
	int ret;

	if (fd < 0) {
		snprintf(a->skip, sizeof(a->skip), "memfd_create: %s", strerror(errno));
		return;
	}
	t0 = now();
	ret = allocate ? fallocate(fd, 0, 0, GIB) : ftruncate(fd, GIB);
	if (alloc_secs)
		*alloc_secs = now() - t0;
	m = ret ? MAP_FAILED : mmap(NULL, GIB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		snprintf(a->skip, sizeof(a->skip), "%s: %s",
			 ret ? (allocate ? "fallocate" : "ftruncate") : "mmap", strerror(errno));
	} else {
		a->secs = touch(m, GIB, &a->faults);
		munmap(m, GIB);
	}
	close(fd);
}

/* 1 GiB of 2 MiB hugetlb pages through memfd_create(MFD_HUGETLB). */
static void anchor_hugetlb(struct anchor *a)
{
	const char *nr = "/proc/sys/vm/nr_hugepages";
	char old[32], want[32], got[32];
	long long hpsz = meminfo_kb("Hugepagesize:");
	uint8_t *m = MAP_FAILED;
	int fd = -1;

	if (access(nr, F_OK) || hpsz <= 0) {
		snprintf(a->skip, sizeof(a->skip), "kernel has no hugetlbfs");
		return;
	}
	if (hpsz * KIB != HUGE_2M) {
		snprintf(a->skip, sizeof(a->skip), "default huge page size is %lld kB", hpsz);
		return;
	}
	if (read_line(nr, old, sizeof(old)))
		snprintf(old, sizeof(old), "0");
	snprintf(want, sizeof(want), "%llu", (unsigned long long)HUGETLB_PAGES);
	if (write_str(nr, want) || read_line(nr, got, sizeof(got)) ||
	    strtoull(got, NULL, 10) < HUGETLB_PAGES) {
		snprintf(a->skip, sizeof(a->skip), "reserved %s of %s huge pages",
			 read_line(nr, got, sizeof(got)) ? "?" : got, want);
		goto out;
	}
	fd = memfd_create("bench-huge", MFD_CLOEXEC | MFD_HUGETLB | MFD_HUGE_2MB);
	if (fd < 0 || ftruncate(fd, GIB)) {
		snprintf(a->skip, sizeof(a->skip), "memfd_create(MFD_HUGETLB): %s",
			 strerror(errno));
		goto out;
	}
	m = mmap(NULL, GIB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		snprintf(a->skip, sizeof(a->skip), "mmap: %s", strerror(errno));
		goto out;
	}
	a->secs = touch(m, GIB, &a->faults);
	munmap(m, GIB);
out:
	if (fd >= 0)
		close(fd);
	write_str(nr, old);
}

static char thp_mode[128] = "?";
static double thp_huge_pct = -1;

/* 1 GiB of anonymous memory, 2 MiB aligned, madvise(MADV_HUGEPAGE). */
static void anchor_thp(struct anchor *a)
{
	const char *en = "/sys/kernel/mm/transparent_hugepage/enabled";
	char mode[128] = "", *b, *e;
	long long huge0, huge1;
	uint8_t *res, *p;

	if (read_line(en, mode, sizeof(mode))) {
		snprintf(a->skip, sizeof(a->skip), "kernel has no transparent huge pages");
		return;
	}
	b = strchr(mode, '[');
	e = b ? strchr(b, ']') : NULL;
	if (b && e) {
		*e = 0;
		memmove(mode, b + 1, strlen(b + 1) + 1);
	}
	snprintf(thp_mode, sizeof(thp_mode), "%s", mode);
	if (!strcmp(mode, "never")) {
		snprintf(a->skip, sizeof(a->skip), "transparent huge pages disabled (never)");
		return;
	}
	res = mmap(NULL, GIB + HUGE_2M, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED) {
		snprintf(a->skip, sizeof(a->skip), "mmap: %s", strerror(errno));
		return;
	}
	p = (uint8_t *)(((uintptr_t)res + HUGE_2M - 1) & ~(uintptr_t)(HUGE_2M - 1));
	if (madvise(p, GIB, MADV_HUGEPAGE)) {
		snprintf(a->skip, sizeof(a->skip), "madvise(MADV_HUGEPAGE): %s", strerror(errno));
		munmap(res, GIB + HUGE_2M);
		return;
	}
	huge0 = meminfo_kb("AnonHugePages:");
	a->secs = touch(p, GIB, &a->faults);
	huge1 = meminfo_kb("AnonHugePages:");
	if (huge0 >= 0 && huge1 >= 0)
		thp_huge_pct = (huge1 - huge0) * KIB * 100.0 / GIB;
	munmap(res, GIB + HUGE_2M);
}

/* What the kernel's memset runs on x86 CPUs without ERMS. */
static void rep_stosq(void *p, uint64_t size)
{
	uint64_t n = size / 8;

	asm volatile("rep stosq" : "+D"(p), "+c"(n) : "a"(0UL) : "memory");
}

/* Bytes per second of zeroing an already faulted buffer. */
static double zero_bandwidth(uint8_t *buf, int use_rep_stos)
{
	double t0;
	int i;

	t0 = now();
	for (i = 0; i < MEMSET_PASSES; i++) {
		if (use_rep_stos)
			rep_stosq(buf, MEMSET_BUF);
		else
			memset(buf, 0, MEMSET_BUF);
		asm volatile("" : : "r"(buf) : "memory");
	}
	return ratio((double)MEMSET_BUF * MEMSET_PASSES, now() - t0);
}

/* ---- zeroing: punch and close of an allocated, touched file ---- */

/* Pool bytes in use back to @base (release may be deferred); seconds since @t0. */
static double wait_used(long long base, double t0)
{
	while (pool_value("used") > base && now() - t0 < 60)
		usleep(200);
	return now() - t0;
}

/* Allocate all of @fd (fallocate) and write every page; seconds of the fallocate. */
static double fill(int fd, uint64_t size)
{
	double t0 = now(), t;
	long faults;
	uint8_t *p;

	if (fallocate(fd, 0, 0, size))
		return -1;
	t = now() - t0;
	p = gmem_map(fd, size, 0, size >= GIB ? GIB : HUGE_2M);
	if (p == MAP_FAILED)
		return -1;
	touch(p, size, &faults);
	munmap(p, size);
	return t;
}

/* Returns the seconds of the punch, or -1. */
static double zero_bench(int dev, uint64_t size, const char *name, double memset_bw,
			 double stos_bw)
{
	long long base = pool_value("used");
	double talloc, tpunch, tclose, tfree, t0;
	int fd, ret;

	fd = gmem_create(dev, size, 0);
	talloc = fd >= 0 ? fill(fd, size) : -1;
	if (!ok(talloc >= 0, "%s gmem file allocated and touched", name)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	t0 = now();
	ret = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, size);
	tpunch = now() - t0;
	ok(ret == 0 && pool_value("used") == base,
	   "punch of %s returns it to the pool", name);

	ok(fill(fd, size) >= 0, "%s allocated and touched again", name);
	t0 = now();
	close(fd);
	tclose = now() - t0;
	tfree = wait_used(base, t0);
	ok(pool_value("used") == base, "close of %s returns it to the pool", name);

	printf("bench: gmem_fallocate_%s_seconds %.6f\n", name, talloc);
	printf("bench: zero_punch_%s_seconds %.6f\n", name, tpunch);
	printf("bench: zero_punch_%s_bytes_per_second %.0f\n", name, ratio(size, tpunch));
	printf("bench: zero_punch_%s_vs_fallocate_time_ratio %.1f\n", name,
	       ratio(tpunch, talloc));
	printf("bench: zero_close_%s_seconds %.6f (close() returned)\n", name, tclose);
	printf("bench: zero_close_%s_until_free_seconds %.6f\n", name, tfree);
	printf("bench: zero_close_%s_bytes_per_second %.0f\n", name, ratio(size, tfree));
	printf("bench: zero_rate_vs_memset_punch_%s %.2f (target >= 0.8)\n", name,
	       ratio(ratio(size, tpunch), memset_bw));
	printf("bench: zero_rate_vs_memset_close_%s %.2f (target >= 0.8)\n", name,
	       ratio(ratio(size, tfree), memset_bw));
	printf("bench: zero_rate_vs_rep_stosq_punch_%s %.2f\n", name,
	       ratio(ratio(size, tpunch), stos_bw));
	return ret ? -1 : tpunch;
}

/* ---- latency of other operations while a punch zeroes ---- */

enum probe_kind { PROBE_FAULT_OTHER, PROBE_FAULT_SAME, PROBE_GET_ATTR, PROBE_KINDS };

static const char * const probe_names[PROBE_KINDS] = {
	[PROBE_FAULT_OTHER] = "fault_latency",
	[PROBE_FAULT_SAME] = "fault_latency_same_file",
	[PROBE_GET_ATTR] = "get_attr_latency_same_file",
};

#define PROBE_MAX	16384

struct probe_rec {
	double start, secs;
	int kind, faulted;
};

/*
 * Pages never touched before, of one file: each probe maps one of them
 * alone (4 KiB VMA, so no fault maps more than the page) and writes it.
 */
struct probe_pages {
	int fd;
	uint64_t off, end;
};

/*
 * One prober process per kind, so that a blocked probe delays no other (a
 * fault waiting in one thread would hold up another thread's mmap() on the
 * mm's lock); the context is shared memory.
 */
struct probe_ctx {
	int fd_same;
	uint64_t attr_off;
	struct probe_pages other, same;
	int stop;
	unsigned int nr[PROBE_KINDS];
	struct probe_rec rec[PROBE_KINDS][PROBE_MAX];
};

struct prober {
	struct probe_ctx *c;
	int kind;
	pid_t pid;
};

static long thread_minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_minflt + ru.ru_majflt;
}

static void probe_add(struct probe_ctx *c, int kind, double t0, double t, int faulted)
{
	if (c->nr[kind] < PROBE_MAX)
		c->rec[kind][c->nr[kind]++] = (struct probe_rec){ t0, t - t0, kind, faulted };
}

/* Fault a fresh page of @pp; only the write is timed. */
static void probe_fault(struct probe_ctx *c, struct probe_pages *pp, int kind)
{
	long f0;
	double t0, t;
	uint8_t *m;

	if (pp->off >= pp->end)
		return;
	m = mmap(NULL, 4 * KIB, PROT_READ | PROT_WRITE, MAP_SHARED, pp->fd, pp->off);
	pp->off += 4 * KIB;
	if (m == MAP_FAILED)
		return;
	f0 = thread_minflt();
	t0 = now();
	__atomic_store_n(m, 1, __ATOMIC_RELAXED);
	t = now();
	probe_add(c, kind, t0, t, thread_minflt() > f0);
	munmap(m, 4 * KIB);
}

static void probe_loop(struct prober *pr)
{
	struct probe_ctx *c = pr->c;
	double t0;

	while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED) && c->nr[pr->kind] < PROBE_MAX) {
		switch (pr->kind) {
		case PROBE_FAULT_OTHER:
			probe_fault(c, &c->other, pr->kind);
			break;
		case PROBE_FAULT_SAME:
			probe_fault(c, &c->same, pr->kind);
			break;
		default:
			t0 = now();
			gmem_get_attr(c->fd_same, c->attr_off, NULL, NULL);
			probe_add(c, pr->kind, t0, now(), 0);
		}
		usleep(1000);
	}
}

static void probes_start(struct probe_ctx *c, struct prober *pr)
{
	int i;

	__atomic_store_n(&c->stop, 0, __ATOMIC_RELAXED);
	for (i = 0; i < PROBE_KINDS; i++) {
		c->nr[i] = 0;
		pr[i] = (struct prober){ .c = c, .kind = i };
		pr[i].pid = fork();
		if (!pr[i].pid) {
			probe_loop(&pr[i]);
			_exit(0);
		}
	}
}

static void probes_stop(struct probe_ctx *c, struct prober *pr)
{
	int i;

	__atomic_store_n(&c->stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < PROBE_KINDS; i++)
		if (pr[i].pid > 0)
			waitpid(pr[i].pid, NULL, 0);
}

struct probe_sum {
	double max;
	long n, faulted;
};

/* Worst latency and counts per kind of the probes overlapping [from, to]. */
static void probe_stats(struct probe_ctx *c, double from, double to, struct probe_sum *sum)
{
	unsigned int i, j;

	memset(sum, 0, PROBE_KINDS * sizeof(*sum));
	for (j = 0; j < PROBE_KINDS; j++)
		for (i = 0; i < c->nr[j]; i++) {
			struct probe_rec *r = &c->rec[j][i];
			struct probe_sum *k = &sum[j];

			if (r->start > to || r->start + r->secs < from)
				continue;
			k->n++;
			k->faulted += r->faulted;
			if (r->secs > k->max)
				k->max = r->secs;
		}
}

static void probe_print(const char *name, const char *when, const struct probe_sum *s,
			int fault)
{
	printf("bench: %s_%s_ms %.3f (max of %ld", name, when, s->max * 1e3, s->n);
	if (fault)
		printf(", %ld faulted", s->faulted);
	printf(")\n");
}

/*
 * A file of 1 GiB + 16 MiB: its first GiB allocated and touched, then
 * punched while three processes fault fresh pages of another file (32 MiB),
 * fault fresh pages of the punched file's last 16 MiB, and read the
 * attribute there (GET_ATTR), each every millisecond or so.
 * The same probes run first without a punch for the baseline.
 */
static void punch_latency(int dev)
{
	struct probe_sum idle[PROBE_KINDS], busy[PROBE_KINDS];
	uint64_t tail = 16 * MIB, other = 32 * MIB;
	double t0, t1, idle0, idle1;
	struct prober pr[PROBE_KINDS];
	struct probe_ctx *c;
	int a, b, ret, i;

	c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED)
		c = NULL;
	a = gmem_create(dev, GIB + tail, 0);
	b = gmem_create(dev, other, 0);
	if (!ok(c && a >= 0 && b >= 0, "punch latency: files created"))
		goto out;
	c->fd_same = a;
	c->attr_off = GIB + tail / 2;
	c->other = (struct probe_pages){ b, 0, other };
	c->same = (struct probe_pages){ a, GIB, GIB + tail };
	if (!ok(fill(a, GIB) >= 0, "punch latency: 1 GiB allocated and touched"))
		goto out;

	/* Baseline: the probes alone, about as long as the punch below. */
	probes_start(c, pr);
	idle0 = now();
	usleep(300 * 1000);
	idle1 = now();
	probes_stop(c, pr);
	probe_stats(c, idle0, idle1, idle);

	probes_start(c, pr);
	usleep(20 * 1000);
	t0 = now();
	ret = fallocate(a, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, GIB);
	t1 = now();
	usleep(20 * 1000);
	probes_stop(c, pr);
	ok(ret == 0, "punch of 1 GiB with probes running");
	probe_stats(c, t0, t1, busy);

	printf("bench: punch_1g_with_probes_seconds %.6f\n", t1 - t0);
	for (i = 0; i < PROBE_KINDS; i++) {
		probe_print(probe_names[i], "during_punch", &busy[i], i != PROBE_GET_ATTR);
		probe_print(probe_names[i], "idle", &idle[i], i != PROBE_GET_ATTR);
		printf("bench: %s_punch_vs_idle_ratio %.1f\n", probe_names[i],
		       ratio(busy[i].max, idle[i].max));
	}
out:
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	if (c)
		munmap(c, sizeof(*c));
}

int main(void)
{
	struct anchor cold = { .key = "memfd" }, falloc = { .key = "memfd_fallocated" };
	struct anchor huge = { .key = "hugetlb" }, thp = { .key = "thp" };
	struct anchor *anchors[] = { &cold, &falloc, &huge, &thp };
	double gt, c2m, c1g, memset_bw, stos_bw, punch, falloc_secs = 0;
	long long meta_1g, meta_frag;
	uint64_t size = GIB, i;
	int dev, fd, small;
	uint8_t *p, *buf;
	long gfaults;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ok(gmem_load() == 0, "load gmem_pfnpool " GMEM_RANGES);
	printf("bench: metadata_bytes_per_gib_idle %lld\n",
	       pool_value("metadata_bytes_per_gib"));

	/* Anchors; hugetlb first, while guest memory is least fragmented. */
	anchor_hugetlb(&huge);
	anchor_memfd(&cold, 0, NULL);
	anchor_memfd(&falloc, 1, &falloc_secs);
	anchor_thp(&thp);
	buf = mmap(NULL, MEMSET_BUF, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ok(buf != MAP_FAILED, "memset buffer of 256 MiB");
	if (buf == MAP_FAILED)
		return tap_done();
	memset(buf, 1, MEMSET_BUF);
	memset_bw = zero_bandwidth(buf, 0);
	stos_bw = zero_bandwidth(buf, 1);
	munmap(buf, MEMSET_BUF);

	/* gmem */
	dev = gmem_dev();
	fd = gmem_create(dev, size, 0);
	ok(fd >= 0, "gmem file of 1 GiB");
	p = gmem_map(fd, size, 0, GIB);
	ok(p != MAP_FAILED, "map it 1 GiB-aligned");
	if (p == MAP_FAILED)
		return tap_done();
	gt = touch(p, size, &gfaults);
	for (i = 0; i < ARRAY_SIZE(anchors); i++)
		anchor_print(anchors[i]);
	printf("bench: thp_mode %s\n", thp_mode);
	printf("bench: thp_touch_1g_huge_pct %.0f (of the touched GiB, AnonHugePages)\n",
	       thp_huge_pct);
	printf("bench: memfd_fallocate_1g_seconds %.3f\n", falloc_secs);
	printf("bench: memset_bytes_per_second %.0f\n", memset_bw);
	printf("bench: memset_1g_seconds %.3f\n", ratio(GIB, memset_bw));
	printf("bench: rep_stosq_bytes_per_second %.0f\n", stos_bw);
	printf("bench: gmem_touch_1g_faults %ld\n", gfaults);
	printf("bench: gmem_touch_1g_module_faults %llu\n",
	       (unsigned long long)gmem_stats(fd).faults);
	printf("bench: gmem_touch_1g_seconds %.3f (includes taking 1 GiB from the pool)\n",
	       gt);
	for (i = 0; i < ARRAY_SIZE(anchors); i++) {
		if (anchors[i]->skip[0])
			continue;
		printf("bench: gmem_vs_%s_time_ratio %.3f\n", anchors[i]->key,
		       ratio(gt, anchors[i]->secs));
		printf("bench: gmem_vs_%s_fault_ratio %.3g\n", anchors[i]->key,
		       ratio(gfaults, anchors[i]->faults));
	}
	printf("bench: gmem_vs_memset_1g_time_ratio %.3f\n", ratio(gt, ratio(GIB, memset_bw)));

	/*
	 * The same GiB, allocated already, mapped again: the default mapping
	 * (VM_MIXEDMAP, 4 KiB entries) against mmap_huge=1 (VM_PFNMAP, huge
	 * entries where the kernel has them): pure fault cost of each.
	 */
	for (i = 0; i < 2; i++) {
		double t;
		uint8_t *q;
		long f;

		if (gmem_mmap_huge(i))
			continue;
		q = gmem_map(fd, size, 0, GIB);
		if (!ok(q != MAP_FAILED, "map the GiB again, mmap_huge=%d", (int)i))
			continue;
		t = touch(q, size, &f);
		munmap(q, size);
		printf("bench: gmem%s_retouch_1g_faults %ld\n", i ? "_huge" : "", f);
		printf("bench: gmem%s_retouch_1g_seconds %.3f\n", i ? "_huge" : "", t);
	}
	gmem_mmap_huge(0);

	/* conversions of mapped ranges: zap + attribute flip */
	c2m = convert_time(fd, p, 512 * MIB, 2 * MIB);
	c1g = convert_time(fd, p, 0, size);
	ok(c2m >= 0 && c1g >= 0, "conversions succeed");
	printf("bench: convert_2m_seconds %.6f\n", c2m);
	printf("bench: convert_1g_seconds %.6f\n", c1g);
	printf("bench: convert_1g_vs_2m_ratio %.2f\n", c2m > 0 ? c1g / c2m : 0);
	convert_vetoed(fd, p, size, c1g);

	/*
	 * Where the 1 GiB conversion's time goes: the same conversion of the
	 * GiB mapped with huge entries (mmap_huge=1: one PUD or 512 PMDs to
	 * zap instead of 262,144 PTEs), and of the GiB not mapped at all (the
	 * attribute flip, the two-phase round and the users' callbacks alone).
	 */
	if (!gmem_mmap_huge(1)) {
		uint8_t *q = gmem_map(fd, size, 0, GIB);

		if (ok(q != MAP_FAILED, "map the GiB with mmap_huge=1")) {
			double ch2 = convert_time(fd, q, 512 * MIB, 2 * MIB);
			double ch = convert_time(fd, q, 0, size);

			munmap(q, size);
			printf("bench: convert_huge_2m_seconds %.6f\n", ch2);
			printf("bench: convert_huge_1g_seconds %.6f\n", ch);
			printf("bench: convert_huge_1g_vs_2m_ratio %.2f\n",
			       ch2 > 0 && ch >= 0 ? ch / ch2 : 0);
		}
		gmem_mmap_huge(0);
	}
	munmap(p, size);
	p = NULL;
	{
		double c2mu = convert_time(fd, NULL, 512 * MIB, 2 * MIB);
		double cu = convert_time(fd, NULL, 0, size);

		ok(c2mu >= 0 && cu >= 0, "conversions of the unmapped file succeed");
		printf("bench: convert_unmapped_2m_seconds %.6f\n", c2mu);
		printf("bench: convert_unmapped_1g_seconds %.6f\n", cu);
		printf("bench: convert_unmapped_1g_vs_2m_ratio %.2f\n",
		       c2mu > 0 ? cu / c2mu : 0);
	}
	meta_1g = pool_value("metadata_bytes_per_gib");
	printf("bench: metadata_bytes_per_gib_1g_file %lld\n", meta_1g);
	ok(meta_1g <= 64 * 1024,
	   "metadata within 64 KiB per GiB (%lld bytes)", meta_1g);

	/* fragment the attributes of a second file: 1000 single pages */
	small = gmem_create(dev, 64 * MIB, 0);
	for (i = 0; i < 1000; i++)
		gmem_set_attr(small, (i * 16) * 4 * KIB, 4 * KIB,
			      GMEM_PFNPOOL_ATTR_PRIVATE, NULL);
	meta_frag = pool_value("metadata_bytes_per_gib");
	printf("bench: metadata_bytes_per_gib_plus_2000_attr_ranges %lld\n",
	       meta_frag);
	/* Per range, in absolute bytes (the figure above is per GiB). */
	printf("bench: metadata_bytes_per_attr_range %.1f\n",
	       (meta_frag - meta_1g) * ((double)pool_value("total") / GIB) /
	       2000);
	close(small);
	close(fd);

	/* zeroing: where the pool pays for its zeroed memory */
	punch = zero_bench(dev, GIB, "1g", memset_bw, stos_bw);
	zero_bench(dev, 256 * MIB, "256m", memset_bw, stos_bw);
	/*
	 * The anchors zero memory when they take it (at fault; the fallocated
	 * memfd in fallocate, so it is left out), gmem when it comes back:
	 * touch + punch is the like-for-like figure.
	 */
	if (punch >= 0) {
		printf("bench: gmem_touch_plus_punch_1g_seconds %.3f\n", gt + punch);
		for (i = 0; i < ARRAY_SIZE(anchors); i++)
			if (anchors[i] != &falloc && !anchors[i]->skip[0])
				printf("bench: gmem_touch_plus_punch_vs_%s_time_ratio %.3f\n",
				       anchors[i]->key, ratio(gt + punch, anchors[i]->secs));
	}
	punch_latency(dev);

	run("cat " GMEM_DEBUGFS "/pool");
	close(dev);
	ok(gmem_unload() == 0, "unload gmem_pfnpool");
	return tap_done();
}

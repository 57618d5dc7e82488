// SPDX-License-Identifier: GPL-2.0-only
/*
 * Seeded stress and fuzz of gmem_pfnpool and tdi_dmabuf.
 *
 * N threads pick random operations, valid and invalid, of both modules from
 * one seed: gmem files (create, mmap/munmap/mremap/mprotect/madvise, fork,
 * touch and read, SET_ATTR/GET_ATTR, fallocate and punch, DMA-BUF export and
 * import by DRM vgem, close in any order, unload attempts), the in-kernel
 * test user (attach, pin, veto, lookup, DMA-BUF import) and the TDI of QEMU's
 * edu device (bind, unbind, layout, DMA-BUFs, ranges, mmap and touch,
 * provider faults and errors, device reset, memory decode off, D3hot).
 *
 * Invariants, checked while the threads run and after, one TAP point each:
 *  - every call returns success or an errno its documentation lists;
 *  - pool free + used == total;
 *  - no PFN backs two files, every extent lies in the pool, the extents
 *    add up to the pool's used bytes (debugfs "extents", checked with the
 *    workers paused);
 *  - memory handed out again reads zero: every page written carries words
 *    (run magic, file id, punch generation, page index) and a read must
 *    never see another file's words, words of an older generation (memory
 *    punched but not zeroed) or another page's words;
 *  - private memory is never readable: SIGBUS through a mapping, and
 *    /proc/self/mem and process_vm_readv fail or return no pool data;
 *  - revoked DMA-BUFs stay revoked (tdi: GET_RANGES, mmap and touch; gmem:
 *    the test user's remap fails once it was told to move);
 *  - a static DMA-BUF importer (no move_notify, like DRM PRIME importers)
 *    only ever maps memory the exporting file still owns: after a punch
 *    under it, its pages are still the file's extents and it never reads
 *    another file's words (the test user's static import reads through
 *    its mapping);
 *  - GET_ATTR and lookup results are consistent;
 *  - unloading a module in use is refused; no operation hangs;
 *  - at the end, with everything closed, the pool is whole again.
 * Then every ioctl runs under injected allocation failures (failslab and
 * fail_page_alloc, this thread only) if the kernel has them.
 *
 * Parameters come from the kernel command line (the runner passes no
 * arguments): cchost.stress_seed=N (default: from the clock),
 * cchost.stress_duration=SECONDS (default 20), cchost.stress_threads=N
 * (default 4). The seed is printed as "# seed=N"; it fixes the sequence of
 * operations of every thread, not the interleaving of the threads.
 */
#include "../gmem/gmem_test.h"
#include "../tdi/tdi_test.h"
#include "vgem.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <linux/falloc.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#define NSLOTS		6
#define NMAPS		4
#define NBUFS		4
#define NTDIBUFS	4
#define MAX_THREADS	16
#define MAX_REPORTS	6	/* violations printed per invariant */
#define MAX_ERRNO	140
#define HANG_MS		30000
#define FILE_MAX	(64 * MIB)
#define PAGE		4096ULL
#define FULL_POOL	(GIB + 64 * MIB)

/* ---- parameters, randomness ---- */

static uint64_t seed;
static unsigned int duration = 20, nthreads = 4;
static int memlog;		/* cchost.stress_memlog=1: memory to the console */
static uint64_t magic16;	/* top 16 bits of every data word */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1DULL;
}

static uint64_t below(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/*
 * The runner prints a test's output only once it ended: the kernel's log
 * carries the seed of a run that hangs the guest.
 */
static void kmsg_seed(void)
{
	FILE *f = fopen("/dev/kmsg", "w");

	if (!f)
		return;
	fprintf(f, "cchost-stress: seed=%lu duration=%us threads=%u\n", seed, duration,
		nthreads);
	fclose(f);
}

static void read_cmdline(void)
{
	static const char sep[] = { ' ', '\n', 0 };
	char buf[4096] = "", *tok, *save;
	int fd = open("/proc/cmdline", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : 0;
	int have_seed = 0;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	for (tok = strtok_r(buf, sep, &save); tok; tok = strtok_r(NULL, sep, &save)) {
		if (!strncmp(tok, "cchost.stress_seed=", 19)) {
			seed = strtoull(tok + 19, NULL, 0);
			have_seed = 1;
		} else if (!strncmp(tok, "cchost.stress_duration=", 23)) {
			duration = strtoul(tok + 23, NULL, 0);
		} else if (!strncmp(tok, "cchost.stress_threads=", 22)) {
			nthreads = strtoul(tok + 22, NULL, 0);
		} else if (!strcmp(tok, "cchost.stress_memlog=1")) {
			memlog = 1;
		}
	}
	if (!have_seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint64_t)ts.tv_sec * 1000003ULL ^ ts.tv_nsec ^ getpid();
	}
	if (!nthreads)
		nthreads = 1;
	if (nthreads > MAX_THREADS)
		nthreads = MAX_THREADS;
}

/* ---- invariants ---- */

enum inv {
	INV_ERRNO, INV_ACCOUNT, INV_PFN, INV_DATA, INV_PRIVATE, INV_REVOKE,
	INV_ATTR, INV_UNLOAD, INV_HANG, INV_IMPORT, INV_LOOKUP, INV_MAX,
};

static const char * const inv_names[INV_MAX] = {
	[INV_ERRNO] = "errno", [INV_ACCOUNT] = "accounting",
	[INV_PFN] = "pfn", [INV_DATA] = "data", [INV_PRIVATE] = "private",
	[INV_REVOKE] = "revoke", [INV_ATTR] = "attr", [INV_UNLOAD] = "unload",
	[INV_HANG] = "hang", [INV_IMPORT] = "import", [INV_LOOKUP] = "lookup",
};

static atomic_ulong inv_checks[INV_MAX], inv_fails[INV_MAX];
static atomic_uint reports[INV_MAX];
static int in_child;	/* a forked child: count, never print */
static uint64_t t_start;

static void check(enum inv i, int good, const char *fmt, ...)
{
	va_list ap;
	char msg[400];

	atomic_fetch_add(&inv_checks[i], 1);
	if (good)
		return;
	atomic_fetch_add(&inv_fails[i], 1);
	if (in_child || atomic_fetch_add(&reports[i], 1) >= MAX_REPORTS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("# VIOLATION [%s] seed=%lu t=%.1fs: %s\n", inv_names[i],
	       seed, (now_ms() - t_start) / 1000.0, msg);
	fflush(stdout);
}

/* ---- operations and their counters ---- */

struct worker;
typedef void (*op_fn)(struct worker *w);

struct op {
	const char *name;
	unsigned int weight;
	op_fn fn;
	atomic_ulong calls, errors;
	atomic_ulong errnos[MAX_ERRNO];	/* failures per errno */
};

struct worker {
	pthread_t th;
	struct op *cur;		/* the running op */
	unsigned int idx;
	struct rng r;
	atomic_int op;		/* index of the running op, -1 idle */
	atomic_ullong op_since;
	unsigned long iter;
};

static atomic_int stop;
static struct worker workers[MAX_THREADS];
#define workers_op(i)		(workers[i].op)
#define workers_since(i)	(workers[i].op_since)
static pthread_rwlock_t quiesce;	/* workers read, invariant checks write */

/* Count a call; check that @ret is 0 (or >= 0) or -1 with an allowed errno. */
static int expect(struct worker *w, int ret, int err, const int *allowed)
{
	struct op *o = w->cur;
	const int *a;

	if (ret >= 0)
		return ret;
	atomic_fetch_add(&o->errors, 1);
	atomic_fetch_add(&o->errnos[err > 0 && err < MAX_ERRNO ? err : 0], 1);
	for (a = allowed; a && *a; a++)
		if (*a == err)
			return ret;
	check(INV_ERRNO, 0, "thread %u op %s (#%lu): undocumented errno %d (%s)",
	      w->idx, o->name, w->iter, err, strerror(err));
	errno = err;
	return ret;
}

#define EXPECT(w, call, ...) ({						\
	static const int __al[] = { __VA_ARGS__, 0 };			\
	int __r = (call);						\
	expect((w), __r, errno, __al);					\
})

/* An invalid call must fail with exactly @want. */
static void expect_exact(struct worker *w, int ret, int err, int want,
			 const char *what)
{
	check(INV_ERRNO, ret == -1 && err == want,
	      "thread %u %s: got %d errno %d (%s), want errno %d", w->idx,
	      what, ret, ret == -1 ? err : 0, strerror(err), want);
	if (ret >= 0 && ret > 2)
		close(ret);
}

/* ---- fault probes (thread-safe: per-thread jump buffer) ---- */

static __thread sigjmp_buf probe_jb;
static __thread int probing;	/* read by the signal handler */

static void set_probing(int on)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&probing, on, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static void probe_handler(int sig, siginfo_t *si, void *uc)
{
	if (__atomic_load_n(&probing, __ATOMIC_RELAXED))
		siglongjmp(probe_jb, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_handlers(void)
{
	struct sigaction sa = { .sa_sigaction = probe_handler,
				.sa_flags = SA_SIGINFO | SA_NODEFER };

	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
}

/* Copy @n bytes; 0, or -1 if the access faulted. */
static int probe_copy(void *dst, const void *src, size_t n)
{
	size_t i;

	set_probing(1);
	if (sigsetjmp(probe_jb, 1)) {
		set_probing(0);
		return -1;
	}
	for (i = 0; i < n / 8; i++)
		__atomic_store_n((uint64_t *)dst + i,
				 __atomic_load_n((const uint64_t *)src + i,
						 __ATOMIC_RELAXED),
				 __ATOMIC_RELAXED);
	set_probing(0);
	return 0;
}

/* Read a 32-bit register; 0, or -1 if the access faulted. */
static int probe_read32(const void *p, __u32 *v)
{
	set_probing(1);
	if (sigsetjmp(probe_jb, 1)) {
		set_probing(0);
		return -1;
	}
	*v = __atomic_load_n((const __u32 *)p, __ATOMIC_RELAXED);
	set_probing(0);
	return 0;
}

/* ---- page contents ---- */

#define NWORDS	3
enum { W_ID = 1, W_GEN = 2, W_INDEX = 3 };

static uint64_t word(int tag, uint64_t v)
{
	return magic16 | (uint64_t)tag << 32 | (v & 0xffffffffULL);
}

/*
 * Check words read from a page of file @id at page @index whose punch
 * generation is @gen. A word is zero, or ours and right. Returns 1 if fine.
 */
static int words_ok(const uint64_t *v, uint64_t id, uint64_t gen,
		    uint64_t index, char *why, size_t len)
{
	int i;

	for (i = 0; i < NWORDS; i++) {
		uint64_t x = v[i], tag = (x >> 32) & 0xffff, val = x & 0xffffffff;

		if (!x)
			continue;
		if ((x & 0xffff000000000000ULL) != magic16 || tag != (uint64_t)i + 1) {
			snprintf(why, len, "garbage %#lx in word %d", x, i);
			return 0;
		}
		if (tag == W_ID && val != (id & 0xffffffff)) {
			snprintf(why, len, "data of file %lu found in file %lu",
				 val, id);
			return 0;
		}
		if (tag == W_GEN && val != (gen & 0xffffffff)) {
			snprintf(why, len, "punched data (generation %lu, now %lu)",
				 val, gen);
			return 0;
		}
		if (tag == W_INDEX && val != (index & 0xffffffff)) {
			snprintf(why, len, "data of page %lu at page %lu",
				 val, index);
			return 0;
		}
	}
	return 1;
}

/* ---- gmem objects ---- */

struct gmap {
	uint8_t *addr;
	uint64_t len, off;	/* bytes; file offset of addr */
	int prot;
};

struct slot {
	pthread_rwlock_t lk;	/* read: most ops; write: create/close/maps/punch */
	pthread_mutex_t mu;	/* bufs, vgem handles */
	int fd;
	uint64_t size, id, gen;
	uint32_t *page_gen;	/* per page: generation of its last punch */
	struct gmap maps[NMAPS];
	int bufs[NBUFS];
	__u64 buf_off[NBUFS], buf_len[NBUFS];	/* exported range */
	uint32_t vgem[NBUFS];
};

static struct slot slots[NSLOTS];
static atomic_ullong next_id = 1;
static int gdev = -1, vgem_fd = -1;
static atomic_ulong pages_checked, pages_written;

/* Test user state (one global user in the kernel). */
static pthread_mutex_t tu_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t tu_file_id;		/* 0: not attached */
static uint64_t tu_file_size;
static int tu_imported, tu_revoked;
static uint64_t tu_s_id, tu_s_index, tu_s_pages;	/* static import */
static atomic_ulong static_reads;
static unsigned int tu_pins_held;

static struct slot *pick_slot(struct worker *w)
{
	return &slots[below(&w->r, NSLOTS)];
}

static uint64_t pick_size(struct worker *w)
{
	switch (below(&w->r, 8)) {
	case 0:
		return (1 + below(&w->r, 16)) * PAGE;
	case 1:
		return 2 * MIB + (1 + below(&w->r, 8)) * PAGE;
	case 2:
		return 4 * MIB;
	case 3:
		return (1 + below(&w->r, 16)) * 2 * MIB;
	case 4:
		return FILE_MAX;
	default:
		return 2 * MIB * (1 + below(&w->r, 4));
	}
}

/* A random page-aligned range of a file of @size bytes. */
static void pick_range(struct worker *w, uint64_t size, __u64 *off,
		       __u64 *len)
{
	uint64_t pages = size / PAGE, a, b, k;

	k = below(&w->r, 4);
	if (k == 0) {			/* whole file */
		*off = 0;
		*len = size;
		return;
	}
	if (k == 1 && size >= 2 * MIB) {	/* 2 MiB aligned block */
		*off = below(&w->r, size / (2 * MIB)) * 2 * MIB;
		*len = 2 * MIB;
		return;
	}
	a = below(&w->r, pages);
	if (k <= 2)			/* a few pages */
		b = a + 1 + below(&w->r, 16);
	else
		b = a + 1 + below(&w->r, pages - a);
	if (b > pages)
		b = pages;
	*off = a * PAGE;
	*len = (b - a) * PAGE;
}

/* Write our words to page @index of @s through @m; 0 or -1 (fault). */
static int write_page(struct slot *s, struct gmap *m, uint64_t index)
{
	uint64_t v[NWORDS] = {
		word(W_ID, s->id), word(W_GEN, s->page_gen[index]),
		word(W_INDEX, index),
	};
	uint8_t *p = m->addr + index * PAGE - m->off;

	if (!(m->prot & PROT_WRITE) || index >= s->size / PAGE)
		return -1;
	atomic_fetch_add(&pages_written, 1);
	if (probe_copy(p, v, sizeof(v)))
		return -1;
	return probe_copy(p + PAGE - sizeof(v), v, sizeof(v));
}

/* Read and check page @index; 0 read, 1 faulted. */
static int read_page(struct worker *w, struct slot *s, struct gmap *m,
		     uint64_t index, const char *ctx)
{
	uint8_t *p = m->addr + index * PAGE - m->off;
	uint64_t v[2][NWORDS];
	char why[200];
	int i;

	if (index >= s->size / PAGE)
		return 1;
	if (probe_copy(v[0], p, sizeof(v[0])) ||
	    probe_copy(v[1], p + PAGE - sizeof(v[1]), sizeof(v[1])))
		return 1;
	atomic_fetch_add(&pages_checked, 1);
	for (i = 0; i < 2; i++)
		if (!words_ok(v[i], s->id, s->page_gen[index], index, why,
			      sizeof(why))) {
			check(INV_DATA, 0, "thread %u %s: file %lu page %#lx: %s",
			      w ? w->idx : 99, ctx,
			      s->id, index, why);
			return 0;
		}
	check(INV_DATA, 1, "");
	return 0;
}

static struct gmap *pick_map(struct worker *w, struct slot *s)
{
	unsigned int i, start = below(&w->r, NMAPS);

	for (i = 0; i < NMAPS; i++) {
		struct gmap *m = &s->maps[(start + i) % NMAPS];

		if (m->addr)
			return m;
	}
	return NULL;
}

/* Write words to every page of [off, off+len) mapped shared, up to @max. */
static void write_range(struct slot *s, uint64_t off, uint64_t len,
			unsigned int max)
{
	unsigned int i, n = 0;

	for (i = 0; i < NMAPS; i++) {
		struct gmap *m = &s->maps[i];
		uint64_t a = off > m->off ? off : m->off;
		uint64_t b = off + len < m->off + m->len ? off + len : m->off + m->len;

		if (!m->addr)
			continue;
		for (; a < b && n < max; a += PAGE, n++)
			write_page(s, m, a / PAGE);
	}
}

static void read_range(struct worker *w, struct slot *s, uint64_t off,
		       uint64_t len, unsigned int max, const char *ctx)
{
	unsigned int i, n = 0;

	for (i = 0; i < NMAPS; i++) {
		struct gmap *m = &s->maps[i];
		uint64_t a = off > m->off ? off : m->off;
		uint64_t b = off + len < m->off + m->len ? off + len : m->off + m->len;

		if (!m->addr)
			continue;
		for (; a < b && n < max; a += PAGE, n++)
			read_page(w, s, m, a / PAGE, ctx);
	}
}

/* ---- vgem (a real in-kernel importer) ---- */

static void vgem_close_handle(uint32_t *h)
{
	struct drm_gem_close_arg c = { .handle = *h };

	if (*h && vgem_fd >= 0)
		ioctl(vgem_fd, DRM_IOC_GEM_CLOSE, &c);
	*h = 0;
}

/* ---- gmem operations ---- */

static void op_create(struct worker *w)
{
	struct slot *s = pick_slot(w);
	struct gmem_pfnpool_create c = { 0 };
	int fd;

	c.size = pick_size(w);
	c.flags = below(&w->r, 4) ? 0 : GMEM_PFNPOOL_CREATE_PRIVATE;
	pthread_rwlock_wrlock(&s->lk);
	if (s->fd >= 0) {
		pthread_rwlock_unlock(&s->lk);
		return;
	}
	fd = EXPECT(w, ioctl(gdev, GMEM_PFNPOOL_IOC_CREATE, &c), ENOMEM,
		    EMFILE, ENFILE);
	if (fd >= 0) {
		check(INV_ERRNO, c.fd == (uint32_t)fd, "CREATE: fd field %u, return %d",
		      c.fd, fd);
		s->page_gen = calloc(c.size / PAGE, sizeof(*s->page_gen));
		s->fd = fd;
		s->size = c.size;
		s->id = atomic_fetch_add(&next_id, 1);
		s->gen = 1;
	}
	pthread_rwlock_unlock(&s->lk);
}

/* Close everything of a slot in a random order; s->lk held for write. */
static void slot_close(struct worker *w, struct slot *s)
{
	int order[1 + NMAPS + 2 * NBUFS], n = 0, i, j;

	/* Pattern first: none of it may ever be read back by anyone. */
	write_range(s, 0, s->size, 256);
	order[n++] = 0;
	for (i = 0; i < NMAPS; i++)
		if (s->maps[i].addr)
			order[n++] = 1 + i;
	for (i = 0; i < NBUFS; i++) {
		if (s->bufs[i] >= 0)
			order[n++] = 1 + NMAPS + i;
		if (s->vgem[i])
			order[n++] = 1 + NMAPS + NBUFS + i;
	}
	for (i = n - 1; i > 0; i--) {
		int t;

		j = w ? below(&w->r, i + 1) : i;
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < n; i++) {
		int k = order[i];

		if (k == 0) {
			close(s->fd);
			s->fd = -1;
		} else if (k <= NMAPS) {
			struct gmap *m = &s->maps[k - 1];

			/* Still mapped after the fd went: still readable. */
			if (s->fd < 0 && w)
				read_page(w, s, m, m->off / PAGE, "read after close");
			munmap(m->addr, m->len);
			m->addr = NULL;
		} else if (k <= NMAPS + NBUFS) {
			close(s->bufs[k - 1 - NMAPS]);
			s->bufs[k - 1 - NMAPS] = -1;
		} else {
			vgem_close_handle(&s->vgem[k - 1 - NMAPS - NBUFS]);
		}
	}
	s->id = 0;
	free(s->page_gen);
	s->page_gen = NULL;
}

static void op_close(struct worker *w)
{
	struct slot *s = pick_slot(w);

	pthread_rwlock_wrlock(&s->lk);
	if (s->fd >= 0)
		slot_close(w, s);
	pthread_rwlock_unlock(&s->lk);
}

/* Run @fn with the slot open and locked (read or write); 0 if none. */
static struct slot *slot_get(struct worker *w, int write)
{
	struct slot *s = pick_slot(w);

	if (write)
		pthread_rwlock_wrlock(&s->lk);
	else
		pthread_rwlock_rdlock(&s->lk);
	if (s->fd < 0) {
		pthread_rwlock_unlock(&s->lk);
		return NULL;
	}
	return s;
}

static void op_mmap(struct worker *w)
{
	struct slot *s = slot_get(w, 1);
	struct gmap *m = NULL;
	__u64 off, len;
	unsigned int i;
	void *p;

	if (!s)
		return;
	for (i = 0; i < NMAPS; i++)
		if (!s->maps[i].addr)
			m = &s->maps[i];
	pick_range(w, s->size, &off, &len);
	if (len > 8 * MIB)
		len = 8 * MIB;
	switch (below(&w->r, 8)) {
	case 0:		/* invalid: private mapping */
		p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, s->fd, off);
		expect_exact(w, p == MAP_FAILED ? -1 : 0, errno, EINVAL,
			     "mmap MAP_PRIVATE");
		if (p != MAP_FAILED)
			munmap(p, len);
		break;
	case 1:		/* invalid: past the end */
		p = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, s->fd,
			 s->size - PAGE);
		expect_exact(w, p == MAP_FAILED ? -1 : 0, errno, EINVAL,
			     "mmap past the end");
		if (p != MAP_FAILED)
			munmap(p, 2 * PAGE);
		break;
	default:
		if (!m)
			break;
		/* Both kinds of mapping (VM_MIXEDMAP, VM_PFNMAP with huge entries). */
		if (!below(&w->r, 4))
			gmem_mmap_huge(below(&w->r, 2));
		p = gmem_map(s->fd, len, off, below(&w->r, 2) ? 2 * MIB : 0);
		if (EXPECT(w, p == MAP_FAILED ? -1 : 0, ENOMEM) == 0) {
			m->addr = p;
			m->len = len;
			m->off = off;
			m->prot = PROT_READ | PROT_WRITE;
		}
	}
	pthread_rwlock_unlock(&s->lk);
}

static void op_munmap(struct worker *w)
{
	struct slot *s = slot_get(w, 1);
	struct gmap *m;

	if (!s)
		return;
	m = pick_map(w, s);
	if (m && m->len > PAGE && below(&w->r, 2)) {
		/* Unmap the head or the tail only. */
		uint64_t cut = (1 + below(&w->r, m->len / PAGE - 1)) * PAGE;

		if (below(&w->r, 2)) {
			if (!EXPECT(w, munmap(m->addr, cut), 0)) {
				m->addr += cut;
				m->off += cut;
				m->len -= cut;
			}
		} else if (!EXPECT(w, munmap(m->addr + cut, m->len - cut), 0)) {
			m->len = cut;
		}
	} else if (m) {
		EXPECT(w, munmap(m->addr, m->len), 0);
		m->addr = NULL;
	}
	pthread_rwlock_unlock(&s->lk);
}

static void op_mremap(struct worker *w)
{
	struct slot *s = slot_get(w, 1);
	struct gmap *m;
	void *p, *dst;

	if (!s)
		return;
	m = pick_map(w, s);
	if (!m)
		goto out;
	switch (below(&w->r, 3)) {
	case 0:		/* move */
		dst = mmap(NULL, m->len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			   -1, 0);
		if (dst == MAP_FAILED)
			break;
		p = mremap(m->addr, m->len, m->len, MREMAP_MAYMOVE | MREMAP_FIXED,
			   dst);
		if (EXPECT(w, p == MAP_FAILED ? -1 : 0, ENOMEM, EINVAL, EFAULT) == 0)
			m->addr = p;
		else
			munmap(dst, m->len);
		break;
	case 1:		/* grow: the mapping may not expand */
		p = mremap(m->addr, m->len, m->len + PAGE, MREMAP_MAYMOVE);
		if (EXPECT(w, p == MAP_FAILED ? -1 : 0, EFAULT, ENOMEM, EINVAL) == 0) {
			m->addr = p;
			m->len += PAGE;
		}
		break;
	default:	/* shrink */
		if (m->len <= PAGE)
			break;
		p = mremap(m->addr, m->len, m->len - PAGE, 0);
		if (EXPECT(w, p == MAP_FAILED ? -1 : 0, ENOMEM, EINVAL) == 0)
			m->len -= PAGE;
	}
out:
	pthread_rwlock_unlock(&s->lk);
}

static void op_mprotect(struct worker *w)
{
	struct slot *s = slot_get(w, 1);
	struct gmap *m;
	int prot;

	if (!s)
		return;
	m = pick_map(w, s);
	if (m) {
		prot = below(&w->r, 2) ? PROT_READ : PROT_READ | PROT_WRITE;
		if (!EXPECT(w, mprotect(m->addr, m->len, prot), ENOMEM))
			m->prot = prot;
	}
	pthread_rwlock_unlock(&s->lk);
}

static void op_madvise(struct worker *w)
{
	static const int adv[] = {
		MADV_DONTNEED, MADV_WILLNEED, MADV_NORMAL, MADV_RANDOM,
		MADV_SEQUENTIAL, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTFORK,
		MADV_DOFORK, MADV_COLD, MADV_PAGEOUT, MADV_POPULATE_READ,
		MADV_POPULATE_WRITE,
	};
	struct slot *s = slot_get(w, 0);
	struct gmap *m;

	if (!s)
		return;
	m = pick_map(w, s);
	/* Exercise only: which advice a PFN mapping takes is the mm's call. */
	if (m)
		EXPECT(w, madvise(m->addr, m->len, adv[below(&w->r, ARRAY_SIZE(adv))]),
		       EINVAL, EFAULT, ENOMEM, EAGAIN, EPERM, EIO, EBUSY,
		       EOPNOTSUPP, EHWPOISON);
	pthread_rwlock_unlock(&s->lk);
}

static void op_touch(struct worker *w)
{
	struct slot *s = slot_get(w, 0);
	struct gmap *m;
	int i;

	if (!s)
		return;
	m = pick_map(w, s);
	for (i = 0; m && i < 8; i++)
		write_page(s, m, (m->off + below(&w->r, m->len / PAGE) * PAGE) / PAGE);
	pthread_rwlock_unlock(&s->lk);
}

static void op_read(struct worker *w)
{
	struct slot *s = slot_get(w, 0);
	struct gmap *m;
	int i;

	if (!s)
		return;
	m = pick_map(w, s);
	for (i = 0; m && i < 8; i++)
		read_page(w, s, m, (m->off + below(&w->r, m->len / PAGE) * PAGE) / PAGE,
			  "read");
	pthread_rwlock_unlock(&s->lk);
}

static void op_fork(struct worker *w)
{
	struct slot *s = slot_get(w, 0);
	uint64_t before;
	pid_t pid;
	int st;

	if (!s)
		return;
	before = atomic_load(&inv_fails[INV_DATA]);
	pid = fork();
	if (pid == 0) {
		/* Child: read what the parent maps, report through the status. */
		unsigned int i, j;

		in_child = 1;
		for (i = 0; i < NMAPS; i++) {
			struct gmap *m = &s->maps[i];

			for (j = 0; m->addr && j < 4; j++)
				read_page(NULL, s, m, (m->off + below(&w->r, m->len / PAGE) *
						       PAGE) / PAGE, "forked child");
		}
		_exit(atomic_load(&inv_fails[INV_DATA]) != before);
	}
	if (EXPECT(w, pid < 0 ? -1 : 0, EAGAIN, ENOMEM) == 0) {
		waitpid(pid, &st, 0);
		check(INV_DATA, WIFEXITED(st) && !WEXITSTATUS(st),
		      "thread %u: forked child saw wrong data (status %#x)", w->idx, st);
	}
	pthread_rwlock_unlock(&s->lk);
}

static void op_set_attr(struct worker *w)
{
	struct slot *s = slot_get(w, 0);
	struct gmem_pfnpool_set_attr a = { 0 };
	int ret;

	if (!s)
		return;
	pick_range(w, s->size, &a.offset, &a.size);
	a.attr = below(&w->r, 2);
	ret = EXPECT(w, ioctl(s->fd, GMEM_PFNPOOL_IOC_SET_ATTR, &a), EBUSY,
		     EINTR, ENOMEM);
	if (ret && errno == EBUSY)
		check(INV_ATTR, a.error_user[0] && a.error_offset >= a.offset &&
		      a.error_offset < a.offset + a.size,
		      "SET_ATTR EBUSY: refusal at %#llx by '%.32s' outside [%#llx, +%#llx)",
		      (unsigned long long)a.error_offset, a.error_user,
		      (unsigned long long)a.offset, (unsigned long long)a.size);
	pthread_rwlock_unlock(&s->lk);
}

static void op_get_attr(struct worker *w)
{
	struct slot *s = slot_get(w, 0);
	int i;

	if (!s)
		return;
	/* A burst: queries racing conversions of the same file. */
	for (i = 0; i < 8; i++) {
		struct gmem_pfnpool_get_attr a = {
			.offset = below(&w->r, s->size / PAGE) * PAGE,
		};

		if (EXPECT(w, ioctl(s->fd, GMEM_PFNPOOL_IOC_GET_ATTR, &a), 0))
			continue;
		check(INV_ATTR, a.attr <= 1 && a.range_offset <= a.offset &&
		      a.offset < a.range_offset + a.range_size &&
		      a.range_offset + a.range_size <= s->size,
		      "GET_ATTR at %#llx: attr %u range [%#llx, +%#llx) file size %#llx",
		      (unsigned long long)a.offset, a.attr,
		      (unsigned long long)a.range_offset,
		      (unsigned long long)a.range_size, (unsigned long long)s->size);
	}
	pthread_rwlock_unlock(&s->lk);
}

static void op_falloc(struct worker *w)
{
	struct slot *s = slot_get(w, 0);
	__u64 off, len;

	if (!s)
		return;
	pick_range(w, s->size, &off, &len);
	EXPECT(w, fallocate(s->fd, below(&w->r, 2) ? FALLOC_FL_KEEP_SIZE : 0, off, len),
	       ENOSPC, ENOMEM, EINTR);
	pthread_rwlock_unlock(&s->lk);
}

/* Punch with the pattern written first; s->lk held for write. */
static void punch_range(struct worker *w, struct slot *s, __u64 off, __u64 len)
{
	int ret;

	write_range(s, off, len, 128);
	ret = EXPECT(w, fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  off, len), EBUSY, EINTR, ENOMEM);
	if (!ret) {
		uint64_t i;

		s->gen++;
		for (i = off / PAGE; i < (off + len) / PAGE; i++)
			s->page_gen[i] = s->gen;
		/* What was written must be gone: zero when read again. */
		read_range(w, s, off, len, 128, "read after punch");
	}
}

static void op_punch(struct worker *w)
{
	struct slot *s = slot_get(w, 1);
	__u64 off, len;

	if (!s)
		return;
	pick_range(w, s->size, &off, &len);
	punch_range(w, s, off, len);
	pthread_rwlock_unlock(&s->lk);
}

static void op_export(struct worker *w)
{
	struct slot *s = slot_get(w, 0);
	struct gmem_pfnpool_export_dmabuf e = { 0 };
	int fd, i;

	if (!s)
		return;
	pick_range(w, s->size, &e.offset, &e.size);
	fd = EXPECT(w, ioctl(s->fd, GMEM_PFNPOOL_IOC_EXPORT_DMABUF, &e), EINVAL,
		    EAGAIN, ENOSPC, ENOMEM, EMFILE);
	if (fd >= 0) {
		pthread_mutex_lock(&s->mu);
		for (i = 0; i < NBUFS && fd >= 0; i++)
			if (s->bufs[i] < 0) {
				s->bufs[i] = fd;
				s->buf_off[i] = e.offset;
				s->buf_len[i] = e.size;
				fd = -1;
			}
		pthread_mutex_unlock(&s->mu);
		if (fd >= 0)
			close(fd);
	}
	pthread_rwlock_unlock(&s->lk);
}

static void op_vgem(struct worker *w)
{
	struct slot *s;
	int i;

	if (vgem_fd < 0)
		return;
	s = slot_get(w, 0);
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	i = below(&w->r, NBUFS);
	if (s->vgem[i]) {
		vgem_close_handle(&s->vgem[i]);
	} else if (s->bufs[i] >= 0) {
		struct drm_prime_handle_arg h = { .fd = s->bufs[i] };

		/* EBUSY: a conversion of the range is in flight (uapi header). */
		if (!EXPECT(w, ioctl(vgem_fd, DRM_IOC_PRIME_FD_TO_HANDLE, &h), ENODEV,
			    ENOMEM, EINVAL, EIO, EBUSY))
			s->vgem[i] = h.handle;
	}
	pthread_mutex_unlock(&s->mu);
	pthread_rwlock_unlock(&s->lk);
}

static void op_dmabuf_close(struct worker *w)
{
	struct slot *s = slot_get(w, 0);
	int i;

	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	i = below(&w->r, NBUFS);
	if (below(&w->r, 2))
		vgem_close_handle(&s->vgem[i]);
	if (s->bufs[i] >= 0)
		close(s->bufs[i]);
	s->bufs[i] = -1;
	pthread_mutex_unlock(&s->mu);
	pthread_rwlock_unlock(&s->lk);
}

static void op_stats(struct worker *w)
{
	struct slot *s = slot_get(w, 0);
	struct gmem_pfnpool_stats st = { 0 };

	if (!s)
		return;
	if (!EXPECT(w, ioctl(s->fd, GMEM_PFNPOOL_IOC_STATS, &st), 0))
		check(INV_ACCOUNT, st.allocated <= s->size,
		      "STATS: allocated %llu > size %llu",
		      (unsigned long long)st.allocated, (unsigned long long)s->size);
	pthread_rwlock_unlock(&s->lk);
}

/* Malformed calls: each must fail with the documented errno. */
static void op_gmem_invalid(struct worker *w)
{
	struct slot *s = slot_get(w, 0);
	struct gmem_pfnpool_set_attr sa = { .size = PAGE };
	struct gmem_pfnpool_get_attr ga = { 0 };
	struct gmem_pfnpool_export_dmabuf ex = { .size = PAGE };
	struct gmem_pfnpool_create c = { .size = PAGE };
	struct gmem_pfnpool_stats st = { 0 };
	int k = below(&w->r, 14), ret, e;

	if (!s)
		return;
	switch (k) {
	case 0:
		sa.flags = 1;
		break;
	case 1:
		sa.reserved[1] = 1;
		break;
	case 2:
		sa.attr = 2;
		break;
	case 3:
		sa.offset = 100;
		break;
	case 4:
		sa.offset = s->size;
		break;
	case 5:
		sa.offset = UINT64_MAX & ~(PAGE - 1);
		break;
	case 6:
		sa.size = 0;
		break;
	default:
		break;
	}
	if (k <= 6) {
		ret = ioctl(s->fd, GMEM_PFNPOOL_IOC_SET_ATTR, &sa);
		expect_exact(w, ret, errno, EINVAL, "SET_ATTR malformed");
	} else if (k == 7) {
		ga.offset = s->size;
		ret = ioctl(s->fd, GMEM_PFNPOOL_IOC_GET_ATTR, &ga);
		expect_exact(w, ret, errno, EINVAL, "GET_ATTR past the end");
	} else if (k == 8) {
		ex.reserved[0] = 1;
		ret = ioctl(s->fd, GMEM_PFNPOOL_IOC_EXPORT_DMABUF, &ex);
		expect_exact(w, ret, errno, EINVAL, "EXPORT reserved");
	} else if (k == 9) {
		st.reserved0 = 1;
		ret = ioctl(s->fd, GMEM_PFNPOOL_IOC_STATS, &st);
		expect_exact(w, ret, errno, EINVAL, "STATS reserved0");
	} else if (k == 10) {
		c.size = below(&w->r, 2) ? 0 : PAGE + 1;
		ret = ioctl(gdev, GMEM_PFNPOOL_IOC_CREATE, &c);
		expect_exact(w, ret, errno, EINVAL, "CREATE bad size");
	} else if (k == 11) {
		c.size = 2 * GIB;
		ret = ioctl(gdev, GMEM_PFNPOOL_IOC_CREATE, &c);
		expect_exact(w, ret, errno, ENOSPC, "CREATE larger than the pool");
	} else if (k == 12) {
		ret = fallocate(s->fd, FALLOC_FL_PUNCH_HOLE, 0, PAGE);
		e = errno;
		expect_exact(w, ret, e, EOPNOTSUPP, "punch without KEEP_SIZE");
	} else {
		ret = ioctl(s->fd, _IO(GMEM_PFNPOOL_IOCTL_MAGIC, 0x7f), 0);
		expect_exact(w, ret, errno, ENOTTY, "unknown ioctl");
	}
	pthread_rwlock_unlock(&s->lk);
}

/*
 * With conversions of the file excluded (slot write lock), a private page
 * must fault through every mapping and give no pool data through
 * /proc/self/mem or process_vm_readv.
 */
static void op_private_check(struct worker *w)
{
	struct slot *s = slot_get(w, 1);
	struct gmem_pfnpool_get_attr a = { 0 };
	uint64_t v[NWORDS], index, zero[NWORDS] = { 0 };
	struct iovec lio, rio;
	struct gmap *m;
	uint8_t *p;
	int memfd;
	ssize_t n;

	if (!s)
		return;
	m = pick_map(w, s);
	if (!m)
		goto out;
	index = (m->off + below(&w->r, m->len / PAGE) * PAGE) / PAGE;
	a.offset = index * PAGE;
	if (EXPECT(w, ioctl(s->fd, GMEM_PFNPOOL_IOC_GET_ATTR, &a), 0) ||
	    a.attr != GMEM_PFNPOOL_ATTR_PRIVATE)
		goto out;
	p = m->addr + index * PAGE - m->off;
	check(INV_PRIVATE, probe_copy(v, p, sizeof(v)) == -1,
	      "file %lu private page %#lx readable through a mapping",
	      s->id, index);
	memfd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	memset(v, 0, sizeof(v));
	n = memfd >= 0 ? pread(memfd, v, sizeof(v), (uintptr_t)p) : -1;
	check(INV_PRIVATE, n <= 0 || !memcmp(v, zero, sizeof(v)) ||
	      (v[0] & 0xffff000000000000ULL) != magic16,
	      "private page %#lx read through /proc/self/mem: %#lx",
	      index, v[0]);
	if (memfd >= 0)
		close(memfd);
	memset(v, 0, sizeof(v));
	lio.iov_base = v;
	lio.iov_len = sizeof(v);
	rio.iov_base = p;
	rio.iov_len = sizeof(v);
	n = process_vm_readv(getpid(), &lio, 1, &rio, 1, 0);
	check(INV_PRIVATE, n <= 0 || (v[0] & 0xffff000000000000ULL) != magic16,
	      "private page %#lx read through process_vm_readv: %#lx",
	      index, v[0]);
out:
	pthread_rwlock_unlock(&s->lk);
}

static void op_unload(struct worker *w)
{
	const char *mod = below(&w->r, 2) ? "gmem_pfnpool" : "tdi_dmabuf";
	char cmd[128], out[512] = "";
	size_t n = 0;
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "modload -r %s 2>&1", mod);
	p = popen(cmd, "r");
	if (!p)
		return;
	while (n < sizeof(out) - 1 && fgets(out + n, sizeof(out) - n, p))
		n = strlen(out);
	st = pclose(p);
	check(INV_UNLOAD, st != 0 && strstr(out, "(errno 16)"),
	      "unloading %s while in use: status %#x, '%s' (want EBUSY)", mod, st,
	      strtok(out, "\n") ?: "");
}

/* ---- test user (in-kernel user of gmem_pfnpool) ---- */

static long long tu_get(const char *key)
{
	return tu_value(key);
}

/* The value of @key in the test user's state, as text. */
static const char *tu_line(const char *key, char *buf, size_t len)
{
	char line[256];
	size_t n = strlen(key);
	FILE *f = fopen(TU_DEBUGFS "/state", "r");

	snprintf(buf, len, "?");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ' ') {
			snprintf(buf, len, "%s", strtok(line + n + 1, "\n") ?: "");
			break;
		}
	if (f)
		fclose(f);
	return buf;
}

static long long tu_over_seen;	/* lookup_over_inflight already reported */

static void op_tu_attach(struct worker *w)
{
	struct slot *s;

	pthread_mutex_lock(&tu_mu);
	if (tu_file_id && below(&w->r, 2)) {
		EXPECT(w, tu_ctl("detach"), 0);
		tu_file_id = 0;
		tu_pins_held = 0;
	} else {
		s = slot_get(w, 0);
		if (!s)
			goto out;
		if (!EXPECT(w, tu_ctl("attach %d", s->fd), EBUSY)) {
			tu_file_id = s->id;
			tu_file_size = s->size;
			tu_pins_held = 0;
		}
		pthread_rwlock_unlock(&s->lk);
	}
out:
	pthread_mutex_unlock(&tu_mu);
}

static void op_tu_veto(struct worker *w)
{
	pthread_mutex_lock(&tu_mu);
	/* Refusing is the rarer state; so are slow prepares. */
	if (below(&w->r, 2))
		EXPECT(w, tu_ctl("veto %d", below(&w->r, 4) == 0), 0);
	else
		EXPECT(w, tu_ctl("delay %d", below(&w->r, 3) ? 0 : 5 + (int)below(&w->r, 30)),
		       0);
	pthread_mutex_unlock(&tu_mu);
}

static void op_tu_pin(struct worker *w)
{
	__u64 off, len;

	pthread_mutex_lock(&tu_mu);
	if (tu_file_id) {
		pick_range(w, tu_file_size, &off, &len);
		if (below(&w->r, 2)) {
			if (!EXPECT(w, tu_ctl("pin %llu %llu", (unsigned long long)off,
					      (unsigned long long)len), EAGAIN, ENOMEM,
				    EINVAL, EBUSY))
				tu_pins_held++;
		} else {
			if (!EXPECT(w, tu_ctl("unpin %llu %llu", (unsigned long long)off,
					      (unsigned long long)len), ENOENT))
				tu_pins_held--;
		}
	}
	pthread_mutex_unlock(&tu_mu);
}

/*
 * lookup: racing (any file state) or checked (the slot of the attached
 * file locked for write, so no conversion of it is in flight): the order
 * must describe a block with one attribute and a PFN of matching alignment.
 */
static void op_tu_lookup(struct worker *w)
{
	struct slot *s = NULL;
	uint64_t index;
	long long ret, pfn, attr, order, over;
	char last[128];
	unsigned int i;

	pthread_mutex_lock(&tu_mu);
	if (!tu_file_id)
		goto out;
	if (below(&w->r, 2)) {
		for (i = 0; i < NSLOTS; i++) {
			pthread_rwlock_wrlock(&slots[i].lk);
			if (slots[i].fd >= 0 && slots[i].id == tu_file_id) {
				s = &slots[i];
				break;
			}
			pthread_rwlock_unlock(&slots[i].lk);
		}
	}
	index = below(&w->r, tu_file_size / PAGE);
	if (EXPECT(w, tu_ctl("lookup %llu", (unsigned long long)(index * PAGE)), 0))
		goto unlock;
	ret = tu_get("lookup_ret");
	check(INV_ERRNO, ret == 0 || ret == -EAGAIN || ret == -ENOSPC || ret == -ENOMEM,
	      "lookup returned %lld", ret);
	over = tu_get("lookup_over_inflight");
	if (over >= 0) {
		check(INV_LOOKUP, over == tu_over_seen,
		      "lookup of page %#lx: order %lld over a conversion in flight (%s)",
		      index, tu_get("lookup_order"), tu_line("lookup_over_inflight_last", last,
								  sizeof(last)));
		tu_over_seen = over;
	}
	if (ret)
		goto unlock;
	pfn = tu_get("lookup_pfn");
	attr = tu_get("lookup_attr");
	order = tu_get("lookup_order");
	check(INV_ATTR, pfn > 0 && attr >= 0 && attr <= 1 &&
	      (order == 0 || order == 9 || order == 18) &&
	      (((pfn - (long long)(index & ((1ULL << order) - 1))) &
		((1LL << order) - 1)) == 0),
	      "lookup of page %#lx: pfn %#llx attr %lld order %lld", index,
	      pfn, attr, order);
	if (s && order) {
		uint64_t first = index & ~((1ULL << order) - 1);
		struct gmem_pfnpool_get_attr a = { .offset = first * PAGE };

		if (!ioctl(s->fd, GMEM_PFNPOOL_IOC_GET_ATTR, &a))
			check(INV_ATTR, a.attr == attr && a.range_offset <= first * PAGE &&
			      a.range_offset + a.range_size >= (first + (1ULL << order)) * PAGE,
			      "lookup order %lld at %#lx, attr %u only on [%#llx, +%#llx)",
			      order, index, a.attr, (unsigned long long)a.range_offset,
			      (unsigned long long)a.range_size);
	}
unlock:
	if (s)
		pthread_rwlock_unlock(&s->lk);
out:
	pthread_mutex_unlock(&tu_mu);
}

static void op_tu_dmabuf(struct worker *w)
{
	struct slot *s;
	long long moved, rr;
	int k = below(&w->r, 3), i;

	pthread_mutex_lock(&tu_mu);
	if (k == 0 && !tu_imported) {
		s = slot_get(w, 0);
		if (s) {
			pthread_mutex_lock(&s->mu);
			i = below(&w->r, NBUFS);
			if (s->bufs[i] >= 0 &&
			    !EXPECT(w, tu_ctl("dmabuf %d", s->bufs[i]), ENODEV, ENOMEM,
				    EBUSY)) {
				tu_imported = 1;
				tu_revoked = 0;
			}
			pthread_mutex_unlock(&s->mu);
			pthread_rwlock_unlock(&s->lk);
		}
	} else if (k == 1 && tu_imported) {
		moved = tu_get("move_notify");
		if (!EXPECT(w, tu_ctl("remap"), 0)) {
			rr = tu_get("remap_ret");
			check(INV_REVOKE, !tu_revoked || rr == -ENODEV,
			      "gmem DMA-BUF mapped again (%lld) after it was revoked", rr);
			check(INV_ERRNO, rr == 0 || rr == -ENODEV || rr == -ENOMEM,
			      "remap returned %lld", rr);
		}
		/* A move_notify seen before the remap revoked it for good. */
		if (moved > 0)
			tu_revoked = 1;
	} else if (tu_imported) {
		EXPECT(w, tu_ctl("dmabuf_detach"), 0);
		tu_imported = 0;
	}
	pthread_mutex_unlock(&tu_mu);
}

static unsigned long long tu_u64(const char *key)
{
	char line[256], k[128], v[64];
	unsigned long long ret = 0;
	FILE *f = fopen(TU_DEBUGFS "/state", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%127s %63s", k, v) == 2 && !strcmp(k, key)) {
			ret = strtoull(v, NULL, 0);
			break;
		}
	if (f)
		fclose(f);
	return ret;
}

static int static_check(struct worker *w, uint64_t k)
{
	uint64_t v[NWORDS];
	char why[200];
	long long ret;

	if (EXPECT(w, tu_ctl("sread %llu", (unsigned long long)(k * PAGE)), 0))
		return -1;
	ret = tu_get("sread_ret");
	if (ret == -EOPNOTSUPP)
		return -2;
	check(INV_ERRNO, ret == 0, "sread returned %lld", ret);
	if (ret)
		return -1;
	atomic_fetch_add(&static_reads, 1);
	v[0] = tu_u64("sread_w0");
	v[1] = tu_u64("sread_w1");
	v[2] = tu_u64("sread_w2");
	/* Any generation: only whose memory it is matters here. */
	if (v[1] >> 32 == (magic16 | (uint64_t)W_GEN << 32) >> 32)
		v[1] = word(W_GEN, 0);
	check(INV_IMPORT, words_ok(v, tu_s_id, 0, tu_s_index + k, why, sizeof(why)),
	      "static importer of file %lu page %#lx (phys %#llx) reads: %s",
	      tu_s_id, tu_s_index + k, tu_u64("sread_phys"), why);
	return 0;
}

/*
 * PFN backing page @index of the file with inode @ino, per the debugfs
 * extents dump; 0 for a hole.
 */
static unsigned long long extent_pfn(unsigned long long ino, uint64_t index)
{
	unsigned long long i, first, last, pfn, ret = 0;
	char line[256];
	FILE *f = fopen(GMEM_DEBUGFS "/extents", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%llu %llx %llx %llx", &i, &first, &last, &pfn) == 4 &&
		    i == ino && index >= first && index <= last) {
			ret = pfn + index - first;
			break;
		}
	if (f)
		fclose(f);
	return ret;
}

/*
 * With the exporting file locked (its extents cannot change), every page
 * the static importer maps must be memory the file still owns.
 */
static void static_owned(struct worker *w, struct slot *s)
{
	unsigned long long phys, pfn;
	struct stat st;
	uint64_t k;
	int i;

	if (fstat(s->fd, &st))
		return;
	for (i = 0; i < 4; i++) {
		k = below(&w->r, tu_s_pages);
		if (tu_ctl("sread %llu", (unsigned long long)(k * PAGE)) ||
		    tu_get("sread_ret"))
			return;
		phys = tu_u64("sread_phys");
		pfn = extent_pfn(st.st_ino, tu_s_index + k);
		check(INV_IMPORT, pfn && pfn * PAGE == phys,
		      "static importer of file %lu page %#lx maps phys %#llx, %s",
		      s->id, tu_s_index + k,
		      phys, pfn ? "not the file's page any more" :
		      "freed to the pool (punched)");
	}
}

/*
 * After a punch under the static importer: a new file takes memory from the
 * pool (likely what was just freed) and writes its words everywhere; the
 * importer must not see them.
 */
static void static_reuse(struct worker *w)
{
	struct slot t = { .fd = -1 };
	struct gmap m = { 0 };
	uint64_t k, n = tu_s_pages < 512 ? tu_s_pages : 512;

	t.size = (tu_s_index + n) * PAGE;
	t.fd = gmem_create(gdev, t.size, 0);
	if (t.fd < 0)
		return;
	t.id = atomic_fetch_add(&next_id, 1);
	t.page_gen = calloc(t.size / PAGE, sizeof(*t.page_gen));
	m.addr = gmem_map(t.fd, n * PAGE, tu_s_index * PAGE, 0);
	m.len = n * PAGE;
	m.off = tu_s_index * PAGE;
	m.prot = PROT_READ | PROT_WRITE;
	if (m.addr != MAP_FAILED && t.page_gen) {
		for (k = 0; k < n; k++)
			write_page(&t, &m, tu_s_index + k);
		for (k = 0; k < 8; k++)
			static_check(w, below(&w->r, n));
		/* And the pattern before this file lets go of it. */
		for (k = 0; k < n; k++)
			write_page(&t, &m, tu_s_index + k);
		munmap(m.addr, m.len);
	}
	free(t.page_gen);
	close(t.fd);
}

/*
 * A static importer (as DRM PRIME importers such as vgem are) gets no
 * move_notify: what it mapped must stay the exported file's memory, or the
 * export must refuse it. Read through its mapping like its device would.
 */
static void op_tu_static(struct worker *w)
{
	static int reported;
	struct slot *s;
	uint64_t k;
	int i;

	pthread_mutex_lock(&tu_mu);
	s = tu_s_id ? NULL : slot_get(w, 0);
	if (s) {
		pthread_mutex_lock(&s->mu);
		i = below(&w->r, NBUFS);
		for (k = 0; k < NBUFS && s->bufs[i] < 0; k++)
			i = (i + 1) % NBUFS;
		if (s->bufs[i] >= 0 &&
		    !EXPECT(w, tu_ctl("simport %d", s->bufs[i]), ENODEV, ENOMEM, EBUSY,
			    EINVAL, EOPNOTSUPP, EPERM)) {
			tu_s_id = s->id;
			tu_s_index = s->buf_off[i] / PAGE;
			tu_s_pages = s->buf_len[i] / PAGE;
		}
		pthread_mutex_unlock(&s->mu);
		pthread_rwlock_unlock(&s->lk);
	} else if (tu_s_id && below(&w->r, 8)) {
		if (static_check(w, below(&w->r, tu_s_pages)) == -2 && !reported++)
			diag("static import reads unavailable (test device behind an IOMMU?)");
	} else if (tu_s_id && below(&w->r, 2)) {
		/* Take the memory away under the importer: punch its range. */
		uint64_t gen = 0;

		for (i = 0; i < NSLOTS; i++) {
			s = &slots[i];
			pthread_rwlock_wrlock(&s->lk);
			if (s->fd >= 0 && s->id == tu_s_id) {
				gen = s->gen;
				punch_range(w, s, tu_s_index * PAGE, tu_s_pages * PAGE);
				gen = s->gen != gen;
				if (gen)
					static_owned(w, s);
			}
			pthread_rwlock_unlock(&s->lk);
		}
		if (gen)
			static_reuse(w);
	} else if (tu_s_id) {
		EXPECT(w, tu_ctl("sdetach"), 0);
		tu_s_id = 0;
	}
	pthread_mutex_unlock(&tu_mu);
}

/* ---- tdi ---- */

struct tdibuf {
	int fd, kind, revoked;
	uint64_t size;
	void *map;
	size_t maplen;
};

static struct tdi_env tdi;
static int tdi_ok;
static pthread_mutex_t tdi_mu = PTHREAD_MUTEX_INITIALIZER;
static struct tdibuf tbufs[NTDIBUFS];
static uint64_t cfg_off;
static int pm_cap;
static const char * const tdi_faults[] = {
	"none", "bind", "report", "start", "unbind", "short", "count",
	"outside", "overlap", "reserved", "wrap",
};

static void tbuf_close(struct worker *w, struct tdibuf *b);

static void op_tdi_bind(struct worker *w)
{
	unsigned int i;

	if (below(&w->r, 2)) {
		/* Bind is refused while a DMA-BUF is open: mostly close them. */
		pthread_mutex_lock(&tdi_mu);
		for (i = 0; i < NTDIBUFS && below(&w->r, 4); i++)
			if (tbufs[i].fd >= 0)
				tbuf_close(w, &tbufs[i]);
		pthread_mutex_unlock(&tdi_mu);
	}
	if (below(&w->r, 3))
		EXPECT(w, tdi_bind(tdi.dev), EBUSY, EALREADY, EBADMSG, EIO, ENODEV);
	else
		EXPECT(w, tdi_unbind(tdi.dev), ENOTCONN, EIO);
}

static void op_tdi_state(struct worker *w)
{
	struct tdi_dmabuf_range r[8];
	struct tdi_dmabuf_get_layout lay = { .count = below(&w->r, 9),
					     .ranges = (uintptr_t)r };
	struct tdi_dmabuf_state st;
	unsigned int i;

	if (below(&w->r, 2)) {
		if (!EXPECT(w, tdi_state(tdi.dev, &st), 0))
			check(INV_ERRNO, st.state <= TDI_DMABUF_STATE_ERROR &&
			      st.cause <= TDI_DMABUF_CAUSE_CLOSE,
			      "GET_STATE: state %u cause %u", st.state, st.cause);
		return;
	}
	if (EXPECT(w, ioctl(tdi.dev, TDI_DMABUF_IOCTL_GET_LAYOUT, &lay), ENOSPC))
		return;
	for (i = 1; i < lay.count && i < 8; i++)
		check(INV_ATTR, r[i].bar > r[i - 1].bar ||
		      (r[i].bar == r[i - 1].bar &&
		       r[i].offset >= r[i - 1].offset + r[i - 1].length),
		      "GET_LAYOUT fragments %u and %u unsorted or overlapping", i - 1, i);
}

static struct tdibuf *tbuf_pick(struct worker *w)
{
	struct tdibuf *b = &tbufs[below(&w->r, NTDIBUFS)];

	return b->fd >= 0 ? b : NULL;
}

static void tbuf_close(struct worker *w, struct tdibuf *b)
{
	if (b->map && (!w || below(&w->r, 2))) {
		munmap(b->map, b->maplen);
		b->map = NULL;
	}
	close(b->fd);
	b->fd = -1;
	if (b->map)
		munmap(b->map, b->maplen);
	b->map = NULL;
}

static void op_tdi_get_dmabuf(struct worker *w)
{
	struct tdi_dmabuf_get_dmabuf g = { 0 };
	struct tdibuf *b = NULL;
	int fd, i;

	g.bar = below(&w->r, 4) ? 0 : below(&w->r, 6);
	g.kind = below(&w->r, 2);
	g.open_flags = O_RDWR | O_CLOEXEC;
	fd = EXPECT(w, ioctl(tdi.dev, TDI_DMABUF_IOCTL_GET_DMABUF, &g), ENODEV,
		    ENOENT, EPERM, EIO, ENOMEM, EMFILE);
	if (fd < 0)
		return;
	pthread_mutex_lock(&tdi_mu);
	for (i = 0; i < NTDIBUFS; i++)
		if (tbufs[i].fd < 0)
			b = &tbufs[i];
	if (b) {
		memset(b, 0, sizeof(*b));
		b->fd = fd;
		b->kind = g.kind;
		b->size = g.size;
	} else {
		close(fd);
	}
	pthread_mutex_unlock(&tdi_mu);
}

static int tbuf_revoked(struct worker *w, struct tdibuf *b)
{
	struct tdi_dmabuf_range r[8];
	struct tdi_dmabuf_get_ranges gr;

	if (EXPECT(w, tdi_ranges(tdi.dev, b->fd, r, below(&w->r, 9), &gr), ENOSPC))
		return b->revoked;
	check(INV_REVOKE, !b->revoked || gr.revoked,
	      "tdi DMA-BUF reported revoked, then not revoked");
	check(INV_ERRNO, gr.kind == (uint32_t)b->kind, "GET_RANGES kind %u, exported %d",
	      gr.kind, b->kind);
	if (gr.revoked)
		b->revoked = 1;
	return b->revoked;
}

static void op_tdi_buf(struct worker *w)
{
	struct tdibuf *b;
	int k = below(&w->r, 4), was;
	__u32 v;
	void *p;

	pthread_mutex_lock(&tdi_mu);
	b = tbuf_pick(w);
	if (!b)
		goto out;
	was = tbuf_revoked(w, b);
	if (k == 0) {
		tbuf_close(w, b);
	} else if (k == 1 && !b->map) {
		size_t len = b->size < 0x10000 ? b->size : 0x10000;

		if (!len)
			goto out;
		p = mmap(NULL, len, PROT_READ, MAP_SHARED, b->fd, 0);
		if (b->kind == TDI_DMABUF_KIND_PRIVATE) {
			check(INV_PRIVATE, p == MAP_FAILED &&
			      (errno == EACCES || errno == ENODEV),
			      "mmap of a private tdi DMA-BUF: %s",
			      p == MAP_FAILED ? strerror(errno) : "succeeded");
		} else if (p != MAP_FAILED) {
			check(INV_REVOKE, !was, "mmap of a revoked tdi DMA-BUF succeeded");
		} else {
			EXPECT(w, -1, ENODEV, ENOMEM);
		}
		if (p != MAP_FAILED) {
			b->map = p;
			b->maplen = len;
		}
	} else if (b->map) {
		/* Touch: after a revocation the mapping must fault. */
		if (!probe_read32(b->map, &v) && was) {
			usleep(50000);	/* the zap follows the flag closely */
			check(INV_REVOKE, probe_read32(b->map, &v) == -1,
			      "revoked tdi DMA-BUF still readable through its mapping");
		}
	}
out:
	pthread_mutex_unlock(&tdi_mu);
}

static void op_tdi_fault(struct worker *w)
{
	if (below(&w->r, 3)) {
		fake("fault %s none", tdi.bdf);
		return;
	}
	EXPECT(w, fake("fault %s %s", tdi.bdf, tdi_faults[below(&w->r, ARRAY_SIZE(tdi_faults))]),
	       0);
}

static void op_tdi_error(struct worker *w)
{
	EXPECT(w, fake("error %s", tdi.bdf), ENOTCONN);
}

static void op_tdi_reset(struct worker *w)
{
	EXPECT(w, ioctl(tdi.dev, VFIO_DEVICE_RESET), EINVAL, EAGAIN, EBUSY, ENOTTY,
	       EIO);
}

static void op_tdi_config(struct worker *w)
{
	__u16 cmd, pmcsr;

	if (below(&w->r, 2) || !pm_cap) {
		if (EXPECT(w, pread(tdi.dev, &cmd, 2, cfg_off + 4) == 2 ? 0 : -1, EIO))
			return;
		if (below(&w->r, 3))
			cmd |= 0x2;	/* memory decode on is the usual state */
		else
			cmd &= ~0x2;
		/* EBUSY: memory decode off while an importer holds a DMA-BUF. */
		EXPECT(w, pwrite(tdi.dev, &cmd, 2, cfg_off + 4) == 2 ? 0 : -1, EIO, EINVAL,
		       EBUSY);
		return;
	}
	if (EXPECT(w, pread(tdi.dev, &pmcsr, 2, cfg_off + pm_cap + 4) == 2 ? 0 : -1, EIO))
		return;
	pmcsr = (pmcsr & ~3) | (below(&w->r, 2) ? 3 : 0);	/* D3hot or D0 */
	EXPECT(w, pwrite(tdi.dev, &pmcsr, 2, cfg_off + pm_cap + 4) == 2 ? 0 : -1, EIO,
	       EINVAL, EBUSY);
}

static void op_tdi_invalid(struct worker *w)
{
	struct tdi_dmabuf_get_dmabuf g = { .open_flags = O_RDWR };
	struct tdi_dmabuf_bind bd = { 0 };
	struct tdi_dmabuf_get_layout lay = { 0 };
	struct tdi_dmabuf_range r[2];
	int k = below(&w->r, 9), ret;

	switch (k) {
	case 0:
		g.bar = 6;
		break;
	case 1:
		g.kind = 2;
		break;
	case 2:
		g.flags = 1;
		break;
	case 3:
		g.open_flags = O_WRONLY | O_APPEND;
		break;
	case 4:
		g.size = 1;
		break;
	default:
		break;
	}
	if (k <= 4) {
		ret = ioctl(tdi.dev, TDI_DMABUF_IOCTL_GET_DMABUF, &g);
		expect_exact(w, ret, errno, EINVAL, "GET_DMABUF malformed");
	} else if (k == 5) {
		bd.reserved2[1] = 1;
		ret = ioctl(tdi.dev, below(&w->r, 2) ? TDI_DMABUF_IOCTL_BIND :
			    TDI_DMABUF_IOCTL_UNBIND, &bd);
		expect_exact(w, ret, errno, EINVAL, "BIND/UNBIND reserved");
	} else if (k == 6) {
		lay.reserved2 = 1;
		ret = ioctl(tdi.dev, TDI_DMABUF_IOCTL_GET_LAYOUT, &lay);
		expect_exact(w, ret, errno, EINVAL, "GET_LAYOUT reserved");
	} else if (k == 7) {
		/* An fd that is no DMA-BUF at all. */
		ret = tdi_ranges(tdi.dev, gdev, r, 2, NULL);
		expect_exact(w, ret, errno, EBADF, "GET_RANGES of a non-DMA-BUF fd");
	} else {
		/* A DMA-BUF of another exporter (a gmem export). */
		struct slot *s = slot_get(w, 0);
		int i;

		if (!s)
			return;
		pthread_mutex_lock(&s->mu);
		for (i = 0; i < NBUFS; i++)
			if (s->bufs[i] >= 0) {
				ret = tdi_ranges(tdi.dev, s->bufs[i], r, 2, NULL);
				expect_exact(w, ret, errno, EINVAL,
					     "GET_RANGES of a gmem DMA-BUF");
				break;
			}
		pthread_mutex_unlock(&s->mu);
		pthread_rwlock_unlock(&s->lk);
	}
}

/* ---- the table ---- */

#define OP(n, wgt) { .name = #n, .weight = (wgt), .fn = op_##n }

static struct op ops[] = {
	OP(create, 6), OP(close, 3), OP(mmap, 8), OP(munmap, 3), OP(mremap, 3),
	OP(mprotect, 3), OP(madvise, 3), OP(fork, 1), OP(touch, 14), OP(read, 14),
	OP(set_attr, 12), OP(get_attr, 8), OP(falloc, 4), OP(punch, 5),
	OP(export, 5), OP(vgem, 4), OP(dmabuf_close, 3), OP(stats, 2),
	OP(gmem_invalid, 4), OP(private_check, 4), OP(unload, 1),
	OP(tu_attach, 3), OP(tu_veto, 2), OP(tu_pin, 3), OP(tu_lookup, 5),
	OP(tu_dmabuf, 4), OP(tu_static, 4),
	OP(tdi_bind, 5), OP(tdi_state, 4), OP(tdi_get_dmabuf, 5),
	OP(tdi_buf, 8), OP(tdi_fault, 2), OP(tdi_error, 1), OP(tdi_reset, 1),
	OP(tdi_config, 2), OP(tdi_invalid, 2),
};

static unsigned int nops = ARRAY_SIZE(ops);
static unsigned int total_weight;

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	while (!atomic_load(&stop)) {
		uint64_t x = below(&w->r, total_weight);
		unsigned int i;

		for (i = 0; i < nops - 1 && x >= ops[i].weight; i++)
			x -= ops[i].weight;
		if ((!strncmp(ops[i].name, "tdi", 3) && !tdi_ok) ||
		    (ops[i].fn == op_vgem && vgem_fd < 0))
			continue;
		pthread_rwlock_rdlock(&quiesce);
		atomic_store(&w->op_since, now_ms());
		atomic_store(&w->op, i);
		atomic_fetch_add(&ops[i].calls, 1);
		w->cur = &ops[i];
		ops[i].fn(w);
		atomic_store(&w->op, -1);
		w->iter++;
		pthread_rwlock_unlock(&quiesce);
	}
	return NULL;
}

/* ---- global invariants (workers paused) ---- */

struct extent {
	unsigned long long ino, first, last, pfn;
};

static int cmp_extent(const void *a, const void *b)
{
	const struct extent *x = a, *y = b;

	return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

/*
 * Pool accounting and the PFN map; returns the number of violations, and
 * reports them only if @report (a first pass lets late frees settle).
 */
static int check_pool(const char *when, int report)
{
	static struct extent ext[262144];
	unsigned long long rs[4], re[4], pages = 0, end = 0;
	long long total, freeb, used;
	char line[256];
	unsigned int n = 0, nr = 0, i, j, prev = 0, bad = 0;
	FILE *f;

#define CHK(inv, cond, ...) do {					\
	int __c = (cond);						\
	if (!__c)							\
		bad++;							\
	if (report)							\
		check(inv, __c, __VA_ARGS__);				\
} while (0)
	total = pool_value("total");
	freeb = pool_value("free");
	used = pool_value("used");
	CHK(INV_ACCOUNT, total > 0 && freeb >= 0 && used >= 0 && freeb + used == total,
	    "%s: pool free %lld + used %lld != total %lld", when, freeb, used, total);

	f = fopen(GMEM_DEBUGFS "/pool", "r");
	while (f && fgets(line, sizeof(line), f))
		if (nr < 4 && sscanf(line, "range %llx-%llx", &rs[nr], &re[nr]) == 2)
			nr++;
	if (f)
		fclose(f);
	f = fopen(GMEM_DEBUGFS "/extents", "r");
	CHK(INV_PFN, !!f, "%s: no debugfs extents file", when);
	if (!f)
		return bad;
	while (n < ARRAY_SIZE(ext) && fgets(line, sizeof(line), f))
		if (sscanf(line, "%llu %llx %llx %llx", &ext[n].ino, &ext[n].first,
			   &ext[n].last, &ext[n].pfn) == 4)
			n++;
	fclose(f);
	qsort(ext, n, sizeof(ext[0]), cmp_extent);
	for (i = 0; i < n; i++) {
		unsigned long long len = ext[i].last - ext[i].first + 1;
		unsigned long long a = ext[i].pfn * PAGE, b = a + len * PAGE - 1;
		int inside = 0;

		pages += len;
		for (j = 0; j < nr; j++)
			inside |= a >= rs[j] && b <= re[j];
		CHK(INV_PFN, inside,
		    "%s: file %llu pages %#llx-%#llx at %#llx outside the pool",
		    when, ext[i].ino, ext[i].first, ext[i].last, a);
		/* Sorted by PFN: an overlap shows against the furthest end. */
		CHK(INV_PFN, !i || end <= ext[i].pfn,
		    "%s: PFN %#llx backs file %llu page %#llx and file %llu page %#llx",
		    when, ext[i].pfn, ext[prev].ino,
		    ext[prev].first + ext[i].pfn - ext[prev].pfn, ext[i].ino,
		    ext[i].first);
		if (ext[i].pfn + len > end) {
			end = ext[i].pfn + len;
			prev = i;
		}
	}
	CHK(INV_ACCOUNT, used >= 0 && pages * PAGE == (unsigned long long)used,
	    "%s: extents of open files add up to %llu bytes, pool used %lld", when,
	    pages * PAGE, used);
#undef CHK
	return bad;
}

static int check_pool_settled(const char *when)
{
	if (check_pool(when, 0))
		usleep(300000);
	return check_pool(when, 1);
}

/* Pause the workers; 0, or -1 if one is stuck in an operation. */
static int pause_workers(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += HANG_MS / 1000;
	return pthread_rwlock_timedwrlock(&quiesce, &ts) ? -1 : 0;
}

static void report_stuck(void)
{
	unsigned int i;

	for (i = 0; i < nthreads; i++) {
		int op = atomic_load(&workers[i].op);
		uint64_t since = atomic_load(&workers[i].op_since), now = now_ms();

		if (op >= 0 && now > since && now - since > HANG_MS)
			check(INV_HANG, 0, "thread %u stuck in %s for %llu ms", i,
			      ops[op].name, (unsigned long long)(now - since));
	}
}

/* Where the main thread is, for the watchdog. */
static atomic_ullong main_since;
static const char *main_doing;	/* atomic accesses only */

static void dump_tasks(void)
{
	char path[300], buf[4096];
	struct dirent *e;
	DIR *d = opendir("/proc/self/task");
	ssize_t n;
	int fd;

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat", e->d_name);
		fd = open(path, O_RDONLY);
		n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : 0;
		if (fd >= 0)
			close(fd);
		buf[n > 0 ? n : 0] = 0;
		printf("# task %s: %.80s\n", e->d_name, buf);
		snprintf(path, sizeof(path), "/proc/self/task/%s/stack", e->d_name);
		fd = open(path, O_RDONLY);
		n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : 0;
		if (fd >= 0)
			close(fd);
		buf[n > 0 ? n : 0] = 0;
		for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"))
			printf("#   %s\n", l);
	}
	if (d)
		closedir(d);
	fflush(stdout);
}

static void report_hang(const char *who, const char *what, uint64_t ms)
{
	printf("not ok %d - no operation hung: %s in %s for %llu s, seed=%lu\n",
	       ++tap_n, who, what, (unsigned long long)ms / 1000, seed);
}

/*
 * A stuck operation is a failure: say which, show where every thread of
 * ours is and have the kernel print its blocked tasks, then give up (the
 * runner's timeout ends the test if a thread cannot be killed).
 */
/* ---- memory of the guest ---- */

static long long meminfo_kib(const char *key)
{
	char line[256];
	size_t n = strlen(key);
	long long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':') {
			v = strtoll(line + n + 1, NULL, 10);
			break;
		}
	if (f)
		fclose(f);
	return v;
}

static long long mem_start_kib, mem_min_kib = -1;
static char mem_min_at[320];

/*
 * One sample, from the watchdog thread: the lowest MemAvailable is reported
 * at the end. With cchost.stress_memlog=1, or when the guest runs short, the
 * sample also goes straight to the console (the runner prints this
 * program's output only when it has exited), where it survives a guest
 * that dies first.
 */
static void mem_sample(uint64_t now)
{
	long long avail = meminfo_kib("MemAvailable");
	char line[200];
	int fd;

	if (avail < 0)
		return;
	snprintf(line, sizeof(line),
		 "t=%llus MemAvailable=%lldM Slab=%lldM VmallocUsed=%lldM PageTables=%lldM Shmem=%lldM",
		 (unsigned long long)(now - t_start) / 1000, avail >> 10,
		 meminfo_kib("Slab") >> 10, meminfo_kib("VmallocUsed") >> 10,
		 meminfo_kib("PageTables") >> 10, meminfo_kib("Shmem") >> 10);
	if (mem_min_kib < 0 || avail < mem_min_kib) {
		mem_min_kib = avail;
		snprintf(mem_min_at, sizeof(mem_min_at), "%s (%s)", line,
			 __atomic_load_n(&main_doing, __ATOMIC_RELAXED) ?: "stress");
	}
	if (!memlog && avail > 256 * 1024)
		return;
	fd = open("/dev/console", O_WRONLY | O_NOCTTY);
	if (fd >= 0) {
		dprintf(fd, "# cchost stress: %s\n", line);
		close(fd);
	}
}

static void *watchdog_main(void *arg)
{
	unsigned int i;

	uint64_t dumped[MAX_THREADS] = { 0 };

	for (;;) {
		const char *doing;
		uint64_t now, since;
		int op, stuck = 0;

		sleep(1);
		now = now_ms();
		if (now / 1000 % 2 == 0)
			mem_sample(now);
		for (i = 0; i < nthreads; i++) {
			op = atomic_load(&workers_op(i));
			since = atomic_load(&workers_since(i));
			/* Slow: show where everyone is, once per operation. */
			if (op >= 0 && now > since && now - since > HANG_MS / 2 &&
			    dumped[i] != since) {
				dumped[i] = since;
				printf("# thread %u in %s for %llu s (seed=%lu):\n", i,
				       ops[op].name, (unsigned long long)(now - since) / 1000,
				       seed);
				dump_tasks();
			}
			if (op >= 0 && now > since && now - since > HANG_MS) {
				char who[32];

				snprintf(who, sizeof(who), "thread %u", i);
				report_hang(who, ops[op].name, now - since);
				stuck = 1;
			}
		}
		since = atomic_load(&main_since);
		doing = __atomic_load_n(&main_doing, __ATOMIC_RELAXED);
		if (doing && now > since && now - since > HANG_MS) {
			report_hang("main thread", doing, now - since);
			stuck = 1;
		}
		if (!stuck)
			continue;
		dump_tasks();
		sysfs_write("/proc/sysrq-trigger", "w");
		printf("1..%d\n", tap_n);
		fflush(stdout);
		_exit(1);
	}
	return NULL;
}

static void main_enter(const char *what)
{
	atomic_store(&main_since, now_ms());
	__atomic_store_n(&main_doing, what, __ATOMIC_RELAXED);
}

/* ---- allocation fault injection ---- */

static const char * const fi_dirs[] = {
	"/sys/kernel/debug/failslab", "/sys/kernel/debug/fail_page_alloc",
};

/*
 * Write one attribute of every fault-injection point. A write can itself
 * hit an injected failure whenever the task filter is off and the
 * probability is not 0: retry, so that turning injection off cannot fail.
 */
static int fi_write(const char *file, const char *val)
{
	unsigned int i, n;
	char p[128];
	int ret = 0;

	for (i = 0; i < ARRAY_SIZE(fi_dirs); i++) {
		snprintf(p, sizeof(p), "%s/%s", fi_dirs[i], file);
		if (access(p, F_OK))
			continue;
		for (n = 0; n < 1000 && sysfs_write(p, val); n++)
			;
		if (n == 1000)
			ret = -1;
	}
	return ret;
}

/*
 * Injection for the tasks that ask for it (make-it-fail) only. The order
 * matters: the task filter is on before the probability rises, and the
 * probability is back at 0 before the filter goes off. The other order
 * leaves a window where every allocation in the guest fails one time in
 * five; a write of the probability that failed in that window left it
 * there, and PID 1 died of a failed pipe() after this program exited.
 */
static int fi_setup(int on)
{
	int ret = 0;

	if (on) {
		ret |= fi_write("task-filter", "Y");
		ret |= fi_write("interval", "1");
		ret |= fi_write("times", "-1");
		ret |= fi_write("space", "0");
		ret |= fi_write("verbose", "0");
		ret |= fi_write("ignore-gfp-wait", "N");
		ret |= fi_write("min-order", "0");
		return ret ?: fi_write("probability", "20");
	}
	ret |= fi_write("probability", "0");
	ret |= fi_write("times", "0");
	return ret ?: fi_write("task-filter", "N");
}

/* Is injection off at every point (probability 0)? */
static int fi_off(void)
{
	unsigned int i;
	char p[128];

	for (i = 0; i < ARRAY_SIZE(fi_dirs); i++) {
		unsigned long v = 1;

		snprintf(p, sizeof(p), "%s/probability", fi_dirs[i]);
		if (access(p, F_OK) == 0 && (sysfs_read_hex(p, &v) || v))
			return 0;
	}
	return 1;
}

static int make_it_fail(int on)
{
	int i;

	/* Turning it off may itself hit an injected failure: retry. */
	for (i = 0; i < 1000; i++)
		if (!sysfs_write("/proc/thread-self/make-it-fail", on ? "1" : "0"))
			return 0;
	return -1;
}

/* One call under injection; its errno must be documented (or ENOMEM). */
static unsigned long fi_calls, fi_failed, fi_bad;

static void fi_one(int ret, int err, const int *allowed, const char *what)
{
	const int *a;
	int good = ret >= 0 || err == ENOMEM;

	fi_calls++;
	if (ret < 0)
		fi_failed++;
	for (a = allowed; !good && *a; a++)
		good = *a == err;
	if (!good) {
		fi_bad++;
		if (fi_bad <= 5)
			diag("fault injection: %s failed with %d (%s)", what, err,
			     strerror(err));
	}
}

#define FI_CALL(what, call, ...) do {					\
	static const int __al[] = { __VA_ARGS__, 0 };			\
	const char *__what = (what);					\
	int __r, __e;							\
	make_it_fail(1);						\
	__r = (call);							\
	__e = errno;							\
	make_it_fail(0);						\
	if (__r >= 0 && __what[0] == '+')				\
		close(__r);						\
	fi_one(__r, __e, __al, __what);					\
} while (0)

static void fault_injection(void)
{
	struct gmem_pfnpool_set_attr sa = { .size = 2 * MIB };
	struct gmem_pfnpool_get_attr ga = { 0 };
	struct gmem_pfnpool_export_dmabuf ex = { .size = PAGE };
	struct gmem_pfnpool_create c = { .size = 4 * MIB };
	struct gmem_pfnpool_stats st = { 0 };
	int fd, i, bad;

	if (access("/sys/kernel/debug/failslab", F_OK) ||
	    access("/sys/kernel/debug/fail_page_alloc", F_OK)) {
		ok(1, "fault injection # SKIP no CONFIG_FAILSLAB/CONFIG_FAIL_PAGE_ALLOC");
		return;
	}
	if (!ok(fi_setup(1) == 0, "failslab and fail_page_alloc set up, task-filter"))
		return;
	/* No page faults of ours under injection: only the calls may fail. */
	mlockall(MCL_CURRENT);
	fd = gmem_create(gdev, 4 * MIB, 0);
	for (i = 0; i < 40 && fd >= 0; i++) {
		FI_CALL("+CREATE", ioctl(gdev, GMEM_PFNPOOL_IOC_CREATE, &c), EMFILE);
		sa.attr = i & 1;
		FI_CALL("SET_ATTR", ioctl(fd, GMEM_PFNPOOL_IOC_SET_ATTR, &sa), EBUSY);
		FI_CALL("GET_ATTR", ioctl(fd, GMEM_PFNPOOL_IOC_GET_ATTR, &ga), 0);
		FI_CALL("+EXPORT", ioctl(fd, GMEM_PFNPOOL_IOC_EXPORT_DMABUF, &ex), EINVAL,
			EAGAIN, ENOSPC);
		FI_CALL("STATS", ioctl(fd, GMEM_PFNPOOL_IOC_STATS, &st), 0);
		FI_CALL("fallocate", fallocate(fd, 0, 0, 4 * MIB), ENOSPC);
		FI_CALL("punch", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					   2 * MIB, 2 * MIB), EBUSY);
		FI_CALL("testuser attach", tu_ctl("attach %d", fd), EBUSY, ENOENT);
		FI_CALL("testuser lookup", tu_ctl("lookup 0"), ENOENT);
		FI_CALL("testuser pin", tu_ctl("pin 0 4096"), EAGAIN, ENOENT);
		tu_ctl("unpin 0 4096");
		tu_ctl("detach");
		if (!tdi_ok)
			continue;
		FI_CALL("tdi BIND", tdi_bind(tdi.dev), EBUSY, EALREADY, EIO, EBADMSG);
		FI_CALL("+tdi GET_DMABUF", tdi_get_dmabuf(tdi.dev, 0, i & 1, NULL), ENOENT,
			EPERM, EIO);
		FI_CALL("tdi UNBIND", tdi_unbind(tdi.dev), ENOTCONN, EIO);
	}
	ok(fi_setup(0) == 0 && fi_off(),
	   "fault injection off again (probability 0 before the task filter goes)");
	munlockall();
	if (fd >= 0)
		close(fd);
	ok(fd >= 0 && fi_bad == 0,
	   "under injected allocation failures every call gave success or a documented errno (%lu calls, %lu failed)",
	   fi_calls, fi_failed);
	bad = check_pool_settled("after fault injection");
	ok(bad == 0, "pool accounting and PFN map intact after fault injection");
}

/* ---- setup and the run ---- */

static void tdi_prepare(void)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri),
				       .index = VFIO_PCI_CONFIG_REGION_INDEX };
	__u8 pos = 0, id;
	int guard;

	if (tdi_setup(&tdi, 1))
		return;
	if (!ok(fake_setup_edu(tdi.bdf) == 0, "fake provider serves %s", tdi.bdf))
		return;
	if (!ok(ioctl(tdi.dev, VFIO_DEVICE_GET_REGION_INFO, &ri) == 0,
		"config region of the VFIO device"))
		return;
	cfg_off = ri.offset;
	pread(tdi.dev, &pos, 1, cfg_off + 0x34);
	for (guard = 0; pos && guard < 48; guard++) {
		if (pread(tdi.dev, &id, 1, cfg_off + pos) != 1)
			break;
		if (id == 0x01) {
			pm_cap = pos;
			break;
		}
		if (pread(tdi.dev, &pos, 1, cfg_off + pos + 1) != 1)
			break;
	}
	if (!pm_cap)
		diag("edu has no power management capability: D3hot op skipped");
	tdi_ok = 1;
}

static void tdi_finish(void)
{
	__u16 cmd;
	int i;

	for (i = 0; i < NTDIBUFS; i++)
		if (tbufs[i].fd >= 0)
			tbuf_close(NULL, &tbufs[i]);
	if (!tdi_ok)
		return;
	fake("fault %s none", tdi.bdf);
	if (pm_cap && pread(tdi.dev, &cmd, 2, cfg_off + pm_cap + 4) == 2) {
		cmd &= ~3;
		pwrite(tdi.dev, &cmd, 2, cfg_off + pm_cap + 4);
	}
	if (pread(tdi.dev, &cmd, 2, cfg_off + 4) == 2) {
		cmd |= 0x2;
		pwrite(tdi.dev, &cmd, 2, cfg_off + 4);
	}
	tdi_unbind(tdi.dev);
	ok(tdi_bind(tdi.dev) == 0 && tdi_state_of(tdi.dev) == TDI_DMABUF_STATE_RUN &&
	   tdi_unbind(tdi.dev) == 0,
	   "after the run, with faults cleared and decode on, the TDI binds and unbinds");
	fake("del %s", tdi.bdf);
}

int main(void)
{
	pthread_rwlockattr_t ra;
	pthread_t watchdog;
	uint64_t t_end, next_check, elapsed;
	unsigned long total = 0;
	unsigned int i, checks = 0;
	int used_end, bad;

	setvbuf(stdout, NULL, _IOLBF, 0);
	read_cmdline();
	magic16 = (0x8000ULL | (seed & 0x7fff)) << 48;
	printf("# seed=%lu duration=%us threads=%u\n", seed, duration, nthreads);
	printf("# reproduce: make stress SEED=%lu DURATION=%u\n", seed, duration);
	kmsg_seed();
	install_handlers();
	signal(SIGPIPE, SIG_IGN);

	if (!ok(gmem_load() == 0, "load gmem_pfnpool") ||
	    !ok(run("modload gmem_pfnpool_testuser") == 0, "load gmem_pfnpool_testuser"))
		return tap_done();
	gdev = gmem_dev();
	if (!ok(gdev >= 0, "open " GMEM_DEV))
		return tap_done();
	vgem_fd = vgem_open();
	if (vgem_fd >= 0)
		ok(1, "DRM vgem present: DMA-BUFs are imported by a real importer");
	else
		ok(1, "DRM vgem import # SKIP no vgem device in this guest (op skipped)");
	tdi_prepare();
	if (!tdi_ok)
		diag("tdi setup failed: tdi operations skipped");

	for (i = 0; i < NSLOTS; i++) {
		int j;

		pthread_rwlock_init(&slots[i].lk, NULL);
		pthread_mutex_init(&slots[i].mu, NULL);
		slots[i].fd = -1;
		for (j = 0; j < NBUFS; j++)
			slots[i].bufs[j] = -1;
	}
	for (i = 0; i < NTDIBUFS; i++)
		tbufs[i].fd = -1;
	for (i = 0; i < nops; i++)
		total_weight += ops[i].weight;
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&quiesce, &ra);

	mem_start_kib = meminfo_kib("MemAvailable");
	t_start = now_ms();
	t_end = t_start + duration * 1000ULL;
	next_check = t_start + 3000;
	for (i = 0; i < nthreads; i++) {
		workers[i].idx = i;
		workers[i].r.s = seed ^ (0x9E3779B97F4A7C15ULL * (i + 1));
		if (!workers[i].r.s)
			workers[i].r.s = 1;
		atomic_store(&workers[i].op, -1);
		pthread_create(&workers[i].th, NULL, worker_main, &workers[i]);
	}
	pthread_create(&watchdog, NULL, watchdog_main, NULL);
	while (now_ms() < t_end) {
		usleep(200000);
		report_stuck();
		if (now_ms() < next_check)
			continue;
		if (pause_workers()) {
			report_stuck();
			break;
		}
		main_enter("pool check");
		check_pool_settled("during the run");
		__atomic_store_n(&main_doing, NULL, __ATOMIC_RELAXED);
		checks++;
		pthread_rwlock_unlock(&quiesce);
		next_check = now_ms() + 3000;
	}
	atomic_store(&stop, 1);
	elapsed = now_ms() - t_start;
	if (pause_workers()) {
		report_stuck();
		ok(0, "workers stopped (a thread is stuck in the kernel)");
		return tap_done();
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(workers[i].th, NULL);
	main_enter("pool check after the run");
	check_pool_settled("after the run");
	checks++;

	/* Coverage. */
	for (i = 0; i < nops; i++)
		total += atomic_load(&ops[i].calls);
	diag("%lu operations in %.1f s: %.0f ops/s over %u threads", total,
	     elapsed / 1000.0, total * 1000.0 / (elapsed ? elapsed : 1), nthreads);
	for (i = 0; i < nops; i++) {
		char errs[256] = "";
		size_t len = 0;
		int e;

		for (e = 0; e < MAX_ERRNO; e++) {
			unsigned long n = atomic_load(&ops[i].errnos[e]);
			const char *name = e ? strerrorname_np(e) : NULL;

			if (n && len < sizeof(errs) - 32)
				len += snprintf(errs + len, sizeof(errs) - len, " %s:%lu",
						name ? name : "?", n);
		}
		diag("op %-15s %7lu calls %8.1f/s %7lu failed%s", ops[i].name,
		     atomic_load(&ops[i].calls),
		     atomic_load(&ops[i].calls) * 1000.0 / (elapsed ? elapsed : 1),
		     atomic_load(&ops[i].errors), errs);
	}
	diag("pages written %lu, checked %lu, read by the static importer %lu; pool checks %u",
	     atomic_load(&pages_written), atomic_load(&pages_checked),
	     atomic_load(&static_reads), checks);

	main_enter("fault injection");
	fault_injection();
	main_enter("closing everything");

	/* Close everything, in slot order; the test user lets go last. */
	for (i = 0; i < NSLOTS; i++)
		if (slots[i].fd >= 0)
			slot_close(NULL, &slots[i]);
	tu_ctl("dmabuf_detach");
	tu_ctl("sdetach");
	tu_ctl("unpin 0 0");
	tu_ctl("detach");
	tu_ctl("veto 0");
	tu_ctl("delay 0");
	if (vgem_fd >= 0)
		close(vgem_fd);
	main_enter("tdi teardown");
	tdi_finish();
	main_enter("final pool check");
	bad = check_pool_settled("after everything was closed");
	diag("MemAvailable: %lld MiB at the start, %lld MiB now, lowest %s",
	     mem_start_kib >> 10, meminfo_kib("MemAvailable") >> 10, mem_min_at);
	used_end = pool_value("used");

	ok(inv_fails[INV_ERRNO] == 0, "every call succeeded or gave a documented errno (%lu)",
	   atomic_load(&inv_checks[INV_ERRNO]) + total);
	ok(inv_fails[INV_ACCOUNT] == 0, "pool free + used == total, extents sum to used (%lu)",
	   atomic_load(&inv_checks[INV_ACCOUNT]));
	ok(inv_fails[INV_PFN] == 0, "no PFN backs two files, every extent in the pool (%lu checks)",
	   atomic_load(&inv_checks[INV_PFN]));
	ok(inv_fails[INV_DATA] == 0,
	   "memory handed out again reads zero: no other file's, punched or other page's data (%lu pages)",
	   atomic_load(&inv_checks[INV_DATA]));
	ok(inv_fails[INV_PRIVATE] == 0,
	   "private memory unreadable: SIGBUS, /proc/self/mem and process_vm_readv give no pool data (%lu checks)",
	   atomic_load(&inv_checks[INV_PRIVATE]));
	ok(inv_fails[INV_REVOKE] == 0, "revoked DMA-BUFs stay revoked (%lu checks)",
	   atomic_load(&inv_checks[INV_REVOKE]));
	ok(inv_fails[INV_ATTR] == 0, "GET_ATTR, veto reports and lookups consistent (%lu checks)",
	   atomic_load(&inv_checks[INV_ATTR]));
	ok(inv_fails[INV_UNLOAD] == 0, "unloading a module in use is refused (%lu attempts)",
	   atomic_load(&inv_checks[INV_UNLOAD]));
	ok(inv_fails[INV_HANG] == 0, "no operation hung (limit %d s)", HANG_MS / 1000);
	ok(inv_fails[INV_LOOKUP] == 0,
	   "a lookup never returns a huge order over a block with a conversion in flight (%lu checks)",
	   atomic_load(&inv_checks[INV_LOOKUP]));
	ok(inv_fails[INV_IMPORT] == 0,
	   "a static DMA-BUF importer never maps memory its file gave back (%lu checks)",
	   atomic_load(&inv_checks[INV_IMPORT]));
	ok(bad == 0 && used_end == 0, "everything closed: the pool is whole again (used %d)",
	   used_end);

	main_enter("unloading");
	if (tdi_ok || tdi.bdf[0])
		tdi_teardown(&tdi, 1);
	close(gdev);
	ok(run("modload -r gmem_pfnpool_testuser") == 0, "unload gmem_pfnpool_testuser");
	ok(gmem_unload() == 0, "unload gmem_pfnpool");
	if (vgem_fd >= 0)
		run("modload -r vgem >/dev/null 2>&1");
	if (tap_failed)
		printf("# reproduce: make stress SEED=%lu DURATION=%u\n", seed, duration);
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * A conversion whose users take long to prepare (the test user sleeps in
 * prepare) must not spread its wait:
 *  - a fault on the range in flight waits without mmap_lock: another thread
 *    of the process can mmap() and munmap() (mmap_lock for write) while the
 *    conversion is still in flight, and the fault completes afterwards;
 *  - SIGKILL of the converting task ends the conversion with nothing
 *    changed: the users that prepared are aborted, none commits, the
 *    attribute and the mapping stay;
 *  - registering a user (a DMA-BUF export) behind such a conversion waits
 *    killably: SIGKILL ends the waiting task while the conversion is still
 *    in flight;
 *  - on a kernel with lockdep, a fault tells lockdep that it may wait for
 *    the users' callbacks with mmap_lock held (mmap_lock ->
 *    gmem_pfnpool_invalidate in /proc/lockdep), so a callback taking
 *    mmap_lock is reported.
 * Each "while in flight" is decided by the test user's counters (prepared,
 * neither committed nor aborted yet), not by timing.
 */
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>
#include "gmem_test.h"

#define FSIZE (16 * MIB)
#define DELAY_MS 2000

struct conv {
	int fd;
	uint64_t off, size;
	uint32_t attr;
	int ret, err;
	int done;
};

static void *conv_thread(void *arg)
{
	struct conv *c = arg;

	c->ret = gmem_set_attr(c->fd, c->off, c->size, c->attr, NULL);
	c->err = errno;
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

struct toucher {
	uint8_t *p;
	uint8_t val;
	int done;
};

static void *touch_thread(void *arg)
{
	struct toucher *t = arg;

	t->val = __atomic_load_n(t->p, __ATOMIC_RELAXED);
	__atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Wait until the test user's "prepare" count exceeds @n; 0 or -1. */
static int wait_prepared(long long n)
{
	long long end = now_ms() + 10000;

	while (now_ms() < end) {
		if (tu_value("prepare") > n)
			return 0;
		usleep(5000);
	}
	return -1;
}

/* Has the test user neither committed nor aborted since the counts given? */
static int in_flight(long long commit0, long long abort0)
{
	return tu_value("commit") == commit0 && tu_value("abort") == abort0;
}

/* State letter of a task (/proc/PID/stat), or '?'. */
static char task_state(pid_t pid)
{
	char path[64], buf[512], *s;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return '?';
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	s = strrchr(buf, ')');
	return s && s[1] == ' ' ? s[2] : '?';
}

/* Does /proc/lockdep record a fault's wait: mmap_lock -> the callbacks? */
static int lockdep_fault_dependency(void)
{
	char line[512];
	int in_mmap = 0, found = 0;
	FILE *f = fopen("/proc/lockdep", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] != ' ') {
			size_t n = strlen(line);

			while (n && (line[n - 1] == '\n' || line[n - 1] == ' '))
				line[--n] = '\0';
			in_mmap = n >= 14 && !strcmp(line + n - 14,
						     "&mm->mmap_lock");
			continue;
		}
		if (in_mmap && strstr(line, "gmem_pfnpool_invalidate"))
			found = 1;
	}
	fclose(f);
	return found;
}

static void fault_without_mmap_lock(int fd, uint8_t *p)
{
	long long prep0 = tu_value("prepare"), commit0 = tu_value("commit");
	long long abort0 = tu_value("abort"), t0, t1, end;
	struct conv c = {
		.fd = fd, .off = 0, .size = 2 * MIB,
		.attr = GMEM_PFNPOOL_ATTR_SHARED,
	};
	struct toucher t = { .p = p };
	struct gmem_pfnpool_stats s0, s1;
	pthread_t ct, tt;
	int flying, entered = 0;
	void *m;

	ok(pthread_create(&ct, NULL, conv_thread, &c) == 0,
	   "a thread converts [0, 2 MiB) to shared");
	ok(wait_prepared(prep0) == 0, "the test user is preparing (%d ms)",
	   DELAY_MS);

	s0 = gmem_stats(fd);
	ok(pthread_create(&tt, NULL, touch_thread, &t) == 0,
	   "another thread touches page 0, in flight");
	for (end = now_ms() + 1000; now_ms() < end; usleep(1000)) {
		s1 = gmem_stats(fd);
		if (s1.faults > s0.faults) {
			entered = 1;
			break;
		}
	}
	ok(entered, "its fault reached gmem_pfnpool");
	usleep(100000);

	/* mmap_lock for write: waits for every fault that holds it. */
	t0 = now_ms();
	m = mmap(NULL, 4 * KIB, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m != MAP_FAILED)
		munmap(m, 4 * KIB);
	t1 = now_ms();
	flying = in_flight(commit0, abort0) &&
		 !__atomic_load_n(&c.done, __ATOMIC_ACQUIRE);
	ok(m != MAP_FAILED && flying,
	   "mmap() and munmap() complete while the conversion is in flight (%lld ms): the fault waits without mmap_lock",
	   t1 - t0);
	ok(!__atomic_load_n(&t.done, __ATOMIC_ACQUIRE),
	   "the fault still waits for the conversion");

	pthread_join(ct, NULL);
	pthread_join(tt, NULL);
	ok(c.ret == 0, "the conversion succeeds (%s)",
	   c.ret ? strerror(c.err) : "0");
	ok(t.val == 0x5a, "the fault completes after it and reads the data (%#x)",
	   t.val);
	s1 = gmem_stats(fd);
	diag("faults on the file during the conversion: %llu",
	     (unsigned long long)(s1.faults - s0.faults));
}

static void kill_converting_task(int fd, uint8_t *p)
{
	long long prep0 = tu_value("prepare"), commit0 = tu_value("commit");
	long long abort0 = tu_value("abort");
	struct gmem_pfnpool_stats s0, s1;
	int st = 0;
	uint8_t v = 0;
	pid_t pid;

	s0 = gmem_stats(fd);
	pid = fork();
	if (!pid)
		_exit(gmem_set_attr(fd, 2 * MIB, 2 * MIB,
				    GMEM_PFNPOOL_ATTR_PRIVATE, NULL) ? 2 : 0);
	ok(pid > 0 && wait_prepared(prep0) == 0,
	   "a child converts [2 MiB, 4 MiB) to private; the test user prepares");
	ok(pid > 0 && kill(pid, SIGKILL) == 0 && waitpid(pid, &st, 0) == pid &&
	   WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	   "SIGKILL ends the converting child");
	ok(tu_value("commit") == commit0 && tu_value("abort") == abort0 + 1,
	   "the test user was aborted, not committed (commit %lld->%lld, abort %lld->%lld)",
	   commit0, tu_value("commit"), abort0, tu_value("abort"));
	ok(gmem_get_attr(fd, 2 * MIB, NULL, NULL) == GMEM_PFNPOOL_ATTR_SHARED &&
	   gmem_get_attr(fd, 4 * MIB - 4 * KIB, NULL, NULL) ==
	   GMEM_PFNPOOL_ATTR_SHARED, "nothing changed: the range is shared");
	s1 = gmem_stats(fd);
	ok(s1.conversions == s0.conversions && s1.vetoes == s0.vetoes,
	   "counted neither as a conversion nor as a veto");
	ok(probe_read(p + 2 * MIB, &v) == 0 && v == 0x5a &&
	   probe_read(p + 4 * MIB - 1, &v) == 0 && v == 0x5a,
	   "the range still reads its contents");
	ok(tu_ctl("delay 0") == 0 &&
	   gmem_set_attr(fd, 2 * MIB, 2 * MIB, GMEM_PFNPOOL_ATTR_PRIVATE,
			 NULL) == 0 &&
	   gmem_set_attr(fd, 2 * MIB, 2 * MIB, GMEM_PFNPOOL_ATTR_SHARED,
			 NULL) == 0,
	   "the range is not left blocked: converting it again succeeds");
	tu_ctl("delay %d", DELAY_MS);
}

static void register_killable(int fd)
{
	long long prep0 = tu_value("prepare"), commit0 = tu_value("commit");
	long long abort0 = tu_value("abort"), end;
	struct conv c = {
		.fd = fd, .off = 4 * MIB, .size = 2 * MIB,
		.attr = GMEM_PFNPOOL_ATTR_PRIVATE,
	};
	int st = 0, reaped = 0, flying = 0;
	char state = '?';
	pthread_t ct;
	pid_t pid;

	ok(pthread_create(&ct, NULL, conv_thread, &c) == 0 &&
	   wait_prepared(prep0) == 0,
	   "a thread converts [4 MiB, 6 MiB) to private; the test user prepares");
	pid = fork();
	if (!pid) {
		struct gmem_pfnpool_export_dmabuf e = {
			.offset = 8 * MIB, .size = 2 * MIB,
		};

		_exit(ioctl(fd, GMEM_PFNPOOL_IOC_EXPORT_DMABUF, &e) < 0 ? 2 : 0);
	}
	for (end = now_ms() + 2000; pid > 0 && now_ms() < end; usleep(2000)) {
		state = task_state(pid);
		if (state == 'D')
			break;
	}
	ok(state == 'D' && in_flight(commit0, abort0),
	   "a child exporting [8 MiB, 10 MiB) as a DMA-BUF waits to register (state %c)",
	   state);
	ok(pid > 0 && kill(pid, SIGKILL) == 0, "SIGKILL the child");
	for (end = now_ms() + 3 * DELAY_MS; pid > 0 && now_ms() < end;
	     usleep(2000)) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			reaped = 1;
			flying = in_flight(commit0, abort0);
			break;
		}
	}
	ok(reaped && flying && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	   "the child dies while the conversion is still in flight: registering waits killably");
	pthread_join(ct, NULL);
	ok(c.ret == 0, "the conversion succeeds (%s)",
	   c.ret ? strerror(c.err) : "0");
	if (!reaped && pid > 0)
		waitpid(pid, &st, 0);
}

int main(void)
{
	uint8_t *p;
	int dev, fd, dep;

	ok(gmem_load() == 0, "load gmem_pfnpool");
	ok(run("modload gmem_pfnpool_testuser") == 0,
	   "load gmem_pfnpool_testuser");
	dev = gmem_dev();
	fd = gmem_create(dev, FSIZE, 0);
	p = gmem_map(fd, FSIZE, 0, 2 * MIB);
	ok(fd >= 0 && p != MAP_FAILED, "create and map a 16 MiB shared file");
	if (p == MAP_FAILED)
		return tap_done();
	memset(p, 0x5a, FSIZE);
	ok(gmem_set_attr(fd, 0, 2 * MIB, GMEM_PFNPOOL_ATTR_PRIVATE, NULL) == 0,
	   "make [0, 2 MiB) private (its mapping is zapped)");
	ok(tu_ctl("attach %d", fd) == 0 && tu_ctl("delay %d", DELAY_MS) == 0,
	   "the test user attaches and prepares in %d ms", DELAY_MS);

	fault_without_mmap_lock(fd, p);
	kill_converting_task(fd, p);
	register_killable(fd);

	dep = lockdep_fault_dependency();
	if (dep < 0)
		ok(1, "lockdep knows faults wait for the callbacks # SKIP no /proc/lockdep");
	else
		ok(dep == 1,
		   "lockdep knows faults wait for the callbacks with mmap_lock held (&mm->mmap_lock -> gmem_pfnpool_invalidate)");

	ok(tu_ctl("delay 0") == 0 && tu_ctl("detach") == 0,
	   "test user detaches");
	munmap(p, FSIZE);
	close(fd);
	close(dev);
	ok(run("modload -r gmem_pfnpool_testuser") == 0, "unload test user");
	ok(gmem_unload() == 0, "unload gmem_pfnpool");
	return tap_done();
}

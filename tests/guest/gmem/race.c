// SPDX-License-Identifier: GPL-2.0-only
/*
 * Faults racing with conversions: a reader process keeps touching a range
 * while this one flips a 2 MiB part of it between private and shared. Every
 * conversion must complete (no deadlock between faults and the commit
 * phase), a read must either see the data of its page or raise SIGBUS, and
 * once the range is shared again the reader sees the data everywhere.
 *
 * A conversion keeps the contents, so reading the right data proves nothing
 * about the unmap: a mapping the commit failed to zap still reads the same
 * memory. Two things make a missing or wrong unmap visible:
 *  - every page holds its own pattern, so a mapping of the wrong page is
 *    seen as a wrong value;
 *  - while a part is private, this process publishes it (a sequence count,
 *    odd while private, and the offset) and waits until the reader has read
 *    inside it; a read that started and ended in the same private window
 *    must raise SIGBUS, and returning data means a stale mapping.
 */
#include <sys/wait.h>
#include "gmem_test.h"

#define FSIZE (8 * MIB)
#define ROUNDS 300

/* Shared between the two processes. */
struct window {
	unsigned int seq;	/* odd: [off, off + 2 MiB) is private */
	unsigned int acked;	/* last odd seq the reader read inside */
	uint64_t off;
};

static uint8_t pattern(uint64_t off)
{
	uint64_t page = off / (4 * KIB);

	return (uint8_t)(page * 37 + 11) | 1;
}

static int reader(uint8_t *p, struct window *w, int stop_fd)
{
	unsigned long reads = 0, sigbus = 0, bad = 0, inside = 0, stale = 0;
	uint64_t off = 0, target;
	unsigned int s1, s2;
	int faulted;
	char c;
	uint8_t v;

	fcntl(stop_fd, F_SETFL, O_NONBLOCK);
	while (read(stop_fd, &c, 1) != 1) {
		s1 = __atomic_load_n(&w->seq, __ATOMIC_ACQUIRE);
		target = off;
		if (s1 & 1)
			target = __atomic_load_n(&w->off, __ATOMIC_RELAXED) +
				 (reads * (4 * KIB + 64)) % (2 * MIB);
		faulted = probe_read(p + target, &v);
		if (faulted)
			sigbus++;
		else if (v != pattern(target))
			bad++;
		s2 = __atomic_load_n(&w->seq, __ATOMIC_ACQUIRE);
		if ((s1 & 1) && s1 == s2) {
			/* The whole read ran while target was private. */
			inside++;
			stale += !faulted;
			__atomic_store_n(&w->acked, s1, __ATOMIC_RELEASE);
		}
		reads++;
		off = (off + 4 * KIB + 64) % FSIZE;
	}
	printf("# concurrent process: %lu reads, %lu SIGBUS, %lu wrong values\n",
	       reads, sigbus, bad);
	printf("# %lu reads inside a private part, %lu of them mapped\n",
	       inside, stale);
	fflush(stdout);
	return bad || stale ? 1 : 0;
}

/* Publish the private window @seq and wait for the reader to read in it. */
static int wait_reader(struct window *w, unsigned int seq)
{
	int i;

	for (i = 0; i < 100000; i++) {
		if (__atomic_load_n(&w->acked, __ATOMIC_ACQUIRE) == seq)
			return 0;
		if (i > 100)
			usleep(100);
	}
	return -1;
}

int main(void)
{
	int dev, fd, pipefd[2], st, i, failed = 0, missed = 0;
	uint64_t o, bad = 0;
	struct window *w;
	uint8_t *p;
	pid_t pid;

	ok(gmem_load() == 0, "load gmem_pfnpool");
	dev = gmem_dev();
	fd = gmem_create(dev, FSIZE, 0);
	p = gmem_map(fd, FSIZE, 0, 2 * MIB);
	w = mmap(NULL, sizeof(*w), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ok(fd >= 0 && p != MAP_FAILED && w != MAP_FAILED,
	   "create and map an 8 MiB file");
	if (p == MAP_FAILED || w == MAP_FAILED)
		return tap_done();
	for (o = 0; o < FSIZE; o += 4 * KIB)
		memset(p + o, pattern(o), 4 * KIB);
	ok(pipe(pipefd) == 0, "pipe");

	pid = fork();
	if (!pid) {
		close(pipefd[1]);
		_exit(reader(p, w, pipefd[0]));
	}
	close(pipefd[0]);
	for (i = 0; i < ROUNDS; i++) {
		uint64_t off = (i % 4) * MIB;

		if (gmem_set_attr(fd, off, 2 * MIB, GMEM_PFNPOOL_ATTR_PRIVATE,
				  NULL)) {
			failed++;
			continue;
		}
		__atomic_store_n(&w->off, off, __ATOMIC_RELAXED);
		__atomic_store_n(&w->seq, 2 * i + 1, __ATOMIC_RELEASE);
		/* A reader that stopped reading must not stall every round. */
		if (missed < 3 && wait_reader(w, 2 * i + 1))
			missed++;
		__atomic_store_n(&w->seq, 2 * i + 2, __ATOMIC_RELEASE);
		if (gmem_set_attr(fd, off, 2 * MIB, GMEM_PFNPOOL_ATTR_SHARED,
				  NULL))
			failed++;
	}
	ok(failed == 0, "%d conversions under concurrent faults, none failed",
	   2 * ROUNDS);
	ok(missed == 0, "the reader read inside every private window (%d missed)",
	   missed);
	ok(write(pipefd[1], "x", 1) == 1, "stop the reader");
	ok(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st),
	   "the reader saw its page's data, or SIGBUS inside a private part");
	ok(gmem_get_attr(fd, 0, NULL, NULL) == GMEM_PFNPOOL_ATTR_SHARED,
	   "all shared again");
	for (o = 0; o < FSIZE; o++)
		bad += p[o] != pattern(o);
	ok(bad == 0, "contents intact (%llu bytes differ)", (unsigned long long)bad);
	ok(gmem_stats(fd).conversions == 2 * ROUNDS, "%d conversions counted",
	   2 * ROUNDS);
	munmap(p, FSIZE);
	close(fd);
	close(dev);
	ok(gmem_unload() == 0, "unload gmem_pfnpool");
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Faults racing with conversions: a reader process keeps touching a range
 * while this one flips half of it between private and shared. Every
 * conversion must complete (no deadlock between faults and the commit
 * phase), a read must either see the data or raise SIGBUS, and once the
 * range is shared again the reader sees the data everywhere.
 */
#include <sys/wait.h>
#include "gmem_test.h"

#define FSIZE (8 * MIB)
#define ROUNDS 300

static int reader(uint8_t *p, int stop_fd)
{
	unsigned long reads = 0, sigbus = 0, bad = 0;
	uint64_t off = 0;
	char c;
	uint8_t v;

	fcntl(stop_fd, F_SETFL, O_NONBLOCK);
	while (read(stop_fd, &c, 1) != 1) {
		if (probe_read(p + off, &v))
			sigbus++;
		else if (v != 0x77)
			bad++;
		reads++;
		off = (off + 4 * KIB + 64) % FSIZE;
	}
	printf("# concurrent process: %lu reads, %lu SIGBUS, %lu wrong values\n", reads,
	       sigbus, bad);
	fflush(stdout);
	return bad ? 1 : 0;
}

int main(void)
{
	int dev, fd, pipefd[2], st, i, failed = 0;
	uint8_t *p;
	pid_t pid;

	ok(gmem_load() == 0, "load gmem_pfnpool");
	dev = gmem_dev();
	fd = gmem_create(dev, FSIZE, 0);
	p = gmem_map(fd, FSIZE, 0, 2 * MIB);
	ok(fd >= 0 && p != MAP_FAILED, "create and map an 8 MiB file");
	if (p == MAP_FAILED)
		return tap_done();
	memset(p, 0x77, FSIZE);
	ok(pipe(pipefd) == 0, "pipe");

	pid = fork();
	if (!pid) {
		close(pipefd[1]);
		_exit(reader(p, pipefd[0]));
	}
	close(pipefd[0]);
	for (i = 0; i < ROUNDS; i++) {
		uint64_t off = (i % 4) * MIB;

		if (gmem_set_attr(fd, off, 2 * MIB, GMEM_PFNPOOL_ATTR_PRIVATE,
				  NULL) ||
		    gmem_set_attr(fd, off, 2 * MIB, GMEM_PFNPOOL_ATTR_SHARED,
				  NULL))
			failed++;
	}
	ok(failed == 0, "%d conversions under concurrent faults, none failed",
	   2 * ROUNDS);
	ok(write(pipefd[1], "x", 1) == 1, "stop the reader");
	ok(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st),
	   "the reader only ever saw the data or SIGBUS");
	ok(gmem_get_attr(fd, 0, NULL, NULL) == GMEM_PFNPOOL_ATTR_SHARED &&
	   p[FSIZE - 1] == 0x77 && p[3 * MIB] == 0x77,
	   "all shared again, contents intact");
	ok(gmem_stats(fd).conversions == 2 * ROUNDS, "%d conversions counted",
	   2 * ROUNDS);
	munmap(p, FSIZE);
	close(fd);
	close(dev);
	ok(gmem_unload() == 0, "unload gmem_pfnpool");
	return tap_done();
}

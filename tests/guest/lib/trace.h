/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tracefs from in-guest tests: enable one event system, read what it logged.
 */
#ifndef CCHOST_TRACE_H
#define CCHOST_TRACE_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sysfs.h"

#define TRACEFS "/sys/kernel/tracing"

/* Mount tracefs if needed, clear the buffer and enable @system's events. */
static inline int trace_start(const char *system)
{
	char path[256];
	struct stat st;
	int fd;

	if (stat(TRACEFS "/trace", &st) &&
	    mount("tracefs", TRACEFS, "tracefs", 0, NULL))
		return -1;
	snprintf(path, sizeof(path), TRACEFS "/events/%s/enable", system);
	/*
	 * Enabling the first event also hooks sched_switch to record task
	 * names, which live-patches __schedule() on every CPU; under QEMU TCG
	 * that patching hung a 6.1 guest once (a CPU stuck in the int3 handler,
	 * the other waiting for it). The events of a module only patch that
	 * module's code, which nothing else runs meanwhile.
	 */
	if (sysfs_write(TRACEFS "/options/record-cmd", "0"))
		return -1;
	/* Opening "trace" with O_TRUNC clears the buffer. */
	fd = open(TRACEFS "/trace", O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -1;
	close(fd);
	if (sysfs_write(TRACEFS "/buffer_size_kb", "1024") ||
	    sysfs_write(path, "1"))
		return -1;
	return sysfs_write(TRACEFS "/tracing_on", "1");
}

/* Disable @system's events again. */
static inline void trace_stop(const char *system)
{
	char path[256];

	snprintf(path, sizeof(path), TRACEFS "/events/%s/enable", system);
	sysfs_write(path, "0");
}

/*
 * What the trace buffer holds now (NUL-terminated, malloc'ed; free() it), or
 * NULL. Event lines look like "  task-pid [cpu] flags ts: event: fields".
 */
static inline char *trace_read(void)
{
	FILE *f = fopen(TRACEFS "/trace", "r");
	size_t len = 0, cap = 1 << 16, n;
	char *buf = malloc(cap);

	if (!f || !buf) {
		if (f)
			fclose(f);
		free(buf);
		return NULL;
	}
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 4096) {
			char *b = realloc(buf, cap * 2);

			if (!b)
				break;
			buf = b;
			cap *= 2;
		}
	}
	buf[len] = '\0';
	fclose(f);
	return buf;
}

/*
 * Number of lines of @buf that contain "@event: " and every string of the
 * NULL-terminated @with.
 */
static inline int trace_count(const char *buf, const char *event,
			      const char *const *with)
{
	char ev[128];
	const char *line = buf;
	int n = 0;

	snprintf(ev, sizeof(ev), "%s: ", event);
	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *l = strndup(line, len);
		int match = l && strstr(l, ev);
		const char *const *w;

		for (w = with; match && w && *w; w++)
			match = !!strstr(l, *w);
		n += match;
		free(l);
		line = end ? end + 1 : NULL;
	}
	return n;
}

/* Print @buf as TAP comments, for a failing test's log. */
static inline void trace_dump(const char *buf)
{
	const char *line = buf;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		int len = end ? (int)(end - line) : (int)strlen(line);

		if (line[0] != '#')
			printf("#   %.*s\n", len, line);
		line = end ? end + 1 : NULL;
	}
	fflush(stdout);
}

#endif /* CCHOST_TRACE_H */

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Minimal TAP producer for the in-guest tests. Each test program prints
 * "ok N - name" / "not ok N - name" lines and a final plan; the host harness
 * collects them from the console. Exit status is non-zero if any check failed.
 */
#ifndef CCHOST_TAP_H
#define CCHOST_TAP_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

static inline void tap_vresult(int ok, const char *fmt, va_list ap)
{
	printf("%sok %d - ", ok ? "" : "not ", ++tap_n);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		tap_failed++;
}

/* ok(cond, "what was checked") */
static inline int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vresult(cond, fmt, ap);
	va_end(ap);
	return cond;
}

/* An expected failure: ret == -1 and errno == want. */
#define ok_errno(ret, want, ...) do {					\
	int __r = (ret), __e = errno, __w = (want);			\
	if (!ok(__r == -1 && __e == __w, __VA_ARGS__))			\
		printf("#   got ret=%d errno=%d (%s), want errno=%d (%s)\n",\
		       __r, __e, strerror(__e), __w, strerror(__w));	\
} while (0)

static inline void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	fflush(stdout);
	return tap_failed ? 1 : 0;
}

#endif /* CCHOST_TAP_H */

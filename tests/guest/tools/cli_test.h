/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared code of the cchostctl in-guest tests: run the tool (captured
 * stdout, stderr and exit status, or in the background with its stdout on a
 * pipe), a strict JSON parser that checks the tool's output is valid JSON
 * and looks members up by path, and sysfs readers.
 */
#ifndef CLI_TEST_H
#define CLI_TEST_H

#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "sysfs.h"
#include "tap.h"

#define CLI		"cchostctl"
#define GUEST_RANGES	"1G@0x140000000,64M@0x1a0000000"
#define POOL		"/sys/class/misc/gmem_pfnpool/pool"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* ---- running the tool ---- */

struct run {
	int status;		/* exit status, or 128 + signal, or -1 */
	char out[65536];
	char err[16384];
};

static struct run r;

static inline void read_all(int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t k;

	while (n < len - 1 && (k = read(fd, buf + n, len - 1 - n)) != 0) {
		if (k < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		n += k;
	}
	buf[n] = 0;
}

/* Run argv with stdout and stderr captured in r; returns the exit status. */
static inline int runv(char *const argv[])
{
	char tout[] = "/tmp/cli-out.XXXXXX", terr[] = "/tmp/cli-err.XXXXXX";
	int fo = mkstemp(tout), fe = mkstemp(terr), st;
	pid_t pid;

	memset(&r, 0, sizeof(r));
	r.status = -1;
	if (fo < 0 || fe < 0)
		return -1;
	unlink(tout);
	unlink(terr);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		dup2(fo, 1);
		dup2(fe, 2);
		close(fo);
		close(fe);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid > 0 && waitpid(pid, &st, 0) == pid)
		r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	lseek(fo, 0, SEEK_SET);
	lseek(fe, 0, SEEK_SET);
	read_all(fo, r.out, sizeof(r.out));
	read_all(fe, r.err, sizeof(r.err));
	close(fo);
	close(fe);
	return r.status;
}

/* Run a command line split at blanks (no quoting); see runv(). */
static inline int runf(const char *fmt, ...)
{
	char line[2048], *argv[64], *save = NULL, *tok;
	va_list ap;
	int n = 0;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (tok = strtok_r(line, " ", &save); tok && n < 63;
	     tok = strtok_r(NULL, " ", &save))
		argv[n++] = tok;
	argv[n] = NULL;
	return runv(argv);
}

/* Print what the last run wrote, as TAP comments. */
static inline void show_run(void)
{
	char *line, *save = NULL, buf[sizeof(r.out)];

	diag("exit status %d", r.status);
	snprintf(buf, sizeof(buf), "%s", r.out);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		diag("stdout: %.400s", line);
	snprintf(buf, sizeof(buf), "%s", r.err);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		diag("stderr: %.400s", line);
}

/* A run in the background, its stdout on a pipe, stderr in a file. */
struct bg {
	pid_t pid;
	int out;
	char err_path[64];
	char line[65536];
};

static inline int bg_start(struct bg *b, const char *const argv[])
{
	int p[2], fe;

	memset(b, 0, sizeof(*b));
	snprintf(b->err_path, sizeof(b->err_path), "/tmp/cli-bg-err.%d", getpid());
	if (pipe(p))
		return -1;
	fe = open(b->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	fflush(stdout);
	b->pid = fork();
	if (b->pid == 0) {
		close(p[0]);
		dup2(p[1], 1);
		dup2(fe, 2);
		close(p[1]);
		close(fe);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	close(fe);
	b->out = p[0];
	return b->pid > 0 ? 0 : -1;
}

/* Read stdout of @b until it contains @needle, for at most @secs seconds. */
static inline int bg_read_until(struct bg *b, const char *needle, int secs)
{
	size_t n = strlen(b->line);
	struct pollfd pfd = { .fd = b->out, .events = POLLIN };
	time_t end = time(NULL) + secs;

	while (!strstr(b->line, needle) && n < sizeof(b->line) - 1) {
		ssize_t k;

		if (time(NULL) > end || poll(&pfd, 1, 1000) < 0)
			return -1;
		if (!(pfd.revents & (POLLIN | POLLHUP)))
			continue;
		k = read(b->out, b->line + n, sizeof(b->line) - 1 - n);
		if (k <= 0)
			return -1;
		n += k;
		b->line[n] = 0;
	}
	return strstr(b->line, needle) ? 0 : -1;
}

/* Read stdout of @b up to the first newline, for at most @secs seconds. */
static inline int bg_read_line(struct bg *b, int secs)
{
	return bg_read_until(b, "\n", secs);
}

/* Read what is left on stdout (the process has exited). */
static inline void bg_read_rest(struct bg *b)
{
	size_t n = strlen(b->line);

	read_all(b->out, b->line + n, sizeof(b->line) - n);
}

/* Wait up to @secs for the process; its exit status, 128 + signal or -1. */
static inline int bg_wait(struct bg *b, int secs)
{
	int st, i;

	for (i = 0; i < secs * 10; i++) {
		pid_t w = waitpid(b->pid, &st, WNOHANG);

		if (w == b->pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(100000);
	}
	kill(b->pid, SIGKILL);
	waitpid(b->pid, &st, 0);
	return -1;
}

static inline void bg_close(struct bg *b)
{
	if (b->out > 0)
		close(b->out);
	unlink(b->err_path);
}

/* Give up on a background command that did not answer: kill and reap it. */
static inline void bg_abandon(struct bg *b)
{
	kill(b->pid, SIGKILL);
	bg_wait(b, 10);
	bg_close(b);
}

/* ---- a strict JSON parser ---- */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jnode {
	enum jtype type;
	char *key;		/* member name inside an object */
	char *str;		/* J_STR: decoded UTF-8; J_NUM: the literal */
	double num;
	bool b;
	int n;			/* children */
	struct jnode **kids;
};

struct jparser {
	const char *p;
	const char *err;
	int depth;
};

static inline void jskip(struct jparser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
		ps->p++;
}

static inline struct jnode *jnew(enum jtype t)
{
	struct jnode *n = calloc(1, sizeof(*n));

	n->type = t;
	return n;
}

static inline void jadd(struct jnode *parent, struct jnode *kid)
{
	parent->kids = realloc(parent->kids, (parent->n + 1) * sizeof(*parent->kids));
	parent->kids[parent->n++] = kid;
}

static inline void jput_utf8(char **o, unsigned int cp)
{
	char *q = *o;

	if (cp < 0x80) {
		*q++ = cp;
	} else if (cp < 0x800) {
		*q++ = 0xc0 | (cp >> 6);
		*q++ = 0x80 | (cp & 0x3f);
	} else if (cp < 0x10000) {
		*q++ = 0xe0 | (cp >> 12);
		*q++ = 0x80 | ((cp >> 6) & 0x3f);
		*q++ = 0x80 | (cp & 0x3f);
	} else {
		*q++ = 0xf0 | (cp >> 18);
		*q++ = 0x80 | ((cp >> 12) & 0x3f);
		*q++ = 0x80 | ((cp >> 6) & 0x3f);
		*q++ = 0x80 | (cp & 0x3f);
	}
	*o = q;
}

static inline int jhex4(const char *s, unsigned int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return -1;
		*v = *v * 16 + (isdigit((unsigned char)s[i]) ? s[i] - '0' :
				(tolower((unsigned char)s[i]) - 'a' + 10));
	}
	return 0;
}

/* A string at ps->p (on the quote); decoded, or NULL with ps->err. */
static inline char *jstring(struct jparser *ps)
{
	const char *s = ps->p + 1;
	char *out = malloc(strlen(s) * 4 + 1), *o = out;
	unsigned int cp, lo;

	for (;;) {
		unsigned char c = *s;

		if (!c) {
			ps->err = "unterminated string";
			goto bad;
		}
		if (c == '"')
			break;
		if (c < 0x20) {
			ps->err = "raw control character in a string";
			goto bad;
		}
		if (c != '\\') {
			*o++ = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case '"':
		case '\\':
		case '/':
			*o++ = *s;
			break;
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'u':
			if (jhex4(s + 1, &cp)) {
				ps->err = "bad \\u escape";
				goto bad;
			}
			s += 4;
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (s[1] != '\\' || s[2] != 'u' || jhex4(s + 3, &lo) ||
				    lo < 0xdc00 || lo > 0xdfff) {
					ps->err = "lone surrogate";
					goto bad;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				s += 6;
			} else if (cp >= 0xdc00 && cp < 0xe000) {
				ps->err = "lone surrogate";
				goto bad;
			}
			jput_utf8(&o, cp);
			break;
		default:
			ps->err = "bad escape";
			goto bad;
		}
		s++;
	}
	*o = 0;
	ps->p = s + 1;
	return out;
bad:
	free(out);
	return NULL;
}

static inline struct jnode *jvalue(struct jparser *ps);

static inline struct jnode *jcontainer(struct jparser *ps, bool obj)
{
	struct jnode *n = jnew(obj ? J_OBJ : J_ARR), *kid;
	char close = obj ? '}' : ']';
	char *key = NULL;

	if (++ps->depth > 64) {
		ps->err = "nested too deep";
		return NULL;
	}
	ps->p++;
	jskip(ps);
	if (*ps->p == close) {
		ps->p++;
		ps->depth--;
		return n;
	}
	for (;;) {
		jskip(ps);
		if (obj) {
			if (*ps->p != '"') {
				ps->err = "member name expected";
				return NULL;
			}
			key = jstring(ps);
			if (!key)
				return NULL;
			jskip(ps);
			if (*ps->p != ':') {
				ps->err = "':' expected";
				return NULL;
			}
			ps->p++;
		}
		kid = jvalue(ps);
		if (!kid)
			return NULL;
		kid->key = key;
		jadd(n, kid);
		jskip(ps);
		if (*ps->p == ',') {
			ps->p++;
			continue;
		}
		if (*ps->p == close) {
			ps->p++;
			ps->depth--;
			return n;
		}
		ps->err = obj ? "',' or '}' expected" : "',' or ']' expected";
		return NULL;
	}
}

static inline struct jnode *jnumber(struct jparser *ps)
{
	const char *s = ps->p, *start = s;
	struct jnode *n;

	if (*s == '-')
		s++;
	if (*s == '0') {
		s++;
	} else if (*s >= '1' && *s <= '9') {
		while (isdigit((unsigned char)*s))
			s++;
	} else {
		ps->err = "bad number";
		return NULL;
	}
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s)) {
			ps->err = "bad fraction";
			return NULL;
		}
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s)) {
			ps->err = "bad exponent";
			return NULL;
		}
		while (isdigit((unsigned char)*s))
			s++;
	}
	n = jnew(J_NUM);
	n->str = strndup(start, s - start);
	n->num = strtod(n->str, NULL);
	ps->p = s;
	return n;
}

static inline struct jnode *jvalue(struct jparser *ps)
{
	struct jnode *n;

	jskip(ps);
	switch (*ps->p) {
	case '{':
		return jcontainer(ps, true);
	case '[':
		return jcontainer(ps, false);
	case '"':
		n = jnew(J_STR);
		n->str = jstring(ps);
		return n->str ? n : NULL;
	case 't':
		if (strncmp(ps->p, "true", 4))
			break;
		ps->p += 4;
		n = jnew(J_BOOL);
		n->b = true;
		return n;
	case 'f':
		if (strncmp(ps->p, "false", 5))
			break;
		ps->p += 5;
		return jnew(J_BOOL);
	case 'n':
		if (strncmp(ps->p, "null", 4))
			break;
		ps->p += 4;
		return jnew(J_NULL);
	default:
		if (*ps->p == '-' || isdigit((unsigned char)*ps->p))
			return jnumber(ps);
	}
	ps->err = "value expected";
	return NULL;
}

/*
 * Parse @text: exactly one JSON object, then only a newline. NULL (and a
 * diagnostic) if it is anything else. Nodes are never freed: tests are short.
 */
static inline struct jnode *json_parse(const char *text)
{
	struct jparser ps = { .p = text };
	struct jnode *root;

	jskip(&ps);
	if (*ps.p != '{') {
		diag("JSON: not an object: %.80s", text);
		return NULL;
	}
	root = jvalue(&ps);
	if (root && strcmp(ps.p, "\n")) {
		ps.err = "not one object followed by one newline";
		root = NULL;
	}
	if (!root)
		diag("JSON: %s at offset %ld: %.60s", ps.err ? ps.err : "?",
		     (long)(ps.p - text), ps.p);
	return root;
}

/*
 * Look up a member by path: "pool.total", "modules.0.name", and
 * "checks.name=vfio.status" or "tdi_devices.[bdf=0000:00:02.0].state" (the
 * first element whose member bdf equals the value; brackets protect dots).
 * NULL if absent.
 */
static inline struct jnode *jget(struct jnode *n, const char *path)
{
	const char *p = path;
	char seg[128];
	int i;

	while (*p && n) {
		struct jnode *found = NULL;
		size_t len;
		char *eq;

		if (*p == '[') {
			len = strcspn(p + 1, "]");
			snprintf(seg, sizeof(seg), "%.*s", (int)len, p + 1);
			p += len + 1 + (p[len + 1] == ']');
		} else {
			len = strcspn(p, ".");
			snprintf(seg, sizeof(seg), "%.*s", (int)len, p);
			p += len;
		}
		if (*p == '.')
			p++;
		eq = strchr(seg, '=');
		if (n->type == J_ARR && eq) {
			*eq = 0;
			for (i = 0; i < n->n && !found; i++) {
				struct jnode *k = n->kids[i], *m;
				int j;

				for (j = 0; k->type == J_OBJ && j < k->n; j++) {
					m = k->kids[j];
					if (!strcmp(m->key, seg) && m->type == J_STR &&
					    !strcmp(m->str, eq + 1))
						found = k;
				}
			}
		} else if (n->type == J_ARR && isdigit((unsigned char)*seg)) {
			i = atoi(seg);
			found = i < n->n ? n->kids[i] : NULL;
		} else if (n->type == J_OBJ) {
			for (i = 0; i < n->n && !found; i++)
				if (!strcmp(n->kids[i]->key, seg))
					found = n->kids[i];
		}
		n = found;
	}
	return n;
}

/* A string member, or "" if absent or not a string. */
static inline const char *jstr(struct jnode *root, const char *path)
{
	struct jnode *n = root ? jget(root, path) : NULL;

	return n && n->type == J_STR ? n->str : "";
}

/* A non-negative integer member, or -1. */
static inline long long jnum(struct jnode *root, const char *path)
{
	struct jnode *n = root ? jget(root, path) : NULL;

	if (!n || n->type != J_NUM || strpbrk(n->str, ".eE-"))
		return -1;
	return strtoll(n->str, NULL, 10);
}

/* A boolean member: 1, 0, or -1 if absent or not a boolean. */
static inline int jbool(struct jnode *root, const char *path)
{
	struct jnode *n = root ? jget(root, path) : NULL;

	return n && n->type == J_BOOL ? n->b : -1;
}

/* Elements of an array member, or -1. */
static inline int jlen(struct jnode *root, const char *path)
{
	struct jnode *n = root ? jget(root, path) : NULL;

	return n && n->type == J_ARR ? n->n : -1;
}

/* Whether the array member at @path holds the string @s. */
static inline bool jhas(struct jnode *root, const char *path, const char *s)
{
	struct jnode *n = root ? jget(root, path) : NULL;
	int i;

	for (i = 0; n && n->type == J_ARR && i < n->n; i++)
		if (n->kids[i]->type == J_STR && !strcmp(n->kids[i]->str, s))
			return true;
	return false;
}

/* ---- the system ---- */

/* A sysfs or procfs file's first line, or "" (static buffer). */
static inline const char *sysread(const char *fmt, ...)
{
	static char buf[4096];
	char path[512];
	va_list ap;
	int fd;
	ssize_t n;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	buf[0] = 0;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return buf;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

static inline long long sysnum(const char *fmt, ...)
{
	char path[512];
	const char *s;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	s = sysread("%s", path);
	return *s ? strtoll(s, NULL, 0) : -1;
}

static inline bool loaded(const char *mod)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/module/%s/initstate", mod);
	return stat(path, &st) == 0;
}

static inline int run_modload(const char *args)
{
	char cmd[512];
	int st;

	snprintf(cmd, sizeof(cmd), "modload %s", args);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static inline void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Wait up to @secs for pool "used" to equal @want; the last value read. */
static inline long long wait_used(long long want, int secs)
{
	long long used = sysnum(POOL "/used");
	int i;

	for (i = 0; i < secs * 10 && used != want; i++) {
		usleep(100000);
		used = sysnum(POOL "/used");
	}
	return used;
}

#endif /* CLI_TEST_H */

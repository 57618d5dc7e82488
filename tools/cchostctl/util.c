// SPDX-License-Identifier: GPL-2.0-only
/*
 * cchostctl - common code: sizes and ranges on the command line, sysfs and
 * procfs readers, the processes holding a file, and holding fds open until
 * a timeout or a signal.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cchostctl.h"

/* Copy @src into @dst of @len bytes, truncated, always NUL-terminated. */
void copy_str(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
}

/* A number in C notation (decimal, 0x hex, 0 octal); 0 or -EINVAL. */
int parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Parse a size prefix of @s, as the kernel's memparse(); *@end after it. */
static int parse_size_prefix(const char *s, uint64_t *out, const char **end)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *p;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &p, 0);
	if (errno || p == s)
		return -EINVAL;
	switch (*p) {
	case 'E':
	case 'e':
		shift = 60;
		break;
	case 'P':
	case 'p':
		shift = 50;
		break;
	case 'T':
	case 't':
		shift = 40;
		break;
	case 'G':
	case 'g':
		shift = 30;
		break;
	case 'M':
	case 'm':
		shift = 20;
		break;
	case 'K':
	case 'k':
		shift = 10;
		break;
	}
	if (shift) {
		p++;
		if (v > (ULLONG_MAX >> shift))
			return -ERANGE;
		v <<= shift;
	}
	*out = v;
	*end = p;
	return 0;
}

/* A size: a number with an optional K, M, G, T, P or E suffix (powers of 2). */
int parse_size(const char *s, uint64_t *out)
{
	const char *end;
	int ret = parse_size_prefix(s, out, &end);

	if (ret)
		return ret;
	return *end ? -EINVAL : 0;
}

/*
 * "OFF:LEN" or "OFF:LEN:REST", both sizes; *@rest points into @s after the
 * second colon, or is NULL.
 */
int parse_range(const char *s, uint64_t *off, uint64_t *len, char **rest)
{
	const char *p;

	*rest = NULL;
	if (parse_size_prefix(s, off, &p) || *p != ':')
		return -EINVAL;
	if (parse_size_prefix(p + 1, len, &p))
		return -EINVAL;
	if (*p == ':')
		*rest = (char *)p + 1;
	else if (*p)
		return -EINVAL;
	return 0;
}

/* Read up to @len - 1 bytes of @path, NUL-terminated; bytes or -errno. */
int read_file(const char *path, char *buf, size_t len)
{
	size_t n = 0;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (n < len - 1) {
		ssize_t r = read(fd, buf + n, len - 1 - n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			close(fd);
			return err;
		}
		if (!r)
			break;
		n += r;
	}
	buf[n] = 0;
	close(fd);
	return (int)n;
}

/* The first line of @path without its newline; 0 or -errno. */
int read_line(const char *path, char *buf, size_t len)
{
	int n = read_file(path, buf, len);

	if (n < 0)
		return n;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

int read_u64_file(const char *path, uint64_t *val)
{
	char buf[64];
	int ret = read_line(path, buf, sizeof(buf));

	if (ret)
		return ret;
	return parse_u64(buf, val);
}

/* The last component of the target of the symlink @path; 0 or -errno. */
int read_link_base(const char *path, char *buf, size_t len)
{
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	const char *base;

	if (n < 0)
		return -errno;
	target[n] = 0;
	base = strrchr(target, '/');
	snprintf(buf, len, "%s", base ? base + 1 : target);
	return 0;
}

bool path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* "1 GiB", "64 MiB", "4 KiB", "123 bytes": exact binary units only. */
const char *human_size(uint64_t v, char *buf, size_t len)
{
	static const char * const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	int i = -1;

	while (v && !(v & 1023) && i + 1 < (int)ARRAY_SIZE(units)) {
		v >>= 10;
		i++;
	}
	if (i < 0)
		snprintf(buf, len, "%llu bytes", (unsigned long long)v);
	else
		snprintf(buf, len, "%llu %s", (unsigned long long)v, units[i]);
	return buf;
}

/* Whether a filesystem of type @fstype is mounted; its first mount point. */
bool is_mounted(const char *fstype, char *where, size_t len)
{
	char dev[256], dir[PATH_MAX], type[64];
	bool found = false;
	char line[8192];
	FILE *f;

	f = fopen("/proc/self/mounts", "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%255s %4095s %63s", dev, dir, type) != 3)
			continue;
		if (!strcmp(type, fstype)) {
			if (where)
				snprintf(where, len, "%s", dir);
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

/* The name of a module under /sys/module: dashes become underscores. */
void module_sysname(const char *name, char *out, size_t len)
{
	size_t i;

	for (i = 0; name[i] && i + 1 < len; i++)
		out[i] = name[i] == '-' ? '_' : name[i];
	out[i] = 0;
}

/* "0000:00:02.0" from "0000:00:02.0" or "00:02.0"; 0 or -EINVAL. */
int normalize_bdf(const char *in, char *out, size_t len)
{
	unsigned int dom = 0, bus, dev, fn;
	char tail;

	if (sscanf(in, "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn, &tail) == 4 &&
	    strlen(in) == 12) {
		/* full form */
	} else if (sscanf(in, "%x:%x.%x%c", &bus, &dev, &fn, &tail) == 3 &&
		   strlen(in) == 7) {
		dom = 0;
	} else {
		return -EINVAL;
	}
	if (dom > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
		return -EINVAL;
	snprintf(out, len, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
}

/*
 * Every fd of every process (but this one) whose link target satisfies
 * @match; at most @max are stored, the total is returned.
 */
int find_fd_holders(bool (*match)(int pid, int fd, const char *target, void *data),
		    void *data, struct cc_holder *out, int max)
{
	struct dirent *p, *f;
	DIR *proc, *fds;
	int n = 0;

	proc = opendir("/proc");
	if (!proc)
		return 0;
	while ((p = readdir(proc))) {
		char path[300], target[PATH_MAX];
		int pid = atoi(p->d_name);

		if (pid <= 0 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((f = readdir(fds))) {
			ssize_t len;

			if (f->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, f->d_name);
			len = readlink(path, target, sizeof(target) - 1);
			if (len < 0)
				continue;
			target[len] = 0;
			if (!match(pid, atoi(f->d_name), target, data))
				continue;
			if (n < max) {
				struct cc_holder *h = &out[n];

				h->pid = pid;
				h->fd = atoi(f->d_name);
				copy_str(h->target, sizeof(h->target), target);
				snprintf(path, sizeof(path), "/proc/%d/comm", pid);
				if (read_line(path, h->comm, sizeof(h->comm)))
					snprintf(h->comm, sizeof(h->comm), "?");
			}
			n++;
		}
		closedir(fds);
	}
	closedir(proc);
	return n;
}

/* --hold SECONDS or --hold-until-signal; 0 or a usage error status. */
int hold_parse_option(struct cc_hold *h, const char *name, const char *arg)
{
	uint64_t v;

	if (h->set)
		return cc_usage_error("--hold and --hold-until-signal exclude each other");
	h->set = true;
	if (!arg) {
		h->seconds = -1;
		return 0;
	}
	if (parse_u64(arg, &v) || !v || v > 365ULL * 24 * 3600)
		return cc_usage_error("%s: bad number of seconds '%s'", name, arg);
	h->seconds = (long)v;
	return 0;
}

static sigset_t hold_sigset(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	return set;
}

/*
 * Block the signals that end a hold, before anything is created: one that
 * arrives while the command works stays pending and ends the hold at once.
 */
void hold_block_signals(void)
{
	sigset_t set = hold_sigset();

	sigprocmask(SIG_BLOCK, &set, NULL);
}

/* Wait for the end of the hold: the signal that ended it, or 0 (timeout). */
int hold_wait(const struct cc_hold *h)
{
	sigset_t set = hold_sigset();
	struct timespec end, now, left;
	int sig;

	if (!h->set || !h->seconds)
		return 0;
	if (h->seconds < 0) {
		do {
			sig = sigwaitinfo(&set, NULL);
		} while (sig < 0 && errno == EINTR);
		return sig < 0 ? 0 : sig;
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += h->seconds;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = end.tv_sec - now.tv_sec;
		left.tv_nsec = end.tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_nsec += 1000000000L;
			left.tv_sec--;
		}
		if (left.tv_sec < 0)
			return 0;
		sig = sigtimedwait(&set, NULL, &left);
		if (sig > 0)
			return sig;
		if (errno != EINTR)
			return 0;
	}
}

/* The "hold" member: {"seconds": N}, {"until_signal": true} or null. */
void hold_json(const struct cc_hold *h)
{
	if (!h->set) {
		json_null("hold");
		return;
	}
	json_obj_begin("hold");
	if (h->seconds < 0)
		json_bool("until_signal", true);
	else
		json_i64("seconds", h->seconds);
	json_obj_end();
}

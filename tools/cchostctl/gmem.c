// SPDX-License-Identifier: GPL-2.0-only
/*
 * cchostctl gmem - create a guest-memory file (or take one inherited as an
 * fd), allocate, convert, punch and export ranges of it in the order given,
 * report its attributes and counters, and optionally hold it (and the
 * DMA-BUFs exported) open for a time or until SIGINT/SIGTERM/SIGHUP, so
 * that other tools can inspect /proc/PID/fd and the pool.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/falloc.h>
#include <linux/gmem_pfnpool.h>

#include "cchostctl.h"

void usage_gmem(FILE *f)
{
	fprintf(f,
		"Usage: cchostctl gmem create SIZE [--private] [OPERATION...] [HOLD] [--json]\n"
		"       cchostctl gmem use FD [OPERATION...] [HOLD] [--json]\n"
		"\n"
		"create makes a guest-memory file through " CC_GMEM_DEV " (all shared,\n"
		"or all private with --private); use works on gmem file FD inherited\n"
		"from the caller. The operations run in the order given and stop at\n"
		"the first failure:\n"
		"\n"
		"  -a, --allocate OFF:LEN         take memory from the pool (fallocate)\n"
		"  -c, --convert OFF:LEN:ATTR     convert to ATTR, shared or private\n"
		"  -p, --punch OFF:LEN            give memory back (punch a hole)\n"
		"  -e, --export OFF:LEN           export as a DMA-BUF (kept open)\n"
		"\n"
		"Then the fds are printed with the pid, and\n"
		"  -H, --hold SECONDS             keeps them open for SECONDS,\n"
		"  -S, --hold-until-signal        or until SIGINT, SIGTERM or SIGHUP;\n"
		"either ends cleanly (exit status 0).\n"
		"\n"
		"SIZE, OFF and LEN are bytes with an optional K, M, G or T suffix\n"
		"(powers of 1024), multiples of the page size.\n"
		"\n"
		"      --private     create the file private\n"
		"      --json        one JSON object on stdout (printed before the hold)\n"
		"  -h, --help        this help\n");
}

enum gmem_op_kind { OP_ALLOCATE, OP_CONVERT, OP_PUNCH, OP_EXPORT };

static const char * const gmem_op_names[] = {
	[OP_ALLOCATE] = "allocate",
	[OP_CONVERT] = "convert",
	[OP_PUNCH] = "punch",
	[OP_EXPORT] = "export",
};

#define GMEM_MAX_OPS	64

struct gmem_op {
	enum gmem_op_kind kind;
	uint64_t off, len;
	uint32_t attr;
	int fd;			/* export: the DMA-BUF */
};

struct gmem_args {
	bool create, private;
	uint64_t size;
	int fd;
	int nr;
	struct gmem_op ops[GMEM_MAX_OPS];
	struct cc_hold hold;
};

static const char *attr_name(uint32_t attr)
{
	return attr == GMEM_PFNPOOL_ATTR_PRIVATE ? "private" : "shared";
}

static int add_op(struct gmem_args *a, enum gmem_op_kind kind, const char *arg)
{
	struct gmem_op *op;
	char *rest;

	if (a->nr == GMEM_MAX_OPS)
		return cc_usage_error("more than %d operations", GMEM_MAX_OPS);
	op = &a->ops[a->nr];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->fd = -1;
	if (parse_range(arg, &op->off, &op->len, &rest) || !op->len)
		return cc_usage_error("--%s: bad range '%s' (OFF:LEN%s)",
				      gmem_op_names[kind], arg,
				      kind == OP_CONVERT ? ":shared|private" : "");
	if (kind == OP_CONVERT) {
		if (!rest)
			return cc_usage_error("--convert: '%s' lacks :shared or :private",
					      arg);
		if (!strcmp(rest, "shared"))
			op->attr = GMEM_PFNPOOL_ATTR_SHARED;
		else if (!strcmp(rest, "private"))
			op->attr = GMEM_PFNPOOL_ATTR_PRIVATE;
		else
			return cc_usage_error("--convert: '%s' is neither shared nor private",
					      rest);
	} else if (rest) {
		return cc_usage_error("--%s: bad range '%s' (OFF:LEN)",
				      gmem_op_names[kind], arg);
	}
	a->nr++;
	return 0;
}

/* Alignment (and, when the size is known, bounds) of every operation. */
static int check_ops(const struct gmem_args *a)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	int i;

	for (i = 0; i < a->nr; i++) {
		const struct gmem_op *op = &a->ops[i];

		if (op->off % page || op->len % page)
			return cc_usage_error("--%s 0x%llx:0x%llx: %s (%llu)",
					      gmem_op_names[op->kind],
					      (unsigned long long)op->off,
					      (unsigned long long)op->len,
					      "offset and length must be multiples of the page size",
					      (unsigned long long)page);
		if (a->create && (op->off > a->size || op->len > a->size - op->off))
			return cc_usage_error("--%s 0x%llx:0x%llx: past the end of the file (%llu)",
					      gmem_op_names[op->kind],
					      (unsigned long long)op->off,
					      (unsigned long long)op->len,
					      (unsigned long long)a->size);
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct gmem_args *a)
{
	enum { OPT_PRIVATE = 256, OPT_JSON };
	static const struct option opts[] = {
		{ "allocate", required_argument, NULL, 'a' },
		{ "convert", required_argument, NULL, 'c' },
		{ "punch", required_argument, NULL, 'p' },
		{ "export", required_argument, NULL, 'e' },
		{ "hold", required_argument, NULL, 'H' },
		{ "hold-until-signal", no_argument, NULL, 'S' },
		{ "private", no_argument, NULL, OPT_PRIVATE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	uint64_t v;
	int opt, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, ":a:c:p:e:H:Sh", opts, NULL)) != -1) {
		ret = 0;
		switch (opt) {
		case 'a':
			ret = add_op(a, OP_ALLOCATE, optarg);
			break;
		case 'c':
			ret = add_op(a, OP_CONVERT, optarg);
			break;
		case 'p':
			ret = add_op(a, OP_PUNCH, optarg);
			break;
		case 'e':
			ret = add_op(a, OP_EXPORT, optarg);
			break;
		case 'H':
			ret = hold_parse_option(&a->hold, "--hold", optarg);
			break;
		case 'S':
			ret = hold_parse_option(&a->hold, "--hold-until-signal", NULL);
			break;
		case OPT_PRIVATE:
			if (!a->create)
				return cc_usage_error("--private applies to create only");
			a->private = true;
			break;
		case OPT_JSON:
			cc.json = true;
			break;
		case 'h':
			usage_gmem(stdout);
			return -1;
		default:
			return cc_bad_option(argv, opt);
		}
		if (ret)
			return ret;
	}
	if (optind == argc)
		return cc_usage_error("%s missing", a->create ? "SIZE" : "FD");
	if (optind + 1 != argc)
		return cc_usage_error("too many arguments (one %s expected)",
				      a->create ? "SIZE" : "FD");
	if (a->create) {
		if (parse_size(argv[optind], &a->size) || !a->size ||
		    a->size % (uint64_t)sysconf(_SC_PAGESIZE))
			return cc_usage_error("bad SIZE '%s': a non-zero multiple of the page size",
					      argv[optind]);
	} else {
		if (parse_u64(argv[optind], &v) || v > 1000000)
			return cc_usage_error("bad FD '%s'", argv[optind]);
		a->fd = (int)v;
	}
	return check_ops(a);
}

/* Open the device and create the file; the fd or -1 with the error set. */
static int gmem_create(const struct gmem_args *a)
{
	struct gmem_pfnpool_create c = {
		.size = a->size,
		.flags = a->private ? GMEM_PFNPOOL_CREATE_PRIVATE : 0,
	};
	int dev, fd, err;
	uint64_t total;
	char buf[32];

	dev = open(CC_GMEM_DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		err = errno;
		cc_fail(err, "cannot open %s", CC_GMEM_DEV);
		if (err == ENOENT)
			cc_hint("gmem_pfnpool is not loaded (cchostctl load gmem_pfnpool)");
		else if (err == EACCES || err == EPERM)
			cc_hint("the device is root's (the kvm group's with the udev rule)");
		return -1;
	}
	fd = ioctl(dev, GMEM_PFNPOOL_IOC_CREATE, &c);
	err = errno;
	close(dev);
	if (fd >= 0)
		return fd;
	cc_fail(err, "cannot create a gmem file of %s", human_size(a->size, buf, sizeof(buf)));
	if (err == ENOSPC && !read_u64_file(CC_POOL_SYSFS "/total", &total))
		cc_hint("the whole pool is %s", human_size(total, buf, sizeof(buf)));
	return -1;
}

/* Size of the file: the end of its last attribute range. */
static int gmem_size(int fd, uint64_t *size)
{
	struct gmem_pfnpool_get_attr g;
	uint64_t off = 0;
	int n;

	for (n = 0; n < 1 << 20; n++) {
		memset(&g, 0, sizeof(g));
		g.offset = off;
		if (ioctl(fd, GMEM_PFNPOOL_IOC_GET_ATTR, &g)) {
			if (errno == EINVAL && off)
				break;
			return -errno;
		}
		off = g.range_offset + g.range_size;
	}
	*size = off;
	return 0;
}

static void op_text(const struct gmem_op *op, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s 0x%llx+0x%llx", gmem_op_names[op->kind],
			 (unsigned long long)op->off, (unsigned long long)op->len);

	if (op->kind == OP_CONVERT && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - n, " to %s", attr_name(op->attr));
}

/* Run one operation; 0, or CC_EXIT_FAIL with the error recorded. */
static int run_op(int fd, uint64_t size, struct gmem_op *op)
{
	struct gmem_pfnpool_set_attr sa = {};
	struct gmem_pfnpool_export_dmabuf ex = {};
	char what[128], buf[32];
	uint64_t free_bytes;
	struct stat st;
	int ret, err;

	op_text(op, what, sizeof(what));
	switch (op->kind) {
	case OP_ALLOCATE:
	case OP_PUNCH:
		ret = fallocate(fd, op->kind == OP_PUNCH ?
				FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE :
				FALLOC_FL_KEEP_SIZE, (off_t)op->off, (off_t)op->len);
		break;
	case OP_CONVERT:
		sa.offset = op->off;
		sa.size = op->len;
		sa.attr = op->attr;
		ret = ioctl(fd, GMEM_PFNPOOL_IOC_SET_ATTR, &sa);
		break;
	case OP_EXPORT:
		ex.offset = op->off;
		ex.size = op->len;
		ret = ioctl(fd, GMEM_PFNPOOL_IOC_EXPORT_DMABUF, &ex);
		if (ret >= 0) {
			op->fd = ret;
			ret = 0;
		}
		break;
	default:
		ret = -1;
		errno = EINVAL;
	}
	err = errno;
	if (cc.json) {
		json_obj_begin(NULL);
		json_str("op", gmem_op_names[op->kind]);
		json_u64("offset", op->off);
		json_u64("length", op->len);
		if (op->kind == OP_CONVERT)
			json_str("attr", attr_name(op->attr));
		json_bool("ok", ret == 0);
		if (op->kind == OP_EXPORT && !ret) {
			json_i64("fd", op->fd);
			if (!fstat(op->fd, &st))
				json_u64("inode", st.st_ino);
		}
		if (ret) {
			json_i64("errno", err);
			json_str("errno_name", cc_errname(err));
			if (op->kind == OP_CONVERT && err == EBUSY) {
				sa.error_user[sizeof(sa.error_user) - 1] = 0;
				json_str("error_user", (char *)sa.error_user);
				json_u64("error_offset", sa.error_offset);
			}
		}
		json_obj_end();
	}
	if (!ret) {
		if (!cc.json && op->kind == OP_EXPORT)
			printf("%s: dmabuf fd %d\n", what, op->fd);
		else if (!cc.json)
			printf("%s: ok\n", what);
		return 0;
	}

	switch (err) {
	case EBUSY:
		if (op->kind == OP_CONVERT) {
			sa.error_user[sizeof(sa.error_user) - 1] = 0;
			return cc_fail(err, "%s: refused by user \"%s\" at offset 0x%llx",
				       what, (char *)sa.error_user,
				       (unsigned long long)sa.error_offset);
		}
		cc_fail(err, "%s: refused by a user of the range", what);
		cc_hint("a DMA-BUF importer that cannot be revoked holds it (see the %s event)",
			"gmem_pfnpool_inv_veto");
		return CC_EXIT_FAIL;
	case EINVAL:
		cc_fail(err, "%s: bad range", what);
		if (op->kind == OP_EXPORT)
			cc_hint("page-aligned, inside the file (0x%llx bytes) and all shared",
				(unsigned long long)size);
		else
			cc_hint("the range must be page-aligned and inside the file (0x%llx bytes)",
				(unsigned long long)size);
		return CC_EXIT_FAIL;
	case ENOSPC:
		cc_fail(err, "%s: the pool cannot back the range", what);
		if (!read_u64_file(CC_POOL_SYSFS "/free", &free_bytes))
			cc_hint("the pool has %s free", human_size(free_bytes, buf, sizeof(buf)));
		return CC_EXIT_FAIL;
	case EAGAIN:
		return cc_fail(err, "%s: a conversion of the range is in flight", what);
	case ENOTTY:
		return cc_fail(err, "%s: not a gmem file", what);
	default:
		return cc_fail(err, "%s", what);
	}
}

/* The attribute ranges, the counters, the pid and fds. */
static void report(int fd, const struct gmem_args *a, uint64_t size)
{
	struct gmem_pfnpool_stats s = {};
	struct gmem_pfnpool_get_attr g;
	uint64_t off = 0;
	bool have_stats;
	char buf[32];

	if (cc.json)
		json_arr_begin("attributes");
	else
		printf("attributes:");
	while (off < size) {
		memset(&g, 0, sizeof(g));
		g.offset = off;
		if (ioctl(fd, GMEM_PFNPOOL_IOC_GET_ATTR, &g) || !g.range_size)
			break;
		if (cc.json) {
			json_obj_begin(NULL);
			json_u64("offset", g.range_offset);
			json_u64("size", g.range_size);
			json_str("attr", attr_name(g.attr));
			json_obj_end();
		} else {
			printf(" 0x%llx+0x%llx %s", (unsigned long long)g.range_offset,
			       (unsigned long long)g.range_size, attr_name(g.attr));
		}
		off = g.range_offset + g.range_size;
	}
	if (cc.json)
		json_arr_end();
	else
		printf("\n");
	have_stats = !ioctl(fd, GMEM_PFNPOOL_IOC_STATS, &s);
	if (cc.json) {
		if (have_stats) {
			json_u64("allocated", s.allocated);
			json_obj_begin("stats");
			json_u64("faults", s.faults);
			json_u64("conversions", s.conversions);
			json_u64("vetoes", s.vetoes);
			json_u64("allocated", s.allocated);
			json_obj_end();
		}
		hold_json(&a->hold);
	} else {
		if (have_stats)
			printf("allocated %s (%llu bytes), %llu conversions, %llu vetoes\n",
			       human_size(s.allocated, buf, sizeof(buf)),
			       (unsigned long long)s.allocated,
			       (unsigned long long)s.conversions,
			       (unsigned long long)s.vetoes);
	}
}

static int gmem_run(struct gmem_args *a)
{
	int fd, i, ret = 0, sig;
	uint64_t size = a->size;
	char buf[32];

	if (a->hold.set)
		hold_block_signals();
	cc_begin();
	if (a->create) {
		fd = gmem_create(a);
		if (fd < 0)
			return cc_finish(CC_EXIT_FAIL);
	} else {
		fd = a->fd;
		ret = gmem_size(fd, &size);
		if (ret) {
			cc_fail(-ret, "fd %d is not a gmem file", fd);
			return cc_finish(CC_EXIT_FAIL);
		}
		/* Not inherited further than this process. */
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	if (cc.json) {
		json_i64("pid", getpid());
		json_i64("fd", fd);
		json_u64("size", size);
		json_bool("created", a->create);
		json_arr_begin("operations");
	} else {
		printf("pid %d\n", getpid());
		printf("gmem fd %d: %s (%llu bytes)%s\n", fd,
		       human_size(size, buf, sizeof(buf)), (unsigned long long)size,
		       a->create ? (a->private ? ", created private" : ", created shared") : "");
	}
	for (i = 0; i < a->nr && !ret; i++)
		ret = run_op(fd, size, &a->ops[i]);
	if (cc.json)
		json_arr_end();
	if (!ret)
		report(fd, a, size);
	if (!ret && a->hold.set && !cc.json) {
		if (a->hold.seconds > 0)
			printf("holding for %ld s (inspect /proc/%d/fd)\n",
			       a->hold.seconds, getpid());
		else
			printf("holding until SIGINT, SIGTERM or SIGHUP (inspect /proc/%d/fd)\n",
			       getpid());
	}
	ret = cc_finish(ret);
	if (!ret && a->hold.set) {
		sig = hold_wait(&a->hold);
		if (!cc.json) {
			if (sig)
				printf("released on %s\n", sigabbrev_np(sig) ?
				       sigabbrev_np(sig) : "a signal");
			else
				printf("released after %ld s\n", a->hold.seconds);
			fflush(stdout);
		}
	}
	for (i = 0; i < a->nr; i++)
		if (a->ops[i].fd >= 0)
			close(a->ops[i].fd);
	close(fd);
	return ret;
}

int cmd_gmem(int argc, char **argv)
{
	static struct gmem_args a;
	int ret;

	if (argc < 2)
		return cc_usage_error("create or use expected");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage_gmem(stdout);
		return CC_EXIT_OK;
	}
	memset(&a, 0, sizeof(a));
	if (!strcmp(argv[1], "create")) {
		a.create = true;
		cc.cmd = "gmem create";
	} else if (!strcmp(argv[1], "use")) {
		cc.cmd = "gmem use";
	} else {
		return cc_usage_error("unknown subcommand '%s' (create or use)", argv[1]);
	}
	argv[1] = argv[0];
	ret = parse_args(argc - 1, argv + 1, &a);
	if (ret < 0)
		return CC_EXIT_OK;	/* --help */
	if (ret)
		return ret;
	return gmem_run(&a);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * cchostctl status - the modules (loaded, version, references, parameters,
 * what is installed), the pool (sysfs under
 * /sys/class/misc/gmem_pfnpool/pool/) and the devices bound to tdi_dmabuf
 * with their TDI state.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cchostctl.h"

void usage_status(FILE *f)
{
	fprintf(f,
		"Usage: cchostctl status [--json] [MODULE...]\n"
		"\n"
		"Show gmem_pfnpool and tdi_dmabuf (and any MODULE named): loaded or\n"
		"not, version, reference count, holders and parameters, and the\n"
		"version installed for the running kernel; the pool's total, free\n"
		"and used bytes, largest free block and ranges; the devices bound to\n"
		"tdi_dmabuf with their TDI state.\n"
		"\n"
		"      --json   one JSON object on stdout\n"
		"  -h, --help   this help\n");
}

#define POOL_MAX_RANGES	16

struct pool_state {
	bool present;
	uint64_t total, free, used, largest;
	int nr;
	struct {
		uint64_t base, size, free;
	} ranges[POOL_MAX_RANGES];
};

/* The pool's sysfs attributes; false if gmem_pfnpool is not loaded. */
static bool pool_read(struct pool_state *p)
{
	char buf[4096], *line, *save;

	memset(p, 0, sizeof(*p));
	if (read_u64_file(CC_POOL_SYSFS "/total", &p->total))
		return false;
	p->present = true;
	read_u64_file(CC_POOL_SYSFS "/free", &p->free);
	read_u64_file(CC_POOL_SYSFS "/used", &p->used);
	read_u64_file(CC_POOL_SYSFS "/largest_free_block", &p->largest);
	if (read_file(CC_POOL_SYSFS "/ranges", buf, sizeof(buf)) < 0)
		return true;
	for (line = strtok_r(buf, "\n", &save); line && p->nr < POOL_MAX_RANGES;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long base, size, free;

		if (sscanf(line, "%llx %llu %llu", &base, &size, &free) != 3)
			continue;
		p->ranges[p->nr].base = base;
		p->ranges[p->nr].size = size;
		p->ranges[p->nr].free = free;
		p->nr++;
	}
	return true;
}

struct tdi_dev_state {
	char bdf[64];
	char state[32], cause[32];
	uint64_t dmabufs, revokes;
};

static void tdi_dev_read(const char *bdf, struct tdi_dev_state *t)
{
	char path[512];

	memset(t, 0, sizeof(*t));
	copy_str(t->bdf, sizeof(t->bdf), bdf);
	snprintf(path, sizeof(path), CC_PCI_DEVICES "/%s/tdi_state", bdf);
	read_line(path, t->state, sizeof(t->state));
	snprintf(path, sizeof(path), CC_PCI_DEVICES "/%s/tdi_cause", bdf);
	read_line(path, t->cause, sizeof(t->cause));
	snprintf(path, sizeof(path), CC_PCI_DEVICES "/%s/tdi_dmabufs", bdf);
	read_u64_file(path, &t->dmabufs);
	snprintf(path, sizeof(path), CC_PCI_DEVICES "/%s/tdi_revokes", bdf);
	read_u64_file(path, &t->revokes);
}

static void print_module(const struct cc_modinfo *mi)
{
	char params[1024] = "", path[512], val[256];
	struct dirent *e;
	size_t w = 0;
	DIR *d;
	int i;

	printf("  %-14s ", mi->name);
	if (!mi->loaded) {
		printf("not loaded");
		if (mi->installed)
			printf(" (installed: %s)", mi->installed_version[0] ?
			       mi->installed_version : mi->path);
		else
			printf(" (not installed for this kernel)");
		printf("\n");
		return;
	}
	printf("%s", mi->state);
	if (mi->version[0])
		printf(", version %s", mi->version);
	printf(", refcnt %d", mi->refcnt);
	for (i = 0; i < mi->nr_holders && i < (int)ARRAY_SIZE(mi->holders); i++)
		printf("%s%s", i ? " " : ", held by ", mi->holders[i]);
	if (mi->installed_version[0] && mi->version[0] &&
	    strcmp(mi->installed_version, mi->version))
		printf(" (installed: %s; reload to use it)", mi->installed_version);
	printf("\n");
	snprintf(path, sizeof(path), "/sys/module/%s/parameters", mi->name);
	d = opendir(path);
	while (d && (e = readdir(d))) {
		char p[800];

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		if (read_line(p, val, sizeof(val)))
			continue;
		if (w < sizeof(params))
			w += snprintf(params + w, sizeof(params) - w, " %s=%s",
				      e->d_name, val);
	}
	if (d)
		closedir(d);
	if (params[0])
		printf("  %-14s parameters:%s\n", "", params);
}

/* The readable parameters of a loaded module, as a JSON object. */
static void params_json(const char *name)
{
	char path[512], p[800], val[1024];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/module/%s/parameters", name);
	d = opendir(path);
	json_obj_begin("parameters");
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		if (!read_line(p, val, sizeof(val)))
			json_str(e->d_name, val);
	}
	json_obj_end();
	if (d)
		closedir(d);
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *names[16] = { "gmem_pfnpool", "tdi_dmabuf" };
	struct cc_modinfo mi;
	struct pool_state pool;
	struct kmod_ctx *ctx;
	int opt, i, nr = 2;
	struct dirent *e;
	char buf[64];
	DIR *d;

	optind = 1;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			cc.json = true;
			break;
		case 'h':
			usage_status(stdout);
			return CC_EXIT_OK;
		default:
			return cc_bad_option(argv, opt);
		}
	}
	for (i = optind; i < argc; i++) {
		if (nr == (int)ARRAY_SIZE(names))
			return cc_usage_error("too many modules");
		names[nr++] = argv[i];
	}
	cc_begin();
	ctx = kmod_open();
	if (!ctx)
		return cc_finish(CC_EXIT_FAIL);

	if (cc.json)
		json_arr_begin("modules");
	else
		printf("modules:\n");
	for (i = 0; i < nr; i++) {
		modinfo_get(ctx, names[i], &mi);
		if (cc.json) {
			json_obj_begin(NULL);
			modinfo_json_members(&mi);
			if (mi.loaded)
				params_json(mi.name);
			json_obj_end();
		} else {
			print_module(&mi);
		}
	}
	if (cc.json)
		json_arr_end();
	kmod_close(ctx);

	pool_read(&pool);
	if (cc.json) {
		if (!pool.present) {
			json_null("pool");
		} else {
			json_obj_begin("pool");
			json_u64("total", pool.total);
			json_u64("free", pool.free);
			json_u64("used", pool.used);
			json_u64("largest_free_block", pool.largest);
			json_arr_begin("ranges");
			for (i = 0; i < pool.nr; i++) {
				json_obj_begin(NULL);
				json_strf("base", "0x%llx",
					  (unsigned long long)pool.ranges[i].base);
				json_u64("size", pool.ranges[i].size);
				json_u64("free", pool.ranges[i].free);
				json_obj_end();
			}
			json_arr_end();
			json_obj_end();
		}
	} else if (!pool.present) {
		printf("pool: not present (gmem_pfnpool not loaded)\n");
	} else {
		char a[32], b[32], c[32], l[32];

		printf("pool: total %s, used %s, free %s, largest free block %s\n",
		       human_size(pool.total, a, sizeof(a)),
		       human_size(pool.used, b, sizeof(b)),
		       human_size(pool.free, c, sizeof(c)),
		       human_size(pool.largest, l, sizeof(l)));
		for (i = 0; i < pool.nr; i++)
			printf("  range 0x%llx size %s free %s\n",
			       (unsigned long long)pool.ranges[i].base,
			       human_size(pool.ranges[i].size, a, sizeof(a)),
			       human_size(pool.ranges[i].free, b, sizeof(b)));
	}

	if (cc.json)
		json_arr_begin("tdi_devices");
	else
		printf("tdi devices:");
	d = opendir(CC_TDI_DRIVER);
	nr = 0;
	while (d && (e = readdir(d))) {
		struct tdi_dev_state t;

		if (normalize_bdf(e->d_name, buf, sizeof(buf)) || strcmp(buf, e->d_name))
			continue;
		tdi_dev_read(e->d_name, &t);
		nr++;
		if (cc.json) {
			json_obj_begin(NULL);
			json_str("bdf", t.bdf);
			json_str("state", t.state);
			json_str("cause", t.cause);
			json_u64("dmabufs", t.dmabufs);
			json_u64("revokes", t.revokes);
			json_obj_end();
		} else {
			printf("\n  %s  state %s, cause %s, dmabufs %llu, revokes %llu",
			       t.bdf, t.state, t.cause, (unsigned long long)t.dmabufs,
			       (unsigned long long)t.revokes);
		}
	}
	if (d)
		closedir(d);
	if (cc.json)
		json_arr_end();
	else
		printf("%s\n", nr ? "" : " none");
	return cc_finish(CC_EXIT_OK);
}

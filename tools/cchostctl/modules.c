// SPDX-License-Identifier: GPL-2.0-only
/*
 * cchostctl - modules through libkmod: load (parameters from the config
 * file, dependencies and soft dependencies resolved), unload (refused with
 * EBUSY and the reason while in use), and the module state shared with
 * status and doctor.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>

#include <libkmod.h>

#include "cchostctl.h"

static void kmod_log(void *data, int priority, const char *file, int line,
		     const char *fn, const char *format, va_list args)
{
	(void)data;
	(void)priority;
	(void)file;
	(void)line;
	(void)fn;
	fprintf(stderr, "cchostctl: libkmod: ");
	vfprintf(stderr, format, args);
}

/* A libkmod context for the running kernel; NULL with the error recorded. */
struct kmod_ctx *kmod_open(void)
{
	struct kmod_ctx *ctx = kmod_new(NULL, NULL);

	if (!ctx) {
		cc_fail(ENOMEM, "cannot create a libkmod context");
		return NULL;
	}
	kmod_set_log_fn(ctx, kmod_log, NULL);
	/* Without indexes libkmod falls back to reading the files. */
	kmod_load_resources(ctx);
	return ctx;
}

void kmod_close(struct kmod_ctx *ctx)
{
	if (ctx)
		kmod_unref(ctx);
}

static void sys_module_read(const char *name, const char *attr, char *buf,
			    size_t len)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/module/%s/%s", name, attr);
	if (read_line(path, buf, len))
		buf[0] = 0;
}

/* The module installed for the running kernel, found as modprobe would. */
static struct kmod_module *module_lookup(struct kmod_ctx *ctx, const char *name)
{
	struct kmod_module *mod = NULL;
	struct kmod_list *list = NULL;

	if (kmod_module_new_from_lookup(ctx, name, &list) < 0 || !list)
		return NULL;
	mod = kmod_module_get_module(list);
	kmod_module_unref_list(list);
	return mod;
}

/* Value of modinfo @key of @mod, or "". */
static void module_info(struct kmod_module *mod, const char *key, char *buf,
			size_t len)
{
	struct kmod_list *info = NULL, *l;

	buf[0] = 0;
	if (kmod_module_get_info(mod, &info) < 0)
		return;
	kmod_list_foreach(l, info) {
		if (!strcmp(kmod_module_info_get_key(l), key)) {
			snprintf(buf, len, "%s", kmod_module_info_get_value(l));
			break;
		}
	}
	kmod_module_info_free_list(info);
}

/* State of module @name: what /sys/module says and what is installed. */
int modinfo_get(struct kmod_ctx *ctx, const char *name, struct cc_modinfo *mi)
{
	struct kmod_module *mod;
	char path[256], buf[64];
	struct dirent *e;
	DIR *d;

	memset(mi, 0, sizeof(*mi));
	module_sysname(name, mi->name, sizeof(mi->name));
	snprintf(path, sizeof(path), "/sys/module/%s", mi->name);
	mi->loaded = path_exists(path);
	if (mi->loaded) {
		sys_module_read(mi->name, "initstate", mi->state, sizeof(mi->state));
		if (!mi->state[0]) {
			mi->builtin = true;
			snprintf(mi->state, sizeof(mi->state), "builtin");
		}
		sys_module_read(mi->name, "version", mi->version, sizeof(mi->version));
		sys_module_read(mi->name, "srcversion", mi->srcversion,
				sizeof(mi->srcversion));
		sys_module_read(mi->name, "refcnt", buf, sizeof(buf));
		mi->refcnt = atoi(buf);
		snprintf(path, sizeof(path), "/sys/module/%s/holders", mi->name);
		d = opendir(path);
		while (d && (e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			if (mi->nr_holders < (int)ARRAY_SIZE(mi->holders))
				copy_str(mi->holders[mi->nr_holders],
					 sizeof(mi->holders[0]), e->d_name);
			mi->nr_holders++;
		}
		if (d)
			closedir(d);
	}
	mod = ctx ? module_lookup(ctx, name) : NULL;
	if (mod) {
		const char *p = kmod_module_get_path(mod);

		if (p) {
			mi->installed = true;
			snprintf(mi->path, sizeof(mi->path), "%s", p);
			module_info(mod, "version", mi->installed_version,
				    sizeof(mi->installed_version));
		}
		kmod_module_unref(mod);
	}
	return 0;
}

/* Module state as members of the open JSON object. */
void modinfo_json_members(const struct cc_modinfo *mi)
{
	int i;

	json_str("name", mi->name);
	json_bool("loaded", mi->loaded);
	if (mi->loaded) {
		json_str("state", mi->state);
		json_str("version", mi->version[0] ? mi->version : NULL);
		json_str("srcversion", mi->srcversion[0] ? mi->srcversion : NULL);
		json_i64("refcnt", mi->refcnt);
		json_arr_begin("holders");
		for (i = 0; i < mi->nr_holders && i < (int)ARRAY_SIZE(mi->holders); i++)
			json_str(NULL, mi->holders[i]);
		json_arr_end();
	}
	json_bool("installed", mi->installed);
	json_str("path", mi->installed ? mi->path : NULL);
	json_str("installed_version",
		 mi->installed_version[0] ? mi->installed_version : NULL);
}

/* ---- load ---- */

void usage_load(FILE *f)
{
	fprintf(f,
		"Usage: cchostctl load [--config FILE] [--json] [MODULE...]\n"
		"\n"
		"Load modules through libkmod with their dependencies and soft\n"
		"dependencies, passing the parameters the config file gives them.\n"
		"Without MODULE, every module the config file names is loaded, in\n"
		"the order of the file.\n"
		"\n"
		"  -c, --config FILE  config file (default " CC_DEFAULT_CONFIG ")\n"
		"      --json         one JSON object on stdout\n"
		"  -h, --help         this help\n"
		"\n"
		"Config file lines: 'options MODULE PARAM=VALUE...' or\n"
		"'MODULE.PARAM=VALUE'; '#' starts a comment line.\n");
}

#define MAX_INSERTED	16
static char load_inserted[MAX_INSERTED][64];
static int load_nr_inserted;

/* libkmod calls this before inserting each module (dependencies first). */
static void load_action(struct kmod_module *m, bool install, const char *options)
{
	(void)install;
	(void)options;
	if (kmod_module_get_initstate(m) == KMOD_MODULE_LIVE)
		return;
	if (load_nr_inserted < MAX_INSERTED)
		snprintf(load_inserted[load_nr_inserted++], sizeof(load_inserted[0]),
			 "%s", kmod_module_get_name(m));
}

/* /dev/kmsg positioned at its end, to read what a failing init logs. */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* The last kernel message since kmsg_open() that starts with "@name:". */
static void kmsg_last(int fd, const char *name, char *out, size_t len)
{
	char rec[2048], prefix[80];

	out[0] = 0;
	if (fd < 0)
		return;
	snprintf(prefix, sizeof(prefix), "%s:", name);
	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		char *msg;

		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		if (n <= 0)
			break;
		rec[n] = 0;
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		msg[strcspn(msg, "\n")] = 0;
		if (!strncmp(msg, prefix, strlen(prefix)))
			snprintf(out, len, "%s", msg);
	}
}

/* Every PARAM of @params must be a parameter of @mod (modinfo parm). */
static int check_params(struct kmod_module *mod, const char *name,
			const char *params)
{
	struct kmod_list *info = NULL, *l;
	char known[512] = "", pname[64], val[1024];
	const char *cur = params;
	bool any = false;

	if (kmod_module_get_info(mod, &info) < 0)
		return 0;
	kmod_list_foreach(l, info) {
		const char *key = kmod_module_info_get_key(l);
		const char *v = kmod_module_info_get_value(l);
		size_t n = strcspn(v, ":");

		if (strcmp(key, "parmtype"))
			continue;
		any = true;
		if (strlen(known) + n + 3 < sizeof(known))
			snprintf(known + strlen(known), sizeof(known) - strlen(known),
				 "%s%.*s", known[0] ? ", " : "", (int)n, v);
	}
	kmod_module_info_free_list(info);
	while (config_next_param(&cur, pname, sizeof(pname), val, sizeof(val))) {
		char pat[80];
		size_t plen;

		/* known is "a, b, c": look for the exact name */
		plen = strlen(pname);
		snprintf(pat, sizeof(pat), "%s", pname);
		if (any) {
			const char *p = known;
			bool found = false;

			while ((p = strstr(p, pat))) {
				if ((p == known || p[-1] == ' ') &&
				    (p[plen] == ',' || !p[plen])) {
					found = true;
					break;
				}
				p += plen;
			}
			if (found)
				continue;
		}
		cc_fail(EINVAL, "%s: unknown parameter '%s'", name, pname);
		if (any)
			cc_hint("%s takes: %s", name, known);
		else
			cc_hint("%s takes no parameters", name);
		return CC_EXIT_FAIL;
	}
	return 0;
}

/* Y/N/1/0/y/n/on/off as the kernel's kstrtobool(); -1 if not a boolean. */
static int as_bool(const char *s)
{
	if (!strcmp(s, "Y") || !strcmp(s, "y") || !strcmp(s, "1") ||
	    !strcasecmp(s, "on") || !strcasecmp(s, "true"))
		return 1;
	if (!strcmp(s, "N") || !strcmp(s, "n") || !strcmp(s, "0") ||
	    !strcasecmp(s, "off") || !strcasecmp(s, "false"))
		return 0;
	return -1;
}

static bool same_value(const char *want, const char *have)
{
	uint64_t a, b;

	if (!strcmp(want, have))
		return true;
	if (!parse_u64(want, &a) && !parse_u64(have, &b))
		return a == b;
	return as_bool(want) >= 0 && as_bool(want) == as_bool(have);
}

/*
 * A loaded module: the parameters wanted must be those it runs with (those
 * sysfs can show). Returns 0 or CC_EXIT_FAIL (EEXIST) naming the first
 * difference.
 */
static int check_loaded_params(const char *name, const char *params)
{
	char pname[64], want[1024], have[1024], path[256];
	const char *cur = params;

	while (config_next_param(&cur, pname, sizeof(pname), want, sizeof(want))) {
		snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", name,
			 pname);
		if (read_line(path, have, sizeof(have)))
			continue;	/* not visible: cannot tell */
		if (!want[0])
			snprintf(want, sizeof(want), "Y");
		if (same_value(want, have))
			continue;
		cc_fail(EEXIST, "%s is already loaded with %s=%s, not %s=%s", name,
			pname, have, pname, want);
		cc_hint("unload it first (cchostctl unload %s), then load it again",
			name);
		return CC_EXIT_FAIL;
	}
	return 0;
}

static const char *kernel_release(void)
{
	static struct utsname u;

	if (!u.release[0])
		uname(&u);
	return u.release;
}

static int load_one(struct kmod_ctx *ctx, struct cc_config *cfg,
		    const char *name)
{
	struct cc_config_module *cm = config_find(cfg, name);
	const char *params = cm ? cm->params : "";
	struct kmod_module *mod;
	struct cc_modinfo mi;
	char sys[64], msg[512];
	int err, i, kmsg;
	bool already;

	module_sysname(name, sys, sizeof(sys));
	mod = module_lookup(ctx, name);
	if (!mod) {
		cc_fail(ENOENT, "module %s not found for Linux %s", name,
			kernel_release());
		cc_hint("is the cchost package installed for this kernel? (modinfo %s)",
			name);
		return CC_EXIT_FAIL;
	}
	if (check_params(mod, sys, params))
		goto err_unref;
	already = kmod_module_get_initstate(mod) == KMOD_MODULE_LIVE ||
		  kmod_module_get_initstate(mod) == KMOD_MODULE_BUILTIN;
	if (already) {
		if (check_loaded_params(sys, params))
			goto err_unref;
	} else {
		load_nr_inserted = 0;
		kmsg = kmsg_open();
		err = kmod_module_probe_insert_module(mod, KMOD_PROBE_IGNORE_LOADED,
						      params[0] ? params : NULL,
						      NULL, NULL, load_action);
		if (err) {
			kmsg_last(kmsg, sys, msg, sizeof(msg));
			if (kmsg >= 0)
				close(kmsg);
			if (err > 0)
				cc_fail(0,
					"%s: not inserted (libkmod probe status %d: blacklisted or an alias)",
					name, err);
			else
				cc_fail(-err, "cannot load %s%s%s", name,
					params[0] ? " " : "", params);
			if (msg[0])
				cc_hint("kernel: %s", msg);
			else
				cc_hint("the kernel log (dmesg) may say why");
			goto err_unref;
		}
		if (kmsg >= 0)
			close(kmsg);
	}
	kmod_module_unref(mod);
	modinfo_get(NULL, sys, &mi);
	if (cc.json) {
		json_obj_begin(NULL);
		json_str("name", sys);
		json_str("params", params);
		json_str("result", already ? "already-loaded" : "loaded");
		json_arr_begin("inserted");
		for (i = 0; !already && i < load_nr_inserted; i++)
			json_str(NULL, load_inserted[i]);
		json_arr_end();
		json_str("version", mi.version[0] ? mi.version : NULL);
		json_obj_end();
	} else {
		printf("%s: %s%s%s%s%s\n", sys, already ? "already loaded" : "loaded",
		       params[0] ? " with " : "", params,
		       mi.version[0] ? ", version " : "", mi.version);
		for (i = 0; !already && i < load_nr_inserted; i++)
			if (strcmp(load_inserted[i], sys))
				printf("  inserted dependency %s\n", load_inserted[i]);
	}
	return 0;

err_unref:
	kmod_module_unref(mod);
	return CC_EXIT_FAIL;
}

int cmd_load(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *config = NULL;
	struct kmod_ctx *ctx = NULL;
	static struct cc_config cfg;
	int opt, i, ret = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'j':
			cc.json = true;
			break;
		case 'h':
			usage_load(stdout);
			return CC_EXIT_OK;
		default:
			return cc_bad_option(argv, opt);
		}
	}
	cc_begin();
	if (config_load(&cfg, config, config || optind == argc))
		return cc_finish(CC_EXIT_FAIL);
	if (cc.json)
		json_str("config", cfg.found ? cfg.path : NULL);
	if (optind == argc && !cfg.nr) {
		cc_fail(ENOENT, "%s names no module, and no MODULE was given", cfg.path);
		return cc_finish(CC_EXIT_FAIL);
	}
	for (i = optind; i < argc; i++) {
		char sys[64];

		module_sysname(argv[i], sys, sizeof(sys));
		if (cfg.nr && !config_find(&cfg, sys) && cfg.found)
			cc_warn("%s: no parameters for %s in %s", sys, sys, cfg.path);
	}
	ctx = kmod_open();
	if (!ctx)
		return cc_finish(CC_EXIT_FAIL);
	if (cc.json)
		json_arr_begin("modules");
	if (optind < argc) {
		for (i = optind; i < argc && !ret; i++)
			ret = load_one(ctx, &cfg, argv[i]);
	} else {
		for (i = 0; i < cfg.nr && !ret; i++)
			ret = load_one(ctx, &cfg, cfg.mods[i].name);
	}
	if (cc.json)
		json_arr_end();
	kmod_close(ctx);
	return cc_finish(ret);
}

/* ---- unload ---- */

void usage_unload(FILE *f)
{
	fprintf(f,
		"Usage: cchostctl unload [--json] MODULE...\n"
		"\n"
		"Unload the named modules, in the order given (their dependencies\n"
		"stay loaded). A module in use is refused with EBUSY, naming its\n"
		"reference count, the modules that hold it, the devices bound to its\n"
		"drivers and the processes with its files open.\n"
		"\n"
		"      --json   one JSON object on stdout\n"
		"  -h, --help   this help\n");
}

/* Devices bound to any driver of module @name (/sys/module/NAME/drivers). */
static int module_devices(const char *name, char out[][64], int max)
{
	char path[512], dpath[768];
	struct dirent *e, *dev;
	DIR *d, *dd;
	int n = 0;

	snprintf(path, sizeof(path), "/sys/module/%s/drivers", name);
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(dpath, sizeof(dpath), "%s/%s", path, e->d_name);
		dd = opendir(dpath);
		if (!dd)
			continue;
		while ((dev = readdir(dd))) {
			char link[1024], target[512];
			ssize_t len;

			if (dev->d_name[0] == '.' || !strchr(dev->d_name, ':'))
				continue;
			snprintf(link, sizeof(link), "%s/%s", dpath, dev->d_name);
			len = readlink(link, target, sizeof(target) - 1);
			if (len <= 0 || !strstr(target, "devices/"))
				continue;
			if (n < max)
				copy_str(out[n], 64, dev->d_name);
			n++;
		}
		closedir(dd);
	}
	closedir(d);
	return n;
}

/*
 * An fd that keeps module @data loaded: its device node, a DMA-BUF it
 * exported, or (gmem_pfnpool) a gmem file.
 */
static bool module_fd_match(int pid, int fd, const char *target, void *data)
{
	const char *name = data;
	char path[128], info[1024], want[96];
	const char *p;

	snprintf(want, sizeof(want), "/dev/%s", name);
	if (!strcmp(target, want))
		return true;
	if (!strcmp(name, "gmem_pfnpool") && !strncmp(target, "/gmem", 5))
		return true;
	if (strncmp(target, "/dmabuf:", 8) && strncmp(target, "anon_inode:dmabuf", 17))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	if (read_file(path, info, sizeof(info)) < 0)
		return false;
	p = strstr(info, "exp_name:");
	if (!p)
		return false;
	p += strlen("exp_name:");
	p += strspn(p, " \t");
	return !strncmp(p, name, strlen(name)) && p[strlen(name)] == '\n';
}

static int unload_one(struct kmod_ctx *ctx, const char *name)
{
	struct cc_holder procs[16];
	struct kmod_module *mod;
	struct cc_modinfo mi;
	char devs[16][64], sys[64];
	int nr_devs, nr_procs, i, err;
	char why[512];
	size_t w;

	module_sysname(name, sys, sizeof(sys));
	modinfo_get(NULL, sys, &mi);
	if (!mi.loaded)
		return cc_fail(ENOENT, "%s is not loaded", sys);
	if (mi.builtin)
		return cc_fail(EPERM, "%s is built into the kernel", sys);
	if (mi.refcnt > 0 || mi.nr_holders > 0) {
		nr_devs = module_devices(sys, devs, ARRAY_SIZE(devs));
		nr_procs = find_fd_holders(module_fd_match, sys, procs,
					   ARRAY_SIZE(procs));
		w = snprintf(why, sizeof(why), "refcnt %d", mi.refcnt);
		for (i = 0; i < mi.nr_holders && i < (int)ARRAY_SIZE(mi.holders) &&
		     w < sizeof(why); i++)
			w += snprintf(why + w, sizeof(why) - w, "%s%s",
				      i ? " " : ", held by modules ", mi.holders[i]);
		for (i = 0; i < nr_devs && i < (int)ARRAY_SIZE(devs) && w < sizeof(why); i++)
			w += snprintf(why + w, sizeof(why) - w, "%s%s",
				      i ? " " : ", bound devices ", devs[i]);
		for (i = 0; i < nr_procs && i < (int)ARRAY_SIZE(procs) && w < sizeof(why); i++)
			w += snprintf(why + w, sizeof(why) - w, "%spid %d (%s) fd %d",
				      i ? ", " : ", open in ", procs[i].pid,
				      procs[i].comm, procs[i].fd);
		cc_fail(EBUSY, "%s is in use (%s)", sys, why);
		if (mi.nr_holders)
			cc_hint("unload the holding modules first");
		else if (nr_devs)
			cc_hint("unbind the devices first (echo BDF > %s/%s/unbind)",
				"/sys/bus/pci/drivers", sys);
		else
			cc_hint("close what uses it (open files, mappings, DMA-BUFs) first");
		if (cc.json) {
			json_obj_begin(NULL);
			json_str("name", sys);
			json_str("result", "busy");
			json_i64("refcnt", mi.refcnt);
			json_arr_begin("holders");
			for (i = 0; i < mi.nr_holders && i < (int)ARRAY_SIZE(mi.holders); i++)
				json_str(NULL, mi.holders[i]);
			json_arr_end();
			json_arr_begin("devices");
			for (i = 0; i < nr_devs && i < (int)ARRAY_SIZE(devs); i++)
				json_str(NULL, devs[i]);
			json_arr_end();
			json_arr_begin("processes");
			for (i = 0; i < nr_procs && i < (int)ARRAY_SIZE(procs); i++) {
				json_obj_begin(NULL);
				json_i64("pid", procs[i].pid);
				json_str("comm", procs[i].comm);
				json_i64("fd", procs[i].fd);
				json_str("target", procs[i].target);
				json_obj_end();
			}
			json_arr_end();
			json_obj_end();
		}
		return CC_EXIT_FAIL;
	}
	err = kmod_module_new_from_name(ctx, sys, &mod);
	if (err < 0)
		return cc_fail(-err, "%s", sys);
	err = kmod_module_remove_module(mod, 0);
	kmod_module_unref(mod);
	if (err < 0)
		return cc_fail(-err, "cannot unload %s", sys);
	if (cc.json) {
		json_obj_begin(NULL);
		json_str("name", sys);
		json_str("result", "unloaded");
		json_obj_end();
	} else {
		printf("%s: unloaded\n", sys);
	}
	return 0;
}

int cmd_unload(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct kmod_ctx *ctx;
	int opt, i, ret = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			cc.json = true;
			break;
		case 'h':
			usage_unload(stdout);
			return CC_EXIT_OK;
		default:
			return cc_bad_option(argv, opt);
		}
	}
	if (optind == argc)
		return cc_usage_error("no MODULE given");
	cc_begin();
	ctx = kmod_open();
	if (!ctx)
		return cc_finish(CC_EXIT_FAIL);
	if (cc.json)
		json_arr_begin("modules");
	for (i = optind; i < argc && !ret; i++)
		ret = unload_one(ctx, argv[i]);
	if (cc.json)
		json_arr_end();
	kmod_close(ctx);
	return cc_finish(ret);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * cchostctl doctor - what this host lacks for cchost: memory carved out
 * with memmap=, the pool's ranges inside it, an IOMMU, VFIO, our modules,
 * the device node's permissions, debugfs and tracefs.
 *
 * Each check is required or not; its status is ok, missing (a required
 * check failed), warn (an optional one did) or skip (does not apply, or
 * cannot be told). The exit status is 0 only when no required check is
 * missing.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cchostctl.h"

void usage_doctor(FILE *f)
{
	fprintf(f,
		"Usage: cchostctl doctor [--config FILE] [--json]\n"
		"\n"
		"Check what this host needs for cchost and say what is missing, with\n"
		"a hint for each: memory reserved with memmap= on the kernel command\n"
		"line, gmem_pfnpool's ranges= (of the loaded module, else of the\n"
		"config file) inside it, an IOMMU, the VFIO modules and /dev/vfio,\n"
		"the cchost modules installed and loaded, " CC_GMEM_DEV " not\n"
		"world-accessible, debugfs and tracefs mounted. The exit status is 0\n"
		"only when every required check passes.\n"
		"\n"
		"  -c, --config FILE  config file (default " CC_DEFAULT_CONFIG ")\n"
		"      --json         one JSON object on stdout\n"
		"  -h, --help         this help\n");
}

enum check_status { ST_OK, ST_MISSING, ST_WARN, ST_SKIP };

static const char * const status_names[] = {
	[ST_OK] = "ok", [ST_MISSING] = "missing", [ST_WARN] = "warn", [ST_SKIP] = "skip",
};

struct check {
	const char *name;
	bool required;
	enum check_status status;
	char detail[512];
	char hint[512];
};

#define MAX_CHECKS	16
static struct check checks[MAX_CHECKS];
static int nr_checks;

static struct check *check_new(const char *name, bool required)
{
	struct check *c = &checks[nr_checks++];

	memset(c, 0, sizeof(*c));
	c->name = name;
	c->required = required;
	return c;
}

/* Set the outcome: @ok, or missing/warn depending on the check. */
static __printf(3, 4) void check_set(struct check *c, bool ok, const char *fmt, ...)
{
	va_list ap;

	c->status = ok ? ST_OK : c->required ? ST_MISSING : ST_WARN;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

static __printf(2, 3) void check_hint(struct check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->hint, sizeof(c->hint), fmt, ap);
	va_end(ap);
}

/* The check does not apply, or cannot be told. */
static __printf(2, 3) void check_skip(struct check *c, const char *fmt, ...)
{
	va_list ap;

	c->status = ST_SKIP;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

/* /proc/iomem */
#define MAX_IOMEM	512

struct iomem_res {
	uint64_t start, end;	/* inclusive */
	int depth;
	char name[64];
};

static struct iomem_res iomem[MAX_IOMEM];
static int nr_iomem;
static bool iomem_hidden;	/* addresses shown as zeros: not root */

static int iomem_read(void)
{
	char line[256];
	bool nonzero = false;
	FILE *f;

	f = fopen("/proc/iomem", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f) && nr_iomem < MAX_IOMEM) {
		struct iomem_res *r = &iomem[nr_iomem];
		unsigned long long s, e;
		char *name;
		int depth = 0;

		while (line[depth] == ' ')
			depth++;
		if (sscanf(line + depth, "%llx-%llx", &s, &e) != 2)
			continue;
		name = strstr(line, " : ");
		if (!name)
			continue;
		name += 3;
		name[strcspn(name, "\n")] = 0;
		r->start = s;
		r->end = e;
		r->depth = depth / 2;
		snprintf(r->name, sizeof(r->name), "%s", name);
		if (s || e)
			nonzero = true;
		nr_iomem++;
	}
	fclose(f);
	iomem_hidden = !nonzero;
	return 0;
}

/* An iomem resource named @name covering [start, start + size). */
static const struct iomem_res *iomem_covering(const char *name, uint64_t start,
					      uint64_t size)
{
	int i;

	for (i = 0; i < nr_iomem; i++)
		if (!strcmp(iomem[i].name, name) && iomem[i].start <= start &&
		    start + size - 1 <= iomem[i].end)
			return &iomem[i];
	return NULL;
}

static bool iomem_overlaps(const char *name, uint64_t start, uint64_t size)
{
	int i;

	for (i = 0; i < nr_iomem; i++)
		if (!strcmp(iomem[i].name, name) && iomem[i].start < start + size &&
		    start <= iomem[i].end)
			return true;
	return false;
}

static char cmdline[4096];

/* The value of the first "@key=" of the kernel command line, or NULL. */
static const char *cmdline_value(const char *key, char *buf, size_t len)
{
	const char *p = cmdline;
	size_t klen = strlen(key);

	while (*p) {
		size_t n;

		p += strspn(p, " ");
		n = strcspn(p, " ");
		if (n > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			snprintf(buf, len, "%.*s", (int)(n - klen - 1), p + klen + 1);
			return buf;
		}
		p += n;
	}
	return NULL;
}

static void check_memmap(void)
{
	struct check *c = check_new("memmap", true);
	char detail[512] = "", bad[256] = "";
	const char *p = cmdline;
	int found = 0, reserved = 0;
	size_t w = 0;

	while (*p) {
		char tok[256], *item, *save = NULL;
		size_t n;

		p += strspn(p, " ");
		n = strcspn(p, " ");
		if (n < 7 || strncmp(p, "memmap=", 7) || n - 7 >= sizeof(tok)) {
			p += n;
			continue;
		}
		snprintf(tok, sizeof(tok), "%.*s", (int)(n - 7), p + 7);
		p += n;
		for (item = strtok_r(tok, ",", &save); item;
		     item = strtok_r(NULL, ",", &save)) {
			char *sep = strpbrk(item, "$!#@%");
			uint64_t size, addr;

			if (!sep || *sep == '@' || *sep == '#' || *sep == '%')
				continue;
			found++;
			*sep = 0;
			if (parse_size(item, &size) || parse_size(sep + 1, &addr) || !size) {
				snprintf(bad, sizeof(bad), "cannot parse memmap=%s", item);
				continue;
			}
			if (*sep == '!') {
				snprintf(bad, sizeof(bad),
					 "memmap=%s!%s is legacy persistent memory (nd_pmem claims it); use $",
					 item, sep + 1);
				continue;
			}
			if (!iomem_hidden && !iomem_covering("Reserved", addr, size)) {
				snprintf(bad, sizeof(bad),
					 "memmap=%s$%s is not a Reserved range of /proc/iomem (RAM the firmware reports?)",
					 item, sep + 1);
				continue;
			}
			reserved++;
			if (w < sizeof(detail))
				w += snprintf(detail + w, sizeof(detail) - w, "%smemmap=%s$%s",
					      w ? " " : "", item, sep + 1);
		}
	}
	if (!found) {
		check_set(c, false, "no memmap=SIZE$ADDR on the kernel command line");
		check_hint(c,
			   "carve the pool out of RAM: memmap=4G$0x100000000 on the kernel command line (in /etc/default/grub: memmap=4G\\\\\\$0x100000000), then reboot");
	} else if (bad[0]) {
		check_set(c, false, "%s", bad);
		check_hint(c,
			   "reserve RAM the firmware reports (see the e820 map in dmesg) with memmap=SIZE$ADDR");
	} else if (iomem_hidden) {
		check_skip(c, "%d memmap= range(s); /proc/iomem hides addresses from users",
			   found);
		check_hint(c, "run as root");
	} else {
		check_set(c, true, "%s reserved (%d range%s)", detail, reserved,
			  reserved == 1 ? "" : "s");
	}
}

static void check_pool_ranges(struct cc_config *cfg)
{
	struct check *c = check_new("pool-ranges", true);
	char ranges[1024], buf[1024], *item, *save = NULL;
	const struct cc_config_module *m;
	const char *from = NULL;
	bool loaded;

	loaded = !read_line("/sys/module/gmem_pfnpool/parameters/ranges", ranges,
			    sizeof(ranges)) && ranges[0] && strcmp(ranges, "(null)");
	m = cfg->found ? config_find(cfg, "gmem_pfnpool") : NULL;
	if (loaded)
		from = "the loaded gmem_pfnpool";
	else if (m && config_param(m, "ranges", ranges, sizeof(ranges)))
		from = cfg->path;
	if (!from) {
		check_skip(c, "no ranges= (gmem_pfnpool not loaded with one, none in %s)",
			   cfg->path);
		check_hint(c, "options gmem_pfnpool ranges=SIZE@ADDR in %s", cfg->path);
		return;
	}
	if (iomem_hidden) {
		check_skip(c, "ranges=%s (%s): /proc/iomem hides addresses", ranges, from);
		check_hint(c, "run as root");
		return;
	}
	snprintf(buf, sizeof(buf), "%s", ranges);
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *at = strchr(item, '@');
		uint64_t size, addr;

		if (!at) {
			check_set(c, false, "ranges=%s (%s): cannot parse '%s'", ranges, from,
				  item);
			check_hint(c, "ranges=SIZE@ADDR[,SIZE@ADDR...], e.g. 1G@0x140000000");
			return;
		}
		*at = 0;
		if (parse_size(item, &size) || parse_size(at + 1, &addr) || !size) {
			check_set(c, false, "ranges=%s (%s): cannot parse '%s@%s'", ranges, from,
				  item, at + 1);
			check_hint(c, "ranges=SIZE@ADDR[,SIZE@ADDR...], e.g. 1G@0x140000000");
			return;
		}
		if (iomem_overlaps("System RAM", addr, size)) {
			check_set(c, false, "ranges=%s (%s): %s@%s overlaps System RAM",
				  ranges, from, item, at + 1);
			check_hint(c,
				   "reserve it first with memmap=%s$%s on the kernel command line",
				   item, at + 1);
			return;
		}
		if (!iomem_covering("Reserved", addr, size)) {
			check_set(c, false,
				  "ranges=%s (%s): %s@%s is not inside memory reserved with memmap=",
				  ranges, from, item, at + 1);
			check_hint(c,
				   "use ranges inside the memmap= ranges (grep Reserved /proc/iomem)");
			return;
		}
		if (loaded && !iomem_covering("gmem_pfnpool", addr, size)) {
			check_set(c, false,
				  "ranges=%s (%s): %s@%s is not claimed by gmem_pfnpool in /proc/iomem",
				  ranges, from, item, at + 1);
			return;
		}
	}
	check_set(c, true, "ranges=%s (%s) inside reserved memory%s", ranges, from,
		  loaded ? ", claimed by gmem_pfnpool" : "");
}

static void check_iommu(void)
{
	struct check *c = check_new("iommu", true);
	char units[256] = "", val[64];
	struct dirent *e;
	size_t w = 0;
	int n = 0;
	DIR *d;

	d = opendir("/sys/class/iommu");
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		n++;
		if (w < sizeof(units))
			w += snprintf(units + w, sizeof(units) - w, "%s%s", w ? " " : "",
				      e->d_name);
	}
	if (d)
		closedir(d);
	if (n) {
		check_set(c, true, "IOMMU enabled: %s%s%s", units,
			  cmdline_value("intel_iommu", val, sizeof(val)) ? ", intel_iommu=" : "",
			  cmdline_value("intel_iommu", val, sizeof(val)) ? val : "");
		return;
	}
	if (cmdline_value("intel_iommu", val, sizeof(val)) && !strncmp(val, "on", 2)) {
		check_set(c, false, "intel_iommu=%s on the command line, but no IOMMU registered",
			  val);
		check_hint(c,
			   "enable VT-d in the firmware (no DMAR table?); dmesg | grep -i -e DMAR -e IOMMU");
		return;
	}
	check_set(c, false, "no IOMMU registered (/sys/class/iommu is empty)");
	check_hint(c,
		   "add intel_iommu=on (Intel; AMD IOMMUs are on unless amd_iommu=off) to the kernel command line, and iommu=pt to keep host DMA fast");
}

static void check_vfio(struct kmod_ctx *ctx)
{
	static const char * const mods[] = { "vfio", "vfio_iommu_type1", "vfio_pci_core" };
	struct check *c = check_new("vfio", true);
	char missing[256] = "", absent[256] = "";
	struct cc_modinfo mi;
	size_t w = 0, a = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(mods); i++) {
		modinfo_get(ctx, mods[i], &mi);
		if (mi.loaded)
			continue;
		w += snprintf(missing + w, sizeof(missing) - w, "%s%s", w ? " " : "", mods[i]);
		if (!mi.installed)
			a += snprintf(absent + a, sizeof(absent) - a, "%s%s", a ? " " : "",
				      mods[i]);
	}
	if (!missing[0]) {
		check_set(c, true, "vfio, vfio_iommu_type1 and vfio_pci_core loaded");
		return;
	}
	check_set(c, false, "not loaded: %s", missing);
	if (absent[0])
		check_hint(c, "this kernel has no module %s (CONFIG_VFIO_PCI_CORE)", absent);
	else
		check_hint(c, "cchostctl load tdi_dmabuf (pulls them in), or modprobe vfio-pci");
}

static void check_dev_vfio(void)
{
	struct check *c = check_new("dev-vfio", true);

	if (path_exists("/dev/vfio/vfio")) {
		check_set(c, true, "/dev/vfio/vfio present");
		return;
	}
	check_set(c, false, "/dev/vfio/vfio missing");
	check_hint(c, "load vfio (and a kernel with VFIO_CONTAINER or IOMMUFD_VFIO_CONTAINER)");
}

static void check_modules(struct kmod_ctx *ctx)
{
	static const char * const mods[] = { "gmem_pfnpool", "tdi_dmabuf" };
	struct check *inst = check_new("cchost-installed", true);
	struct check *load = check_new("cchost-loaded", false);
	char ibuf[256] = "", lbuf[256] = "", nbuf[128] = "", ubuf[128] = "";
	size_t iw = 0, lw = 0, nw = 0, uw = 0;
	struct cc_modinfo mi;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(mods); i++) {
		modinfo_get(ctx, mods[i], &mi);
		if (mi.installed)
			iw += snprintf(ibuf + iw, sizeof(ibuf) - iw, "%s%s %s", iw ? ", " : "",
				       mods[i], mi.installed_version[0] ?
				       mi.installed_version : "(no version)");
		else
			nw += snprintf(nbuf + nw, sizeof(nbuf) - nw, "%s%s", nw ? " " : "",
				       mods[i]);
		if (mi.loaded)
			lw += snprintf(lbuf + lw, sizeof(lbuf) - lw, "%s%s %s", lw ? ", " : "",
				       mods[i], mi.version[0] ? mi.version : "");
		else
			uw += snprintf(ubuf + uw, sizeof(ubuf) - uw, "%s%s", uw ? " " : "",
				       mods[i]);
	}
	if (nbuf[0]) {
		check_set(inst, false, "not installed for this kernel: %s", nbuf);
		check_hint(inst,
			   "install the cchost-dkms package, or make dkms-install KERNELRELEASE=$(uname -r)");
	} else {
		check_set(inst, true, "installed: %s", ibuf);
	}
	if (ubuf[0]) {
		check_set(load, false, "not loaded: %s", ubuf);
		check_hint(load, "cchostctl load");
	} else {
		check_set(load, true, "loaded: %s", lbuf);
	}
}

static void check_gmem_dev(void)
{
	struct check *c = check_new("gmem-device", true);
	char owner[64], group[64];
	struct passwd *pw;
	struct group *gr;
	struct stat st;

	if (stat(CC_GMEM_DEV, &st)) {
		if (!path_exists("/sys/module/gmem_pfnpool")) {
			check_skip(c, CC_GMEM_DEV " absent: gmem_pfnpool not loaded");
			check_hint(c, "cchostctl load gmem_pfnpool");
			return;
		}
		check_set(c, false, CC_GMEM_DEV " missing although gmem_pfnpool is loaded");
		check_hint(c, "is devtmpfs mounted on /dev? (mount -t devtmpfs none /dev)");
		return;
	}
	pw = getpwuid(st.st_uid);
	gr = getgrgid(st.st_gid);
	snprintf(owner, sizeof(owner), "%s", pw ? pw->pw_name : "");
	snprintf(group, sizeof(group), "%s", gr ? gr->gr_name : "");
	if (!owner[0])
		snprintf(owner, sizeof(owner), "%u", st.st_uid);
	if (!group[0])
		snprintf(group, sizeof(group), "%u", st.st_gid);
	if (st.st_mode & 0007) {
		check_set(c, false, CC_GMEM_DEV " mode %04o %s:%s: any user can take pool memory",
			  st.st_mode & 07777, owner, group);
		check_hint(c,
			   "chmod o-rw %s; the cchost package's udev rule gives it mode 0660 to group kvm",
			   CC_GMEM_DEV);
		return;
	}
	check_set(c, true, CC_GMEM_DEV " mode %04o %s:%s", st.st_mode & 07777, owner,
		  group);
}

static void check_fs(const char *fstype, const char *where)
{
	struct check *c = check_new(fstype, false);
	char at[4096];

	if (is_mounted(fstype, at, sizeof(at))) {
		check_set(c, true, "mounted at %s", at);
		return;
	}
	check_set(c, false, "not mounted");
	check_hint(c, "mount -t %s %s %s", fstype, fstype, where);
}

static void check_root(void)
{
	struct check *c = check_new("root", false);

	if (geteuid() == 0) {
		check_set(c, true, "running as root");
		return;
	}
	check_set(c, false,
		  "not root: addresses in /proc/iomem and other processes' fds are hidden");
	check_hint(c, "run cchostctl doctor as root");
}

static void check_config(const struct cc_config *cfg, int ret)
{
	struct check *c = check_new("config", true);

	if (ret) {
		check_set(c, false, "%s", cc_err.msg);
		check_hint(c,
			   "lines: 'options MODULE PARAM=VALUE...' or 'MODULE.PARAM=VALUE' (cchostctl(8))");
		return;
	}
	if (!cfg->found) {
		check_skip(c, "no config file %s", cfg->path);
		check_hint(c, "cchostctl load reads module parameters from it");
		return;
	}
	check_set(c, true, "%s: %d module%s", cfg->path, cfg->nr, cfg->nr == 1 ? "" : "s");
}

int cmd_doctor(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	static struct cc_config cfg;
	char missing[512] = "";
	const char *config = NULL;
	struct kmod_ctx *ctx;
	int opt, i, nr_missing = 0, cret;
	size_t w = 0;

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
			usage_doctor(stdout);
			return CC_EXIT_OK;
		default:
			return cc_bad_option(argv, opt);
		}
	}
	if (optind != argc)
		return cc_usage_error("no arguments expected");
	cc_begin();
	nr_checks = 0;
	cret = read_line("/proc/cmdline", cmdline, sizeof(cmdline));
	if (cret) {
		cc_fail(-cret, "cannot read /proc/cmdline");
		return cc_finish(CC_EXIT_FAIL);
	}
	cret = iomem_read();
	if (cret) {
		cc_fail(-cret, "cannot read /proc/iomem");
		return cc_finish(CC_EXIT_FAIL);
	}
	cret = config_load(&cfg, config, !!config);
	/* A config file that cannot be read is a finding, not an error. */
	check_config(&cfg, cret);
	memset(&cc_err, 0, sizeof(cc_err));
	ctx = kmod_open();
	if (!ctx)
		return cc_finish(CC_EXIT_FAIL);
	check_root();
	check_memmap();
	check_pool_ranges(&cfg);
	check_iommu();
	check_vfio(ctx);
	check_dev_vfio();
	check_modules(ctx);
	check_gmem_dev();
	check_fs("debugfs", "/sys/kernel/debug");
	check_fs("tracefs", "/sys/kernel/tracing");
	kmod_close(ctx);

	if (cc.json)
		json_arr_begin("checks");
	for (i = 0; i < nr_checks; i++) {
		struct check *c = &checks[i];

		if (c->status == ST_MISSING) {
			nr_missing++;
			if (w < sizeof(missing))
				w += snprintf(missing + w, sizeof(missing) - w, "%s%s",
					      w ? ", " : "", c->name);
		}
		if (cc.json) {
			json_obj_begin(NULL);
			json_str("name", c->name);
			json_bool("required", c->required);
			json_str("status", status_names[c->status]);
			json_str("detail", c->detail);
			json_str("hint", c->status == ST_OK || !c->hint[0] ? NULL : c->hint);
			json_obj_end();
			continue;
		}
		printf("%-8s %-17s %s\n", c->status == ST_MISSING ? "MISSING" :
		       status_names[c->status], c->name, c->detail);
		if (c->status != ST_OK && c->hint[0])
			printf("%-8s %-17s hint: %s\n", "", "", c->hint);
	}
	if (cc.json) {
		json_arr_end();
		json_arr_begin("missing");
		for (i = 0; i < nr_checks; i++)
			if (checks[i].status == ST_MISSING)
				json_str(NULL, checks[i].name);
		json_arr_end();
	}
	if (nr_missing) {
		cc_fail(0, "doctor: %d required check%s failed: %s", nr_missing,
			nr_missing == 1 ? "" : "s", missing);
		return cc_finish(CC_EXIT_FAIL);
	}
	if (!cc.json)
		printf("all required checks passed\n");
	return cc_finish(CC_EXIT_OK);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * cchostctl load, status and unload: parameters from a config file (both
 * line forms, the default path) reach the module; a module already loaded
 * with other parameters, an unknown parameter, a range the kernel refuses,
 * an unknown module and a malformed file fail clearly; status agrees with
 * sysfs; unload is refused while the module is in use and names why.
 */
#include "cli_test.h"

#include <sys/ioctl.h>
#include <linux/gmem_pfnpool.h>

#define CONF		"/tmp/cli-load.conf"
#define DEFAULT_CONF	"/etc/cchost/cchost.conf"

static struct jnode *run_json(const char *fmt, const char *arg)
{
	runf(fmt, arg);
	return json_parse(r.out);
}

/* The free column of the pool's ranges file, line @idx. */
static long long range_free(int idx)
{
	unsigned long long base, size, free;
	char buf[1024], *line, *save = NULL;
	int fd = open(POOL "/ranges", O_RDONLY), i = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++)
		if (i == idx && sscanf(line, "%llx %llu %llu", &base, &size, &free) == 3)
			return free;
	return -1;
}

static void check_status(const char *what)
{
	struct jnode *j = run_json(CLI " --json status%s", "");
	char version[64];

	snprintf(version, sizeof(version), "%s", sysread("/sys/module/gmem_pfnpool/version"));
	ok(r.status == 0 && j && jbool(j, "ok") == 1, "%s: status --json", what);
	ok(jbool(j, "modules.name=gmem_pfnpool.loaded") == 1 &&
	   !strcmp(jstr(j, "modules.name=gmem_pfnpool.state"), "live") &&
	   version[0] && !strcmp(jstr(j, "modules.name=gmem_pfnpool.version"), version) &&
	   !strcmp(jstr(j, "modules.name=gmem_pfnpool.installed_version"), version) &&
	   jnum(j, "modules.name=gmem_pfnpool.refcnt") ==
	   sysnum("/sys/module/gmem_pfnpool/refcnt"),
	   "  gmem_pfnpool: loaded, live, version %s as sysfs and installed, refcnt as sysfs",
	   version);
	ok(!strcmp(jstr(j, "modules.name=gmem_pfnpool.parameters.ranges"),
		   sysread("/sys/module/gmem_pfnpool/parameters/ranges")),
	   "  parameters.ranges as sysfs (%s)",
	   jstr(j, "modules.name=gmem_pfnpool.parameters.ranges"));
	ok(jbool(j, "modules.name=tdi_dmabuf.loaded") == 0 &&
	   jbool(j, "modules.name=tdi_dmabuf.installed") == 1,
	   "  tdi_dmabuf: not loaded, installed");
	ok(jnum(j, "pool.total") == sysnum(POOL "/total") &&
	   jnum(j, "pool.free") == sysnum(POOL "/free") &&
	   jnum(j, "pool.used") == sysnum(POOL "/used") &&
	   jnum(j, "pool.largest_free_block") == sysnum(POOL "/largest_free_block"),
	   "  pool total %lld, free %lld, used %lld, largest_free_block %lld as sysfs",
	   jnum(j, "pool.total"), jnum(j, "pool.free"), jnum(j, "pool.used"),
	   jnum(j, "pool.largest_free_block"));
	ok(jlen(j, "pool.ranges") == 1 &&
	   !strcmp(jstr(j, "pool.ranges.0.base"), "0x1a0000000") &&
	   jnum(j, "pool.ranges.0.size") == 64 << 20 &&
	   jnum(j, "pool.ranges.0.free") == range_free(0),
	   "  pool.ranges: 0x1a0000000, 64 MiB, free %lld as sysfs",
	   jnum(j, "pool.ranges.0.free"));
}

int main(void)
{
	struct gmem_pfnpool_create c = { .size = 4 << 20 };
	int dev, gfd;
	struct jnode *j;
	char want[128];

	/* options form, modules from the file */
	write_file(CONF, "# the small range only\n\noptions gmem_pfnpool ranges=64M@0x1a0000000\n");
	j = run_json(CLI " --json load --config %s", CONF);
	if (!ok(r.status == 0 && j && jbool(j, "ok") == 1, "load --config (options line)"))
		show_run();
	ok(!strcmp(sysread("/sys/module/gmem_pfnpool/parameters/ranges"), "64M@0x1a0000000") &&
	   sysnum(POOL "/total") == 64 << 20,
	   "  ranges=64M@0x1a0000000 took effect (parameters/ranges, pool total %lld)",
	   sysnum(POOL "/total"));
	ok(!strcmp(jstr(j, "config"), CONF) && jlen(j, "modules") == 1 &&
	   !strcmp(jstr(j, "modules.0.name"), "gmem_pfnpool") &&
	   !strcmp(jstr(j, "modules.0.result"), "loaded") &&
	   !strcmp(jstr(j, "modules.0.params"), "ranges=64M@0x1a0000000") &&
	   jhas(j, "modules.0.inserted", "gmem_pfnpool") &&
	   !strcmp(jstr(j, "modules.0.version"), sysread("/sys/module/gmem_pfnpool/version")),
	   "  JSON: config, name, result loaded, params, inserted, version");

	j = run_json(CLI " --json load --config %s gmem_pfnpool", CONF);
	ok(r.status == 0 && !strcmp(jstr(j, "modules.0.result"), "already-loaded"),
	   "load again with the same parameters: already-loaded, status 0");

	write_file(CONF, "options gmem_pfnpool ranges=1G@0x140000000\n");
	j = run_json(CLI " --json load --config %s", CONF);
	if (!ok(r.status == 1 && !strcmp(jstr(j, "error.errno_name"), "EEXIST") &&
		strstr(jstr(j, "error.message"),
		       "already loaded with ranges=64M@0x1a0000000, not ranges=1G@0x140000000"),
		"load with other parameters while loaded: EEXIST naming both values"))
		show_run();

	check_status("64 MiB pool, empty");
	runf(CLI " status");
	ok(r.status == 0 && strstr(r.out, "gmem_pfnpool   live, version") &&
	   strstr(r.out, "pool: total 64 MiB, used 0 bytes, free 64 MiB") &&
	   strstr(r.out, "tdi_dmabuf     not loaded"),
	   "status (text): module line and pool line");

	/* in use: the device open, then a gmem file holding memory */
	dev = open("/dev/gmem_pfnpool", O_RDWR | O_CLOEXEC);
	gfd = ioctl(dev, GMEM_PFNPOOL_IOC_CREATE, &c);
	ok(dev >= 0 && gfd >= 0 && !fallocate(gfd, 0, 0, 2 << 20),
	   "a gmem file of this test takes 2 MiB");
	check_status("2 MiB used");
	j = run_json(CLI " --json unload %s", "gmem_pfnpool");
	snprintf(want, sizeof(want), "pid %d", getpid());
	if (!ok(r.status == 1 && !strcmp(jstr(j, "error.errno_name"), "EBUSY") &&
		!strcmp(jstr(j, "modules.0.result"), "busy") &&
		jnum(j, "modules.0.refcnt") >= 2 &&
		strstr(jstr(j, "error.message"), want),
		"unload while in use: EBUSY, refcnt, our pid in the message"))
		show_run();
	ok(jnum(j, "modules.0.processes.0.pid") == getpid() &&
	   jnum(j, "modules.0.processes.0.fd") == dev &&
	   !strcmp(jstr(j, "modules.0.processes.0.target"), "/dev/gmem_pfnpool") &&
	   jnum(j, "modules.0.processes.1.fd") == gfd,
	   "  processes: our fds %d (/dev/gmem_pfnpool) and %d (%s)", dev, gfd,
	   jstr(j, "modules.0.processes.1.target"));
	ok(loaded("gmem_pfnpool"), "  still loaded");
	runf(CLI " unload gmem_pfnpool");
	ok(r.status == 1 && strstr(r.err, "gmem_pfnpool is in use (refcnt") &&
	   strstr(r.err, "Device or resource busy (EBUSY)") && strstr(r.err, "hint:"),
	   "  text: 'in use (refcnt ...)', strerror and EBUSY, a hint");
	close(gfd);
	close(dev);

	ok(run_modload("gmem_pfnpool_testuser") == 0, "load gmem_pfnpool_testuser (depends on it)");
	j = run_json(CLI " --json unload %s", "gmem_pfnpool");
	ok(r.status == 1 && jhas(j, "modules.0.holders", "gmem_pfnpool_testuser") &&
	   strstr(jstr(j, "error.message"), "held by modules gmem_pfnpool_testuser"),
	   "unload with a dependent module: EBUSY naming gmem_pfnpool_testuser");
	runf(CLI " unload gmem_pfnpool_testuser gmem_pfnpool");
	if (!ok(r.status == 0 && !loaded("gmem_pfnpool") && !loaded("gmem_pfnpool_testuser") &&
		strstr(r.out, "gmem_pfnpool_testuser: unloaded\ngmem_pfnpool: unloaded"),
		"unload both, in the order given"))
		show_run();
	j = run_json(CLI " --json unload %s", "gmem_pfnpool");
	ok(r.status == 1 && !strcmp(jstr(j, "error.errno_name"), "ENOENT") &&
	   strstr(jstr(j, "error.message"), "not loaded"),
	   "unload of a module not loaded: ENOENT");

	/* MODULE.PARAM=VALUE form, default config path, several modules */
	mkdir("/etc/cchost", 0755);
	write_file(DEFAULT_CONF, "gmem_pfnpool.ranges=1G@0x140000000\noptions tdi-dmabuf\n");
	j = run_json(CLI " load --json%s", "");
	if (!ok(r.status == 0 && !strcmp(jstr(j, "config"), DEFAULT_CONF) &&
		jlen(j, "modules") == 2 && loaded("gmem_pfnpool") && loaded("tdi_dmabuf"),
		"load with " DEFAULT_CONF " (MODULE.PARAM=VALUE line): both modules"))
		show_run();
	ok(!strcmp(sysread("/sys/module/gmem_pfnpool/parameters/ranges"), "1G@0x140000000") &&
	   sysnum(POOL "/total") == 1 << 30,
	   "  ranges=1G@0x140000000 took effect");
	ok(!strcmp(jstr(j, "modules.1.name"), "tdi_dmabuf") &&
	   jhas(j, "modules.1.inserted", "tdi_dmabuf") && loaded("vfio_pci_core"),
	   "  tdi_dmabuf loaded with its dependencies (vfio_pci_core)");
	runf(CLI " unload tdi_dmabuf gmem_pfnpool");
	ok(r.status == 0 && !loaded("tdi_dmabuf") && !loaded("gmem_pfnpool"), "unload both");
	unlink(DEFAULT_CONF);
	rmdir("/etc/cchost");

	runf(CLI " load");
	ok(r.status == 1 && strstr(r.err, "cannot read config file " DEFAULT_CONF) &&
	   strstr(r.err, "(ENOENT)"),
	   "load without MODULE and without the default config: ENOENT");

	/* refusals before and by the kernel */
	write_file(CONF, "options gmem_pfnpool rangse=64M@0x1a0000000\n");
	j = run_json(CLI " --json load --config %s", CONF);
	ok(r.status == 1 && !strcmp(jstr(j, "error.errno_name"), "EINVAL") &&
	   strstr(jstr(j, "error.message"), "unknown parameter 'rangse'") &&
	   strstr(jstr(j, "error.hint"), "ranges") && !loaded("gmem_pfnpool"),
	   "a misspelt parameter: EINVAL, the known ones in the hint, nothing loaded");
	write_file(CONF, "options gmem_pfnpool ranges=64M@0x1000000\n");
	j = run_json(CLI " --json load --config %s", CONF);
	if (!ok(r.status == 1 && !strcmp(jstr(j, "error.errno_name"), "EINVAL") &&
		strstr(jstr(j, "error.hint"), "kernel: gmem_pfnpool: ranges=") &&
		strstr(jstr(j, "error.hint"), "System RAM") && !loaded("gmem_pfnpool"),
		"a range in System RAM: EINVAL, the module's kernel message as the hint"))
		show_run();
	runf(CLI " load cchost_no_such_module --config %s", CONF);
	ok(r.status == 1 && strstr(r.err, "module cchost_no_such_module not found") &&
	   strstr(r.err, "(ENOENT)"), "an unknown module: not found, ENOENT");
	write_file(CONF, "options gmem_pfnpool ranges=64M@0x1a0000000\nblacklist gmem_pfnpool\n");
	runf(CLI " load --config %s", CONF);
	ok(r.status == 1 && strstr(r.err, CONF ":2: expected") && !loaded("gmem_pfnpool"),
	   "a malformed line: file:line in the message, nothing loaded");
	write_file(CONF, "options gmem_pfnpool ranges=\"64M@0x1a0000000\n");
	runf(CLI " load --config %s", CONF);
	ok(r.status == 1 && strstr(r.err, CONF ":1: expected"), "an unterminated quote");
	unlink(CONF);
	return tap_done();
}

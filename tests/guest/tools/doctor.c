// SPDX-License-Identifier: GPL-2.0-only
/*
 * cchostctl doctor on the guest (memmap= ranges, intel_iommu=on): missing
 * VFIO fails it; with the modules loaded every required check passes (an
 * unmounted tracefs only warns); a world-accessible /dev/gmem_pfnpool, a
 * config whose ranges= lie in System RAM, a malformed or missing config
 * file fail it again, each naming the check.
 */
#include <sys/mount.h>

#include "cli_test.h"

#define CONF	"/tmp/cli-doctor.conf"

static struct jnode *run_doctor(const char *args)
{
	runf(CLI " --json doctor%s", args);
	return json_parse(r.out);
}

static const char *status_of(struct jnode *j, const char *check)
{
	char path[64];

	snprintf(path, sizeof(path), "checks.name=%s.status", check);
	return jstr(j, path);
}

static const char *detail_of(struct jnode *j, const char *check)
{
	char path[64];

	snprintf(path, sizeof(path), "checks.name=%s.detail", check);
	return jstr(j, path);
}

static void unload_vfio(void)
{
	static const char * const mods[] = {
		"vfio_pci", "vfio_pci_core", "vfio_iommu_type1", "vfio_virqfd", "vfio",
		"irqbypass", "iommufd",
	};
	char cmd[64];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(mods); i++) {
		if (!loaded(mods[i]))
			continue;
		snprintf(cmd, sizeof(cmd), "-r %s >/dev/null 2>&1", mods[i]);
		run_modload(cmd);
	}
}

static bool tracefs_mounted(void)
{
	FILE *f = fopen("/proc/mounts", "r");
	char line[512];
	bool found = false;

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, " tracefs "))
			found = true;
	if (f)
		fclose(f);
	return found;
}

int main(void)
{
	bool mounted_here = false;
	struct jnode *j;

	unload_vfio();
	ok(!loaded("vfio"), "vfio not loaded at the start");
	j = run_doctor("");
	if (!ok(r.status == 1 && j && jbool(j, "ok") == 0 && jhas(j, "missing", "vfio") &&
		jhas(j, "missing", "dev-vfio") && !strcmp(status_of(j, "vfio"), "missing"),
		"without VFIO: status 1, vfio and dev-vfio missing"))
		show_run();
	ok(!strcmp(status_of(j, "memmap"), "ok") &&
	   strstr(detail_of(j, "memmap"), "memmap=1G$0x140000000") &&
	   strstr(detail_of(j, "memmap"), "memmap=64M$0x1a0000000"),
	   "  memmap ok: %s", detail_of(j, "memmap"));
	ok(!strcmp(status_of(j, "iommu"), "ok") && strstr(detail_of(j, "iommu"), "dmar") &&
	   strstr(detail_of(j, "iommu"), "intel_iommu=on"),
	   "  iommu ok: %s", detail_of(j, "iommu"));
	ok(!strcmp(status_of(j, "cchost-installed"), "ok") &&
	   !strcmp(status_of(j, "cchost-loaded"), "warn") &&
	   !strcmp(status_of(j, "gmem-device"), "skip") &&
	   !strcmp(status_of(j, "pool-ranges"), "skip") &&
	   !strcmp(status_of(j, "config"), "skip") && !strcmp(status_of(j, "root"), "ok") &&
	   !strcmp(status_of(j, "debugfs"), "ok"),
	   "  installed ok, loaded warn, device, ranges and config skipped, root and debugfs ok");
	ok(jbool(j, "checks.name=vfio.required") == 1 &&
	   strstr(jstr(j, "checks.name=vfio.hint"), "cchostctl load tdi_dmabuf"),
	   "  vfio is required, with a hint");
	runf(CLI " doctor");
	ok(r.status == 1 && strstr(r.out, "MISSING  vfio") && strstr(r.out, "hint: ") &&
	   strstr(r.err, "required checks failed: vfio, dev-vfio"),
	   "  text: MISSING lines with hints, the failed checks on stderr");

	ok(run_modload("gmem_pfnpool ranges=" GUEST_RANGES) == 0 && run_modload("tdi_dmabuf") == 0,
	   "load gmem_pfnpool and tdi_dmabuf (pulls in VFIO)");
	if (!tracefs_mounted()) {
		j = run_doctor("");
		ok(r.status == 0 && !strcmp(status_of(j, "tracefs"), "warn") &&
		   jlen(j, "missing") == 0,
		   "tracefs not mounted: only a warning, status 0");
		mounted_here = !mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
		ok(mounted_here, "mount tracefs");
	} else {
		diag("tracefs already mounted: the warning case is not checked");
	}
	j = run_doctor("");
	if (!ok(r.status == 0 && jbool(j, "ok") == 1 && jlen(j, "missing") == 0,
		"everything loaded: status 0, nothing missing"))
		show_run();
	ok(!strcmp(status_of(j, "vfio"), "ok") && !strcmp(status_of(j, "dev-vfio"), "ok") &&
	   !strcmp(status_of(j, "cchost-loaded"), "ok") && !strcmp(status_of(j, "tracefs"), "ok"),
	   "  vfio, /dev/vfio, our modules and tracefs ok");
	ok(!strcmp(status_of(j, "pool-ranges"), "ok") &&
	   strstr(detail_of(j, "pool-ranges"), "ranges=" GUEST_RANGES) &&
	   strstr(detail_of(j, "pool-ranges"), "claimed by gmem_pfnpool"),
	   "  pool-ranges ok: %s", detail_of(j, "pool-ranges"));
	ok(!strcmp(status_of(j, "gmem-device"), "ok") &&
	   strstr(detail_of(j, "gmem-device"), "mode 0600 "),
	   "  gmem-device ok: %s", detail_of(j, "gmem-device"));
	runf(CLI " doctor");
	ok(r.status == 0 && strstr(r.out, "all required checks passed") && !r.err[0],
	   "  text: all required checks passed");

	chmod("/dev/gmem_pfnpool", 0666);
	j = run_doctor("");
	ok(r.status == 1 && jhas(j, "missing", "gmem-device") && jlen(j, "missing") == 1 &&
	   strstr(detail_of(j, "gmem-device"), "any user can take pool memory"),
	   "/dev/gmem_pfnpool mode 0666: gmem-device missing, status 1");
	chmod("/dev/gmem_pfnpool", 0600);

	run_modload("-r gmem_pfnpool");
	write_file(CONF, "options gmem_pfnpool ranges=64M@0x1000000\n");
	j = run_doctor(" --config " CONF);
	ok(r.status == 1 && jhas(j, "missing", "pool-ranges") &&
	   strstr(detail_of(j, "pool-ranges"), "overlaps System RAM") &&
	   strstr(detail_of(j, "pool-ranges"), CONF),
	   "config ranges= in System RAM: pool-ranges missing (%s)", detail_of(j, "pool-ranges"));
	write_file(CONF, "options gmem_pfnpool ranges=64M@0x1a0000000\n");
	j = run_doctor(" --config " CONF);
	ok(!strcmp(status_of(j, "pool-ranges"), "ok") && !strcmp(status_of(j, "config"), "ok"),
	   "config ranges= inside a memmap= range: ok (%s)", detail_of(j, "pool-ranges"));
	write_file(CONF, "ranges=64M@0x1a0000000\n");
	j = run_doctor(" --config " CONF);
	ok(r.status == 1 && jhas(j, "missing", "config") &&
	   strstr(detail_of(j, "config"), CONF ":1: expected"),
	   "a malformed config file: config missing");
	unlink(CONF);
	j = run_doctor(" --config " CONF);
	ok(r.status == 1 && jhas(j, "missing", "config") &&
	   strstr(detail_of(j, "config"), "cannot read config file"),
	   "a config file given but missing: config missing");

	if (mounted_here)
		umount("/sys/kernel/tracing");
	ok(run_modload("-r tdi_dmabuf") == 0, "unload tdi_dmabuf");
	return tap_done();
}

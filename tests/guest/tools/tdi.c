// SPDX-License-Identifier: GPL-2.0-only
/*
 * cchostctl tdi on QEMU's edu device bound to tdi_dmabuf, with the fake
 * report provider: state (sysfs), layout (unbound and bound), bind without
 * a provider (ENODEV), with a malformed report (EBADMSG), bind and unbind
 * in one run, bind held until SIGTERM while this test sees the TDI in run
 * and the holding process named by state, unbind, layout and unload, and a
 * timed hold that UNBINDs at its end; the type1 IOMMU refused without
 * interrupt remapping (EPERM with a hint); devices not bound to tdi_dmabuf.
 */
#include <dirent.h>

#include "cli_test.h"
#include "fake_provider.h"

#define UNSAFE_IRQS	"/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"

static char bdf[64];

static int fake(const char *fmt, ...)
{
	char cmd[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return sysfs_write(FAKE_CONTROL, cmd);
}

/* The first PCI device with @vendor:@device into @out; 0 or -1. */
static int find_dev(unsigned long vendor, unsigned long device, char out[64])
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	int ret = -1;

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (sysnum("/sys/bus/pci/devices/%s/vendor", e->d_name) == (long long)vendor &&
		    sysnum("/sys/bus/pci/devices/%s/device", e->d_name) == (long long)device) {
			snprintf(out, 64, "%.63s", e->d_name);
			ret = 0;
			break;
		}
	}
	if (d)
		closedir(d);
	return ret;
}

static const char *driver_of(const char *dev)
{
	static char buf[256];
	char path[128];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", dev);
	n = readlink(path, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	return strrchr(buf, '/') ? strrchr(buf, '/') + 1 : buf;
}

static void bind_driver(void)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	sysfs_write(path, "tdi_dmabuf");
	sysfs_write("/sys/bus/pci/drivers_probe", bdf);
}

static void unbind_driver(void)
{
	char path[128];

	sysfs_write("/sys/bus/pci/drivers/tdi_dmabuf/unbind", bdf);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	sysfs_write(path, "\n");
}

static void check_bound_layout(struct jnode *j, const char *what)
{
	ok(!strcmp(jstr(j, "state"), "run") && !strcmp(jstr(j, "layout_state"), "run") &&
	   jlen(j, "ranges") == 3 &&
	   jnum(j, "ranges.0.bar") == 0 && jnum(j, "ranges.0.offset") == 0 &&
	   jnum(j, "ranges.0.length") == 0x10000 &&
	   !strcmp(jstr(j, "ranges.0.kind"), "shared") &&
	   jnum(j, "ranges.1.offset") == 0x10000 && jnum(j, "ranges.1.length") == 0x10000 &&
	   !strcmp(jstr(j, "ranges.1.kind"), "private") &&
	   jnum(j, "ranges.2.offset") == 0x20000 && jnum(j, "ranges.2.length") == 0x1000 &&
	   !strcmp(jstr(j, "ranges.2.kind"), "private") &&
	   jhas(j, "ranges.2.flags", "msix_table") && jlen(j, "ranges.1.flags") == 0,
	   "%s: state run; layout shared [0,64K), private [64K,128K), private MSI-X [128K,132K)",
	   what);
}

static void held_bind(void)
{
	static const char * const argv[] = {
		CLI, "--json", "tdi", "bind", bdf, "--hold-until-signal", NULL,
	};
	int unbinds = fake_count(bdf, "unbind"), st;
	char want[128];
	struct jnode *j;
	struct bg b;

	ok(bg_start(&b, argv) == 0, "tdi bind --hold-until-signal in the background");
	if (!ok(bg_read_line(&b, 60) == 0, "  one line of JSON while holding")) {
		bg_abandon(&b);
		return;
	}
	j = json_parse(b.line);
	ok(jbool(j, "ok") == 1 && jnum(j, "pid") == b.pid && jbool(j, "hold.until_signal") == 1 &&
	   !jget(j, "unbind"), "  JSON: ok, pid, hold until signal, no unbind yet");
	check_bound_layout(j, "  held");
	ok(!strcmp(sysread("/sys/bus/pci/devices/%s/tdi_state", bdf), "run"),
	   "  sysfs tdi_state is run while held");

	j = json_parse((runf(CLI " --json tdi state %s", bdf), r.out));
	ok(r.status == 0 && !strcmp(jstr(j, "state"), "run") &&
	   jnum(j, "holders.0.pid") == b.pid && !strcmp(jstr(j, "holders.0.comm"), "cchostctl"),
	   "  tdi state: run, held by pid %lld (%s)", jnum(j, "holders.0.pid"),
	   jstr(j, "holders.0.comm"));
	snprintf(want, sizeof(want), "open in pid %d (cchostctl)", b.pid);
	runf(CLI " tdi unbind %s", bdf);
	if (!ok(r.status == 1 && strstr(r.err, want) && strstr(r.err, "(EBUSY)") &&
		strstr(r.err, "kill -TERM"),
		"  tdi unbind from another process: EBUSY naming the holder, hint"))
		show_run();
	j = json_parse((runf(CLI " --json tdi layout %s", bdf), r.out));
	ok(r.status == 1 && !strcmp(jstr(j, "error.errno_name"), "EBUSY") &&
	   jnum(j, "holders.0.pid") == b.pid, "  tdi layout: EBUSY, holders in the JSON");
	j = json_parse((runf(CLI " --json unload tdi_dmabuf"), r.out));
	ok(r.status == 1 && jhas(j, "modules.0.devices", bdf),
	   "  unload tdi_dmabuf: EBUSY naming the bound device");
	j = json_parse((runf(CLI " --json status"), r.out));
	snprintf(want, sizeof(want), "tdi_devices.[bdf=%s].state", bdf);
	ok(!strcmp(jstr(j, want), "run"), "  status --json: the device's TDI is in run");

	kill(b.pid, SIGTERM);
	st = bg_wait(&b, 30);
	ok(st == 0, "SIGTERM: the hold ends cleanly (status %d)", st);
	ok(!strcmp(sysread("/sys/bus/pci/devices/%s/tdi_state", bdf), "unbound") &&
	   fake_count(bdf, "unbind") == unbinds + 1,
	   "  unbound, the provider saw one unbind");
	bg_close(&b);
}

static void timed_bind(void)
{
	static const char * const argv[] = { CLI, "tdi", "bind", bdf, "--hold", "2", NULL };
	char want[128];
	struct bg b;
	int st;

	bg_start(&b, argv);
	st = bg_wait(&b, 60);
	bg_read_rest(&b);
	snprintf(want, sizeof(want), "released after 2 s\n%s: unbound, state unbound", bdf);
	if (!ok(st == 0 && strstr(b.line, "bound, state run") &&
		strstr(b.line, "BAR0 0x20000+0x1000 private msix-table") &&
		strstr(b.line, "holding the TDI bound for 2 s") && strstr(b.line, want),
		"text: tdi bind --hold 2: bound, layout, held, UNBIND at the end"))
		diag("status %d, stdout: %s", st, b.line);
	bg_close(&b);
}

int main(void)
{
	char nvme[64];
	struct jnode *j;
	int binds;

	if (!ok(find_dev(0x1234, 0x11e8, bdf) == 0, "edu device present"))
		return tap_done();
	ok(run_modload("tdi_dmabuf") == 0 && run_modload("tdi_fake_provider") == 0,
	   "load tdi_dmabuf and tdi_fake_provider");

	runf(CLI " tdi state %s", bdf);
	ok(r.status == 1 && strstr(r.err, "is not bound to tdi_dmabuf (driver: none)") &&
	   strstr(r.err, "(ENODEV)") && strstr(r.err, "driver_override"),
	   "tdi state of edu before binding it to tdi_dmabuf: ENODEV, hint");
	bind_driver();
	ok(!strcmp(driver_of(bdf), "tdi_dmabuf"), "edu %s bound to tdi_dmabuf", bdf);

	j = json_parse((runf(CLI " --json tdi state %s", bdf + 5), r.out));
	ok(r.status == 0 && !strcmp(jstr(j, "bdf"), bdf) &&
	   !strcmp(jstr(j, "state"), sysread("/sys/bus/pci/devices/%s/tdi_state", bdf)) &&
	   !strcmp(jstr(j, "state"), "unbound") &&
	   !strcmp(jstr(j, "cause"), sysread("/sys/bus/pci/devices/%s/tdi_cause", bdf)) &&
	   jnum(j, "dmabufs") == 0 && jnum(j, "revokes") == 0 && jlen(j, "holders") == 0 &&
	   jnum(j, "dmabufs") == sysnum("/sys/bus/pci/devices/%s/tdi_dmabufs", bdf),
	   "tdi state (short BDF): unbound, cause, counters as sysfs, no holder");
	runf(CLI " tdi state %s", bdf);
	ok(r.status == 0 && strstr(r.out, "state unbound, cause") && strstr(r.out, "not open"),
	   "  text form");

	sysfs_write(UNSAFE_IRQS, "0");
	j = json_parse((runf(CLI " --json tdi layout %s", bdf), r.out));
	ok(r.status == 1 && !strcmp(jstr(j, "error.errno_name"), "EPERM") &&
	   strstr(jstr(j, "error.hint"), "allow_unsafe_interrupts"),
	   "no interrupt remapping: EPERM, the hint names allow_unsafe_interrupts");
	ok(sysfs_write(UNSAFE_IRQS, "1") == 0, "allow unsafe interrupts (as the tdi tests do)");

	j = json_parse((runf(CLI " --json tdi layout %s", bdf), r.out));
	ok(r.status == 0 && !strcmp(jstr(j, "state"), "unbound") &&
	   !strcmp(jstr(j, "layout_state"), "unbound") && jlen(j, "ranges") == 1 &&
	   jnum(j, "ranges.0.length") == 0x100000 && !strcmp(jstr(j, "ranges.0.kind"), "shared"),
	   "tdi layout, unbound: all of BAR0 (1 MiB) shared");

	j = json_parse((runf(CLI " --json tdi bind %s", bdf), r.out));
	ok(r.status == 1 && !strcmp(jstr(j, "error.errno_name"), "ENODEV") &&
	   strstr(jstr(j, "error.message"), "no report provider handles this device") &&
	   !strcmp(jstr(j, "after.state"), "unbound"),
	   "tdi bind without a provider for the device: ENODEV, still unbound");

	ok(!fake("add %s", bdf) && !fake("offset %s 0x100000000", bdf) &&
	   !fake("range %s 0 0x0 1 0x4", bdf) && !fake("range %s 0 0x1000 15 0x4", bdf) &&
	   !fake("range %s 0 0x10000 16 0x0", bdf) && !fake("range %s 0 0x20000 1 0x1", bdf),
	   "the fake provider serves edu (4 ranges)");
	binds = fake_count(bdf, "bind");
	j = json_parse((runf(CLI " --json tdi bind %s", bdf), r.out));
	if (!ok(r.status == 0 && jbool(j, "ok") == 1, "tdi bind (no hold)"))
		show_run();
	check_bound_layout(j, "  bound");
	ok(jbool(j, "unbind.ok") == 1 && !strcmp(jstr(j, "unbind.state"), "unbound") &&
	   fake_count(bdf, "bind") == binds + 1 && fake_count(bdf, "unbind") == binds + 1,
	   "  then unbound: the provider saw one bind and one unbind");

	held_bind();
	timed_bind();

	j = json_parse((runf(CLI " --json tdi unbind %s", bdf), r.out));
	ok(r.status == 0 && jbool(j, "was_bound") == 0 && !strcmp(jstr(j, "state"), "unbound"),
	   "tdi unbind of a TDI not bound: status 0, was_bound false");
	runf(CLI " tdi unbind %s", bdf);
	ok(r.status == 0 && strstr(r.out, "nothing to unbind"), "  text form");

	fake("fault %s short", bdf);
	runf(CLI " tdi bind %s", bdf);
	ok(r.status == 1 && strstr(r.err, "the TDI report is malformed") &&
	   strstr(r.err, "(EBADMSG)"), "a short report: EBADMSG, the report named");
	fake("fault %s none", bdf);

	if (find_dev(0x1b36, 0x0010, nvme) == 0) {
		runf(CLI " tdi layout %s", nvme);
		ok(r.status == 1 && strstr(r.err, "is not bound to tdi_dmabuf") &&
		   strstr(r.err, "(ENODEV)"), "tdi layout of the NVMe PF: not bound to tdi_dmabuf");
	}
	runf(CLI " tdi state 0000:0f:1f.7");
	ok(r.status == 1 && strstr(r.err, "no PCI device 0000:0f:1f.7"),
	   "tdi state of a device that does not exist");

	fake("del %s", bdf);
	unbind_driver();
	ok(run_modload("-r tdi_fake_provider") == 0 && run_modload("-r tdi_dmabuf") == 0,
	   "unload tdi_fake_provider and tdi_dmabuf");
	return tap_done();
}

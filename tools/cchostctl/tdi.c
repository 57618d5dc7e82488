// SPDX-License-Identifier: GPL-2.0-only
/*
 * cchostctl tdi - the TDI of a PCI device bound to tdi_dmabuf: its state
 * from sysfs, and its layout, BIND and UNBIND through the VFIO device fd
 * (include/uapi/linux/tdi_dmabuf.h).
 *
 * The device is opened through its VFIO group and a type1 container, as a
 * VMM would. A TDI stays bound only while its VFIO device is open (closing
 * it unbinds, cause "close"), so bind holds the device for as long as asked
 * and UNBINDs it before closing; while another process has the group open,
 * layout, bind and unbind name that process.
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
#include <linux/vfio.h>
#include <linux/tdi_dmabuf.h>

#include "cchostctl.h"

void usage_tdi(FILE *f)
{
	fprintf(f,
		"Usage: cchostctl tdi state BDF [--json]\n"
		"       cchostctl tdi layout BDF [--json]\n"
		"       cchostctl tdi bind BDF [--hold SECONDS | --hold-until-signal] [--json]\n"
		"       cchostctl tdi unbind BDF [--json]\n"
		"\n"
		"The TDI of PCI device BDF (0000:00:02.0 or 00:02.0), which must be\n"
		"bound to the tdi_dmabuf driver.\n"
		"\n"
		"  state    TDI state, cause of the last revocation, DMA-BUFs open and\n"
		"           revoked (sysfs), and the processes holding its VFIO group\n"
		"  layout   the shared and private fragments of every BAR\n"
		"  bind     BIND the TDI (lock, validate its report, start), print its\n"
		"           state and layout, hold it, then UNBIND it. The TDI stays\n"
		"           bound only while the VFIO device is open:\n"
		"  -H, --hold SECONDS          keep it bound for SECONDS,\n"
		"  -S, --hold-until-signal     or until SIGINT, SIGTERM or SIGHUP\n"
		"  unbind   UNBIND the TDI; names the process holding the device if\n"
		"           another process has it open\n"
		"\n"
		"      --json       one JSON object on stdout (printed before the hold)\n"
		"  -h, --help       this help\n");
}

static const char * const tdi_state_names[] = { "unbound", "locked", "run", "error" };
static const char * const tdi_cause_names[] = {
	"none", "provider", "reset", "memory", "bind", "unbind", "close",
};

static const char *state_name(uint32_t s)
{
	return s < ARRAY_SIZE(tdi_state_names) ? tdi_state_names[s] : "?";
}

static const char *cause_name(uint32_t c)
{
	return c < ARRAY_SIZE(tdi_cause_names) ? tdi_cause_names[c] : "?";
}

struct tdi_dev {
	char bdf[32];
	char group[32];
	int container, grp, dev;
};

/* The device exists and is bound to tdi_dmabuf; its IOMMU group. */
static int tdi_check(struct tdi_dev *t)
{
	char path[256], drv[64];

	snprintf(path, sizeof(path), CC_PCI_DEVICES "/%s", t->bdf);
	if (!path_exists(path))
		return cc_fail(ENODEV, "no PCI device %s", t->bdf);
	snprintf(path, sizeof(path), CC_PCI_DEVICES "/%s/driver", t->bdf);
	if (read_link_base(path, drv, sizeof(drv)))
		snprintf(drv, sizeof(drv), "none");
	if (strcmp(drv, "tdi_dmabuf")) {
		cc_fail(ENODEV, "%s is not bound to tdi_dmabuf (driver: %s)", t->bdf, drv);
		cc_hint("echo tdi_dmabuf > %s/%s/driver_override; echo %s > %s (%s)",
			CC_PCI_DEVICES, t->bdf, t->bdf, "/sys/bus/pci/drivers_probe",
			"unbind the current driver first");
		return CC_EXIT_FAIL;
	}
	snprintf(path, sizeof(path), CC_PCI_DEVICES "/%s/iommu_group", t->bdf);
	if (read_link_base(path, t->group, sizeof(t->group)))
		t->group[0] = 0;
	return 0;
}

/* An fd on the device's VFIO group node or its VFIO cdev. */
static bool vfio_fd_match(int pid, int fd, const char *target, void *data)
{
	const struct tdi_dev *t = data;
	char want[64];

	(void)pid;
	(void)fd;

	if (!t->group[0])
		return false;
	snprintf(want, sizeof(want), "/dev/vfio/%s", t->group);
	return !strcmp(target, want);
}

static void holders_json(struct cc_holder *h, int n)
{
	int i;

	json_arr_begin("holders");
	for (i = 0; i < n; i++) {
		json_obj_begin(NULL);
		json_i64("pid", h[i].pid);
		json_str("comm", h[i].comm);
		json_i64("fd", h[i].fd);
		json_obj_end();
	}
	json_arr_end();
}

/* Open the VFIO device: container, group, type1 IOMMU, device fd. */
static int tdi_open(struct tdi_dev *t)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	struct cc_holder h[4];
	char path[64];
	int err, n;

	t->container = -1;
	t->grp = -1;
	t->dev = -1;
	if (!t->group[0]) {
		cc_fail(ENODEV, "%s has no IOMMU group", t->bdf);
		cc_hint("is the IOMMU on? (cchostctl doctor)");
		return CC_EXIT_FAIL;
	}
	t->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (t->container < 0) {
		cc_fail(errno, "cannot open /dev/vfio/vfio");
		cc_hint("load vfio (cchostctl load tdi_dmabuf pulls it in)");
		return CC_EXIT_FAIL;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%s", t->group);
	t->grp = open(path, O_RDWR | O_CLOEXEC);
	if (t->grp < 0) {
		err = errno;
		n = find_fd_holders(vfio_fd_match, t, h, ARRAY_SIZE(h));
		if (err == EBUSY && n > 0) {
			cc_fail(err, "VFIO group %s of %s is open in pid %d (%s)", t->group,
				t->bdf, h[0].pid, h[0].comm);
			cc_hint("the TDI is bound while the process holding it runs; %s %d) %s",
				"end it (kill -TERM", h[0].pid, "to unbind");
		} else {
			cc_fail(err, "cannot open %s", path);
		}
		if (cc.json)
			holders_json(h, n < (int)ARRAY_SIZE(h) ? n : (int)ARRAY_SIZE(h));
		return CC_EXIT_FAIL;
	}
	if (ioctl(t->grp, VFIO_GROUP_GET_STATUS, &gs))
		return cc_fail(errno, "VFIO group %s: GET_STATUS", t->group);
	if (!(gs.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		cc_fail(EINVAL, "VFIO group %s of %s is not viable", t->group, t->bdf);
		cc_hint("bind every device of the group to a VFIO driver or none (%s/%s/devices)",
			"ls /sys/kernel/iommu_groups", t->group);
		return CC_EXIT_FAIL;
	}
	if (ioctl(t->grp, VFIO_GROUP_SET_CONTAINER, &t->container))
		return cc_fail(errno, "VFIO group %s: SET_CONTAINER", t->group);
	if (ioctl(t->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		err = errno;
		cc_fail(err, "VFIO group %s: cannot set up the type1 IOMMU", t->group);
		if (err == EPERM)
			cc_hint("no interrupt remapping; if that is acceptable: echo 1 > %s",
				"/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts");
		else if (err == ENODEV)
			cc_hint("load vfio_iommu_type1");
		return CC_EXIT_FAIL;
	}
	t->dev = ioctl(t->grp, VFIO_GROUP_GET_DEVICE_FD, t->bdf);
	if (t->dev < 0)
		return cc_fail(errno, "cannot get the VFIO device fd of %s", t->bdf);
	return 0;
}

static void tdi_close(struct tdi_dev *t)
{
	if (t->dev >= 0)
		close(t->dev);
	if (t->grp >= 0)
		close(t->grp);
	if (t->container >= 0)
		close(t->container);
}

static int get_state(struct tdi_dev *t, struct tdi_dmabuf_state *st)
{
	memset(st, 0, sizeof(*st));
	if (ioctl(t->dev, TDI_DMABUF_IOCTL_GET_STATE, st))
		return cc_fail(errno, "%s: GET_STATE", t->bdf);
	return 0;
}

static void state_out(const struct tdi_dmabuf_state *st)
{
	if (cc.json) {
		json_str("state", state_name(st->state));
		json_str("cause", cause_name(st->cause));
		json_i64("error", st->error);
		json_u64("dmabufs", st->nr_dmabufs);
		json_u64("revokes", st->nr_revokes);
		return;
	}
	printf("state %s, cause %s", state_name(st->state), cause_name(st->cause));
	if (st->error)
		printf(", last error %s", cc_errname(st->error));
	printf(", dmabufs %u, revokes %u\n", st->nr_dmabufs, st->nr_revokes);
}

/* GET_LAYOUT, printed; 0 or CC_EXIT_FAIL. */
static int layout_out(struct tdi_dev *t)
{
	struct tdi_dmabuf_get_layout gl;
	struct tdi_dmabuf_range *r = NULL;
	uint32_t i, cap = 0;
	int tries;

	for (tries = 0; tries < 8; tries++) {
		memset(&gl, 0, sizeof(gl));
		gl.count = cap;
		gl.ranges = (uintptr_t)r;
		if (!ioctl(t->dev, TDI_DMABUF_IOCTL_GET_LAYOUT, &gl))
			break;
		if (errno != ENOSPC) {
			free(r);
			return cc_fail(errno, "%s: GET_LAYOUT", t->bdf);
		}
		free(r);
		cap = gl.count;
		r = calloc(cap, sizeof(*r));
		if (!r)
			return cc_fail(ENOMEM, "%s: GET_LAYOUT", t->bdf);
	}
	if (tries == 8) {
		free(r);
		return cc_fail(EAGAIN, "%s: GET_LAYOUT: the layout keeps changing", t->bdf);
	}
	if (cc.json) {
		json_str("layout_state", state_name(gl.state));
		json_arr_begin("ranges");
	} else {
		printf("layout (%s): %u fragment%s\n", state_name(gl.state), gl.count,
		       gl.count == 1 ? "" : "s");
	}
	for (i = 0; i < gl.count; i++) {
		const struct tdi_dmabuf_range *x = &r[i];
		const char *kind = x->flags & TDI_DMABUF_RANGE_PRIVATE ? "private" : "shared";

		if (cc.json) {
			json_obj_begin(NULL);
			json_u64("bar", x->bar);
			json_u64("offset", x->offset);
			json_u64("length", x->length);
			json_str("kind", kind);
			json_arr_begin("flags");
			if (x->flags & TDI_DMABUF_RANGE_MSIX_TABLE)
				json_str(NULL, "msix_table");
			if (x->flags & TDI_DMABUF_RANGE_MSIX_PBA)
				json_str(NULL, "msix_pba");
			if (x->flags & TDI_DMABUF_RANGE_ATTR_UPDATABLE)
				json_str(NULL, "attr_updatable");
			json_arr_end();
			json_obj_end();
		} else {
			printf("  BAR%u 0x%llx+0x%llx %s%s%s%s\n", x->bar,
			       (unsigned long long)x->offset,
			       (unsigned long long)x->length, kind,
			       x->flags & TDI_DMABUF_RANGE_MSIX_TABLE ? " msix-table" : "",
			       x->flags & TDI_DMABUF_RANGE_MSIX_PBA ? " msix-pba" : "",
			       x->flags & TDI_DMABUF_RANGE_ATTR_UPDATABLE ?
			       " attr-updatable" : "");
		}
	}
	if (cc.json)
		json_arr_end();
	free(r);
	return 0;
}

static int bind_error(struct tdi_dev *t, int err)
{
	switch (err) {
	case EBUSY:
		cc_fail(err, "%s: BIND refused: the device is in use", t->bdf);
		cc_hint("a DMA-BUF of the device is open, an ioeventfd is registered, or %s",
			"(before Linux 6.10) a BAR is mmap()ed");
		break;
	case EALREADY:
		cc_fail(err, "%s: BIND refused: the TDI is bound or in error (UNBIND first)",
			t->bdf);
		break;
	case ENODEV:
		cc_fail(err, "%s: BIND: no report provider handles this device", t->bdf);
		cc_hint("a TDISP report provider must serve it (tests use tdi_fake_provider)");
		break;
	case EBADMSG:
		cc_fail(err, "%s: BIND: the TDI report is malformed", t->bdf);
		cc_hint("the kernel log (dmesg) says which field");
		break;
	case EIO:
		cc_fail(err, "%s: BIND: memory decode of the device is disabled", t->bdf);
		break;
	default:
		cc_fail(err, "%s: BIND: the report provider failed", t->bdf);
		break;
	}
	return CC_EXIT_FAIL;
}

/* UNBIND; 0 (also when not bound: *@was_bound false) or CC_EXIT_FAIL. */
static int do_unbind(struct tdi_dev *t, bool *was_bound)
{
	struct tdi_dmabuf_bind b = {};
	int err;

	*was_bound = true;
	if (!ioctl(t->dev, TDI_DMABUF_IOCTL_UNBIND, &b))
		return 0;
	err = errno;
	switch (err) {
	case ENOTCONN:
		*was_bound = false;
		return 0;
	case ETIMEDOUT:
		cc_fail(err, "%s: UNBIND: an importer still uses a revoked DMA-BUF", t->bdf);
		cc_hint("the TDI is in ERROR and stays with the provider; %s",
			"UNBIND again once the importer let go");
		return CC_EXIT_FAIL;
	default:
		cc_fail(err, "%s: UNBIND: the report provider failed to unbind", t->bdf);
		cc_hint("DMA-BUFs were revoked; the TDI is in ERROR; UNBIND may be retried");
		return CC_EXIT_FAIL;
	}
}

static int tdi_state_cmd(struct tdi_dev *t)
{
	char path[256], state[32] = "", cause[32] = "";
	uint64_t dmabufs = 0, revokes = 0;
	struct cc_holder h[8];
	int n, i;

	snprintf(path, sizeof(path), CC_PCI_DEVICES "/%s/tdi_state", t->bdf);
	n = read_line(path, state, sizeof(state));
	if (n)
		return cc_fail(-n, "cannot read %s", path);
	snprintf(path, sizeof(path), CC_PCI_DEVICES "/%s/tdi_cause", t->bdf);
	read_line(path, cause, sizeof(cause));
	snprintf(path, sizeof(path), CC_PCI_DEVICES "/%s/tdi_dmabufs", t->bdf);
	read_u64_file(path, &dmabufs);
	snprintf(path, sizeof(path), CC_PCI_DEVICES "/%s/tdi_revokes", t->bdf);
	read_u64_file(path, &revokes);
	n = find_fd_holders(vfio_fd_match, t, h, ARRAY_SIZE(h));
	if (n > (int)ARRAY_SIZE(h))
		n = ARRAY_SIZE(h);
	if (cc.json) {
		json_str("driver", "tdi_dmabuf");
		json_str("iommu_group", t->group[0] ? t->group : NULL);
		json_str("state", state);
		json_str("cause", cause);
		json_u64("dmabufs", dmabufs);
		json_u64("revokes", revokes);
		holders_json(h, n);
		return 0;
	}
	printf("%s: state %s, cause %s, dmabufs %llu, revokes %llu\n", t->bdf, state,
	       cause, (unsigned long long)dmabufs, (unsigned long long)revokes);
	printf("  VFIO group %s", t->group[0] ? t->group : "none");
	for (i = 0; i < n; i++)
		printf("%s pid %d (%s)", i ? "," : ", open in", h[i].pid, h[i].comm);
	printf("%s\n", n ? "" : ", not open");
	return 0;
}

static int tdi_layout_cmd(struct tdi_dev *t)
{
	struct tdi_dmabuf_state st;

	if (tdi_open(t) || get_state(t, &st))
		return CC_EXIT_FAIL;
	if (!cc.json)
		printf("%s: ", t->bdf);
	state_out(&st);
	return layout_out(t);
}

static int tdi_bind_cmd(struct tdi_dev *t, const struct cc_hold *hold)
{
	struct tdi_dmabuf_bind b = {};
	struct tdi_dmabuf_state st;
	int ret, sig;
	bool was_bound;

	if (tdi_open(t))
		return CC_EXIT_FAIL;
	if (ioctl(t->dev, TDI_DMABUF_IOCTL_BIND, &b)) {
		ret = errno;
		if (cc.json && !get_state(t, &st)) {
			json_obj_begin("after");
			state_out(&st);
			json_obj_end();
		}
		return bind_error(t, ret);
	}
	if (get_state(t, &st))
		return CC_EXIT_FAIL;
	if (cc.json)
		json_i64("pid", getpid());
	else
		printf("%s: bound, ", t->bdf);
	state_out(&st);
	if (layout_out(t))
		return CC_EXIT_FAIL;
	if (hold->set) {
		if (cc.json) {
			hold_json(hold);
			/* The object ends here: the hold follows. */
			ret = cc_finish(CC_EXIT_OK);
		} else {
			if (hold->seconds > 0)
				printf("holding the TDI bound for %ld s (pid %d)\n",
				       hold->seconds, getpid());
			else
				printf("holding the TDI bound until SIGINT or SIGTERM (pid %d)\n",
				       getpid());
			fflush(stdout);
		}
		sig = hold_wait(hold);
		if (!cc.json) {
			if (sig)
				printf("released on %s\n", sigabbrev_np(sig) ?
				       sigabbrev_np(sig) : "a signal");
			else
				printf("released after %ld s\n", hold->seconds);
		}
	}
	ret = do_unbind(t, &was_bound);
	if (!ret && get_state(t, &st))
		ret = CC_EXIT_FAIL;
	if (cc.json && !hold->set) {
		json_obj_begin("unbind");
		json_bool("ok", !ret);
		if (!ret)
			json_str("state", state_name(st.state));
		json_obj_end();
	} else if (!cc.json && !ret) {
		printf("%s: unbound, state %s\n", t->bdf, state_name(st.state));
	}
	return ret;
}

static int tdi_unbind_cmd(struct tdi_dev *t)
{
	struct tdi_dmabuf_state st;
	bool was_bound;
	int ret;

	if (tdi_open(t))
		return CC_EXIT_FAIL;
	ret = do_unbind(t, &was_bound);
	if (ret || get_state(t, &st))
		return CC_EXIT_FAIL;
	if (cc.json) {
		json_bool("was_bound", was_bound);
		state_out(&st);
	} else if (was_bound) {
		printf("%s: unbound, state %s\n", t->bdf, state_name(st.state));
	} else {
		printf("%s: the TDI is not bound (state %s), nothing to unbind\n",
		       t->bdf, state_name(st.state));
	}
	return 0;
}

int cmd_tdi(int argc, char **argv)
{
	enum { OPT_JSON = 256 };
	static const struct option opts[] = {
		{ "hold", required_argument, NULL, 'H' },
		{ "hold-until-signal", no_argument, NULL, 'S' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	static const char * const subs[] = { "state", "layout", "bind", "unbind" };
	static char cmdname[32];
	struct cc_hold hold = {};
	struct tdi_dev t = { .container = -1, .grp = -1, .dev = -1 };
	int opt, ret, sub = -1;
	unsigned int i;

	if (argc < 2)
		return cc_usage_error("state, layout, bind or unbind expected");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage_tdi(stdout);
		return CC_EXIT_OK;
	}
	for (i = 0; i < ARRAY_SIZE(subs); i++)
		if (!strcmp(argv[1], subs[i]))
			sub = i;
	if (sub < 0)
		return cc_usage_error("unknown subcommand '%s' (state, layout, bind or unbind)",
				      argv[1]);
	snprintf(cmdname, sizeof(cmdname), "tdi %s", subs[sub]);
	cc.cmd = cmdname;
	argv[1] = argv[0];
	argc--;
	argv++;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":H:Sh", opts, NULL)) != -1) {
		switch (opt) {
		case 'H':
		case 'S':
			if (sub != 2)
				return cc_usage_error("--hold%s applies to bind only",
						      opt == 'S' ? "-until-signal" : "");
			ret = hold_parse_option(&hold, opt == 'H' ? "--hold" :
						"--hold-until-signal",
						opt == 'H' ? optarg : NULL);
			if (ret)
				return ret;
			break;
		case OPT_JSON:
			cc.json = true;
			break;
		case 'h':
			usage_tdi(stdout);
			return CC_EXIT_OK;
		default:
			return cc_bad_option(argv, opt);
		}
	}
	if (optind + 1 != argc)
		return cc_usage_error(optind == argc ? "BDF missing" : "one BDF expected");
	if (normalize_bdf(argv[optind], t.bdf, sizeof(t.bdf)))
		return cc_usage_error("bad BDF '%s' (expected DDDD:BB:DD.F or BB:DD.F)",
				      argv[optind]);
	if (hold.set)
		hold_block_signals();
	cc_begin();
	if (cc.json)
		json_str("bdf", t.bdf);
	ret = tdi_check(&t);
	if (!ret) {
		switch (sub) {
		case 0:
			ret = tdi_state_cmd(&t);
			break;
		case 1:
			ret = tdi_layout_cmd(&t);
			break;
		case 2:
			ret = tdi_bind_cmd(&t, &hold);
			break;
		default:
			ret = tdi_unbind_cmd(&t);
			break;
		}
	}
	tdi_close(&t);
	return cc_finish(ret);
}

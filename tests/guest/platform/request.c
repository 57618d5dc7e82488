// SPDX-License-Identifier: GPL-2.0-only
/*
 * The C side of host requests (platform.h): a C test finds the PF and its
 * root port, asks the host for a non-fatal AER error on the port and sees it
 * counted; a refused request reports status 1.
 */
#include <time.h>

#include "tap.h"
#include "platform.h"

int main(void)
{
	struct timespec ts = { 0, 200 * 1000 * 1000 };
	char pf[256], port[256];
	long before, now = -1;
	int st, i;

	if (!ok(platform_nvme_pf(pf, sizeof(pf)) == 0, "platform_nvme_pf finds the PF"))
		return tap_done();
	if (!ok(platform_nvme_port(pf, port, sizeof(port)) == 0,
		"platform_nvme_port finds its root port (%s)", port))
		return tap_done();
	before = platform_aer_port_count(port, "nonfatal");
	ok(before >= 0, "platform_aer_port_count reads %ld", before);
	st = platform_host_aer(PLATFORM_PORT_QEMU_ID, "COMP_TIME");
	ok(st == 0, "platform_host_aer(%s, COMP_TIME) injected (status %d)",
	   PLATFORM_PORT_QEMU_ID, st);
	for (i = 0; i < 50; i++) {
		now = platform_aer_port_count(port, "nonfatal");
		if (now > before)
			break;
		nanosleep(&ts, NULL);
	}
	ok(now > before, "the error arrived: aer_rootport_total_err_nonfatal %ld -> %ld",
	   before, now);
	st = platform_host_aer("no-such-device", "COMP_TIME");
	ok(st == 1, "a request for an unknown device is refused (status %d)", st);
	st = platform_host_aer("bad id", "COMP_TIME");
	ok(st == -1, "an id with a space is rejected before asking (status %d)", st);
	return tap_done();
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fake TDI report provider (kunit/tdi_fake_provider.c) as the in-guest
 * tests see it: its debugfs control and status files.
 */
#ifndef CCHOST_TEST_FAKE_PROVIDER_H
#define CCHOST_TEST_FAKE_PROVIDER_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_CONTROL	"/sys/kernel/debug/tdi_fake_provider/control"
#define FAKE_STATUS	"/sys/kernel/debug/tdi_fake_provider/status"

/* Counter @what ("bind", "unbind", ...) of device @bdf's status line, or -1. */
static inline int fake_count(const char *bdf, const char *what)
{
	char line[512], key[64];
	FILE *f = fopen(FAKE_STATUS, "r");
	int val = -1;

	if (!f)
		return -1;
	snprintf(key, sizeof(key), " %s=", what);
	while (fgets(line, sizeof(line), f)) {
		char *p;

		if (strncmp(line, bdf, strlen(bdf)) || line[strlen(bdf)] != ' ')
			continue;
		p = strstr(line, key);
		if (p)
			val = atoi(p + strlen(key));
		break;
	}
	fclose(f);
	return val;
}

#endif

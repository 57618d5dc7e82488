// SPDX-License-Identifier: GPL-2.0-only
/*
 * cchostctl - command-line tool for hosts running the cchost modules:
 * load and unload them with parameters from a config file, show their
 * state and the pool's, create and convert guest-memory files, drive the
 * TDI of a PCI device, and check what the host lacks (doctor).
 *
 *   cchostctl [--json] COMMAND [ARGS...]      see cchostctl(8)
 *
 * Exit status: 0 success, 1 operational error (message on stderr naming
 * the errno), 2 bad usage. With --json every command prints one JSON object
 * on stdout, also when it fails.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cchostctl.h"

#ifndef CCHOST_VERSION
#define CCHOST_VERSION "unknown"
#endif

struct cc_opts cc;

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	void (*usage)(FILE *f);
	const char *summary;
};

static const struct command commands[] = {
	{ "load", cmd_load, usage_load, "load modules with parameters from the config file" },
	{ "unload", cmd_unload, usage_unload, "unload modules (refused while in use)" },
	{ "status", cmd_status, usage_status, "modules, versions, pool and TDI devices" },
	{ "gmem", cmd_gmem, usage_gmem, "create a gmem file, convert, punch, export, hold" },
	{ "tdi", cmd_tdi, usage_tdi, "TDI state, layout, bind and unbind of a PCI device" },
	{ "doctor", cmd_doctor, usage_doctor, "what this host is missing" },
};

void usage_main(FILE *f)
{
	unsigned int i;

	fprintf(f,
		"Usage: cchostctl [--json] COMMAND [ARGS...]\n"
		"       cchostctl COMMAND --help | cchostctl help [COMMAND]\n"
		"       cchostctl --version\n"
		"\n"
		"Commands:\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
		"\n"
		"Options:\n"
		"      --json      one JSON object on stdout (also after COMMAND)\n"
		"  -h, --help      this help\n"
		"  -V, --version   print the version\n"
		"\n"
		"Exit status: 0 success, 1 error (message on stderr), 2 bad usage.\n"
		"See cchostctl(8).\n");
}

/* A getopt_long() error (optstring starting with ':'): a usage error. */
int cc_bad_option(char **argv, int opt)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";

	if (opt == ':')
		return cc_usage_error("option '%s' needs an argument", arg);
	if (optopt && optopt != '?')
		return cc_usage_error("unknown option '-%c'", optopt);
	return cc_usage_error("unknown option '%s'", arg);
}

static const struct command *find_command(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct command *c;
	int i;

	opterr = 0;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--json")) {
			cc.json = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage_main(stdout);
			return CC_EXIT_OK;
		} else if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
			if (cc.json) {
				json_begin();
				json_str("command", "version");
				json_str("version", CCHOST_VERSION);
				json_bool("ok", true);
				json_end();
			} else {
				printf("cchostctl %s\n", CCHOST_VERSION);
			}
			return CC_EXIT_OK;
		} else {
			return cc_usage_error("unknown option '%s'", argv[i]);
		}
	}
	if (i == argc)
		return cc_usage_error("no command given");
	if (!strcmp(argv[i], "help")) {
		if (i + 1 == argc) {
			usage_main(stdout);
			return CC_EXIT_OK;
		}
		c = find_command(argv[i + 1]);
		if (!c)
			return cc_usage_error("unknown command '%s'", argv[i + 1]);
		c->usage(stdout);
		return CC_EXIT_OK;
	}
	c = find_command(argv[i]);
	if (!c)
		return cc_usage_error("unknown command '%s'", argv[i]);
	cc.cmd = c->name;
	/* The command's own options may say --json too. */
	for (int j = i + 1; j < argc && strcmp(argv[j], "--"); j++)
		if (!strcmp(argv[j], "--json"))
			cc.json = true;
	return c->run(argc - i, argv + i);
}

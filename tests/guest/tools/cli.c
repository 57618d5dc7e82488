// SPDX-License-Identifier: GPL-2.0-only
/*
 * cchostctl's command line: --help of the tool and of every command on
 * stdout with status 0, bad usage on stderr with status 2, operational
 * errors with status 1 naming the errno, and --json output that is one
 * valid JSON object with correctly escaped strings, also for errors.
 */
#include "cli_test.h"

static void help_ok(const char *what, const char *cmdline, const char *usage)
{
	runf("%s", cmdline);
	if (!ok(r.status == 0 && strstr(r.out, usage) && !r.err[0],
		"%s: usage on stdout, nothing on stderr, status 0", what))
		show_run();
}

static void usage_error(const char *what, const char *cmdline, const char *msg)
{
	runf("%s", cmdline);
	if (!ok(r.status == 2 && !r.out[0] && strstr(r.err, "Try 'cchostctl") &&
		strstr(r.err, msg),
		"%s: status 2, '%s' on stderr, nothing on stdout", what, msg))
		show_run();
}

int main(void)
{
	static const char * const cmds[] = {
		"load", "unload", "status", "gmem", "tdi", "doctor",
	};
	/* quote, backslash, tab, newline, a control byte and UTF-8 */
	static const char weird[] = "/tmp/no \"such\" \\dir\t\n\x01\xc3\xa9/x.conf";
	char cmd[256], want[512], *argv[8];
	struct jnode *j;
	unsigned int i;

	help_ok("--help", CLI " --help", "Usage: cchostctl [--json] COMMAND");
	help_ok("-h", CLI " -h", "Usage: cchostctl [--json] COMMAND");
	help_ok("help", CLI " help", "Commands:");
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		char usage[64];

		snprintf(usage, sizeof(usage), "Usage: cchostctl %s", cmds[i]);
		snprintf(cmd, sizeof(cmd), CLI " %s --help", cmds[i]);
		help_ok(cmd + strlen(CLI) + 1, cmd, usage);
		snprintf(cmd, sizeof(cmd), CLI " help %s", cmds[i]);
		help_ok(cmd + strlen(CLI) + 1, cmd, usage);
	}
	help_ok("gmem create --help", CLI " gmem create --help", "--hold-until-signal");
	help_ok("tdi bind --help", CLI " tdi bind --help", "Usage: cchostctl tdi");
	help_ok("--json status --help (help wins)", CLI " --json status --help",
		"Usage: cchostctl status");

	runf(CLI " --version");
	ok(r.status == 0 && !strncmp(r.out, "cchostctl ", 10) && !strstr(r.out, "unknown"),
	   "--version: %.40s", r.out);

	usage_error("no command", CLI, "no command given");
	usage_error("unknown command", CLI " frobnicate", "unknown command 'frobnicate'");
	usage_error("unknown global option", CLI " --frob status", "unknown option '--frob'");
	usage_error("unknown option", CLI " status --bogus", "unknown option '--bogus'");
	usage_error("option without its argument", CLI " load --config",
		    "option '--config' needs an argument");
	usage_error("unload without MODULE", CLI " unload", "no MODULE given");
	usage_error("gmem without subcommand", CLI " gmem", "create or use expected");
	usage_error("gmem unknown subcommand", CLI " gmem frob", "unknown subcommand 'frob'");
	usage_error("gmem create without SIZE", CLI " gmem create", "SIZE missing");
	usage_error("gmem create, SIZE not page-sized", CLI " gmem create 12345",
		    "bad SIZE '12345'");
	usage_error("gmem create, bad suffix", CLI " gmem create 64X", "bad SIZE '64X'");
	usage_error("--convert with a bad attribute", CLI " gmem create 64M --convert 0:2M:secret",
		    "neither shared nor private");
	usage_error("--convert without attribute", CLI " gmem create 64M --convert 0:2M",
		    "lacks :shared or :private");
	usage_error("--punch unaligned", CLI " gmem create 64M --punch 0:4097",
		    "multiples of the page size");
	usage_error("--export past the end", CLI " gmem create 64M --export 64M:4K",
		    "past the end of the file");
	usage_error("--allocate malformed", CLI " gmem create 64M --allocate 4K",
		    "bad range '4K'");
	usage_error("--hold 0", CLI " gmem create 64M --hold 0", "bad number of seconds");
	usage_error("two holds", CLI " gmem create 64M --hold 1 --hold-until-signal",
		    "exclude each other");
	usage_error("gmem use, bad FD", CLI " gmem use stdin", "bad FD 'stdin'");
	usage_error("gmem use --private", CLI " gmem use 3 --private",
		    "--private applies to create only");
	usage_error("tdi without BDF", CLI " tdi state", "BDF missing");
	usage_error("tdi bad BDF", CLI " tdi state 00:02", "bad BDF '00:02'");
	usage_error("tdi --hold on state", CLI " tdi state 00:02.0 --hold 5",
		    "--hold applies to bind only");
	usage_error("tdi unknown subcommand", CLI " tdi frob 00:02.0",
		    "unknown subcommand 'frob'");
	usage_error("doctor with an argument", CLI " doctor now", "no arguments expected");

	/* Bad usage with --json: the same, as one JSON object. */
	runf(CLI " --json gmem create 64M --convert 0:2M:secret");
	j = json_parse(r.out);
	ok(r.status == 2 && j && jbool(j, "ok") == 0 && jbool(j, "error.usage") == 1 &&
	   !strcmp(jstr(j, "command"), "gmem create") &&
	   strstr(jstr(j, "error.message"), "neither shared nor private"),
	   "--json bad usage: status 2, ok false, error.usage true");

	/* An operational error: status 1, errno named, JSON error object. */
	runf(CLI " gmem create 64M");
	if (!ok(r.status == 1 && !r.out[0] &&
		strstr(r.err, "cchostctl: cannot open /dev/gmem_pfnpool: ") &&
		strstr(r.err, ": No such file or directory (ENOENT)\n") &&
		strstr(r.err, "hint:"),
		"gmem create without the module: status 1, strerror and ENOENT on stderr"))
		show_run();
	runf(CLI " gmem create 64M --json");
	j = json_parse(r.out);
	ok(r.status == 1 && j && jbool(j, "ok") == 0 && jnum(j, "error.errno") == ENOENT &&
	   !strcmp(jstr(j, "error.errno_name"), "ENOENT") &&
	   !strcmp(jstr(j, "error.strerror"), strerror(ENOENT)) &&
	   strstr(jstr(j, "error.hint"), "cchostctl load"),
	   "--json after the command: error object with errno, errno_name, strerror, hint");

	/* String escaping: the message carries the path back exactly. */
	argv[0] = CLI;
	argv[1] = "--json";
	argv[2] = "load";
	argv[3] = "--config";
	argv[4] = (char *)weird;
	argv[5] = NULL;
	runv(argv);
	j = json_parse(r.out);
	snprintf(want, sizeof(want), "cannot read config file %s", weird);
	if (!ok(r.status == 1 && j && !strcmp(jstr(j, "error.message"), want),
		"quote, backslash, tab, newline, U+0001 and UTF-8 escaped and decoded back"))
		show_run();
	ok(!strchr(r.out, '\t') && !strchr(r.out, '\x01') && strchr(r.out, '\n') ==
	   r.out + strlen(r.out) - 1, "  no raw control characters, one line");
	argv[4] = "/tmp/\xff\xfe-not-utf8";
	runv(argv);
	j = json_parse(r.out);
	ok(r.status == 1 && j && strstr(jstr(j, "error.message"), "-not-utf8"),
	   "bytes that are not UTF-8 still give valid JSON");

	runf(CLI " status --json");
	j = json_parse(r.out);
	ok(r.status == 0 && j && jbool(j, "ok") == 1 && jlen(j, "modules") >= 2 &&
	   !strcmp(jstr(j, "modules.0.name"), "gmem_pfnpool") &&
	   jbool(j, "modules.0.loaded") == (loaded("gmem_pfnpool") ? 1 : 0) &&
	   jbool(j, "modules.0.installed") == 1,
	   "status --json (after the command) is one object; gmem_pfnpool installed");

	return tap_done();
}

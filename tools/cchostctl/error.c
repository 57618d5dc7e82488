// SPDX-License-Identifier: GPL-2.0-only
/*
 * cchostctl - reporting: the error of the running command (one, the first
 * wins), warnings, usage errors, and the end of a command's output.
 *
 * On stderr an error reads "cchostctl: WHAT: STRERROR (ENAME)", followed by
 * "cchostctl: hint: ..." when there is one. With --json the same error is
 * also the "error" member of the command's JSON object.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cchostctl.h"

struct cc_error cc_err;

static bool cc_json_open;

const char *cc_errname(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "EUNKNOWN";
}

int cc_fail(int err, const char *fmt, ...)
{
	va_list ap;

	if (cc_err.msg[0])
		return CC_EXIT_FAIL;
	cc_err.err = err;
	va_start(ap, fmt);
	vsnprintf(cc_err.msg, sizeof(cc_err.msg), fmt, ap);
	va_end(ap);
	return CC_EXIT_FAIL;
}

void cc_hint(const char *fmt, ...)
{
	va_list ap;

	if (cc_err.hint[0])
		return;
	va_start(ap, fmt);
	vsnprintf(cc_err.hint, sizeof(cc_err.hint), fmt, ap);
	va_end(ap);
}

void cc_warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "cchostctl: warning: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The "error" member of the JSON object. */
void cc_json_error(void)
{
	json_obj_begin("error");
	json_str("message", cc_err.msg);
	if (cc_err.err) {
		json_i64("errno", cc_err.err);
		json_str("errno_name", cc_errname(cc_err.err));
		json_str("strerror", strerror(cc_err.err));
	}
	if (cc_err.hint[0])
		json_str("hint", cc_err.hint);
	json_obj_end();
}

static void cc_print_error(void)
{
	if (cc_err.err)
		fprintf(stderr, "cchostctl: %s: %s (%s)\n", cc_err.msg,
			strerror(cc_err.err), cc_errname(cc_err.err));
	else
		fprintf(stderr, "cchostctl: %s\n", cc_err.msg);
	if (cc_err.hint[0])
		fprintf(stderr, "cchostctl: hint: %s\n", cc_err.hint);
}

/* Start the output of a command: the JSON object and its "command". */
void cc_begin(void)
{
	if (!cc.json)
		return;
	json_begin();
	cc_json_open = true;
	json_str("command", cc.cmd);
}

/*
 * End the output of a command: "ok" and "error" close the JSON object, the
 * error goes to stderr. Returns @status, CC_EXIT_FAIL if an error was
 * recorded with a success status.
 */
int cc_finish(int status)
{
	if (status == CC_EXIT_OK && cc_err.msg[0])
		status = CC_EXIT_FAIL;
	if (cc.json && cc_json_open) {
		json_unwind();
		json_bool("ok", status == CC_EXIT_OK);
		if (cc_err.msg[0])
			cc_json_error();
		json_end();
		cc_json_open = false;
	}
	if (cc_err.msg[0])
		cc_print_error();
	fflush(stdout);
	return status;
}

/* A usage error: message and pointer to --help on stderr, exit status 2. */
int cc_usage_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cc.json) {
		if (!cc_json_open) {
			json_begin();
			json_str("command", cc.cmd ? cc.cmd : "");
		}
		json_unwind();
		json_bool("ok", false);
		json_obj_begin("error");
		json_str("message", msg);
		json_bool("usage", true);
		json_obj_end();
		json_end();
		cc_json_open = false;
	}
	fprintf(stderr, "cchostctl: %s%s%s\n", cc.cmd ? cc.cmd : "",
		cc.cmd ? ": " : "", msg);
	fprintf(stderr, "Try 'cchostctl %s%s--help'.\n", cc.cmd ? cc.cmd : "",
		cc.cmd ? " " : "");
	return CC_EXIT_USAGE;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * cchostctl - the configuration file (default /etc/cchost/cchost.conf).
 *
 * One directive per line; blank lines and lines starting with '#' are
 * ignored:
 *
 *   options MODULE [PARAM[=VALUE]...]    as in modprobe.d(5)
 *   MODULE.PARAM=VALUE                   as on the kernel command line
 *
 * A value containing blanks is double-quoted (PARAM="a b"); the quotes are
 * passed to the kernel, which strips them. Every module the file names is
 * loaded by "cchostctl load" without MODULE arguments, in the order of
 * first mention, with the parameters of every line naming it, in file
 * order. Dashes in module names are read as underscores.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cchostctl.h"

static bool valid_name(const char *s, size_t len)
{
	size_t i;

	if (!len)
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

/*
 * The next blank-separated token of *@cur (double quotes protect blanks);
 * its length, 0 at the end, -1 for an unterminated quote.
 */
static int next_token(const char **cur, const char **tok)
{
	const char *p = *cur;
	bool quoted = false;

	while (*p && isspace((unsigned char)*p))
		p++;
	*tok = p;
	while (*p && (quoted || !isspace((unsigned char)*p))) {
		if (*p == '"')
			quoted = !quoted;
		p++;
	}
	*cur = p;
	if (quoted)
		return -1;
	return (int)(p - *tok);
}

/* A PARAM or PARAM=VALUE token. */
static bool valid_param(const char *tok, size_t len)
{
	const char *eq = memchr(tok, '=', len);

	return valid_name(tok, eq ? (size_t)(eq - tok) : len);
}

struct cc_config_module *config_find(struct cc_config *cfg, const char *name)
{
	char sys[64];
	int i;

	module_sysname(name, sys, sizeof(sys));
	for (i = 0; i < cfg->nr; i++)
		if (!strcmp(cfg->mods[i].name, sys))
			return &cfg->mods[i];
	return NULL;
}

static struct cc_config_module *config_module(struct cc_config *cfg,
					      const char *name, size_t len,
					      int line)
{
	struct cc_config_module *m;
	char buf[64];

	if (len >= sizeof(buf)) {
		cc_fail(ENAMETOOLONG, "%s:%d: module name too long", cfg->path, line);
		return NULL;
	}
	memcpy(buf, name, len);
	buf[len] = 0;
	m = config_find(cfg, buf);
	if (m)
		return m;
	if (cfg->nr == CC_MAX_MODULES) {
		cc_fail(E2BIG, "%s:%d: more than %d modules", cfg->path, line,
			CC_MAX_MODULES);
		return NULL;
	}
	m = &cfg->mods[cfg->nr++];
	memset(m, 0, sizeof(*m));
	module_sysname(buf, m->name, sizeof(m->name));
	m->line = line;
	return m;
}

static int add_param(struct cc_config *cfg, struct cc_config_module *m,
		     const char *tok, size_t len, int line)
{
	size_t used = strlen(m->params);

	if (used + len + 2 > sizeof(m->params))
		return cc_fail(E2BIG, "%s:%d: parameters of %s too long", cfg->path,
			       line, m->name);
	if (used)
		m->params[used++] = ' ';
	memcpy(m->params + used, tok, len);
	m->params[used + len] = 0;
	return 0;
}

static int parse_line(struct cc_config *cfg, char *s, int line)
{
	struct cc_config_module *m;
	const char *cur = s, *tok, *dot, *eq;
	int len;

	len = next_token(&cur, &tok);
	if (len <= 0)
		goto bad;
	if (len == 7 && !strncmp(tok, "options", 7)) {
		len = next_token(&cur, &tok);
		if (len <= 0 || !valid_name(tok, len))
			goto bad;
		m = config_module(cfg, tok, len, line);
		if (!m)
			return CC_EXIT_FAIL;
		while ((len = next_token(&cur, &tok)) > 0) {
			if (!valid_param(tok, len))
				goto bad;
			if (add_param(cfg, m, tok, len, line))
				return CC_EXIT_FAIL;
		}
		if (len < 0)
			goto bad;
		return 0;
	}
	/* MODULE.PARAM=VALUE, alone on its line */
	dot = memchr(tok, '.', len);
	eq = memchr(tok, '=', len);
	if (!dot || !eq || dot > eq || !valid_name(tok, dot - tok) ||
	    !valid_param(dot + 1, tok + len - dot - 1))
		goto bad;
	if (next_token(&cur, &tok) != 0)
		goto bad;
	tok = s + strspn(s, " \t");
	m = config_module(cfg, tok, dot - tok, line);
	if (!m)
		return CC_EXIT_FAIL;
	return add_param(cfg, m, dot + 1, tok + len - dot - 1, line);
bad:
	return cc_fail(EINVAL,
		       "%s:%d: expected 'options MODULE PARAM=VALUE...' or 'MODULE.PARAM=VALUE'",
		       cfg->path, line);
}

/*
 * Read the configuration file @path (NULL: the default one). A missing file
 * is an error only with @must_exist; cfg->found tells whether one was read.
 * Returns 0 or CC_EXIT_FAIL with the error recorded.
 */
int config_load(struct cc_config *cfg, const char *path, bool must_exist)
{
	char line[4096];
	int n = 0;
	FILE *f;

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->path, sizeof(cfg->path), "%s", path ? path : CC_DEFAULT_CONFIG);
	f = fopen(cfg->path, "re");
	if (!f) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return cc_fail(errno, "cannot read config file %s", cfg->path);
	}
	cfg->found = true;
	while (fgets(line, sizeof(line), f)) {
		char *s = line;
		size_t len;

		n++;
		len = strlen(s);
		if (len == sizeof(line) - 1 && s[len - 1] != '\n') {
			fclose(f);
			return cc_fail(E2BIG, "%s:%d: line too long", cfg->path, n);
		}
		while (len && isspace((unsigned char)s[len - 1]))
			s[--len] = 0;
		s += strspn(s, " \t");
		if (!*s || *s == '#')
			continue;
		if (parse_line(cfg, s, n)) {
			fclose(f);
			return CC_EXIT_FAIL;
		}
	}
	if (ferror(f)) {
		fclose(f);
		return cc_fail(EIO, "cannot read config file %s", cfg->path);
	}
	fclose(f);
	return 0;
}

/*
 * Iterate over the parameters of @params: the name, the value ("" for a
 * bare PARAM) without quotes; false at the end.
 */
bool config_next_param(const char **cur, char *name, size_t nlen, char *val,
		       size_t vlen)
{
	const char *tok, *eq;
	size_t i, j;
	int len;

	len = next_token(cur, &tok);
	if (len <= 0)
		return false;
	eq = memchr(tok, '=', len);
	snprintf(name, nlen, "%.*s", (int)(eq ? eq - tok : len), tok);
	j = 0;
	if (eq)
		for (i = eq - tok + 1; i < (size_t)len && j + 1 < vlen; i++)
			if (tok[i] != '"')
				val[j++] = tok[i];
	val[j] = 0;
	return true;
}

/* The value of the last @param of module @m, without quotes; NULL if none. */
const char *config_param(const struct cc_config_module *m, const char *param,
			 char *buf, size_t len)
{
	const char *cur = m->params;
	const char *found = NULL;
	char name[64], val[1024];

	while (config_next_param(&cur, name, sizeof(name), val, sizeof(val))) {
		if (strcmp(name, param))
			continue;
		snprintf(buf, len, "%s", val);
		found = buf;
	}
	return found;
}

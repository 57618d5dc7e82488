// SPDX-License-Identifier: GPL-2.0-only
/*
 * cchostctl - a streaming JSON emitter: one document on stdout, written as
 * the command goes, on one line. Keys and string values are escaped per
 * RFC 8259: '"', '\\' and control characters are escaped, valid UTF-8 is
 * passed through, and bytes that are not valid UTF-8 (kernel strings need
 * not be) are written as \u00XX so that the output is always valid JSON.
 *
 * Nesting is tracked in a small stack: each level remembers whether a
 * member was written, to place the commas.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cchostctl.h"

#define JSON_MAX_DEPTH	16

static int json_depth;
static bool json_has_member[JSON_MAX_DEPTH];
static char json_closer[JSON_MAX_DEPTH];

/* Length of the valid UTF-8 sequence at @s, or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s)
{
	uint32_t cp;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

void json_write_string(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', f);
	while (*s) {
		size_t n;

		switch (*s) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\b':
			fputs("\\b", f);
			break;
		case '\f':
			fputs("\\f", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*s < 0x20 || *s == 0x7f) {
				fprintf(f, "\\u%04x", *s);
				break;
			}
			n = utf8_len(s);
			if (!n) {
				fprintf(f, "\\u%04x", *s);
				break;
			}
			fwrite(s, 1, n, f);
			s += n;
			continue;
		}
		s++;
	}
	fputc('"', f);
}

/* Comma and key before a value at the current level. */
static void json_member(const char *key)
{
	if (json_has_member[json_depth])
		fputc(',', stdout);
	json_has_member[json_depth] = true;
	if (key) {
		json_write_string(stdout, key);
		fputc(':', stdout);
	}
}

static void json_push(char open, char close)
{
	fputc(open, stdout);
	if (json_depth + 1 >= JSON_MAX_DEPTH) {
		fprintf(stderr, "cchostctl: internal error: JSON nested too deep\n");
		exit(CC_EXIT_FAIL);
	}
	json_depth++;
	json_has_member[json_depth] = false;
	json_closer[json_depth] = close;
}

static void json_pop(void)
{
	if (json_depth > 0)
		fputc(json_closer[json_depth--], stdout);
}

/* Start the top-level object. */
void json_begin(void)
{
	json_depth = 0;
	json_has_member[0] = false;
	json_push('{', '}');
}

/* Close every open level and end the line. */
void json_end(void)
{
	while (json_depth > 0)
		json_pop();
	fputc('\n', stdout);
	fflush(stdout);
}

/* Close nested levels down to the top-level object. */
void json_unwind(void)
{
	while (json_depth > 1)
		json_pop();
}

void json_obj_begin(const char *key)
{
	json_member(key);
	json_push('{', '}');
}

void json_obj_end(void)
{
	json_pop();
}

void json_arr_begin(const char *key)
{
	json_member(key);
	json_push('[', ']');
}

void json_arr_end(void)
{
	json_pop();
}

void json_str(const char *key, const char *val)
{
	if (!val) {
		json_null(key);
		return;
	}
	json_member(key);
	json_write_string(stdout, val);
}

void json_strf(const char *key, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_str(key, buf);
}

void json_u64(const char *key, uint64_t val)
{
	json_member(key);
	printf("%llu", (unsigned long long)val);
}

void json_i64(const char *key, int64_t val)
{
	json_member(key);
	printf("%lld", (long long)val);
}

void json_bool(const char *key, bool val)
{
	json_member(key);
	fputs(val ? "true" : "false", stdout);
}

void json_null(const char *key)
{
	json_member(key);
	fputs("null", stdout);
}

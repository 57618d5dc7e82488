/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cchostctl - shared declarations: the commands, the JSON emitter,
 * error reporting, argument parsing, sysfs/procfs readers, the
 * config file and the libkmod wrappers.
 */
#ifndef CCHOSTCTL_H
#define CCHOSTCTL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* printf-style argument checking: the Makefile defines it for GCC. */
#ifndef __printf
#define __printf(...)
#endif

#define CC_DEFAULT_CONFIG	"/etc/cchost/cchost.conf"
#define CC_GMEM_DEV		"/dev/gmem_pfnpool"
#define CC_POOL_SYSFS		"/sys/class/misc/gmem_pfnpool/pool"
#define CC_PCI_DEVICES		"/sys/bus/pci/devices"
#define CC_TDI_DRIVER		"/sys/bus/pci/drivers/tdi_dmabuf"

/* Exit statuses: success, operational error, bad usage. */
#define CC_EXIT_OK	0
#define CC_EXIT_FAIL	1
#define CC_EXIT_USAGE	2

/* Global options, valid before or after the command name. */
struct cc_opts {
	bool json;
	const char *cmd;	/* "gmem create", for messages and "command" */
};

extern struct cc_opts cc;

/* json.c: a streaming emitter of one JSON document on stdout. */
void json_begin(void);
void json_end(void);
void json_unwind(void);
void json_obj_begin(const char *key);
void json_obj_end(void);
void json_arr_begin(const char *key);
void json_arr_end(void);
void json_str(const char *key, const char *val);
__printf(2, 3) void json_strf(const char *key, const char *fmt, ...);
void json_u64(const char *key, uint64_t val);
void json_i64(const char *key, int64_t val);
void json_bool(const char *key, bool val);
void json_null(const char *key);
void json_write_string(FILE *f, const char *s);

/* error.c: the error of the running command and its reporting. */
struct cc_error {
	int err;		/* positive errno, 0 if none */
	char msg[512];
	char hint[512];
};

extern struct cc_error cc_err;

__printf(2, 3) int cc_fail(int err, const char *fmt, ...);
__printf(1, 2) void cc_hint(const char *fmt, ...);
__printf(1, 2) void cc_warn(const char *fmt, ...);
__printf(1, 2) int cc_usage_error(const char *fmt, ...);
int cc_bad_option(char **argv, int opt);
const char *cc_errname(int err);
int cc_finish(int status);
void cc_json_error(void);
void cc_begin(void);

/* util.c */
void copy_str(char *dst, size_t len, const char *src);
int parse_size(const char *s, uint64_t *out);
int parse_u64(const char *s, uint64_t *out);
int parse_range(const char *s, uint64_t *off, uint64_t *len, char **rest);
int read_file(const char *path, char *buf, size_t len);
int read_line(const char *path, char *buf, size_t len);
int read_u64_file(const char *path, uint64_t *val);
int read_link_base(const char *path, char *buf, size_t len);
const char *human_size(uint64_t v, char *buf, size_t len);
bool path_exists(const char *path);
bool is_mounted(const char *fstype, char *where, size_t len);
void module_sysname(const char *name, char *out, size_t len);
int normalize_bdf(const char *in, char *out, size_t len);

/* Processes that hold an fd whose link target satisfies @match. */
struct cc_holder {
	int pid;
	int fd;
	char comm[32];
	char target[128];
};

int find_fd_holders(bool (*match)(int pid, int fd, const char *target, void *data),
		    void *data, struct cc_holder *out, int max);

/* Holding fds open until a timeout or SIGINT/SIGTERM/SIGHUP. */
struct cc_hold {
	long seconds;		/* -1: until a signal; 0: no hold */
	bool set;
};

int hold_parse_option(struct cc_hold *h, const char *name, const char *arg);
void hold_block_signals(void);
int hold_wait(const struct cc_hold *h);
void hold_json(const struct cc_hold *h);

/* config.c: the configuration file. */
#define CC_MAX_MODULES	16

struct cc_config_module {
	char name[64];
	char params[1024];	/* space separated, in file order */
	int line;		/* first line that named it */
};

struct cc_config {
	char path[4096];
	bool found;
	int nr;
	struct cc_config_module mods[CC_MAX_MODULES];
};

int config_load(struct cc_config *cfg, const char *path, bool must_exist);
struct cc_config_module *config_find(struct cc_config *cfg, const char *name);
const char *config_param(const struct cc_config_module *m, const char *param,
			 char *buf, size_t len);
bool config_next_param(const char **cur, char *name, size_t nlen, char *val,
		       size_t vlen);

/* modules.c: libkmod wrappers shared by load, unload, status and doctor. */
struct kmod_ctx;

struct kmod_ctx *kmod_open(void);
void kmod_close(struct kmod_ctx *ctx);

struct cc_modinfo {
	char name[64];
	bool loaded;		/* /sys/module/NAME exists */
	bool builtin;
	char state[16];		/* live, coming, going, builtin, "" */
	char version[64];	/* of the loaded module */
	char srcversion[64];
	int refcnt;
	int nr_holders;
	char holders[8][64];
	bool installed;		/* a .ko for the running kernel */
	char path[512];
	char installed_version[64];
};

int modinfo_get(struct kmod_ctx *ctx, const char *name, struct cc_modinfo *mi);
void modinfo_json_members(const struct cc_modinfo *mi);

/* The commands. */
int cmd_load(int argc, char **argv);
int cmd_unload(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_gmem(int argc, char **argv);
int cmd_tdi(int argc, char **argv);
int cmd_doctor(int argc, char **argv);

/* Print "Usage: ..." of a command (and its subcommands). */
void usage_main(FILE *f);
void usage_load(FILE *f);
void usage_unload(FILE *f);
void usage_status(FILE *f);
void usage_gmem(FILE *f);
void usage_tdi(FILE *f);
void usage_doctor(FILE *f);

/* --help, --json or an unknown option in a command's argument list. */
bool want_help(int argc, char **argv);

#endif /* CCHOSTCTL_H */

// SPDX-License-Identifier: GPL-2.0-only
/*
 * modload - load or remove kernel modules through libkmod.
 *
 *   modload [-v] [-d DIR] NAME [param=value ...]
 *   modload [-v] [-d DIR] -r NAME...
 *
 * Loading resolves dependencies and soft dependencies from the modules.dep
 * and modules.softdep files written by depmod, ignores the blacklist and
 * passes the given parameters to NAME only. Already loaded modules are not
 * an error. On failure the kernel's errno is printed and the exit status is
 * non-zero.
 *
 * Removal unloads exactly the named modules (no dependency removal) and fails
 * with the kernel's errno, e.g. EBUSY when a module is in use.
 *
 * Used inside the test guests instead of busybox modprobe, which ignores
 * softdeps.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libkmod.h>

static bool verbose;

static void print_usage(FILE *out)
{
	fprintf(out,
		"Usage: modload [-v] [-d DIR] NAME [param=value ...]\n"
		"       modload [-v] [-d DIR] -r NAME...\n"
		"  -r      remove the named modules\n"
		"  -d DIR  module directory (default /lib/modules/$(uname -r))\n"
		"  -v      print each module as it is inserted or removed\n");
}

static void log_fn(void *data, int priority, const char *file, int line,
		   const char *fn, const char *format, va_list args)
{
	/* libkmod's own errors (LOG_ERR and worse), with our prefix. */
	fprintf(stderr, "modload: ");
	vfprintf(stderr, format, args);
}

static void print_action(struct kmod_module *mod, bool install,
			 const char *options)
{
	/* libkmod also reports dependencies that are already loaded. */
	if (kmod_module_get_initstate(mod) == KMOD_MODULE_LIVE)
		return;
	if (install)
		printf("modload: install command for %s\n",
		       kmod_module_get_name(mod));
	else
		printf("modload: insmod %s %s\n", kmod_module_get_path(mod),
		       options ? options : "");
}

/* Join argv[] into one space-separated option string. */
static char *join_params(int argc, char **argv)
{
	size_t len = 1;
	char *s;
	int i;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = calloc(1, len);
	if (!s)
		return NULL;
	for (i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

static int lookup_one(struct kmod_ctx *ctx, const char *name,
		      struct kmod_list **list)
{
	int err;

	*list = NULL;
	err = kmod_module_new_from_lookup(ctx, name, list);
	if (err < 0) {
		fprintf(stderr, "modload: %s: lookup failed: %s\n", name,
			strerror(-err));
		return err;
	}
	if (!*list) {
		fprintf(stderr, "modload: %s: module not found (%s)\n", name,
			strerror(ENOENT));
		return -ENOENT;
	}
	return 0;
}

static int do_load(struct kmod_ctx *ctx, const char *name, const char *params)
{
	struct kmod_list *list, *l;
	int flags = KMOD_PROBE_IGNORE_LOADED;
	int err, ret = 0;

	err = lookup_one(ctx, name, &list);
	if (err)
		return err;

	/*
	 * No KMOD_PROBE_APPLY_BLACKLIST: tests load what they name. Softdeps
	 * are honoured by kmod_module_probe_insert_module() itself.
	 */
	kmod_list_foreach(l, list) {
		struct kmod_module *mod = kmod_module_get_module(l);

		err = kmod_module_probe_insert_module(mod, flags, params, NULL,
						      NULL,
						      verbose ? print_action : NULL);
		if (err < 0) {
			fprintf(stderr, "modload: %s: insert failed: %s (errno %d)\n",
				kmod_module_get_name(mod), strerror(-err), -err);
			ret = err;
		} else if (err > 0) {
			/* Positive: a KMOD_PROBE_* condition, not an errno. */
			fprintf(stderr, "modload: %s: not inserted (probe status %d)\n",
				kmod_module_get_name(mod), err);
			ret = -EINVAL;
		} else if (verbose) {
			printf("modload: %s loaded\n", kmod_module_get_name(mod));
		}
		kmod_module_unref(mod);
		if (ret)
			break;
	}
	kmod_module_unref_list(list);
	return ret;
}

static int do_remove(struct kmod_ctx *ctx, const char *name)
{
	struct kmod_list *holders, *l;
	struct kmod_module *mod;
	int err;

	/* Removal takes a loaded module name, not an alias. */
	err = kmod_module_new_from_name(ctx, name, &mod);
	if (err < 0) {
		fprintf(stderr, "modload: %s: %s\n", name, strerror(-err));
		return err;
	}
	if (kmod_module_get_initstate(mod) < 0) {
		fprintf(stderr, "modload: %s: not loaded (%s)\n", name,
			strerror(ENOENT));
		kmod_module_unref(mod);
		return -ENOENT;
	}
	/*
	 * The kernel answers EWOULDBLOCK for a module in use; say what the
	 * user wants to know, like modprobe -r does.
	 */
	holders = kmod_module_get_holders(mod);
	if (kmod_module_get_refcnt(mod) > 0 || holders) {
		fprintf(stderr, "modload: %s: in use (refcnt %d%s", name,
			kmod_module_get_refcnt(mod), holders ? ", held by" : "");
		kmod_list_foreach(l, holders) {
			struct kmod_module *h = kmod_module_get_module(l);

			fprintf(stderr, " %s", kmod_module_get_name(h));
			kmod_module_unref(h);
		}
		fprintf(stderr, "): %s (errno %d)\n", strerror(EBUSY), EBUSY);
		kmod_module_unref_list(holders);
		kmod_module_unref(mod);
		return -EBUSY;
	}

	err = kmod_module_remove_module(mod, 0);
	if (err < 0)
		fprintf(stderr, "modload: %s: remove failed: %s (errno %d)\n",
			name, strerror(-err), -err);
	else if (verbose)
		printf("modload: %s removed\n", name);
	kmod_module_unref(mod);
	return err;
}

int main(int argc, char **argv)
{
	const char *dirname = NULL;
	bool remove = false;
	struct kmod_ctx *ctx;
	char *params = NULL;
	int opt, i, err = 0;

	while ((opt = getopt(argc, argv, "+rvd:h")) != -1) {
		switch (opt) {
		case 'r':
			remove = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'd':
			dirname = optarg;
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		default:
			print_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		print_usage(stderr);
		return 2;
	}

	ctx = kmod_new(dirname, NULL);
	if (!ctx) {
		fprintf(stderr, "modload: cannot create libkmod context\n");
		return 1;
	}
	kmod_set_log_fn(ctx, log_fn, NULL);

	err = kmod_load_resources(ctx);
	if (err < 0) {
		fprintf(stderr, "modload: cannot load module indexes: %s\n",
			strerror(-err));
		goto out_unref_ctx;
	}

	if (remove) {
		for (i = optind; i < argc; i++) {
			int r = do_remove(ctx, argv[i]);

			if (r < 0 && !err)
				err = r;
		}
		goto out_unref_ctx;
	}

	params = join_params(argc - optind - 1, argv + optind + 1);
	if (!params) {
		err = -ENOMEM;
		goto out_unref_ctx;
	}
	err = do_load(ctx, argv[optind], params[0] ? params : NULL);
	free(params);

out_unref_ctx:
	kmod_unref(ctx);
	return err < 0 ? 1 : 0;
}

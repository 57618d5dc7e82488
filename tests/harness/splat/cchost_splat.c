// SPDX-License-Identifier: GPL-2.0-only
/*
 * cchost_splat - a module whose only job is to WARN when it is loaded.
 *
 * The harness self-test loads it in a guest whose tests all pass and checks
 * that the console scanner still fails the boot. Never installed anywhere.
 */
#include <linux/bug.h>
#include <linux/module.h>

static int __init cchost_splat_init(void)
{
	WARN(1, "cchost_splat: deliberate warning for the harness self-test\n");
	return 0;
}

static void __exit cchost_splat_exit(void)
{
}

module_init(cchost_splat_init);
module_exit(cchost_splat_exit);

MODULE_DESCRIPTION("Deliberate WARN on load, for the cchost harness self-test");
MODULE_LICENSE("GPL");

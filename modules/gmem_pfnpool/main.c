// SPDX-License-Identifier: GPL-2.0-only
/*
 * gmem_pfnpool - guest memory from physical ranges without struct pages.
 * Placeholder entry point; the pool, files and invalidation engine follow.
 */
#include <linux/module.h>

static int __init gmem_pfnpool_init(void)
{
	return 0;
}
module_init(gmem_pfnpool_init);

static void __exit gmem_pfnpool_exit(void)
{
}
module_exit(gmem_pfnpool_exit);

MODULE_DESCRIPTION("Guest memory from unmanaged PFN ranges");
MODULE_LICENSE("GPL");

// SPDX-License-Identifier: GPL-2.0-only
/*
 * cchost_instruments - a module that trips one debug instrument on load.
 *
 * The harness self-test loads it in the debug guest kernel, once per
 * instrument, and checks that each report fails the run: proof that KASAN,
 * lockdep and kmemleak are live there. Never part of the product build.
 *
 *   trigger=kasan    read a freed object (slab-use-after-free)
 *   trigger=lockdep  take two mutexes in both orders (circular dependency)
 *   trigger=leak     allocate objects and drop every reference to them
 */
#include <linux/compiler.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>

static char *trigger = "";
module_param(trigger, charp, 0444);
MODULE_PARM_DESC(trigger, "Instrument to trip on load: kasan, lockdep or leak");

static DEFINE_MUTEX(cchost_instruments_a);
static DEFINE_MUTEX(cchost_instruments_b);

static int cchost_instruments_kasan(void)
{
	u8 *p = kmalloc(64, GFP_KERNEL);
	u8 v;

	if (!p)
		return -ENOMEM;
	kfree(p);
	/* Hide the pointer from the compiler's own use-after-free warning. */
	OPTIMIZER_HIDE_VAR(p);
	v = READ_ONCE(p[8]);
	pr_info("cchost_instruments: read %u from a freed object\n", v);
	return 0;
}

static int cchost_instruments_lockdep(void)
{
	mutex_lock(&cchost_instruments_a);
	mutex_lock(&cchost_instruments_b);
	mutex_unlock(&cchost_instruments_b);
	mutex_unlock(&cchost_instruments_a);

	mutex_lock(&cchost_instruments_b);
	mutex_lock(&cchost_instruments_a);
	mutex_unlock(&cchost_instruments_a);
	mutex_unlock(&cchost_instruments_b);
	return 0;
}

static int cchost_instruments_leak(void)
{
	void *p;
	int i;

	for (i = 0; i < 4; i++) {
		p = kmalloc(256, GFP_KERNEL);
		if (!p)
			return -ENOMEM;
		memset(p, 0x5a, 256);
		OPTIMIZER_HIDE_VAR(p);
	}
	pr_info("cchost_instruments: leaked 4 objects of 256 bytes\n");
	return 0;
}

static int __init cchost_instruments_init(void)
{
	if (!strcmp(trigger, "kasan"))
		return cchost_instruments_kasan();
	if (!strcmp(trigger, "lockdep"))
		return cchost_instruments_lockdep();
	if (!strcmp(trigger, "leak"))
		return cchost_instruments_leak();
	pr_err("cchost_instruments: unknown trigger '%s'\n", trigger);
	return -EINVAL;
}

static void __exit cchost_instruments_exit(void)
{
}

module_init(cchost_instruments_init);
module_exit(cchost_instruments_exit);

MODULE_DESCRIPTION("Trips KASAN, lockdep or kmemleak on load, for the cchost harness self-test");
MODULE_LICENSE("GPL");

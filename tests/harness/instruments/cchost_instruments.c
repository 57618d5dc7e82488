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

/*
 * The leaked pointers must not survive anywhere kmemleak scans. A dead task's
 * stack is kept in the per-CPU stack cache, still allocated and scanned, so
 * the allocations run in a helper whose frame (and kmalloc's, below it) is
 * then overwritten.
 */
#define CCHOST_LEAK_OBJECTS	16
#define CCHOST_WIPE_FRAME	512
#define CCHOST_WIPE_DEPTH	8

static noinline int cchost_instruments_leak_alloc(void)
{
	void *p;
	int i;

	for (i = 0; i < CCHOST_LEAK_OBJECTS; i++) {
		p = kmalloc(256, GFP_KERNEL);
		if (!p)
			return -ENOMEM;
		memset(p, 0x5a, 256);
		OPTIMIZER_HIDE_VAR(p);
	}
	return 0;
}

static noinline void cchost_instruments_wipe_stack(int depth)
{
	u8 frame[CCHOST_WIPE_FRAME];

	memzero_explicit(frame, sizeof(frame));
	if (depth > 1)
		cchost_instruments_wipe_stack(depth - 1);
	/* Keep the frame live across the call, so it is not a tail call. */
	OPTIMIZER_HIDE_VAR(frame[0]);
}

static int cchost_instruments_leak(void)
{
	int ret = cchost_instruments_leak_alloc();

	cchost_instruments_wipe_stack(CCHOST_WIPE_DEPTH);
	if (ret)
		return ret;
	pr_info("cchost_instruments: leaked %d objects of 256 bytes\n",
		CCHOST_LEAK_OBJECTS);
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

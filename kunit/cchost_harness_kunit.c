// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit self-test of the cchost test setup.
 *
 * It checks what every other suite silently relies on: the project's compat
 * header is force-included with coherent feature flags, and the debug
 * configuration (lockdep, KASAN) is really in effect. The deliberate_failure
 * case fails only when the "fail" parameter is set, on the kernel command
 * line of a kunit.py run (cchost_harness_kunit.fail=1), which proves that a
 * failing case fails the run without rebuilding anything. Likewise the
 * deliberate_warning case WARNs only with cchost_harness_kunit.warn=1: it
 * passes as far as KUnit knows, and scripts/kunit.sh must fail it for the
 * kernel report printed while it ran.
 *
 * Locking: one test-local mutex, never nested.
 */
#include <kunit/test.h>
#include <linux/debug_locks.h>
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>

#ifndef _CCHOST_COMPAT_H
#error "compat/compat.h is not force-included: check the project's Kbuild"
#endif

static bool fail;
module_param(fail, bool, 0444);
MODULE_PARM_DESC(fail, "Make the deliberate_failure case fail (test setup self-test)");

static bool warn;
module_param(warn, bool, 0444);
MODULE_PARM_DESC(warn, "Make the deliberate_warning case WARN (test setup self-test)");

/*
 * The string MODULE_IMPORT_NS() would record, captured by expanding it with
 * a local MODULE_INFO(). Upstream (6.13+) records the literal as is; older
 * kernels stringify a bare token, so without the compat fallback the quotes
 * would end up inside the namespace name and modpost would reject imports.
 */
static const char *import_ns_string(void)
{
#pragma push_macro("MODULE_INFO")
#undef MODULE_INFO
#define MODULE_INFO(tag, info) static const char tag[] = info
	MODULE_IMPORT_NS("DMA_BUF");
#pragma pop_macro("MODULE_INFO")

	return import_ns;
}

static void compat_import_ns(struct kunit *test)
{
	KUNIT_EXPECT_STREQ(test, import_ns_string(), "DMA_BUF");
}

/*
 * The probes of compat/features find features that appeared in a known
 * order; a newer one without an older one means a probe no longer matches
 * the tree and its fallback would be compiled against the wrong API.
 */
static void compat_flags(struct kunit *test)
{
	bool vm_flags = __is_defined(CCHOST_HAVE_VM_FLAGS_SET);		/* 6.3 */
	bool kunit_dev = __is_defined(CCHOST_HAVE_KUNIT_DEVICE_REGISTER);	/* 6.8 */
	bool ns_string = __is_defined(CCHOST_HAVE_MODULE_IMPORT_NS_STRING);	/* 6.13 */
	bool no_pfn_t = !__is_defined(CCHOST_HAVE_PFN_T);			/* 6.17 */
	bool invalidate = __is_defined(CCHOST_HAVE_DMA_BUF_INVALIDATE_MAPPINGS); /* 7.0 */

	kunit_info(test, "vm_flags_set=%d kunit_device_register=%d import_ns_string=%d\n",
		   vm_flags, kunit_dev, ns_string);
	kunit_info(test, "no pfn_t=%d dma_buf_invalidate_mappings=%d\n", no_pfn_t, invalidate);
	if (kunit_dev)
		KUNIT_EXPECT_TRUE(test, vm_flags);
	if (ns_string)
		KUNIT_EXPECT_TRUE(test, kunit_dev);
	if (no_pfn_t)
		KUNIT_EXPECT_TRUE(test, ns_string);
	if (invalidate)
		KUNIT_EXPECT_TRUE(test, no_pfn_t);
}

static void debug_config(struct kunit *test)
{
	KUNIT_EXPECT_TRUE_MSG(test, IS_ENABLED(CONFIG_DEBUG_KERNEL), "DEBUG_KERNEL is off");
	KUNIT_EXPECT_TRUE_MSG(test, IS_ENABLED(CONFIG_PROVE_LOCKING), "PROVE_LOCKING is off");
	KUNIT_EXPECT_TRUE_MSG(test, IS_ENABLED(CONFIG_KASAN), "KASAN is off");
}

/* Lockdep is on and still tracking: no earlier report switched it off. */
static void lockdep_active(struct kunit *test)
{
#ifdef CONFIG_LOCKDEP
	struct mutex lock;	/* protects nothing: only its lockdep state is tested */

	KUNIT_EXPECT_TRUE_MSG(test, debug_locks,
			      "lockdep is off: an earlier lock report disabled it");
	mutex_init(&lock);
	KUNIT_EXPECT_FALSE(test, lockdep_is_held(&lock));
	mutex_lock(&lock);
	KUNIT_EXPECT_TRUE(test, lockdep_is_held(&lock));
	mutex_unlock(&lock);
	KUNIT_EXPECT_FALSE(test, lockdep_is_held(&lock));
	mutex_destroy(&lock);
#else
	KUNIT_FAIL(test, "CONFIG_LOCKDEP is off");
#endif
}

static void deliberate_failure(struct kunit *test)
{
	KUNIT_EXPECT_FALSE_MSG(test, fail,
			       "cchost_harness_kunit.fail=1: failing on purpose");
}

/* No expectation fails here: only the kernel report can fail the case. */
static void deliberate_warning(struct kunit *test)
{
	WARN(warn, "cchost_harness_kunit.warn=1: warning on purpose\n");
}

static struct kunit_case cchost_harness_cases[] = {
	KUNIT_CASE(compat_import_ns),
	KUNIT_CASE(compat_flags),
	KUNIT_CASE(debug_config),
	KUNIT_CASE(lockdep_active),
	KUNIT_CASE(deliberate_failure),
	KUNIT_CASE(deliberate_warning),
	{}
};

static struct kunit_suite cchost_harness_suite = {
	.name = "cchost_harness",
	.test_cases = cchost_harness_cases,
};

kunit_test_suite(cchost_harness_suite);

MODULE_DESCRIPTION("KUnit self-test of the cchost test setup");
MODULE_LICENSE("GPL");

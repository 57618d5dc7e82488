// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suite gmem_pfnpool_invalidate: the two-phase invalidation engine
 * with fake users. Checks the order of callbacks (nothing committed before
 * all prepared, aborts in reverse), a veto at every position, a fatal signal
 * of the converting task during the prepare phase, pins, lookups
 * and pins blocked while a conversion is in flight, overlapping conversions
 * serialised, hole punching returning zeroed memory, and lock-free
 * attribute reads racing conversions.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/sched/signal.h>
#include <linux/vmalloc.h>

#include "../modules/gmem_pfnpool/internal.h"

MODULE_IMPORT_NS("EXPORTED_FOR_KUNIT_TESTING");

#define NUSERS		4
#define FILE_PAGES	1024
#define FAKE_BASE	0x80000000ULL
#define POOL_SIZE	(8 * SZ_1M)

enum ev_kind { EV_PREPARE, EV_COMMIT, EV_ABORT };

struct inv_ctx;

struct fake_user {
	struct gmem_pfnpool_user user;
	struct inv_ctx *ctx;
	unsigned int idx;
	int veto;			/* returned by prepare */
	bool lookup_in_prepare;		/* try a lookup and a pin in prepare */
	bool lookup_in_commit;		/* look page 0 up in commit */
	bool slow;			/* sleep in prepare */
	bool rendezvous;		/* see inv_disjoint_parallel() */
	bool fatal_signal;		/* a fatal signal arrives in prepare */
	char name[16];
};

struct inv_ctx {
	struct kunit *test;
	struct gmem_pfnpool_pool pool;
	void *buf;
	struct gmem_pfnpool_file gf;
	struct fake_user users[NUSERS];
	struct {
		unsigned int user;
		enum ev_kind kind;
		enum gmem_pfnpool_event event;
	} log[64];
	unsigned int nlog;
	int lookup_inside, lookup_outside, pin_inside;
	int commit_lookup_ret;
	unsigned int commit_lookup_order;
	unsigned long commit_lookup_seq;
	atomic_t active, max_active;
	struct completion first_in_prepare, second_prepared;
	bool first_waited;	/* the first prepare saw the second one */
	spinlock_t log_lock;	/* protects log and nlog */
};

static void log_event(struct fake_user *fu, enum ev_kind kind,
		      const struct gmem_pfnpool_range *range)
{
	struct inv_ctx *ctx = fu->ctx;

	spin_lock(&ctx->log_lock);
	if (ctx->nlog < ARRAY_SIZE(ctx->log)) {
		ctx->log[ctx->nlog].user = fu->idx;
		ctx->log[ctx->nlog].kind = kind;
		ctx->log[ctx->nlog].event = range->event;
		ctx->nlog++;
	}
	spin_unlock(&ctx->log_lock);
}

/*
 * Make a fatal signal pending on the current task, as SIGKILL does for a
 * user task (the test runs in a kthread, which ignores sent signals).
 */
static void raise_fatal_signal(void)
{
	spin_lock_irq(&current->sighand->siglock);
	sigaddset(&current->pending.signal, SIGKILL);
	set_tsk_thread_flag(current, TIF_SIGPENDING);
	spin_unlock_irq(&current->sighand->siglock);
}

static int fake_prepare(struct gmem_pfnpool_user *user,
			const struct gmem_pfnpool_range *range)
{
	struct fake_user *fu = container_of(user, struct fake_user, user);
	struct inv_ctx *ctx = fu->ctx;

	log_event(fu, EV_PREPARE, range);
	if (fu->fatal_signal)
		raise_fatal_signal();
	if (fu->lookup_in_prepare) {
		unsigned long pfn, seq;
		unsigned int order;
		u32 attr;

		ctx->lookup_inside = gmem_pfnpool_lookup(&ctx->gf, range->start,
							 &pfn, &attr, &order,
							 &seq);
		ctx->lookup_outside = gmem_pfnpool_lookup(&ctx->gf, range->end,
							  &pfn, &attr, &order,
							  &seq);
		ctx->pin_inside = gmem_pfnpool_pin(&ctx->gf, user, range->start,
						   1);
	}
	if (fu->rendezvous) {
		if (range->start == 0) {
			/* The first conversion waits inside its prepare... */
			complete(&ctx->first_in_prepare);
			ctx->first_waited =
				wait_for_completion_timeout(&ctx->second_prepared,
							    5 * HZ) != 0;
		} else {
			/* ...until the second one's prepare runs. */
			complete(&ctx->second_prepared);
		}
	}
	if (fu->slow) {
		int n = atomic_inc_return(&ctx->active);

		if (n > atomic_read(&ctx->max_active))
			atomic_set(&ctx->max_active, n);
		msleep(20);
		atomic_dec(&ctx->active);
	}
	return fu->veto;
}

static void fake_commit(struct gmem_pfnpool_user *user,
			const struct gmem_pfnpool_range *range)
{
	struct fake_user *fu = container_of(user, struct fake_user, user);

	lockdep_assert_held_write(&fu->ctx->gf.map_lock);
	log_event(fu, EV_COMMIT, range);
	if (fu->lookup_in_commit) {
		struct inv_ctx *ctx = fu->ctx;
		unsigned long pfn;
		u32 attr;

		/* Outside the range, inside its 2 MiB block. */
		ctx->commit_lookup_ret =
			gmem_pfnpool_lookup(&ctx->gf, 0, &pfn, &attr,
					    &ctx->commit_lookup_order,
					    &ctx->commit_lookup_seq);
	}
}

static void fake_abort(struct gmem_pfnpool_user *user,
		       const struct gmem_pfnpool_range *range)
{
	log_event(container_of(user, struct fake_user, user), EV_ABORT, range);
}

static const struct gmem_pfnpool_user_ops fake_ops = {
	.prepare = fake_prepare,
	.commit = fake_commit,
	.abort = fake_abort,
};

static int inv_test_init(struct kunit *test)
{
	struct inv_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->test = test;
	spin_lock_init(&ctx->log_lock);
	init_completion(&ctx->first_in_prepare);
	init_completion(&ctx->second_prepared);
	ctx->buf = vzalloc(POOL_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, ctx->buf);
	KUNIT_ASSERT_EQ(test, gmem_pfnpool_pool_init(&ctx->pool), 0);
	KUNIT_ASSERT_EQ(test, gmem_pfnpool_pool_add(&ctx->pool, FAKE_BASE,
						    ctx->buf, POOL_SIZE), 0);
	KUNIT_ASSERT_EQ(test, gmem_pfnpool_file_init(&ctx->gf, &ctx->pool,
						     FILE_PAGES,
						     GMEM_PFNPOOL_ATTR_SHARED),
			0);
	for (i = 0; i < NUSERS; i++) {
		struct fake_user *fu = &ctx->users[i];

		fu->ctx = ctx;
		fu->idx = i;
		snprintf(fu->name, sizeof(fu->name), "fake%u", i);
		fu->user.name = fu->name;
		fu->user.ops = &fake_ops;
		KUNIT_ASSERT_EQ(test,
				gmem_pfnpool_register_user(&ctx->gf, &fu->user),
				0);
	}
	test->priv = ctx;
	return 0;
}

static void inv_test_exit(struct kunit *test)
{
	struct inv_ctx *ctx = test->priv;
	unsigned int i;

	for (i = 0; i < NUSERS; i++)
		gmem_pfnpool_unregister_user(&ctx->gf, &ctx->users[i].user);
	gmem_pfnpool_file_destroy(&ctx->gf);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pool_used_bytes(&ctx->pool), 0);
	gmem_pfnpool_pool_destroy(&ctx->pool);
	vfree(ctx->buf);
}

static unsigned int count_kind(struct inv_ctx *ctx, enum ev_kind kind)
{
	unsigned int i, n = 0;

	for (i = 0; i < ctx->nlog; i++)
		n += ctx->log[i].kind == kind;
	return n;
}

static void inv_all_agree(struct kunit *test)
{
	struct inv_ctx *ctx = test->priv;
	struct gmem_pfnpool_veto veto = {};
	unsigned int i;

	KUNIT_ASSERT_EQ(test, gmem_pfnpool_convert(&ctx->gf, 16, 32,
						   GMEM_PFNPOOL_ATTR_PRIVATE,
						   &veto), 0);
	KUNIT_ASSERT_EQ(test, ctx->nlog, 2 * NUSERS);
	/* Every prepare, in registration order, before any commit. */
	for (i = 0; i < NUSERS; i++) {
		KUNIT_EXPECT_EQ(test, ctx->log[i].kind, EV_PREPARE);
		KUNIT_EXPECT_EQ(test, ctx->log[i].user, i);
		KUNIT_EXPECT_EQ(test, ctx->log[i].event,
				GMEM_PFNPOOL_EVENT_TO_PRIVATE);
		KUNIT_EXPECT_EQ(test, ctx->log[NUSERS + i].kind, EV_COMMIT);
		KUNIT_EXPECT_EQ(test, ctx->log[NUSERS + i].user, i);
	}
	KUNIT_EXPECT_TRUE(test, gmem_pfnpool_attrs_all(&ctx->gf.attrs, 16, 32,
						       GMEM_PFNPOOL_ATTR_PRIVATE));
	KUNIT_EXPECT_TRUE(test, gmem_pfnpool_attrs_all(&ctx->gf.attrs, 0, 16,
						       GMEM_PFNPOOL_ATTR_SHARED));
	KUNIT_EXPECT_EQ(test, atomic64_read(&ctx->gf.stats.conversions), 1);
}

static const unsigned int veto_positions[] = { 0, 1, 2, 3 };

static void veto_desc(const unsigned int *pos, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "veto by user %u of %u", *pos,
		 NUSERS);
}

KUNIT_ARRAY_PARAM(veto, veto_positions, veto_desc);

static void inv_veto_at_every_position(struct kunit *test)
{
	struct inv_ctx *ctx = test->priv;
	unsigned int pos = *(const unsigned int *)test->param_value;
	struct gmem_pfnpool_veto veto = {};
	unsigned int i;

	ctx->users[pos].veto = -EBUSY;
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_convert(&ctx->gf, 8, 24,
						   GMEM_PFNPOOL_ATTR_PRIVATE,
						   &veto), -EBUSY);
	KUNIT_EXPECT_STREQ(test, veto.name, ctx->users[pos].name);
	KUNIT_EXPECT_EQ(test, veto.index, 8);

	/* prepare 0..pos, then abort pos-1..0: reverse order, no commit. */
	KUNIT_ASSERT_EQ(test, ctx->nlog, 2 * pos + 1);
	for (i = 0; i <= pos; i++) {
		KUNIT_EXPECT_EQ(test, ctx->log[i].kind, EV_PREPARE);
		KUNIT_EXPECT_EQ(test, ctx->log[i].user, i);
	}
	for (i = 0; i < pos; i++) {
		KUNIT_EXPECT_EQ(test, ctx->log[pos + 1 + i].kind, EV_ABORT);
		KUNIT_EXPECT_EQ(test, ctx->log[pos + 1 + i].user, pos - 1 - i);
	}
	KUNIT_EXPECT_EQ(test, count_kind(ctx, EV_COMMIT), 0);
	/* Nothing changed. */
	KUNIT_EXPECT_TRUE(test, gmem_pfnpool_attrs_all(&ctx->gf.attrs, 0,
						       FILE_PAGES,
						       GMEM_PFNPOOL_ATTR_SHARED));
	KUNIT_EXPECT_EQ(test, atomic64_read(&ctx->gf.stats.vetoes), 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&ctx->gf.stats.conversions), 0);

	/* The range is not left blocked: a retry without veto succeeds. */
	ctx->users[pos].veto = 0;
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_convert(&ctx->gf, 8, 24,
						   GMEM_PFNPOOL_ATTR_PRIVATE,
						   &veto), 0);
}

/* The name of a refusing user outlives the user (it unregisters at once). */
static void inv_veto_name_outlives_user(struct kunit *test)
{
	struct inv_ctx *ctx = test->priv;
	struct gmem_pfnpool_veto veto = {};
	struct fake_user *fu;
	char *name;

	fu = kunit_kzalloc(test, sizeof(*fu), GFP_KERNEL);
	name = kstrdup("short-lived", GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fu);
	KUNIT_ASSERT_NOT_NULL(test, name);
	fu->ctx = ctx;
	fu->idx = NUSERS;
	fu->veto = -EBUSY;
	fu->user.name = name;
	fu->user.ops = &fake_ops;
	KUNIT_ASSERT_EQ(test, gmem_pfnpool_register_user(&ctx->gf, &fu->user),
			0);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_convert(&ctx->gf, 0, 8,
						   GMEM_PFNPOOL_ATTR_PRIVATE,
						   &veto), -EBUSY);
	gmem_pfnpool_unregister_user(&ctx->gf, &fu->user);
	memset(name, 'x', strlen(name));
	kfree(name);
	KUNIT_EXPECT_STREQ(test, veto.name, "short-lived");
}

static const unsigned int signal_positions[] = { 0, 1, NUSERS - 1 };

static void signal_desc(const unsigned int *pos, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE,
		 "fatal signal in the prepare of user %u of %u", *pos, NUSERS);
}

KUNIT_ARRAY_PARAM(signal, signal_positions, signal_desc);

/*
 * A fatal signal of the converting task that arrives while a user
 * prepares: no further user is asked, every user that prepared (the one
 * that saw the signal included) is aborted in reverse, nothing commits,
 * nothing changes, and the conversion returns -EINTR without being counted
 * as a veto.
 */
static void inv_fatal_signal_aborts(struct kunit *test)
{
	struct inv_ctx *ctx = test->priv;
	unsigned int pos = *(const unsigned int *)test->param_value;
	struct gmem_pfnpool_veto veto = {};
	unsigned int i;
	int ret;

	ctx->users[pos].fatal_signal = true;
	ret = gmem_pfnpool_convert(&ctx->gf, 8, 24, GMEM_PFNPOOL_ATTR_PRIVATE,
				   &veto);
	KUNIT_EXPECT_TRUE(test, fatal_signal_pending(current));
	flush_signals(current);
	KUNIT_EXPECT_EQ(test, ret, -EINTR);

	/* prepare 0..pos, then abort pos..0. */
	KUNIT_ASSERT_EQ(test, ctx->nlog, 2 * (pos + 1));
	for (i = 0; i <= pos; i++) {
		KUNIT_EXPECT_EQ(test, ctx->log[i].kind, EV_PREPARE);
		KUNIT_EXPECT_EQ(test, ctx->log[i].user, i);
		KUNIT_EXPECT_EQ(test, ctx->log[pos + 1 + i].kind, EV_ABORT);
		KUNIT_EXPECT_EQ(test, ctx->log[pos + 1 + i].user, pos - i);
	}
	KUNIT_EXPECT_EQ(test, count_kind(ctx, EV_COMMIT), 0);
	KUNIT_EXPECT_TRUE(test, gmem_pfnpool_attrs_all(&ctx->gf.attrs, 0,
						       FILE_PAGES,
						       GMEM_PFNPOOL_ATTR_SHARED));
	KUNIT_EXPECT_EQ(test, atomic64_read(&ctx->gf.stats.vetoes), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&ctx->gf.stats.conversions), 0);

	/* The range is not left blocked. */
	ctx->users[pos].fatal_signal = false;
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_convert(&ctx->gf, 8, 24,
						   GMEM_PFNPOOL_ATTR_PRIVATE,
						   &veto), 0);
	KUNIT_EXPECT_TRUE(test, gmem_pfnpool_attrs_all(&ctx->gf.attrs, 8, 24,
						       GMEM_PFNPOOL_ATTR_PRIVATE));
}

/* A positive return from prepare is a refusal, never a success. */
static void inv_positive_prepare_refuses(struct kunit *test)
{
	struct inv_ctx *ctx = test->priv;
	struct gmem_pfnpool_veto veto = {};

	ctx->users[2].veto = 1;
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_convert(&ctx->gf, 0, 8,
						   GMEM_PFNPOOL_ATTR_PRIVATE,
						   &veto), -EBUSY);
	KUNIT_EXPECT_STREQ(test, veto.name, "fake2");
	KUNIT_EXPECT_TRUE(test, gmem_pfnpool_attrs_all(&ctx->gf.attrs, 0,
						       FILE_PAGES,
						       GMEM_PFNPOOL_ATTR_SHARED));
	KUNIT_EXPECT_EQ(test, count_kind(ctx, EV_COMMIT), 0);
}

static void inv_noop_calls_nobody(struct kunit *test)
{
	struct inv_ctx *ctx = test->priv;
	struct gmem_pfnpool_veto veto = {};

	KUNIT_EXPECT_EQ(test, gmem_pfnpool_convert(&ctx->gf, 0, FILE_PAGES,
						   GMEM_PFNPOOL_ATTR_SHARED,
						   &veto), 0);
	KUNIT_EXPECT_EQ(test, ctx->nlog, 0);
}

static void inv_lookups_blocked(struct kunit *test)
{
	struct inv_ctx *ctx = test->priv;
	struct gmem_pfnpool_veto veto = {};
	unsigned long pfn, seq;
	unsigned int order;
	u32 attr;

	ctx->users[1].lookup_in_prepare = true;
	KUNIT_ASSERT_EQ(test, gmem_pfnpool_convert(&ctx->gf, 0, 512,
						   GMEM_PFNPOOL_ATTR_PRIVATE,
						   &veto), 0);
	KUNIT_EXPECT_EQ(test, ctx->lookup_inside, -EAGAIN);
	KUNIT_EXPECT_EQ(test, ctx->lookup_outside, 0);
	KUNIT_EXPECT_EQ(test, ctx->pin_inside, -EAGAIN);

	/* Stable again: lookups work and see the new attribute. */
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_lookup(&ctx->gf, 3, &pfn, &attr,
						  &order, &seq), 0);
	KUNIT_EXPECT_EQ(test, attr, GMEM_PFNPOOL_ATTR_PRIVATE);
	KUNIT_EXPECT_EQ(test, order, GMEM_PFNPOOL_ORDER_PMD);
	KUNIT_EXPECT_TRUE(test, IS_ALIGNED(PFN_PHYS(pfn) - 3 * PAGE_SIZE,
					   SZ_2M));
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_lookup(&ctx->gf, FILE_PAGES, &pfn,
						  &attr, &order, &seq), -EINVAL);
}

/*
 * Between the users' commit and the apply step, a lookup of a page next to
 * the range must not hand out a mapping order whose block covers the range,
 * and must be told to retry; so must a lookup made before the conversion.
 */
static void inv_lookup_in_commit_window(struct kunit *test)
{
	struct inv_ctx *ctx = test->priv;
	struct gmem_pfnpool_veto veto = {};
	unsigned long pfn, seq, seq_before;
	unsigned int order;
	u32 attr;

	KUNIT_ASSERT_EQ(test, gmem_pfnpool_extent_allocate(&ctx->gf, 0, 512),
			0);
	KUNIT_ASSERT_EQ(test, gmem_pfnpool_lookup(&ctx->gf, 0, &pfn, &attr,
						  &order, &seq_before), 0);
	KUNIT_EXPECT_EQ(test, order, GMEM_PFNPOOL_ORDER_PMD);
	KUNIT_EXPECT_FALSE(test, gmem_pfnpool_lookup_retry(&ctx->gf,
							   seq_before));

	ctx->users[NUSERS - 1].lookup_in_commit = true;
	KUNIT_ASSERT_EQ(test, gmem_pfnpool_convert(&ctx->gf, 16, 32,
						   GMEM_PFNPOOL_ATTR_PRIVATE,
						   &veto), 0);
	KUNIT_EXPECT_EQ(test, ctx->commit_lookup_ret, 0);
	KUNIT_EXPECT_EQ(test, ctx->commit_lookup_order, 0);
	KUNIT_EXPECT_TRUE(test, gmem_pfnpool_lookup_retry(&ctx->gf,
							  ctx->commit_lookup_seq));
	KUNIT_EXPECT_TRUE(test, gmem_pfnpool_lookup_retry(&ctx->gf,
							  seq_before));

	/* Afterwards the block is split by the attribute: order 0 too. */
	KUNIT_ASSERT_EQ(test, gmem_pfnpool_lookup(&ctx->gf, 0, &pfn, &attr,
						  &order, &seq), 0);
	KUNIT_EXPECT_EQ(test, order, 0);
	KUNIT_EXPECT_FALSE(test, gmem_pfnpool_lookup_retry(&ctx->gf, seq));
}

static void inv_pins(struct kunit *test)
{
	struct inv_ctx *ctx = test->priv;
	struct gmem_pfnpool_veto veto = {};
	struct gmem_pfnpool_user *u2 = &ctx->users[2].user;

	KUNIT_ASSERT_EQ(test, gmem_pfnpool_pin(&ctx->gf, u2, 40, 2), 0);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pin(&ctx->gf, u2, FILE_PAGES - 1,
					       2), -EINVAL);

	/* A pin refuses in its holder's name, without calling it. */
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_convert(&ctx->gf, 32, 64,
						   GMEM_PFNPOOL_ATTR_PRIVATE,
						   &veto), -EBUSY);
	KUNIT_EXPECT_STREQ(test, veto.name, "fake2");
	KUNIT_EXPECT_EQ(test, veto.index, 40);
	KUNIT_ASSERT_EQ(test, ctx->nlog, 4);
	KUNIT_EXPECT_EQ(test, ctx->log[1].user, 1);
	KUNIT_EXPECT_EQ(test, ctx->log[2].kind, EV_ABORT);
	KUNIT_EXPECT_EQ(test, ctx->log[2].user, 1);
	KUNIT_EXPECT_EQ(test, ctx->log[3].user, 0);

	/* Punching a pinned range is refused too. */
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_punch(&ctx->gf, 41, 42, &veto),
			-EBUSY);

	/* Disjoint ranges are not affected by the pin. */
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_convert(&ctx->gf, 64, 96,
						   GMEM_PFNPOOL_ATTR_PRIVATE,
						   &veto), 0);

	KUNIT_EXPECT_EQ(test, gmem_pfnpool_unpin(&ctx->gf, u2, 40, 1), -ENOENT);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_unpin(&ctx->gf, u2, 40, 2), 0);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_convert(&ctx->gf, 32, 64,
						   GMEM_PFNPOOL_ATTR_PRIVATE,
						   &veto), 0);
}

static void inv_punch_zeroes(struct kunit *test)
{
	struct inv_ctx *ctx = test->priv;
	struct gmem_pfnpool_veto veto = {};
	pgoff_t first, last;
	unsigned long pfn;
	u8 *kva;

	KUNIT_ASSERT_EQ(test, gmem_pfnpool_extent_allocate(&ctx->gf, 0, 512),
			0);
	KUNIT_EXPECT_EQ(test, ctx->gf.allocated, 512);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pool_used_bytes(&ctx->pool), SZ_2M);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_extent_count(&ctx->gf), 1);

	mutex_lock(&ctx->gf.lock);
	pfn = __gmem_pfnpool_extent_lookup(&ctx->gf, 8, &first, &last);
	mutex_unlock(&ctx->gf.lock);
	kva = gmem_pfnpool_pool_kva(&ctx->pool, PFN_PHYS(pfn));
	KUNIT_ASSERT_NOT_NULL(test, kva);
	memset(kva, 0xee, 8 * PAGE_SIZE);

	KUNIT_ASSERT_EQ(test, gmem_pfnpool_punch(&ctx->gf, 8, 16, &veto), 0);
	KUNIT_EXPECT_EQ(test, ctx->log[0].event, GMEM_PFNPOOL_EVENT_PUNCH);
	KUNIT_EXPECT_EQ(test, count_kind(ctx, EV_COMMIT), NUSERS);
	KUNIT_EXPECT_EQ(test, ctx->gf.allocated, 504);
	/* The extent was split around the hole. */
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_extent_count(&ctx->gf), 2);
	KUNIT_EXPECT_TRUE(test, !memchr_inv(kva, 0, 8 * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pool_free_bytes(&ctx->pool) +
			gmem_pfnpool_pool_used_bytes(&ctx->pool),
			ctx->pool.total);

	mutex_lock(&ctx->gf.lock);
	KUNIT_EXPECT_EQ(test, __gmem_pfnpool_extent_lookup(&ctx->gf, 8, &first,
							   &last), 0);
	KUNIT_EXPECT_EQ(test, __gmem_pfnpool_extent_lookup(&ctx->gf, 16,
							   &first, &last),
			pfn + 8);
	KUNIT_EXPECT_EQ(test, first, 16);
	/* Refilling the hole takes 4 KiB blocks (the 2 MiB block is split). */
	KUNIT_EXPECT_EQ(test, __gmem_pfnpool_extent_ensure(&ctx->gf, 9), 0);
	mutex_unlock(&ctx->gf.lock);
	KUNIT_EXPECT_EQ(test, ctx->gf.allocated, 505);
}

/*
 * Memory taken out of a file stays the pool's "used" memory, never handed
 * out again, until it is zeroed; the zeroing runs after the taker dropped
 * gf->lock (faults and conversions do not wait for it).
 */
static void inv_free_zeroes_after_unlock(struct kunit *test)
{
	struct inv_ctx *ctx = test->priv;
	pgoff_t first, last;
	unsigned long pfn;
	u8 *kva;

	KUNIT_ASSERT_EQ(test, gmem_pfnpool_extent_allocate(&ctx->gf, 0, 512),
			0);
	mutex_lock(&ctx->gf.lock);
	pfn = __gmem_pfnpool_extent_lookup(&ctx->gf, 0, &first, &last);
	kva = gmem_pfnpool_pool_kva(&ctx->pool, PFN_PHYS(pfn));
	KUNIT_ASSERT_NOT_NULL(test, kva);
	memset(kva, 0xee, SZ_2M);
	__gmem_pfnpool_extent_free(&ctx->gf, 0, 512);
	KUNIT_EXPECT_EQ(test, ctx->gf.allocated, 0);
	KUNIT_EXPECT_EQ(test, __gmem_pfnpool_extent_lookup(&ctx->gf, 0, &first,
							   &last), 0);
	mutex_unlock(&ctx->gf.lock);
	/* Out of the file, not yet zeroed: still used, not allocatable. */
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pool_used_bytes(&ctx->pool), SZ_2M);
	KUNIT_EXPECT_EQ(test, kva[SZ_2M - 1], 0xee);

	gmem_pfnpool_extent_release(&ctx->gf);
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_pool_used_bytes(&ctx->pool), 0);
	KUNIT_EXPECT_TRUE(test, !memchr_inv(kva, 0, SZ_2M));
	KUNIT_EXPECT_TRUE(test, list_empty(&ctx->gf.freed));
}

struct conv_thread {
	struct inv_ctx *ctx;
	pgoff_t start, end;
	struct completion *after;	/* wait for it before converting */
	int ret;
	struct completion done;
};

static int conv_thread_fn(void *data)
{
	struct conv_thread *t = data;
	struct gmem_pfnpool_veto veto = {};

	if (t->after && !wait_for_completion_timeout(t->after, 5 * HZ)) {
		t->ret = -ETIMEDOUT;
		complete(&t->done);
		return 0;
	}

	t->ret = gmem_pfnpool_convert(&t->ctx->gf, t->start, t->end,
				      GMEM_PFNPOOL_ATTR_PRIVATE, &veto);
	complete(&t->done);
	return 0;
}

/* Run two conversions at once behind a slow user; both must succeed. */
static void run_two_conversions(struct kunit *test, struct conv_thread t[2])
{
	struct task_struct *task;
	int i;

	t[0].ctx->users[0].slow = true;
	for (i = 0; i < 2; i++) {
		init_completion(&t[i].done);
		task = kthread_run(conv_thread_fn, &t[i], "gmem_conv%d", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	}
	for (i = 0; i < 2; i++)
		wait_for_completion(&t[i].done);
	KUNIT_EXPECT_EQ(test, t[0].ret, 0);
	KUNIT_EXPECT_EQ(test, t[1].ret, 0);
}

static void inv_overlapping_serialised(struct kunit *test)
{
	struct inv_ctx *ctx = test->priv;
	struct conv_thread t[2] = {
		{ .ctx = ctx, .start = 0, .end = 64 },
		{ .ctx = ctx, .start = 32, .end = 96 },
	};

	run_two_conversions(test, t);
	/* Never two overlapping conversions in prepare at once. */
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->max_active), 1);
	KUNIT_EXPECT_TRUE(test, gmem_pfnpool_attrs_all(&ctx->gf.attrs, 0, 96,
						       GMEM_PFNPOOL_ATTR_PRIVATE));
}

static void inv_disjoint_parallel(struct kunit *test)
{
	struct inv_ctx *ctx = test->priv;
	struct conv_thread t[2] = {
		{ .ctx = ctx, .start = 0, .end = 64 },
		{ .ctx = ctx, .start = 512, .end = 576 },
	};

	/*
	 * The second conversion starts only once the first is inside user
	 * 0's prepare, and that prepare returns only when user 0's prepare
	 * of the second conversion ran (or after 5 s). So both were in
	 * flight at once, unless disjoint conversions are serialised.
	 */
	ctx->users[0].rendezvous = true;
	t[1].after = &ctx->first_in_prepare;
	run_two_conversions(test, t);
	KUNIT_EXPECT_TRUE_MSG(test, ctx->first_waited,
			      "the second conversion's prepare did not run while the first was in prepare");
	kunit_info(test, "disjoint conversions in prepare at once: %d\n",
		   atomic_read(&ctx->max_active));
	KUNIT_EXPECT_EQ(test, gmem_pfnpool_attrs_count(&ctx->gf.attrs), 4);
	KUNIT_EXPECT_TRUE(test, gmem_pfnpool_attrs_all(&ctx->gf.attrs, 0, 64,
						       GMEM_PFNPOOL_ATTR_PRIVATE));
	KUNIT_EXPECT_TRUE(test, gmem_pfnpool_attrs_all(&ctx->gf.attrs, 512, 576,
						       GMEM_PFNPOOL_ATTR_PRIVATE));
}

/*
 * GET_ATTR walks the attribute tree without gf->lock while conversions of
 * other ranges rewrite it. Two writers flip pages of disjoint regions, each
 * to the attribute it does not have yet, and check after every conversion
 * that it took effect (a torn read in the no-op check would turn it into a
 * silent success); the test thread walks the tree meanwhile, as GET_ATTR
 * does. Freed maple nodes read by the walker are reported by KASAN.
 */
#define RACE_ROUNDS	1500

struct race_writer {
	struct inv_ctx *ctx;
	pgoff_t base;
	unsigned int lost;
	int err;
	struct completion done;
};

static int race_writer_fn(void *data)
{
	struct race_writer *w = data;
	struct gmem_pfnpool_file *gf = &w->ctx->gf;
	struct gmem_pfnpool_veto veto = {};
	unsigned int i;

	for (i = 0; i < RACE_ROUNDS && !w->err; i++) {
		pgoff_t p = w->base + (i * 7) % 61;
		u32 attr = gmem_pfnpool_attrs_get(&gf->attrs, p, NULL, NULL) ==
			   GMEM_PFNPOOL_ATTR_SHARED ?
			   GMEM_PFNPOOL_ATTR_PRIVATE : GMEM_PFNPOOL_ATTR_SHARED;

		w->err = gmem_pfnpool_convert(gf, p, p + 1, attr, &veto);
		if (!w->err &&
		    !gmem_pfnpool_attrs_all(&gf->attrs, p, p + 1, attr))
			w->lost++;
	}
	complete(&w->done);
	return 0;
}

static void inv_get_attr_races_conversions(struct kunit *test)
{
	struct inv_ctx *ctx = test->priv;
	struct race_writer w[2] = {
		{ .ctx = ctx, .base = 0 },
		{ .ctx = ctx, .base = 512 },
	};
	unsigned long reads = 0, bad = 0;
	pgoff_t first, last, index;
	struct task_struct *task;
	unsigned int i;
	u32 attr;

	/* Readers that hold no lock need a tree that frees nodes by RCU. */
	KUNIT_EXPECT_TRUE(test, mt_in_rcu(&ctx->gf.attrs.mt));
	KUNIT_EXPECT_TRUE(test, mt_in_rcu(&ctx->gf.extents));

	for (i = 0; i < 2; i++) {
		init_completion(&w[i].done);
		task = kthread_run(race_writer_fn, &w[i], "gmem_race%u", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	}
	while (!completion_done(&w[0].done) || !completion_done(&w[1].done)) {
		index = (reads * 13) % FILE_PAGES;
		attr = gmem_pfnpool_attrs_get(&ctx->gf.attrs, index, &first,
					      &last);
		if ((attr != GMEM_PFNPOOL_ATTR_SHARED &&
		     attr != GMEM_PFNPOOL_ATTR_PRIVATE) ||
		    first > index || last < index || last >= FILE_PAGES)
			bad++;
		reads++;
	}
	kunit_info(test, "%lu lock-free reads during %u conversions\n",
		   reads, 2 * RACE_ROUNDS);
	KUNIT_EXPECT_EQ(test, bad, 0);
	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_EQ(test, w[i].err, 0);
		KUNIT_EXPECT_EQ(test, w[i].lost, 0);
	}
}

static struct kunit_case gmem_pfnpool_invalidate_cases[] = {
	KUNIT_CASE(inv_all_agree),
	KUNIT_CASE_PARAM(inv_veto_at_every_position, veto_gen_params),
	KUNIT_CASE(inv_veto_name_outlives_user),
	KUNIT_CASE_PARAM(inv_fatal_signal_aborts, signal_gen_params),
	KUNIT_CASE(inv_positive_prepare_refuses),
	KUNIT_CASE(inv_noop_calls_nobody),
	KUNIT_CASE(inv_lookups_blocked),
	KUNIT_CASE(inv_lookup_in_commit_window),
	KUNIT_CASE(inv_pins),
	KUNIT_CASE(inv_punch_zeroes),
	KUNIT_CASE(inv_free_zeroes_after_unlock),
	KUNIT_CASE_SLOW(inv_overlapping_serialised),
	KUNIT_CASE_SLOW(inv_disjoint_parallel),
	KUNIT_CASE_SLOW(inv_get_attr_races_conversions),
	{}
};

static struct kunit_suite gmem_pfnpool_invalidate_suite = {
	.name = "gmem_pfnpool_invalidate",
	.init = inv_test_init,
	.exit = inv_test_exit,
	.test_cases = gmem_pfnpool_invalidate_cases,
};

kunit_test_suite(gmem_pfnpool_invalidate_suite);

MODULE_DESCRIPTION("KUnit tests of the gmem_pfnpool two-phase invalidation");
MODULE_LICENSE("GPL");

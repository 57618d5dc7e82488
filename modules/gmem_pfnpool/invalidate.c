// SPDX-License-Identifier: GPL-2.0-only
/*
 * Two-phase invalidation: the one path by which a range of a gmem file
 * changes (conversion to shared or private, hole punch).
 *
 * Every party that may hold a translation of the file's PFNs is a registered
 * struct gmem_pfnpool_user (users.c): the userspace mappings of the file
 * (mmap.c), each DMA-BUF export (dmabuf.c) and in-kernel users
 * (include/linux/gmem_pfnpool.h). None of them is special-cased here, so a
 * refused conversion tears nothing down: no user has changed anything
 * before all of them agreed.
 *
 * State of a range, and who moves it:
 *
 *   STABLE --range lock--> BLOCKED --all prepare() == 0--> COMMITTING
 *     ^                      |                                 |
 *     |       one prepare() != 0: abort() in reverse           |
 *     +----------------------+      commit() each, apply, -----+
 *                                   range unlock
 *
 *   STABLE:     faults map the range, lookups and pins succeed.
 *   BLOCKED:    the range is in gf->inflight; new faults on it wait (they
 *               sleep until it leaves gf->inflight, without mmap_lock where
 *               the fault can be retried, then retry), lookups and pins
 *               fail with -EAGAIN. Users are asked to prepare, in
 *               registration order. A user holding a pin on the range refuses
 *               on its behalf without being called.
 *   COMMITTING: gf->map_lock held for write: no fault is between its checks
 *               and its page-table update (a DMA-BUF map is excluded by the
 *               reservation lock its export's commit takes). The lookup
 *               sequence gf->invalidate_seq turns odd, then every user
 *               commits (zap PTEs, revoke importers, drop mappings), then
 *               the attribute flips or the extents are freed and the
 *               sequence turns even again.
 *
 * In-kernel users install what gmem_pfnpool_lookup() returned the way
 * mmu_interval_notifier users do: the lookup hands out the sequence, the
 * user rechecks it with gmem_pfnpool_lookup_retry() under its own lock,
 * and its commit callback takes that same lock:
 *
 *   user                              convert
 *   ----                              -------
 *   seq = lookup(index)               prepare() each user
 *                                     seq++ (odd)
 *   lock(own)                         commit(user): lock(own); drop
 *   retry(seq)? -> yes: unlock, again       mappings; unlock(own)
 *   no: install; unlock(own)          apply; seq++ (even)
 *
 * Either the user installed before its commit callback ran (and the commit
 * drops it), or it sees the new sequence and looks up again. A lookup also
 * never returns an order whose block overlaps a conversion in flight.
 *
 * A fault racing with a conversion:
 *
 *   fault                            convert
 *   -----                            -------
 *   down_read(map_lock)
 *   lock; range not in flight;       lock; wait: range in flight? no
 *   attr shared; insert PTEs         insert range in gf->inflight; unlock
 *   unlock; up_read(map_lock)        prepare() each user  (PTEs still there)
 *                                    down_write(map_lock) (waits for faults)
 *   fault again: in flight, drops    commit(): unmap_mapping_range()
 *   mmap_lock, sleeps on gf->wq      flip attribute; up_write(map_lock)
 *                                    remove from gf->inflight; wake gf->wq
 *   VM_FAULT_RETRY; the core faults
 *   again: private -> SIGBUS
 *
 * Overlapping conversions are serialised by the range lock (an interval tree
 * of in-flight ranges and a waitqueue); non-overlapping ones prepare in
 * parallel and only serialise on gf->map_lock for their short commit phase.
 * Waiting for an overlapping conversion is killable (-EINTR).
 *
 * Prepare callbacks may take long (a user waits for its device), and the
 * range stays BLOCKED meanwhile. Three choices keep that wait from spreading:
 *  - A fatal signal of the converting task is checked before each prepare
 *    and after the last one: every user that prepared is aborted, in
 *    reverse, and the conversion returns -EINTR with nothing changed (the
 *    task is dying; whatever it converted for will not use the result).
 *    Once all prepared, the commit phase is short and runs to its end.
 *  - A fault on a BLOCKED range drops mmap_lock (or the VMA lock) and waits
 *    without it where the fault may be retried, as filemap does for a
 *    locked folio (mmap.c). The retried fault, and a fault that cannot be
 *    retried, wait with the lock held.
 *  - Registering and unregistering a user wait for users_rwsem, which a
 *    conversion holds for read through all its callbacks: they wait
 *    killably (-EINTR). gmem_pfnpool_unregister_user() is the variant for
 *    teardown paths that cannot fail; it waits until the conversion ends.
 *
 * Locking: gf->users_rwsem (read) -> gf->map_lock (write, commit only) ->
 * gf->lock. Users are called with users_rwsem held for read and, for commit,
 * map_lock held for write; lockdep is told about the callback phase through
 * the gmem_pfnpool_invalidate pseudo-lock, so a user that takes, inside a
 * callback, a lock it also holds while converting is reported. The waiting
 * side is annotated too, as mmu_interval_read_begin() does for mmu
 * notifiers: every fault of a gmem mapping acquires and releases the
 * pseudo-lock (gmem_pfnpool_invalidate_might_wait()) with mmap_lock held,
 * because it may wait for the callbacks with it held. A callback that takes
 * mmap_lock closes the cycle and is reported, without the race having to
 * happen.
 */
#include <linux/interval_tree.h>
#include <linux/lockdep.h>
#include <linux/sched/signal.h>
#include <linux/string.h>
#include <kunit/visibility.h>

#include "internal.h"
#include "trace.h"

#ifdef CONFIG_LOCKDEP
static struct lockdep_map gmem_pfnpool_invalidate_map = {
	.name = "gmem_pfnpool_invalidate",
};
#endif

/**
 * struct gmem_pfnpool_invalidation - one run of the engine
 * @range: what the users see
 * @veto: where a refusal is described (owned by the caller of the engine)
 * @described: the refusing user described its refusal itself
 */
struct gmem_pfnpool_invalidation {
	struct gmem_pfnpool_range range;
	struct gmem_pfnpool_veto *veto;
	bool described;
};

/**
 * __gmem_pfnpool_inflight() - is a conversion of a range in flight?
 * @gf: the file
 * @start: first page
 * @end: one past the last page
 *
 * Context: gf->lock held.
 * Return: true if a conversion overlapping [@start, @end) is in flight.
 */
bool __gmem_pfnpool_inflight(struct gmem_pfnpool_file *gf, pgoff_t start,
			     pgoff_t end)
{
	lockdep_assert_held(&gf->lock);
	return interval_tree_iter_first(&gf->inflight, start, end - 1);
}
EXPORT_SYMBOL_IF_KUNIT(__gmem_pfnpool_inflight);

/**
 * gmem_pfnpool_invalidate_might_wait() - tell lockdep the caller may wait for
 *	the users' callbacks
 *
 * Called where a task may sleep until a conversion in flight ends (a fault
 * of a gmem mapping), with the locks it would hold while sleeping: lockdep
 * then reports a callback that takes one of them.
 */
void gmem_pfnpool_invalidate_might_wait(void)
{
	lock_map_acquire(&gmem_pfnpool_invalidate_map);
	lock_map_release(&gmem_pfnpool_invalidate_map);
}

/* Sleep until a conversion leaves gf->inflight; the caller rechecks. */
static int gmem_pfnpool_wait_inflight(struct gmem_pfnpool_file *gf,
				      unsigned long gen)
{
	return wait_event_killable(gf->wq, READ_ONCE(gf->inflight_gen) != gen);
}

/**
 * gmem_pfnpool_wait_stable() - wait until no conversion covers a page
 * @gf: the file
 * @index: page index
 *
 * Context: may sleep; no gmem_pfnpool lock held.
 * Return: 0, or -EINTR on a fatal signal.
 */
int gmem_pfnpool_wait_stable(struct gmem_pfnpool_file *gf, pgoff_t index)
{
	unsigned long gen;

	for (;;) {
		mutex_lock(&gf->lock);
		if (!__gmem_pfnpool_inflight(gf, index, index + 1)) {
			mutex_unlock(&gf->lock);
			return 0;
		}
		gen = gf->inflight_gen;
		mutex_unlock(&gf->lock);
		if (gmem_pfnpool_wait_inflight(gf, gen))
			return -EINTR;
	}
}

/* The range lock: BLOCKED from here until gmem_pfnpool_range_unlock(). */
static int gmem_pfnpool_range_lock(struct gmem_pfnpool_file *gf,
				   struct interval_tree_node *it,
				   pgoff_t start, pgoff_t end)
{
	unsigned long gen;

	it->start = start;
	it->last = end - 1;
	mutex_lock(&gf->lock);
	while (__gmem_pfnpool_inflight(gf, start, end)) {
		gen = gf->inflight_gen;
		mutex_unlock(&gf->lock);
		if (gmem_pfnpool_wait_inflight(gf, gen))
			return -EINTR;
		mutex_lock(&gf->lock);
	}
	interval_tree_insert(it, &gf->inflight);
	mutex_unlock(&gf->lock);
	return 0;
}

static void gmem_pfnpool_range_unlock(struct gmem_pfnpool_file *gf,
				      struct interval_tree_node *it)
{
	mutex_lock(&gf->lock);
	interval_tree_remove(it, &gf->inflight);
	WRITE_ONCE(gf->inflight_gen, gf->inflight_gen + 1);
	mutex_unlock(&gf->lock);
	wake_up_all(&gf->wq);
}

/**
 * gmem_pfnpool_veto_describe() - say who refuses, and where
 * @range: the range passed to the user's prepare callback
 * @index: first page of @range the refusal is about
 * @name: who refuses (copied; truncated to GMEM_PFNPOOL_USER_NAME_LEN - 1)
 *
 * Optional: a prepare callback that returns -EBUSY may call it first to
 * report a more precise holder (e.g. an importing device) than the user's
 * name, and where in the range it holds on. Without it the refusal names the
 * user and the start of the range.
 *
 * Context: only from a prepare callback, for the @range it was given.
 */
void gmem_pfnpool_veto_describe(const struct gmem_pfnpool_range *range,
				pgoff_t index, const char *name)
{
	struct gmem_pfnpool_invalidation *inv =
		container_of(range, struct gmem_pfnpool_invalidation, range);

	if (WARN_ON_ONCE(index < range->start || index >= range->end))
		index = range->start;
	inv->veto->index = index;
	strscpy(inv->veto->name, name, sizeof(inv->veto->name));
	inv->described = true;
}
EXPORT_SYMBOL_GPL(gmem_pfnpool_veto_describe);

/* A pin of @user on the range refuses for it; else ask the user. */
static int gmem_pfnpool_prepare_one(struct gmem_pfnpool_file *gf,
				    struct gmem_pfnpool_user *user,
				    struct gmem_pfnpool_invalidation *inv)
{
	const struct gmem_pfnpool_range *range = &inv->range;
	struct gmem_pfnpool_veto *veto = inv->veto;
	bool pinned;
	int ret = 0;

	mutex_lock(&gf->lock);
	pinned = __gmem_pfnpool_user_pinned(gf, user, range->start, range->end,
					    &veto->index);
	mutex_unlock(&gf->lock);
	if (pinned) {
		strscpy(veto->name, user->name, sizeof(veto->name));
		return -EBUSY;
	}

	inv->described = false;
	if (user->ops->prepare)
		ret = user->ops->prepare(user, range);
	if (ret > 0) {
		/* Only 0 agrees: anything else must not reach userspace as one. */
		pr_warn_once("user %s: prepare returned %d, taken as -EBUSY\n",
			     user->name, ret);
		ret = -EBUSY;
	}
	if (ret && !inv->described) {
		veto->index = range->start;
		strscpy(veto->name, user->name, sizeof(veto->name));
	}
	return ret;
}

typedef void (*gmem_pfnpool_apply_t)(struct gmem_pfnpool_file *gf,
				     const struct gmem_pfnpool_range *range);

static void gmem_pfnpool_apply_convert(struct gmem_pfnpool_file *gf,
				       const struct gmem_pfnpool_range *range)
{
	u32 attr = range->event == GMEM_PFNPOOL_EVENT_TO_SHARED ?
		   GMEM_PFNPOOL_ATTR_SHARED : GMEM_PFNPOOL_ATTR_PRIVATE;

	lockdep_assert_held(&gf->lock);
	/* The commit phase cannot fail: the maple tree may not run dry. */
	gmem_pfnpool_attrs_set(&gf->attrs, range->start, range->end, attr,
			       GFP_KERNEL | __GFP_NOFAIL);
}

static void gmem_pfnpool_apply_punch(struct gmem_pfnpool_file *gf,
				     const struct gmem_pfnpool_range *range)
{
	lockdep_assert_held(&gf->lock);
	__gmem_pfnpool_extent_free(gf, range->start, range->end);
}

/*
 * The engine. Runs the state machine above for @range; @apply is the change
 * itself, made once all users committed. @skip, if set, is asked under the
 * range lock whether there is nothing to do (e.g. the range already has the
 * target attribute), in which case no user is called.
 */
static int gmem_pfnpool_invalidate(struct gmem_pfnpool_file *gf,
				   struct gmem_pfnpool_invalidation *inv,
				   gmem_pfnpool_apply_t apply,
				   bool (*skip)(struct gmem_pfnpool_file *gf,
						const struct gmem_pfnpool_range *r))
{
	const struct gmem_pfnpool_range *range = &inv->range;
	struct interval_tree_node it;
	struct gmem_pfnpool_user *user;
	int ret;

	ret = gmem_pfnpool_range_lock(gf, &it, range->start, range->end);
	if (ret)
		return ret;

	if (skip && skip(gf, range))
		goto unlock_range;

	trace_gmem_pfnpool_inv_start(gmem_pfnpool_file_ino(gf), range);
	down_read(&gf->users_rwsem);
	lock_map_acquire(&gmem_pfnpool_invalidate_map);

	list_for_each_entry(user, &gf->users, node) {
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto abort;
		}
		ret = gmem_pfnpool_prepare_one(gf, user, inv);
		if (ret)
			goto abort;
	}
	/* The last prepare may have been long too; @user is the list head. */
	if (fatal_signal_pending(current)) {
		ret = -EINTR;
		goto abort;
	}

	down_write(&gf->map_lock);
	mutex_lock(&gf->lock);
	/* Lookups from now on, and those before, must retry. */
	WRITE_ONCE(gf->invalidate_seq, gf->invalidate_seq + 1);
	mutex_unlock(&gf->lock);
	list_for_each_entry(user, &gf->users, node)
		if (user->ops->commit)
			user->ops->commit(user, range);
	mutex_lock(&gf->lock);
	apply(gf, range);
	WRITE_ONCE(gf->invalidate_seq, gf->invalidate_seq + 1);
	mutex_unlock(&gf->lock);
	up_write(&gf->map_lock);
	atomic64_inc(&gf->stats.conversions);
	trace_gmem_pfnpool_inv_commit(gmem_pfnpool_file_ino(gf), range);
	goto unlock_users;

abort:
	if (ret != -EINTR) {
		atomic64_inc(&gf->stats.vetoes);
		trace_gmem_pfnpool_inv_veto(gmem_pfnpool_file_ino(gf), range,
					    inv->veto->name, inv->veto->index,
					    ret);
	}
	/* Every user before @user prepared: abort them, last first. */
	list_for_each_entry_continue_reverse(user, &gf->users, node)
		if (user->ops->abort)
			user->ops->abort(user, range);
unlock_users:
	lock_map_release(&gmem_pfnpool_invalidate_map);
	up_read(&gf->users_rwsem);
unlock_range:
	gmem_pfnpool_range_unlock(gf, &it);
	/*
	 * What a punch took out is zeroed here, with no lock held: faults,
	 * lookups and conversions of the file never wait for it.
	 */
	gmem_pfnpool_extent_release(gf);
	return ret;
}

static bool gmem_pfnpool_convert_noop(struct gmem_pfnpool_file *gf,
				      const struct gmem_pfnpool_range *range)
{
	u32 attr = range->event == GMEM_PFNPOOL_EVENT_TO_SHARED ?
		   GMEM_PFNPOOL_ATTR_SHARED : GMEM_PFNPOOL_ATTR_PRIVATE;

	return gmem_pfnpool_attrs_all(&gf->attrs, range->start, range->end,
				      attr);
}

/**
 * gmem_pfnpool_convert() - change the attribute of a page range
 * @gf: the file
 * @start: first page
 * @end: one past the last page, @start < @end <= gf->npages
 * @attr: GMEM_PFNPOOL_ATTR_SHARED or GMEM_PFNPOOL_ATTR_PRIVATE
 * @veto: out: on -EBUSY, who refused and where
 *
 * Context: may sleep; must not be called from a user callback.
 * Return: 0, -EBUSY if a user refused (nothing changed), -EINTR on a fatal
 * signal while waiting for an overlapping conversion or before the commit
 * phase (the users that prepared are aborted; nothing changed).
 */
int gmem_pfnpool_convert(struct gmem_pfnpool_file *gf, pgoff_t start,
			 pgoff_t end, u32 attr, struct gmem_pfnpool_veto *veto)
{
	struct gmem_pfnpool_invalidation inv = {
		.range = {
			.start = start,
			.end = end,
			.event = attr == GMEM_PFNPOOL_ATTR_SHARED ?
				 GMEM_PFNPOOL_EVENT_TO_SHARED :
				 GMEM_PFNPOOL_EVENT_TO_PRIVATE,
		},
		.veto = veto,
	};

	return gmem_pfnpool_invalidate(gf, &inv, gmem_pfnpool_apply_convert,
				       gmem_pfnpool_convert_noop);
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_convert);

/**
 * gmem_pfnpool_punch() - return the memory of a page range to the pool
 * @gf: the file
 * @start: first page
 * @end: one past the last page
 * @veto: out: on -EBUSY, who refused and where
 *
 * The pages read as zero when touched again (fresh, zeroed memory).
 *
 * Context: may sleep.
 * Return: 0, -EBUSY if a user refused (nothing changed), -EINTR as for
 * gmem_pfnpool_convert().
 */
int gmem_pfnpool_punch(struct gmem_pfnpool_file *gf, pgoff_t start,
		       pgoff_t end, struct gmem_pfnpool_veto *veto)
{
	struct gmem_pfnpool_invalidation inv = {
		.range = {
			.start = start,
			.end = end,
			.event = GMEM_PFNPOOL_EVENT_PUNCH,
		},
		.veto = veto,
	};

	return gmem_pfnpool_invalidate(gf, &inv, gmem_pfnpool_apply_punch,
				       NULL);
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_punch);

// SPDX-License-Identifier: GPL-2.0-only
/*
 * The users of a gmem file and their pins: the registry the invalidation
 * engine (invalidate.c) calls, in registration order.
 *
 * A user is anything that may hold a translation of the file's PFNs: the
 * userspace mappings of the file (mmap.c), each DMA-BUF export (dmabuf.c)
 * and in-kernel users (include/linux/gmem_pfnpool.h). A pin is a page range
 * a user holds on to without being asked: every conversion or punch that
 * overlaps it is refused in the user's name, without calling the user.
 *
 * Locking: gf->users_rwsem protects gf->users: a conversion holds it for
 * read while it calls users, registering and unregistering take it for
 * write (killably where the caller can fail). A user's pin list is
 * protected by gf->lock, so that a pin and the range lock of a conversion
 * (both under gf->lock) exclude each other.
 */
#include <linux/lockdep.h>
#include <linux/slab.h>

#include "internal.h"

/**
 * struct gmem_pfnpool_pin - a pinned page range
 * @node: entry in the user's pin list
 * @start: first page
 * @end: one past the last page
 */
struct gmem_pfnpool_pin {
	struct list_head node;
	pgoff_t start;
	pgoff_t end;
};

/**
 * __gmem_pfnpool_user_pinned() - does a user pin part of a range?
 * @gf: the file
 * @user: a registered user
 * @start: first page of the range
 * @end: one past its last page
 * @index: out: if so, the first page of the range the first such pin holds
 *
 * Context: gf->lock held.
 * Return: true if a pin of @user overlaps [@start, @end).
 */
bool __gmem_pfnpool_user_pinned(struct gmem_pfnpool_file *gf,
				struct gmem_pfnpool_user *user, pgoff_t start,
				pgoff_t end, pgoff_t *index)
{
	struct gmem_pfnpool_pin *pin;

	lockdep_assert_held(&gf->lock);
	list_for_each_entry(pin, &user->pins, node) {
		if (pin->start < end && start < pin->end) {
			*index = max(pin->start, start);
			return true;
		}
	}
	return false;
}

/**
 * gmem_pfnpool_register_user() - register a user of a gmem file
 * @gf: the file (a reference held by the caller for as long as the user
 *	stays registered)
 * @user: the user, with @name and @ops set
 *
 * From now on @user is called for every change of the file. Waits for a
 * conversion that is calling users to finish, killably.
 *
 * Context: may sleep; not from a user callback.
 * Return: 0, or -EINTR on a fatal signal (@user is not registered).
 */
int gmem_pfnpool_register_user(struct gmem_pfnpool_file *gf,
			       struct gmem_pfnpool_user *user)
{
	INIT_LIST_HEAD(&user->pins);
	if (down_write_killable(&gf->users_rwsem))
		return -EINTR;
	list_add_tail(&user->node, &gf->users);
	up_write(&gf->users_rwsem);
	return 0;
}
EXPORT_SYMBOL_GPL(gmem_pfnpool_register_user);

/* Unregister @user, with users_rwsem held for write. */
static void __gmem_pfnpool_unregister_user(struct gmem_pfnpool_file *gf,
					   struct gmem_pfnpool_user *user)
{
	struct gmem_pfnpool_pin *pin, *tmp;

	lockdep_assert_held_write(&gf->users_rwsem);
	list_del(&user->node);
	mutex_lock(&gf->lock);
	list_for_each_entry_safe(pin, tmp, &user->pins, node) {
		list_del(&pin->node);
		kfree(pin);
	}
	mutex_unlock(&gf->lock);
}

/**
 * gmem_pfnpool_unregister_user_killable() - unregister a user, dropping its
 *	pins, unless a fatal signal arrives first
 * @gf: the file
 * @user: a registered user
 *
 * Waits for a conversion that is calling users to finish, killably.
 *
 * Context: may sleep; not from a user callback.
 * Return: 0, or -EINTR on a fatal signal (@user stays registered).
 */
int gmem_pfnpool_unregister_user_killable(struct gmem_pfnpool_file *gf,
					  struct gmem_pfnpool_user *user)
{
	if (down_write_killable(&gf->users_rwsem))
		return -EINTR;
	__gmem_pfnpool_unregister_user(gf, user);
	up_write(&gf->users_rwsem);
	return 0;
}
EXPORT_SYMBOL_GPL(gmem_pfnpool_unregister_user_killable);

/**
 * gmem_pfnpool_unregister_user() - unregister a user, dropping its pins
 * @gf: the file
 * @user: a registered user
 *
 * For teardown paths that cannot fail (release of the user's object): waits
 * for a conversion that is calling users to finish, uninterruptibly. Where
 * the caller can report an error, use
 * gmem_pfnpool_unregister_user_killable().
 *
 * Context: may sleep; not from a user callback.
 */
void gmem_pfnpool_unregister_user(struct gmem_pfnpool_file *gf,
				  struct gmem_pfnpool_user *user)
{
	down_write(&gf->users_rwsem);
	__gmem_pfnpool_unregister_user(gf, user);
	up_write(&gf->users_rwsem);
}
EXPORT_SYMBOL_GPL(gmem_pfnpool_unregister_user);

/**
 * gmem_pfnpool_pin() - pin a page range for a user
 * @gf: the file
 * @user: a registered user
 * @start: first page
 * @nr_pages: number of pages, non-zero
 *
 * While pinned, every conversion or punch overlapping the range is refused
 * in @user's name. Pins nest: each needs its own gmem_pfnpool_unpin().
 *
 * Context: may sleep.
 * Return: 0, -EINVAL for a range outside the file, -EAGAIN while a
 * conversion of the range is in flight, -ENOMEM.
 */
int gmem_pfnpool_pin(struct gmem_pfnpool_file *gf,
		     struct gmem_pfnpool_user *user,
		     pgoff_t start, pgoff_t nr_pages)
{
	struct gmem_pfnpool_pin *pin;
	int ret = 0;

	if (!nr_pages || start >= gf->npages || nr_pages > gf->npages - start)
		return -EINVAL;

	pin = kzalloc(sizeof(*pin), GFP_KERNEL);
	if (!pin)
		return -ENOMEM;
	pin->start = start;
	pin->end = start + nr_pages;

	mutex_lock(&gf->lock);
	if (__gmem_pfnpool_inflight(gf, pin->start, pin->end))
		ret = -EAGAIN;
	else
		list_add_tail(&pin->node, &user->pins);
	mutex_unlock(&gf->lock);
	if (ret)
		kfree(pin);
	return ret;
}
EXPORT_SYMBOL_GPL(gmem_pfnpool_pin);

/**
 * gmem_pfnpool_unpin() - drop a pin taken with gmem_pfnpool_pin()
 * @gf: the file
 * @user: the user that took it
 * @start: first page, as pinned
 * @nr_pages: number of pages, as pinned
 *
 * Context: may sleep.
 * Return: 0, or -ENOENT if @user holds no such pin.
 */
int gmem_pfnpool_unpin(struct gmem_pfnpool_file *gf,
		       struct gmem_pfnpool_user *user,
		       pgoff_t start, pgoff_t nr_pages)
{
	struct gmem_pfnpool_pin *pin;
	int ret = -ENOENT;

	mutex_lock(&gf->lock);
	list_for_each_entry(pin, &user->pins, node) {
		if (pin->start == start && pin->end == start + nr_pages) {
			list_del(&pin->node);
			kfree(pin);
			ret = 0;
			break;
		}
	}
	mutex_unlock(&gf->lock);
	return ret;
}
EXPORT_SYMBOL_GPL(gmem_pfnpool_unpin);

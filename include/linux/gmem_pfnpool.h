/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * In-kernel API of gmem_pfnpool: guest-memory files backed by physical
 * ranges without struct pages, with a shared/private attribute per range
 * and two-phase invalidation.
 *
 * A user (a device driver mapping guest memory, an IOMMU, ...) gets a file
 * from an fd, registers a struct gmem_pfnpool_user and may then look PFNs up
 * and pin ranges. Before any range changes (conversion to shared or private,
 * hole punch) every user is asked to prepare; a user may refuse, and then
 * nothing changes. Once all agreed, every user's commit runs: from then on the
 * PFNs of the range must no longer be used through mappings set up earlier.
 *
 * Installing what a lookup returned (the pattern of mmu_interval_notifier):
 *
 *	again:
 *		ret = gmem_pfnpool_lookup(gf, index, &pfn, &attr, &order, &seq);
 *		if (ret == -EAGAIN)
 *			... back off (a conversion of the page is in flight) ...
 *		mutex_lock(&my->lock);
 *		if (gmem_pfnpool_lookup_retry(gf, seq)) {
 *			mutex_unlock(&my->lock);
 *			goto again;
 *		}
 *		... install pfn (a block of 2^order pages at most) ...
 *		mutex_unlock(&my->lock);
 *
 * and the commit callback takes my->lock before it drops the mappings of
 * the range. The engine makes the sequence odd before it calls any commit
 * and even again once the range has changed, so a user either installed
 * before its commit ran (and drops it there) or sees the retry. The order
 * returned never spans a page with another attribute, another extent or a
 * conversion in flight. Who is asked, who can veto, and when a revocation
 * is complete, for every kind of holder:
 *  - registered users (this API): asked to prepare, may veto; revoked when
 *    their commit callback returns.
 *  - userspace mappings of the file: one registered user that never vetoes;
 *    revoked when its commit returns (page tables zapped, which also
 *    reaches KVM and other mmu notifier users). GUP and VFIO type1 cannot
 *    follow them (VM_MIXEDMAP | VM_IO), except with the mmap_huge=1 module
 *    parameter (VM_PFNMAP): then VFIO type1 can build IOMMU mappings from
 *    them that nothing revokes.
 *  - DMA-BUF importers (through an export, one registered user each): an
 *    importer that cannot be revoked (static, or without
 *    invalidate_mappings) vetoes in its device's name while attached; the
 *    others are revoked, and the revocation is complete when every fence
 *    of the reservation object has signalled and every mapping is unmapped
 *    (the export's commit waits for both).
 */
#ifndef _LINUX_GMEM_PFNPOOL_H
#define _LINUX_GMEM_PFNPOOL_H

#include <linux/list.h>
#include <linux/types.h>
#include <uapi/linux/gmem_pfnpool.h>

struct gmem_pfnpool_file;
struct gmem_pfnpool_user;

/**
 * enum gmem_pfnpool_event - why a range is being invalidated
 * @GMEM_PFNPOOL_EVENT_TO_SHARED: the range becomes shared
 * @GMEM_PFNPOOL_EVENT_TO_PRIVATE: the range becomes private
 * @GMEM_PFNPOOL_EVENT_PUNCH: the memory of the range returns to the pool
 */
enum gmem_pfnpool_event {
	GMEM_PFNPOOL_EVENT_TO_SHARED,
	GMEM_PFNPOOL_EVENT_TO_PRIVATE,
	GMEM_PFNPOOL_EVENT_PUNCH,
};

/**
 * struct gmem_pfnpool_range - a range being invalidated
 * @start: first page index (file offset >> PAGE_SHIFT)
 * @end: one past the last page index
 * @event: what happens to the range
 */
struct gmem_pfnpool_range {
	pgoff_t start;
	pgoff_t end;
	enum gmem_pfnpool_event event;
};

/**
 * struct gmem_pfnpool_user_ops - callbacks of a registered user
 * @prepare: the range is about to change. Return 0 to agree or a negative
 *	errno (normally -EBUSY) to refuse. Must not change any state that
 *	@abort would have to undo beyond what the user itself tracks: after a
 *	refusal by any user, or a fatal signal of the converting task, @abort
 *	is called on those that agreed. Called with no gmem_pfnpool lock held;
 *	may sleep (faults on the range wait meanwhile, some with mmap_lock
 *	held: no callback may take mmap_lock or fault on a gmem mapping;
 *	lockdep reports it); may call gmem_pfnpool_lookup(), which fails with
 *	-EAGAIN on the range.
 * @commit: all users agreed: stop using the PFNs of the range through any
 *	mapping set up before. Cannot fail. Called with the file's mapping
 *	lock held for write: must not fault on a mapping of the same file.
 * @abort: a user refused after this one agreed; forget the preparation.
 *	Called in the reverse order of @prepare.
 */
struct gmem_pfnpool_user_ops {
	int (*prepare)(struct gmem_pfnpool_user *user,
		       const struct gmem_pfnpool_range *range);
	void (*commit)(struct gmem_pfnpool_user *user,
		       const struct gmem_pfnpool_range *range);
	void (*abort)(struct gmem_pfnpool_user *user,
		      const struct gmem_pfnpool_range *range);
};

/**
 * struct gmem_pfnpool_user - a registered user of a gmem file
 * @name: reported to userspace when this user refuses a conversion
 * @ops: callbacks
 * @node: private: entry in the file's user list
 * @pins: private: pins held by this user
 */
struct gmem_pfnpool_user {
	const char *name;
	const struct gmem_pfnpool_user_ops *ops;
	struct list_head node;
	struct list_head pins;
};

struct gmem_pfnpool_file *gmem_pfnpool_file_get(int fd);
void gmem_pfnpool_file_put(struct gmem_pfnpool_file *gf);
pgoff_t gmem_pfnpool_file_pages(struct gmem_pfnpool_file *gf);

int __must_check gmem_pfnpool_register_user(struct gmem_pfnpool_file *gf,
					    struct gmem_pfnpool_user *user);
int __must_check
gmem_pfnpool_unregister_user_killable(struct gmem_pfnpool_file *gf,
				      struct gmem_pfnpool_user *user);
void gmem_pfnpool_unregister_user(struct gmem_pfnpool_file *gf,
				  struct gmem_pfnpool_user *user);

int gmem_pfnpool_lookup(struct gmem_pfnpool_file *gf, pgoff_t index,
			unsigned long *pfn, u32 *attr, unsigned int *order,
			unsigned long *seq);
bool gmem_pfnpool_lookup_retry(struct gmem_pfnpool_file *gf, unsigned long seq);

void gmem_pfnpool_veto_describe(const struct gmem_pfnpool_range *range,
				pgoff_t index, const char *name);

int gmem_pfnpool_pin(struct gmem_pfnpool_file *gf,
		     struct gmem_pfnpool_user *user,
		     pgoff_t start, pgoff_t nr_pages);
int gmem_pfnpool_unpin(struct gmem_pfnpool_file *gf,
		       struct gmem_pfnpool_user *user,
		       pgoff_t start, pgoff_t nr_pages);

#endif /* _LINUX_GMEM_PFNPOOL_H */

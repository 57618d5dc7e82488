/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * gmem_pfnpool internals shared by the files of the module and its KUnit
 * suites. The pool, attribute and invalidation cores do not touch real
 * physical memory: a pool range is (physical base, kernel address, size), so
 * a test can hand in a vmalloc'd buffer with a made-up physical base.
 *
 * Locking (outermost first), per gmem file:
 *   gf->users_rwsem   (read: a conversion is calling users; write: the user
 *                      list or a user's pin list changes)
 *   gf->map_lock      (read: a fault checks and inserts page-table entries;
 *                      write: the commit phase, during which users commit,
 *                      the attribute flips and extents are freed)
 *   gf->lock          (leaf: extents, attributes, in-flight conversions,
 *                      pins, counters)
 * A page fault comes in with mmap_lock (or the VMA lock) held, then takes
 * map_lock for read; the commit phase takes map_lock for write and then the
 * i_mmap lock through unmap_mapping_range(), never mmap_lock. A fault on a
 * range in flight may wait for the users' callbacks, with mmap_lock held
 * when it cannot drop it (mmap.c): callbacks never take mmap_lock.
 * A DMA-BUF map holds the reservation lock and takes gf->lock; the commit
 * phase takes the reservation lock under gf->map_lock (dmabuf.c).
 * The pool has its own lock-free allocator (genalloc) and is a leaf.
 */
#ifndef _GMEM_PFNPOOL_INTERNAL_H
#define _GMEM_PFNPOOL_INTERNAL_H

#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/genalloc.h>
#include <linux/interval_tree.h>
#include <linux/maple_tree.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/wait.h>
#include <linux/gmem_pfnpool.h>

#define GMEM_PFNPOOL_NAME	"gmem_pfnpool"

/* Mapping orders a fault may use, largest first. */
#define GMEM_PFNPOOL_ORDER_PUD	(PUD_SHIFT - PAGE_SHIFT)
#define GMEM_PFNPOOL_ORDER_PMD	(PMD_SHIFT - PAGE_SHIFT)

/* ---- pool.c ---- */

/**
 * struct gmem_pfnpool_pool_range - one physical range owned by the pool
 * @node: entry in &gmem_pfnpool_pool.ranges
 * @phys: physical base, page-aligned
 * @kva: kernel address of @phys
 * @size: size in bytes, page-aligned
 */
struct gmem_pfnpool_pool_range {
	struct list_head node;
	phys_addr_t phys;
	void *kva;
	u64 size;
};

/**
 * struct gmem_pfnpool_pool - allocator of physical ranges without struct page
 * @gp: genalloc pool, addresses are physical, min order PAGE_SHIFT
 * @ranges: the ranges; fixed after setup, read without locks
 * @total: bytes managed
 * @used: bytes handed out
 */
struct gmem_pfnpool_pool {
	struct gen_pool *gp;
	struct list_head ranges;
	u64 total;
	atomic64_t used;
};

int gmem_pfnpool_pool_init(struct gmem_pfnpool_pool *pool);
void gmem_pfnpool_pool_destroy(struct gmem_pfnpool_pool *pool);
int gmem_pfnpool_pool_add(struct gmem_pfnpool_pool *pool, phys_addr_t phys,
			  void *kva, u64 size);
int gmem_pfnpool_pool_alloc(struct gmem_pfnpool_pool *pool, u64 size,
			    phys_addr_t *phys);
void gmem_pfnpool_pool_free(struct gmem_pfnpool_pool *pool, phys_addr_t phys,
			    u64 size);
void *gmem_pfnpool_pool_kva(struct gmem_pfnpool_pool *pool, phys_addr_t phys);
u64 gmem_pfnpool_pool_free_bytes(struct gmem_pfnpool_pool *pool);
u64 gmem_pfnpool_pool_used_bytes(struct gmem_pfnpool_pool *pool);
u64 gmem_pfnpool_pool_free_blocks(struct gmem_pfnpool_pool *pool,
				  unsigned int order);
size_t gmem_pfnpool_pool_metadata_bytes(struct gmem_pfnpool_pool *pool);
u64 gmem_pfnpool_pool_range_free(struct gmem_pfnpool_pool *pool,
				 phys_addr_t phys);

/* ---- attr.c ---- */

/**
 * struct gmem_pfnpool_attrs - shared/private attribute of every page
 * @mt: maple tree: maximal page ranges -> xa_mk_value(attr); adjacent
 *	ranges always have different attributes
 */
struct gmem_pfnpool_attrs {
	struct maple_tree mt;
};

int gmem_pfnpool_attrs_init(struct gmem_pfnpool_attrs *attrs, pgoff_t npages,
			    u32 attr);
void gmem_pfnpool_attrs_destroy(struct gmem_pfnpool_attrs *attrs);
int gmem_pfnpool_attrs_set(struct gmem_pfnpool_attrs *attrs, pgoff_t start,
			   pgoff_t end, u32 attr, gfp_t gfp);
u32 gmem_pfnpool_attrs_get(struct gmem_pfnpool_attrs *attrs, pgoff_t index,
			   pgoff_t *first, pgoff_t *last);
bool gmem_pfnpool_attrs_all(struct gmem_pfnpool_attrs *attrs, pgoff_t start,
			    pgoff_t end, u32 attr);
unsigned long gmem_pfnpool_attrs_count(struct gmem_pfnpool_attrs *attrs);

/* Number of entries (maximal ranges) stored in a maple tree. */
static inline unsigned long gmem_pfnpool_mt_count(struct maple_tree *mt)
{
	unsigned long index = 0, n = 0;
	void *entry;

	mt_for_each(mt, entry, index, ULONG_MAX)
		n++;
	return n;
}

/* ---- a gmem file (file.c) ---- */

/**
 * struct gmem_pfnpool_file - state of one guest-memory file
 * @pool: where the memory comes from
 * @npages: size in pages, fixed
 * @file: the struct file, or NULL for a file core made by a KUnit test
 * @mapping: the file's own address space (own inode), or NULL
 * @lock: protects @extents (writers), @attrs (writers), @inflight,
 *	@inflight_gen, @allocated, @freed and the pin lists of the users
 * @extents: maple tree: page ranges -> xa_mk_value(first pfn)
 * @attrs: shared/private attribute per page
 * @inflight: interval tree of the conversions in flight (pages)
 * @inflight_gen: bumped when a conversion leaves @inflight
 * @invalidate_seq: sequence of in-kernel lookups (gmem_pfnpool_lookup());
 *	odd while a commit phase runs: made odd before the users commit,
 *	even again after the apply step; written under @lock, read with
 *	READ_ONCE()
 * @wq: woken when a conversion leaves @inflight
 * @users_rwsem: protects @users; held for read while users are called
 * @users: registered struct gmem_pfnpool_user, in registration order
 * @map_lock: faults (read) vs the commit phase (write)
 * @mmap_user: the user standing for userspace mappings of the file
 * @node: entry in the list of files (debugfs)
 * @stats: counters, see struct gmem_pfnpool_stats
 * @allocated: pages backed by pool memory
 * @freed: memory taken out of @extents and not yet zeroed and given back
 *	to the pool (struct gmem_pfnpool_freed), see
 *	gmem_pfnpool_extent_release()
 */
struct gmem_pfnpool_file {
	struct gmem_pfnpool_pool *pool;
	pgoff_t npages;
	struct file *file;
	struct address_space *mapping;

	struct mutex lock;	/* see @lock above */
	struct maple_tree extents;
	struct gmem_pfnpool_attrs attrs;
	struct rb_root_cached inflight;
	unsigned long inflight_gen;
	unsigned long invalidate_seq;
	wait_queue_head_t wq;

	struct rw_semaphore users_rwsem;
	struct list_head users;
	struct rw_semaphore map_lock;

	struct gmem_pfnpool_user mmap_user;
	struct list_head node;

	struct {
		atomic64_t faults;
		atomic64_t mapped_pte;
		atomic64_t mapped_pmd;
		atomic64_t mapped_pud;
		atomic64_t conversions;
		atomic64_t vetoes;
	} stats;
	pgoff_t allocated;
	struct list_head freed;
};

/* The inode number naming @gf in traces and debugfs (0 before it has a file). */
static inline u64 gmem_pfnpool_file_ino(const struct gmem_pfnpool_file *gf)
{
	return gf->file ? file_inode(gf->file)->i_ino : 0;
}

/**
 * struct gmem_pfnpool_veto - who refused a conversion, and where
 * @index: page index of the refusal
 * @name: name of the refusing user, or what it named with
 *	gmem_pfnpool_veto_describe(); a copy, valid after the user is gone
 */
struct gmem_pfnpool_veto {
	pgoff_t index;
	char name[GMEM_PFNPOOL_USER_NAME_LEN];
};

int gmem_pfnpool_file_init(struct gmem_pfnpool_file *gf,
			   struct gmem_pfnpool_pool *pool, pgoff_t npages,
			   u32 attr);
void gmem_pfnpool_file_destroy(struct gmem_pfnpool_file *gf);

/* ---- invalidate.c ---- */

int gmem_pfnpool_convert(struct gmem_pfnpool_file *gf, pgoff_t start,
			 pgoff_t end, u32 attr, struct gmem_pfnpool_veto *veto);
int gmem_pfnpool_punch(struct gmem_pfnpool_file *gf, pgoff_t start,
		       pgoff_t end, struct gmem_pfnpool_veto *veto);
bool __gmem_pfnpool_inflight(struct gmem_pfnpool_file *gf, pgoff_t start,
			     pgoff_t end);
int gmem_pfnpool_wait_stable(struct gmem_pfnpool_file *gf, pgoff_t index);
void gmem_pfnpool_invalidate_might_wait(void);

/* ---- users.c ---- */

bool __gmem_pfnpool_user_pinned(struct gmem_pfnpool_file *gf,
				struct gmem_pfnpool_user *user, pgoff_t start,
				pgoff_t end, pgoff_t *index);

/* ---- extent.c ---- */

int __gmem_pfnpool_extent_ensure(struct gmem_pfnpool_file *gf, pgoff_t index);
int gmem_pfnpool_extent_allocate(struct gmem_pfnpool_file *gf, pgoff_t start,
				 pgoff_t end);
unsigned long __gmem_pfnpool_extent_lookup(struct gmem_pfnpool_file *gf,
					   pgoff_t index, pgoff_t *first,
					   pgoff_t *last);
void __gmem_pfnpool_extent_free(struct gmem_pfnpool_file *gf, pgoff_t start,
				pgoff_t end);
void gmem_pfnpool_extent_release(struct gmem_pfnpool_file *gf);
unsigned long gmem_pfnpool_extent_count(struct gmem_pfnpool_file *gf);

/* ---- mmap.c ---- */

/**
 * struct gmem_pfnpool_map_ctx - what decides the order of a mapping
 * @addr: faulting user address
 * @vm_start: start of the VMA
 * @vm_end: end of the VMA
 * @index: file page index of @addr
 * @pfn: PFN backing @index
 * @ext_first: first page index of the extent containing @index
 * @ext_last: last page index of that extent (its PFNs are contiguous)
 * @attr_first: first page index of the shared range containing @index
 * @attr_last: last page index of that range
 */
struct gmem_pfnpool_map_ctx {
	unsigned long addr;
	unsigned long vm_start;
	unsigned long vm_end;
	pgoff_t index;
	unsigned long pfn;
	pgoff_t ext_first;
	pgoff_t ext_last;
	pgoff_t attr_first;
	pgoff_t attr_last;
};

bool gmem_pfnpool_order_fits(const struct gmem_pfnpool_map_ctx *ctx,
			     unsigned int order);
unsigned int gmem_pfnpool_map_order(const struct gmem_pfnpool_map_ctx *ctx,
				    unsigned int max_order);
int gmem_pfnpool_mmap(struct file *file, struct vm_area_struct *vma);
int gmem_pfnpool_mmap_user_init(struct gmem_pfnpool_file *gf);

/* ---- file.c (VFS side) / main.c ---- */

extern const struct file_operations gmem_pfnpool_fops;
extern struct gmem_pfnpool_pool gmem_pfnpool_pool;
extern struct mutex gmem_pfnpool_files_lock;
extern struct list_head gmem_pfnpool_files;

int gmem_pfnpool_fs_init(void);
void gmem_pfnpool_fs_exit(void);
struct file *gmem_pfnpool_create(u64 size, u32 flags);

/* ---- dmabuf.c ---- */

struct dma_buf *gmem_pfnpool_export_dmabuf(struct gmem_pfnpool_file *gf,
					   pgoff_t start, pgoff_t end);

/* ---- debugfs.c ---- */

void gmem_pfnpool_debugfs_init(void);
void gmem_pfnpool_debugfs_exit(void);

/* ---- global counters (main.c) ---- */

extern atomic64_t gmem_pfnpool_total_faults;

#endif /* _GMEM_PFNPOOL_INTERNAL_H */

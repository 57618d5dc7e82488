// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest-memory files: their extents (file page -> PFN) and their VFS side.
 *
 * Each file gets its own inode from a private pseudo filesystem (like
 * mm/secretmem.c), so unmap_mapping_range() on its mapping zaps the mappings
 * of this file only.
 *
 * Extents live in a maple tree: a range of file pages -> xa_mk_value(PFN of
 * the first page). Memory is allocated per naturally aligned block of the
 * file (1 GiB, else 2 MiB, else 4 KiB, whichever is free in the file and in
 * the pool) so that file offset and PFN share their alignment: a mapping at
 * an address congruent to the offset can then use PUD or PMD entries.
 *
 * Locking: gf->lock serialises writers of gf->extents (allocation on fault,
 * fallocate, lookup; free in the commit phase or at release). Readers walk
 * the tree under rcu_read_lock() holding gf->lock or gf->map_lock for read.
 * The tree is in RCU mode (MT_FLAGS_USE_RCU): an allocation under gf->lock
 * may store while a map_lock reader walks, and a node it replaces is freed
 * only after a grace period, so the walk never reads a freed or half
 * rewritten node. The memory an extent names is freed only with map_lock
 * held for write, so what a map_lock reader finds stays allocated.
 * Lock order: gf->users_rwsem -> gf->map_lock -> gf->lock (see internal.h).
 */
#include <linux/anon_inodes.h>
#include <linux/dma-buf.h>
#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/huge_mm.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/overflow.h>
#include <linux/pseudo_fs.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <kunit/visibility.h>

#include "internal.h"

#define GMEM_PFNPOOL_MAGIC	0x676d656d	/* "gmem" */

static struct vfsmount *gmem_pfnpool_mnt;

/* Protects gmem_pfnpool_files, the list of open files (for debugfs). */
DEFINE_MUTEX(gmem_pfnpool_files_lock);
LIST_HEAD(gmem_pfnpool_files);

/**
 * __gmem_pfnpool_extent_lookup() - PFN backing a file page
 * @gf: the file
 * @index: page index
 * @first: out: first page of the extent holding @index (or of the hole)
 * @last: out: last page of that extent (or hole)
 *
 * Context: gf->lock or gf->map_lock held.
 * Return: the PFN, or 0 if @index is not allocated (the pool never holds
 * PFN 0).
 */
unsigned long __gmem_pfnpool_extent_lookup(struct gmem_pfnpool_file *gf,
					   pgoff_t index, pgoff_t *first,
					   pgoff_t *last)
{
	MA_STATE(mas, &gf->extents, index, index);
	void *entry;

	lockdep_assert(lockdep_is_held(&gf->lock) ||
		       lockdep_is_held(&gf->map_lock));
	rcu_read_lock();
	entry = mas_walk(&mas);
	*first = mas.index;
	*last = mas.last;
	rcu_read_unlock();
	if (!xa_is_value(entry))
		return 0;
	return xa_to_value(entry) + (index - *first);
}
EXPORT_SYMBOL_IF_KUNIT(__gmem_pfnpool_extent_lookup);

static const unsigned int gmem_pfnpool_alloc_orders[] = {
	GMEM_PFNPOOL_ORDER_PUD, GMEM_PFNPOOL_ORDER_PMD, 0,
};

/**
 * __gmem_pfnpool_extent_ensure() - allocate the memory of a file page
 * @gf: the file
 * @index: page index, < gf->npages
 *
 * Allocates the largest naturally aligned block of the file around @index
 * that has no memory yet and fits in the file, trying 1 GiB, 2 MiB, then
 * 4 KiB blocks of the pool.
 *
 * Context: gf->lock held.
 * Return: 0 (also if already allocated), -ENOSPC, -ENOMEM.
 */
int __gmem_pfnpool_extent_ensure(struct gmem_pfnpool_file *gf, pgoff_t index)
{
	pgoff_t first, last;
	unsigned int i;
	int ret = -ENOSPC;

	lockdep_assert_held(&gf->lock);
	if (__gmem_pfnpool_extent_lookup(gf, index, &first, &last))
		return 0;

	for (i = 0; i < ARRAY_SIZE(gmem_pfnpool_alloc_orders); i++) {
		pgoff_t n = 1UL << gmem_pfnpool_alloc_orders[i];
		pgoff_t bs = ALIGN_DOWN(index, n);
		phys_addr_t phys;

		/* The block must lie in the file and in the hole. */
		if (bs + n > gf->npages || bs < first || bs + n - 1 > last)
			continue;
		ret = gmem_pfnpool_pool_alloc(gf->pool, (u64)n << PAGE_SHIFT,
					      &phys);
		if (ret == -ENOSPC)
			continue;
		if (ret)
			return ret;
		ret = mtree_store_range(&gf->extents, bs, bs + n - 1,
					xa_mk_value(PHYS_PFN(phys)),
					GFP_KERNEL);
		if (ret) {
			gmem_pfnpool_pool_free(gf->pool, phys,
					       (u64)n << PAGE_SHIFT);
			return ret;
		}
		gf->allocated += n;
		return 0;
	}
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(__gmem_pfnpool_extent_ensure);

/**
 * gmem_pfnpool_extent_allocate() - allocate the memory of a page range
 * @gf: the file
 * @start: first page
 * @end: one past the last page
 *
 * On failure, what was allocated stays allocated (as with fallocate()).
 *
 * Return: 0, -ENOSPC, -ENOMEM, -EINTR.
 */
int gmem_pfnpool_extent_allocate(struct gmem_pfnpool_file *gf, pgoff_t start,
				 pgoff_t end)
{
	pgoff_t index = start, first, last;
	int ret = 0;

	mutex_lock(&gf->lock);
	while (index < end) {
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		ret = __gmem_pfnpool_extent_ensure(gf, index);
		if (ret)
			break;
		__gmem_pfnpool_extent_lookup(gf, index, &first, &last);
		index = last + 1;
	}
	mutex_unlock(&gf->lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_extent_allocate);

/*
 * A piece of an extent taken out of a file, on gf->freed until it is zeroed
 * and given back to the pool.
 */
struct gmem_pfnpool_freed {
	struct list_head node;
	phys_addr_t phys;
	u64 size;
};

/**
 * __gmem_pfnpool_extent_free() - take the memory of a page range out
 * @gf: the file
 * @start: first page
 * @end: one past the last page
 *
 * Extents that straddle the range are split. The memory leaves the file at
 * once (a later fault or lookup finds a hole) but is zeroed and given back
 * to the pool only by gmem_pfnpool_extent_release(), which the caller runs
 * once it dropped its locks: zeroing a GiB takes long, and nothing that
 * faults or converts may wait for it. Until then the pool counts it used.
 *
 * Context: gf->lock held, and gf->map_lock held for write or no mapping
 * possible (release).
 */
void __gmem_pfnpool_extent_free(struct gmem_pfnpool_file *gf, pgoff_t start,
				pgoff_t end)
{
	pgoff_t index = start;

	lockdep_assert_held(&gf->lock);
	while (index < end) {
		MA_STATE(mas, &gf->extents, index, index);
		struct gmem_pfnpool_freed *fr;
		pgoff_t first, last, os, oe;
		unsigned long base;
		void *entry;

		rcu_read_lock();
		entry = mas_find(&mas, end - 1);
		first = mas.index;
		last = mas.last;
		rcu_read_unlock();
		if (!entry)
			break;

		base = xa_to_value(entry);
		os = max(first, start);
		oe = min(last, end - 1);
		/* The commit phase cannot fail: none of these may. */
		fr = kmalloc(sizeof(*fr), GFP_KERNEL | __GFP_NOFAIL);
		/* Storing NULL keeps the left part [first, os) as it is. */
		mtree_store_range(&gf->extents, os, oe, NULL,
				  GFP_KERNEL | __GFP_NOFAIL);
		if (oe < last)
			mtree_store_range(&gf->extents, oe + 1, last,
					  xa_mk_value(base + (oe + 1 - first)),
					  GFP_KERNEL | __GFP_NOFAIL);
		fr->phys = PFN_PHYS(base + (os - first));
		fr->size = (u64)(oe - os + 1) << PAGE_SHIFT;
		list_add_tail(&fr->node, &gf->freed);
		gf->allocated -= oe - os + 1;
		index = oe + 1;
	}
}
EXPORT_SYMBOL_IF_KUNIT(__gmem_pfnpool_extent_free);

/**
 * gmem_pfnpool_extent_release() - zero and give back what was taken out
 * @gf: the file
 *
 * Zeroes the memory that __gmem_pfnpool_extent_free() took out of @gf,
 * whoever took it, and returns it to the pool.
 *
 * Context: may sleep; gf->lock and gf->map_lock not held.
 */
void gmem_pfnpool_extent_release(struct gmem_pfnpool_file *gf)
{
	struct gmem_pfnpool_freed *fr, *tmp;
	LIST_HEAD(freed);

	lockdep_assert_not_held(&gf->map_lock);
	mutex_lock(&gf->lock);
	list_splice_init(&gf->freed, &freed);
	mutex_unlock(&gf->lock);
	list_for_each_entry_safe(fr, tmp, &freed, node) {
		gmem_pfnpool_pool_free(gf->pool, fr->phys, fr->size);
		kfree(fr);
	}
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_extent_release);

/**
 * gmem_pfnpool_extent_count() - number of extents of a file
 * @gf: the file
 *
 * Return: the number of contiguous extents.
 */
unsigned long gmem_pfnpool_extent_count(struct gmem_pfnpool_file *gf)
{
	return gmem_pfnpool_mt_count(&gf->extents);
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_extent_count);

/* ---- VFS side ---- */

static int gmem_pfnpool_check_range(struct gmem_pfnpool_file *gf, u64 offset,
				    u64 size, pgoff_t *start, pgoff_t *end)
{
	u64 stop;

	if (!size || !PAGE_ALIGNED(offset) || !PAGE_ALIGNED(size) ||
	    check_add_overflow(offset, size, &stop) ||
	    stop > ((u64)gf->npages << PAGE_SHIFT)) {
		pr_debug("bad range offset %#llx size %#llx (file size %#llx)\n",
			 offset, size,
			 (u64)gf->npages << PAGE_SHIFT);
		return -EINVAL;
	}
	*start = offset >> PAGE_SHIFT;
	*end = stop >> PAGE_SHIFT;
	return 0;
}

static bool gmem_pfnpool_reserved_nonzero(const u64 *reserved, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (reserved[i]) {
			pr_debug("non-zero reserved field\n");
			return true;
		}
	}
	return false;
}

static long gmem_pfnpool_ioctl_set_attr(struct gmem_pfnpool_file *gf,
					void __user *argp)
{
	struct gmem_pfnpool_set_attr arg;
	struct gmem_pfnpool_veto veto = {};
	pgoff_t start, end;
	int ret;

	if (copy_from_user(&arg, argp, sizeof(arg)))
		return -EFAULT;
	if (arg.flags ||
	    gmem_pfnpool_reserved_nonzero(arg.reserved,
					  ARRAY_SIZE(arg.reserved)))
		return -EINVAL;
	if (arg.attr != GMEM_PFNPOOL_ATTR_SHARED &&
	    arg.attr != GMEM_PFNPOOL_ATTR_PRIVATE) {
		pr_debug("unknown attribute %u\n",
			 arg.attr);
		return -EINVAL;
	}
	ret = gmem_pfnpool_check_range(gf, arg.offset, arg.size, &start, &end);
	if (ret)
		return ret;

	ret = gmem_pfnpool_convert(gf, start, end, arg.attr, &veto);
	if (ret != -EBUSY)
		return ret;

	arg.error_offset = (u64)veto.index << PAGE_SHIFT;
	memset(arg.error_user, 0, sizeof(arg.error_user));
	strscpy(arg.error_user, veto.name, sizeof(arg.error_user));
	if (copy_to_user(argp, &arg, sizeof(arg)))
		return -EFAULT;
	return ret;
}

static long gmem_pfnpool_ioctl_get_attr(struct gmem_pfnpool_file *gf,
					void __user *argp)
{
	struct gmem_pfnpool_get_attr arg;
	pgoff_t start, end, first, last;
	int ret;

	if (copy_from_user(&arg, argp, sizeof(arg)))
		return -EFAULT;
	if (arg.flags ||
	    gmem_pfnpool_reserved_nonzero(arg.reserved,
					  ARRAY_SIZE(arg.reserved)))
		return -EINVAL;
	ret = gmem_pfnpool_check_range(gf, arg.offset, PAGE_SIZE, &start, &end);
	if (ret)
		return ret;

	arg.attr = gmem_pfnpool_attrs_get(&gf->attrs, start, &first, &last);
	arg.range_offset = (u64)first << PAGE_SHIFT;
	arg.range_size = (u64)(last - first + 1) << PAGE_SHIFT;
	if (copy_to_user(argp, &arg, sizeof(arg)))
		return -EFAULT;
	return 0;
}

static long gmem_pfnpool_ioctl_export(struct gmem_pfnpool_file *gf,
				      void __user *argp)
{
	struct gmem_pfnpool_export_dmabuf arg;
	struct dma_buf *dmabuf;
	pgoff_t start, end;
	int fd, ret;

	if (copy_from_user(&arg, argp, sizeof(arg)))
		return -EFAULT;
	if (arg.flags ||
	    gmem_pfnpool_reserved_nonzero(arg.reserved,
					  ARRAY_SIZE(arg.reserved)))
		return -EINVAL;
	ret = gmem_pfnpool_check_range(gf, arg.offset, arg.size, &start, &end);
	if (ret)
		return ret;

	dmabuf = gmem_pfnpool_export_dmabuf(gf, start, end);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto put_dmabuf;
	}
	arg.fd = fd;
	if (copy_to_user(argp, &arg, sizeof(arg))) {
		ret = -EFAULT;
		goto put_fd;
	}
	/* Installed last: a failed copy-back leaves no fd behind. */
	fd_install(fd, dmabuf->file);
	return fd;

put_fd:
	put_unused_fd(fd);
put_dmabuf:
	dma_buf_put(dmabuf);
	return ret;
}

static long gmem_pfnpool_ioctl_stats(struct gmem_pfnpool_file *gf,
				     void __user *argp)
{
	struct gmem_pfnpool_stats arg;

	if (copy_from_user(&arg, argp, sizeof(arg)))
		return -EFAULT;
	if (arg.flags || arg.reserved0 ||
	    gmem_pfnpool_reserved_nonzero(arg.reserved,
					  ARRAY_SIZE(arg.reserved)))
		return -EINVAL;

	arg.faults = atomic64_read(&gf->stats.faults);
	arg.mapped_pte = atomic64_read(&gf->stats.mapped_pte);
	arg.mapped_pmd = atomic64_read(&gf->stats.mapped_pmd);
	arg.mapped_pud = atomic64_read(&gf->stats.mapped_pud);
	arg.conversions = atomic64_read(&gf->stats.conversions);
	arg.vetoes = atomic64_read(&gf->stats.vetoes);
	mutex_lock(&gf->lock);
	arg.allocated = (u64)gf->allocated << PAGE_SHIFT;
	mutex_unlock(&gf->lock);
	if (copy_to_user(argp, &arg, sizeof(arg)))
		return -EFAULT;
	return 0;
}

static long gmem_pfnpool_file_ioctl(struct file *file, unsigned int cmd,
				    unsigned long arg)
{
	struct gmem_pfnpool_file *gf = file->private_data;
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case GMEM_PFNPOOL_IOC_SET_ATTR:
		return gmem_pfnpool_ioctl_set_attr(gf, argp);
	case GMEM_PFNPOOL_IOC_GET_ATTR:
		return gmem_pfnpool_ioctl_get_attr(gf, argp);
	case GMEM_PFNPOOL_IOC_EXPORT_DMABUF:
		return gmem_pfnpool_ioctl_export(gf, argp);
	case GMEM_PFNPOOL_IOC_STATS:
		return gmem_pfnpool_ioctl_stats(gf, argp);
	default:
		return -ENOTTY;
	}
}

static long gmem_pfnpool_fallocate(struct file *file, int mode, loff_t offset,
				   loff_t len)
{
	struct gmem_pfnpool_file *gf = file->private_data;
	struct gmem_pfnpool_veto veto = {};
	pgoff_t start, end;
	int ret;

	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE))
		return -EOPNOTSUPP;
	if ((mode & FALLOC_FL_PUNCH_HOLE) && !(mode & FALLOC_FL_KEEP_SIZE))
		return -EOPNOTSUPP;
	if (offset < 0 || len <= 0)
		return -EINVAL;
	ret = gmem_pfnpool_check_range(gf, offset, len, &start, &end);
	if (ret)
		return ret;

	if (mode & FALLOC_FL_PUNCH_HOLE) {
		ret = gmem_pfnpool_punch(gf, start, end, &veto);
		if (ret == -EBUSY)
			pr_debug("punch refused at %#llx by %s\n",
				 (u64)veto.index << PAGE_SHIFT,
				 veto.name);
		return ret;
	}
	return gmem_pfnpool_extent_allocate(gf, start, end);
}

static int gmem_pfnpool_release(struct inode *inode, struct file *file)
{
	struct gmem_pfnpool_file *gf = file->private_data;

	mutex_lock(&gmem_pfnpool_files_lock);
	list_del(&gf->node);
	mutex_unlock(&gmem_pfnpool_files_lock);

	/* Every mapping and export held a file reference: all are gone. */
	gmem_pfnpool_unregister_user(gf, &gf->mmap_user);
	gmem_pfnpool_file_destroy(gf);
	kfree(gf);
	return 0;
}

/* The size is fixed: truncating would unmap outside the two-phase protocol. */
static int gmem_pfnpool_setattr(struct mnt_idmap *idmap,
				struct dentry *dentry, struct iattr *attr)
{
	if (attr->ia_valid & ATTR_SIZE)
		return -EPERM;
	return simple_setattr(idmap, dentry, attr);
}

static const struct inode_operations gmem_pfnpool_iops = {
	.setattr = gmem_pfnpool_setattr,
};

const struct file_operations gmem_pfnpool_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = gmem_pfnpool_file_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = gmem_pfnpool_mmap,
	.get_unmapped_area = thp_get_unmapped_area,
	.fallocate = gmem_pfnpool_fallocate,
	.release = gmem_pfnpool_release,
	.llseek = noop_llseek,
};

/**
 * gmem_pfnpool_create() - create a guest-memory file
 * @size: size in bytes (checked by the caller)
 * @flags: GMEM_PFNPOOL_CREATE_* (checked by the caller)
 *
 * The caller installs the file in an fd (O_RDWR, give it O_CLOEXEC) or
 * drops it with fput().
 *
 * Return: the file, or an ERR_PTR().
 */
struct file *gmem_pfnpool_create(u64 size, u32 flags)
{
	u32 attr = flags & GMEM_PFNPOOL_CREATE_PRIVATE ?
		   GMEM_PFNPOOL_ATTR_PRIVATE : GMEM_PFNPOOL_ATTR_SHARED;
	struct gmem_pfnpool_file *gf;
	struct inode *inode;
	struct file *file;
	int ret;

	gf = kzalloc(sizeof(*gf), GFP_KERNEL);
	if (!gf)
		return ERR_PTR(-ENOMEM);
	ret = gmem_pfnpool_file_init(gf, &gmem_pfnpool_pool,
				     size >> PAGE_SHIFT, attr);
	if (ret)
		goto free_gf;
	ret = gmem_pfnpool_mmap_user_init(gf);
	if (ret)
		goto destroy_gf;

	inode = alloc_anon_inode(gmem_pfnpool_mnt->mnt_sb);
	if (IS_ERR(inode)) {
		ret = PTR_ERR(inode);
		goto unregister_mmap;
	}
	/* fallocate() wants a regular file. */
	inode->i_mode |= S_IFREG;
	inode->i_op = &gmem_pfnpool_iops;
	inode->i_size = size;
	inode->i_private = gf;

	file = alloc_file_pseudo(inode, gmem_pfnpool_mnt, "gmem", O_RDWR,
				 &gmem_pfnpool_fops);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto put_inode;
	}
	/* alloc_file_pseudo() takes no module reference; fput() drops one. */
	__module_get(THIS_MODULE);
	file->f_flags |= O_LARGEFILE;
	file->private_data = gf;
	gf->file = file;
	gf->mapping = inode->i_mapping;

	mutex_lock(&gmem_pfnpool_files_lock);
	list_add_tail(&gf->node, &gmem_pfnpool_files);
	mutex_unlock(&gmem_pfnpool_files_lock);
	return file;

put_inode:
	iput(inode);
unregister_mmap:
	gmem_pfnpool_unregister_user(gf, &gf->mmap_user);
destroy_gf:
	gmem_pfnpool_file_destroy(gf);
free_gf:
	kfree(gf);
	return ERR_PTR(ret);
}

static int gmem_pfnpool_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, GMEM_PFNPOOL_MAGIC) ? 0 : -ENOMEM;
}

static struct file_system_type gmem_pfnpool_fs = {
	.name = GMEM_PFNPOOL_NAME,
	.init_fs_context = gmem_pfnpool_init_fs_context,
	.kill_sb = kill_anon_super,
};

/**
 * gmem_pfnpool_fs_init() - mount the private filesystem of gmem inodes
 *
 * Return: 0 or a negative errno.
 */
int gmem_pfnpool_fs_init(void)
{
	gmem_pfnpool_mnt = kern_mount(&gmem_pfnpool_fs);
	return PTR_ERR_OR_ZERO(gmem_pfnpool_mnt);
}

/**
 * gmem_pfnpool_fs_exit() - unmount it
 */
void gmem_pfnpool_fs_exit(void)
{
	kern_unmount(gmem_pfnpool_mnt);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest-memory files: the object and its VFS face.
 *
 * A file has a core, set up and torn down here (gmem_pfnpool_file_init(),
 * gmem_pfnpool_file_destroy()): its extent map (extent.c), the attribute of
 * each page (attr.c), its users (users.c) and the state of the invalidation
 * engine (invalidate.c). KUnit suites use the core alone.
 *
 * gmem_pfnpool_create() adds the VFS side: each file gets its own inode from
 * a private pseudo filesystem (like mm/secretmem.c), so unmap_mapping_range()
 * on its mapping zaps the mappings of this file only; its userspace mappings
 * (mmap.c) are its first user. The ioctls, fallocate() and release() are
 * here; every change of a range goes through the engine.
 *
 * The size of a file is fixed at creation: truncating would unmap outside
 * the two-phase protocol, so setattr refuses ATTR_SIZE.
 *
 * Lock order: gf->users_rwsem -> gf->map_lock -> gf->lock (see internal.h).
 * gmem_pfnpool_files_lock is taken alone.
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
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <kunit/visibility.h>

#include "internal.h"

#define GMEM_PFNPOOL_MAGIC	0x676d656d	/* "gmem" */

static struct vfsmount *gmem_pfnpool_mnt;

/* Protects gmem_pfnpool_files, the list of open files (for debugfs). */
DEFINE_MUTEX(gmem_pfnpool_files_lock);
LIST_HEAD(gmem_pfnpool_files);

/* ---- the core of a file ---- */

/**
 * gmem_pfnpool_file_init() - set up the core of a gmem file
 * @gf: zeroed file state
 * @pool: pool backing it
 * @npages: size in pages, non-zero
 * @attr: initial attribute of every page
 *
 * The VFS side (struct file, mapping, mmap user) is added by
 * gmem_pfnpool_create(); KUnit suites use the core alone.
 *
 * Return: 0 or -ENOMEM.
 */
int gmem_pfnpool_file_init(struct gmem_pfnpool_file *gf,
			   struct gmem_pfnpool_pool *pool, pgoff_t npages,
			   u32 attr)
{
	int ret;

	gf->pool = pool;
	gf->npages = npages;
	mutex_init(&gf->lock);
	/* RCU mode: see the locking notes of extent.c and attr.c. */
	mt_init_flags(&gf->extents, MT_FLAGS_USE_RCU);
	gf->inflight = RB_ROOT_CACHED;
	init_waitqueue_head(&gf->wq);
	init_rwsem(&gf->users_rwsem);
	INIT_LIST_HEAD(&gf->users);
	init_rwsem(&gf->map_lock);
	INIT_LIST_HEAD(&gf->node);
	INIT_LIST_HEAD(&gf->freed);

	ret = gmem_pfnpool_attrs_init(&gf->attrs, npages, attr);
	if (ret)
		gmem_pfnpool_attrs_destroy(&gf->attrs);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_file_init);

/**
 * gmem_pfnpool_file_destroy() - free a file core and its memory
 * @gf: file state with no users left
 *
 * Returns every extent, zeroed, to the pool.
 */
void gmem_pfnpool_file_destroy(struct gmem_pfnpool_file *gf)
{
	WARN_ON(!list_empty(&gf->users));
	mutex_lock(&gf->lock);
	__gmem_pfnpool_extent_free(gf, 0, gf->npages);
	mutex_unlock(&gf->lock);
	gmem_pfnpool_extent_release(gf);
	mtree_destroy(&gf->extents);
	gmem_pfnpool_attrs_destroy(&gf->attrs);
	mutex_destroy(&gf->lock);
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_file_destroy);

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

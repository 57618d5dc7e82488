// SPDX-License-Identifier: GPL-2.0-only
/*
 * gmem_pfnpool - guest memory from physical ranges without struct pages.
 *
 * Module entry: the ranges= parameter, the physical ranges it names
 * (validated, claimed, mapped), the pool built on them, and the
 * /dev/gmem_pfnpool device that creates guest-memory files.
 *
 * Locking: module init and exit run single-threaded; the pool is fixed once
 * init succeeded; the device's only ioctl creates files and takes no lock
 * of its own.
 */
#include <linux/file.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "internal.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static char *ranges;
module_param(ranges, charp, 0444);
MODULE_PARM_DESC(ranges,
		 "Physical ranges to own, SIZE@ADDR[,SIZE@ADDR...] (memparse suffixes K/M/G), page-aligned, outside System RAM, e.g. 1G@0x140000000 (carve out with memmap=1G$0x140000000)");

struct gmem_pfnpool_pool gmem_pfnpool_pool;
atomic64_t gmem_pfnpool_total_faults;

/**
 * struct gmem_pfnpool_region - a physical range claimed at load
 * @res: from request_mem_region()
 * @kva: from memremap()
 * @phys: physical base
 * @size: size in bytes
 */
struct gmem_pfnpool_region {
	struct resource *res;
	void *kva;
	phys_addr_t phys;
	u64 size;
};

#define GMEM_PFNPOOL_MAX_RANGES	16
static struct gmem_pfnpool_region gmem_pfnpool_regions[GMEM_PFNPOOL_MAX_RANGES];
static unsigned int gmem_pfnpool_nr_regions;

static int gmem_pfnpool_parse_one(char *tok, phys_addr_t *phys, u64 *size)
{
	char *p = tok, *at;
	u64 addr;

	*size = memparse(p, &p);
	if (p == tok || *p != '@')
		goto bad;
	at = p + 1;
	addr = memparse(at, &p);
	if (p == at || *p)
		goto bad;
	*phys = addr;
	return 0;
bad:
	pr_err("ranges=: cannot parse \"%s\": expected SIZE@ADDR, e.g. 1G@0x140000000\n",
	       tok);
	return -EINVAL;
}

static int gmem_pfnpool_check_region(phys_addr_t phys, u64 size)
{
	unsigned int i;

	if (!size || !PAGE_ALIGNED(phys) || !PAGE_ALIGNED(size)) {
		pr_err("ranges=: %#llx@%#llx: size and address must be non-zero multiples of %lu\n",
		       size, (u64)phys, PAGE_SIZE);
		return -EINVAL;
	}
	if (!phys || phys + size < phys) {
		pr_err("ranges=: %#llx@%#llx: address zero or range overflows\n",
		       size, (u64)phys);
		return -EINVAL;
	}
	for (i = 0; i < gmem_pfnpool_nr_regions; i++) {
		struct gmem_pfnpool_region *r = &gmem_pfnpool_regions[i];

		if (phys < r->phys + r->size && r->phys < phys + size) {
			pr_err("ranges=: %#llx@%#llx overlaps %#llx@%#llx given before\n",
			       size, (u64)phys, r->size, (u64)r->phys);
			return -EINVAL;
		}
	}
	if (region_intersects(phys, size, IORESOURCE_SYSTEM_RAM,
			      IORES_DESC_NONE) != REGION_DISJOINT) {
		pr_err("ranges=: %#llx@%#llx overlaps System RAM; carve it out with memmap=SIZE$ADDR\n",
		       size, (u64)phys);
		return -EINVAL;
	}
	return 0;
}

static void gmem_pfnpool_release_regions(void)
{
	while (gmem_pfnpool_nr_regions) {
		struct gmem_pfnpool_region *r =
			&gmem_pfnpool_regions[--gmem_pfnpool_nr_regions];

		memunmap(r->kva);
		release_mem_region(r->phys, r->size);
	}
}

static int gmem_pfnpool_claim_region(phys_addr_t phys, u64 size)
{
	struct gmem_pfnpool_region *r;
	int ret;

	if (gmem_pfnpool_nr_regions == GMEM_PFNPOOL_MAX_RANGES) {
		pr_err("ranges=: at most %d ranges\n", GMEM_PFNPOOL_MAX_RANGES);
		return -EINVAL;
	}
	ret = gmem_pfnpool_check_region(phys, size);
	if (ret)
		return ret;

	r = &gmem_pfnpool_regions[gmem_pfnpool_nr_regions];
	r->res = request_mem_region(phys, size, GMEM_PFNPOOL_NAME);
	if (!r->res) {
		pr_err("ranges=: %#llx@%#llx is claimed by another driver (see /proc/iomem)\n",
		       size, (u64)phys);
		return -EBUSY;
	}
	r->kva = memremap(phys, size, MEMREMAP_WB);
	if (!r->kva) {
		pr_err("ranges=: cannot map %#llx@%#llx\n", size, (u64)phys);
		ret = -ENOMEM;
		goto release_region;
	}
	r->phys = phys;
	r->size = size;
	ret = gmem_pfnpool_pool_add(&gmem_pfnpool_pool, phys, r->kva, size);
	if (ret)
		goto unmap;
	gmem_pfnpool_nr_regions++;
	pr_info("owns %#llx-%#llx (%llu MiB)\n", (u64)phys,
		(u64)phys + size - 1, size >> 20);
	return 0;

unmap:
	memunmap(r->kva);
release_region:
	release_mem_region(phys, size);
	return ret;
}

static int gmem_pfnpool_setup_ranges(void)
{
	char *buf, *cur, *tok;
	int ret = 0;

	if (!ranges || !*ranges) {
		pr_info("no ranges= given: the pool is empty\n");
		return 0;
	}
	buf = kstrdup(ranges, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	cur = buf;
	while ((tok = strsep(&cur, ",")) != NULL) {
		phys_addr_t phys;
		u64 size;

		ret = gmem_pfnpool_parse_one(tok, &phys, &size);
		if (ret)
			break;
		ret = gmem_pfnpool_claim_region(phys, size);
		if (ret)
			break;
	}
	kfree(buf);
	return ret;
}

static long gmem_pfnpool_dev_ioctl(struct file *file, unsigned int cmd,
				   unsigned long arg)
{
	struct gmem_pfnpool_create __user *argp = (void __user *)arg;
	struct gmem_pfnpool_create c;
	struct file *gmem;
	int fd;

	if (cmd != GMEM_PFNPOOL_IOC_CREATE)
		return -ENOTTY;
	if (copy_from_user(&c, argp, sizeof(c)))
		return -EFAULT;
	if (c.flags & ~GMEM_PFNPOOL_CREATE_FLAGS || c.reserved[0] ||
	    c.reserved[1]) {
		pr_debug("create: unknown flags %#x or non-zero reserved field\n",
			 c.flags);
		return -EINVAL;
	}
	if (!c.size || !PAGE_ALIGNED(c.size)) {
		pr_debug("create: size %#llx is zero or not page-aligned\n",
			 c.size);
		return -EINVAL;
	}
	if (c.size > gmem_pfnpool_pool.total) {
		pr_debug("create: size %#llx larger than the pool (%#llx)\n",
			 c.size, gmem_pfnpool_pool.total);
		return -ENOSPC;
	}

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	gmem = gmem_pfnpool_create(c.size, c.flags);
	if (IS_ERR(gmem)) {
		put_unused_fd(fd);
		return PTR_ERR(gmem);
	}
	c.fd = fd;
	if (copy_to_user(argp, &c, sizeof(c))) {
		put_unused_fd(fd);
		fput(gmem);
		return -EFAULT;
	}
	/* Installed last: a failed copy-back leaves no fd behind. */
	fd_install(fd, gmem);
	return fd;
}

static const struct file_operations gmem_pfnpool_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = gmem_pfnpool_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

/*
 * /sys/class/misc/gmem_pfnpool/pool/: the pool's state without debugfs (which
 * lockdown removes). Sizes in bytes; each value is read without a lock and
 * may be stale by the time it is read.
 */
static ssize_t total_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%llu\n", gmem_pfnpool_pool.total);
}
static DEVICE_ATTR_RO(total);

static ssize_t free_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%llu\n",
			  gmem_pfnpool_pool_free_bytes(&gmem_pfnpool_pool));
}
static DEVICE_ATTR_RO(free);

static ssize_t used_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%llu\n",
			  gmem_pfnpool_pool_used_bytes(&gmem_pfnpool_pool));
}
static DEVICE_ATTR_RO(used);

/* The largest naturally aligned free block: 1 GiB, 2 MiB, 4 KiB or 0. */
static ssize_t largest_free_block_show(struct device *dev,
				       struct device_attribute *attr, char *buf)
{
	static const unsigned int orders[] = {
		GMEM_PFNPOOL_ORDER_PUD, GMEM_PFNPOOL_ORDER_PMD, 0
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(orders); i++)
		if (gmem_pfnpool_pool_free_blocks(&gmem_pfnpool_pool, orders[i]))
			return sysfs_emit(buf, "%lu\n", PAGE_SIZE << orders[i]);
	return sysfs_emit(buf, "0\n");
}
static DEVICE_ATTR_RO(largest_free_block);

/* One line per range of ranges=: "<phys> <size> <free>". */
static ssize_t ranges_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct gmem_pfnpool_pool_range *r;
	int len = 0;

	list_for_each_entry(r, &gmem_pfnpool_pool.ranges, node)
		len += sysfs_emit_at(buf, len, "%#llx %llu %llu\n",
				     (u64)r->phys, r->size,
				     gmem_pfnpool_pool_range_free(&gmem_pfnpool_pool,
								  r->phys));
	return len;
}
static DEVICE_ATTR_RO(ranges);

static struct attribute *gmem_pfnpool_pool_attrs[] = {
	&dev_attr_total.attr,
	&dev_attr_free.attr,
	&dev_attr_used.attr,
	&dev_attr_largest_free_block.attr,
	&dev_attr_ranges.attr,
	NULL
};

static const struct attribute_group gmem_pfnpool_pool_group = {
	.name = "pool",
	.attrs = gmem_pfnpool_pool_attrs,
};

static const struct attribute_group *gmem_pfnpool_groups[] = {
	&gmem_pfnpool_pool_group,
	NULL
};

static struct miscdevice gmem_pfnpool_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = GMEM_PFNPOOL_NAME,
	.fops = &gmem_pfnpool_dev_fops,
	.mode = 0600,
	.groups = gmem_pfnpool_groups,
};

static int __init gmem_pfnpool_init(void)
{
	int ret;

	ret = gmem_pfnpool_pool_init(&gmem_pfnpool_pool);
	if (ret)
		return ret;
	ret = gmem_pfnpool_setup_ranges();
	if (ret)
		goto release_regions;
	ret = gmem_pfnpool_fs_init();
	if (ret)
		goto release_regions;
	ret = misc_register(&gmem_pfnpool_misc);
	if (ret)
		goto fs_exit;
	gmem_pfnpool_debugfs_init();
	return 0;

fs_exit:
	gmem_pfnpool_fs_exit();
release_regions:
	gmem_pfnpool_pool_destroy(&gmem_pfnpool_pool);
	gmem_pfnpool_release_regions();
	return ret;
}
module_init(gmem_pfnpool_init);

static void __exit gmem_pfnpool_exit(void)
{
	gmem_pfnpool_debugfs_exit();
	misc_deregister(&gmem_pfnpool_misc);
	gmem_pfnpool_fs_exit();
	gmem_pfnpool_pool_destroy(&gmem_pfnpool_pool);
	gmem_pfnpool_release_regions();
}
module_exit(gmem_pfnpool_exit);

MODULE_DESCRIPTION("Guest memory from unmanaged PFN ranges");
MODULE_VERSION(CCHOST_VERSION);
MODULE_LICENSE("GPL");

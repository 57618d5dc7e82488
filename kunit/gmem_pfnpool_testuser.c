// SPDX-License-Identifier: GPL-2.0-only
/*
 * gmem_pfnpool_testuser - an in-kernel user of gmem_pfnpool driven from
 * userspace, for the in-guest tests. Test only.
 *
 * /sys/kernel/debug/gmem_pfnpool_testuser/
 *   ctl    write one command:
 *            attach FD        get the gmem file FD (of the writer) and
 *                             register as user "testuser"
 *            detach           unregister, drop pins, put the file (EINTR
 *                             on a fatal signal while a conversion calls
 *                             the users)
 *            veto 0|1         refuse (1) or accept (0) every prepare
 *            delay MS         sleep MS milliseconds (up to 10 s) in every
 *                             prepare that accepts (keeps conversions in
 *                             flight longer), uninterruptibly, as a user
 *                             waiting for its device would
 *            lazy 0|1         on move_notify, keep the mapping (1) until
 *                             dmabuf_detach, or drop it at once (0)
 *            pin OFF LEN      pin a byte range; unpin OFF LEN drops it
 *            lookup OFF       look a page up (result in state)
 *            dmabuf FD        import the DMA-BUF FD as a dynamic importer
 *                             and map it
 *            remap            try to map the imported DMA-BUF again
 *            dmabuf_detach    unmap and detach it
 *            simport FD       import the DMA-BUF FD as a static importer
 *                             (no move_notify) and map it once, as DRM
 *                             PRIME importers do
 *            sread OFF        read the first three 64-bit words of the page
 *                             at byte OFF of the static import through its
 *                             mapping (result in state)
 *            sdetach          unmap and detach the static import
 *   state  read: "key value" lines: attached, prepare, commit, abort,
 *          veto, pins, lookup_ret, lookup_pfn, lookup_attr, lookup_order,
 *          dmabuf_attached, dmabuf_mapped, dmabuf_sg_bytes, dmabuf_sg_nents,
 *          dmabuf_sg_max (largest sg_dma_len), dmabuf_max_seg (the test
 *          device's dma_get_max_seg_size(), which the exporter must respect),
 *          move_notify,
 *          remap_ret, simport_bytes, sread_ret, sread_phys (hex), sread_w0,
 *          sread_w1, sread_w2 (hex), lookup_over_inflight (lookups that
 *          returned a huge order for a block part of which was, as far as
 *          this user knows, being converted: between its prepare and its
 *          commit or abort), lookup_over_inflight_last ("INDEX ORDER START
 *          END" of the last one)
 *
 * sread reads what a device using the static import's mapping would read:
 * the test device has no IOMMU translation (sread fails with EOPNOTSUPP
 * otherwise), so its DMA addresses are physical addresses.
 *
 * Locking: tu_lock (a mutex) serialises commands and protects the state
 * below; callbacks from gmem_pfnpool only touch atomics, read @veto and
 * @delay and update the in-flight ranges under tu_inflight_lock.
 * Importer state (dmabuf_sgt) is also protected by the DMA-BUF's
 * reservation lock where dma-buf requires it (map, unmap, move_notify).
 */
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/err.h>
#include <linux/io.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/gmem_pfnpool.h>

MODULE_IMPORT_NS("DMA_BUF");

static DEFINE_MUTEX(tu_lock);
static struct dentry *tu_dir;
static struct platform_device *tu_pdev;

static struct gmem_pfnpool_file *tu_gf;
static struct gmem_pfnpool_user tu_user;
static bool tu_veto;
static unsigned int tu_delay_ms;

/* Ranges between this user's prepare and commit/abort (end == 0: free). */
#define TU_INFLIGHT	8
static DEFINE_SPINLOCK(tu_inflight_lock);
static struct gmem_pfnpool_range tu_inflight[TU_INFLIGHT];
static atomic_t tu_over_inflight;
static pgoff_t tu_over_index, tu_over_start, tu_over_end;
static unsigned int tu_over_order;
static bool tu_lazy;
static unsigned int tu_pins;
static atomic_t tu_prepare, tu_commit, tu_abort;
static int tu_lookup_ret = -ENODATA;
static unsigned long tu_lookup_pfn;
static u32 tu_lookup_attr;
static unsigned int tu_lookup_order;
static unsigned long tu_lookup_seq;

static struct dma_buf *tu_dmabuf;
static struct dma_buf_attachment *tu_attach;
static struct sg_table *tu_sgt;	/* under tu_dmabuf->resv */
static u64 tu_sg_bytes;
static unsigned int tu_sg_nents;
static unsigned int tu_sg_max;
static atomic_t tu_move_notify;
static int tu_remap_ret;

static struct dma_buf *tu_sbuf;		/* static import */
static struct dma_buf_attachment *tu_sattach;
static struct sg_table *tu_ssgt;
static u64 tu_sbytes;
static int tu_sread_ret = -ENODATA;
static phys_addr_t tu_sread_phys;
static u64 tu_sread_w[3];

static void tu_inflight_add(const struct gmem_pfnpool_range *range)
{
	unsigned int i;

	spin_lock(&tu_inflight_lock);
	for (i = 0; i < TU_INFLIGHT; i++) {
		if (!tu_inflight[i].end) {
			tu_inflight[i] = *range;
			break;
		}
	}
	spin_unlock(&tu_inflight_lock);
}

static void tu_inflight_del(const struct gmem_pfnpool_range *range)
{
	unsigned int i;

	spin_lock(&tu_inflight_lock);
	for (i = 0; i < TU_INFLIGHT; i++) {
		if (tu_inflight[i].start == range->start &&
		    tu_inflight[i].end == range->end) {
			tu_inflight[i].end = 0;
			break;
		}
	}
	spin_unlock(&tu_inflight_lock);
}

/* After a lookup: does its block overlap a range in flight? */
static void tu_inflight_check(pgoff_t index, unsigned int order)
{
	pgoff_t first = ALIGN_DOWN(index, 1UL << order);
	pgoff_t last = first + (1UL << order) - 1;
	unsigned int i;

	spin_lock(&tu_inflight_lock);
	for (i = 0; i < TU_INFLIGHT; i++) {
		if (!tu_inflight[i].end || tu_inflight[i].start > last ||
		    tu_inflight[i].end <= first)
			continue;
		atomic_inc(&tu_over_inflight);
		tu_over_index = index;
		tu_over_order = order;
		tu_over_start = tu_inflight[i].start;
		tu_over_end = tu_inflight[i].end;
		break;
	}
	spin_unlock(&tu_inflight_lock);
}

static int tu_prepare_cb(struct gmem_pfnpool_user *user,
			 const struct gmem_pfnpool_range *range)
{
	unsigned int delay = READ_ONCE(tu_delay_ms);

	atomic_inc(&tu_prepare);
	if (READ_ONCE(tu_veto))
		return -EBUSY;
	tu_inflight_add(range);
	if (delay)
		msleep(delay);
	return 0;
}

static void tu_commit_cb(struct gmem_pfnpool_user *user,
			 const struct gmem_pfnpool_range *range)
{
	atomic_inc(&tu_commit);
	tu_inflight_del(range);
}

static void tu_abort_cb(struct gmem_pfnpool_user *user,
			const struct gmem_pfnpool_range *range)
{
	atomic_inc(&tu_abort);
	tu_inflight_del(range);
}

static const struct gmem_pfnpool_user_ops tu_ops = {
	.prepare = tu_prepare_cb,
	.commit = tu_commit_cb,
	.abort = tu_abort_cb,
};

static void tu_move_notify_cb(struct dma_buf_attachment *attach)
{
	dma_resv_assert_held(attach->dmabuf->resv);
	atomic_inc(&tu_move_notify);
	/* Revoked: let the mapping go, as a real importer would. */
	if (tu_sgt && !READ_ONCE(tu_lazy)) {
		dma_buf_unmap_attachment(attach, tu_sgt, DMA_BIDIRECTIONAL);
		tu_sgt = NULL;
	}
}

static const struct dma_buf_attach_ops tu_importer_ops = {
	.allow_peer2peer = true,
	CCHOST_DMA_BUF_INVALIDATE_OP(tu_move_notify_cb),
};

static int tu_map(void)
{
	struct sg_table *sgt;
	struct scatterlist *sg;
	unsigned int i;
	int ret = 0;

	dma_resv_lock(tu_dmabuf->resv, NULL);
	if (tu_sgt)
		goto unlock;
	sgt = dma_buf_map_attachment(tu_attach, DMA_BIDIRECTIONAL);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto unlock;
	}
	tu_sgt = sgt;
	tu_sg_bytes = 0;
	tu_sg_nents = 0;
	tu_sg_max = 0;
	for_each_sgtable_dma_sg(sgt, sg, i) {
		tu_sg_bytes += sg_dma_len(sg);
		tu_sg_max = max(tu_sg_max, sg_dma_len(sg));
		tu_sg_nents++;
	}
unlock:
	dma_resv_unlock(tu_dmabuf->resv);
	return ret;
}

static void tu_dmabuf_detach(void)
{
	if (!tu_dmabuf)
		return;
	dma_resv_lock(tu_dmabuf->resv, NULL);
	if (tu_sgt)
		dma_buf_unmap_attachment(tu_attach, tu_sgt, DMA_BIDIRECTIONAL);
	tu_sgt = NULL;
	dma_resv_unlock(tu_dmabuf->resv);
	dma_buf_detach(tu_dmabuf, tu_attach);
	dma_buf_put(tu_dmabuf);
	tu_dmabuf = NULL;
	tu_attach = NULL;
}

static int tu_dmabuf_import(int fd)
{
	struct dma_buf *dmabuf;
	int ret;

	if (tu_dmabuf)
		return -EBUSY;
	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	tu_attach = dma_buf_dynamic_attach(dmabuf, &tu_pdev->dev,
					   &tu_importer_ops, NULL);
	if (IS_ERR(tu_attach)) {
		ret = PTR_ERR(tu_attach);
		tu_attach = NULL;
		dma_buf_put(dmabuf);
		return ret;
	}
	tu_dmabuf = dmabuf;
	atomic_set(&tu_move_notify, 0);
	ret = tu_map();
	if (ret)
		tu_dmabuf_detach();
	return ret;
}

static void tu_static_detach(void)
{
	if (!tu_sbuf)
		return;
	if (tu_ssgt) {
		dma_resv_lock(tu_sbuf->resv, NULL);
		dma_buf_unmap_attachment(tu_sattach, tu_ssgt, DMA_BIDIRECTIONAL);
		dma_resv_unlock(tu_sbuf->resv);
	}
	dma_buf_detach(tu_sbuf, tu_sattach);
	dma_buf_put(tu_sbuf);
	tu_sbuf = NULL;
	tu_sattach = NULL;
	tu_ssgt = NULL;
	tu_sbytes = 0;
}

static int tu_static_import(int fd)
{
	struct scatterlist *sg;
	struct sg_table *sgt;
	unsigned int i;
	int ret;

	if (tu_sbuf)
		return -EBUSY;
	tu_sbuf = dma_buf_get(fd);
	if (IS_ERR(tu_sbuf)) {
		ret = PTR_ERR(tu_sbuf);
		tu_sbuf = NULL;
		return ret;
	}
	tu_sattach = dma_buf_attach(tu_sbuf, &tu_pdev->dev);
	if (IS_ERR(tu_sattach)) {
		ret = PTR_ERR(tu_sattach);
		tu_sattach = NULL;
		dma_buf_put(tu_sbuf);
		tu_sbuf = NULL;
		return ret;
	}
	dma_resv_lock(tu_sbuf->resv, NULL);
	sgt = dma_buf_map_attachment(tu_sattach, DMA_BIDIRECTIONAL);
	dma_resv_unlock(tu_sbuf->resv);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		tu_static_detach();
		return ret;
	}
	tu_ssgt = sgt;
	for_each_sgtable_dma_sg(sgt, sg, i)
		tu_sbytes += sg_dma_len(sg);
	return 0;
}

/* Read the page at @off of the static import as its device would. */
static int tu_static_read(u64 off)
{
	struct scatterlist *sg;
	unsigned int i;
	void *p;

	if (!tu_ssgt)
		return -ENOENT;
	if (iommu_get_domain_for_dev(&tu_pdev->dev))
		return -EOPNOTSUPP;
	if (!PAGE_ALIGNED(off))
		return -EINVAL;
	for_each_sgtable_dma_sg(tu_ssgt, sg, i) {
		if (off >= sg_dma_len(sg)) {
			off -= sg_dma_len(sg);
			continue;
		}
		tu_sread_phys = sg_dma_address(sg) + off;
		p = memremap(tu_sread_phys, PAGE_SIZE, MEMREMAP_WB);
		if (!p)
			return -ENOMEM;
		memcpy(tu_sread_w, p, sizeof(tu_sread_w));
		memunmap(p);
		return 0;
	}
	return -ERANGE;
}

/* Unregister: killably for the detach command, for good at unload. */
static int tu_detach(bool killable)
{
	int ret;

	if (!tu_gf)
		return 0;
	if (killable) {
		ret = gmem_pfnpool_unregister_user_killable(tu_gf, &tu_user);
		if (ret)
			return ret;
	} else {
		gmem_pfnpool_unregister_user(tu_gf, &tu_user);
	}
	gmem_pfnpool_file_put(tu_gf);
	tu_gf = NULL;
	tu_pins = 0;
	return 0;
}

static int tu_attach_fd(int fd)
{
	struct gmem_pfnpool_file *gf;
	int ret;

	if (tu_gf)
		return -EBUSY;
	gf = gmem_pfnpool_file_get(fd);
	if (IS_ERR(gf))
		return PTR_ERR(gf);
	spin_lock(&tu_inflight_lock);
	memset(tu_inflight, 0, sizeof(tu_inflight));
	spin_unlock(&tu_inflight_lock);
	tu_user.name = "testuser";
	tu_user.ops = &tu_ops;
	atomic_set(&tu_prepare, 0);
	atomic_set(&tu_commit, 0);
	atomic_set(&tu_abort, 0);
	ret = gmem_pfnpool_register_user(gf, &tu_user);
	if (ret) {
		gmem_pfnpool_file_put(gf);
		return ret;
	}
	tu_gf = gf;
	return 0;
}

static int tu_command(char *cmd)
{
	unsigned long long a, b;
	int fd, v;

	if (sscanf(cmd, "attach %d", &fd) == 1)
		return tu_attach_fd(fd);
	if (!strcmp(cmd, "detach"))
		return tu_detach(true);
	if (sscanf(cmd, "veto %d", &v) == 1) {
		WRITE_ONCE(tu_veto, !!v);
		return 0;
	}
	if (sscanf(cmd, "delay %d", &v) == 1) {
		if (v < 0 || v > 10000)
			return -EINVAL;
		WRITE_ONCE(tu_delay_ms, v);
		return 0;
	}
	if (sscanf(cmd, "lazy %d", &v) == 1) {
		WRITE_ONCE(tu_lazy, !!v);
		return 0;
	}
	if (sscanf(cmd, "dmabuf %d", &fd) == 1)
		return tu_dmabuf_import(fd);
	if (!strcmp(cmd, "remap")) {
		if (!tu_dmabuf)
			return -ENOENT;
		tu_remap_ret = tu_map();
		return 0;
	}
	if (!strcmp(cmd, "dmabuf_detach")) {
		tu_dmabuf_detach();
		return 0;
	}
	if (sscanf(cmd, "simport %d", &fd) == 1)
		return tu_static_import(fd);
	if (sscanf(cmd, "sread %llu", &a) == 1) {
		memset(tu_sread_w, 0, sizeof(tu_sread_w));
		tu_sread_ret = tu_static_read(a);
		return 0;
	}
	if (!strcmp(cmd, "sdetach")) {
		tu_static_detach();
		return 0;
	}
	if (!tu_gf)
		return -ENOENT;
	if (sscanf(cmd, "pin %llu %llu", &a, &b) == 2) {
		int ret = gmem_pfnpool_pin(tu_gf, &tu_user, a >> PAGE_SHIFT,
					   b >> PAGE_SHIFT);
		if (!ret)
			tu_pins++;
		return ret;
	}
	if (sscanf(cmd, "unpin %llu %llu", &a, &b) == 2) {
		int ret = gmem_pfnpool_unpin(tu_gf, &tu_user, a >> PAGE_SHIFT,
					     b >> PAGE_SHIFT);
		if (!ret)
			tu_pins--;
		return ret;
	}
	if (sscanf(cmd, "lookup %llu", &a) == 1) {
		tu_lookup_ret = gmem_pfnpool_lookup(tu_gf, a >> PAGE_SHIFT,
						    &tu_lookup_pfn,
						    &tu_lookup_attr,
						    &tu_lookup_order,
						    &tu_lookup_seq);
		if (!tu_lookup_ret && tu_lookup_order)
			tu_inflight_check(a >> PAGE_SHIFT, tu_lookup_order);
		return 0;
	}
	return -EINVAL;
}

static ssize_t tu_ctl_write(struct file *file, const char __user *ubuf,
			    size_t len, loff_t *ppos)
{
	char buf[64];
	int ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	strim(buf);

	mutex_lock(&tu_lock);
	ret = tu_command(buf);
	mutex_unlock(&tu_lock);
	return ret ? ret : len;
}

static const struct file_operations tu_ctl_fops = {
	.owner = THIS_MODULE,
	.write = tu_ctl_write,
	.llseek = noop_llseek,
};

static int tu_state_show(struct seq_file *m, void *v)
{
	mutex_lock(&tu_lock);
	seq_printf(m, "attached %d\n", !!tu_gf);
	seq_printf(m, "prepare %d\n", atomic_read(&tu_prepare));
	seq_printf(m, "commit %d\n", atomic_read(&tu_commit));
	seq_printf(m, "abort %d\n", atomic_read(&tu_abort));
	seq_printf(m, "veto %d\n", tu_veto);
	seq_printf(m, "pins %u\n", tu_pins);
	seq_printf(m, "lookup_ret %d\n", tu_lookup_ret);
	seq_printf(m, "lookup_pfn %lu\n", tu_lookup_pfn);
	seq_printf(m, "lookup_attr %u\n", tu_lookup_attr);
	seq_printf(m, "lookup_order %u\n", tu_lookup_order);
	seq_printf(m, "dmabuf_attached %d\n", !!tu_dmabuf);
	if (tu_dmabuf) {
		dma_resv_lock(tu_dmabuf->resv, NULL);
		seq_printf(m, "dmabuf_mapped %d\n", !!tu_sgt);
		dma_resv_unlock(tu_dmabuf->resv);
	} else {
		seq_puts(m, "dmabuf_mapped 0\n");
	}
	seq_printf(m, "dmabuf_sg_bytes %llu\n", tu_sg_bytes);
	seq_printf(m, "dmabuf_sg_nents %u\n", tu_sg_nents);
	seq_printf(m, "dmabuf_sg_max %u\n", tu_sg_max);
	seq_printf(m, "dmabuf_max_seg %u\n", dma_get_max_seg_size(&tu_pdev->dev));
	seq_printf(m, "move_notify %d\n", atomic_read(&tu_move_notify));
	seq_printf(m, "remap_ret %d\n", tu_remap_ret);
	seq_printf(m, "lookup_over_inflight %d\n", atomic_read(&tu_over_inflight));
	spin_lock(&tu_inflight_lock);
	seq_printf(m, "lookup_over_inflight_last %#lx %u %#lx %#lx\n",
		   tu_over_index, tu_over_order, tu_over_start, tu_over_end);
	spin_unlock(&tu_inflight_lock);
	seq_printf(m, "simport_bytes %llu\n", tu_sbytes);
	seq_printf(m, "sread_ret %d\n", tu_sread_ret);
	seq_printf(m, "sread_phys %#llx\n", (u64)tu_sread_phys);
	seq_printf(m, "sread_w0 %#llx\n", tu_sread_w[0]);
	seq_printf(m, "sread_w1 %#llx\n", tu_sread_w[1]);
	seq_printf(m, "sread_w2 %#llx\n", tu_sread_w[2]);
	mutex_unlock(&tu_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(tu_state);

static int __init tu_init(void)
{
	int ret;

	tu_pdev = platform_device_register_simple("gmem_pfnpool_testuser",
						  PLATFORM_DEVID_NONE, NULL, 0);
	if (IS_ERR(tu_pdev))
		return PTR_ERR(tu_pdev);
	ret = dma_coerce_mask_and_coherent(&tu_pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		goto unregister;

	tu_dir = debugfs_create_dir("gmem_pfnpool_testuser", NULL);
	debugfs_create_file("ctl", 0200, tu_dir, NULL, &tu_ctl_fops);
	debugfs_create_file("state", 0400, tu_dir, NULL, &tu_state_fops);
	return 0;

unregister:
	platform_device_unregister(tu_pdev);
	return ret;
}
module_init(tu_init);

static void __exit tu_exit(void)
{
	debugfs_remove_recursive(tu_dir);
	mutex_lock(&tu_lock);
	tu_dmabuf_detach();
	tu_static_detach();
	tu_detach(false);
	mutex_unlock(&tu_lock);
	platform_device_unregister(tu_pdev);
}
module_exit(tu_exit);

MODULE_DESCRIPTION("Test in-kernel user of gmem_pfnpool (test only)");
MODULE_LICENSE("GPL");

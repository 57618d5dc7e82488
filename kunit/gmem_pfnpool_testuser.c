// SPDX-License-Identifier: GPL-2.0-only
/*
 * gmem_pfnpool_testuser - an in-kernel user of gmem_pfnpool driven from
 * userspace, for the in-guest tests. Test only.
 *
 * /sys/kernel/debug/gmem_pfnpool_testuser/
 *   ctl    write one command:
 *            attach FD        get the gmem file FD (of the writer) and
 *                             register as user "testuser"
 *            detach           unregister, drop pins, put the file
 *            veto 0|1         refuse (1) or accept (0) every prepare
 *            lazy 0|1         on move_notify, keep the mapping (1) until
 *                             dmabuf_detach, or drop it at once (0)
 *            pin OFF LEN      pin a byte range; unpin OFF LEN drops it
 *            lookup OFF       look a page up (result in state)
 *            dmabuf FD        import the DMA-BUF FD as a dynamic importer
 *                             and map it
 *            remap            try to map the imported DMA-BUF again
 *            dmabuf_detach    unmap and detach it
 *   state  read: "key value" lines: attached, prepare, commit, abort,
 *          veto, pins, lookup_ret, lookup_pfn, lookup_attr, lookup_order,
 *          dmabuf_attached, dmabuf_mapped, dmabuf_sg_bytes, move_notify,
 *          remap_ret
 *
 * Locking: tu_lock (a mutex) serialises commands and protects the state
 * below; callbacks from gmem_pfnpool only touch atomics and read @veto.
 * Importer state (dmabuf_sgt) is also protected by the DMA-BUF's
 * reservation lock where dma-buf requires it (map, unmap, move_notify).
 */
#include <linux/debugfs.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/err.h>
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
static atomic_t tu_move_notify;
static int tu_remap_ret;

static int tu_prepare_cb(struct gmem_pfnpool_user *user,
			 const struct gmem_pfnpool_range *range)
{
	atomic_inc(&tu_prepare);
	return READ_ONCE(tu_veto) ? -EBUSY : 0;
}

static void tu_commit_cb(struct gmem_pfnpool_user *user,
			 const struct gmem_pfnpool_range *range)
{
	atomic_inc(&tu_commit);
}

static void tu_abort_cb(struct gmem_pfnpool_user *user,
			const struct gmem_pfnpool_range *range)
{
	atomic_inc(&tu_abort);
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
	.invalidate_mappings = tu_move_notify_cb,
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
	for_each_sgtable_dma_sg(sgt, sg, i)
		tu_sg_bytes += sg_dma_len(sg);
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

static void tu_detach(void)
{
	if (!tu_gf)
		return;
	gmem_pfnpool_unregister_user(tu_gf, &tu_user);
	gmem_pfnpool_file_put(tu_gf);
	tu_gf = NULL;
	tu_pins = 0;
}

static int tu_attach_fd(int fd)
{
	struct gmem_pfnpool_file *gf;

	if (tu_gf)
		return -EBUSY;
	gf = gmem_pfnpool_file_get(fd);
	if (IS_ERR(gf))
		return PTR_ERR(gf);
	tu_user.name = "testuser";
	tu_user.ops = &tu_ops;
	atomic_set(&tu_prepare, 0);
	atomic_set(&tu_commit, 0);
	atomic_set(&tu_abort, 0);
	gmem_pfnpool_register_user(gf, &tu_user);
	tu_gf = gf;
	return 0;
}

static int tu_command(char *cmd)
{
	unsigned long long a, b;
	int fd, v;

	if (sscanf(cmd, "attach %d", &fd) == 1)
		return tu_attach_fd(fd);
	if (!strcmp(cmd, "detach")) {
		tu_detach();
		return 0;
	}
	if (sscanf(cmd, "veto %d", &v) == 1) {
		WRITE_ONCE(tu_veto, !!v);
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
	seq_printf(m, "move_notify %d\n", atomic_read(&tu_move_notify));
	seq_printf(m, "remap_ret %d\n", tu_remap_ret);
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
	tu_detach();
	mutex_unlock(&tu_lock);
	platform_device_unregister(tu_pdev);
}
module_exit(tu_exit);

MODULE_DESCRIPTION("Test in-kernel user of gmem_pfnpool (test only)");
MODULE_LICENSE("GPL");

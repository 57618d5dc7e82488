// SPDX-License-Identifier: GPL-2.0-only
/*
 * tdi_test_importer - a dynamic DMA-BUF importer on behalf of a chosen
 * device, driven from userspace, for the in-guest peer-to-peer tests of
 * tdi_dmabuf. Test only: it lets a user attach any DMA-BUF for any PCI
 * device and read the DMA addresses back.
 *
 * /sys/kernel/debug/tdi_test_importer/
 *   ctl    write one command:
 *            import FD BDF SEG  attach the DMA-BUF FD (of the writer) for the
 *                               PCI device BDF ("-": a platform device of
 *                               this module, which is not PCI), with its max
 *                               segment size set to SEG bytes (0: as it is;
 *                               restored at detach), and map it
 *            remap              map it again (after a revoke: refused)
 *            detach             unmap, detach and put it
 *   state  read: "key value" lines: map_ret (errno of the last map, 0 if
 *          mapped), nents, mapped (0 or 1), notified (move_notify calls),
 *          p2pdma (1 if the kernel is built with CONFIG_PCI_P2PDMA), then
 *          "sg INDEX ADDR LEN" (hex) for the first entries of the mapping.
 *
 * Like a real dynamic importer, move_notify drops the mapping at once
 * (under the reservation lock the exporter holds when it calls it), so a
 * revoke that waits for every mapping to go finds none left.
 *
 * Locking: ti_lock serialises commands and protects the state below;
 * ti_sgt and ti_mapped are also written under the DMA-BUF's reservation
 * lock (map, unmap, move_notify), which move_notify holds alone.
 */
#include <linux/debugfs.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>

MODULE_IMPORT_NS("DMA_BUF");

#define TI_MAX_SG	16

static DEFINE_MUTEX(ti_lock);
static struct dentry *ti_dir;
static struct platform_device *ti_pdev;
static struct dma_buf *ti_dmabuf;
static struct dma_buf_attachment *ti_attach;
static struct pci_dev *ti_importer;
static unsigned int ti_old_seg;
static struct sg_table *ti_sgt;
static bool ti_mapped;
static int ti_map_ret;
static unsigned int ti_nents;
static u64 ti_sg_addr[TI_MAX_SG], ti_sg_len[TI_MAX_SG];
static atomic_t ti_notified = ATOMIC_INIT(0);

/* Under the reservation lock. */
static void ti_unmap_locked(struct dma_buf_attachment *attach)
{
	if (!ti_sgt)
		return;
	dma_buf_unmap_attachment(attach, ti_sgt, DMA_BIDIRECTIONAL);
	ti_sgt = NULL;
	ti_mapped = false;
}

static void ti_move_notify(struct dma_buf_attachment *attach)
{
	dma_resv_assert_held(attach->dmabuf->resv);
	atomic_inc(&ti_notified);
	ti_unmap_locked(attach);
}

static const struct dma_buf_attach_ops ti_ops = {
	.allow_peer2peer = true,
	CCHOST_DMA_BUF_INVALIDATE_OP(ti_move_notify),
};

static int ti_map(void)
{
	struct scatterlist *sg;
	struct sg_table *sgt;
	unsigned int i;

	dma_resv_lock(ti_dmabuf->resv, NULL);
	ti_unmap_locked(ti_attach);
	sgt = dma_buf_map_attachment(ti_attach, DMA_BIDIRECTIONAL);
	ti_map_ret = PTR_ERR_OR_ZERO(sgt);
	ti_nents = 0;
	if (!IS_ERR(sgt)) {
		ti_sgt = sgt;
		ti_mapped = true;
		ti_nents = sgt->nents;
		for_each_sgtable_dma_sg(sgt, sg, i) {
			if (i >= TI_MAX_SG)
				break;
			ti_sg_addr[i] = sg_dma_address(sg);
			ti_sg_len[i] = sg_dma_len(sg);
		}
	}
	dma_resv_unlock(ti_dmabuf->resv);
	return 0;
}

/* Give the importing PCI device its max segment size back and drop it. */
static void ti_importer_put(void)
{
	if (ti_importer) {
		if (ti_old_seg)
			dma_set_max_seg_size(&ti_importer->dev, ti_old_seg);
		pci_dev_put(ti_importer);
		ti_importer = NULL;
	}
	ti_old_seg = 0;
}

static void ti_detach(void)
{
	if (!ti_attach)
		return;
	dma_resv_lock(ti_dmabuf->resv, NULL);
	ti_unmap_locked(ti_attach);
	dma_resv_unlock(ti_dmabuf->resv);
	dma_buf_detach(ti_dmabuf, ti_attach);
	dma_buf_put(ti_dmabuf);
	ti_attach = NULL;
	ti_dmabuf = NULL;
	ti_importer_put();
}

static int ti_import(int fd, const char *bdf, unsigned int seg)
{
	unsigned int domain, bus, slot, fn;
	struct device *dev = &ti_pdev->dev;
	int ret;

	ti_detach();
	if (strcmp(bdf, "-")) {
		if (sscanf(bdf, "%x:%x:%x.%x", &domain, &bus, &slot, &fn) != 4)
			return -EINVAL;
		ti_importer = pci_get_domain_bus_and_slot(domain, bus,
							  PCI_DEVFN(slot, fn));
		if (!ti_importer)
			return -ENODEV;
		dev = &ti_importer->dev;
		if (seg) {
			ti_old_seg = dma_get_max_seg_size(dev);
			dma_set_max_seg_size(dev, seg);
		}
	}
	ti_dmabuf = dma_buf_get(fd);
	if (IS_ERR(ti_dmabuf)) {
		ret = PTR_ERR(ti_dmabuf);
		ti_dmabuf = NULL;
		goto err;
	}
	ti_attach = dma_buf_dynamic_attach(ti_dmabuf, dev, &ti_ops, NULL);
	if (IS_ERR(ti_attach)) {
		ret = PTR_ERR(ti_attach);
		ti_attach = NULL;
		dma_buf_put(ti_dmabuf);
		ti_dmabuf = NULL;
		goto err;
	}
	atomic_set(&ti_notified, 0);
	return ti_map();

err:
	ti_importer_put();
	return ret;
}

static int ti_command(char *cmd)
{
	unsigned int seg;
	char bdf[32];
	int fd;

	if (sscanf(cmd, "import %d %31s %u", &fd, bdf, &seg) == 3)
		return ti_import(fd, bdf, seg);
	if (!strcmp(cmd, "remap"))
		return ti_attach ? ti_map() : -ENOENT;
	if (!strcmp(cmd, "detach")) {
		ti_detach();
		return 0;
	}
	return -EINVAL;
}

static ssize_t ti_ctl_write(struct file *file, const char __user *ubuf,
			    size_t len, loff_t *ppos)
{
	char buf[80];
	int ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = 0;
	strim(buf);
	mutex_lock(&ti_lock);
	ret = ti_command(buf);
	mutex_unlock(&ti_lock);
	return ret ? ret : len;
}

static const struct file_operations ti_ctl_fops = {
	.owner = THIS_MODULE,
	.write = ti_ctl_write,
};

static int ti_state_show(struct seq_file *m, void *v)
{
	unsigned int i;

	mutex_lock(&ti_lock);
	seq_printf(m, "map_ret %d\n", ti_map_ret);
	seq_printf(m, "nents %u\n", ti_nents);
	seq_printf(m, "mapped %d\n", ti_mapped);
	seq_printf(m, "notified %d\n", atomic_read(&ti_notified));
	seq_printf(m, "p2pdma %d\n", IS_ENABLED(CONFIG_PCI_P2PDMA));
	for (i = 0; i < min(ti_nents, TI_MAX_SG) && !ti_map_ret; i++)
		seq_printf(m, "sg %u %llx %llx\n", i, ti_sg_addr[i],
			   ti_sg_len[i]);
	mutex_unlock(&ti_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ti_state);

static int __init ti_init(void)
{
	ti_pdev = platform_device_register_simple(KBUILD_MODNAME, -1, NULL, 0);
	if (IS_ERR(ti_pdev))
		return PTR_ERR(ti_pdev);
	ti_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("ctl", 0200, ti_dir, NULL, &ti_ctl_fops);
	debugfs_create_file("state", 0400, ti_dir, NULL, &ti_state_fops);
	return 0;
}

static void __exit ti_exit(void)
{
	debugfs_remove_recursive(ti_dir);
	mutex_lock(&ti_lock);
	ti_detach();
	mutex_unlock(&ti_lock);
	platform_device_unregister(ti_pdev);
}

module_init(ti_init);
module_exit(ti_exit);
MODULE_DESCRIPTION("Test-only dynamic DMA-BUF importer for a chosen device (tdi_dmabuf peer-to-peer tests)");
MODULE_LICENSE("GPL");

// SPDX-License-Identifier: GPL-2.0-only
/*
 * tdi_dmabuf - vfio-pci variant driver exporting TDI MMIO as DMA-BUFs.
 * Placeholder entry point; the driver follows.
 */
#include <linux/module.h>

static int __init tdi_dmabuf_init(void)
{
	return 0;
}
module_init(tdi_dmabuf_init);

static void __exit tdi_dmabuf_exit(void)
{
}
module_exit(tdi_dmabuf_exit);

MODULE_DESCRIPTION("VFIO PCI variant driver exporting TDI MMIO as DMA-BUFs");
MODULE_LICENSE("GPL");

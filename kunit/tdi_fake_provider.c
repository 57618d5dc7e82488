// SPDX-License-Identifier: GPL-2.0-only
/*
 * tdi_fake_provider - a TDI report provider for tests.
 *
 * Serves devices it was told about by name (dev_name(), a PCI BDF such as
 * 0000:00:03.0) with a report built from configured MMIO ranges, and injects
 * faults on demand. Configured at run time through
 * /sys/kernel/debug/tdi_fake_provider/control, one command per write:
 *
 *   add NAME                                 serve device NAME
 *   del NAME                                 forget it
 *   range NAME BAR OFFSET PAGES ATTRS        add a range (BAR-relative
 *                                            offset, 4 KiB pages,
 *                                            RANGE_ATTRIBUTES), reported
 *                                            at the BAR's bus address
 *                                            with RANGE_ID = BAR
 *   clear NAME                               drop all ranges
 *   offset NAME BYTES                        MMIO reporting offset
 *   fault NAME none|bind|report|start|unbind|short|count|outside|
 *              overlap|reserved|wrap|range_id inject (sticky)
 *   error NAME                               signal an asynchronous error
 *   lost NAME                                the TSM destroyed the interface
 *                                            (tdi_dmabuf_tdi_lost())
 *
 * Numbers take C notation (0x...). /sys/kernel/debug/tdi_fake_provider/status
 * prints every device with its fault, binding and call counters. KUnit suites
 * call the same functions (tdi_fake_provider.h).
 *
 * Locking: tdi_fake_lock protects tdi_fake_devs and every field of every
 * entry. Provider callbacks take it inside the exporter's tdi->lock;
 * tdi_fake_trigger_error() calls tdi_dmabuf_tdi_error() under it, which
 * only queues work; tdi_fake_lose() drops it before tdi_dmabuf_tdi_lost().
 */
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/tdi_dmabuf.h>

#include "tdi_fake_provider.h"

#define TDI_FAKE_MAX_RANGES	256
#define TDI_FAKE_NAME_LEN	64
#define TDI_FAKE_DSI		"FAKE-TDI"

struct tdi_fake_range {
	u64 offset;
	u32 bar;
	u32 pages;
	u16 attrs;
};

/**
 * struct tdi_fake_dev - configuration of one served device
 * @name: dev_name() of the device
 * @node: entry in tdi_fake_devs
 * @ranges: configured ranges
 * @nr: entries in @ranges
 * @mmio_offset: MMIO reporting offset
 * @fault: injected fault
 * @tdi: the bound TDI, between bind and unbind
 * @calls: call counters (enum tdi_fake_call)
 */
struct tdi_fake_dev {
	char name[TDI_FAKE_NAME_LEN];
	struct list_head node;
	struct tdi_fake_range ranges[TDI_FAKE_MAX_RANGES];
	unsigned int nr;
	u64 mmio_offset;
	enum tdi_fake_fault fault;
	struct tdi_dmabuf_tdi *tdi;
	unsigned int calls[TDI_FAKE_CALL_MAX];
};

static DEFINE_MUTEX(tdi_fake_lock);
static LIST_HEAD(tdi_fake_devs);
static struct dentry *tdi_fake_dir;

static const char * const tdi_fake_fault_names[TDI_FAKE_FAULT_MAX] = {
	[TDI_FAKE_FAULT_NONE] = "none",
	[TDI_FAKE_FAULT_BIND] = "bind",
	[TDI_FAKE_FAULT_REPORT] = "report",
	[TDI_FAKE_FAULT_START] = "start",
	[TDI_FAKE_FAULT_UNBIND] = "unbind",
	[TDI_FAKE_FAULT_BAD_SHORT] = "short",
	[TDI_FAKE_FAULT_BAD_COUNT] = "count",
	[TDI_FAKE_FAULT_BAD_OUTSIDE] = "outside",
	[TDI_FAKE_FAULT_BAD_OVERLAP] = "overlap",
	[TDI_FAKE_FAULT_BAD_RESERVED] = "reserved",
	[TDI_FAKE_FAULT_BAD_WRAP] = "wrap",
	[TDI_FAKE_FAULT_BAD_RANGE_ID] = "range_id",
};

static struct tdi_fake_dev *__tdi_fake_find(const char *name)
{
	struct tdi_fake_dev *d;

	lockdep_assert_held(&tdi_fake_lock);
	list_for_each_entry(d, &tdi_fake_devs, node)
		if (!strcmp(d->name, name))
			return d;
	return NULL;
}

/**
 * tdi_fake_add() - serve a device
 * @name: dev_name() of the device
 *
 * Return: 0, -EEXIST, -EINVAL (name too long), -ENOMEM.
 */
int tdi_fake_add(const char *name)
{
	struct tdi_fake_dev *d;
	int ret = 0;

	if (strlen(name) >= TDI_FAKE_NAME_LEN)
		return -EINVAL;
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	strscpy(d->name, name, sizeof(d->name));

	mutex_lock(&tdi_fake_lock);
	if (__tdi_fake_find(name)) {
		ret = -EEXIST;
		kfree(d);
	} else {
		list_add_tail(&d->node, &tdi_fake_devs);
	}
	mutex_unlock(&tdi_fake_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(tdi_fake_add);

/**
 * tdi_fake_del() - stop serving a device (it must not be bound)
 * @name: dev_name() of the device
 */
void tdi_fake_del(const char *name)
{
	struct tdi_fake_dev *d;

	mutex_lock(&tdi_fake_lock);
	d = __tdi_fake_find(name);
	if (d && !d->tdi) {
		list_del(&d->node);
		kfree(d);
	}
	mutex_unlock(&tdi_fake_lock);
}
EXPORT_SYMBOL_GPL(tdi_fake_del);

/**
 * tdi_fake_add_range() - add an MMIO range to the report of a device
 * @name: dev_name() of the device
 * @bar: BAR index
 * @offset: offset in the BAR (4 KiB aligned)
 * @pages: NUMBER_OF_PAGES
 * @attrs: RANGE_ATTRIBUTES
 *
 * Return: 0, -ENOENT (unknown device), -ENOSPC (too many ranges).
 */
int tdi_fake_add_range(const char *name, u32 bar, u64 offset, u32 pages,
		       u16 attrs)
{
	struct tdi_fake_dev *d;
	int ret = 0;

	mutex_lock(&tdi_fake_lock);
	d = __tdi_fake_find(name);
	if (!d) {
		ret = -ENOENT;
	} else if (d->nr == TDI_FAKE_MAX_RANGES) {
		ret = -ENOSPC;
	} else {
		d->ranges[d->nr].bar = bar;
		d->ranges[d->nr].offset = offset;
		d->ranges[d->nr].pages = pages;
		d->ranges[d->nr].attrs = attrs;
		d->nr++;
	}
	mutex_unlock(&tdi_fake_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(tdi_fake_add_range);

/**
 * tdi_fake_clear_ranges() - drop all ranges of a device
 * @name: dev_name() of the device
 *
 * Return: 0 or -ENOENT.
 */
int tdi_fake_clear_ranges(const char *name)
{
	struct tdi_fake_dev *d;

	mutex_lock(&tdi_fake_lock);
	d = __tdi_fake_find(name);
	if (d)
		d->nr = 0;
	mutex_unlock(&tdi_fake_lock);
	return d ? 0 : -ENOENT;
}
EXPORT_SYMBOL_GPL(tdi_fake_clear_ranges);

/**
 * tdi_fake_set_mmio_offset() - set the MMIO reporting offset of a device
 * @name: dev_name() of the device
 * @offset: offset in bytes
 *
 * Return: 0 or -ENOENT.
 */
int tdi_fake_set_mmio_offset(const char *name, u64 offset)
{
	struct tdi_fake_dev *d;

	mutex_lock(&tdi_fake_lock);
	d = __tdi_fake_find(name);
	if (d)
		d->mmio_offset = offset;
	mutex_unlock(&tdi_fake_lock);
	return d ? 0 : -ENOENT;
}
EXPORT_SYMBOL_GPL(tdi_fake_set_mmio_offset);

/**
 * tdi_fake_set_fault() - inject a fault (sticky)
 * @name: dev_name() of the device
 * @fault: the fault, TDI_FAKE_FAULT_NONE to clear
 *
 * Return: 0, -ENOENT, -EINVAL.
 */
int tdi_fake_set_fault(const char *name, enum tdi_fake_fault fault)
{
	struct tdi_fake_dev *d;

	if (fault >= TDI_FAKE_FAULT_MAX)
		return -EINVAL;
	mutex_lock(&tdi_fake_lock);
	d = __tdi_fake_find(name);
	if (d)
		d->fault = fault;
	mutex_unlock(&tdi_fake_lock);
	return d ? 0 : -ENOENT;
}
EXPORT_SYMBOL_GPL(tdi_fake_set_fault);

/*
 * The bound device @name, its error call counted; NULL with *@ret -ENOENT
 * or -ENOTCONN (not bound). Caller holds tdi_fake_lock.
 */
static struct tdi_fake_dev *__tdi_fake_error_target(const char *name, int *ret)
{
	struct tdi_fake_dev *d = __tdi_fake_find(name);

	lockdep_assert_held(&tdi_fake_lock);
	*ret = !d ? -ENOENT : !d->tdi ? -ENOTCONN : 0;
	if (*ret)
		return NULL;
	d->calls[TDI_FAKE_CALL_ERROR]++;
	return d;
}

/**
 * tdi_fake_trigger_error() - signal an asynchronous error of a bound device
 * @name: dev_name() of the device
 *
 * Return: 0, -ENOENT, -ENOTCONN (not bound).
 */
int tdi_fake_trigger_error(const char *name)
{
	struct tdi_fake_dev *d;
	int ret;

	mutex_lock(&tdi_fake_lock);
	d = __tdi_fake_error_target(name, &ret);
	if (d)
		tdi_dmabuf_tdi_error(d->tdi, -EIO);
	mutex_unlock(&tdi_fake_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(tdi_fake_trigger_error);

/**
 * tdi_fake_lose() - the fake TSM destroyed the interface of a bound device
 * @name: dev_name() of the device
 *
 * Forgets the binding and tells the exporter synchronously
 * (tdi_dmabuf_tdi_lost(), called without tdi_fake_lock: it takes the TDI
 * lock, which the provider callbacks hold around tdi_fake_lock). Tests must
 * not race it with an unbind of the same device.
 *
 * Return: what tdi_dmabuf_tdi_lost() returns, -ENOENT, -ENOTCONN (not bound).
 */
int tdi_fake_lose(const char *name)
{
	struct tdi_dmabuf_tdi *tdi = NULL;
	struct tdi_fake_dev *d;
	int ret;

	mutex_lock(&tdi_fake_lock);
	d = __tdi_fake_error_target(name, &ret);
	if (d) {
		tdi = d->tdi;
		d->tdi = NULL;
	}
	mutex_unlock(&tdi_fake_lock);
	return tdi ? tdi_dmabuf_tdi_lost(tdi, -ENODEV) : ret;
}
EXPORT_SYMBOL_GPL(tdi_fake_lose);

/**
 * tdi_fake_calls() - read a call counter
 * @name: dev_name() of the device
 * @call: which counter
 *
 * Return: the count, or -ENOENT / -EINVAL.
 */
int tdi_fake_calls(const char *name, enum tdi_fake_call call)
{
	struct tdi_fake_dev *d;
	int ret;

	if (call >= TDI_FAKE_CALL_MAX)
		return -EINVAL;
	mutex_lock(&tdi_fake_lock);
	d = __tdi_fake_find(name);
	ret = d ? d->calls[call] : -ENOENT;
	mutex_unlock(&tdi_fake_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(tdi_fake_calls);

static bool tdi_fake_match(struct tdi_dmabuf_provider *prov, struct device *dev)
{
	struct tdi_fake_dev *d;

	mutex_lock(&tdi_fake_lock);
	d = __tdi_fake_find(dev_name(dev));
	if (d)
		d->calls[TDI_FAKE_CALL_MATCH]++;
	mutex_unlock(&tdi_fake_lock);
	return d;
}

/* Look up the device of @tdi and count @call; NULL if it vanished. */
static struct tdi_fake_dev *__tdi_fake_get(struct tdi_dmabuf_tdi *tdi,
					   enum tdi_fake_call call)
{
	struct tdi_fake_dev *d;

	lockdep_assert_held(&tdi_fake_lock);
	d = __tdi_fake_find(dev_name(tdi_dmabuf_tdi_dev(tdi)));
	if (d)
		d->calls[call]++;
	return d;
}

static int tdi_fake_bind(struct tdi_dmabuf_provider *prov,
			 struct tdi_dmabuf_tdi *tdi)
{
	struct tdi_fake_dev *d;
	int ret = 0;

	mutex_lock(&tdi_fake_lock);
	d = __tdi_fake_get(tdi, TDI_FAKE_CALL_BIND);
	if (!d)
		ret = -ENODEV;
	else if (d->fault == TDI_FAKE_FAULT_BIND)
		ret = -EIO;
	else
		d->tdi = tdi;
	mutex_unlock(&tdi_fake_lock);
	return ret;
}

static void tdi_fake_put_range(u8 *e, u64 first_page, u32 pages, u16 attrs,
			       u16 id)
{
	put_unaligned_le64(first_page, e);
	put_unaligned_le32(pages, e + 8);
	put_unaligned_le16(attrs, e + 12);
	put_unaligned_le16(id, e + 14);
}

static int __tdi_fake_build(struct tdi_fake_dev *d, struct tdi_dmabuf_tdi *tdi,
			    struct tdi_dmabuf_report_buf *buf)
{
	unsigned int nr = d->nr, i, n;
	size_t len;
	u8 *p, *e;

	if (d->fault == TDI_FAKE_FAULT_BAD_OVERLAP && nr)
		nr++;
	len = TDI_REPORT_HDR_LEN + nr * TDI_REPORT_RANGE_LEN +
	      TDI_REPORT_DSI_LEN_LEN + strlen(TDI_FAKE_DSI);
	p = kvzalloc(len, GFP_KERNEL);
	if (!p)
		return -ENOMEM;

	put_unaligned_le16(0x0001, p);		/* INTERFACE_INFO: no FW update */
	put_unaligned_le32(nr + (d->fault == TDI_FAKE_FAULT_BAD_COUNT), p + 12);
	for (i = 0, n = 0; n < nr; n++) {
		const struct tdi_fake_range *r = &d->ranges[i];
		u64 first, start, bar_len;
		u16 attrs = r->attrs;
		u32 pages = r->pages;
		u16 id = r->bar;

		if (tdi_dmabuf_tdi_bar(tdi, r->bar, &start, &bar_len)) {
			/* Not an exportable BAR: report it where it claims. */
			start = 0;
			bar_len = 0;
		}
		first = (start + r->offset + d->mmio_offset) >> TDI_REPORT_PAGE_SHIFT;
		if (n == 0 && d->fault == TDI_FAKE_FAULT_BAD_OUTSIDE)
			first += bar_len >> TDI_REPORT_PAGE_SHIFT;
		if (n == 0 && d->fault == TDI_FAKE_FAULT_BAD_WRAP) {
			first = U64_MAX >> TDI_REPORT_PAGE_SHIFT;
			pages = max_t(u32, pages, 2);
		}
		if (n == 0 && d->fault == TDI_FAKE_FAULT_BAD_RESERVED)
			attrs |= 0x0080;
		if (n == 0 && d->fault == TDI_FAKE_FAULT_BAD_RANGE_ID)
			id ^= 1;
		e = p + TDI_REPORT_HDR_LEN + n * TDI_REPORT_RANGE_LEN;
		tdi_fake_put_range(e, first, pages, attrs, id);
		/* BAD_OVERLAP: the extra entry repeats the first range. */
		if (!(n == 0 && d->fault == TDI_FAKE_FAULT_BAD_OVERLAP))
			i++;
	}
	e = p + TDI_REPORT_HDR_LEN + nr * TDI_REPORT_RANGE_LEN;
	put_unaligned_le32(strlen(TDI_FAKE_DSI), e);
	memcpy(e + TDI_REPORT_DSI_LEN_LEN, TDI_FAKE_DSI, strlen(TDI_FAKE_DSI));

	buf->data = p;
	buf->len = len - (d->fault == TDI_FAKE_FAULT_BAD_SHORT);
	buf->mmio_offset = d->mmio_offset;
	return 0;
}

static int tdi_fake_get_report(struct tdi_dmabuf_provider *prov,
			       struct tdi_dmabuf_tdi *tdi,
			       struct tdi_dmabuf_report_buf *buf)
{
	struct tdi_fake_dev *d;
	int ret;

	mutex_lock(&tdi_fake_lock);
	d = __tdi_fake_get(tdi, TDI_FAKE_CALL_REPORT);
	if (!d)
		ret = -ENODEV;
	else if (d->fault == TDI_FAKE_FAULT_REPORT)
		ret = -EIO;
	else
		ret = __tdi_fake_build(d, tdi, buf);
	mutex_unlock(&tdi_fake_lock);
	return ret;
}

static int tdi_fake_start(struct tdi_dmabuf_provider *prov,
			  struct tdi_dmabuf_tdi *tdi)
{
	struct tdi_fake_dev *d;
	int ret = 0;

	mutex_lock(&tdi_fake_lock);
	d = __tdi_fake_get(tdi, TDI_FAKE_CALL_START);
	if (!d)
		ret = -ENODEV;
	else if (d->fault == TDI_FAKE_FAULT_START)
		ret = -EIO;
	mutex_unlock(&tdi_fake_lock);
	return ret;
}

static int tdi_fake_unbind(struct tdi_dmabuf_provider *prov,
			   struct tdi_dmabuf_tdi *tdi)
{
	struct tdi_fake_dev *d;
	int ret = 0;

	mutex_lock(&tdi_fake_lock);
	d = __tdi_fake_get(tdi, TDI_FAKE_CALL_UNBIND);
	if (d && d->fault == TDI_FAKE_FAULT_UNBIND)
		ret = -EIO;
	else if (d)
		d->tdi = NULL;
	mutex_unlock(&tdi_fake_lock);
	return ret;
}

static const struct tdi_dmabuf_provider_ops tdi_fake_ops = {
	.match = tdi_fake_match,
	.bind = tdi_fake_bind,
	.get_report = tdi_fake_get_report,
	.start = tdi_fake_start,
	.unbind = tdi_fake_unbind,
};

static struct tdi_dmabuf_provider tdi_fake_provider = {
	.name = "fake",
	.owner = THIS_MODULE,
	.ops = &tdi_fake_ops,
};

static int tdi_fake_parse_fault(const char *s)
{
	unsigned int i;

	for (i = 0; i < TDI_FAKE_FAULT_MAX; i++)
		if (!strcmp(s, tdi_fake_fault_names[i]))
			return i;
	return -EINVAL;
}

static int tdi_fake_command(char *line)
{
	char *argv[7];
	unsigned int argc = 0;
	u64 bar, off, pages, attrs;
	char *tok;
	int fault;

	while ((tok = strsep(&line, " \t\n")) && argc < ARRAY_SIZE(argv))
		if (*tok)
			argv[argc++] = tok;
	if (argc < 2)
		return -EINVAL;

	if (!strcmp(argv[0], "add") && argc == 2)
		return tdi_fake_add(argv[1]);
	if (!strcmp(argv[0], "del") && argc == 2) {
		tdi_fake_del(argv[1]);
		return 0;
	}
	if (!strcmp(argv[0], "clear") && argc == 2)
		return tdi_fake_clear_ranges(argv[1]);
	if (!strcmp(argv[0], "error") && argc == 2)
		return tdi_fake_trigger_error(argv[1]);
	if (!strcmp(argv[0], "lost") && argc == 2)
		return tdi_fake_lose(argv[1]);
	if (!strcmp(argv[0], "offset") && argc == 3) {
		if (kstrtou64(argv[2], 0, &off))
			return -EINVAL;
		return tdi_fake_set_mmio_offset(argv[1], off);
	}
	if (!strcmp(argv[0], "fault") && argc == 3) {
		fault = tdi_fake_parse_fault(argv[2]);
		if (fault < 0)
			return fault;
		return tdi_fake_set_fault(argv[1], fault);
	}
	if (!strcmp(argv[0], "range") && argc == 6) {
		if (kstrtou64(argv[2], 0, &bar) || kstrtou64(argv[3], 0, &off) ||
		    kstrtou64(argv[4], 0, &pages) || kstrtou64(argv[5], 0, &attrs) ||
		    bar > U32_MAX || pages > U32_MAX || attrs > U16_MAX)
			return -EINVAL;
		return tdi_fake_add_range(argv[1], bar, off, pages, attrs);
	}
	return -EINVAL;
}

static ssize_t tdi_fake_control_write(struct file *file, const char __user *ubuf,
				      size_t count, loff_t *ppos)
{
	char *line;
	int ret;

	if (count > 256)
		return -EINVAL;
	line = memdup_user_nul(ubuf, count);
	if (IS_ERR(line))
		return PTR_ERR(line);
	ret = tdi_fake_command(line);
	kfree(line);
	return ret ? ret : count;
}

static const struct file_operations tdi_fake_control_fops = {
	.owner = THIS_MODULE,
	.write = tdi_fake_control_write,
	.llseek = noop_llseek,
};

static int tdi_fake_status_show(struct seq_file *m, void *unused)
{
	struct tdi_fake_dev *d;
	unsigned int i;

	mutex_lock(&tdi_fake_lock);
	list_for_each_entry(d, &tdi_fake_devs, node) {
		seq_printf(m, "%s bound=%d fault=%s offset=%#llx ranges=%u match=%u bind=%u report=%u start=%u unbind=%u error=%u\n",
			   d->name, !!d->tdi, tdi_fake_fault_names[d->fault],
			   d->mmio_offset, d->nr,
			   d->calls[TDI_FAKE_CALL_MATCH], d->calls[TDI_FAKE_CALL_BIND],
			   d->calls[TDI_FAKE_CALL_REPORT], d->calls[TDI_FAKE_CALL_START],
			   d->calls[TDI_FAKE_CALL_UNBIND], d->calls[TDI_FAKE_CALL_ERROR]);
		for (i = 0; i < d->nr; i++)
			seq_printf(m, "  range bar=%u offset=%#llx pages=%u attrs=%#x\n",
				   d->ranges[i].bar, d->ranges[i].offset,
				   d->ranges[i].pages, d->ranges[i].attrs);
	}
	mutex_unlock(&tdi_fake_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(tdi_fake_status);

static int __init tdi_fake_init(void)
{
	int ret;

	ret = tdi_dmabuf_register_provider(&tdi_fake_provider);
	if (ret)
		return ret;
	tdi_fake_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("control", 0200, tdi_fake_dir, NULL,
			    &tdi_fake_control_fops);
	debugfs_create_file("status", 0400, tdi_fake_dir, NULL,
			    &tdi_fake_status_fops);
	return 0;
}
module_init(tdi_fake_init);

static void __exit tdi_fake_exit(void)
{
	struct tdi_fake_dev *d, *tmp;

	debugfs_remove_recursive(tdi_fake_dir);
	tdi_dmabuf_unregister_provider(&tdi_fake_provider);
	list_for_each_entry_safe(d, tmp, &tdi_fake_devs, node) {
		list_del(&d->node);
		kfree(d);
	}
}
module_exit(tdi_fake_exit);

MODULE_DESCRIPTION("Fake TDI report provider for tdi_dmabuf tests");
MODULE_LICENSE("GPL");

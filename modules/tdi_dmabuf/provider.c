// SPDX-License-Identifier: GPL-2.0-only
/*
 * Registries: TDI report providers and secure importers.
 *
 * A provider stays registered until its module unregisters it; a TDI bound
 * through it pins the provider's module, so unregistering cannot race with
 * a binding (module exit only runs once no TDI uses the provider).
 *
 * Secure importers are identified by their dma_buf_attach_ops table (see
 * include/linux/tdi_dmabuf.h for why that is the importer's identity).
 *
 * Locking: tdi_dmabuf_providers_lock protects tdi_dmabuf_providers;
 * tdi_dmabuf_importers_lock protects tdi_dmabuf_importers. Both nest inside
 * tdi->lock and take nothing else.
 */
#include <linux/dma-buf.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <kunit/visibility.h>

#include "tdi_dmabuf_core.h"

static DEFINE_MUTEX(tdi_dmabuf_providers_lock);
static LIST_HEAD(tdi_dmabuf_providers);

/**
 * struct tdi_dmabuf_importer - a registered secure importer
 * @ops: its attach ops
 * @node: entry in tdi_dmabuf_importers
 */
struct tdi_dmabuf_importer {
	const struct dma_buf_attach_ops *ops;
	struct list_head node;
};

static DEFINE_MUTEX(tdi_dmabuf_importers_lock);
static LIST_HEAD(tdi_dmabuf_importers);

/**
 * tdi_dmabuf_register_provider() - register a TDI report provider
 * @prov: the provider; @prov->ops must implement every callback
 *
 * Context: process context, may sleep.
 * Return: 0, -EINVAL for incomplete ops, -EEXIST if already registered.
 */
int tdi_dmabuf_register_provider(struct tdi_dmabuf_provider *prov)
{
	const struct tdi_dmabuf_provider_ops *ops = prov->ops;
	struct tdi_dmabuf_provider *p;
	int ret = 0;

	if (!ops || !ops->match || !ops->bind || !ops->get_report ||
	    !ops->start || !ops->unbind)
		return -EINVAL;

	mutex_lock(&tdi_dmabuf_providers_lock);
	list_for_each_entry(p, &tdi_dmabuf_providers, node) {
		if (p == prov) {
			ret = -EEXIST;
			goto out_unlock;
		}
	}
	list_add_tail(&prov->node, &tdi_dmabuf_providers);
	pr_info(KBUILD_MODNAME ": TDI report provider %s registered\n", prov->name);
out_unlock:
	mutex_unlock(&tdi_dmabuf_providers_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(tdi_dmabuf_register_provider);

/**
 * tdi_dmabuf_unregister_provider() - unregister a TDI report provider
 * @prov: a registered provider
 *
 * Context: process context, may sleep. No TDI may be bound through @prov
 * (guaranteed when called from module exit: bindings pin the module).
 */
void tdi_dmabuf_unregister_provider(struct tdi_dmabuf_provider *prov)
{
	mutex_lock(&tdi_dmabuf_providers_lock);
	list_del(&prov->node);
	mutex_unlock(&tdi_dmabuf_providers_lock);
}
EXPORT_SYMBOL_GPL(tdi_dmabuf_unregister_provider);

/**
 * tdi_dmabuf_provider_get() - find the provider of a device and pin it
 * @dev: the device
 *
 * Context: process context, may sleep.
 * Return: the first registered provider accepting @dev, its module pinned;
 * NULL if none.
 */
struct tdi_dmabuf_provider *tdi_dmabuf_provider_get(struct device *dev)
{
	struct tdi_dmabuf_provider *p, *found = NULL;

	mutex_lock(&tdi_dmabuf_providers_lock);
	list_for_each_entry(p, &tdi_dmabuf_providers, node) {
		if (!try_module_get(p->owner))
			continue;
		if (p->ops->match(p, dev)) {
			found = p;
			break;
		}
		module_put(p->owner);
	}
	mutex_unlock(&tdi_dmabuf_providers_lock);
	return found;
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_provider_get);

/**
 * tdi_dmabuf_provider_put() - unpin a provider
 * @prov: from tdi_dmabuf_provider_get()
 */
void tdi_dmabuf_provider_put(struct tdi_dmabuf_provider *prov)
{
	module_put(prov->owner);
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_provider_put);

/**
 * tdi_dmabuf_register_secure_importer() - declare an importer secure
 * @ops: the importer's attach ops; attachments made with them may import
 *	private DMA-BUFs. The importer must handle revocation (attach with
 *	dma_buf_dynamic_attach()) and allow peer-to-peer.
 *
 * Context: process context, may sleep.
 * Return: 0, -EINVAL for ops without peer-to-peer, -EEXIST if already
 * registered, -ENOMEM.
 */
int tdi_dmabuf_register_secure_importer(const struct dma_buf_attach_ops *ops)
{
	struct tdi_dmabuf_importer *imp, *new;
	int ret = 0;

	if (!ops || !ops->allow_peer2peer)
		return -EINVAL;
	new = kzalloc(sizeof(*new), GFP_KERNEL);
	if (!new)
		return -ENOMEM;
	new->ops = ops;

	mutex_lock(&tdi_dmabuf_importers_lock);
	list_for_each_entry(imp, &tdi_dmabuf_importers, node) {
		if (imp->ops == ops) {
			ret = -EEXIST;
			goto out_unlock;
		}
	}
	list_add_tail(&new->node, &tdi_dmabuf_importers);
	new = NULL;
out_unlock:
	mutex_unlock(&tdi_dmabuf_importers_lock);
	kfree(new);
	return ret;
}
EXPORT_SYMBOL_GPL(tdi_dmabuf_register_secure_importer);

/**
 * tdi_dmabuf_unregister_secure_importer() - withdraw a secure importer
 * @ops: as registered
 *
 * Existing attachments are not affected; new ones are refused.
 *
 * Context: process context, may sleep.
 */
void tdi_dmabuf_unregister_secure_importer(const struct dma_buf_attach_ops *ops)
{
	struct tdi_dmabuf_importer *imp, *tmp;

	mutex_lock(&tdi_dmabuf_importers_lock);
	list_for_each_entry_safe(imp, tmp, &tdi_dmabuf_importers, node) {
		if (imp->ops == ops) {
			list_del(&imp->node);
			kfree(imp);
		}
	}
	mutex_unlock(&tdi_dmabuf_importers_lock);
}
EXPORT_SYMBOL_GPL(tdi_dmabuf_unregister_secure_importer);

/**
 * tdi_dmabuf_importer_is_secure() - were these attach ops registered secure?
 * @ops: attach ops of an attachment (may be NULL)
 *
 * Context: process context, may sleep.
 * Return: true if registered.
 */
bool tdi_dmabuf_importer_is_secure(const struct dma_buf_attach_ops *ops)
{
	struct tdi_dmabuf_importer *imp;
	bool found = false;

	if (!ops)
		return false;
	mutex_lock(&tdi_dmabuf_importers_lock);
	list_for_each_entry(imp, &tdi_dmabuf_importers, node) {
		if (imp->ops == ops) {
			found = true;
			break;
		}
	}
	mutex_unlock(&tdi_dmabuf_importers_lock);
	return found;
}
EXPORT_SYMBOL_IF_KUNIT(tdi_dmabuf_importer_is_secure);

// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: the TDI state machine with the fake provider, and the DMA-BUF
 * exporter with fake importers (suite tdi_dmabuf_state).
 *
 * The "device" is a kunit_device_register() device with two fake BARs
 * outside RAM; the fake provider serves it by name with:
 *   BAR0: shared pages 0-15 (two ranges), private 16-31, private MSI-X 32
 *   BAR2: shared pages 0-15
 * Importers attach with dma_buf_dynamic_attach(); one set of attach ops is
 * registered as secure, the other is not.
 */
#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/workqueue.h>

#include "../modules/tdi_dmabuf/tdi_dmabuf_core.h"
#include "tdi_fake_provider.h"

MODULE_IMPORT_NS("EXPORTED_FOR_KUNIT_TESTING");
MODULE_IMPORT_NS("DMA_BUF");

#define DEV_NAME	"tdi-kunit"
#define BAR0		0x3f00000000ULL
#define BAR2		0x3f10000000ULL
#define NON_TEE		TDI_REPORT_ATTR_NON_TEE_MEM
#define MSIX_TABLE	TDI_REPORT_ATTR_MSIX_TABLE

/*
 * The fake device sits behind a host bridge that translates: its BARs
 * decode bus addresses K_BUS_OFFSET above the CPU's, and the fake provider
 * reports ranges there, while DMA-BUFs and mappings use the CPU's.
 */
#define K_BUS_OFFSET	0x100000000000ULL

static const struct tdi_dmabuf_bar k_bars[TDI_DMABUF_NR_BARS] = {
	[0] = { .start = BAR0, .len = 0x100000, .bus = BAR0 + K_BUS_OFFSET },
	[2] = { .start = BAR2, .len = 0x10000, .bus = BAR2 + K_BUS_OFFSET },
};

/* Memory decode of the fake device (tests run one at a time). */
static bool k_mem_off;

static bool k_mem_enabled(struct tdi_dmabuf_tdi *tdi)
{
	return !k_mem_off;
}

/* IOMMU granule the fake device reports (0: unknown). */
static u64 k_granule;

static u64 k_iommu_granule(struct tdi_dmabuf_tdi *tdi)
{
	return k_granule;
}

/*
 * Peer-to-peer routes from an importer to the fake BARs (the device is not
 * PCI: the test plays the kernel's p2pdma code): none (-EOPNOTSUPP), bus
 * addresses (the host address + K_BUS_OFFSET), or the host bridge (the
 * host address, as for a device without IOMMU). Entries
 * as long as the ranges, as the kernel's helper makes them. Mappings made
 * and undone are counted.
 */
enum k_route { K_ROUTE_NONE, K_ROUTE_BUS, K_ROUTE_HOST };
static enum k_route k_route;
static int k_p2p_maps, k_p2p_unmaps;

static struct sg_table *k_p2p_map(struct tdi_dmabuf_tdi *tdi, u32 bar,
				  struct dma_buf_attachment *attach,
				  struct phys_vec *ranges, unsigned int nr,
				  size_t size, enum dma_data_direction dir)
{
	struct scatterlist *sg;
	struct sg_table *sgt;
	unsigned int i;

	if (k_route == K_ROUTE_NONE)
		return ERR_PTR(-EOPNOTSUPP);
	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt || sg_alloc_table(sgt, nr, GFP_KERNEL)) {
		kfree(sgt);
		return ERR_PTR(-ENOMEM);
	}
	for_each_sgtable_dma_sg(sgt, sg, i) {
		sg_dma_address(sg) = ranges[i].paddr +
				     (k_route == K_ROUTE_BUS ? K_BUS_OFFSET : 0);
		sg_dma_len(sg) = ranges[i].len;
	}
	k_p2p_maps++;
	return sgt;
}

static void k_p2p_unmap(struct tdi_dmabuf_tdi *tdi,
			struct dma_buf_attachment *attach,
			struct sg_table *sgt, enum dma_data_direction dir)
{
	k_p2p_unmaps++;
	sg_free_table(sgt);
	kfree(sgt);
}

static const struct tdi_dmabuf_tdi_ops k_ops = {
	.mem_enabled = k_mem_enabled,
	.iommu_granule = k_iommu_granule,
	.p2p_map = k_p2p_map,
	.p2p_unmap = k_p2p_unmap,
};

struct k_ctx {
	struct device *dev;
	struct device_dma_parameters dma_parms;
	struct tdi_dmabuf_tdi *tdi;
};

/*
 * dev_name() of the current test's device ("<case>.tdi-kunit"): the name
 * the fake provider serves.
 */
static const char *k_name;

/*
 * Drop our DMA-BUF reference and release it now: a kthread's fput() is
 * deferred to a work item, and the tests check what release does.
 */
static void k_put(struct dma_buf *dmabuf)
{
	__fput_sync(dmabuf->file);
}

static int k_init(struct kunit *test)
{
	struct k_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->dev = kunit_device_register(test, DEV_NAME);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->dev);
	ctx->dev->dma_mask = &ctx->dev->coherent_dma_mask;
	KUNIT_ASSERT_EQ(test, dma_set_mask_and_coherent(ctx->dev, DMA_BIT_MASK(64)), 0);
	/* Without parameters a device takes 64 KiB segments; this one 1 GiB. */
	ctx->dev->dma_parms = &ctx->dma_parms;
	dma_set_max_seg_size(ctx->dev, SZ_1G);
	k_name = dev_name(ctx->dev);

	KUNIT_ASSERT_EQ(test, tdi_fake_add(k_name), 0);
	KUNIT_ASSERT_EQ(test, tdi_fake_add_range(k_name, 0, 0, 1, NON_TEE), 0);
	KUNIT_ASSERT_EQ(test, tdi_fake_add_range(k_name, 0, 0x1000, 15, NON_TEE), 0);
	KUNIT_ASSERT_EQ(test, tdi_fake_add_range(k_name, 0, 0x10000, 16, 0), 0);
	KUNIT_ASSERT_EQ(test, tdi_fake_add_range(k_name, 0, 0x20000, 1, MSIX_TABLE), 0);
	KUNIT_ASSERT_EQ(test, tdi_fake_add_range(k_name, 2, 0, 16, NON_TEE), 0);

	k_mem_off = false;
	k_granule = 0;
	k_route = K_ROUTE_HOST;
	k_p2p_maps = 0;
	k_p2p_unmaps = 0;
	ctx->tdi = tdi_dmabuf_tdi_create(ctx->dev, &k_ops, k_bars);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->tdi);
	KUNIT_ASSERT_EQ(test, tdi_dmabuf_tdi_open(ctx->tdi), 0);
	test->priv = ctx;
	return 0;
}

static void k_exit(struct kunit *test)
{
	struct k_ctx *ctx = test->priv;

	/* Before the close, so that a case's unbind fault cannot pin the TDI. */
	tdi_fake_set_fault(k_name, TDI_FAKE_FAULT_NONE);
	if (ctx && !IS_ERR_OR_NULL(ctx->tdi)) {
		tdi_dmabuf_tdi_close(ctx->tdi);
		tdi_dmabuf_tdi_put(ctx->tdi);
	}
	tdi_fake_set_fault(k_name, TDI_FAKE_FAULT_NONE);
	tdi_fake_del(k_name);
}

static u32 k_state(struct tdi_dmabuf_tdi *tdi, struct tdi_dmabuf_state *st)
{
	memset(st, 0, sizeof(*st));
	tdi_dmabuf_tdi_get_state(tdi, st);
	return st->state;
}

static bool k_revoked(struct kunit *test, struct tdi_dmabuf_tdi *tdi,
		      struct dma_buf *dmabuf)
{
	struct tdi_dmabuf_range r[4];
	unsigned int count = ARRAY_SIZE(r);
	bool revoked = false;
	u32 bar, kind;

	KUNIT_EXPECT_EQ(test, tdi_dmabuf_buf_ranges(tdi, dmabuf, r, &count, &bar,
						    &kind, &revoked), 0);
	return revoked;
}

/* BIND, then a shared DMA-BUF of BAR0; the test ends if either fails. */
static struct dma_buf *k_bind_shared(struct kunit *test, struct k_ctx *ctx)
{
	struct dma_buf *shared;

	KUNIT_ASSERT_EQ(test, tdi_dmabuf_tdi_bind(ctx->tdi), 0);
	shared = tdi_dmabuf_tdi_get_dmabuf(ctx->tdi, 0, TDI_DMABUF_KIND_SHARED, O_RDWR);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, shared);
	return shared;
}

/* GET_DMABUF that must fail: its errno. */
static long k_get_err(struct k_ctx *ctx, u32 bar, u32 kind)
{
	struct dma_buf *dmabuf = tdi_dmabuf_tdi_get_dmabuf(ctx->tdi, bar, kind, O_RDWR);

	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	k_put(dmabuf);
	return 0;
}

static void tdi_state_bind_run_unbind(struct kunit *test)
{
	struct k_ctx *ctx = test->priv;
	struct tdi_dmabuf_range r[8];
	struct tdi_dmabuf_state st;
	unsigned int count = ARRAY_SIZE(r);
	u32 state;

	KUNIT_EXPECT_EQ(test, k_state(ctx->tdi, &st), TDI_DMABUF_STATE_UNBOUND);
	KUNIT_ASSERT_EQ(test, tdi_dmabuf_tdi_bind(ctx->tdi), 0);
	KUNIT_EXPECT_EQ(test, k_state(ctx->tdi, &st), TDI_DMABUF_STATE_RUN);
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_BIND), 1);
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_REPORT), 1);
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_START), 1);

	KUNIT_ASSERT_EQ(test, tdi_dmabuf_tdi_get_layout(ctx->tdi, r, &count, &state), 0);
	KUNIT_EXPECT_EQ(test, state, TDI_DMABUF_STATE_RUN);
	KUNIT_ASSERT_EQ(test, count, 4);
	KUNIT_EXPECT_EQ(test, r[0].length, 0x10000);		/* merged */
	KUNIT_EXPECT_EQ(test, r[1].flags, TDI_DMABUF_RANGE_PRIVATE);
	KUNIT_EXPECT_EQ(test, r[2].flags, TDI_DMABUF_RANGE_PRIVATE | TDI_DMABUF_RANGE_MSIX_TABLE);
	KUNIT_EXPECT_EQ(test, r[3].bar, 2);

	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_bind(ctx->tdi), -EALREADY);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_unbind(ctx->tdi), 0);
	KUNIT_EXPECT_EQ(test, k_state(ctx->tdi, &st), TDI_DMABUF_STATE_UNBOUND);
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_UNBIND), 1);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_unbind(ctx->tdi), -ENOTCONN);

	count = ARRAY_SIZE(r);
	KUNIT_ASSERT_EQ(test, tdi_dmabuf_tdi_get_layout(ctx->tdi, r, &count, &state), 0);
	KUNIT_EXPECT_EQ(test, count, 2);			/* BAR0, BAR2 whole */
	count = 1;
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_get_layout(ctx->tdi, r, &count, &state), -ENOSPC);
	KUNIT_EXPECT_EQ(test, count, 2);
}

static void tdi_state_no_provider(struct kunit *test)
{
	struct k_ctx *ctx = test->priv;
	struct tdi_dmabuf_state st;

	tdi_fake_del(k_name);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_bind(ctx->tdi), -ENODEV);
	KUNIT_EXPECT_EQ(test, k_state(ctx->tdi, &st), TDI_DMABUF_STATE_UNBOUND);
}

static void tdi_state_busy_and_private_rules(struct kunit *test)
{
	struct k_ctx *ctx = test->priv;
	struct tdi_dmabuf_state st;
	struct dma_buf *shared, *private;

	KUNIT_EXPECT_EQ(test, k_get_err(ctx, 0, TDI_DMABUF_KIND_PRIVATE), -EPERM);
	KUNIT_EXPECT_EQ(test, k_get_err(ctx, 6, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, k_get_err(ctx, 0, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, k_get_err(ctx, 1, 0), -ENODEV);

	shared = tdi_dmabuf_tdi_get_dmabuf(ctx->tdi, 0, TDI_DMABUF_KIND_SHARED, O_RDWR);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, shared);
	KUNIT_EXPECT_EQ(test, shared->size, 0x100000);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_bind(ctx->tdi), -EBUSY);
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_BIND), 0);
	k_put(shared);
	KUNIT_EXPECT_EQ(test, k_state(ctx->tdi, &st), TDI_DMABUF_STATE_UNBOUND);
	KUNIT_EXPECT_EQ(test, st.nr_dmabufs, 0);

	KUNIT_ASSERT_EQ(test, tdi_dmabuf_tdi_bind(ctx->tdi), 0);
	private = tdi_dmabuf_tdi_get_dmabuf(ctx->tdi, 0, TDI_DMABUF_KIND_PRIVATE, O_RDWR);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, private);
	KUNIT_EXPECT_EQ(test, private->size, 0x11000);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_kind(private), TDI_DMABUF_KIND_PRIVATE);
	/* BAR2 has no private page. */
	KUNIT_EXPECT_EQ(test, k_get_err(ctx, 2, TDI_DMABUF_KIND_PRIVATE), -ENOENT);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_unbind(ctx->tdi), 0);
	KUNIT_EXPECT_TRUE(test, k_revoked(test, ctx->tdi, private));
	k_put(private);
}

struct fault_case {
	enum tdi_fake_fault fault;
	int ret;
	int unbinds;		/* provider unbinds expected */
};

static const struct fault_case fault_cases[] = {
	{ TDI_FAKE_FAULT_BIND, -EIO, 0 },
	{ TDI_FAKE_FAULT_REPORT, -EIO, 1 },
	{ TDI_FAKE_FAULT_START, -EIO, 1 },
	{ TDI_FAKE_FAULT_BAD_SHORT, -EBADMSG, 1 },
	{ TDI_FAKE_FAULT_BAD_COUNT, -EBADMSG, 1 },
	{ TDI_FAKE_FAULT_BAD_OUTSIDE, -EBADMSG, 1 },
	{ TDI_FAKE_FAULT_BAD_OVERLAP, -EBADMSG, 1 },
	{ TDI_FAKE_FAULT_BAD_RESERVED, -EBADMSG, 1 },
	{ TDI_FAKE_FAULT_BAD_WRAP, -EBADMSG, 1 },
};

static void fault_case_desc(const struct fault_case *c, char *desc)
{
	static const char * const names[] = {
		"none", "bind", "report", "start", "unbind", "short", "count",
		"outside", "overlap", "reserved", "wrap",
	};

	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "bind fault %s", names[c->fault]);
}

KUNIT_ARRAY_PARAM(fault, fault_cases, fault_case_desc);

/* Every bind-time fault leaves the device unbound, provider released. */
static void tdi_state_bind_faults(struct kunit *test)
{
	const struct fault_case *c = test->param_value;
	struct k_ctx *ctx = test->priv;
	struct tdi_dmabuf_state st;
	struct dma_buf *shared;

	KUNIT_ASSERT_EQ(test, tdi_fake_set_fault(k_name, c->fault), 0);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_bind(ctx->tdi), c->ret);
	KUNIT_EXPECT_EQ(test, k_state(ctx->tdi, &st), TDI_DMABUF_STATE_UNBOUND);
	KUNIT_EXPECT_EQ(test, st.error, -c->ret);
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_UNBIND), c->unbinds);
	/* The unbound layout is back: shared DMA-BUF of all of BAR0. */
	shared = tdi_dmabuf_tdi_get_dmabuf(ctx->tdi, 0, TDI_DMABUF_KIND_SHARED, O_RDWR);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, shared);
	KUNIT_EXPECT_EQ(test, shared->size, 0x100000);
	k_put(shared);

	KUNIT_ASSERT_EQ(test, tdi_fake_set_fault(k_name, TDI_FAKE_FAULT_NONE), 0);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_bind(ctx->tdi), 0);
	KUNIT_EXPECT_EQ(test, k_state(ctx->tdi, &st), TDI_DMABUF_STATE_RUN);
}

/*
 * A report whose shared/private split is finer than the IOMMU maps: BIND
 * fails with -EOPNOTSUPP and the provider is unbound again. The fake
 * report's private range ends at 132 KiB, next to unreported pages.
 */
static void tdi_state_bind_misaligned(struct kunit *test)
{
	struct k_ctx *ctx = test->priv;
	struct tdi_dmabuf_state st;

	k_granule = SZ_64K;
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_bind(ctx->tdi), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, k_state(ctx->tdi, &st), TDI_DMABUF_STATE_UNBOUND);
	KUNIT_EXPECT_EQ(test, st.error, EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_START), 0);
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_UNBIND), 1);

	/* A granule no larger than PAGE_SIZE changes nothing. */
	k_granule = SZ_4K;
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_bind(ctx->tdi), 0);
	KUNIT_EXPECT_EQ(test, k_state(ctx->tdi, &st), TDI_DMABUF_STATE_RUN);
}

static void tdi_state_unbind_fails(struct kunit *test)
{
	struct k_ctx *ctx = test->priv;
	struct tdi_dmabuf_state st;
	struct dma_buf *shared;

	KUNIT_ASSERT_EQ(test, tdi_dmabuf_tdi_bind(ctx->tdi), 0);
	shared = tdi_dmabuf_tdi_get_dmabuf(ctx->tdi, 2, TDI_DMABUF_KIND_SHARED, O_RDWR);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, shared);
	KUNIT_ASSERT_EQ(test, tdi_fake_set_fault(k_name, TDI_FAKE_FAULT_UNBIND), 0);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_unbind(ctx->tdi), -EIO);
	KUNIT_EXPECT_EQ(test, k_state(ctx->tdi, &st), TDI_DMABUF_STATE_ERROR);
	KUNIT_EXPECT_EQ(test, st.cause, TDI_DMABUF_CAUSE_UNBIND);
	KUNIT_EXPECT_TRUE(test, k_revoked(test, ctx->tdi, shared));
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_bind(ctx->tdi), -EALREADY);
	k_put(shared);

	KUNIT_ASSERT_EQ(test, tdi_fake_set_fault(k_name, TDI_FAKE_FAULT_NONE), 0);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_unbind(ctx->tdi), 0);
	KUNIT_EXPECT_EQ(test, k_state(ctx->tdi, &st), TDI_DMABUF_STATE_UNBOUND);
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_UNBIND), 2);
}

static void tdi_state_async_error(struct kunit *test)
{
	struct k_ctx *ctx = test->priv;
	struct dma_buf *shared, *private, *again;
	struct tdi_dmabuf_state st;

	KUNIT_EXPECT_EQ(test, tdi_fake_trigger_error(k_name), -ENOTCONN);
	KUNIT_ASSERT_EQ(test, tdi_dmabuf_tdi_bind(ctx->tdi), 0);
	shared = tdi_dmabuf_tdi_get_dmabuf(ctx->tdi, 0, TDI_DMABUF_KIND_SHARED, O_RDWR);
	private = tdi_dmabuf_tdi_get_dmabuf(ctx->tdi, 0, TDI_DMABUF_KIND_PRIVATE, O_RDWR);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, shared);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, private);

	KUNIT_ASSERT_EQ(test, tdi_fake_trigger_error(k_name), 0);
	tdi_dmabuf_tdi_flush(ctx->tdi);
	KUNIT_EXPECT_EQ(test, k_state(ctx->tdi, &st), TDI_DMABUF_STATE_ERROR);
	KUNIT_EXPECT_EQ(test, st.cause, TDI_DMABUF_CAUSE_PROVIDER);
	KUNIT_EXPECT_EQ(test, st.error, EIO);
	KUNIT_EXPECT_EQ(test, st.nr_revokes, 2);
	KUNIT_EXPECT_TRUE(test, k_revoked(test, ctx->tdi, shared));
	KUNIT_EXPECT_TRUE(test, k_revoked(test, ctx->tdi, private));
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_UNBIND), 1);

	/* Close and reopen: shared works again, private needs a new bind. */
	k_put(shared);
	k_put(private);
	again = tdi_dmabuf_tdi_get_dmabuf(ctx->tdi, 0, TDI_DMABUF_KIND_SHARED, O_RDWR);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, again);
	KUNIT_EXPECT_FALSE(test, k_revoked(test, ctx->tdi, again));
	KUNIT_EXPECT_EQ(test, again->size, 0x100000);
	k_put(again);
	KUNIT_EXPECT_EQ(test, k_get_err(ctx, 0, TDI_DMABUF_KIND_PRIVATE), -EPERM);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_unbind(ctx->tdi), 0);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_bind(ctx->tdi), 0);
	KUNIT_EXPECT_EQ(test, k_state(ctx->tdi, &st), TDI_DMABUF_STATE_RUN);
}

static void tdi_state_reset_and_decode(struct kunit *test)
{
	struct k_ctx *ctx = test->priv;
	struct tdi_dmabuf_state st;
	struct dma_buf *shared;

	/* Unbound: a reset revokes the shared DMA-BUF, the state stays. */
	shared = tdi_dmabuf_tdi_get_dmabuf(ctx->tdi, 0, TDI_DMABUF_KIND_SHARED, O_RDWR);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, shared);
	tdi_dmabuf_tdi_fail(ctx->tdi, TDI_DMABUF_CAUSE_RESET, -ECONNRESET);
	KUNIT_EXPECT_TRUE(test, k_revoked(test, ctx->tdi, shared));
	KUNIT_EXPECT_EQ(test, k_state(ctx->tdi, &st), TDI_DMABUF_STATE_UNBOUND);
	KUNIT_EXPECT_EQ(test, st.cause, TDI_DMABUF_CAUSE_RESET);
	k_put(shared);

	/* Run: memory decode off revokes, unbinds, enters error. */
	shared = k_bind_shared(test, ctx);
	k_mem_off = true;
	tdi_dmabuf_tdi_fail(ctx->tdi, TDI_DMABUF_CAUSE_MEMORY, -EIO);
	KUNIT_EXPECT_TRUE(test, k_revoked(test, ctx->tdi, shared));
	KUNIT_EXPECT_EQ(test, k_state(ctx->tdi, &st), TDI_DMABUF_STATE_ERROR);
	KUNIT_EXPECT_EQ(test, st.cause, TDI_DMABUF_CAUSE_MEMORY);
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_UNBIND), 1);
	KUNIT_EXPECT_EQ(test, k_get_err(ctx, 0, TDI_DMABUF_KIND_SHARED), -EIO);
	k_put(shared);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_unbind(ctx->tdi), 0);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_bind(ctx->tdi), -EIO);
	k_mem_off = false;
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_bind(ctx->tdi), 0);
}

/*
 * A PCI reset behind vfio-pci (memory decode still on as vfio-pci sees it):
 * from ->reset_prepare() to ->reset_done() nothing new is exported or
 * bound, so nothing made in between outlives the reset.
 */
static void tdi_state_reset_window(struct kunit *test)
{
	struct k_ctx *ctx = test->priv;
	struct tdi_dmabuf_state st;
	struct dma_buf *shared;

	shared = k_bind_shared(test, ctx);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_mmio_lost(ctx->tdi, TDI_DMABUF_CAUSE_RESET,
						       -ECONNRESET), 0);
	KUNIT_EXPECT_TRUE(test, k_revoked(test, ctx->tdi, shared));
	KUNIT_EXPECT_EQ(test, k_state(ctx->tdi, &st), TDI_DMABUF_STATE_ERROR);
	KUNIT_EXPECT_EQ(test, st.cause, TDI_DMABUF_CAUSE_RESET);
	k_put(shared);
	/* In the window: no DMA-BUF, no BIND, although decode looks on. */
	KUNIT_EXPECT_EQ(test, k_get_err(ctx, 0, TDI_DMABUF_KIND_SHARED), -EIO);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_unbind(ctx->tdi), 0);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_bind(ctx->tdi), -EIO);
	tdi_dmabuf_tdi_mmio_back(ctx->tdi);
	shared = tdi_dmabuf_tdi_get_dmabuf(ctx->tdi, 0, TDI_DMABUF_KIND_SHARED, O_RDWR);
	KUNIT_EXPECT_FALSE(test, IS_ERR_OR_NULL(shared));
	if (!IS_ERR_OR_NULL(shared))
		k_put(shared);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_bind(ctx->tdi), 0);
}

/*
 * A PCI reset or AER recovery waits only for the revocation: the provider's
 * unbind runs once the PCI core is done, from the work the next ioctl
 * flushes, and until then the provider holds the TDI and its private pages
 * stay unreachable. A recovery that never ends leaves it to UNBIND.
 */
static void tdi_state_reset_defers_unbind(struct kunit *test)
{
	struct k_ctx *ctx = test->priv;
	struct tdi_dmabuf_state st;
	struct dma_buf *shared;

	shared = k_bind_shared(test, ctx);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_mmio_lost(ctx->tdi, TDI_DMABUF_CAUSE_RESET,
						       -ECONNRESET), 0);
	KUNIT_EXPECT_TRUE(test, k_revoked(test, ctx->tdi, shared));
	k_put(shared);
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_UNBIND), 0);
	KUNIT_EXPECT_TRUE(test, tdi_dmabuf_tdi_held(ctx->tdi));
	KUNIT_EXPECT_FALSE(test, tdi_dmabuf_tdi_mmio_allowed(ctx->tdi, 0, 0x10000, 0x1000));
	/* Nothing runs it while the reset goes on. */
	tdi_dmabuf_tdi_flush(ctx->tdi);
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_UNBIND), 0);

	tdi_dmabuf_tdi_mmio_back(ctx->tdi);
	tdi_dmabuf_tdi_flush(ctx->tdi);
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_UNBIND), 1);
	KUNIT_EXPECT_FALSE(test, tdi_dmabuf_tdi_held(ctx->tdi));
	KUNIT_EXPECT_TRUE(test, tdi_dmabuf_tdi_mmio_allowed(ctx->tdi, 0, 0x10000, 0x1000));
	KUNIT_EXPECT_EQ(test, k_state(ctx->tdi, &st), TDI_DMABUF_STATE_ERROR);
	KUNIT_EXPECT_EQ(test, st.cause, TDI_DMABUF_CAUSE_RESET);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_unbind(ctx->tdi), 0);
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_UNBIND), 1);

	/* A recovery that fails never calls back: UNBIND unbinds. */
	KUNIT_ASSERT_EQ(test, tdi_dmabuf_tdi_bind(ctx->tdi), 0);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_mmio_lost(ctx->tdi, TDI_DMABUF_CAUSE_RESET,
						       -EIO), 0);
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_UNBIND), 1);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_unbind(ctx->tdi), 0);
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_UNBIND), 2);
	KUNIT_EXPECT_FALSE(test, tdi_dmabuf_tdi_held(ctx->tdi));
	tdi_dmabuf_tdi_mmio_back(ctx->tdi);
	tdi_dmabuf_tdi_flush(ctx->tdi);
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_UNBIND), 2);
}

/* Close: DMA-BUFs outliving the device stay revoked, provider unbound. */
static void tdi_state_close_unbinds(struct kunit *test)
{
	struct k_ctx *ctx = test->priv;
	struct dma_buf *shared;

	shared = k_bind_shared(test, ctx);
	tdi_dmabuf_tdi_close(ctx->tdi);
	KUNIT_EXPECT_TRUE(test, k_revoked(test, ctx->tdi, shared));
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_UNBIND), 1);
	KUNIT_EXPECT_EQ(test, k_get_err(ctx, 0, TDI_DMABUF_KIND_SHARED), -ENODEV);
	/* The DMA-BUF holds the TDI: drop the driver's reference first. */
	tdi_dmabuf_tdi_put(ctx->tdi);
	ctx->tdi = NULL;
	KUNIT_EXPECT_EQ(test, shared->size, 0x10000);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_kind(shared), TDI_DMABUF_KIND_SHARED);
	/* Last reference: release takes the lock of the TDI it pins. */
	k_put(shared);
}

/* GET_RANGES only answers for DMA-BUFs of the asking TDI. */
static void tdi_state_ranges_foreign(struct kunit *test)
{
	struct k_ctx *ctx = test->priv;
	struct tdi_dmabuf_range r[2];
	struct tdi_dmabuf_tdi *other;
	struct dma_buf *mine, *theirs;
	unsigned int count;
	bool revoked;
	u32 bar, kind;

	other = tdi_dmabuf_tdi_create(ctx->dev, &k_ops, k_bars);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, other);
	KUNIT_ASSERT_EQ(test, tdi_dmabuf_tdi_open(other), 0);
	theirs = tdi_dmabuf_tdi_get_dmabuf(other, 2, TDI_DMABUF_KIND_SHARED, O_RDWR);
	mine = tdi_dmabuf_tdi_get_dmabuf(ctx->tdi, 2, TDI_DMABUF_KIND_SHARED, O_RDWR);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, theirs);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, mine);

	count = ARRAY_SIZE(r);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_buf_ranges(ctx->tdi, theirs, r, &count, &bar,
						    &kind, &revoked), -EINVAL);
	count = 0;
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_buf_ranges(ctx->tdi, mine, r, &count, &bar,
						    &kind, &revoked), -ENOSPC);
	KUNIT_EXPECT_EQ(test, count, 1);
	count = ARRAY_SIZE(r);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_buf_ranges(ctx->tdi, mine, r, &count, &bar,
						    &kind, &revoked), 0);
	KUNIT_EXPECT_EQ(test, bar, 2);
	KUNIT_EXPECT_EQ(test, r[0].length, 0x10000);
	KUNIT_EXPECT_FALSE(test, revoked);

	/* Closing one device revokes only its own DMA-BUFs. */
	tdi_dmabuf_tdi_close(other);
	KUNIT_EXPECT_FALSE(test, k_revoked(test, ctx->tdi, mine));
	k_put(mine);
	k_put(theirs);
	tdi_dmabuf_tdi_put(other);
}

/* Fake importers */

struct k_importer {
	struct dma_buf_attachment *attach;
	int notified;
};

static void k_move_notify(struct dma_buf_attachment *attach)
{
	struct k_importer *imp = attach->importer_priv;

	imp->notified++;
}

static const struct dma_buf_attach_ops k_plain_ops = {
	.allow_peer2peer = true,
	CCHOST_DMA_BUF_INVALIDATE_OP(k_move_notify),
};

static const struct dma_buf_attach_ops k_secure_ops = {
	.allow_peer2peer = true,
	CCHOST_DMA_BUF_INVALIDATE_OP(k_move_notify),
};

static const struct dma_buf_attach_ops k_no_p2p_ops = {
	.allow_peer2peer = false,
	CCHOST_DMA_BUF_INVALIDATE_OP(k_move_notify),
};

static struct sg_table *k_map(struct dma_buf_attachment *attach)
{
	struct sg_table *sgt;

	dma_resv_lock(attach->dmabuf->resv, NULL);
	sgt = dma_buf_map_attachment(attach, DMA_BIDIRECTIONAL);
	dma_resv_unlock(attach->dmabuf->resv);
	return sgt;
}

static void k_unmap(struct dma_buf_attachment *attach, struct sg_table *sgt)
{
	dma_resv_lock(attach->dmabuf->resv, NULL);
	dma_buf_unmap_attachment(attach, sgt, DMA_BIDIRECTIONAL);
	dma_resv_unlock(attach->dmabuf->resv);
}

/* The sg_table covers exactly @n host ranges, in order. */
static void k_expect_sgt(struct kunit *test, struct sg_table *sgt,
			 const u64 *addr, const u64 *len, unsigned int n)
{
	struct scatterlist *sg;
	unsigned int i;

	KUNIT_ASSERT_EQ(test, sgt->nents, n);
	for_each_sgtable_dma_sg(sgt, sg, i) {
		KUNIT_EXPECT_EQ_MSG(test, (u64)sg_dma_address(sg), addr[i], "entry %u", i);
		KUNIT_EXPECT_EQ_MSG(test, (u64)sg_dma_len(sg), len[i], "entry %u", i);
	}
}

static void tdi_state_revoke_reaches_importer(struct kunit *test)
{
	static const u64 addr[] = { BAR0 }, len[] = { 0x100000 };
	struct k_ctx *ctx = test->priv;
	struct k_importer imp = {}, late = {};
	struct dma_buf_attachment *attach;
	struct dma_buf *shared;
	struct sg_table *sgt;

	shared = tdi_dmabuf_tdi_get_dmabuf(ctx->tdi, 0, TDI_DMABUF_KIND_SHARED, O_RDWR);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, shared);
	imp.attach = dma_buf_dynamic_attach(shared, ctx->dev, &k_plain_ops, &imp);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, imp.attach);
	sgt = k_map(imp.attach);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	k_expect_sgt(test, sgt, addr, len, 1);
	k_unmap(imp.attach, sgt);

	/* A non-dynamic importer could not be told about revocation. */
	attach = dma_buf_attach(shared, ctx->dev);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(attach), -EOPNOTSUPP);
	attach = dma_buf_dynamic_attach(shared, ctx->dev, &k_no_p2p_ops, &late);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(attach), -EOPNOTSUPP);

	tdi_dmabuf_tdi_fail(ctx->tdi, TDI_DMABUF_CAUSE_RESET, -ECONNRESET);
	KUNIT_EXPECT_EQ(test, imp.notified, 1);
	sgt = k_map(imp.attach);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(sgt), -ENODEV);
	if (!IS_ERR(sgt))
		k_unmap(imp.attach, sgt);
	attach = dma_buf_dynamic_attach(shared, ctx->dev, &k_plain_ops, &late);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(attach), -ENODEV);
	/* A second revocation does not notify again. */
	tdi_dmabuf_tdi_fail(ctx->tdi, TDI_DMABUF_CAUSE_RESET, -ECONNRESET);
	KUNIT_EXPECT_EQ(test, imp.notified, 1);

	dma_buf_detach(shared, imp.attach);
	k_put(shared);
}

/*
 * Each importing device gets the route the kernel gives it: bus addresses
 * (BAR address + bus offset), the host bridge, or nothing (-EOPNOTSUPP);
 * entries are cut at its max segment size; every mapping the route made is
 * undone once.
 */
static void tdi_state_p2p_routes(struct kunit *test)
{
	static const u64 addr[] = { BAR0 }, len[] = { 0x100000 };
	static const u64 bus_addr[] = { BAR0 + K_BUS_OFFSET };
	u64 seg_addr[16], seg_len[16];
	struct k_ctx *ctx = test->priv;
	struct k_importer imp = {};
	struct dma_buf *shared;
	struct sg_table *sgt;
	unsigned int i;

	shared = tdi_dmabuf_tdi_get_dmabuf(ctx->tdi, 0, TDI_DMABUF_KIND_SHARED, O_RDWR);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, shared);
	imp.attach = dma_buf_dynamic_attach(shared, ctx->dev, &k_plain_ops, &imp);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, imp.attach);

	k_route = K_ROUTE_NONE;
	sgt = k_map(imp.attach);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(sgt), -EOPNOTSUPP);
	if (!IS_ERR(sgt))
		k_unmap(imp.attach, sgt);

	k_route = K_ROUTE_BUS;
	sgt = k_map(imp.attach);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	k_expect_sgt(test, sgt, bus_addr, len, 1);
	k_unmap(imp.attach, sgt);

	k_route = K_ROUTE_HOST;
	sgt = k_map(imp.attach);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	k_expect_sgt(test, sgt, addr, len, 1);
	k_unmap(imp.attach, sgt);

	/* A device taking 64 KiB segments: the 1 MiB BAR in 16 entries. */
	dma_set_max_seg_size(ctx->dev, SZ_64K);
	for (i = 0; i < ARRAY_SIZE(seg_addr); i++) {
		seg_addr[i] = BAR0 + i * SZ_64K;
		seg_len[i] = SZ_64K;
	}
	sgt = k_map(imp.attach);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	k_expect_sgt(test, sgt, seg_addr, seg_len, ARRAY_SIZE(seg_addr));
	k_unmap(imp.attach, sgt);
	/* Less than a page still maps whole pages. */
	dma_set_max_seg_size(ctx->dev, 512);
	sgt = k_map(imp.attach);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	KUNIT_EXPECT_EQ(test, sgt->nents, 0x100000 / PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, (u64)sg_dma_len(sgt->sgl), (u64)PAGE_SIZE);
	k_unmap(imp.attach, sgt);

	KUNIT_EXPECT_EQ(test, k_p2p_maps, 4);
	KUNIT_EXPECT_EQ(test, k_p2p_unmaps, 4);
	dma_buf_detach(shared, imp.attach);
	k_put(shared);
}

static void tdi_state_private_only_to_secure(struct kunit *test)
{
	static const u64 paddr[] = { BAR0 + 0x10000, BAR0 + 0x20000 };
	static const u64 plen[] = { 0x10000, 0x1000 };
	static const u64 saddr[] = { BAR0 }, slen[] = { 0x10000 };
	struct k_ctx *ctx = test->priv;
	struct k_importer plain = {}, secure = {}, shared_imp = {};
	struct tdi_dmabuf_phys_range pr[4];
	struct dma_buf *private, *shared;
	struct dma_buf_attachment *attach;
	unsigned int count, i;
	struct sg_table *sgt;
	u64 owner = 0;

	KUNIT_ASSERT_EQ(test, tdi_dmabuf_register_secure_importer(&k_secure_ops), 0);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_register_secure_importer(&k_secure_ops), -EEXIST);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_register_secure_importer(&k_no_p2p_ops), -EINVAL);
	KUNIT_ASSERT_EQ(test, tdi_dmabuf_tdi_bind(ctx->tdi), 0);
	private = tdi_dmabuf_tdi_get_dmabuf(ctx->tdi, 0, TDI_DMABUF_KIND_PRIVATE, O_RDWR);
	shared = tdi_dmabuf_tdi_get_dmabuf(ctx->tdi, 0, TDI_DMABUF_KIND_SHARED, O_RDWR);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, private);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, shared);

	attach = dma_buf_dynamic_attach(private, ctx->dev, &k_plain_ops, &plain);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(attach), -EPERM);

	secure.attach = dma_buf_dynamic_attach(private, ctx->dev, &k_secure_ops, &secure);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, secure.attach);
	/* Private MMIO is never DMA-mapped, not even for the secure importer. */
	sgt = k_map(secure.attach);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(sgt), -EPERM);
	if (!IS_ERR(sgt))
		k_unmap(secure.attach, sgt);
	/* It takes the physical ranges and the VMM's owner token instead. */
	tdi_dmabuf_buf_set_owner(private, 0xc0ffee);
	dma_resv_lock(private->resv, NULL);
	count = 1;
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_private_ranges(secure.attach, pr, &count, &owner),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, count, 2);
	count = ARRAY_SIZE(pr);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_private_ranges(secure.attach, pr, &count, &owner), 0);
	dma_resv_unlock(private->resv);
	KUNIT_EXPECT_EQ(test, count, 2);
	KUNIT_EXPECT_EQ(test, owner, 0xc0ffee);
	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_EQ(test, (u64)pr[i].phys, paddr[i]);
		KUNIT_EXPECT_EQ(test, pr[i].len, plen[i]);
	}
	KUNIT_EXPECT_EQ(test, pr[0].offset, 0);
	KUNIT_EXPECT_EQ(test, pr[1].offset, plen[0]);

	shared_imp.attach = dma_buf_dynamic_attach(shared, ctx->dev, &k_plain_ops, &shared_imp);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, shared_imp.attach);
	sgt = k_map(shared_imp.attach);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	k_expect_sgt(test, sgt, saddr, slen, 1);
	k_unmap(shared_imp.attach, sgt);
	/* Physical ranges are for private DMA-BUFs only. */
	dma_resv_lock(shared->resv, NULL);
	count = ARRAY_SIZE(pr);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_private_ranges(shared_imp.attach, pr, &count, &owner),
			-EINVAL);
	dma_resv_unlock(shared->resv);

	/* Unbind revokes both; each importer hears about its own buffer. */
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_unbind(ctx->tdi), 0);
	KUNIT_EXPECT_EQ(test, secure.notified, 1);
	KUNIT_EXPECT_EQ(test, shared_imp.notified, 1);
	KUNIT_EXPECT_EQ(test, plain.notified, 0);
	dma_resv_lock(private->resv, NULL);
	count = ARRAY_SIZE(pr);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_private_ranges(secure.attach, pr, &count, &owner),
			-ENODEV);
	dma_resv_unlock(private->resv);

	dma_buf_detach(private, secure.attach);
	dma_buf_detach(shared, shared_imp.attach);
	k_put(private);
	k_put(shared);
	tdi_dmabuf_unregister_secure_importer(&k_secure_ops);
	KUNIT_EXPECT_FALSE(test, tdi_dmabuf_importer_is_secure(&k_secure_ops));
}

/* An importer that stops its DMA some time after the revoke's notification. */
struct k_slow_importer {
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;
	struct delayed_work unmap_work;
	struct delayed_work signal_work;
	struct dma_fence fence;
	spinlock_t fence_lock;	/* the fence's lock */
	bool unmapped;
};

static const char *k_fence_name(struct dma_fence *fence)
{
	return "tdi-kunit";
}

static const struct dma_fence_ops k_fence_ops = {
	.get_driver_name = k_fence_name,
	.get_timeline_name = k_fence_name,
};

static void k_slow_unmap_work(struct work_struct *work)
{
	struct k_slow_importer *imp = container_of(to_delayed_work(work),
						   struct k_slow_importer, unmap_work);

	k_unmap(imp->attach, imp->sgt);
	WRITE_ONCE(imp->unmapped, true);
}

static void k_slow_signal_work(struct work_struct *work)
{
	struct k_slow_importer *imp = container_of(to_delayed_work(work),
						   struct k_slow_importer, signal_work);

	dma_fence_signal(&imp->fence);
}

static void k_slow_move_notify(struct dma_buf_attachment *attach)
{
	struct k_slow_importer *imp = attach->importer_priv;

	/* DMA in flight: the fence signals after 150 ms, the unmap after 100. */
	schedule_delayed_work(&imp->signal_work, msecs_to_jiffies(150));
	schedule_delayed_work(&imp->unmap_work, msecs_to_jiffies(100));
}

static const struct dma_buf_attach_ops k_slow_ops = {
	.allow_peer2peer = true,
	CCHOST_DMA_BUF_INVALIDATE_OP(k_slow_move_notify),
};

static void k_slow_attach(struct kunit *test, struct k_slow_importer *imp,
			  struct dma_buf *dmabuf, struct device *dev)
{
	INIT_DELAYED_WORK(&imp->unmap_work, k_slow_unmap_work);
	INIT_DELAYED_WORK(&imp->signal_work, k_slow_signal_work);
	spin_lock_init(&imp->fence_lock);
	dma_fence_init(&imp->fence, &k_fence_ops, &imp->fence_lock,
		       dma_fence_context_alloc(1), 1);
	imp->attach = dma_buf_dynamic_attach(dmabuf, dev, &k_slow_ops, imp);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, imp->attach);
	imp->sgt = k_map(imp->attach);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, imp->sgt);
	dma_resv_lock(dmabuf->resv, NULL);
	KUNIT_ASSERT_EQ(test, dma_resv_reserve_fences(dmabuf->resv, 1), 0);
	dma_resv_add_fence(dmabuf->resv, &imp->fence, DMA_RESV_USAGE_BOOKKEEP);
	dma_resv_unlock(dmabuf->resv);
}

static void k_slow_detach(struct k_slow_importer *imp, struct dma_buf *dmabuf)
{
	cancel_delayed_work_sync(&imp->unmap_work);
	flush_delayed_work(&imp->signal_work);
	dma_fence_signal(&imp->fence);
	if (!imp->unmapped)
		k_unmap(imp->attach, imp->sgt);
	dma_buf_detach(dmabuf, imp->attach);
}

/* UNBIND returns only after the importer unmapped and its fence signalled. */
static void tdi_state_revoke_waits_for_importer(struct kunit *test)
{
	struct k_ctx *ctx = test->priv;
	struct k_slow_importer imp = {};
	struct tdi_dmabuf_state st;
	struct dma_buf *shared;

	KUNIT_ASSERT_EQ(test, tdi_dmabuf_tdi_bind(ctx->tdi), 0);
	shared = tdi_dmabuf_tdi_get_dmabuf(ctx->tdi, 2, TDI_DMABUF_KIND_SHARED, O_RDWR);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, shared);
	k_slow_attach(test, &imp, shared, ctx->dev);

	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_unbind(ctx->tdi), 0);
	KUNIT_EXPECT_TRUE_MSG(test, READ_ONCE(imp.unmapped),
			      "UNBIND returned while the importer still had a mapping");
	KUNIT_EXPECT_TRUE_MSG(test, dma_fence_is_signaled(&imp.fence),
			      "UNBIND returned with an unsignalled fence");
	KUNIT_EXPECT_EQ(test, k_state(ctx->tdi, &st), TDI_DMABUF_STATE_UNBOUND);
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_UNBIND), 1);
	k_slow_detach(&imp, shared);
	k_put(shared);
}

/*
 * An importer that keeps its mapping past the timeout: UNBIND fails with
 * ETIMEDOUT, the provider is not asked to unbind, the report's layout
 * stays; once the importer unmapped, UNBIND completes.
 */
static void tdi_state_revoke_stuck_importer(struct kunit *test)
{
	struct k_ctx *ctx = test->priv;
	struct k_importer imp = {};
	struct tdi_dmabuf_state st;
	struct dma_buf *shared;
	struct sg_table *sgt;

	ctx->tdi->revoke_timeout = msecs_to_jiffies(100);
	shared = k_bind_shared(test, ctx);
	imp.attach = dma_buf_dynamic_attach(shared, ctx->dev, &k_plain_ops, &imp);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, imp.attach);
	sgt = k_map(imp.attach);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);

	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_unbind(ctx->tdi), -ETIMEDOUT);
	KUNIT_EXPECT_EQ(test, imp.notified, 1);
	KUNIT_EXPECT_EQ(test, k_state(ctx->tdi, &st), TDI_DMABUF_STATE_ERROR);
	KUNIT_EXPECT_EQ(test, st.error, ETIMEDOUT);
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_UNBIND), 0);
	KUNIT_EXPECT_FALSE(test, tdi_dmabuf_tdi_mmio_allowed(ctx->tdi, 0, 0x10000, 0x1000));
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_fail(ctx->tdi, TDI_DMABUF_CAUSE_RESET,
						  -ECONNRESET), -ETIMEDOUT);

	k_unmap(imp.attach, sgt);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_unbind(ctx->tdi), 0);
	KUNIT_EXPECT_EQ(test, k_state(ctx->tdi, &st), TDI_DMABUF_STATE_UNBOUND);
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_UNBIND), 1);
	KUNIT_EXPECT_TRUE(test, tdi_dmabuf_tdi_mmio_allowed(ctx->tdi, 0, 0x10000, 0x1000));
	dma_buf_detach(shared, imp.attach);
	k_put(shared);
}

/*
 * A provider that refuses to unbind at close keeps the TDI: ERROR after a
 * reopen, UNBIND retries; once the device dropped its reference, the TDI
 * lives on for the provider, whose next error retries the unbind and frees
 * it (a use-after-free under KASAN if the binding were forgotten).
 */
static void tdi_state_close_unbind_fails(struct kunit *test)
{
	struct k_ctx *ctx = test->priv;
	struct tdi_dmabuf_state st;
	struct tdi_dmabuf_tdi *tdi = ctx->tdi;
	int i;

	KUNIT_ASSERT_EQ(test, tdi_dmabuf_tdi_bind(tdi), 0);
	KUNIT_ASSERT_EQ(test, tdi_fake_set_fault(k_name, TDI_FAKE_FAULT_UNBIND), 0);
	tdi_dmabuf_tdi_close(tdi);
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_UNBIND), 1);
	KUNIT_EXPECT_TRUE(test, tdi_dmabuf_tdi_held(tdi));
	KUNIT_ASSERT_EQ(test, tdi_dmabuf_tdi_open(tdi), 0);
	KUNIT_EXPECT_EQ(test, k_state(tdi, &st), TDI_DMABUF_STATE_ERROR);
	KUNIT_EXPECT_EQ(test, st.cause, TDI_DMABUF_CAUSE_CLOSE);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_bind(tdi), -EALREADY);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_unbind(tdi), -EIO);
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_UNBIND), 2);

	/* The device goes away while the provider still holds the TDI. */
	tdi_dmabuf_tdi_close(tdi);
	ctx->tdi = NULL;
	tdi_dmabuf_tdi_put(tdi);
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_UNBIND), 3);
	KUNIT_EXPECT_EQ(test, tdi_fake_trigger_error(k_name), 0);
	tdi_dmabuf_tdi_flush(tdi);
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_UNBIND), 4);
	KUNIT_EXPECT_TRUE(test, tdi_dmabuf_tdi_held(tdi));

	/* The retry that succeeds drops the last reference (in the work). */
	KUNIT_ASSERT_EQ(test, tdi_fake_set_fault(k_name, TDI_FAKE_FAULT_NONE), 0);
	KUNIT_EXPECT_EQ(test, tdi_fake_trigger_error(k_name), 0);
	/* tdi may be gone by now: wait on the provider's side only. */
	for (i = 0; i < 250 && tdi_fake_calls(k_name, TDI_FAKE_CALL_UNBIND) < 5; i++)
		msleep(20);
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_UNBIND), 5);
	KUNIT_EXPECT_EQ(test, tdi_fake_trigger_error(k_name), -ENOTCONN);
}

/*
 * The provider's TSM destroyed the interface: tdi_dmabuf_tdi_lost() revokes
 * before it returns, ends the binding without ->unbind(), leaves ERROR.
 */
static void tdi_state_provider_lost(struct kunit *test)
{
	struct k_ctx *ctx = test->priv;
	struct dma_buf *shared, *private;
	struct tdi_dmabuf_state st;

	KUNIT_EXPECT_EQ(test, tdi_fake_lose(k_name), -ENOTCONN);
	KUNIT_ASSERT_EQ(test, tdi_dmabuf_tdi_bind(ctx->tdi), 0);
	shared = tdi_dmabuf_tdi_get_dmabuf(ctx->tdi, 0, TDI_DMABUF_KIND_SHARED, O_RDWR);
	private = tdi_dmabuf_tdi_get_dmabuf(ctx->tdi, 0, TDI_DMABUF_KIND_PRIVATE, O_RDWR);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, shared);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, private);

	KUNIT_EXPECT_EQ(test, tdi_fake_lose(k_name), 0);
	/* No flush: everything happened before the call returned. */
	KUNIT_EXPECT_TRUE(test, k_revoked(test, ctx->tdi, shared));
	KUNIT_EXPECT_TRUE(test, k_revoked(test, ctx->tdi, private));
	KUNIT_EXPECT_FALSE(test, tdi_dmabuf_tdi_held(ctx->tdi));
	KUNIT_EXPECT_EQ(test, k_state(ctx->tdi, &st), TDI_DMABUF_STATE_ERROR);
	KUNIT_EXPECT_EQ(test, st.cause, TDI_DMABUF_CAUSE_PROVIDER);
	KUNIT_EXPECT_EQ(test, st.error, ENODEV);
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_UNBIND), 0);
	k_put(shared);
	k_put(private);

	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_unbind(ctx->tdi), 0);
	KUNIT_EXPECT_EQ(test, tdi_fake_calls(k_name, TDI_FAKE_CALL_UNBIND), 0);
	KUNIT_EXPECT_EQ(test, k_state(ctx->tdi, &st), TDI_DMABUF_STATE_UNBOUND);
	KUNIT_EXPECT_EQ(test, tdi_dmabuf_tdi_bind(ctx->tdi), 0);
}

static struct kunit_case tdi_state_cases[] = {
	KUNIT_CASE(tdi_state_bind_run_unbind),
	KUNIT_CASE(tdi_state_no_provider),
	KUNIT_CASE(tdi_state_busy_and_private_rules),
	KUNIT_CASE_PARAM(tdi_state_bind_faults, fault_gen_params),
	KUNIT_CASE(tdi_state_bind_misaligned),
	KUNIT_CASE(tdi_state_unbind_fails),
	KUNIT_CASE(tdi_state_async_error),
	KUNIT_CASE(tdi_state_reset_and_decode),
	KUNIT_CASE(tdi_state_reset_window),
	KUNIT_CASE(tdi_state_reset_defers_unbind),
	KUNIT_CASE(tdi_state_close_unbinds),
	KUNIT_CASE(tdi_state_close_unbind_fails),
	KUNIT_CASE(tdi_state_provider_lost),
	KUNIT_CASE(tdi_state_ranges_foreign),
	KUNIT_CASE(tdi_state_revoke_reaches_importer),
	KUNIT_CASE(tdi_state_p2p_routes),
	KUNIT_CASE(tdi_state_private_only_to_secure),
	KUNIT_CASE(tdi_state_revoke_waits_for_importer),
	KUNIT_CASE(tdi_state_revoke_stuck_importer),
	{}
};

static struct kunit_suite tdi_state_suite = {
	.name = "tdi_dmabuf_state",
	.init = k_init,
	.exit = k_exit,
	.test_cases = tdi_state_cases,
};

kunit_test_suite(tdi_state_suite);

MODULE_DESCRIPTION("KUnit tests of the tdi_dmabuf state machine and exporter");
MODULE_LICENSE("GPL");

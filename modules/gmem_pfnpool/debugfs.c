// SPDX-License-Identifier: GPL-2.0-only
/*
 * debugfs: /sys/kernel/debug/gmem_pfnpool/
 *   pool   ranges, total/free/used bytes (free + used == total), free
 *          aligned blocks per size, fragmentation, metadata bytes
 *   files  one line per open gmem file: size, allocated, extents,
 *          attribute ranges, counters
 *   extents one line per extent of every open file: "INO FIRST LAST PFN"
 *          (page indexes and the PFN of FIRST, in hex), so that a test can
 *          check that no PFN backs two files and every PFN is in the pool
 *
 * Locking: gmem_pfnpool_files_lock protects the file list (the files
 * themselves stay alive while on it: release takes them off first);
 * per-file numbers are read under gf->lock.
 */
#include <linux/debugfs.h>
#include <linux/maple_tree.h>
#include <linux/seq_file.h>

#include "internal.h"

static struct dentry *gmem_pfnpool_debugfs_dir;

/* Metadata of one file: its struct and an upper bound for its trees. */
static size_t gmem_pfnpool_file_meta(struct gmem_pfnpool_file *gf)
{
	unsigned long entries = gmem_pfnpool_extent_count(gf) +
				gmem_pfnpool_attrs_count(&gf->attrs);

	/* A 256-byte maple node holds up to 16 ranges; count it half full. */
	return sizeof(*gf) + DIV_ROUND_UP(entries, 8) * 256;
}

static int gmem_pfnpool_pool_show(struct seq_file *m, void *v)
{
	struct gmem_pfnpool_pool *pool = &gmem_pfnpool_pool;
	struct gmem_pfnpool_pool_range *r;
	struct gmem_pfnpool_file *gf;
	u64 free = gmem_pfnpool_pool_free_bytes(pool);
	u64 used = gmem_pfnpool_pool_used_bytes(pool);
	u64 free_2m = gmem_pfnpool_pool_free_blocks(pool,
						    GMEM_PFNPOOL_ORDER_PMD);
	size_t meta = gmem_pfnpool_pool_metadata_bytes(pool);

	list_for_each_entry(r, &pool->ranges, node)
		seq_printf(m, "range %#llx-%#llx %llu\n", (u64)r->phys,
			   (u64)r->phys + r->size - 1, r->size);
	mutex_lock(&gmem_pfnpool_files_lock);
	list_for_each_entry(gf, &gmem_pfnpool_files, node) {
		mutex_lock(&gf->lock);
		meta += gmem_pfnpool_file_meta(gf);
		mutex_unlock(&gf->lock);
	}
	mutex_unlock(&gmem_pfnpool_files_lock);

	seq_printf(m, "total %llu\n", pool->total);
	seq_printf(m, "free %llu\n", free);
	seq_printf(m, "used %llu\n", used);
	seq_printf(m, "free_1g_blocks %llu\n",
		   gmem_pfnpool_pool_free_blocks(pool, GMEM_PFNPOOL_ORDER_PUD));
	seq_printf(m, "free_2m_blocks %llu\n", free_2m);
	/* Share of free memory not available as whole 2 MiB blocks. */
	seq_printf(m, "fragmentation_pct %llu\n",
		   free ? div64_u64((free - min(free, free_2m * SZ_2M)) * 100,
				    free) : 0);
	seq_printf(m, "metadata_bytes %zu\n", meta);
	seq_printf(m, "metadata_bytes_per_gib %llu\n",
		   pool->total ? div64_u64((u64)meta * SZ_1G, pool->total) : 0);
	seq_printf(m, "faults %lld\n", atomic64_read(&gmem_pfnpool_total_faults));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(gmem_pfnpool_pool);

static int gmem_pfnpool_files_show(struct seq_file *m, void *v)
{
	struct gmem_pfnpool_file *gf;

	mutex_lock(&gmem_pfnpool_files_lock);
	list_for_each_entry(gf, &gmem_pfnpool_files, node) {
		mutex_lock(&gf->lock);
		seq_printf(m, "file %llu size %llu allocated %llu extents %lu attr_ranges %lu faults %lld pte %lld pmd %lld pud %lld conversions %lld vetoes %lld\n",
			   gf->file ? (u64)file_inode(gf->file)->i_ino : 0,
			   (u64)gf->npages << PAGE_SHIFT,
			   (u64)gf->allocated << PAGE_SHIFT,
			   gmem_pfnpool_extent_count(gf),
			   gmem_pfnpool_attrs_count(&gf->attrs),
			   atomic64_read(&gf->stats.faults),
			   atomic64_read(&gf->stats.mapped_pte),
			   atomic64_read(&gf->stats.mapped_pmd),
			   atomic64_read(&gf->stats.mapped_pud),
			   atomic64_read(&gf->stats.conversions),
			   atomic64_read(&gf->stats.vetoes));
		mutex_unlock(&gf->lock);
	}
	mutex_unlock(&gmem_pfnpool_files_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(gmem_pfnpool_files);

static int gmem_pfnpool_extents_show(struct seq_file *m, void *v)
{
	struct gmem_pfnpool_file *gf;
	void *entry;

	mutex_lock(&gmem_pfnpool_files_lock);
	list_for_each_entry(gf, &gmem_pfnpool_files, node) {
		MA_STATE(mas, &gf->extents, 0, 0);
		u64 ino = gf->file ? (u64)file_inode(gf->file)->i_ino : 0;

		/* gf->lock keeps writers out, RCU keeps the nodes alive. */
		mutex_lock(&gf->lock);
		rcu_read_lock();
		mas_for_each(&mas, entry, ULONG_MAX) {
			if (!xa_is_value(entry))
				continue;
			seq_printf(m, "%llu %#lx %#lx %#lx\n", ino, mas.index,
				   mas.last, xa_to_value(entry));
		}
		rcu_read_unlock();
		mutex_unlock(&gf->lock);
	}
	mutex_unlock(&gmem_pfnpool_files_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(gmem_pfnpool_extents);

/**
 * gmem_pfnpool_debugfs_init() - create /sys/kernel/debug/gmem_pfnpool
 */
void gmem_pfnpool_debugfs_init(void)
{
	gmem_pfnpool_debugfs_dir = debugfs_create_dir(GMEM_PFNPOOL_NAME, NULL);
	debugfs_create_file("pool", 0400, gmem_pfnpool_debugfs_dir, NULL,
			    &gmem_pfnpool_pool_fops);
	debugfs_create_file("files", 0400, gmem_pfnpool_debugfs_dir, NULL,
			    &gmem_pfnpool_files_fops);
	debugfs_create_file("extents", 0400, gmem_pfnpool_debugfs_dir, NULL,
			    &gmem_pfnpool_extents_fops);
}

/**
 * gmem_pfnpool_debugfs_exit() - remove it
 */
void gmem_pfnpool_debugfs_exit(void)
{
	debugfs_remove_recursive(gmem_pfnpool_debugfs_dir);
}

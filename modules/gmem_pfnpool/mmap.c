// SPDX-License-Identifier: GPL-2.0-only
/*
 * Userspace mappings of gmem files: MAP_SHARED only, shared ranges only (a
 * private page raises SIGBUS), special entries (there are no struct pages).
 *
 * Who can follow a mapping, and the choice made here: the host's own CPU
 * accesses through the page tables, which a conversion or a punch zaps
 * (this file's commit), and KVM follows them with mmu notifiers, which the
 * zap reaches too. VFIO type1 also follows VM_PFNMAP mappings
 * (follow_fault_pfn(), for MMIO BARs of other devices): it builds IOMMU
 * mappings from the PFNs it finds, tells no one, and keeps them until
 * VFIO_IOMMU_UNMAP_DMA, through any conversion, punch or close. No core API
 * tells a VM_PFNMAP exporter about such a walk, and type1 follows any
 * present entry, so the only way to keep it out is not to be VM_PFNMAP.
 * By default a mapping is VM_MIXEDMAP | VM_IO with special PTEs: GUP
 * refuses VM_IO, type1 only looks at VM_PFNMAP VMAs, and the page walkers of
 * the core (pagemap, mbind, madvise) see special PTEs as entries without a
 * page. A device then reaches gmem memory only through the paths that take
 * part in the invalidation protocol: a DMA-BUF export or the in-kernel API.
 * The price is the mapping size: huge special entries exist only for
 * VM_PFNMAP in the core's page walkers (walk_page_range() skips VM_PFNMAP
 * VMAs; it walks VM_MIXEDMAP ones and would take a huge special entry for a
 * page), so these mappings are PTE-only. The mmap_huge module parameter
 * brings back VM_PFNMAP with huge entries for hosts where no VFIO type1
 * user maps gmem memory; it applies to mappings made after it is set.
 *
 * A fault maps the largest block the alignment allows: a PUD (1 GiB) or PMD
 * (2 MiB) entry when the virtual address and the file offset are congruent
 * modulo the block, the extent backing it is contiguous and aligned, the
 * whole block is shared and inside the VMA (gmem_pfnpool_map_order()).
 * Kernels whose core mm never calls ->huge_fault() for a VM_PFNMAP mapping
 * (before 6.12 hugepage_vma_check() rejects VM_SPECIAL VMAs) come to ->fault
 * only; there the fault populates the PTEs of the whole aligned 2 MiB block
 * at once, so a fault still covers 2 MiB.
 *
 * The mappings of a file are one registered user of the invalidation engine
 * (gf->mmap_user): it never refuses; on commit it zaps the range from every
 * mapping of the file (unmap_mapping_range() on the file's own mapping).
 *
 * A fault on a range whose conversion is in flight waits until the
 * conversion ends, which lasts as long as the slowest user's prepare. Where
 * the core allows it (the first try of a fault with FAULT_FLAG_ALLOW_RETRY),
 * the fault drops mmap_lock (or the VMA lock) first, sleeps without it and
 * returns VM_FAULT_RETRY, as filemap does for a locked folio: munmap(),
 * mmap() and /proc/PID/maps of the process do not wait for the users. With
 * FAULT_FLAG_RETRY_NOWAIT it returns VM_FAULT_RETRY at once with the lock
 * held, as the core asks. The retried fault (FAULT_FLAG_TRIED) and faults
 * that cannot be retried wait with the lock held; that wait is what lockdep
 * is told about (gmem_pfnpool_invalidate_might_wait()).
 *
 * Encryption: on a host with memory encryption (AMD SME), the user mapping
 * must use the same encryption attribute as the kernel's mapping of the
 * same PFNs, through which the pool zeroes memory: otherwise userspace reads
 * ciphertext of the zeroes, and a write by one side reads as garbage on the
 * other. The pool maps its ranges with memremap(MEMREMAP_WB); for memory
 * outside System RAM (a memmap= carve-out is E820 reserved) x86 takes the
 * ioremap path, which maps decrypted unless the resource is marked
 * encrypted, and it never is for reserved ranges, on SME hosts or in SEV
 * guests (__ioremap_check_encrypted()). So user mappings are
 * pgprot_decrypted() too, as vfio-pci's BAR mappings are; mprotect() keeps
 * the attribute (x86's pgprot_modify() preserves the _PAGE_CC bit). Without
 * memory encryption both are no-ops. QEMU's TCG emulates no SME, so this is
 * not exercised by the guest tests.
 *
 * Locking: a fault takes gf->map_lock for read and then gf->lock, and keeps
 * both while it inserts entries; the commit phase holds gf->map_lock for
 * write, so no fault is between its checks and its page-table update then.
 * Lock order: mmap_lock (or VMA lock) -> gf->map_lock -> gf->lock -> PTL.
 */
#include <linux/file.h>
#include <linux/huge_mm.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <kunit/visibility.h>

#include "internal.h"
#include "trace.h"

static bool mmap_huge;
module_param(mmap_huge, bool, 0644);
MODULE_PARM_DESC(mmap_huge,
		 "Map files VM_PFNMAP with 2 MiB/1 GiB entries where aligned (kernels that map VM_PFNMAP huge); VFIO type1 can then map them into an IOMMU outside the invalidation protocol, so set it only where no VFIO type1 user maps gmem memory (default: N, VM_MIXEDMAP with 4 KiB entries)");

/**
 * gmem_pfnpool_order_fits() - can one entry of @order map the fault?
 * @ctx: the fault and what backs it
 * @order: mapping order in pages (0, PMD or PUD order)
 *
 * Return: true if the naturally aligned block of 2^@order pages around the
 * faulting page is aligned in virtual and physical space, inside the VMA,
 * backed by one extent and shared all through.
 */
bool gmem_pfnpool_order_fits(const struct gmem_pfnpool_map_ctx *ctx,
			     unsigned int order)
{
	unsigned long n = 1UL << order;
	unsigned long bytes = n << PAGE_SHIFT;
	pgoff_t bs = ALIGN_DOWN(ctx->index, n);
	pgoff_t off = ctx->index - bs;
	unsigned long baddr;

	if (order >= BITS_PER_LONG - PAGE_SHIFT)
		return false;
	if (ctx->addr < (off << PAGE_SHIFT))
		return false;
	baddr = (ctx->addr & PAGE_MASK) - (off << PAGE_SHIFT);
	if (!IS_ALIGNED(baddr, bytes) || !IS_ALIGNED(ctx->pfn - off, n))
		return false;
	if (baddr < ctx->vm_start || ctx->vm_end - baddr < bytes)
		return false;
	if (bs < ctx->ext_first || bs + n - 1 > ctx->ext_last)
		return false;
	return bs >= ctx->attr_first && bs + n - 1 <= ctx->attr_last;
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_order_fits);

/**
 * gmem_pfnpool_map_order() - largest mapping order usable for a fault
 * @ctx: the fault and what backs it
 * @max_order: largest order the caller can insert
 *
 * Return: PUD order, PMD order or 0.
 */
unsigned int gmem_pfnpool_map_order(const struct gmem_pfnpool_map_ctx *ctx,
				    unsigned int max_order)
{
	if (max_order >= GMEM_PFNPOOL_ORDER_PUD &&
	    gmem_pfnpool_order_fits(ctx, GMEM_PFNPOOL_ORDER_PUD))
		return GMEM_PFNPOOL_ORDER_PUD;
	if (max_order >= GMEM_PFNPOOL_ORDER_PMD &&
	    gmem_pfnpool_order_fits(ctx, GMEM_PFNPOOL_ORDER_PMD))
		return GMEM_PFNPOOL_ORDER_PMD;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(gmem_pfnpool_map_order);

/* User address of file page @index in @vma (which maps it). */
static unsigned long gmem_pfnpool_page_addr(struct vm_area_struct *vma,
					    pgoff_t index)
{
	return vma->vm_start + ((index - vma->vm_pgoff) << PAGE_SHIFT);
}

/* One run of PTEs to fill: consecutive pages, consecutive PFNs. */
struct gmem_pfnpool_pte_fill {
	struct vm_area_struct *vma;
	unsigned long pfn;	/* of the next page */
	unsigned long filled;	/* entries written */
};

static int gmem_pfnpool_fill_pte(pte_t *pte, unsigned long addr, void *data)
{
	struct gmem_pfnpool_pte_fill *f = data;
	unsigned long pfn = f->pfn++;

	/* Already mapped (by an earlier fault of this page table). */
	if (!pte_none(ptep_get(pte)))
		return 0;
	set_pte_at(f->vma->vm_mm, addr, pte,
		   pte_mkspecial(pfn_pte(pfn, f->vma->vm_page_prot)));
	update_mmu_cache(f->vma, addr, pte);
	f->filled++;
	return 0;
}

/*
 * Write the PTEs of @n pages from @addr, backed by @pfn onwards, in one walk
 * of the page table under one PTL: what vmf_insert_pfn() does for one page
 * (a special PTE with the VMA's protection, no struct page, no rmap, no
 * counters), without its walk, PTL round trip and PAT lookup per page. The
 * PAT lookup would return the VMA's own caching: the pool is reserved
 * write-back by its memremap() for as long as the module is loaded, which
 * every mapping of a gmem file holds it.
 */
static int gmem_pfnpool_fill_ptes(struct gmem_pfnpool_file *gf,
				  struct vm_area_struct *vma, unsigned long addr,
				  unsigned long pfn, unsigned long n)
{
	struct gmem_pfnpool_pte_fill f = { .vma = vma, .pfn = pfn };
	int err;

	err = apply_to_page_range(vma->vm_mm, addr, n << PAGE_SHIFT,
				  gmem_pfnpool_fill_pte, &f);
	atomic64_add(f.filled, &gf->stats.mapped_pte);
	return err;
}

/*
 * The pages of the fault's page table: the 2 MiB of virtual addresses
 * around it, clipped to the VMA and the file, as file pages [*@lo, *@hi).
 */
static void gmem_pfnpool_pte_window(struct gmem_pfnpool_file *gf,
				    struct vm_fault *vmf, pgoff_t *lo,
				    pgoff_t *hi)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long va_lo = max(vmf->address & PMD_MASK, vma->vm_start);
	unsigned long va_hi = min((vmf->address & PMD_MASK) + PMD_SIZE,
				  vma->vm_end);

	*lo = vma->vm_pgoff + ((va_lo - vma->vm_start) >> PAGE_SHIFT);
	*hi = min_t(pgoff_t, vma->vm_pgoff +
			     ((va_hi - vma->vm_start) >> PAGE_SHIFT),
		    gf->npages);
}

/*
 * The run of pages from @index, below @hi, that one PTE fill maps: shared
 * all through, backed by one extent (consecutive PFNs) and not in flight.
 * *@last is set to its last page, or to the last page looked at when the
 * run is not mappable.
 *
 * Context: gf->lock held.
 * Return: the PFN of @index, or 0 if the run is not mappable.
 */
static unsigned long gmem_pfnpool_pte_run(struct gmem_pfnpool_file *gf,
					  pgoff_t index, pgoff_t hi,
					  pgoff_t *last)
{
	pgoff_t af, al, ef, el;
	unsigned long pfn;
	u32 attr;

	attr = gmem_pfnpool_attrs_get(&gf->attrs, index, &af, &al);
	pfn = __gmem_pfnpool_extent_lookup(gf, index, &ef, &el);
	*last = min3(al, el, hi - 1);
	if (attr != GMEM_PFNPOOL_ATTR_SHARED || !pfn ||
	    __gmem_pfnpool_inflight(gf, index, *last + 1))
		return 0;
	return pfn;
}

/*
 * Map a fault with PTEs. The caller checked that the faulting page is
 * shared, allocated (backed by @pfn) and not in flight, under gf->lock.
 *
 * First, the core called ->fault because vmf->pmd was no huge entry when it
 * looked, but it did so without gf->lock: a concurrent huge fault of the
 * same block may have installed one since (its block became mappable whole
 * in between, e.g. a conversion back to shared committed). That entry maps
 * the fault already, and writing PTEs under it would treat the data page as
 * a page table; every huge insert of this file happens under gf->lock, so
 * the check is stable.
 *
 * Then the faulting page is mapped; that must succeed. Last, as a bonus, the
 * other mappable runs of its page table (gmem_pfnpool_pte_window()) are
 * filled, one run of consecutive PFNs per walk, so that touching a 2 MiB
 * range faults once. A run that cannot be mapped is skipped; an entry
 * already present (the faulting page) is left as it is.
 */
static vm_fault_t gmem_pfnpool_map_ptes(struct gmem_pfnpool_file *gf,
					struct vm_fault *vmf,
					unsigned long pfn)
{
	struct vm_area_struct *vma = vmf->vma;
	pgoff_t index, lo, hi, last;
	int err;

	lockdep_assert_held(&gf->lock);
	if (vmf->pmd && pmd_leaf(READ_ONCE(*vmf->pmd)))
		return VM_FAULT_NOPAGE;

	err = gmem_pfnpool_fill_ptes(gf, vma, vmf->address & PAGE_MASK, pfn,
				     1);
	if (err)
		return err == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;

	gmem_pfnpool_pte_window(gf, vmf, &lo, &hi);
	for (index = lo; index < hi; index = last + 1) {
		pfn = gmem_pfnpool_pte_run(gf, index, hi, &last);
		if (pfn)
			gmem_pfnpool_fill_ptes(gf, vma,
					       gmem_pfnpool_page_addr(vma, index),
					       pfn, last - index + 1);
	}
	return VM_FAULT_NOPAGE;
}

/*
 * The faulting page is in flight. Wait for the conversion without the fault
 * lock where the fault may be retried (see the header comment).
 *
 * Return: VM_FAULT_RETRY if the caller must return it (the fault lock is
 * released, or kept with FAULT_FLAG_RETRY_NOWAIT), 0 if the caller waited
 * with the lock held and may look again, VM_FAULT_SIGBUS on a fatal signal
 * in that wait.
 */
static vm_fault_t gmem_pfnpool_fault_wait(struct gmem_pfnpool_file *gf,
					  struct vm_fault *vmf, pgoff_t index)
{
	vm_fault_t ret = VM_FAULT_RETRY;
	struct file *file;

	assert_fault_locked(vmf);
	if (!fault_flag_allow_retry_first(vmf->flags)) {
		if (!gmem_pfnpool_wait_stable(gf, index))
			return 0;
		ret = VM_FAULT_SIGBUS;
	}
	trace_gmem_pfnpool_fault(gmem_pfnpool_file_ino(gf), index, 0,
				 (__force unsigned int)ret);
	if (ret != VM_FAULT_RETRY || vmf->flags & FAULT_FLAG_RETRY_NOWAIT)
		return ret;

	/*
	 * Without the lock the VMA may go: its file holds the gmem file until
	 * the wait ends. A fatal signal ends the wait early; the core sees it
	 * when the fault returns.
	 */
	file = get_file(vmf->vma->vm_file);
	release_fault_lock(vmf);
	gmem_pfnpool_wait_stable(gf, index);
	fput(file);
	return VM_FAULT_RETRY;
}

static vm_fault_t gmem_pfnpool_fault_order(struct vm_fault *vmf,
					   unsigned int max_order)
{
	struct vm_area_struct *vma = vmf->vma;
	struct gmem_pfnpool_file *gf = vma->vm_file->private_data;
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	struct gmem_pfnpool_map_ctx ctx = {
		.addr = vmf->address,
		.vm_start = vma->vm_start,
		.vm_end = vma->vm_end,
		.index = vmf->pgoff,
	};
	unsigned int order = 0;
	bool fresh = true;
	unsigned long pfn;
	vm_fault_t ret;
	int err;

	atomic64_inc(&gf->stats.faults);
	atomic64_inc(&gmem_pfnpool_total_faults);
	if (ctx.index >= gf->npages)
		return VM_FAULT_SIGBUS;
	/* This fault may wait for the users' callbacks, with its lock held. */
	gmem_pfnpool_invalidate_might_wait();

retry:
	down_read(&gf->map_lock);
	mutex_lock(&gf->lock);
	if (__gmem_pfnpool_inflight(gf, ctx.index, ctx.index + 1)) {
		mutex_unlock(&gf->lock);
		up_read(&gf->map_lock);
		/* BLOCKED: wait for the conversion, then look again. */
		ret = gmem_pfnpool_fault_wait(gf, vmf, ctx.index);
		if (ret)
			return ret;
		goto retry;
	}

	if (gmem_pfnpool_attrs_get(&gf->attrs, ctx.index, &ctx.attr_first,
				   &ctx.attr_last) != GMEM_PFNPOOL_ATTR_SHARED) {
		ret = VM_FAULT_SIGBUS;
		goto unlock;
	}
	err = __gmem_pfnpool_extent_ensure(gf, ctx.index);
	if (err) {
		ret = err == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
		goto unlock;
	}
	ctx.pfn = __gmem_pfnpool_extent_lookup(gf, ctx.index, &ctx.ext_first,
					       &ctx.ext_last);

	order = gmem_pfnpool_map_order(&ctx, max_order);
	if (max_order && order != max_order) {
		ret = VM_FAULT_FALLBACK;
		goto unlock;
	}

	/*
	 * The core saw an empty PUD or PMD, or a huge entry to make writable,
	 * before it called us, without gf->lock; a concurrent PTE fault of
	 * ours may have put a page table there since (all our inserts are
	 * under gf->lock, so what we see now stays). Then the fault is one for
	 * PTEs: inserting a huge entry over the table would WARN. A huge entry
	 * is left to vmf_insert_pfn_p?d(), which makes it writable (a write
	 * fault after mprotect()) or does nothing.
	 */
	if (order == GMEM_PFNPOOL_ORDER_PUD) {
		pud_t pud = READ_ONCE(*vmf->pud);

		if (!pud_none(pud) && !pud_leaf(pud)) {
			ret = VM_FAULT_FALLBACK;
			goto unlock;
		}
		fresh = pud_none(pud);
	} else if (order == GMEM_PFNPOOL_ORDER_PMD) {
		pmd_t pmd = READ_ONCE(*vmf->pmd);

		if (!pmd_none(pmd) && !pmd_leaf(pmd)) {
			ret = VM_FAULT_FALLBACK;
			goto unlock;
		}
		fresh = pmd_none(pmd);
	}

	pfn = ctx.pfn - (ctx.index - ALIGN_DOWN(ctx.index, 1UL << order));
	if (IS_ENABLED(CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD) &&
	    order == GMEM_PFNPOOL_ORDER_PUD) {
		ret = vmf_insert_pfn_pud(vmf, pfn, write);
		if (ret == VM_FAULT_NOPAGE && fresh)
			atomic64_inc(&gf->stats.mapped_pud);
	} else if (IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE) &&
		   order == GMEM_PFNPOOL_ORDER_PMD) {
		ret = vmf_insert_pfn_pmd(vmf, pfn, write);
		if (ret == VM_FAULT_NOPAGE && fresh)
			atomic64_inc(&gf->stats.mapped_pmd);
	} else if (!order) {
		ret = gmem_pfnpool_map_ptes(gf, vmf, ctx.pfn);
	} else {
		ret = VM_FAULT_FALLBACK;
	}
unlock:
	mutex_unlock(&gf->lock);
	up_read(&gf->map_lock);
	trace_gmem_pfnpool_fault(gmem_pfnpool_file_ino(gf), ctx.index, order,
				 (__force unsigned int)ret);
	return ret;
}

static vm_fault_t gmem_pfnpool_fault(struct vm_fault *vmf)
{
	return gmem_pfnpool_fault_order(vmf, 0);
}

static vm_fault_t gmem_pfnpool_huge_fault(struct vm_fault *vmf,
					  unsigned int order)
{
	/* Huge special entries only where the page walkers skip the VMA. */
	if (!(vmf->vma->vm_flags & VM_PFNMAP))
		return VM_FAULT_FALLBACK;
	if (order != GMEM_PFNPOOL_ORDER_PUD && order != GMEM_PFNPOOL_ORDER_PMD)
		return VM_FAULT_FALLBACK;
	return gmem_pfnpool_fault_order(vmf, order);
}

CCHOST_HUGE_FAULT_ORDER_WRAPPER(gmem_pfnpool_huge_fault);

static const struct vm_operations_struct gmem_pfnpool_vm_ops = {
	.fault = gmem_pfnpool_fault,
	.huge_fault = cchost_huge_fault_op(gmem_pfnpool_huge_fault),
};

/**
 * gmem_pfnpool_mmap() - map a gmem file into userspace
 * @file: the gmem file
 * @vma: the new VMA
 *
 * The mapping can never become executable (VM_MAYEXEC is cleared, so a
 * later mprotect(PROT_EXEC) fails with EACCES).
 *
 * Return: 0, -EINVAL for MAP_PRIVATE or a mapping past the end of the
 * file, -EPERM for PROT_EXEC.
 */
int gmem_pfnpool_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct gmem_pfnpool_file *gf = file->private_data;
	unsigned long pages = vma_pages(vma), end;

	if (!(vma->vm_flags & VM_SHARED)) {
		pr_debug("MAP_PRIVATE is not supported\n");
		return -EINVAL;
	}
	/* Guest memory is data for the host: never executable. */
	if (vma->vm_flags & VM_EXEC) {
		pr_debug("PROT_EXEC is not supported\n");
		return -EPERM;
	}
	if (check_add_overflow(vma->vm_pgoff, pages, &end) ||
	    end > gf->npages) {
		pr_debug("mmap past the end of the file\n");
		return -EINVAL;
	}

	vm_flags_clear(vma, VM_MAYEXEC);
	/* See the header comment: as the kernel's memremap() of the pool. */
	vma->vm_page_prot = pgprot_decrypted(vma->vm_page_prot);
	/* See the header comment: VM_PFNMAP lets VFIO type1 follow. */
	if (READ_ONCE(mmap_huge))
		vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND |
			     VM_DONTDUMP | VM_HUGEPAGE);
	else
		vm_flags_set(vma, VM_MIXEDMAP | VM_IO | VM_DONTEXPAND |
			     VM_DONTDUMP | VM_NOHUGEPAGE);
	vma->vm_ops = &gmem_pfnpool_vm_ops;
	return 0;
}

/*
 * Where the core maps VM_PFNMAP memory with huge entries (6.12+), a zap
 * must not end inside one: zap_pud_range() asserts mmap_lock to split a
 * PUD entry, and unmap_mapping_range() holds only the file's i_mmap lock
 * (a WARN, in the mm of every process that maps the file). An edge of the
 * zap inside a block that one huge entry could map (one extent, naturally
 * aligned in file and physical space) moves out to the block's edge; the
 * rest of the block refaults. Whether a VMA's virtual alignment allowed a
 * huge entry there is not known here: zapping more is always correct.
 *
 * @index is the first page of the zap (@up false) or one past its last
 * (@up true). Called with gf->lock held.
 */
static pgoff_t gmem_pfnpool_zap_edge(struct gmem_pfnpool_file *gf,
				     pgoff_t index, bool up)
{
#ifdef CCHOST_HAVE_HUGE_PFNMAP
	static const unsigned int orders[] = {
		GMEM_PFNPOOL_ORDER_PUD, GMEM_PFNPOOL_ORDER_PMD,
	};
	pgoff_t page = up ? index - 1 : index;
	pgoff_t first, last, n, bs;
	unsigned long pfn;
	unsigned int i;

	lockdep_assert_held(&gf->lock);
	if (up ? !index || index >= gf->npages : index >= gf->npages)
		return index;
	pfn = __gmem_pfnpool_extent_lookup(gf, page, &first, &last);
	if (!pfn)
		return index;
	for (i = 0; i < ARRAY_SIZE(orders); i++) {
		n = 1UL << orders[i];
		if (IS_ALIGNED(index, n))
			break;
		bs = ALIGN_DOWN(page, n);
		if (bs >= first && bs + n - 1 <= last &&
		    IS_ALIGNED(pfn - (page - bs), n))
			return up ? bs + n : bs;
	}
#endif
	return index;
}

static void gmem_pfnpool_mmap_commit(struct gmem_pfnpool_user *user,
				     const struct gmem_pfnpool_range *range)
{
	struct gmem_pfnpool_file *gf =
		container_of(user, struct gmem_pfnpool_file, mmap_user);
	pgoff_t start, end;

	lockdep_assert_held_write(&gf->map_lock);
	mutex_lock(&gf->lock);
	start = gmem_pfnpool_zap_edge(gf, range->start, false);
	end = gmem_pfnpool_zap_edge(gf, range->end, true);
	mutex_unlock(&gf->lock);
	unmap_mapping_range(gf->mapping, (loff_t)start << PAGE_SHIFT,
			    (loff_t)(end - start) << PAGE_SHIFT, 1);
}

static const struct gmem_pfnpool_user_ops gmem_pfnpool_mmap_user_ops = {
	.commit = gmem_pfnpool_mmap_commit,
};

/**
 * gmem_pfnpool_mmap_user_init() - register the userspace mappings as a user
 * @gf: a new file, not yet visible to anyone (its mapping may still be
 *	unset: nothing converts it before it has a struct file)
 *
 * Return: 0, or -EINTR as gmem_pfnpool_register_user() (which cannot wait
 * for a file nobody else knows).
 */
int gmem_pfnpool_mmap_user_init(struct gmem_pfnpool_file *gf)
{
	gf->mmap_user.name = "mmap";
	gf->mmap_user.ops = &gmem_pfnpool_mmap_user_ops;
	return gmem_pfnpool_register_user(gf, &gf->mmap_user);
}

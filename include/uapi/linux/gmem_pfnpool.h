/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * gmem_pfnpool - guest-memory files backed by physical ranges the kernel
 * does not manage (no struct page).
 *
 * /dev/gmem_pfnpool (root-only by default) creates guest-memory files. Each
 * file is a fixed-size sequence of pages; every page-aligned range of it is
 * either shared (host-mappable with mmap(MAP_SHARED), exportable as a
 * DMA-BUF) or private (any host access raises SIGBUS). Memory is taken from
 * the pool on first touch or fallocate() and returned, zeroed, by
 * fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) or when the last
 * reference to the file goes away.
 *
 * Conventions of every ioctl below: all offsets and sizes are in bytes and
 * must be multiples of the page size, non-zero sizes, and offset + size must
 * neither overflow nor pass the end of the file. Unknown flags and non-zero
 * reserved fields are rejected with EINVAL. EFAULT means the argument could
 * not be read or written back. Unknown ioctls fail with ENOTTY.
 *
 * Other file operations on a gmem file:
 *  - mmap(): MAP_SHARED only, within the file, never executable. EINVAL
 *    for MAP_PRIVATE or a range past the end, EPERM for PROT_EXEC (and
 *    mprotect(PROT_EXEC) later fails with EACCES). Touching a private page
 *    raises SIGBUS, as does a fault the pool cannot back. A mapping is for
 *    the host CPU (and KVM, which follows it with mmu notifiers) only:
 *    get_user_pages() and VFIO_IOMMU_MAP_DMA of it fail with EFAULT, so no
 *    device reaches the memory through it. A device uses a DMA-BUF export
 *    (GMEM_PFNPOOL_IOC_EXPORT_DMABUF) or a driver using the in-kernel API;
 *    both take part in conversions. Faults map 4 KiB entries, the 2 MiB
 *    around the fault at once. Exception: with the module parameter
 *    mmap_huge=1, mappings made afterwards are VM_PFNMAP and map 1 GiB or
 *    2 MiB entries where the kernel allows it (map at an address congruent
 *    to the file offset), and VFIO type1 can then map them into an IOMMU:
 *    such IOMMU mappings are not revoked by a conversion, punch or close.
 *    On a host with memory encryption (AMD SME) mappings are unencrypted,
 *    as the kernel's own mapping of the reserved ranges of the pool is.
 *  - fallocate(): mode 0 or FALLOC_FL_KEEP_SIZE allocates (ENOSPC when the
 *    pool is exhausted); FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE returns
 *    the memory to the pool, zeroed, through the same two-phase protocol as
 *    a conversion (EBUSY when a user refuses, e.g. a DMA-BUF importer that
 *    cannot be revoked). EINVAL for unaligned ranges
 *    or ranges past the end, EOPNOTSUPP for other modes.
 *  - ftruncate(): EPERM, the size of a file is fixed.
 *  - The ioctls that return a new fd install it only once their argument
 *    was written back: on EFAULT no fd is left behind.
 *  - close(): the memory returns to the pool, zeroed, once the last
 *    reference (fd, mapping, DMA-BUF export, in-kernel user) is gone. The
 *    module cannot be unloaded before.
 */
#ifndef _UAPI_LINUX_GMEM_PFNPOOL_H
#define _UAPI_LINUX_GMEM_PFNPOOL_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define GMEM_PFNPOOL_IOCTL_MAGIC	0xB9

/* Values of the shared/private attribute of a range. */
#define GMEM_PFNPOOL_ATTR_SHARED	0
#define GMEM_PFNPOOL_ATTR_PRIVATE	1

/* Length of the user name reported when a conversion is vetoed. */
#define GMEM_PFNPOOL_USER_NAME_LEN	32

/* gmem_pfnpool_create.flags */
#define GMEM_PFNPOOL_CREATE_PRIVATE	(1U << 0)	/* initially private */
#define GMEM_PFNPOOL_CREATE_FLAGS	GMEM_PFNPOOL_CREATE_PRIVATE

/**
 * struct gmem_pfnpool_create - argument of GMEM_PFNPOOL_IOC_CREATE
 * @size: size of the file in bytes, a non-zero multiple of the page size
 * @flags: GMEM_PFNPOOL_CREATE_* (default: the whole file starts shared)
 * @fd: out: the new file descriptor (O_RDWR | O_CLOEXEC)
 * @reserved: must be zero
 *
 * GMEM_PFNPOOL_IOC_CREATE (on /dev/gmem_pfnpool): create a guest-memory file.
 * No memory is taken from the pool yet. The return value is also the fd.
 *
 * Errors: EINVAL zero or unaligned size, unknown flags, non-zero reserved;
 * ENOSPC size larger than the whole pool; ENOMEM, EMFILE, ENFILE.
 */
struct gmem_pfnpool_create {
	__u64 size;
	__u32 flags;
	__u32 fd;
	__u64 reserved[2];
};

/**
 * struct gmem_pfnpool_set_attr - argument of GMEM_PFNPOOL_IOC_SET_ATTR
 * @offset: start of the range in bytes
 * @size: size of the range in bytes
 * @attr: GMEM_PFNPOOL_ATTR_SHARED or GMEM_PFNPOOL_ATTR_PRIVATE
 * @flags: must be zero
 * @error_offset: out: on EBUSY, the byte offset at which a user refused
 * @error_user: out: on EBUSY, the NUL-terminated name of that user
 * @reserved: must be zero
 *
 * GMEM_PFNPOOL_IOC_SET_ATTR (on a gmem file): convert a range to shared or
 * private with the two-phase protocol: new faults and in-kernel lookups on
 * the range wait while every registered user (userspace mappings, DMA-BUF
 * exports, in-kernel users) is asked to prepare. If all agree, every user
 * commits (mappings of the range are zapped, DMA-BUF importers of a range
 * that leaves the shared state are revoked) and the attribute flips. If one
 * refuses, nothing changes: the attribute, the mappings and the contents stay
 * as they were. Converting a range to the attribute it already has succeeds
 * without calling any user. Overlapping conversions are serialised.
 *
 * Errors: EINVAL bad range, flags, attr or reserved; EBUSY a user refused
 * (error_offset and error_user tell which, and where; a DMA-BUF importer
 * that cannot be revoked is named as described at
 * GMEM_PFNPOOL_IOC_EXPORT_DMABUF); EINTR a fatal signal arrived while
 * waiting for an overlapping conversion or while users prepared (those that
 * prepared are aborted: nothing changed); ENOMEM.
 */
struct gmem_pfnpool_set_attr {
	__u64 offset;
	__u64 size;
	__u32 attr;
	__u32 flags;
	__u64 error_offset;
	__u8 error_user[GMEM_PFNPOOL_USER_NAME_LEN];
	__u64 reserved[2];
};

/**
 * struct gmem_pfnpool_get_attr - argument of GMEM_PFNPOOL_IOC_GET_ATTR
 * @offset: byte offset to query, page-aligned, inside the file
 * @flags: must be zero
 * @attr: out: the attribute of the page at @offset
 * @range_offset: out: start of the maximal range with that attribute
 * @range_size: out: size of that range
 * @reserved: must be zero
 *
 * GMEM_PFNPOOL_IOC_GET_ATTR (on a gmem file): query the attribute at an offset
 * and the extent of the range around it that has the same attribute.
 *
 * Errors: EINVAL unaligned or out-of-file offset, flags, reserved.
 */
struct gmem_pfnpool_get_attr {
	__u64 offset;
	__u32 flags;
	__u32 attr;
	__u64 range_offset;
	__u64 range_size;
	__u64 reserved[2];
};

/**
 * struct gmem_pfnpool_export_dmabuf - argument of GMEM_PFNPOOL_IOC_EXPORT_DMABUF
 * @offset: start of the range in bytes
 * @size: size of the range in bytes
 * @flags: must be zero
 * @fd: out: the DMA-BUF file descriptor (O_RDWR | O_CLOEXEC)
 * @reserved: must be zero
 *
 * GMEM_PFNPOOL_IOC_EXPORT_DMABUF (on a gmem file): allocate the range if
 * needed and export it as a DMA-BUF. The export holds a reference to the gmem
 * file. The return value is also the fd.
 *
 * Importers and conversions: converting any part of the range to private,
 * or punching it, asks the export first.
 *  - An importer that cannot be revoked (a static importer, e.g. a DRM PRIME
 *    import, which dma-buf maps once at attach time and never tells about
 *    moves; or a dynamic importer without invalidate_mappings) holds on:
 *    the conversion or punch fails with EBUSY, error_user reads
 *    "dmabuf:<inode of the DMA-BUF> <importing device>" and error_offset
 *    the first byte of the export in the range. It succeeds once that
 *    importer has detached. While a conversion or punch of the range is in
 *    flight, such an importer cannot attach (pin and map fail with EBUSY;
 *    a DRM PRIME import returns EBUSY).
 *  - Every other importer is revoked: it gets move_notify
 *    (invalidate_mappings), and the conversion completes only after every
 *    fence of the DMA-BUF's reservation object has signalled and every
 *    mapping handed out has been unmapped; only then is the memory freed
 *    or made private. From then on attach and map fail with ENODEV, also
 *    after the range is converted back to shared.
 *
 * Errors: EINVAL bad range, flags or reserved, or a part of the range is not
 * shared; EAGAIN a conversion of the range is in flight; ENOSPC the pool
 * cannot back the range; EINTR a fatal signal arrived while waiting for a
 * conversion of the file that is asking its users; ENOMEM, EMFILE.
 */
struct gmem_pfnpool_export_dmabuf {
	__u64 offset;
	__u64 size;
	__u32 flags;
	__u32 fd;
	__u64 reserved[2];
};

/**
 * struct gmem_pfnpool_stats - argument of GMEM_PFNPOOL_IOC_STATS
 * @flags: must be zero
 * @reserved0: must be zero
 * @faults: page faults handled on mappings of the file (->fault and
 *	->huge_fault calls, including those that raised SIGBUS)
 * @mapped_pte: 4 KiB page-table entries inserted
 * @mapped_pmd: 2 MiB PMD entries inserted
 * @mapped_pud: 1 GiB PUD entries inserted
 * @conversions: conversions committed
 * @vetoes: conversions refused by a user
 * @allocated: bytes of the file currently backed by pool memory
 * @reserved: must be zero on input
 *
 * GMEM_PFNPOOL_IOC_STATS (on a gmem file): read the file's counters.
 *
 * Errors: EINVAL flags or reserved fields set.
 */
struct gmem_pfnpool_stats {
	__u32 flags;
	__u32 reserved0;
	__u64 faults;
	__u64 mapped_pte;
	__u64 mapped_pmd;
	__u64 mapped_pud;
	__u64 conversions;
	__u64 vetoes;
	__u64 allocated;
	__u64 reserved[4];
};

#define GMEM_PFNPOOL_IOC_CREATE \
	_IOWR(GMEM_PFNPOOL_IOCTL_MAGIC, 0x00, struct gmem_pfnpool_create)
#define GMEM_PFNPOOL_IOC_SET_ATTR \
	_IOWR(GMEM_PFNPOOL_IOCTL_MAGIC, 0x01, struct gmem_pfnpool_set_attr)
#define GMEM_PFNPOOL_IOC_GET_ATTR \
	_IOWR(GMEM_PFNPOOL_IOCTL_MAGIC, 0x02, struct gmem_pfnpool_get_attr)
#define GMEM_PFNPOOL_IOC_EXPORT_DMABUF \
	_IOWR(GMEM_PFNPOOL_IOCTL_MAGIC, 0x03, struct gmem_pfnpool_export_dmabuf)
#define GMEM_PFNPOOL_IOC_STATS \
	_IOWR(GMEM_PFNPOOL_IOCTL_MAGIC, 0x04, struct gmem_pfnpool_stats)

#endif /* _UAPI_LINUX_GMEM_PFNPOOL_H */

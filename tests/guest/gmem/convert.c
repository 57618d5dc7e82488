// SPDX-License-Identifier: GPL-2.0-only
/*
 * Two-phase conversions with a real in-kernel user (gmem_pfnpool_testuser):
 * a veto leaves attribute and mapping untouched (no new fault needed to
 * read the mapping afterwards) and reports who refused and where; without
 * a veto the mapping is zapped, the attribute flips and every callback ran.
 * Pins refuse in their holder's name. Attribute ranges split and merge.
 */
#include "gmem_test.h"

#define FSIZE (16 * MIB)

int main(void)
{
	struct gmem_pfnpool_set_attr sa;
	struct gmem_pfnpool_stats s0, s1;
	uint64_t rs, rz;
	uint8_t v, *p;
	int dev, fd, big, ret;

	ok(gmem_load() == 0, "load gmem_pfnpool");
	ok(run("modload gmem_pfnpool_testuser") == 0,
	   "load gmem_pfnpool_testuser");
	dev = gmem_dev();
	fd = gmem_create(dev, FSIZE, 0);
	ok(fd >= 0, "create a 16 MiB shared file");
	p = gmem_map(fd, FSIZE, 0, 2 * MIB);
	ok(p != MAP_FAILED, "map it");
	if (p == MAP_FAILED)
		return tap_done();
	memset(p, 0x3c, FSIZE);
	ok(tu_ctl("attach %d", fd) == 0, "test user attaches to the file");

	/* Veto: nothing changes. */
	ok(tu_ctl("veto 1") == 0, "test user will refuse");
	s0 = gmem_stats(fd);
	ret = gmem_set_attr(fd, 2 * MIB, 2 * MIB, GMEM_PFNPOOL_ATTR_PRIVATE,
			    &sa);
	ok(ret == -1 && errno == EBUSY, "conversion refused with EBUSY");
	ok(!strcmp((char *)sa.error_user, "testuser"),
	   "the refusing user is reported (%s)", (char *)sa.error_user);
	ok(sa.error_offset == 2 * MIB, "the offset is reported (%#llx)",
	   (unsigned long long)sa.error_offset);
	ok(gmem_get_attr(fd, 2 * MIB, NULL, NULL) == GMEM_PFNPOOL_ATTR_SHARED,
	   "the attribute is unchanged");
	ok(p[2 * MIB] == 0x3c && p[4 * MIB - 1] == 0x3c,
	   "the range still reads its contents");
	s1 = gmem_stats(fd);
	ok(s1.faults == s0.faults,
	   "the mapping survived: no new fault (%llu before, %llu after)",
	   (unsigned long long)s0.faults, (unsigned long long)s1.faults);
	ok(s1.vetoes == s0.vetoes + 1 && s1.conversions == s0.conversions,
	   "counted as a veto, not a conversion");
	ok(tu_value("prepare") == 1 && tu_value("commit") == 0 &&
	   tu_value("abort") == 0,
	   "test user: prepared once, no commit (it refused itself)");

	/* No veto: the mapping is zapped and the attribute flips. */
	ok(tu_ctl("veto 0") == 0, "test user will agree");
	ok(gmem_set_attr(fd, 2 * MIB, 2 * MIB, GMEM_PFNPOOL_ATTR_PRIVATE,
			 NULL) == 0, "conversion to private succeeds");
	ok(tu_value("prepare") == 2 && tu_value("commit") == 1 &&
	   tu_value("abort") == 0, "test user: prepared and committed");
	ok(gmem_get_attr(fd, 2 * MIB, &rs, &rz) == GMEM_PFNPOOL_ATTR_PRIVATE &&
	   rs == 2 * MIB && rz == 2 * MIB, "attribute private on [2M, 4M)");
	s0 = gmem_stats(fd);
	ok(probe_read(p + 3 * MIB, &v) == -1,
	   "the old mapping is gone: access raises SIGBUS");
	s1 = gmem_stats(fd);
	ok(s1.faults == s0.faults + 1, "that access faulted again");
	ok(p[1 * MIB] == 0x3c && p[5 * MIB] == 0x3c,
	   "the shared neighbours still work");
	ok(gmem_set_attr(fd, 2 * MIB, 2 * MIB, GMEM_PFNPOOL_ATTR_SHARED,
			 NULL) == 0, "convert back to shared");
	ok(probe_read(p + 3 * MIB, &v) == 0, "accessible again");
	ok(gmem_get_attr(fd, 0, &rs, &rz) == GMEM_PFNPOOL_ATTR_SHARED &&
	   rs == 0 && rz == FSIZE, "ranges merged back into one");

	/* Pins refuse for their holder. */
	ok(tu_ctl("pin %llu %llu", 9 * MIB, 4 * KIB) == 0,
	   "test user pins [9M, 9M+4K)");
	ret = gmem_set_attr(fd, 8 * MIB, 2 * MIB, GMEM_PFNPOOL_ATTR_PRIVATE,
			    &sa);
	ok(ret == -1 && errno == EBUSY && sa.error_offset == 9 * MIB &&
	   !strcmp((char *)sa.error_user, "testuser"),
	   "a pinned page refuses the conversion at its offset");
	ret = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			9 * MIB, 4 * KIB);
	ok(ret == -1 && errno == EBUSY, "and the hole punch");
	ok(gmem_set_attr(fd, 10 * MIB, 2 * MIB, GMEM_PFNPOOL_ATTR_PRIVATE,
			 NULL) == 0, "a disjoint range converts");
	ok(tu_ctl("unpin %llu %llu", 9 * MIB, 4 * KIB) == 0, "unpin");
	ok(gmem_set_attr(fd, 8 * MIB, 2 * MIB, GMEM_PFNPOOL_ATTR_PRIVATE,
			 NULL) == 0, "after unpinning it converts");

	/* Lookups through the in-kernel API. */
	ok(tu_ctl("lookup %llu", 8 * MIB) == 0 && tu_value("lookup_ret") == 0 &&
	   tu_value("lookup_attr") == GMEM_PFNPOOL_ATTR_PRIVATE &&
	   tu_value("lookup_order") == 9,
	   "lookup: private, 2 MiB mapping order (order %lld)",
	   tu_value("lookup_order"));
	ok(tu_ctl("lookup %llu", 0ULL) == 0 && tu_value("lookup_ret") == 0 &&
	   tu_value("lookup_attr") == GMEM_PFNPOOL_ATTR_SHARED &&
	   tu_value("lookup_pfn") >= (0x140000000LL >> 12),
	   "lookup: shared, PFN inside the pool");
	ok(gmem_set_attr(fd, 12 * MIB, 4 * KIB, GMEM_PFNPOOL_ATTR_PRIVATE,
			 NULL) == 0 &&
	   tu_ctl("lookup %llu", 12 * MIB + 8 * KIB) == 0 &&
	   tu_value("lookup_order") == 0,
	   "a private page in the block brings the order down to 4 KiB");
	ok(tu_ctl("detach") == 0, "test user detaches");

	/* Splitting and merging on 1 GiB. */
	big = gmem_create(dev, GIB - 64 * MIB, 0);
	ok(big >= 0, "create a 960 MiB file");
	ok(gmem_set_attr(big, 512 * MIB, 4 * KIB, GMEM_PFNPOOL_ATTR_PRIVATE,
			 NULL) == 0, "convert one page in its middle");
	ok(gmem_get_attr(big, 0, &rs, &rz) == GMEM_PFNPOOL_ATTR_SHARED &&
	   rz == 512 * MIB &&
	   gmem_get_attr(big, 512 * MIB, &rs, &rz) ==
	   GMEM_PFNPOOL_ATTR_PRIVATE && rz == 4 * KIB &&
	   gmem_get_attr(big, 600 * MIB, &rs, &rz) == GMEM_PFNPOOL_ATTR_SHARED &&
	   rs == 512 * MIB + 4 * KIB,
	   "three ranges: shared, one private page, shared");
	ok(gmem_set_attr(big, 512 * MIB, 4 * KIB, GMEM_PFNPOOL_ATTR_SHARED,
			 NULL) == 0 &&
	   gmem_get_attr(big, 700 * MIB, &rs, &rz) == GMEM_PFNPOOL_ATTR_SHARED &&
	   rs == 0 && rz == GIB - 64 * MIB, "converted back: one range");
	close(big);

	munmap(p, FSIZE);
	close(fd);
	close(dev);
	ok(run("modload -r gmem_pfnpool_testuser") == 0, "unload test user");
	ok(gmem_unload() == 0, "unload gmem_pfnpool");
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * A static DMA-BUF importer: DRM PRIME import by vgem. The import pins the
 * export and maps it once at attach time; such a mapping cannot be revoked,
 * so converting or punching the exported range must be refused in the
 * importer's name (EBUSY, error_user names the export and the device,
 * error_offset where) and leave everything as it was. Once the GEM handle
 * is closed (detach), the same conversion and punch succeed.
 */
#include "gmem_test.h"
#include <dirent.h>
#include <linux/types.h>

/* From the DRM uapi (include/uapi/drm/drm.h). */
struct drm_prime_handle {
	__u32 handle;
	__u32 flags;
	__s32 fd;
};

struct drm_gem_close {
	__u32 handle;
	__u32 pad;
};

#define DRM_IOCTL_GEM_CLOSE		_IOW('d', 0x09, struct drm_gem_close)
#define DRM_IOCTL_PRIME_FD_TO_HANDLE	_IOWR('d', 0x2e, struct drm_prime_handle)

/* Open the card of the vgem driver; -1 if there is none. */
static int vgem_open(void)
{
	char path[320], link[256];
	struct dirent *d;
	DIR *dir = opendir("/sys/class/drm");
	int fd = -1;
	ssize_t n;

	if (!dir)
		return -1;
	while (fd < 0 && (d = readdir(dir))) {
		if (strncmp(d->d_name, "card", 4) || strchr(d->d_name, '-'))
			continue;
		snprintf(path, sizeof(path), "/sys/class/drm/%s/device",
			 d->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (!strstr(link, "vgem"))
			continue;
		snprintf(path, sizeof(path), "/dev/dri/%s", d->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC);
	}
	closedir(dir);
	return fd;
}

static int export(int fd, uint64_t off, uint64_t size)
{
	struct gmem_pfnpool_export_dmabuf e = { .offset = off, .size = size };

	return ioctl(fd, GMEM_PFNPOOL_IOC_EXPORT_DMABUF, &e);
}

int main(void)
{
	struct gmem_pfnpool_set_attr sa;
	struct drm_prime_handle ph = { 0 };
	struct drm_gem_close gc = { 0 };
	char want[GMEM_PFNPOOL_USER_NAME_LEN];
	int dev, fd, dfd, card, ret;
	struct stat st;

	ok(gmem_load() == 0, "load gmem_pfnpool");
	ok(run("modload vgem") == 0, "load vgem");
	card = vgem_open();
	ok(card >= 0, "open the vgem card");
	dev = gmem_dev();
	fd = gmem_create(dev, 8 * MIB, 0);
	ok(fd >= 0, "create an 8 MiB shared file");
	dfd = export(fd, 2 * MIB, 2 * MIB);
	ok(dfd >= 0 && fstat(dfd, &st) == 0, "export [2M, 4M) as a DMA-BUF");
	if (card < 0 || dfd < 0)
		return tap_done();
	snprintf(want, sizeof(want), "dmabuf:%lu vgem",
		 (unsigned long)st.st_ino);

	ph.fd = dfd;
	ret = ioctl(card, DRM_IOCTL_PRIME_FD_TO_HANDLE, &ph);
	ok(ret == 0, "vgem imports it (PRIME, a static importer): %s",
	   ret ? strerror(errno) : "ok");

	errno = 0;
	ret = gmem_set_attr(fd, 3 * MIB, 4 * KIB, GMEM_PFNPOOL_ATTR_PRIVATE,
			    &sa);
	ok(ret == -1 && errno == EBUSY,
	   "converting a page under the pinned mapping is refused with EBUSY (ret %d, %s)",
	   ret, strerror(errno));
	ok(!strcmp((char *)sa.error_user, want),
	   "error_user names the export and the device: '%s' (want '%s')",
	   (char *)sa.error_user, want);
	ok(sa.error_offset == 3 * MIB, "error_offset is where: %#llx",
	   (unsigned long long)sa.error_offset);
	ok(gmem_get_attr(fd, 3 * MIB, NULL, NULL) == GMEM_PFNPOOL_ATTR_SHARED,
	   "the page is still shared");
	errno = 0;
	ret = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			2 * MIB + 64 * KIB, 4 * KIB);
	ok(ret == -1 && errno == EBUSY,
	   "punching under the pinned mapping is refused with EBUSY (ret %d, %s)",
	   ret, strerror(errno));
	ok(gmem_set_attr(fd, 6 * MIB, 4 * KIB, GMEM_PFNPOOL_ATTR_PRIVATE,
			 NULL) == 0, "a conversion outside the export succeeds");

	gc.handle = ph.handle;
	ok(ioctl(card, DRM_IOCTL_GEM_CLOSE, &gc) == 0,
	   "vgem closes the GEM handle (detach)");
	ok(gmem_set_attr(fd, 3 * MIB, 4 * KIB, GMEM_PFNPOOL_ATTR_PRIVATE,
			 NULL) == 0, "then the conversion succeeds");
	ok(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		     2 * MIB + 64 * KIB, 4 * KIB) == 0, "and so does the punch");

	close(dfd);
	close(fd);
	close(dev);
	close(card);
	ok(run("modload -r vgem") == 0, "unload vgem");
	ok(gmem_unload() == 0, "unload gmem_pfnpool");
	ok(accounting_holds() || access(GMEM_DEBUGFS, F_OK) != 0,
	   "nothing left behind");
	return tap_done();
}

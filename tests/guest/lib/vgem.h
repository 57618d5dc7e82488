/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * DRM vgem, a real in-kernel (static) DMA-BUF importer of the Debian
 * kernels, as the in-guest programs use it: the few DRM ioctls they need
 * (without the libdrm headers) and finding the vgem card.
 */
#ifndef CCHOST_TEST_VGEM_H
#define CCHOST_TEST_VGEM_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

struct drm_version_arg {
	int major, minor, patch;
	size_t name_len;
	char *name;
	size_t date_len;
	char *date;
	size_t desc_len;
	char *desc;
};

struct drm_prime_handle_arg {
	uint32_t handle, flags;
	int32_t fd;
};

struct drm_gem_close_arg {
	uint32_t handle, pad;
};

#define DRM_IOC_VERSION		_IOWR('d', 0x00, struct drm_version_arg)
#define DRM_IOC_GEM_CLOSE	_IOW('d', 0x09, struct drm_gem_close_arg)
#define DRM_IOC_PRIME_FD_TO_HANDLE _IOWR('d', 0x2e, struct drm_prime_handle_arg)

/* Load vgem and open its card; the fd, or -1 if the guest has none. */
static inline int vgem_open(void)
{
	char path[64], name[32];
	int i;

	/* Built in or missing, the card search below tells. */
	(void)system("modload vgem >/dev/null 2>&1");
	for (i = 0; i < 8; i++) {
		struct drm_version_arg v = { .name_len = sizeof(name) - 1,
					     .name = name };
		int fd;

		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(name, 0, sizeof(name));
		if (!ioctl(fd, DRM_IOC_VERSION, &v) && !strcmp(name, "vgem"))
			return fd;
		close(fd);
	}
	return -1;
}

#endif

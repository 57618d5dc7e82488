#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The kernel matrix. Source it (after lib.sh). Interface used by the other scripts:
#
#   kernel_list                 kernel releases of the matrix, one a line (first = default 6.1)
#   kernel_guest_list           the subset booted in QEMU for in-guest tests
#   kernel_prepare KVER         make headers/toolchain (and guest image) for KVER available
#   kernel_build KVER OUTDIR [make args...]
#                               build this project's modules for KVER in a private copy
#                               of the tree under OUTDIR; all .ko end up under OUTDIR
#   kernel_image KVER           path of the bootable bzImage/vmlinuz for KVER
#   kernel_moddir KVER          directory holding lib/modules/KVER of that kernel
#
# Placeholder: 6.1 from the host only. The 6.12/7.x chroot-built entries follow.

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

kernel_list() { "$CCHOST_ROOT/scripts/default-kver"; }
kernel_guest_list() { kernel_list | head -n1; }
kernel_prepare() { [ -d "/lib/modules/$1/build" ] || die "no headers for $1"; }

kernel_build() {
	local kver=$1 out=$2
	shift 2
	rm -rf "$out" && mkdir -p "$out"
	(cd "$CCHOST_ROOT" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 cp --parents -t "$out")
	make -C "/lib/modules/$kver/build" M="$out" "$@" modules
}

kernel_image() { echo "/boot/vmlinuz-$1"; }
kernel_moddir() { echo "/"; }

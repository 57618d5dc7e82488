#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install what the project needs from Debian's archive (Debian 12 bookworm
# host) and create the cache directory. Idempotent and silent when nothing
# is missing; runs apt-get update only when something must be installed.
#
#   deps.sh            install what is missing
#   deps.sh --list     print the package list
#   deps.sh --check    exit 1 (and name them) if packages are missing
#
# Packages of newer suites (trixie, trixie-backports) are never installed on
# the host: they live in the build chroot (scripts/chroot.sh) or are unpacked
# from their .deb files (scripts/fetch-deb.sh).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PACKAGES=(
	# building the modules (6.1 on the host) and the in-guest programs
	gcc make libc6-dev bc flex bison libelf-dev libssl-dev pkg-config
	linux-headers-amd64 dwarves
	# kernel image and modules of the default 6.1 guest
	linux-image-amd64
	# guests: QEMU (TCG), busybox initramfs, module loader (libkmod)
	qemu-system-x86 busybox-static cpio gzip xz-utils zstd kmod libkmod-dev
	# other kernels: build chroot and .deb files of newer suites
	mmdebstrap debian-archive-keyring ca-certificates util-linux dpkg
	# KUnit: kernel sources (6.1), kunit.py, ccache; style: checkpatch, sparse
	linux-source python3 ccache perl sparse rsync
	# DKMS
	dkms openssl
	# Debian package (make deb)
	debhelper dh-dkms dpkg-dev
	# the scripts themselves
	git coreutils findutils grep sed diffutils
)

check_host() {
	local id="" codename=""
	if [ -r /etc/os-release ]; then
		# shellcheck disable=SC1091
		id=$(. /etc/os-release && echo "${ID:-}")
		# shellcheck disable=SC1091
		codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	fi
	if [ "$id" != debian ] || ! command -v apt-get >/dev/null; then
		die "this project needs a Debian 12 (bookworm) host; found '${id:-unknown}'. \
The kernel matrix, the guest kernels and the build chroot come from Debian's archive."
	fi
	if [ "$codename" != bookworm ]; then
		die "this project needs Debian 12 (bookworm); found Debian '${codename:-unknown}'. \
The default 6.1 kernel, its headers and linux-source-6.1 come from bookworm."
	fi
	[ "$(dpkg --print-architecture)" = amd64 ] || die "this project needs an amd64 host"
}

missing() {
	local installed
	installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${PACKAGES[@]}" 2>/dev/null |
		awk '$1 == "ii" {print $2}' || true)
	printf '%s\n' "${PACKAGES[@]}" | grep -vxF -f <(echo "$installed") || true
}

case ${1:-} in
--list) printf '%s\n' "${PACKAGES[@]}"; exit 0 ;;
--check|"") ;;
*) sed -n '4,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac

check_host
mapfile -t todo < <(missing)
if [ ${#todo[@]} -gt 0 ]; then
	[ "${1:-}" = --check ] && { printf 'missing: %s\n' "${todo[*]}" >&2; exit 1; }
	sudo=()
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null || die "missing packages (${todo[*]}); run this as root"
		sudo=(sudo -n)
	fi
	log "installing from Debian's archive: ${todo[*]}"
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get -qq update </dev/null || die "apt-get update failed"
	"${sudo[@]}" apt-get -qq -y --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		install "${todo[@]}" </dev/null >/dev/null || die "apt-get install failed"
	mapfile -t todo < <(missing)
	[ ${#todo[@]} -eq 0 ] || die "still missing after install: ${todo[*]}"
	log "dependencies installed"
fi

# The default kernel: headers and image of the same 6.1 release.
kver=$("$CCHOST_ROOT/scripts/default-kver")
case $kver in
6.1.*) ;;
*) die "no Debian 6.1 kernel headers found under /lib/modules (linux-headers-amd64)" ;;
esac
[ -e "/boot/vmlinuz-$kver" ] || die "linux-image-$kver is not installed; the 6.1 guest needs it \
(apt-get install linux-image-$kver)"

mkdir -p "$CCHOST_CACHE"

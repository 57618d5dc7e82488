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
#   kernel_debug_release        release of the debug guest kernel (scripts/debug-kernel.sh)
#
# The matrix:
#   6.1   Debian bookworm, the host's own headers (linux-headers-amd64), host gcc-12
#   6.12  Debian trixie             } headers installed in one mmdebstrap trixie
#   7.x   Debian trixie-backports   } chroot with gcc-14 (scripts/chroot.sh)
#         (the two newest 7.x series, today 7.2 and 7.3)
# Versions are read from the archive's package index (scripts/fetch-deb.sh),
# never pinned; a rerun after the archive moved picks up the new versions and
# scripts/chroot.sh updates the chroot.
#
# kernel_guest_list: the host 6.1 kernel, one 7.x kernel, the newest one
# whose image boots to /init under QEMU TCG (probed once per version, result
# cached in $CCHOST_CACHE/kernels/<kver>/boot-ok|boot-failed), and the debug
# kernel built from Debian's 6.12 source with KASAN, lockdep, kmemleak and
# fault injection (<version>-cchost-debug; CCHOST_DEBUG_KERNEL=0 leaves it out).
#
# Guest images of 7.x kernels are extracted (dpkg-deb -x, never installed)
# into $CCHOST_CACHE/kernels/<kver>/root, with depmod run there, so that
# kernel_moddir prints a ROOT with ROOT/lib/modules/<kver>/modules.dep.

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

_KERNELS_MATRIX=

# Print "KVER SUITE" lines of the matrix (SUITE "host" for the host kernel).
_kernels_matrix() {
	if [ -n "$_KERNELS_MATRIX" ]; then
		printf '%s\n' "$_KERNELS_MATRIX"
		return
	fi
	local fetch=$CCHOST_ROOT/scripts/fetch-deb.sh host meta k612 bpo age
	local memo=$CCHOST_CACHE/kernels/matrix
	host=$("$CCHOST_ROOT/scripts/default-kver")
	case $host in
	6.1.*) ;;
	*) die "no Debian 6.1 kernel headers on this host (run scripts/deps.sh)" ;;
	esac
	# Computed at most once per index refresh (fetch-deb.sh's max age).
	if [ -e "$memo" ] && [ "$(head -n1 "$memo")" = "$host host" ]; then
		age=$(( $(date +%s) - $(stat -c %Y "$memo") ))
		if [ "$age" -lt "${CCHOST_APT_MAX_AGE:-21600}" ]; then
			_KERNELS_MATRIX=$(cat "$memo")
			printf '%s\n' "$_KERNELS_MATRIX"
			return
		fi
	fi
	# 6.12: the versioned package trixie's linux-headers-amd64 depends on.
	meta=$("$fetch" -q --resolve trixie linux-headers-amd64) ||
		die "cannot resolve trixie's linux-headers-amd64"
	k612=${meta#linux-headers-}
	[ -n "$k612" ] || die "cannot resolve trixie's linux-headers-amd64"
	# 7.x: trixie-backports' linux-headers-amd64 names one series (7.2
	# today) while newer series (7.3) are already in the suite under their
	# versioned names only. Take the two newest X.Y series among the
	# linux-headers-X.Y.Z+debNN-amd64 names of the suite, each at its newest
	# X.Y.Z; the metapackage's series is always among them unless the suite
	# runs two series ahead of it (then a warning says so).
	bpo=$("$fetch" -q --names trixie-backports '^linux-headers-[0-9]+\.[0-9]+\.[0-9]+\+deb[0-9]+-amd64$' |
		sed 's/^linux-headers-//' |
		awk -F. '{ s = $1 "." $2; last[s] = $0 } END { for (s in last) print last[s] }' |
		sort -V | tail -n 2)
	[ -n "$bpo" ] || die "no 7.x kernel headers found in trixie-backports"
	meta=$("$fetch" -q --resolve trixie-backports linux-headers-amd64)
	meta=${meta#linux-headers-}
	if [ -n "$meta" ] && ! grep -qxF "$meta" <<<"$bpo"; then
		log "warning: trixie-backports linux-headers-amd64 points at $meta, outside the matrix"
	fi
	_KERNELS_MATRIX=$(printf '%s host\n%s trixie\n' "$host" "$k612"
			  sed 's/$/ trixie-backports/' <<<"$bpo")
	mkdir -p "$CCHOST_CACHE/kernels"
	printf '%s\n' "$_KERNELS_MATRIX" > "$memo.$$" && mv "$memo.$$" "$memo"
	printf '%s\n' "$_KERNELS_MATRIX"
}

_kernel_suite() {
	local s
	case $1 in *-cchost-debug) echo debug; return ;; esac
	s=$(_kernels_matrix | awk -v k="$1" '$1 == k {print $2}')
	[ -n "$s" ] || die "kernel $1 is not in the matrix ($(kernel_list | tr '\n' ' '))"
	echo "$s"
}

kernel_list() { _kernels_matrix | awk '{print $1}'; }

# Headers directory of KVER as seen from where it is built.
_kernel_kdir() { echo "/usr/src/linux-headers-$1"; }

_kernel_dir() { echo "$CCHOST_CACHE/kernels/$1"; }

kernel_image() {
	case $(_kernel_suite "$1") in
	host) echo "/boot/vmlinuz-$1" ;;
	debug) "$CCHOST_ROOT/scripts/debug-kernel.sh" image ;;
	*) echo "$(_kernel_dir "$1")/root/boot/vmlinuz-$1" ;;
	esac
}

# System.map of KVER (names the vCPU samples of a hung guest), or nothing.
kernel_system_map() {
	local image m

	image=$(kernel_image "$1")
	for m in "/boot/System.map-$1" "$(dirname "$image")/../../../System.map" \
		"$(kernel_moddir "$1")/usr/lib/modules/$1/System.map" \
		"$(kernel_moddir "$1")/lib/modules/$1/System.map"; do
		[ -r "$m" ] && { echo "$m"; return 0; }
	done
	return 0
}

kernel_moddir() {
	case $(_kernel_suite "$1") in
	host) echo "/" ;;
	debug) "$CCHOST_ROOT/scripts/debug-kernel.sh" moddir ;;
	*) echo "$(_kernel_dir "$1")/root" ;;
	esac
}

# Extract the bootable image and the modules of a chroot-built kernel (7.x),
# one process at a time.
_kernel_prepare_image() {
	mkdir -p "$CCHOST_CACHE/kernels"
	{ flock 6; __kernel_prepare_image "$@"; } 6>"$CCHOST_CACHE/kernels/$1.lock"
}

__kernel_prepare_image() {
	local kver=$1 suite dir root pkgs p debs
	suite=$(_kernel_suite "$kver")
	[ "$suite" != host ] || return 0
	dir=$(_kernel_dir "$kver")
	root=$dir/root
	[ -e "$dir/stamp-image" ] && [ -e "$root/lib/modules/$kver/modules.dep" ] && return 0
	log "preparing the guest image of $kver ($suite)"
	# 7.x: linux-image-V is a metapackage of linux-base-V (config,
	# System.map), linux-binary-V (signed vmlinuz; only
	# linux-binary-unsigned-V exists before the signed build lands) and
	# linux-modules-V. 6.12: linux-image-V holds everything.
	if [ -n "$("$CCHOST_ROOT/scripts/fetch-deb.sh" -q --names "$suite" "^linux-modules-${kver//+/\\+}\$")" ]; then
		pkgs="linux-base-$kver linux-modules-$kver"
		if [ -n "$("$CCHOST_ROOT/scripts/fetch-deb.sh" -q --names "$suite" "^linux-binary-${kver//+/\\+}\$")" ]; then
			pkgs="$pkgs linux-binary-$kver"
		else
			pkgs="$pkgs linux-binary-unsigned-$kver"
		fi
	else
		pkgs="linux-image-$kver"
	fi
	# shellcheck disable=SC2086
	debs=$("$CCHOST_ROOT/scripts/fetch-deb.sh" "$suite" $pkgs) || return 1
	[ -n "$debs" ] || return 1
	rm -rf "$root"
	mkdir -p "$root/usr/lib" "$root/boot"
	# Merged /usr: packages ship usr/lib/modules; depmod -b wants lib/modules.
	ln -s usr/lib "$root/lib"
	for p in $debs; do
		dpkg-deb -x "$p" "$root" || return 1
	done
	# 7.x ship the image as usr/lib/modules/V/vmlinuz (signed) or
	# vmlinuz.unsigned, 6.x as boot/vmlinuz-V: give it one name.
	if [ ! -e "$root/boot/vmlinuz-$kver" ]; then
		for p in "$root/usr/lib/modules/$kver/vmlinuz" "$root/usr/lib/modules/$kver/vmlinuz.unsigned"; do
			if [ -e "$p" ]; then
				ln -sf "../usr/lib/modules/$kver/$(basename "$p")" "$root/boot/vmlinuz-$kver"
				break
			fi
		done
	fi
	if [ ! -e "$root/boot/vmlinuz-$kver" ]; then
		log "no kernel image for $kver in $pkgs"
		return 1
	fi
	depmod -b "$root" "$kver" || { log "depmod of $kver failed"; return 1; }
	touch "$dir/stamp-image"
}

# Boot KVER once under QEMU TCG to /init; cache the verdict.
_kernel_boots() {
	mkdir -p "$CCHOST_CACHE/kernels"
	{ flock 5; __kernel_boots "$@"; } 5>"$CCHOST_CACHE/kernels/$1.boot.lock"
}

__kernel_boots() {
	local kver=$1 dir tmp ok=0
	dir=$(_kernel_dir "$kver")
	[ -e "$dir/boot-ok" ] && return 0
	[ -e "$dir/boot-failed" ] && return 1
	if ! (_kernel_prepare_image "$kver"); then
		log "cannot prepare the guest image of $kver"
		return 1
	fi
	log "probing whether $kver boots under QEMU TCG (once per version)"
	cchost_mktemp tmp -d || return 1
	mkdir -p "$tmp/root/bin"
	cp /bin/busybox "$tmp/root/bin/busybox"
	printf '#!/bin/busybox sh\n/bin/busybox echo CCHOST_BOOT_OK $(/bin/busybox uname -r)\n/bin/busybox poweroff -f\n' \
		> "$tmp/root/init"
	chmod +x "$tmp/root/init"
	(cd "$tmp/root" && find . | cpio -o -H newc --quiet | gzip -1) > "$tmp/initrd"
	if cchost_heartbeat "boot probe of $kver" timeout 300 qemu-system-x86_64 -machine q35 -accel tcg -cpu max -smp 1 -m 512M \
		-nographic -no-reboot -net none -kernel "$(kernel_image "$kver")" \
		-initrd "$tmp/initrd" -append "console=ttyS0 panic=-1" </dev/null > "$tmp/console" 2>&1 &&
	   grep -q "CCHOST_BOOT_OK $kver" "$tmp/console"; then
		ok=1
	fi
	mkdir -p "$dir"
	if [ $ok = 1 ]; then
		touch "$dir/boot-ok"
	else
		cp "$tmp/console" "$dir/boot-failed"
		log "$kver does not boot under QEMU TCG (console: $dir/boot-failed)"
	fi
	rm -rf "$tmp"
	[ $ok = 1 ]
}

kernel_guest_list() {
	local k found=0
	kernel_list | head -n1
	for k in $(_kernels_matrix | awk '$2 == "trixie-backports" {print $1}' | sort -V -r); do
		if _kernel_boots "$k" >&2; then
			echo "$k"
			found=1
			break
		fi
	done
	[ $found = 1 ] || log "warning: no 7.x kernel boots under QEMU TCG"
	[ "${CCHOST_DEBUG_KERNEL:-1}" = 0 ] || kernel_debug_release
}

# The debug guest kernel (scripts/debug-kernel.sh), built from source.
kernel_debug_release() { "$CCHOST_ROOT/scripts/debug-kernel.sh" release; }

kernel_prepare() {
	local kver=$1 suite root
	suite=$(_kernel_suite "$kver")
	if [ "$suite" = debug ]; then
		"$CCHOST_ROOT/scripts/debug-kernel.sh" ensure > /dev/null
		return
	fi
	if [ "$suite" = host ]; then
		[ -d "/lib/modules/$kver/build" ] || die "no headers for $kver (run scripts/deps.sh)"
		[ -e "/boot/vmlinuz-$kver" ] || die "no /boot/vmlinuz-$kver (run scripts/deps.sh)"
		return 0
	fi
	root=$("$CCHOST_ROOT/scripts/chroot.sh" ensure)
	[ -e "$root$(_kernel_kdir "$kver")/Makefile" ] || die "chroot $root lacks headers for $kver"
	local guests
	guests=$(kernel_guest_list)
	if grep -qxF "$kver" <<<"$guests"; then
		(_kernel_prepare_image "$kver") || die "cannot prepare the guest image of $kver"
	fi
}

# Copy the tree (tracked + untracked non-ignored files) into OUT. With rsync
# the copy is incremental: only files whose content changed are rewritten
# (and get a new mtime), files gone from the tree are deleted, and build
# products (ignored by .gitignore) stay, so a rebuild only compiles what
# changed.
_kernel_copy_tree() {
	local out=$1
	mkdir -p "$out"
	if command -v rsync >/dev/null && [ -e "$CCHOST_ROOT/.gitignore" ]; then
		rsync -rlpc --delete --exclude=/.git --filter=':- .gitignore' \
			"$CCHOST_ROOT/" "$out/"
		return
	fi
	rm -rf "$out"
	mkdir -p "$out"
	if git -C "$CCHOST_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$CCHOST_ROOT" && git ls-files -z --cached --others --exclude-standard |
			while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
			xargs -0 -r cp -P --parents -t "$out")
	else
		# A tarball of the project: copy everything but build products.
		(cd "$CCHOST_ROOT" && tar --exclude-vcs --exclude='*.o' --exclude='*.ko' -cf - .) |
			tar -C "$out" -xf -
	fi
}

kernel_build() {
	local kver=$1 out=$2 suite root
	shift 2
	suite=$(_kernel_suite "$kver")
	# The harness needs the test-only modules too (Kbuild leaves them out
	# of the product build).
	set -- CCHOST_TESTS=1 "$@"
	out=$(mkdir -p "$out" && cd "$out" && pwd)
	_kernel_copy_tree "$out"
	if [ "$suite" = host ]; then
		make -C "/lib/modules/$kver/build" M="$out" "$@" modules
	elif [ "$suite" = debug ]; then
		make -C "$("$CCHOST_ROOT/scripts/debug-kernel.sh" dir)" M="$out" "$@" modules
	else
		"$CCHOST_ROOT/scripts/chroot.sh" run --bind "$out:/work" -- \
			make -C "$(_kernel_kdir "$kver")" M=/work "$@" modules
	fi
}

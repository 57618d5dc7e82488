#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The Debian packages (debian/, dh-dkms): cchost-dkms, the product modules'
# DKMS source, and cchost-tools, cchostctl and its manual page.
#
#   deb.sh build [OUTDIR]   build cchost-dkms_<VERSION>_all.deb and
#                           cchost-tools_<VERSION>_<arch>.deb into OUTDIR
#                           (default $CCHOST_CACHE/deb); print their paths
#   deb.sh test KVER        make check's package step: install both in a
#                           clean bookworm chroot that has KVER's headers,
#                           check what DKMS built there and that cchostctl
#                           runs, purge them and check that nothing is left;
#                           prints the .ko paths built (kept under
#                           $CCHOST_CACHE/deb/ko) for a guest boot
#
# The package's version is VERSION; debian/changelog is written from it at
# build time. The chroot (bookworm, dkms, KVER's headers) is made once with
# mmdebstrap and kept as a tarball; each test unpacks a fresh copy.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '4,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }

VER=$(cat "$CCHOST_ROOT/VERSION")
D=$CCHOST_CACHE/deb

do_build() {
	local out=${1:-$D} s
	mkdir -p "$out"
	out=$(cd "$out" && pwd)
	cchost_mktemp s -d "$CCHOST_CACHE/deb-src.XXXXXX"
	mkdir -p "$s/cchost-$VER"
	# What debian/rules needs: the DKMS source maker and the package files.
	"$CCHOST_ROOT/scripts/dkms.sh" source "$s/cchost-$VER" >/dev/null
	rm -f "$s/cchost-$VER/dkms.conf"
	cp -r "$CCHOST_ROOT/debian" "$CCHOST_ROOT/packaging" "$CCHOST_ROOT/dkms.conf.in" "$s/cchost-$VER/"
	mkdir -p "$s/cchost-$VER/scripts" "$s/cchost-$VER/tools"
	cp "$CCHOST_ROOT/scripts/dkms.sh" "$CCHOST_ROOT/scripts/lib.sh" "$s/cchost-$VER/scripts/"
	cp -r "$CCHOST_ROOT/tools/cchostctl" "$s/cchost-$VER/tools/"
	make -s -C "$s/cchost-$VER/tools/cchostctl" clean
	cat > "$s/cchost-$VER/debian/changelog" <<-EOF
	cchost ($VER) unstable; urgency=medium

	  * Release $VER; see /usr/src/cchost-$VER/CHANGELOG.md.

	 -- cchost developers <cchost@localhost>  $(date -R -d @"${SOURCE_DATE_EPOCH:-$(git -C "$CCHOST_ROOT" log -1 --format=%ct 2>/dev/null || date +%s)}")
	EOF
	log "dpkg-buildpackage cchost $VER"
	if ! (cd "$s/cchost-$VER" && dpkg-buildpackage -us -uc -b) > "$s/build.log" 2>&1; then
		cat "$s/build.log" >&2
		rm -rf "$s"
		die "dpkg-buildpackage failed"
	fi
	mv "$s"/cchost-dkms_"$VER"_all.deb "$s"/cchost-tools_"$VER"_"$(dpkg --print-architecture)".deb "$out/"
	rm -rf "$s"
	echo "$out/cchost-dkms_${VER}_all.deb"
	echo "$out/cchost-tools_${VER}_$(dpkg --print-architecture).deb"
}

# The pristine test chroot: bookworm, dkms, KVER's headers. The host's 6.1
# headers may come from bookworm-security or bookworm-updates: all three.
chroot_tarball() {
	local kver=$1 tar m k=/usr/share/keyrings/debian-archive-keyring.gpg
	tar=$D/bookworm-$kver.tar
	if [ ! -s "$tar" ]; then
		m=$(debian_mirror)
		log "creating the bookworm package-test chroot with mmdebstrap (a few minutes)"
		cchost_tmp "$tar.new.tar"
		# mmdebstrap picks the format from the name: keep .tar last.
		cchost_heartbeat "mmdebstrap bookworm" mmdebstrap --quiet --mode=root --variant=apt \
			--aptopt='APT::Install-Recommends "false"' \
			--aptopt='Acquire::Languages "none"' \
			--dpkgopt='path-exclude=/usr/share/doc/*' \
			--dpkgopt='path-exclude=/usr/share/man/*' \
			--dpkgopt='path-exclude=/usr/share/locale/*' \
			--include="dkms,linux-headers-$kver,udev" \
			bookworm "$tar.new.tar" \
			"deb [signed-by=$k] $m bookworm main" \
			"deb [signed-by=$k] $m bookworm-updates main" \
			"deb [signed-by=$k] ${m%/}-security bookworm-security main" \
			</dev/null >&2 || { rm -f "$tar.new.tar"; die "mmdebstrap failed"; }
		mv "$tar.new.tar" "$tar"
	fi
	echo "$tar"
}

# in_root ROOT CMD...: CMD in ROOT, with /proc, in private namespaces.
in_root() {
	local root=$1
	shift
	unshare --mount --pid --fork --mount-proc="$root/proc" \
		chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

# Files of the chroot a package may leave (logs, apt and dpkg state) are not
# compared; depmod's index files are compared by content below.
snapshot() {
	(cd "$1" && find . -xdev \
		\( -path ./proc -o -path ./dev -o -path ./tmp -o -path ./run -o -path ./var/log \
		   -o -path ./var/cache -o -path ./var/lib/apt -o -path ./var/lib/dpkg \
		   -o -path ./var/lib/dkms/mok.key -o -path ./var/lib/dkms/mok.pub \
		   -o -path './usr/lib/modules/*/modules.*' -o -path './lib/modules/*/modules.*' \) -prune \
		-o -print | sort)
}


# expect DESC COMMAND...: a "deb: DESC" result (result_expect in lib.sh).
expect() { result_expect "deb: $1" "${@:2}"; }

do_test() {
	local kver=$1 deb tdeb debs tar r before after fails=0 ko m f list
	debs=$(do_build "$D")
	deb=$(sed -n 1p <<<"$debs")
	tdeb=$(sed -n 2p <<<"$debs")
	list=$(dpkg-deb -c "$deb")
	expect "the package has /usr/src/cchost-$VER/dkms.conf and the udev rule, no test files" \
		eval 'grep -q "usr/src/cchost-$VER/dkms.conf" <<<"$list" &&
		      grep -q "rules.d/60-gmem_pfnpool.rules" <<<"$list" &&
		      ! grep -Eq "usr/src/cchost-$VER/(tests|scripts|kunit|tools)/" <<<"$list"'
	list=$(dpkg-deb -c "$tdeb")
	expect "cchost-tools has cchostctl and its manual page" \
		eval 'grep -q "\./usr/sbin/cchostctl$" <<<"$list" &&
		      grep -q "\./usr/share/man/man8/cchostctl\.8" <<<"$list"'
	tar=$(chroot_tarball "$kver")
	r=$D/root
	rm -rf "$r"
	cchost_tmp "$r"
	mkdir -p "$r"
	tar -C "$r" -xf "$tar"
	before=$(snapshot "$r")
	cp "$deb" "$tdeb" "$r/tmp/"
	log "installing $(basename "$deb") and $(basename "$tdeb") in a clean bookworm chroot with $kver headers"
	expect "apt installs the packages (DKMS builds for $kver)" \
		in_root "$r" apt-get -qq -y -o Dpkg::Use-Pty=0 install "/tmp/${deb##*/}" "/tmp/${tdeb##*/}" >&2
	expect "the installed cchostctl runs: --help on stdout, status 0" \
		eval 'in_root "$r" cchostctl --help | grep -q "^Usage: cchostctl"'
	expect "the manual page is installed (/usr/share/man/man8/cchostctl.8.gz)" \
		eval 'in_root "$r" dpkg -L cchost-tools | grep -qx "/usr/share/man/man8/cchostctl.8.gz"' 
	ko=$D/ko
	rm -rf "$ko"
	mkdir -p "$ko"
	for m in gmem_pfnpool tdi_dmabuf; do
		f=$(find "$r/lib/modules/$kver/updates/dkms" "$r/usr/lib/modules/$kver/updates/dkms" \
			-name "$m.ko*" -print -quit 2>/dev/null || true)
		expect "$m built by DKMS for $kver, version $VER" \
			eval '[ -n "$f" ] && [ "$(modinfo -F version "$f")" = "$VER" ]'
		[ -n "$f" ] && cp "$f" "$ko/"
	done
	expect "dkms status shows cchost/$VER installed for $kver" \
		eval 'in_root "$r" dkms status cchost | grep -q "cchost/$VER, $kver, x86_64: installed"'
	log "purging cchost-dkms and cchost-tools"
	expect "apt purges the packages" \
		in_root "$r" apt-get -qq -y -o Dpkg::Use-Pty=0 purge cchost-dkms cchost-tools >&2
	after=$(snapshot "$r")
	expect "the purge leaves nothing behind" [ "$before" = "$after" ]
	[ "$before" = "$after" ] || diff <(echo "$before") <(echo "$after") | head -20 | sed 's/^/    /' >&2
	expect "no module of ours left in $kver's modules.dep" \
		eval '! grep -qs "gmem_pfnpool\|tdi_dmabuf" "$r"/lib/modules/"$kver"/modules.dep "$r"/usr/lib/modules/"$kver"/modules.dep'
	rm -rf "$r"
	find "$ko" -name '*.ko*'
	[ $fails = 0 ]
}

cmd=${1:-}
[ $# -ge 1 ] && shift
case $cmd in
build) do_build "$@" ;;
test) [ "$(id -u)" = 0 ] || die "deb.sh test needs root (chroot)"; do_test "${1:-$("$CCHOST_ROOT/scripts/default-kver")}" ;;
-h|--help) usage 0 ;;
*) usage ;;
esac

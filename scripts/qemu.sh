#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# QEMU guest harness. Source it (after lib.sh and kernels.sh). Functions:
#
#   qemu_build_tools OUT                  build modload and cchostctl into OUT/ (dynamic, libkmod)
#   qemu_build_tests OUT SRCDIR...        compile each SRCDIR/<suite>/*.c -static and copy
#                                         *.sh into OUT/<suite>/; prints failures
#   qemu_initramfs KVER KODIR TESTS OUT [DEMO]
#                                         initramfs for KVER: busybox, modload and
#                                         cchostctl + libraries, the kernel's vfio modules and the
#                                         dependencies of ours, every .ko under KODIR
#                                         in lib/modules/KVER/extra/, TESTS (output of
#                                         qemu_build_tests) under /tests, tests/guest/
#                                         runner/init as /init; with DEMO (a directory,
#                                         may be missing) the demo scripts under /demo
#   qemu_boot KVER INITRD LOG [APPEND...] boot under timeout, console to LOG (and to
#                                         stdout if CCHOST_QEMU_ECHO=1), host requests
#                                         of the guest answered meanwhile (log in
#                                         LOG minus .log plus .host.log); returns
#                                         QEMU's (or timeout's) status
#   qemu_early_death LOG STATUS           whether a boot (qemu_boot's STATUS) died or hung
#                                         before the runner's first test: prints why
#                                         and returns 0 if so
#   qemu_boot_retry KVER INITRD LOG [APPEND...]
#                                         qemu_boot, and once more when the guest died
#                                         before its first test (first console kept as
#                                         LOG.attempt1, the reason in QEMU_BOOT_RETRIED)
#   qemu_scan_log LOG                     print kernel splats found in LOG with context;
#                                         returns 1 if there is any
#   qemu_collect KVER LOG [RETRIED]       turn the runner's markers and TAP lines into
#                                         result_pass/result_fail lines (and one for a
#                                         retried boot); returns 1 on any failure
#
# Guest contract (see tests/guest/runner/init): one boot runs every test, each
# between "@@cchost begin <suite>/<test>" and "@@cchost end <suite>/<test> <status>"
# lines, then prints "@@cchost done" and powers off. Nothing of ours (module,
# test program) runs before the first "@@cchost" line.
#
# Guest devices: edu (1234:11e8, on the root bus as before), the fault
# platforms of QEMU_FAULT_DEVICES: an NVMe PF (QEMU id nvme0, 1b36:0010) with
# SR-IOV (2 VFs), FLR and PM behind a PCIe root port (rp1) with AER, and the
# peer-to-peer platform of QEMU_P2P_DEVICES: two NVMe controllers without
# SR-IOV behind one PCIe switch.
#
# Host requests: QEMU's second serial port (guest ttyS1) is connected to
# tests/guest/runner/host-requests.py, which qemu_boot starts before QEMU and
# stops after it; it injects AER errors through QEMU's QMP socket. In-guest
# tests use /lib/cchost/host.sh (tests/guest/runner/host.sh):
#
#   . /lib/cchost/host.sh
#   pf=$(nvme_pf); port=$(nvme_port); vfs=$(nvme_vfs "$pf")
#   before=$(aer_port_count "$port" nonfatal)
#   host_aer "$HOST_PORT_ID" COMP_TIME      # 0 injected, 1 refused, 2 no answer
#   aer_wait 10 "$before" aer_port_count "$port" nonfatal
#
# or, from C, tests/guest/lib/platform.h (platform_nvme_pf, platform_nvme_vf,
# platform_host_aer, platform_aer_port_count, config space access). The
# console is never used for requests: the kernel cannot fake or garble them.
#
# Tunables (environment):
#   CCHOST_QEMU_TIMEOUT   seconds before the whole guest is killed (default 900)
#   CCHOST_TEST_TIMEOUT   per-test timeout inside the guest (default 120)
#   CCHOST_QEMU_MEM       guest memory (default 6G; the reserved ranges need > 5G)
#   CCHOST_QEMU_APPEND    extra kernel command line

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The two ranges the guest kernel keeps out of System RAM (memmap=SIZE$START):
# 1 GiB at 4 GiB + 1 GiB (1 GiB aligned, for huge mappings) and 64 MiB beyond.
QEMU_RESERVED_MEMMAP='memmap=1G$0x140000000 memmap=64M$0x1a0000000'

# Kernel modules of the guest kernel every boot carries (missing ones, e.g.
# iommufd before 6.2, are skipped).
QEMU_KERNEL_MODULES="vfio vfio_iommu_type1 vfio-pci-core vfio-pci iommufd vgem"

# Fault platforms beside edu: an NVMe controller (QEMU id nvme0, PF 1b36:0010)
# behind a PCIe root port (rp1) with SR-IOV (2 VFs), FLR, a PM capability and
# AER. The guest kernel's nvme driver is not in the initramfs, so the PF stays
# unbound unless a test binds it (vfio-pci enable_sriov=1 creates the VFs).
QEMU_FAULT_DEVICES="-device pcie-root-port,id=rp1,chassis=1,slot=1 \
-device nvme-subsys,id=subsys0 \
-device nvme,id=nvme0,serial=deadbeef,subsys=subsys0,bus=rp1,sriov_max_vfs=2,\
sriov_vq_flexible=4,sriov_vi_flexible=2,max_ioqpairs=6,msix_qsize=8"

# A peer-to-peer platform: a PCIe switch (TI x3130 upstream port, two
# downstream ports without ACS) behind its own root port (rp2), with an
# NVMe controller (no SR-IOV, no namespace) below each downstream port:
# nvmep1 (serial p2p1) as the exporting device, nvmep2 (serial p2p2) as
# the importing one. The kernel's p2pdma code routes such a pair with PCI
# bus addresses; a device on another root port of QEMU's host bridge, which
# is on no list of the kernel's, has no route.
QEMU_P2P_DEVICES="-device pcie-root-port,id=rp2,chassis=2,slot=2 \
-device x3130-upstream,id=sw0,bus=rp2 \
-device xio3130-downstream,id=swp1,bus=sw0,chassis=3,slot=0 \
-device xio3130-downstream,id=swp2,bus=sw0,chassis=4,slot=0 \
-device nvme,id=nvmep1,serial=p2p1,bus=swp1 \
-device nvme,id=nvmep2,serial=p2p2,bus=swp2"

qemu_build_tools() {
	local out=$1

	mkdir -p "$out"
	make -s -C "$CCHOST_ROOT/tools/modload" OUT="$out" "$out/modload" &&
		make -s -C "$CCHOST_ROOT/tools/cchostctl" OUT="$out" "$out/cchostctl"
}

# Build the in-guest programs of each suite directory under the given roots.
qemu_build_tests() {
	local out=$1 root suite src name rc=0 memo=$CCHOST_CACHE/guest-bin-memo hdrs key
	shift

	rm -rf "$out" && mkdir -p "$out" "$memo"
	# Programs not used for two weeks go.
	find "$memo" -type f -mtime +14 -delete
	for root in "$@"; do
		# A program is rebuilt only when its source, a header it may
		# include (any of the suites') or the compiler changed (ccache
		# does not keep static links).
		hdrs=$({ cat "$root"/*/*.h "$CCHOST_ROOT"/tests/guest/*/*.h \
			     "$CCHOST_ROOT"/include/uapi/linux/*.h 2>/dev/null
			 gcc --version | head -n1; } | sha256sum)
		for suite in "$root"/*/; do
			suite=${suite%/}
			case ${suite##*/} in lib|runner|demo|bin) continue ;; esac
			mkdir -p "$out/${suite##*/}"
			for src in "$suite"/*.c "$suite"/*.sh; do
				[ -e "$src" ] || continue
				name=${src##*/}
				case $name in
				*.c)
					key=$({ echo "$hdrs"; cat "$src"; } |
						sha256sum | cut -c1-32)
					if [ -x "$memo/$key" ]; then
						cp "$memo/$key" "$out/${suite##*/}/${name%.c}"
						touch "$memo/$key"
					elif gcc -static -O2 -Wall -I "$CCHOST_ROOT/include/uapi" \
					     -I "$CCHOST_ROOT/tests/guest/lib" -o "$out/${suite##*/}/${name%.c}" \
					     "$src" -lpthread; then
						cp "$out/${suite##*/}/${name%.c}" "$memo/$key.tmp" &&
							mv "$memo/$key.tmp" "$memo/$key"
					else
						echo "${suite##*/}/${name%.c}"
						rc=1
					fi
					;;
				*.sh)
					install -m 0755 "$src" "$out/${suite##*/}/$name"
					;;
				esac
			done
		done
	done
	return $rc
}

# Copy a dynamic executable and its shared libraries (per ldd) under ROOT.
_qemu_copy_dynamic() {
	local root=$1 exe=$2 dest=$3 lib

	install -D -m 0755 "$exe" "$root/$dest"
	for lib in $(ldd "$exe" | awk '/=>/ { print $3 } /^[[:space:]]*\// { print $1 }'); do
		[ -e "$lib" ] || continue
		mkdir -p "$root/$(dirname "$lib")"
		cp -L "$lib" "$root/$lib"
	done
}

# Print the paths (relative to the module root) of the kernel modules needed
# for the given module names, dependencies first.
_qemu_kernel_deps() {
	local modroot=$1 kver=$2 m
	shift 2

	for m in "$@"; do
		modprobe -d "$modroot" -S "$kver" --show-depends "$m" 2>/dev/null |
			awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++'
}

qemu_initramfs() {
	local kver=$1 kodir=$2 tests=$3 out=$4 demo=${5:-}
	local root modroot mdir ko deps p

	modroot=$(kernel_moddir "$kver")
	[ -d "$modroot/lib/modules/$kver" ] || { log "no modules for $kver under $modroot"; return 1; }
	cchost_mktemp root -d "$CCHOST_CACHE/initramfs.XXXXXX" || return 1
	mdir=$root/lib/modules/$kver

	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,lib64} "$mdir/extra"

	# busybox and its applets as symlinks
	install -m 0755 /bin/busybox "$root/bin/busybox"
	for p in $(/bin/busybox --list-full); do
		[ -e "$root/$p" ] || ln -s /bin/busybox "$root/$p"
	done

	# modload, cchostctl and the shared libraries they need
	{ _qemu_copy_dynamic "$root" "$CCHOST_CACHE/tools/modload" /sbin/modload &&
		_qemu_copy_dynamic "$root" "$CCHOST_CACHE/tools/cchostctl" /usr/sbin/cchostctl; } ||
		{ cchost_rmtmp "$root"; return 1; }

	# our modules (and test helper modules) under extra/
	while IFS= read -r -d '' ko; do
		cp "$ko" "$mdir/extra/"
	done < <(find "$kodir" \( -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' \) -print0)
	# the kernel's modules we need: vfio and whatever ours depend on
	# Dependencies among our own modules are in extra/ already: never take
	# them from the host, whose DKMS may have another version installed
	# (under updates/, which depmod would prefer).
	deps=$(for ko in "$mdir"/extra/*; do
		       [ -e "$ko" ] && modinfo -F depends "$ko" | tr ',' '\n'
	       done | sort -u | grep -vxF -f <(for ko in "$mdir"/extra/*; do
		       [ -e "$ko" ] && modinfo -F name "$ko"
	       done) || true)
	for p in $(_qemu_kernel_deps "$modroot" "$kver" $QEMU_KERNEL_MODULES $deps); do
		p=${p#"$modroot"}
		p=/${p#/}
		install -D -m 0644 "$modroot/$p" "$root/$p"
	done
	for p in modules.order modules.builtin modules.builtin.modinfo; do
		[ -e "$modroot/lib/modules/$kver/$p" ] && cp "$modroot/lib/modules/$kver/$p" "$mdir/"
	done
	depmod -b "$root" "$kver" || { cchost_rmtmp "$root"; return 1; }

	# tests, demo scripts, runner
	mkdir -p "$root/tests"
	[ -n "$tests" ] && [ -d "$tests" ] && cp -a "$tests"/. "$root/tests/"
	if [ -n "$demo" ]; then
		# demo mode: the platform tour, then DEMO/*.sh or the fallback
		mkdir -p "$root/demo"
		install -m 0755 "$CCHOST_ROOT/tests/guest/runner/demo-platform.sh" "$root/demo/00-platform.sh"
		if compgen -G "$demo/*.sh" > /dev/null; then
			install -m 0755 "$demo"/*.sh "$root/demo/"
		else
			install -m 0755 "$CCHOST_ROOT/tests/guest/runner/demo-modules.sh" "$root/demo/50-modules.sh"
		fi
	fi
	install -m 0755 "$CCHOST_ROOT/tests/guest/runner/init" "$root/init"
	install -D -m 0644 "$CCHOST_ROOT/tests/guest/runner/tap.sh" "$root/lib/cchost/tap.sh"
	install -D -m 0644 "$CCHOST_ROOT/tests/guest/runner/host.sh" "$root/lib/cchost/host.sh"

	mkdir -p "$(dirname "$out")"
	(cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 | gzip -1) > "$out.tmp" &&
		mv "$out.tmp" "$out"
	cchost_rmtmp "$root"
	[ -s "$out" ]
}

qemu_boot() {
	local kver=$1 initrd=$2 logf=$3 image rc run hostpid i tmo
	shift 3

	image=$(kernel_image "$kver")
	[ -r "$image" ] || { log "no kernel image for $kver ($image)"; return 1; }
	tmo=${CCHOST_QEMU_TIMEOUT:-900}
	mkdir -p "$(dirname "$logf")"
	# Sockets in a short private directory (unix socket paths are limited).
	cchost_mktemp run -d /tmp/cchost-qemu.XXXXXX || return 1
	# A guest still running a minute before its timeout (half-way through
	# a short one) gets its vCPUs sampled (host log, "vCPU sample"), named
	# from its System.map where the kernel has a real one (Debian's is a
	# placeholder: raw addresses, which nokaslr keeps those of the
	# kernel's /proc/kallsyms).
	python3 "$CCHOST_ROOT/tests/guest/runner/host-requests.py" "$run/host.sock" \
		"$run/qmp.sock" "${logf%.log}.host.log" "$((tmo + 30))" \
		"$((tmo - (tmo / 2 < 60 ? tmo / 2 : 60)))" "$(kernel_system_map "$kver")" &
	hostpid=$!
	# A background job ignores SIGINT: on Ctrl-C it is killed here.
	cchost_at_exit "kill $hostpid 2>/dev/null"
	for ((i = 0; i < 100; i++)); do
		[ -S "$run/host.sock" ] && break
		kill -0 "$hostpid" 2>/dev/null || break
		sleep 0.1
	done
	if [ ! -S "$run/host.sock" ]; then
		log "host request service did not start"
		kill "$hostpid" 2>/dev/null
		wait "$hostpid" 2>/dev/null
		rm -rf "$run"
		return 1
	fi
	# shellcheck disable=SC2086
	set -- timeout --foreground -k 10 "$tmo" \
		qemu-system-x86_64 -machine q35 -accel tcg -cpu max,-erms -smp 2 \
		-m "${CCHOST_QEMU_MEM:-6G}" -nographic -no-reboot -net none \
		-device intel-iommu,intremap=off -device edu \
		$QEMU_FAULT_DEVICES $QEMU_P2P_DEVICES \
		-qmp "unix:$run/qmp.sock,server=on,wait=off" \
		-chardev "socket,id=cchost-host,path=$run/host.sock" \
		-serial stdio -serial chardev:cchost-host \
		-kernel "$image" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 loglevel=5 nokaslr $QEMU_RESERVED_MEMMAP intel_iommu=on cchost.timeout=${CCHOST_TEST_TIMEOUT:-120} $* ${CCHOST_QEMU_APPEND:-}"
	if [ "${CCHOST_QEMU_ECHO:-0}" = 1 ]; then
		"$@" < /dev/null 2>&1 | tr -d '\r' | tee "$logf"
		rc=${PIPESTATUS[0]}
	else
		"$@" < /dev/null 2>&1 | tr -d '\r' > "$logf"
		rc=${PIPESTATUS[0]}
	fi
	# The service exits when QEMU closes the port; make sure it is gone.
	kill "$hostpid" 2>/dev/null
	wait "$hostpid" 2>/dev/null
	cchost_at_exit_done "kill $hostpid 2>/dev/null"
	cchost_rmtmp "$run"
	return "$rc"
}

# Kernel reports that fail a boot (CCHOST_SPLAT_RE, lib.sh). Only kernel lines count:
# they carry the printk timestamp (CONFIG_PRINTK_TIME, set in every Debian
# kernel), so a test printing "WARNING:" itself does not trip the scanner.
QEMU_SPLAT_RE=$CCHOST_SPLAT_RE
QEMU_KMSG_RE='\[ *[0-9]+\.[0-9]+\] '

qemu_scan_log() {
	local logf=$1 re

	re="$QEMU_KMSG_RE.*($QEMU_SPLAT_RE)"
	if grep -aEq "$re" "$logf"; then
		echo "kernel reports on the console ($logf):"
		grep -anE -B 3 -A 15 "$re" "$logf" | head -n 300 | sed 's/^/    /'
		return 1
	fi
	return 0
}

# The console interleaves kernel messages with the tests' output: one
# printed while a test was in the middle of a line splits that line in two
# ("@@cchost end tdi[  109.047080] hrtimer: interrupt took 10185370 ns" then
# "/protect 0"). Print the log with every kernel message that starts inside
# a line taken out and the line joined again; messages at the start of a
# line stay. The scanner reads the raw log, which keeps them all.
qemu_unsplice() {
	perl -0777 -pe '1 while s/([^\n])\[ *[0-9]+\.[0-9]+\] [^\n]*\n/$1/' "$1"
}

# A test may have started: a runner protocol line, even one cut short, or
# the copy of its first begin marker the runner has the kernel print.
QEMU_STARTED_RE='@@cchost|cchost-runner: tests started'

# Kernel messages of a guest that could not run its /init: the initramfs
# (ours) is broken, booting it again would not help.
QEMU_NO_INIT_RE='Initramfs unpacking failed|No working init found|Failed to execute /init|'\
'Requested init .* failed|Unable to mount root fs'

# Whether a boot died before the runner's first test. The runner prints its
# first "@@cchost" line (in a test run, the first begin marker) before it
# loads or runs anything of ours, so a guest that died or hung before it
# shows trouble of the guest kernel or of the emulator, not of this project:
# Debian's 7.3 under TCG sometimes takes an int3 Oops from a text-poke
# breakpoint (e.g. in set_next_task_fair) 1.5 s into boot, or hangs silently
# until the timeout. Such a boot is worth one more try: print why it ended
# (its first kernel report, or how it ended without one) and return 0.
# Return 1 for a boot that printed any "@@cchost" line, and for one that
# does not look like a guest that booted and died: only QEMU's status 0 (the
# guest reset or powered off; -no-reboot) and timeout's 124 or 137 (QEMU
# killed) count, any other status means QEMU or the host request service
# did not start or was interrupted; nor does a boot without a console log,
# or one whose kernel found no usable /init in our initramfs.
qemu_early_death() {
	local logf=$1 st=$2 why last

	case $st in 0|124|137) ;; *) return 1 ;; esac
	[ -f "$logf" ] || return 1
	grep -aqE "$QEMU_STARTED_RE" "$logf" && return 1
	grep -aqE "$QEMU_KMSG_RE.*($QEMU_NO_INIT_RE)" "$logf" && return 1
	why=$(grep -aEm1 "$QEMU_KMSG_RE.*($QEMU_SPLAT_RE)" "$logf" |
		sed -E "s/^.*$QEMU_KMSG_RE//")
	if [ -z "$why" ]; then
		# The last line of the guest's, not QEMU's "terminating on signal".
		last=$(grep -av -e '^[[:space:]]*$' -e '^qemu-system' "$logf" | tail -n 1)
		if [ "$st" = 0 ]; then
			why="guest stopped without a kernel report"
		else
			why="hung until the timeout, no kernel report"
		fi
		if [ -n "$last" ]; then
			why+=", last console line: ${last:0:80}"
		else
			why+=", no console output"
		fi
	fi
	why=${why//$'\t'/ }
	printf '%s\n' "${why:0:160}"
}

# qemu_boot, once more with the same arguments when the guest died before
# its first test (qemu_early_death). The first boot's console stays as
# LOG.attempt1 (its host requests as .host.log.attempt1) and QEMU_BOOT_RETRIED
# holds why it was booted again (empty when it was not): give it to
# qemu_collect, which reports the retry. A second early death is not retried;
# its boot fails as any guest that did not finish. Returns the status of the
# last boot.
QEMU_BOOT_RETRIED=
# shellcheck disable=SC2034 # QEMU_BOOT_RETRIED is the caller's
qemu_boot_retry() {
	local kver=$1 logf=$3 hostlog rc why

	hostlog=${logf%.log}.host.log
	QEMU_BOOT_RETRIED=
	# A first attempt of an earlier run is not this run's.
	rm -f "$logf.attempt1" "$hostlog.attempt1"
	qemu_boot "$@"
	rc=$?
	why=$(qemu_early_death "$logf" "$rc") || return "$rc"
	log "guest $kver: the boot ended before the first test, nothing of ours ran ($why); booting once more, first console kept as $logf.attempt1"
	mv "$logf" "$logf.attempt1"
	[ ! -e "$hostlog" ] || mv "$hostlog" "$hostlog.attempt1"
	QEMU_BOOT_RETRIED=$why
	qemu_boot "$@"
}

# Collect the results of one boot. Test output lines are TAP; a test passes
# only if it printed at least one test point, none failed, the plan (if any)
# matches and its exit status is 0. RETRIED (QEMU_BOOT_RETRIED of
# qemu_boot_retry): the boot was retried, LOG is the second one's console;
# one more result says so, a pass when the second boot got to the runner's
# first test, a failure when it did not either.
qemu_collect() {
	local kver=$1 logf=$2 tmp line rc=0

	cchost_mktemp tmp || return 1
	qemu_unsplice "$logf" | QEMU_RETRIED=${3:-} awk -v kver="$kver" \
		-v first="${logf##*/}.attempt1" -v started_re="$QEMU_STARTED_RE" '
	BEGIN { retried = ENVIRON["QEMU_RETRIED"] }
	$0 ~ started_re { started = 1 }
	function flush(status,   name) {
		if (cur == "")
			return
		name = "guest " kver " " cur
		if (status == "")
			print "FAIL\t" name ": no end marker (guest crashed, hung or timed out)"
		else if (status == "timeout")
			print "FAIL\t" name ": timed out"
		else if (npoints == 0)
			print "FAIL\t" name ": no TAP test points (exit status " status ")"
		else if (status != 0 && nfail == 0)
			print "FAIL\t" name ": exit status " status " without a failing test point"
		else if (plan != "" && plan != npoints)
			print "FAIL\t" name ": plan 1.." plan " but " npoints " test points"
		else if (nfail > 0 && status == 0)
			print "FAIL\t" name ": failing test points but exit status 0"
		cur = ""
	}
	/^@@cchost begin / {
		flush("")
		cur = $3; npoints = 0; nfail = 0; plan = ""
		next
	}
	/^@@cchost end / {
		if ($3 == cur)
			flush($4)
		next
	}
	/^@@cchost unload-failed / {
		print "FAIL\tguest " kver " " $3 ": module " $4 " could not be unloaded after the test"
		next
	}
	/^@@cchost leftover / {
		print "NOTE\tguest " kver " " $3 ": left " $4 " loaded (unloaded by the runner)"
		next
	}
	/^@@cchost kmemleak / {
		print "FAIL\tguest " kver " kmemleak: " substr($0, 19)
		next
	}
	/^@@cchost done/ { flush(""); done = 1; next }
	cur != "" && /^(not )?ok [0-9]+/ {
		line = $0
		isnot = (line ~ /^not /)
		sub(/^(not )?ok [0-9]+ *(- )?/, "", line)
		npoints++
		skip = (line ~ /# *[Ss][Kk][Ii][Pp]/)
		if (isnot && line !~ /# *TODO/) {
			nfail++
			print "FAIL\tguest " kver " " cur ": " line
		} else {
			print (skip ? "SKIP" : "PASS") "\tguest " kver " " cur ": " line
		}
		next
	}
	cur != "" && /^1\.\.[0-9]+/ { plan = substr($1, 4); next }
	END {
		flush("")
		if (!done)
			print "FAIL\tguest " kver " runner: did not finish (no done marker)"
		if (retried != "" && started)
			print "PASS\tguest " kver " boot: retried, the first boot ended before any test: " \
				retried " (console: " first ")"
		else if (retried != "")
			print "FAIL\tguest " kver " boot: retried, the first boot ended before any test: " \
				retried " (console: " first "), and the second did not get to a test either"
	}' > "$tmp"

	while IFS=$'\t' read -r kind line; do
		case $kind in
		PASS) result_pass "$line" ;;
		SKIP) printf '  skip  %s\n' "$line" ;;
		NOTE) printf '  note  %s\n' "$line" ;;
		FAIL) result_fail "$line"; rc=1 ;;
		esac
	done < "$tmp"
	rm -f "$tmp"
	return $rc
}

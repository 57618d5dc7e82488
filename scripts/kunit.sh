#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run the project's KUnit suites with the kernel's own kunit.py.
#
#   kunit.sh [--suite GLOB] [--kernel-src DIR] [--arch uml|x86_64|all]
#            [--kernel-args ARGS] [--timeout SECONDS] [--expect-fail]
#
#   --suite GLOB        kunit.py filter_glob (SUITE or SUITE.CASE globs); runs
#                       on the architectures whose kunitconfig enables a
#                       matching suite
#   --kernel-src SRC    kernel tree to use: a directory, or a source tarball
#                       (e.g. /usr/src/linux-source-6.1.tar.xz) unpacked once
#                       under $CCHOST_CACHE/kunit/src (default: Debian trixie's
#                       linux-source package, unpacked there)
#   --arch A            x86_64 (kunit/x86_64.kunitconfig, QEMU TCG; the default:
#                       every suite runs there), uml (kunit/.kunitconfig: the
#                       harness suite alone, a quick loop for harness work) or
#                       all
#   --kernel-args ARGS  extra kernel command line (e.g. cchost_harness_kunit.fail=1)
#   --print-tree        print the path of the kernel tree (unpacked if needed)
#   --prepare           link this checkout into the tree to build from, print
#                       that tree's path, build nothing
#   --no-build          run the kernel the last run built (kunit.py exec), if
#                       there is one; else build as usual. Without it, the
#                       build is skipped too when nothing it depends on
#                       changed since the last successful one (src_key())
#   --expect-fail       self-test: a failing case must be reported; records
#                       one PASS "kunit harness self-test catches a failing case"
#                       instead of the per-case results
#
# The tree gets drivers/cchost -> this checkout (re-pointed on every run) and
# one line in drivers/Kconfig and drivers/Makefile. A directory given with
# --kernel-src is never written to: the build uses a tree of hard links to
# it under $CCHOST_CACHE/kunit/src, remade on every run, in which those two
# files are copies of their own (a full copy if hard links cannot be made,
# e.g. across file systems); builds go to build directories outside any
# tree (O=). (Hard links do show in the link count and ctime of its files.)
# The repository's top
# Kconfig/Kbuild are then read in tree. Build directories and the ccache live
# under $CCHOST_CACHE/kunit, so reruns only rebuild what changed. Records one
# result per test case: "kunit <arch> <suite>.<case>". A kernel report (a
# WARNING, BUG, lockdep or KASAN report, ...) printed while a case runs fails
# that case even if kunit.py reported it as passed: the raw console log is
# cut into cases at their KTAP result lines (see case_reports()).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	sed -n '4,/^set -e/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'
	exit "${1:-2}"
}

SUITE=
KSRC=
ARCH=x86_64
KARGS=
EXPECT_FAIL=0
NO_BUILD=0
PRINT_TREE=0
PREPARE=0
TIMEOUT=${CCHOST_KUNIT_TIMEOUT:-900}
while [ $# -gt 0 ]; do
	case $1 in
	--suite) SUITE=$2; shift 2 ;;
	--kernel-src) KSRC=$2; shift 2 ;;
	--arch) ARCH=$2; shift 2 ;;
	--kernel-args) KARGS=$2; shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--expect-fail) EXPECT_FAIL=1; shift ;;
	--no-build) NO_BUILD=1; shift ;;
	--print-tree) PRINT_TREE=1; shift ;;
	--prepare) PREPARE=1; shift ;;
	-h|--help) usage 0 ;;
	*) usage >&2 ;;
	esac
done
case $ARCH in
uml|x86_64) ARCHES=("$ARCH") ;;
all) ARCHES=(uml x86_64) ;;
*) usage ;;
esac

KDIR=$CCHOST_CACHE/kunit
mkdir -p "$KDIR/src" "$KDIR/build" "$KDIR/ccache" "$KDIR/log"

# Unpack Debian's linux-source (trixie: 6.12) once; print the tree.
default_tree() {
	local pkg deb ver tree tmp
	pkg=$("$CCHOST_ROOT/scripts/fetch-deb.sh" -q --resolve trixie linux-source)
	deb=$("$CCHOST_ROOT/scripts/fetch-deb.sh" -q trixie "$pkg")
	ver=$(dpkg-deb -f "$deb" Version)
	tree=$KDIR/src/$pkg-$ver
	# One unpacker at a time (kunit, the debug kernel and the guests share it).
	exec 6>"$KDIR/src/.lock"
	flock 6
	if [ ! -e "$tree/.cchost-unpacked" ]; then
		log "unpacking $(basename "$deb") into $tree (once)"
		tmp=$tree.tmp
		rm -rf "$tmp" "$tree"
		cchost_tmp "$tmp"
		mkdir -p "$tmp"
		dpkg-deb --fsys-tarfile "$deb" | tar -xOf - "./usr/src/$pkg.tar.xz" | tar -xJf - -C "$tmp"
		mv "$tmp/$pkg" "$tree"
		rmdir "$tmp"
		touch "$tree/.cchost-unpacked"
		# Older unpacked versions are not needed any more.
		find "$KDIR/src" -mindepth 1 -maxdepth 1 -name "$pkg-*" ! -name "$pkg-$ver" -exec rm -rf {} +
	fi
	echo "$tree"
}

# Unpack a source tarball once; print the tree.
tarball_tree() {
	local tar=$1 name tree tmp
	name=$(basename "$tar")
	name=${name%.tar*}
	tree=$KDIR/src/$name-$(stat -c %Y "$tar")
	exec 6>"$KDIR/src/.lock"
	flock 6
	if [ ! -e "$tree/.cchost-unpacked" ]; then
		log "unpacking $tar into $tree (once)"
		tmp=$tree.tmp
		rm -rf "$tmp" "$tree"
		cchost_tmp "$tmp"
		mkdir -p "$tmp"
		tar -xf "$tar" -C "$tmp"
		mv "$tmp"/* "$tree"
		rm -rf "$tmp"
		touch "$tree/.cchost-unpacked"
	fi
	echo "$tree"
}

# A tree of hard links to the directory SRC (never modified), remade on every
# run so that it follows SRC; the files link_tree edits are copies. Prints it.
linked_tree() {
	local src tree f
	src=$(cd "$1" && pwd)
	tree=$KDIR/src/linked-$(basename "$src")-$(echo "$src" | md5sum | cut -c1-8)
	exec 6>"$KDIR/src/.lock"
	flock 6
	rm -rf "$tree"
	if ! cp -al "$src" "$tree" 2>/dev/null; then
		rm -rf "$tree"
		log "copying $src (hard links are not possible here)"
		cp -a "$src" "$tree"
	fi
	for f in drivers/Kconfig drivers/Makefile; do
		[ -e "$src/$f" ] && cp --remove-destination "$src/$f" "$tree/$f"
	done
	echo "$tree"
}

# Link this checkout into TREE as drivers/cchost (idempotent). When the
# link pointed to another checkout, the objects built from it go: make
# compares times only, and an object built from the other checkout after
# this checkout's source was last edited would be taken as up to date.
link_tree() {
	local tree=$1 old

	old=$(readlink "$tree/drivers/cchost" 2>/dev/null || true)
	if [ -n "$old" ] && [ "$old" != "$CCHOST_ROOT" ]; then
		rm -rf "$CCHOST_CACHE/kunit/build/$(basename "$tree")"-*/drivers/cchost
	fi
	ln -sfn "$CCHOST_ROOT" "$tree/drivers/cchost"
	grep -qxF 'source "drivers/cchost/Kconfig"' "$tree/drivers/Kconfig" ||
		sed -i '$ { /^endmenu/ i source "drivers/cchost/Kconfig"
		}' "$tree/drivers/Kconfig"
	grep -qxF 'source "drivers/cchost/Kconfig"' "$tree/drivers/Kconfig" ||
		die "could not add drivers/cchost to $tree/drivers/Kconfig"
	grep -qxF 'obj-y += cchost/' "$tree/drivers/Makefile" ||
		echo 'obj-y += cchost/' >> "$tree/drivers/Makefile"
}

# "suite CONFIG_SYMBOL" for every KUnit suite in kunit/*_kunit.c.
suite_configs() {
	local f base sym
	for f in "$CCHOST_ROOT"/kunit/*_kunit.c; do
		[ -e "$f" ] || continue
		base=$(basename "$f" .c)
		sym=$(sed -n "s/^obj-\$(\(CONFIG_[A-Z0-9_]*\))[[:space:]]*+=.*\<$base\.o.*/\1/p" \
			"$CCHOST_ROOT/kunit/Kbuild" | head -n1)
		# The .name of each struct kunit_suite (not of parameter tables).
		awk '/struct kunit_suite [a-z0-9_]+ *= *\{/ { in_suite = 1 }
		     in_suite && /\.name *= *"/ { sub(/.*\.name *= *"/, ""); sub(/".*/, ""); print }
		     in_suite && /^\};/ { in_suite = 0 }' "$f" |
			while read -r s; do echo "$s ${sym:-?}"; done
	done
}

# Does the kunitconfig of ARCH enable a suite matching SUITE?
arch_wanted() {
	local cfg=$1 glob=${SUITE%%.*} s sym
	[ -n "$SUITE" ] || return 0
	while read -r s sym; do
		# shellcheck disable=SC2053
		[[ $s == $glob ]] || continue
		[ "$sym" = "?" ] && return 0
		grep -qx "$sym=y" "$cfg" && return 0
	done < <(suite_configs)
	return 1
}

# Print "STATUS suite.case" for every case of kunit.py's JSON (STATUS: PASS,
# FAIL, SKIP, ERROR = crashed). A parameterised case is one result: FAIL or
# ERROR if any parameter failed (named on stderr), SKIP if all skipped.
record_json() {
	python3 - "$1" <<'EOF'
import json, sys
try:
    data = json.load(open(sys.argv[1]))
except Exception as e:
    sys.stderr.write("[cchost] no kunit.py results (%s)\n" % e)
    sys.exit(0)

def leaves(group, prefix):
    for g in group.get("sub_groups", []):
        yield from leaves(g, prefix + "." + g["name"])
    for c in group.get("test_cases", []):
        yield prefix + "." + c["name"], c.get("status", "ERROR")

def verdict(statuses):
    for s in ("ERROR", "FAIL"):
        if s in statuses:
            return s
    if statuses and all(s == "SKIP" for s in statuses):
        return "SKIP"
    return "PASS"

for suite in data.get("sub_groups", []):
    name = suite["name"]
    for c in suite.get("test_cases", []):
        print("%s %s.%s" % (c.get("status", "ERROR"), name, c["name"]))
    for case in suite.get("sub_groups", []):
        params = list(leaves(case, name + "." + case["name"]))
        for p, s in params:
            if s in ("FAIL", "ERROR"):
                sys.stderr.write("    %s: %s\n" % (s, p))
        print("%s %s.%s" % (verdict([s for _, s in params]), name, case["name"]))
EOF
}

# Kernel reports that fail the case they are printed in: the ones the guest
# console scanner fails a boot on (CCHOST_SPLAT_RE, lib.sh).
KUNIT_SPLAT_RE=$CCHOST_SPLAT_RE

# Print "suite.case<TAB>report line" for every kernel report in the raw
# console log (kunit.py's <build_dir>/test.log) of a case: the lines after
# the suite's "# Subtest:" line or the previous case's result line, up to
# and including the case's "ok/not ok N case" line (at suite level: 4
# spaces of KTAP indentation; parameters are nested deeper and belong to
# their case). Reports between the last case and the end of a suite are
# printed as "suite.(suite exit)". KTAP lines themselves (test output,
# "# ..." comments) never count: a case logging "WARNING:" is not a report.
case_reports() {
	python3 - "$1" "$KUNIT_SPLAT_RE" <<'EOF'
import re, sys
try:
    lines = open(sys.argv[1], errors="replace").read().splitlines()
except OSError as e:
    sys.stderr.write("[cchost] no kunit.py console log (%s)\n" % e)
    sys.exit(0)
splat = re.compile(sys.argv[2])
stamp = re.compile(r"^\[ *[0-9]+\.[0-9]+\] ?")
ktap = re.compile(r"^\s*(#|ok |not ok |KTAP version|TAP version|[0-9]+\.\.[0-9]+)")
subtest = re.compile(r"^    # Subtest: (\S+)")
case_result = re.compile(r"^    (?:not )?ok [0-9]+ (\S+)")
suite_result = re.compile(r"^(?:not )?ok [0-9]+ ")
suite, reports = None, []
for raw in lines:
    line = stamp.sub("", raw.rstrip("\r"))
    m = subtest.match(line)
    if m:
        suite, reports = m.group(1), []
        continue
    if suite is None:
        continue
    m = case_result.match(line)
    if m:
        for r in reports:
            print("%s.%s\t%s" % (suite, m.group(1), r))
        reports = []
        continue
    if suite_result.match(line):
        for r in reports:
            print("%s.(suite exit)\t%s" % (suite, r))
        suite, reports = None, []
        continue
    if not ktap.match(line) and splat.search(line):
        reports.append(line.strip())
EOF
}

# Turn "PASS suite.case" results into FAIL where case_reports() found a
# report in the case; add a FAIL for reports outside the cases of a suite.
apply_reports() {
	python3 - "$1" "$2" <<'EOF'
import sys
results = [l.split(" ", 1) for l in sys.argv[1].splitlines() if " " in l]
bad = {}
for l in sys.argv[2].splitlines():
    name, _, what = l.partition("\t")
    bad.setdefault(name, []).append(what)
names = {n for _, n in results}
for status, name in results:
    if name in bad:
        sys.stderr.write("    kernel report during %s: %s\n" % (name, bad[name][0]))
        if status == "PASS":
            status = "FAIL"
    print(status, name)
for name in bad:
    if name not in names:
        sys.stderr.write("    kernel report during %s: %s\n" % (name, bad[name][0]))
        print("FAIL", name)
EOF
}

# What the kernel kunit.py builds in a build directory depends on: the tree,
# the kunitconfig, the compiler and the project's Kbuild inputs. When they
# are what the last successful build there saw, kunit.py only runs that
# kernel (exec): make alone needs about 40 s to find nothing to do in a full
# tree. Empty (always build) outside a git checkout.
src_key() {
	local cfg=$1 tree=$2

	git -C "$CCHOST_ROOT" rev-parse --git-dir > /dev/null 2>&1 || return 0
	{
		echo "$(basename "$tree") $make_opts"
		cat "$cfg"
		gcc --version | head -n1
		(cd "$CCHOST_ROOT" && git ls-files -z -co --exclude-standard -- \
			Kbuild Kconfig VERSION compat include modules kunit |
			sort -z | xargs -0 -r sha256sum)
	} | sha256sum | cut -c1-32
}

run_arch() {
	local arch=$1 tree=$2 cfg build log json rc=0 make_opts n_fail=0 n_pass=0 line status name
	case $arch in
	uml) cfg=$CCHOST_ROOT/kunit/.kunitconfig ;;
	x86_64) cfg=$CCHOST_ROOT/kunit/x86_64.kunitconfig ;;
	esac
	if ! arch_wanted "$cfg"; then
		log "kunit $arch: no suite matching '$SUITE' is enabled in $(basename "$cfg"); skipped"
		return 0
	fi
	RAN=$((RAN + 1))
	build=$KDIR/build/$(basename "$tree")-$arch
	log=$KDIR/log/$arch.log
	json=$KDIR/log/$arch.json
	# test.log: kunit.py's raw console log, scanned by case_reports().
	rm -f "$json" "$build/test.log"
	make_opts="CC=ccache gcc"
	local args=(run "--build_dir=$build" "--kunitconfig=$cfg" --jobs=2
		    "--timeout=$TIMEOUT" "--make_options=$make_opts" "--json=$json")
	local key
	key=$(src_key "$cfg" "$tree")
	if { [ "$NO_BUILD" = 1 ] ||
	     { [ -n "$key" ] && [ "$(cat "$build/.cchost-src-key" 2>/dev/null)" = "$key" ]; }; } &&
	   [ -s "$build/.config" ] &&
	   { [ -e "$build/arch/x86/boot/bzImage" ] || [ -e "$build/linux" ]; }; then
		log "kunit $arch: sources unchanged since the last build, running it (kunit.py exec)"
		args=(exec "--build_dir=$build" "--kunitconfig=$cfg"
		      "--timeout=$TIMEOUT" "--make_options=$make_opts" "--json=$json")
	else
		rm -f "$build/.cchost-src-key"
	fi
	[ "$arch" = x86_64 ] && args+=(--arch=x86_64)
	local a
	for a in $KARGS; do args+=("--kernel_args=$a"); done
	[ -n "$SUITE" ] && args+=("$SUITE")
	log "kunit $arch: kunit.py ${args[*]}"
	local t0=$SECONDS
	# kunit.py starts qemu-system-x86_64 without -accel: TCG, as wanted
	# here (KVM is not usable on the machines this runs on).
	cchost_heartbeat "kunit $arch (build and run)" \
		env -C "$tree" CCACHE_DIR="$KDIR/ccache" CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-4G}" \
		python3 tools/testing/kunit/kunit.py "${args[@]}" </dev/null >"$log" 2>&1 || rc=$?
	log "kunit $arch: kunit.py exited $rc after $((SECONDS - t0)) s (log: $log)"
	[ "$rc" = 0 ] && [ "${args[0]}" = run ] && [ -n "$key" ] && echo "$key" > "$build/.cchost-src-key"
	# Show the result section (and the tail on errors).
	sed -n '/====.*\(cchost\|gmem\|tdi\|=====\)/,$p' "$log" | grep -E '\[(PASSED|FAILED|SKIPPED|CRASHED|ERROR)\]|Testing complete|Ran [0-9]|Elapsed' | tail -n 60 || true

	local results reports
	results=$(record_json "$json" || true)
	reports=$(case_reports "$build/test.log" || true)
	results=$(apply_reports "$results" "$reports")
	if [ "$EXPECT_FAIL" = 1 ]; then
		# kunit.py itself exits 0 when the only failure is a kernel report.
		if { [ "$rc" != 0 ] || [ -n "$reports" ]; } &&
		   grep -q '^FAIL ' <<<"$results" && ! grep -qiE 'crash|ERROR ' <<<"$results"; then
			grep '^FAIL ' <<<"$results" | sed 's/^/    failed as expected: /'
			result_pass "kunit $arch harness self-test catches a failing case"
		else
			tail -n 30 "$log"
			result_fail "kunit $arch harness self-test catches a failing case"
			return 1
		fi
		return 0
	fi
	while read -r status name; do
		[ -n "$name" ] || continue
		case $status in
		PASS) result_pass "kunit $arch $name"; n_pass=$((n_pass + 1)) ;;
		SKIP) log "skipped: kunit $arch $name" ;;
		*) result_fail "kunit $arch $name ($status)"; n_fail=$((n_fail + 1)) ;;
		esac
	done <<<"$results"
	if [ "$rc" != 0 ] || [ $((n_pass + n_fail)) = 0 ] ||
	   grep -qE 'kernel crashed|Kernel panic|\[CRASHED\]|Missing: CONFIG_' "$log"; then
		if [ "$n_fail" = 0 ]; then
			grep -E 'ERROR|Missing: |error:|crash|panic|Traceback' "$log" | head -n 30 || tail -n 30 "$log"
			result_fail "kunit $arch kunit.py run (exit $rc)"
		fi
		return 1
	fi
	[ "$n_fail" = 0 ]
}

if [ -f "$KSRC" ]; then
	TREE=$(tarball_tree "$KSRC")
elif [ -n "$KSRC" ]; then
	[ -d "$KSRC" ] || die "--kernel-src $KSRC: no such directory or tarball"
	TREE=$(linked_tree "$KSRC")
else
	TREE=$(default_tree)
fi
[ -e "$TREE/tools/testing/kunit/kunit.py" ] || die "$TREE has no tools/testing/kunit/kunit.py"
if [ "$PRINT_TREE" = 1 ]; then
	echo "$TREE"
	exit 0
fi
if [ "$PREPARE" = 1 ]; then
	link_tree "$TREE"
	echo "$TREE"
	exit 0
fi
# Objects of an in-place M= build in the checkout are not used by the
# in-tree build: every Kbuild object rule has FORCE, so make rebuilds them
# into the build directory instead of taking them through VPATH.
if [ -n "$SUITE" ] && [ -z "$(suite_configs | while read -r s _; do [[ $s == ${SUITE%%.*} ]] && echo "$s"; done)" ]; then
	die "no KUnit suite matches '$SUITE' (suites: $(suite_configs | awk '{print $1}' | tr '\n' ' '))"
fi

exec 9>"$KDIR/lock"
if ! flock -n 9; then
	log "waiting for another kunit.sh run to finish (one kernel build at a time)"
	flock 9
fi
link_tree "$TREE"
log "kernel tree: $TREE (drivers/cchost -> $CCHOST_ROOT)"

failed=0
RAN=0
# A suite whose Kconfig symbol no kunitconfig enables would silently never run.
if [ -z "$SUITE" ]; then
	while read -r s sym; do
		[ "$sym" = "?" ] && continue
		grep -qsx "$sym=y" "$CCHOST_ROOT/kunit/.kunitconfig" "$CCHOST_ROOT/kunit/x86_64.kunitconfig" ||
			{ result_fail "kunit suite $s: $sym is enabled in no kunitconfig"; failed=1; }
	done < <(suite_configs)
fi
for arch in "${ARCHES[@]}"; do
	run_arch "$arch" "$TREE" || failed=1
done
[ "$RAN" -gt 0 ] || die "no kunitconfig of --arch $ARCH enables a suite matching '$SUITE'"
exit $failed

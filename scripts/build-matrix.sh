#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the modules (and the out-of-tree KUnit helper modules) with W=1 for
# every kernel of the matrix (scripts/kernels.sh), or for the kernels given.
#
#   build-matrix.sh [KVER...]
#
# Per kernel it records:
#   "build W=1 <kver>"   the build succeeded without a single compiler,
#                        kernel-doc or modpost warning (offending lines shown)
#   "vermagic <kver>"    every module was built and its vermagic names <kver>
#   "modinfo <kver>"     every parameter of a product module has a
#                        description, and no product module carries a
#                        wildcard alias (a "vfio_pci:v*d*..." alias makes
#                        tools pick the driver for every device)
# The .ko files stay under $CCHOST_CACHE/build/<kver>. Exits non-zero on any
# failure.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=kernels.sh
. "$CCHOST_ROOT/scripts/kernels.sh"

# Record NAME as passed if the array bad is empty, else print its entries
# and record NAME as failed.
report_bad() {
	if [ ${#bad[@]} = 0 ]; then
		result_pass "$1"
	else
		printf '    %s\n' "${bad[@]}"
		result_fail "$1"
		failed=1
	fi
}

# Lines that make a build fail even when make succeeded.
OFFENDING='(warning|error):|WARNING:|ERROR:|^make.*\*\*\*'

# Modules every build must produce: one per modules/<name>/ directory.
expected_modules() {
	local d
	for d in "$CCHOST_ROOT"/modules/*/; do
		[ -e "$d/Kbuild" ] && basename "$d"
	done
}

if [ $# -gt 0 ]; then
	kernels=("$@")
else
	mapfile -t kernels < <(kernel_list)
fi
[ ${#kernels[@]} -gt 0 ] || die "no kernels in the matrix"

failed=0
for kver in "${kernels[@]}"; do
	out=$CCHOST_CACHE/build/$kver
	logf=$CCHOST_CACHE/build/$kver.log
	mkdir -p "$CCHOST_CACHE/build"
	log "building for $kver (W=1)"
	# Progress of a first run (chroot, kernel images) shows on stderr.
	if ! kernel_prepare "$kver" >"$logf"; then
		cat "$logf"
		result_fail "build W=1 $kver (kernel not available)"
		failed=1
		continue
	fi
	t0=$SECONDS
	rc=0
	# Builds are incremental (kernel_build keeps objects of unchanged
	# files), so an object may only survive a clean build: after a failed
	# or interrupted one everything is compiled again, and every warning
	# is seen again.
	# The build directory is shared with the guest scripts: same lock.
	(
		flock 9
		[ -e "$out.dirty" ] && rm -rf "$out"
		touch "$out.dirty"
		kernel_build "$kver" "$out" W=1 -j2
	) 9>"$CCHOST_CACHE/build-$kver.lock" >"$logf" 2>&1 || rc=$?
	if [ "$rc" != 0 ] || grep -qE "$OFFENDING" "$logf"; then
		echo "    --- $kver: make exited $rc; offending lines ($logf):"
		grep -E "$OFFENDING" "$logf" | head -n 40 | sed -e "s|$out/||" -e 's|/work/||' -e 's/^/    /' ||
			tail -n 20 "$logf"
		result_fail "build W=1 $kver"
		failed=1
		continue
	fi
	rm -f "$out.dirty"
	result_pass "build W=1 $kver ($((SECONDS - t0)) s)"

	bad=()
	for m in $(expected_modules); do
		[ -n "$(find "$out/modules" -name "$m.ko" -print -quit)" ] || bad+=("$m.ko missing")
	done
	while IFS= read -r -d '' ko; do
		vm=$(modinfo -F vermagic "$ko" | awk '{print $1}')
		[ "$vm" = "$kver" ] || bad+=("${ko#"$out"/}: vermagic '$vm'")
		# Built as listed in kunit/ helpers or modules: report them.
		log "  ${ko#"$out"/} ($(modinfo -F vermagic "$ko"))"
	done < <(find "$out" -name '*.ko' -print0 | sort -z)
	report_bad "vermagic $kver"

	bad=()
	while IFS= read -r -d '' ko; do
		while IFS= read -r parm; do
			# "name:description (type)"; no description: "name: (type)"
			case $parm in
			*:\ \(*\)|*:\(*\)) bad+=("${ko##*/}: parameter ${parm%%:*} has no description") ;;
			esac
		done < <(modinfo -F parm "$ko")
		while IFS= read -r alias; do
			case $alias in
			*:v\*d\*sv\*sd\*bc\*sc\*i\*) bad+=("${ko##*/}: wildcard alias $alias") ;;
			esac
		done < <(modinfo -F alias "$ko")
	done < <(find "$out/modules" -name '*.ko' -print0 | sort -z)
	report_bad "modinfo $kver"
done
exit $failed

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Look up and download .deb files of other Debian suites without touching the
# host's apt configuration: every call uses a private apt state per suite
# under $CCHOST_CACHE/apt/<suite> (its own sources, lists, cache and an empty
# dpkg status), so the host's sources.list, preferences and installed
# packages play no part. Nothing is installed.
#
#   fetch-deb.sh SUITE PKG...          download PKG (latest in SUITE) into
#                                      $CCHOST_CACHE/debs/SUITE, print the paths
#   fetch-deb.sh --resolve SUITE META  print the versioned package of a metapackage
#                                      (linux-image-amd64 -> linux-image-6.12.x-amd64)
#                                      (first dependency named like META, versioned)
#   fetch-deb.sh --depends SUITE PKG   print the direct dependencies of PKG
#   fetch-deb.sh --version SUITE PKG   print the candidate version of PKG in SUITE
#   fetch-deb.sh --names SUITE ERE     print package names of SUITE matching ERE
#   fetch-deb.sh --update SUITE        refresh the suite's index now
#
# SUITE is a Debian suite: trixie, trixie-backports, sid, ... The index is
# refreshed when older than CCHOST_APT_MAX_AGE seconds (default 6 hours).
# Options: -q (quiet progress). Works without stdin.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '4,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

apt_dir() { echo "$CCHOST_CACHE/apt/$1"; }

# apt options that isolate everything from the host's configuration.
apt_opts() {
	local d
	d=$(apt_dir "$1")
	APT_OPTS=(
		-o "Dir::Etc::sourcelist=/dev/null"
		-o "Dir::Etc::sourceparts=$d/sources.list.d"
		-o "Dir::Etc::preferences=/dev/null"
		-o "Dir::Etc::preferencesparts=$d/preferences.d"
		-o "Dir::State=$d/state"
		-o "Dir::State::Lists=$d/lists"
		-o "Dir::State::status=$d/status"
		-o "Dir::Cache=$d/cache"
		-o "Dir::Cache::archives=$CCHOST_CACHE/debs/$1"
		-o "APT::Architecture=amd64"
		-o "APT::Architectures::=amd64"
		-o "Acquire::Languages=none"
		-o "Acquire::Check-Valid-Until=false"
		-o "APT::Get::List-Cleanup=true"
		-o "Debug::NoLocking=true"
		-o "APT::Sandbox::User=root"
	)
}

apt_setup() {
	local suite=$1 d mirror
	d=$(apt_dir "$suite")
	mirror=$(debian_mirror)
	mkdir -p "$d/sources.list.d" "$d/preferences.d" "$d/state" "$d/lists/partial" \
		"$d/cache/archives/partial" "$CCHOST_CACHE/debs/$suite/partial"
	[ -e "$d/status" ] || : > "$d/status"
	local want
	want="deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main"
	if [ "$(cat "$d/sources.list.d/cchost.list" 2>/dev/null)" != "$want" ]; then
		echo "$want" > "$d/sources.list.d/cchost.list"
		rm -f "$d/stamp-update"
	fi
}

apt_update() {
	local suite=$1 d
	d=$(apt_dir "$suite")
	[ "$QUIET" = 1 ] || log "refreshing the $suite index (private apt state $d)"
	apt_opts "$suite"
	if ! apt-get "${APT_OPTS[@]}" -qq update >"$d/update.log" 2>&1 ||
	   grep -qE '^(E: |W: (Failed|GPG|The repository|Some index))' "$d/update.log"; then
		cat "$d/update.log" >&2
		# An older index is better than none (offline rerun).
		if ls "$d/lists/"*_Packages* >/dev/null 2>&1; then
			log "warning: apt-get update of $suite failed; using the previous index"
			return 0
		fi
		die "apt-get update of $suite failed"
	fi
	touch "$d/stamp-update"
}

apt_ensure() {
	local suite=$1 d age
	apt_setup "$suite"
	d=$(apt_dir "$suite")
	if [ -e "$d/stamp-update" ]; then
		age=$(( $(date +%s) - $(stat -c %Y "$d/stamp-update") ))
		[ "$age" -lt "${CCHOST_APT_MAX_AGE:-21600}" ] && return 0
	fi
	apt_update "$suite"
}

QUIET=0
if [ "${1:-}" = -q ]; then QUIET=1; shift; fi
mode=fetch
case "${1:-}" in
--resolve|--depends|--version|--names|--update) mode=${1#--}; shift ;;
-h|--help|"") usage ;;
esac
[ $# -ge 1 ] || usage
suite=$1
shift
# One process at a time per suite: concurrent "apt-get update" runs on the
# same private lists directory fail (parallel builds and guests call this).
mkdir -p "$(apt_dir "$suite")"
exec 8>"$(apt_dir "$suite").lock"
flock 8
apt_ensure "$suite"
apt_opts "$suite"

case $mode in
update)
	apt_update "$suite"
	;;
names)
	[ $# -eq 1 ] || usage
	apt-cache "${APT_OPTS[@]}" pkgnames | grep -E -- "$1" | sort -V || true
	;;
version)
	[ $# -eq 1 ] || usage
	apt-cache "${APT_OPTS[@]}" policy "$1" | awk '/Candidate:/ {print $2}' | grep -v '(none)' ||
		die "$1 not found in $suite"
	;;
resolve)
	# A kernel metapackage names the versioned package among its
	# dependencies: linux-headers-amd64 Depends: [linux-base-amd64,]
	# linux-headers-7.2.12+deb13-amd64. Print the first dependency of the
	# candidate version named like META with a version in place of the flavour.
	[ $# -eq 1 ] || usage
	# linux-source depends on linux-source-6.12 (no flavour to replace).
	deps=$(apt-cache "${APT_OPTS[@]}" depends "$1" 2>/dev/null | sed -n 's/^ *Depends: //p')
	for stem in "$1-" "${1%-*}-"; do
		r=$(awk -v stem="$stem" 'index($0, stem) == 1 &&
			substr($0, length(stem) + 1, 1) ~ /[0-9]/ { print; exit }' <<<"$deps")
		[ -z "$r" ] || { echo "$r"; exit 0; }
	done
	die "cannot resolve $1 in $suite"
	;;
depends)
	[ $# -eq 1 ] || usage
	apt-cache "${APT_OPTS[@]}" depends "$1" 2>/dev/null | sed -n 's/^ *Depends: //p' | sed 's/^<\(.*\)>$/\1/'
	;;
fetch)
	[ $# -ge 1 ] || usage
	dest=$CCHOST_CACHE/debs/$suite
	for pkg in "$@"; do
		ver=$(apt-cache "${APT_OPTS[@]}" policy "$pkg" | awk '/Candidate:/ {print $2}')
		[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "$pkg not found in $suite"
		# Files in the pool are named pkg_<version without epoch>_<arch>.deb.
		f=$(ls "$dest/${pkg}_${ver#*:}_"*.deb 2>/dev/null | head -n1 || true)
		if [ -z "$f" ]; then
			[ "$QUIET" = 1 ] || log "downloading $pkg $ver ($suite)"
			(cd "$dest" && apt-get "${APT_OPTS[@]}" -qq download "$pkg=$ver" >/dev/null) ||
				die "download of $pkg failed"
			f=$(ls "$dest/${pkg}_"*"${ver##*:}_"*.deb 2>/dev/null | head -n1 || true)
			[ -n "$f" ] || die "download of $pkg produced no file"
		fi
		echo "$f"
	done
	;;
esac

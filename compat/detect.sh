#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Usage: detect.sh SRCTREE OBJTREE
# Print -DCCHOST_HAVE_<FLAG> for every probe of compat/features that matches.
features=$(dirname "$0")/features
grep -v -e '^#' -e '^[[:space:]]*$' "$features" |
while read -r flag header regexp; do
	for tree in "$1" "$2"; do
		if grep -qsE "$regexp" "$tree/$header"; then
			printf ' -DCCHOST_HAVE_%s' "$flag"
			break
		fi
	done
done

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Deliberately failing test: the harness must report this boot as failed.
. /lib/cchost/tap.sh
ok 0 "harness: a passing test point"
ok 1 "harness: a deliberately failing test point"
tap_done

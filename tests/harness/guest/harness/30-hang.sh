#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Never finishes: the runner's per-test timeout must kill it and the harness
# must report a timeout.
. /lib/cchost/tap.sh
ok 0 "harness: about to hang"
sleep 100000
tap_done

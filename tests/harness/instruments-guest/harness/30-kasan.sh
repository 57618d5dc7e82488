#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Trips the debug kernel's kasan instrument (last: a KASAN report turns lockdep
# off); the test itself passes, the report
# on the console (or the runner's kmemleak scan) must fail the run.
. /lib/cchost/tap.sh
ok 0 "harness: about to trip kasan"
modload cchost_instruments trigger=kasan
ok $? "harness: cchost_instruments trigger=kasan loaded"
tap_done

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Trips the debug kernel's leak instrument; the test itself passes, the report
# on the console (or the runner's kmemleak scan) must fail the run.
. /lib/cchost/tap.sh
ok 0 "harness: about to trip leak"
modload cchost_instruments trigger=leak
ok $? "harness: cchost_instruments trigger=leak loaded"
tap_done

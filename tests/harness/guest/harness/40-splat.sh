#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Loads a module that WARNs and leaves it loaded: every test point passes,
# yet the console scanner must fail the boot, and the runner must unload
# the leftover module.
. /lib/cchost/tap.sh
check "harness: modload cchost_splat" modload cchost_splat
test -d /sys/module/cchost_splat
ok $? "harness: cchost_splat loaded"
tap_done

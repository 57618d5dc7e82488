# SPDX-License-Identifier: GPL-2.0-only
#
# cchost: gmem_pfnpool and tdi_dmabuf, out-of-tree.
#
#   make [KERNELRELEASE=<kver>|KDIR=<tree>]   build the modules (W=1 honoured)
#   make tools                                 build tools/cchostctl
#   make install | dkms-install | dkms-remove | deb
#                                              (install: the modules, and
#                                              cchostctl + its man page
#                                              under $(DESTDIR)/usr)
#   make style | sparse                        checkpatch --strict / sparse C=2
#   make demo | check | kunit [SUITE=..] [KERNEL_SRC=..] | bench
#
# KERNELRELEASE/KDIR are never guessed from the running kernel when given; by
# default the newest installed Debian 6.1 headers are used (the host kernel of
# the machines this is developed on cannot load modules).

KERNELRELEASE ?= $(shell scripts/default-kver)
KDIR ?= /lib/modules/$(KERNELRELEASE)/build
KMAKE := $(MAKE) -C $(KDIR) M=$(CURDIR)

all: modules

modules:
	$(KMAKE) modules

module-debug:
	$(KMAKE) modules ccflags-y+=-DDEBUG

clean:
	$(KMAKE) clean
	$(MAKE) -C tools/cchostctl clean

tools:
	$(MAKE) -C tools/cchostctl

install: modules tools
	$(KMAKE) modules_install
	depmod -a $(KERNELRELEASE)
	$(MAKE) -C tools/cchostctl install DESTDIR=$(DESTDIR) PREFIX=/usr

dkms-install:
	scripts/dkms.sh install $(KERNELRELEASE)

dkms-remove:
	scripts/dkms.sh remove $(KERNELRELEASE)

deb:
	scripts/deb.sh build out

style:
	scripts/style.sh

sparse:
	$(KMAKE) C=2 modules

deps:
	scripts/deps.sh

demo: deps
	scripts/demo.sh

check: deps
	scripts/check.sh

kunit: deps
	scripts/kunit.sh $(if $(SUITE),--suite $(SUITE)) $(if $(KERNEL_SRC),--kernel-src $(KERNEL_SRC))

bench: deps
	scripts/bench.sh

stress: deps
	scripts/stress.sh $(if $(KERNEL),--kernel $(KERNEL)) $(if $(SEED),--seed $(SEED)) $(if $(DURATION),--duration $(DURATION))

.PHONY: all modules module-debug clean tools install dkms-install dkms-remove deb style sparse deps demo check kunit bench stress

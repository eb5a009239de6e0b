# ctpool top-level Makefile.
#
# The kernel module is built by Kbuild (see ./Kbuild) against the headers of
# the kernel installed under /lib/modules; the version is taken from there,
# never from `uname -r`, because the host runs a different kernel.
#
# Each directory contributes a fragment (*.mk) so that work in one area does
# not collide with another.

KVER ?= $(shell ls -1 /lib/modules 2>/dev/null | sort -V | tail -n 1)
KDIR ?= /lib/modules/$(KVER)/build
BUILD ?= $(CURDIR)/build

CC ?= cc
USER_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-D_GNU_SOURCE -I$(CURDIR)/persistent-data/user/include -I$(CURDIR)/persistent-data

export KVER KDIR BUILD

.PHONY: all module userspace deps check demo bench fuzz stress vm-shell clean \
	host-tests vm-tests

all: module userspace

deps:
	@sh scripts/install-deps.sh

module:
	@test -d "$(KDIR)" || { echo "no kernel headers in $(KDIR): run 'make deps'"; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

include persistent-data/user.mk
include tools/tools.mk
include tests/tests.mk
include qemu/qemu.mk
include fuzz/fuzz.mk
include tests/stress/stress.mk
include bench/bench.mk
include dist/dist.mk

# Host (no VM) tests: each area adds a fragment tests/unit/<layer>/<area>.mk
# that appends executables build/tests/unit/<layer>/<name>-test to HOST_TESTS
# (layout and naming: tests/run-all.sh). Each test binary ends its output with
# a line "N passed, N failed". tests/unit/*.mk (asan-lib.mk, suite-rules.mk)
# come first: the layers' fragments name their libraries and call their rules.
HOST_TESTS :=
-include $(wildcard tests/unit/*.mk tests/unit/*/*.mk tests/oracle/*.mk \
	tests/tree/*.mk)
USERSPACE_TARGETS += $(HOST_TESTS)

userspace: $(USERSPACE_TARGETS)

check: deps
	$(MAKE) all
	sh tests/run-all.sh

demo: deps
	$(MAKE) all
	sh scripts/demo.sh

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null
	rm -rf $(BUILD)

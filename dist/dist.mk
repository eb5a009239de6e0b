# Installation and packaging: make install, make install-dkms-source, make deb.
#
# Everything honours DESTDIR (staged installs, Debian packaging). The module
# goes to /lib/modules/$(KVER)/updates, KVER being the kernel whose headers
# are installed (top-level Makefile), never the running kernel; depmod runs
# only for a real install (no DESTDIR), since a staged tree is not the system's.
# The version has one source: debian/changelog.

VERSION := $(shell head -n 1 debian/changelog | cut -d' ' -f2 | tr -d '()' | sed 's/-[^-]*$$//')
PREFIX ?= /usr
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
UNITDIR ?= /lib/systemd/system
MODDIR ?= /lib/modules/$(KVER)/updates
DKMS_SRCDIR ?= /usr/src/ctpool-$(VERSION)
DEB_DIR ?= $(BUILD)/deb

# The module's sources as DKMS needs them: Kbuild and the two source trees
# it compiles (persistent-data/user/ is userspace only).
DKMS_SOURCES := Kbuild $(wildcard kernel/*.c kernel/*.h kernel/*.mk) \
	$(wildcard persistent-data/*.c persistent-data/*.h persistent-data/objects.mk)

.PHONY: install install-module install-tools install-dkms-source uninstall deb

install: install-module install-tools

install-module: module
	install -D -m 0644 dm-ctpool.ko $(DESTDIR)$(MODDIR)/dm-ctpool.ko
	$(if $(DESTDIR),,depmod -a $(KVER))

install-tools: $(CTPOOL_BIN)
	install -D -m 0755 $(CTPOOL_BIN) $(DESTDIR)$(SBINDIR)/ctpool
	install -D -m 0644 docs/ctpool.8 $(DESTDIR)$(MANDIR)/man8/ctpool.8
	install -D -m 0644 dist/ctpool.bash-completion $(DESTDIR)$(BASHCOMPDIR)/ctpool
	install -D -m 0644 dist/ctpool-activate.service \
		$(DESTDIR)$(UNITDIR)/ctpool-activate.service

install-dkms-source:
	@test -n "$(VERSION)" || { echo "no version in debian/changelog"; exit 1; }
	for f in $(DKMS_SOURCES); do \
		install -D -m 0644 $$f $(DESTDIR)$(DKMS_SRCDIR)/$$f || exit 1; \
	done
	sed 's/#MODULE_VERSION#/$(VERSION)/' dkms.conf > $(DESTDIR)$(DKMS_SRCDIR)/dkms.conf

uninstall:
	rm -f $(DESTDIR)$(MODDIR)/dm-ctpool.ko $(DESTDIR)$(SBINDIR)/ctpool \
		$(DESTDIR)$(MANDIR)/man8/ctpool.8 $(DESTDIR)$(BASHCOMPDIR)/ctpool \
		$(DESTDIR)$(UNITDIR)/ctpool-activate.service
	rm -rf $(DESTDIR)$(DKMS_SRCDIR)
	$(if $(DESTDIR),,depmod -a $(KVER))

# Debian packages ctpool and ctpool-dkms, built by dpkg-buildpackage from a
# clean copy of the source (no build output, no VCS files) in $(DEB_DIR), so
# the .debs land in $(DEB_DIR) and the working tree stays untouched.
deb:
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/ctpool-$(VERSION)
	tar -C $(CURDIR) --exclude=./build --exclude-vcs --exclude-vcs-ignores -cf - . | \
		tar -C $(DEB_DIR)/ctpool-$(VERSION) -xf -
	# This make's exported BUILD/KVER/KDIR and job flags must not leak into
	# the package build, which has its own tree.
	cd $(DEB_DIR)/ctpool-$(VERSION) && env -u BUILD -u KVER -u KDIR -u MAKEFLAGS \
		-u MFLAGS -u MAKELEVEL dpkg-buildpackage -us -uc -b
	@ls -1 $(DEB_DIR)/*.deb

# QEMU guest (TCG) for all kernel work: see qemu/run-vm.sh.

.PHONY: initramfs vm-shell

# The initramfs is cached under build/qemu and rebuilt only when its inputs
# change; run-vm.sh builds it on demand, this target is for convenience.
initramfs:
	@sh qemu/mkinitramfs.sh

# Interactive guest with the host root, the module built, two scratch disks.
vm-shell: module
	qemu/run-vm.sh --shell --disk 2G --disk 2G

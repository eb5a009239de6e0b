# Kernel-only objects of dm-ctpool.ko.
KERNEL_OBJS := dm-ctpool-main.o pool-target.o thin-target.o pool.o \
	       thin-io.o discard.o cell.o
# The block-manager seam on dm-bufio.
KERNEL_OBJS += block-manager-bufio.o

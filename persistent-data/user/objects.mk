# Userspace-only objects of libpersistent-data.a: the kernel build has its
# own crc32c() and block manager (kernel/block-manager-bufio.c).
PD_USER_ONLY_OBJS := user/crc32c.o user/bm-file.o

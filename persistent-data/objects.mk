# Objects of the shared persistent-data library. The same list is compiled
# into dm-ctpool.ko (Kbuild) and into libpersistent-data.a (user.mk).
PD_OBJS :=
# Thin metadata (superblock, devices, mapping tree, transactions).
PD_OBJS += thin-superblock.o thin-mapping.o thin-devices.o thin-metadata.o
# Table and message argument parsing of the targets (shared with host tests).
PD_OBJS += target-args.o
# Core: checksum, transaction manager, btree.
PD_OBJS += checksum.o transaction-manager.o transaction-manager-sm.o
PD_OBJS += btree-node.o btree-shadow.o btree-siblings.o btree.o \
	   btree-insert.o btree-remove.o btree-del.o
# Space maps: bitmap encoding, shared low level, metadata and data space maps.
PD_OBJS += space-map-bitmap.o space-map-common.o space-map-metadata.o \
	   space-map-disk.o

// SPDX-License-Identifier: GPL-2.0-only
/*
 * The checksum every dm-thin metadata block carries in its first 4 bytes.
 */
#include "block-manager.h"

/*
 * The kernel's crc32c() neither inverts the seed nor the result, so
 * seeding with ~0 and stopping there gives exactly what dm-thin and
 * thin-provisioning-tools store. The per-type XOR keeps a block of one type
 * from validating as another.
 */
u32 pd_block_checksum(const void *data, size_t len, u32 xor_value)
{
	return crc32c(~(u32)0, data, len) ^ xor_value;
}

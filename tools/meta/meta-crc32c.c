// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool meta: crc32c (Castagnoli, reflected), table driven, eight bytes a
 * step. The library has its own (persistent-data/user/crc32c.c); the tools
 * keep this one so that the checker shares no code with what it judges.
 */
#include <stdbool.h>

#include "meta-format.h"

static uint32_t crc_table[8][256];
static bool crc_ready;

static void crc_init(void)
{
	uint32_t c;
	int i, j;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (j = 0; j < 8; j++)
			c = (c >> 1) ^ ((c & 1) ? 0x82F63B78u : 0);
		crc_table[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (j = 1; j < 8; j++)
			crc_table[j][i] = (crc_table[j - 1][i] >> 8) ^
				crc_table[0][crc_table[j - 1][i] & 0xff];
	crc_ready = true;
}

/* Seeded with ~0 and not inverted at the end, as dm-thin stores it. */
uint32_t meta_crc32c(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t c = ~0u;

	if (!crc_ready)
		crc_init();
	while (len >= 8) {
		c ^= meta_le32(p);
		c = crc_table[7][c & 0xff] ^ crc_table[6][(c >> 8) & 0xff] ^
		    crc_table[5][(c >> 16) & 0xff] ^ crc_table[4][c >> 24] ^
		    crc_table[3][p[4]] ^ crc_table[2][p[5]] ^
		    crc_table[1][p[6]] ^ crc_table[0][p[7]];
		p += 8;
		len -= 8;
	}
	while (len--)
		c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return c;
}

uint32_t meta_block_csum(const void *block, uint32_t xor_value)
{
	return meta_crc32c((const uint8_t *)block + 4, META_BLOCK_SIZE - 4) ^
	       xor_value;
}

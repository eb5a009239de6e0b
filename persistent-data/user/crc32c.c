// SPDX-License-Identifier: GPL-2.0-only
/*
 * crc32c() for the userspace build, with the kernel's semantics: the raw
 * reflected Castagnoli CRC (polynomial 0x82F63B78) continued from @seed,
 * without any initial or final inversion (callers pass ~0 and invert, or
 * not, themselves).
 *
 * Every metadata block read or written is checksummed, so on x86 the SSE4.2
 * crc32 instruction is used when the CPU has it; the byte table is the
 * portable fallback and the reference the fast path is tested against.
 */
#include "user-compat.h"

#define CRC32C_POLY 0x82F63B78u

static u32 crc_table[256];
static pthread_once_t crc_table_once = PTHREAD_ONCE_INIT;

static void crc_table_init(void)
{
	u32 i, bit, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (bit = 0; bit < 8; bit++)
			c = (c >> 1) ^ ((c & 1) ? CRC32C_POLY : 0);
		crc_table[i] = c;
	}
}

u32 crc32c_sw(u32 crc, const void *data, unsigned int len);
u32 crc32c_sw(u32 crc, const void *data, unsigned int len)
{
	const u8 *p = data;

	pthread_once(&crc_table_once, crc_table_init);
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static u32 crc32c_hw(u32 crc, const void *data, unsigned int len)
{
	const u8 *p = data;
	u64 c = crc, word;

	while (len >= 8) {
		memcpy(&word, p, 8);
		c = __builtin_ia32_crc32di(c, word);
		p += 8;
		len -= 8;
	}
	while (len--)
		c = __builtin_ia32_crc32qi((u32)c, *p++);
	return (u32)c;
}

static bool have_hw(void)
{
	static int cached = -1;

	if (cached < 0)
		cached = __builtin_cpu_supports("sse4.2") ? 1 : 0;
	return cached;
}
#endif

u32 crc32c(u32 seed, const void *data, unsigned int len)
{
#if defined(__x86_64__)
	if (have_hw())
		return crc32c_hw(seed, data, len);
#endif
	return crc32c_sw(seed, data, len);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Space-map bitmap blocks: the 2-bit entry encoding, free-entry searches and
 * the validators of bitmap and metadata index blocks. No I/O here.
 *
 * Entry e of the 4080-byte data area lives in byte e / 4, with its high bit
 * at bit 2 * (e % 4) and its low bit at bit 2 * (e % 4) + 1. Read as
 * little-endian 64-bit words, entry e is the bit pair starting at bit
 * 2 * (e % 32) of word e / 32, which is what the searches below rely on.
 */
#include "space-map-common.h"

#define ENTRIES_PER_WORD 32
#define PAIR_LOW_BITS 0x5555555555555555ULL
#define HEADER_SIZE sizeof(struct disk_bitmap_header)

static const u8 *bitmap_bytes(const void *block)
{
	return (const u8 *)block + HEADER_SIZE;
}

static const __le64 *bitmap_words(const void *block)
{
	return (const __le64 *)bitmap_bytes(block);
}

u32 pd_sm_bitmap_get(const void *block, u32 e)
{
	u8 byte = bitmap_bytes(block)[e / 4];
	u32 shift = 2 * (e % 4);

	return (((byte >> shift) & 1) << 1) | ((byte >> (shift + 1)) & 1);
}

void pd_sm_bitmap_set(void *block, u32 e, u32 value)
{
	u8 *byte = (u8 *)block + HEADER_SIZE + e / 4;
	u32 shift = 2 * (e % 4);
	u8 bits = ((value >> 1) & 1) | ((value & 1) << 1);

	*byte = (*byte & ~(3 << shift)) | (bits << shift);
}

/* One bit (the low bit of each pair) set for every used entry of a word. */
static u64 used_pairs(__le64 word)
{
	u64 w = le64_to_cpu(word);

	return (w | (w >> 1)) & PAIR_LOW_BITS;
}

/* Pair-low-bit mask of the entries of a word below entry index n (< 32). */
static u64 pairs_below(u32 n)
{
	return PAIR_LOW_BITS & ((1ULL << (2 * n)) - 1);
}

int pd_sm_bitmap_find_free(const void *cur, const void *old, u32 begin,
			   u32 end, u32 *result)
{
	const __le64 *cw = bitmap_words(cur);
	const __le64 *ow = old ? bitmap_words(old) : NULL;
	u32 w, e;
	u64 free;

	if (end > PD_SM_ENTRIES_PER_BITMAP)
		end = PD_SM_ENTRIES_PER_BITMAP;

	for (w = begin / ENTRIES_PER_WORD; w * ENTRIES_PER_WORD < end; w++) {
		u64 used = used_pairs(cw[w]);

		if (ow)
			used |= used_pairs(ow[w]);
		free = ~used & PAIR_LOW_BITS;
		if (w == begin / ENTRIES_PER_WORD)
			free &= ~pairs_below(begin % ENTRIES_PER_WORD);
		if (!free)
			continue;

		e = w * ENTRIES_PER_WORD + __builtin_ctzll(free) / 2;
		if (e >= end)
			break;
		*result = e;
		return 0;
	}

	return -ENOSPC;
}

/* The kernel must not depend on a libgcc popcount: count by hand. */
static u32 count_pairs(u64 x)
{
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (x * 0x0101010101010101ULL) >> 56;
}

void pd_sm_bitmap_count_free(const void *block, u32 end, u32 *nr_free,
			     u32 *first_free)
{
	const __le64 *words = bitmap_words(block);
	u32 w, n = 0, first = end;
	u64 free;

	if (end > PD_SM_ENTRIES_PER_BITMAP)
		end = PD_SM_ENTRIES_PER_BITMAP;

	for (w = 0; w * ENTRIES_PER_WORD < end; w++) {
		free = ~used_pairs(words[w]) & PAIR_LOW_BITS;
		if (end - w * ENTRIES_PER_WORD < ENTRIES_PER_WORD)
			free &= pairs_below(end - w * ENTRIES_PER_WORD);
		if (free && first == end)
			first = w * ENTRIES_PER_WORD + __builtin_ctzll(free) / 2;
		n += count_pairs(free);
	}

	*nr_free = n;
	*first_free = first;
}

void pd_sm_index_entry_unpack(const struct disk_index_entry *d,
			      struct pd_sm_index_entry *ie)
{
	ie->blocknr = le64_to_cpu(d->blocknr);
	ie->nr_free = le32_to_cpu(d->nr_free);
	ie->none_free_before = le32_to_cpu(d->none_free_before);
}

void pd_sm_index_entry_pack(const struct pd_sm_index_entry *ie,
			    struct disk_index_entry *d)
{
	d->blocknr = cpu_to_le64(ie->blocknr);
	d->nr_free = cpu_to_le32(ie->nr_free);
	d->none_free_before = cpu_to_le32(ie->none_free_before);
}

/*
 * Bitmap and index blocks share their header layout: csum, a 32-bit pad,
 * then the block's own location.
 */
static void header_prepare(void *data, pd_block_t location, u32 xor)
{
	struct disk_bitmap_header *h = data;

	h->blocknr = cpu_to_le64(location);
	h->csum = cpu_to_le32(pd_block_checksum(&h->not_used,
						PD_BLOCK_SIZE - sizeof(__le32),
						xor));
}

static int header_check(const char *what, const void *data,
			pd_block_t location, u32 xor)
{
	const struct disk_bitmap_header *h = data;
	u32 csum;

	if (le64_to_cpu(h->blocknr) != location) {
		pr_err("%s check failed: block %llu claims to be block %llu\n",
		       what, (unsigned long long)location,
		       (unsigned long long)le64_to_cpu(h->blocknr));
		return -ENOTBLK;
	}

	csum = pd_block_checksum(&h->not_used, PD_BLOCK_SIZE - sizeof(__le32),
				 xor);
	if (csum != le32_to_cpu(h->csum)) {
		pr_err("%s check failed: block %llu csum %u, wanted %u\n",
		       what, (unsigned long long)location,
		       le32_to_cpu(h->csum), csum);
		return -EILSEQ;
	}

	return 0;
}

static void bitmap_prepare_for_write(const struct pd_block_validator *v,
				     void *data, pd_block_t location)
{
	header_prepare(data, location, BITMAP_CSUM_XOR);
}

static int bitmap_check(const struct pd_block_validator *v, const void *data,
			pd_block_t location)
{
	return header_check("sm bitmap", data, location, BITMAP_CSUM_XOR);
}

const struct pd_block_validator pd_sm_bitmap_validator = {
	.name = "sm_bitmap",
	.prepare_for_write = bitmap_prepare_for_write,
	.check = bitmap_check,
};

static void index_prepare_for_write(const struct pd_block_validator *v,
				    void *data, pd_block_t location)
{
	header_prepare(data, location, INDEX_CSUM_XOR);
}

static int index_check(const struct pd_block_validator *v, const void *data,
		       pd_block_t location)
{
	return header_check("sm index", data, location, INDEX_CSUM_XOR);
}

const struct pd_block_validator pd_sm_index_validator = {
	.name = "sm_index",
	.prepare_for_write = index_prepare_for_write,
	.check = index_check,
};

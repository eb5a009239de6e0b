// SPDX-License-Identifier: GPL-2.0-only
/*
 * The thin-pool superblock: its validator, the feature checks made on open,
 * and the two ways it is written (at format, and at every commit).
 *
 * Block 0 is not copy-on-write: it is rewritten in place, last, once every
 * block it points at is durable.
 */
#include "thin-internal.h"

static void sb_prepare_for_write(const struct pd_block_validator *v,
				 void *data, pd_block_t location)
{
	struct thin_disk_superblock *sb = data;

	sb->blocknr = cpu_to_le64(location);
	sb->csum = cpu_to_le32(pd_block_checksum(&sb->flags,
						 PD_BLOCK_SIZE - sizeof(__le32),
						 SUPERBLOCK_CSUM_XOR));
}

static int sb_check(const struct pd_block_validator *v, const void *data,
		    pd_block_t location)
{
	const struct thin_disk_superblock *sb = data;
	u32 csum;

	if (le64_to_cpu(sb->blocknr) != location) {
		pr_err(THIN_MSG "superblock location %llu, expected %llu\n",
		       (unsigned long long)le64_to_cpu(sb->blocknr),
		       (unsigned long long)location);
		return -ENOTBLK;
	}
	if (le64_to_cpu(sb->magic) != THIN_SUPERBLOCK_MAGIC) {
		pr_err(THIN_MSG "superblock magic %llu, expected %llu\n",
		       (unsigned long long)le64_to_cpu(sb->magic),
		       (unsigned long long)THIN_SUPERBLOCK_MAGIC);
		return -EILSEQ;
	}
	csum = pd_block_checksum(&sb->flags, PD_BLOCK_SIZE - sizeof(__le32),
				 SUPERBLOCK_CSUM_XOR);
	if (csum != le32_to_cpu(sb->csum)) {
		pr_err(THIN_MSG "superblock checksum %08x, expected %08x\n",
		       le32_to_cpu(sb->csum), csum);
		return -EILSEQ;
	}
	return 0;
}

const struct pd_block_validator thin_sb_validator = {
	.name = "superblock",
	.prepare_for_write = sb_prepare_for_write,
	.check = sb_check,
};

/* Block 0 is read once without any checking to tell "never formatted". */
static void raw_prepare_for_write(const struct pd_block_validator *v,
				  void *data, pd_block_t location)
{
}

static int raw_check(const struct pd_block_validator *v, const void *data,
		     pd_block_t location)
{
	return 0;
}

static const struct pd_block_validator raw_validator = {
	.name = "raw",
	.prepare_for_write = raw_prepare_for_write,
	.check = raw_check,
};

int thin_sb_is_all_zeroes(struct pd_block_manager *bm, bool *result)
{
	struct pd_block *b;
	const __le64 *words;
	unsigned int i;
	int r;

	r = pd_bm_read_lock(bm, THIN_SUPERBLOCK_LOCATION, &raw_validator, &b);
	if (r)
		return r;

	words = pd_block_data(b);
	*result = true;
	for (i = 0; i < PD_BLOCK_SIZE / sizeof(*words); i++) {
		if (words[i]) {
			*result = false;
			break;
		}
	}
	pd_bm_unlock(b);

	/* Forget the raw copy so block 0 can be locked with its validator. */
	pd_bm_invalidate(bm);
	return 0;
}

int thin_sb_check_features(const struct thin_disk_superblock *sb,
			   bool read_only)
{
	u32 features;

	features = le32_to_cpu(sb->incompat_flags);
	if (features) {
		pr_err(THIN_MSG "unsupported incompatible features %#x\n",
		       features);
		return -EINVAL;
	}

	/* compat_ro features may be ignored only if we never write. */
	features = le32_to_cpu(sb->compat_ro_flags);
	if (features && !read_only) {
		pr_err(THIN_MSG "unsupported features %#x: open read-only\n",
		       features);
		return -EINVAL;
	}
	return 0;
}

static int save_sm_roots(struct thin_metadata *tmd,
			 u8 *data_root, u8 *metadata_root)
{
	int r;

	memset(data_root, 0, THIN_SPACE_MAP_ROOT_SIZE);
	memset(metadata_root, 0, THIN_SPACE_MAP_ROOT_SIZE);

	r = pd_sm_copy_root(tmd->data_sm, data_root, THIN_SPACE_MAP_ROOT_SIZE);
	if (r)
		return r;
	return pd_sm_copy_root(tmd->metadata_sm, metadata_root,
			       THIN_SPACE_MAP_ROOT_SIZE);
}

static void fill_roots(struct thin_metadata *tmd,
		       struct thin_disk_superblock *sb,
		       const u8 *data_root, const u8 *metadata_root)
{
	memcpy(sb->data_space_map_root, data_root, THIN_SPACE_MAP_ROOT_SIZE);
	memcpy(sb->metadata_space_map_root, metadata_root,
	       THIN_SPACE_MAP_ROOT_SIZE);
	sb->data_mapping_root = cpu_to_le64(tmd->root);
	sb->device_details_root = cpu_to_le64(tmd->details_root);
	sb->held_root = cpu_to_le64(tmd->held_root);
	sb->time = cpu_to_le32(tmd->time);
	sb->trans_id = cpu_to_le64(tmd->trans_id);
	sb->flags = cpu_to_le32(tmd->flags);
}

/*
 * The space maps are committed first: a root copied before their commit
 * would describe bitmaps that are about to move.
 */
static int write_sb(struct thin_metadata *tmd, bool initial)
{
	u8 data_root[THIN_SPACE_MAP_ROOT_SIZE];
	u8 metadata_root[THIN_SPACE_MAP_ROOT_SIZE];
	struct thin_disk_superblock *sb;
	struct pd_block *sblock;
	pd_block_t nr_blocks;
	int r;

	r = pd_sm_commit(tmd->data_sm);
	if (r)
		return r;
	r = pd_tm_pre_commit(tmd->tm);
	if (r)
		return r;
	r = save_sm_roots(tmd, data_root, metadata_root);
	if (r)
		return r;

	if (initial)
		r = pd_bm_write_lock_zero(tmd->bm, THIN_SUPERBLOCK_LOCATION,
					  &thin_sb_validator, &sblock);
	else
		r = pd_bm_write_lock(tmd->bm, THIN_SUPERBLOCK_LOCATION,
				     &thin_sb_validator, &sblock);
	if (r)
		return r;

	sb = pd_block_data(sblock);
	if (initial) {
		nr_blocks = min_t(pd_block_t, pd_bm_nr_blocks(tmd->bm),
				  PD_METADATA_MAX_BLOCKS);
		sb->magic = cpu_to_le64(THIN_SUPERBLOCK_MAGIC);
		sb->version = cpu_to_le32(THIN_VERSION);
		sb->data_block_size = cpu_to_le32(tmd->data_block_size);
		sb->metadata_block_size =
			cpu_to_le32(THIN_METADATA_BLOCK_SECTORS);
		sb->metadata_nr_blocks = cpu_to_le64(nr_blocks);
	}
	fill_roots(tmd, sb, data_root, metadata_root);
	return pd_tm_commit(tmd->tm, sblock);
}

int thin_sb_write_initial(struct thin_metadata *tmd)
{
	return write_sb(tmd, true);
}

int thin_sb_commit(struct thin_metadata *tmd)
{
	return write_sb(tmd, false);
}

/* Keep the superblock as last committed: an abort may need it back. */
int thin_sb_remember(struct thin_metadata *tmd)
{
	struct pd_block *sblock;
	int r;

	r = pd_bm_read_lock(tmd->bm, THIN_SUPERBLOCK_LOCATION,
			    &thin_sb_validator, &sblock);
	if (r)
		return r;
	memcpy(&tmd->committed_sb, pd_block_data(sblock),
	       sizeof(tmd->committed_sb));
	pd_bm_unlock(sblock);
	return 0;
}

/*
 * A commit that failed after updating block 0 in the cache leaves it dirty
 * with roots that never became durable; reopening from it (or writing it
 * later) would expose them. Put the committed contents back first.
 */
int thin_sb_restore_committed(struct thin_metadata *tmd)
{
	struct pd_block *sblock;
	bool same;
	int r;

	r = pd_bm_read_lock(tmd->bm, THIN_SUPERBLOCK_LOCATION,
			    &thin_sb_validator, &sblock);
	if (r)
		return r;
	same = !memcmp(pd_block_data(sblock), &tmd->committed_sb,
		       sizeof(tmd->committed_sb));
	pd_bm_unlock(sblock);
	if (same)
		return 0;

	pr_warn(THIN_MSG "restoring the superblock of the last commit\n");
	r = pd_bm_write_lock(tmd->bm, THIN_SUPERBLOCK_LOCATION,
			     &thin_sb_validator, &sblock);
	if (r)
		return r;
	memcpy(pd_block_data(sblock), &tmd->committed_sb,
	       sizeof(tmd->committed_sb));
	pd_bm_unlock(sblock);
	return 0;
}

/*
 * Write block 0 as last committed (committed_sb, with whatever flags it
 * carries) and flush. Used to record needs_check outside a commit: block 0
 * then names exactly the roots of the last commit, every one of which is
 * durable and unchanged (a transaction only ever writes blocks that are free
 * in the committed space maps), so no uncommitted root can be exposed; only
 * the flags word differs from what is on disk. The block is built from the
 * in-core copy, not read: a superblock left dirty by a commit that failed
 * half way must not be written out.
 */
int thin_sb_write_committed(struct thin_metadata *tmd)
{
	struct pd_block *sblock;
	int r;

	r = pd_bm_write_lock_zero(tmd->bm, THIN_SUPERBLOCK_LOCATION,
				  &thin_sb_validator, &sblock);
	if (r)
		return r;
	memcpy(pd_block_data(sblock), &tmd->committed_sb,
	       sizeof(tmd->committed_sb));
	pd_bm_unlock(sblock);
	return pd_bm_flush(tmd->bm);
}

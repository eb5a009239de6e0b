#!/bin/sh
# `ctpool meta restore` refuses a superblock no pool could use (issue 12):
# data_block_size 0, not a multiple of 128 sectors, outside dm-thin's 128 ..
# 2097152, and nr_data_blocks whose size in sectors overflows 64 bits. Each
# is a clear error naming the field, and the output holds no metadata a
# pool would open (restore wipes its superblock first, as thin_restore
# does); the edge values that are valid restore and pass thin_check.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
. "$(dirname "$0")/meta-lib.bash"
need "$CTPOOL"

xml() { # data_block_size nr_data_blocks
	printf '<superblock uuid="" time="0" transaction="1" version="2" data_block_size="%s" nr_data_blocks="%s">\n</superblock>\n' "$1" "$2"
}

refused() { # CASE dbs nr want-in-message
	CASE=$1
	xml "$2" "$3" > "$WORK/$CASE.xml"
	blank "$WORK/$CASE.img" 8
	if "$CTPOOL" meta restore -i "$WORK/$CASE.xml" -o "$WORK/$CASE.img" > "$WORK/$CASE.out" 2>&1; then
		fail "restore of data_block_size=$2 nr_data_blocks=$3 succeeded"
	elif ! grep -q "$4" "$WORK/$CASE.out"; then
		fail "no clear error: $(head -n 2 "$WORK/$CASE.out")"
	elif "$CTPOOL" meta check -q "$WORK/$CASE.img" > /dev/null 2>&1; then
		fail "the output holds valid metadata"
	else
		pass
	fi
	echo "$CASE: $(head -n 1 "$WORK/$CASE.out")"
}

accepted() { # CASE dbs nr
	CASE=$1
	xml "$2" "$3" > "$WORK/$CASE.xml"
	blank "$WORK/$CASE.img" 8
	if ! "$CTPOOL" meta restore -i "$WORK/$CASE.xml" -o "$WORK/$CASE.img" > "$WORK/$CASE.out" 2>&1; then
		fail "valid data_block_size=$2 refused: $(head -n 2 "$WORK/$CASE.out")"
	elif command -v thin_check > /dev/null && ! thin_check -q "$WORK/$CASE.img" > /dev/null 2>&1; then
		fail "thin_check fails on the result"
	else
		pass
	fi
}

refused dbs-zero 0 1024 'data_block_size="0"'
refused dbs-64 64 1024 'data_block_size="64"'
refused dbs-odd 129 1024 'data_block_size="129"'
refused dbs-not-multiple 192 1024 'data_block_size="192"'
refused dbs-too-big 4194304 1024 'data_block_size="4194304"'
refused nr-overflow 128 144115188075855872 'nr_data_blocks="144115188075855872"'
accepted dbs-min 128 1024
accepted dbs-max 2097152 16
finish

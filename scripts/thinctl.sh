#!/bin/sh
# Lifecycle of a thin pool and its thin devices with plain dmsetup, for the
# kernel's dm-thin and for ctpool alike: only the target names differ.
#
# usage: thinctl.sh [-k|-c] COMMAND ARGS...
#   -k   kernel dm-thin names (thin-pool / thin)
#   -c   ctpool names (ctpool / ctthin; the default)
#   env POOL_TARGET / THIN_TARGET override either.
#
# commands (SIZE: sectors, or with a K/M/G suffix):
#   pool-create POOL METADEV DATADEV [BLOCK_SECTORS [LOW_WATER [FEATURE...]]]
#        zero the metadata superblock (so the target formats it) and activate
#   pool-activate POOL METADEV DATADEV [BLOCK_SECTORS [LOW_WATER [FEATURE...]]]
#        activate on existing metadata
#   pool-status POOL [FIELD]   whole status line, or one FIELD of it:
#        transaction-id used-meta total-meta used-data total-data held-root
#        mode discard no-space needs-check meta-low-water
#   pool-remove POOL
#   thin-create POOL ID NAME SIZE              create_thin ID, then activate it
#   thin-activate POOL ID NAME SIZE [ORIGIN]   activate (ORIGIN: external origin dev)
#   thin-status NAME [mapped-sectors|highest-sector]
#   snap-create POOL ID ORIGIN_ID [ORIGIN_NAME]
#        create_snap; if ORIGIN_NAME is an active device it is suspended around it
#   thin-remove NAME                           deactivate
#   thin-delete POOL ID                        delete from the pool's metadata
# Defaults: BLOCK_SECTORS 128 (64 KiB), LOW_WATER 0.
set -eu

POOL_TARGET=${POOL_TARGET:-ctpool}
THIN_TARGET=${THIN_TARGET:-ctthin}

die() { echo "thinctl: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

# to_sectors SIZE: "123" sectors, or 4K / 32M / 2G.
to_sectors() {
	case $1 in
	*[Kk]) echo $(( ${1%?} * 2 )) ;;
	*[Mm]) echo $(( ${1%?} * 2048 )) ;;
	*[Gg]) echo $(( ${1%?} * 2048 * 1024 )) ;;
	*[!0-9]*|"") die "bad size: $1" ;;
	*) echo "$1" ;;
	esac
}

pool_table() {
	meta=$1 data=$2 bs=128 lw=0
	shift 2
	if [ $# -gt 0 ]; then bs=$1; shift; fi
	if [ $# -gt 0 ]; then lw=$1; shift; fi
	[ -b "$meta" ] || die "not a block device: $meta"
	[ -b "$data" ] || die "not a block device: $data"
	len=$(blockdev --getsz "$data")
	len=$(( len / bs * bs ))   # whole data blocks only
	[ "$len" -gt 0 ] || die "$data is smaller than one block"
	echo "0 $len $POOL_TARGET $meta $data $bs $lw $# $*"
}

pool_create() {
	[ $# -ge 3 ] || usage
	# An all-zero superblock is what makes the target format new metadata.
	dd if=/dev/zero of="$2" bs=4096 count=1 oflag=direct conv=notrunc status=none
	pool_activate "$@"
}

pool_activate() {
	[ $# -ge 3 ] || usage
	name=$1; shift
	table=$(pool_table "$@")
	dmsetup create "$name" --table "$table"
}

pool_status() {
	[ $# -ge 1 ] || usage
	st=$(dmsetup status "$1")
	[ $# -ge 2 ] || { echo "$st"; return; }
	# "0 LEN TARGET tid used/total used/total held mode discard nospace check lw"
	set -- "$2" $(echo "$st" | tr / ' ')
	case $1 in
	transaction-id) echo "$5" ;;
	used-meta) echo "$6" ;;
	total-meta) echo "$7" ;;
	used-data) echo "$8" ;;
	total-data) echo "$9" ;;
	held-root) shift; echo "$9" ;;
	mode) shift 2; echo "$9" ;;
	discard) shift 3; echo "$9" ;;
	no-space) shift 4; echo "$9" ;;
	needs-check) shift 5; echo "$9" ;;
	meta-low-water) shift 6; echo "$9" ;;
	*) die "unknown pool status field: $1" ;;
	esac
}

thin_activate() {
	[ $# -ge 4 ] || usage
	pool=$1 id=$2 name=$3 size=$(to_sectors "$4")
	dmsetup create "$name" --table "0 $size $THIN_TARGET /dev/mapper/$pool $id${5:+ $5}"
}

thin_create() {
	[ $# -ge 4 ] || usage
	dmsetup message "$1" 0 "create_thin $2"
	thin_activate "$@"
}

thin_status() {
	[ $# -ge 1 ] || usage
	st=$(dmsetup status "$1")
	case ${2:-} in
	"") echo "$st" ;;
	mapped-sectors) echo "$st" | cut -d' ' -f4 ;;
	highest-sector) echo "$st" | cut -d' ' -f5 ;;
	*) die "unknown thin status field: $2" ;;
	esac
}

snap_create() {
	[ $# -ge 3 ] || usage
	pool=$1 id=$2 origin=$3 oname=${4:-}
	# Writes racing with create_snap could land in blocks the snapshot then
	# shares; suspending the origin flushes and holds them.
	if [ -n "$oname" ] && dmsetup info "$oname" >/dev/null 2>&1; then
		dmsetup suspend "$oname"
		rc=0
		dmsetup message "$pool" 0 "create_snap $id $origin" || rc=$?
		dmsetup resume "$oname"
		return $rc
	fi
	dmsetup message "$pool" 0 "create_snap $id $origin"
}

while getopts kch opt; do
	case $opt in
	k) POOL_TARGET=thin-pool THIN_TARGET=thin ;;
	c) POOL_TARGET=ctpool THIN_TARGET=ctthin ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
cmd=$1; shift

case $cmd in
pool-create) pool_create "$@" ;;
pool-activate) pool_activate "$@" ;;
pool-status) pool_status "$@" ;;
pool-remove) [ $# -eq 1 ] || usage; dmsetup remove "$1" ;;
thin-create) thin_create "$@" ;;
thin-activate) thin_activate "$@" ;;
thin-status) thin_status "$@" ;;
snap-create) snap_create "$@" ;;
thin-remove) [ $# -eq 1 ] || usage; dmsetup remove "$1" ;;
thin-delete) [ $# -eq 2 ] || usage; dmsetup message "$1" 0 "delete $2" ;;
*) usage ;;
esac

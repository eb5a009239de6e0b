#!/bin/sh
# Seed corpora of the fuzz targets, into DIR/<target>/.
# usage: make-seeds.sh DIR [CTPOOL_BIN]
set -eu
dir=$1 ctpool=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$dir"
mkdir -p "$dir/meta" "$dir/meta-restore" "$dir/target-args"

cp "$here"/seeds/tables/* "$dir/target-args/"
cp "$here"/seeds/xml/*.xml "$dir/meta-restore/"

truncate -s 64K "$dir/meta/zero.img"
for x in "$here"/seeds/xml/*.xml; do
	n=$(basename "$x" .xml)
	truncate -s 256K "$dir/meta/tr-$n.img"
	thin_restore -q -i "$x" -o "$dir/meta/tr-$n.img" >/dev/null 2>&1 ||
		thin_restore -i "$x" -o "$dir/meta/tr-$n.img" >/dev/null
	if [ -n "$ctpool" ] && [ -x "$ctpool" ]; then
		truncate -s 256K "$dir/meta/ct-$n.img"
		"$ctpool" meta restore -i "$x" -o "$dir/meta/ct-$n.img" >/dev/null 2>&1 ||
			rm -f "$dir/meta/ct-$n.img"
	fi
done

# Copies whose last byte is odd: fuzz-meta-open fixes up their checksums.
for f in "$dir"/meta/*.img; do
	cp "$f" "${f%.img}-fixsum.img"
	printf '\001' | dd of="${f%.img}-fixsum.img" bs=1 seek=$(( $(stat -c %s "$f") - 1 )) conv=notrunc status=none
done
echo "seeds: $(ls "$dir/meta" | wc -l) images, $(ls "$dir/target-args" | wc -l) table/message strings, $(ls "$dir/meta-restore" | wc -l) XML"

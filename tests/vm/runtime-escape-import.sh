#!/bin/bash
# vm-options: --disk 64M --disk 512M
# Issue 12, finding 1: a layered image must not write outside itself. A parent
# layer plants symlinks out of the image (evil -> a host directory, root -> /,
# up -> ../../..); child layers (`image import --parent`, run as root) then
# write through them: a file alone, a directory then a file, a path through
# root -> /, a relative climb, a hard link to a host file. Each import either
# fails or lands the write inside the image; the host directory never changes.
# Device nodes in a layer are skipped. An archive named like "alpine:3.19.tar"
# is a local file, not a remote tar host.
. "$(dirname "$0")/cli-lib.bash"
load_targets

runtime_setup
host_dir_setup   # the host directory every layer aims at

# the layers, built with python's tarfile: GNU tar cannot write a lone entry
# below a symlink, nor a hard link to an arbitrary name
$PY - "$T_WORK" "$HOST" "$(stat -c '%t %T' "$DDEV")" <<'EOF'
import io, sys, tarfile
work, host, dev = sys.argv[1], sys.argv[2], sys.argv[3].split()
def layer(name, *members):
    with tarfile.open(f"{work}/{name}", "w", format=tarfile.PAX_FORMAT) as t:
        for kind, path, arg in members:
            i = tarfile.TarInfo(path)
            i.mtime = 1700000000
            data = None
            if kind == "f":
                data = arg.encode(); i.size = len(data); i.mode = 0o644
            elif kind == "d":
                i.type = tarfile.DIRTYPE; i.mode = 0o755
            elif kind == "l":
                i.type = tarfile.SYMTYPE; i.linkname = arg
            elif kind == "h":
                i.type = tarfile.LNKTYPE; i.linkname = arg
            elif kind == "c":
                i.type = tarfile.CHRTYPE; i.devmajor, i.devminor = int(dev[0], 16), int(dev[1], 16)
            t.addfile(i, io.BytesIO(data) if data is not None else None)
rel = host.lstrip("/")
layer("links.tar", ("l", "evil", host), ("l", "root", "/"), ("l", "up", "../../../../../../../../.."))
layer("file.tar", ("f", "evil/sentinel", "overwritten by a layer"), ("f", "evil/new", "pwned"))
layer("dir.tar", ("d", "evil", None), ("f", "evil/new", "pwned-dir"))
layer("abs.tar", ("f", f"root/{rel}/new", "via-root"))
layer("up.tar", ("f", f"up/{rel}/sub/new", "via-up"))
layer("hard.tar", ("h", "stolen", "evil/sentinel"))
layer("dev.tar", ("c", "dev/disk", None), ("f", "etc/dev-layer", "dev-layer"))
EOF

no_image() { expect_eq "$2: no partial image left" "$(ctpool image list --json | jsel "$1" | wc -l)" 0; }

ctpool image import bb "$T_WORK/bb.tar.gz" --size 16M
ctpool image import links "$T_WORK/links.tar" --parent bb
expect_eq "parent layer keeps its symlinks as they are" "$(echo $(in_volume links 'readlink $M/evil $M/root $M/up'))" "$HOST / ../../../../../../../../.."

# a file below evil -> HOST: the name is resolved inside the image, where HOST does not exist
expect_status 1 "child layer writing through evil -> $HOST fails" -- ctpool image import a1 "$T_WORK/file.tar" --parent links
host_untouched "a file through a parent's symlink"
no_image a1 "failed import"

# a directory entry over the symlink replaces it, inside the image
ctpool image import a2 "$T_WORK/dir.tar" --parent links
host_untouched "a directory over a parent's symlink"
expect_eq "the directory replaced the symlink inside the image" "$(echo $(in_volume a2 'stat -c %F $M/evil; cat $M/evil/new'))" "directory pwned-dir"

# through root -> / and up -> ../../..: clamped at the image's root
ctpool image import a3 "$T_WORK/abs.tar" --parent links
host_untouched "a path through root -> /"
expect_eq "the write through root -> / stayed in the image" "$(in_volume a3 "cat \$M$HOST/new")" via-root
ctpool image import a4 "$T_WORK/up.tar" --parent links
host_untouched "a path through up -> ../../.."
expect_eq "the write through up -> ../.. stayed in the image" "$(in_volume a4 "cat \$M$HOST/sub/new")" via-up

# a hard link to the host's file through evil
expect_status 1 "hard link to evil/sentinel fails" -- ctpool image import a5 "$T_WORK/hard.tar" --parent links
host_untouched "a hard link through a parent's symlink"
expect_eq "host file has one link" "$(stat -c %h "$HOST/sentinel")" 1
no_image a5 "failed hard link import"

# device nodes are skipped with a warning, the rest of the layer is unpacked
out=$(ctpool image import d1 "$T_WORK/dev.tar" --parent bb 2>&1)
expect_eq "device node skipped with a warning" "$(echo "$out" | grep -c "skipping device node 'dev/disk'")" 1
expect_eq "no device node in the image, the layer's file is" "$(echo $(in_volume d1 'ls $M/dev | wc -l; cat $M/etc/dev-layer'))" "0 dev-layer"

# "host:file" names are local files (GNU tar would try rsh to host "alpine")
cp "$T_WORK/bb.tar.gz" "$T_WORK/alpine:3.19.tar"
(cd "$T_WORK" && ctpool image import alpine alpine:3.19.tar --size 16M)
expect_eq "alpine:3.19.tar imported as a local file" "$(in_volume alpine 'cat $M/etc/image-release')" image-v1

for i in d1 a4 a3 a2 links alpine bb; do ctpool image rm $i; done
expect_eq "pool empty again" "$(pool_field data_used)" 0
host_untouched "everything"

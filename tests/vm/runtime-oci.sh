#!/bin/bash
# vm-options: --disk 64M --disk 512M
# Issue 16, item 1: OCI image layouts and docker-save archives. A two-layer
# busybox image (built here by oci-image.py: a whiteout, an opaque directory,
# a config) imports from both formats as a chain of thin snapshots (base layer
# <- layer 2 <- image), whiteouts honoured; the docker image shares the base
# layer, stored once; tampered archives are refused by digest with nothing
# left behind; a container runs the image's config with no command given;
# hostile layers (links out of the root used by the next layer, absolute
# names, device nodes, whiteouts of '.' and '..') change nothing outside the
# image; image rm removes the layers no image uses any more.
. "$(dirname "$0")/cli-lib.bash"
load_targets

runtime_setup
host_dir_setup

$PY "$(dirname "$0")/oci-image.py" "$T_WORK/bbroot" "$T_WORK" "$HOST"

layers() { ctpool list --json | jsplit | grep '"kind":"layer"' | sed 's/.*"name":"\([^"]*\)".*/\1/' | sort || true; }
nlayers() { layers | grep -c . || true; }
state() { ctpool list --json | sed 's/"mapped[a-z_]*":[0-9a-z]*//g' | md5sum; }

# ---- OCI layout: a chain of snapshots
ctpool image import bb-oci "$T_WORK/oci.tar" --size 32M
expect_eq "OCI import: two layer volumes" "$(nlayers)" 2
TOP=$(ctpool image list --json | jsel bb-oci | jget parent)
BASE=$(vol_field "$TOP" origin)
expect_eq "the image is a snapshot of its top layer" "$(vol_field bb-oci origin)" "$TOP"
expect_eq "the top layer is a snapshot of the other layer" "$(echo $(layers))" "$(echo $(printf '%s\n' "$BASE" "$TOP" | sort))"
expect_eq "the base layer is a thin of its own" "$(vol_field "$BASE" origin)" null
expect_eq "image list shows the image, not its layers" "$(ctpool image list --json | jcount)" 1
expect_eq "ctpool list marks layers as such" "$(vol_field "$BASE" kind)" layer
expect_eq "whiteout removed etc/image-release, opaque dir kept only this layer's file" \
	"$(echo $(in_volume bb-oci 'ls $M/etc/image-release 2>&1 | grep -c "No such"; ls $M/opt/data; cat $M/app/hello.txt'))" \
	"1 c hello from layer 2"
expect_eq "the base layer is unchanged below it" "$(echo $(in_volume "$BASE" 'cat $M/etc/image-release; ls $M/opt/data'))" "image-v1 a b"
expect_eq "whiteout markers are not unpacked" "$(in_volume bb-oci 'find $M -name ".wh.*" | wc -l')" 0

# ---- docker-save: the base layer is shared
ctpool image import bb-docker "$T_WORK/docker.tar"
DTOP=$(ctpool image list --json | jsel bb-docker | jget parent)
expect_eq "docker import: one new layer (the base is stored once)" "$(nlayers)" 3
expect_eq "docker's second layer is a snapshot of the shared base" "$(vol_field "$DTOP" origin)" "$BASE"
expect_eq "one base volume in the pool" "$(ctpool list --json | jsplit | grep '"kind":"layer"' | grep -c '"origin":null')" 1

# ---- digests: a tampered layer, a layer that does not match its DiffID
BEFORE=$(state)
out=$(ctpool image import bad "$T_WORK/tampered.tar" 2>&1) && fail "tampered layer imported"
expect_eq "tampered layer refused by its digest" "$(echo "$out" | grep -c 'layer.*digest mismatch')" 1
expect_eq "nothing left behind by the tampered import" "$(state)" "$BEFORE"
out=$(ctpool image import bad "$T_WORK/diffid.tar" 2>&1) && fail "layer with a wrong DiffID imported"
expect_eq "layer not matching the config's DiffID refused" "$(echo "$out" | grep -c 'the config says')" 1
expect_eq "nothing left behind by the DiffID import" "$(state)" "$BEFORE"

# ---- the image's config, no command given
ctpool container create c1 --image bb-oci
expect_eq "run without a command: Cmd with Env, WorkingDir, User (nobody from the image's passwd)" \
	"$(echo $(ctpool container run c1))" "hello-oci /app 65534 hello from layer 2"
expect_eq "an explicit command replaces Cmd, Env still applies" \
	"$(ctpool container run c1 -- sh -c 'echo $GREETING $PATH')" "hello-oci /usr/sbin:/usr/bin:/sbin:/bin"
ctpool container create c2 --image bb-docker
expect_eq "docker image: Entrypoint + Cmd, WorkingDir /srv, User 0:0" \
	"$(echo $(ctpool container run c2))" "hello-docker docker layer 0"
expect_eq "docker image: a command replaces Cmd after the Entrypoint" \
	"$(ctpool container run c2 -- 'echo override $GREETING')" "override hello-docker"
ctpool image import flat "$T_WORK/bb.tar.gz" --size 16M
expect_eq "a rootfs tarball still imports as one flat image" "$(vol_field flat origin) $(nlayers)" "null 3"
ctpool container create c3 --image flat
out=$(ctpool container run c3 2>&1) && fail "a flat image ran without a command"
expect_eq "a flat image without a command is refused clearly" "$(echo "$out" | grep -c 'no Entrypoint or Cmd')" 1
expect_eq "a flat image runs the command given" "$(ctpool container run c3 -- cat /etc/image-release)" image-v1
ctpool container rm c3
ctpool image rm flat

# ---- hostile layers
ctpool image import h1 "$T_WORK/hostile-links.tar" --size 16M
host_untouched "whiteouts, an opaque dir and absolute names through symlinks out of the root"
expect_eq "the absolute name landed in the image, the dir replaced the symlink" \
	"$(echo $(in_volume h1 "cat \$M$HOST/abs \$M/evil/new; ls \$M/dev | wc -l"))" "absolute inside 0"
NL=$(nlayers)
for h in dotdot dot hard up; do
	expect_status 1 "hostile layer ($h) refused" -- ctpool image import "h-$h" "$T_WORK/hostile-$h.tar" --size 16M
	host_untouched "hostile-$h"
	expect_eq "no image or layer left by hostile-$h" "$(nlayers) $(ctpool image list --json | jsel "h-$h" | wc -l)" "$NL 0"
done
out=$(ctpool image import h-dotdot "$T_WORK/hostile-dotdot.tar" 2>&1) || true
expect_eq "a whiteout of '..' is named in the error" "$(echo "$out" | grep -c "refusing whiteout 'etc/.wh...'")" 1

# ---- removal: layers go with the last image using them
expect_status 1 "image rm refused while a container uses it" -- ctpool image rm bb-oci 2>/dev/null
expect_status 1 "a layer is not an image" -- ctpool image rm "$BASE" 2>/dev/null
expect_status 1 "a layer is not deleted as a volume" -- ctpool delete "$BASE" 2>/dev/null
ctpool container rm c1
ctpool image rm bb-oci
expect_eq "bb-oci's own layer removed, the shared base kept" "$(layers | grep -c "^$TOP$\|^$BASE$" || true) $(vol_field "$BASE" kind)" "1 layer"
ctpool container rm c2
ctpool image rm bb-docker
ctpool image rm h1
expect_eq "all layers gone with the last images" "$(nlayers)" 0
ctpool image import bb-oci "$T_WORK/oci.tar" --size 32M
ctpool image rm bb-oci
expect_eq "pool empty again" "$(pool_field data_used)" 0
host_untouched "everything"

#!/usr/bin/env python3
# Builds the image archives tests/vm/runtime-oci.sh imports (no registry is
# reachable here): from a busybox root directory ROOT, into OUT:
#   oci.tar        OCI image layout, two gzip layers: busybox; then a layer with
#                  /app, a whiteout of etc/image-release and an opaque opt/data
#                  (its new file comes before the opaque marker in the tar)
#   docker.tar     docker-save archive (manifest.json, <id>.json, <id>/layer.tar):
#                  the same base layer, another second layer, an Entrypoint
#   tampered.tar   oci.tar with a byte of layer 2 changed (manifest not updated)
#   diffid.tar     layer 2 changed and the manifest updated, the config's
#                  diff_ids not: only the DiffID check catches it
#   hostile-*.tar  layers aiming at HOST: symlinks out of the root (layer 1)
#                  used by layer 2 (files, whiteouts, an opaque dir through
#                  them), absolute names, a device node; a whiteout of '..';
#                  a hard link through a symlink; a '..' name
# usage: oci-image.py ROOT OUT HOST
import gzip, hashlib, io, json, os, sys, tarfile

ROOT, OUT, HOST = sys.argv[1:4]
MTIME = 1700000000


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def add(t, kind, name, arg):
    """kind: f(ile) d(ir) l(symlink) h(ardlink) c(har device)."""
    i = tarfile.TarInfo(name)
    i.mtime = MTIME
    data = None
    if kind == "f":
        data = arg.encode()
        i.size, i.mode = len(data), 0o644
    elif kind == "d":
        i.type, i.mode = tarfile.DIRTYPE, 0o755
    elif kind == "l":
        i.type, i.linkname = tarfile.SYMTYPE, arg
    elif kind == "h":
        i.type, i.linkname = tarfile.LNKTYPE, arg
    elif kind == "c":
        i.type, i.devmajor, i.devminor = tarfile.CHRTYPE, 1, 3
    t.addfile(i, io.BytesIO(data) if data is not None else None)


def tar_bytes(members, root=None):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        if root:
            def fix(i):
                i.mtime = MTIME
                return i
            t.add(root, arcname=".", filter=fix)
        for m in members:
            add(t, *m)
    return buf.getvalue()


def config(diff_ids, cfg):
    return json.dumps({"architecture": "amd64", "os": "linux", "config": cfg,
                       "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()


def write_tar(path, files):
    """files: (name, bytes) in order."""
    with tarfile.open(path, "w") as t:
        for name, data in files:
            i = tarfile.TarInfo(name)
            i.size, i.mtime, i.mode = len(data), MTIME, 0o644
            t.addfile(i, io.BytesIO(data))


def oci(path, layers, cfg, diff_ids=None, tamper=None):
    """layers: uncompressed tars. tamper(i, blob) may change a compressed layer."""
    blobs, descs = [], []
    ids = diff_ids or [sha(l) for l in layers]
    for n, l in enumerate(layers):
        z = gzip.compress(l, mtime=0)
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                      "digest": sha(z), "size": len(z)})
        # stored under the digest the manifest names, whatever tamper does to it
        blobs.append((sha(z), tamper(n, z) if tamper else z))
    c = config(ids, cfg)
    m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                               "digest": sha(c), "size": len(c)},
                    "layers": descs}).encode()
    idx = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                      "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                     "digest": sha(m), "size": len(m),
                                     "platform": {"architecture": "amd64", "os": "linux"}}]}).encode()
    files = [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", idx)]
    for d, b in [(sha(m), m), (sha(c), c)] + blobs:
        files.append(("blobs/sha256/" + d[7:], b))
    write_tar(path, files)


def docker(path, layers, cfg):
    c = config([sha(l) for l in layers], cfg)
    cname = sha(c)[7:] + ".json"
    files, paths = [], []
    for l in layers:
        d = hashlib.sha256(b"v1" + l).hexdigest()
        files += [(d + "/VERSION", b"1.0"), (d + "/json", b"{}"), (d + "/layer.tar", l)]
        paths.append(d + "/layer.tar")
    man = json.dumps([{"Config": cname, "RepoTags": ["bb:latest"], "Layers": paths}]).encode()
    write_tar(path, [(cname, c)] + files + [("manifest.json", man)])


base = tar_bytes([("d", "opt", None), ("d", "opt/data", None), ("f", "opt/data/a", "a\n"),
                  ("f", "opt/data/b", "b\n")], root=ROOT)
app = [("d", "app", None), ("f", "app/hello.txt", "hello from layer 2\n"),
       ("f", "opt/data/c", "c\n"), ("f", "opt/data/.wh..wh..opq", ""),
       ("f", "etc/.wh.image-release", "")]
oci_cfg = {"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "GREETING=hello-oci"],
           "Cmd": ["sh", "-c", "echo $GREETING; pwd; id -u; cat hello.txt"],
           "WorkingDir": "/app", "User": "nobody"}
layer2 = tar_bytes(app)
oci(f"{OUT}/oci.tar", [base, layer2], oci_cfg)

dk2 = tar_bytes([("d", "srv", None), ("f", "srv/motd", "docker layer\n")])
docker(f"{OUT}/docker.tar", [base, dk2],
       {"Env": ["GREETING=hello-docker"], "Entrypoint": ["/bin/sh", "-c"],
        "Cmd": ["echo $GREETING; cat motd; id -u"], "WorkingDir": "/srv", "User": "0:0"})


def flip(n, z):
    if n != 1:
        return z
    b = bytearray(z)
    b[len(b) // 2] ^= 0xff
    return bytes(b)


oci(f"{OUT}/tampered.tar", [base, layer2], oci_cfg, tamper=flip)
evil2 = tar_bytes(app + [("f", "app/extra", "not what the config says\n")])
oci(f"{OUT}/diffid.tar", [base, evil2], oci_cfg, diff_ids=[sha(base), sha(layer2)])

rel = HOST.lstrip("/")
links = tar_bytes([("l", "evil", HOST), ("l", "root", "/"), ("l", "up", "../../../../../../.."),
                   ("d", "etc", None), ("f", "etc/passwd", "root:x:0:0::/:/bin/sh\n")])
through = tar_bytes([("f", "evil/.wh.sentinel", ""), ("f", f"root/{rel}/.wh.sentinel", ""),
                     ("f", f"up/{rel}/.wh.sub", ""), ("f", "evil/.wh..wh..opq", ""),
                     ("f", f"root/{rel}/sub/.wh..wh..opq", ""),
                     ("f", f"/{rel}/abs", "absolute\n"), ("c", "dev/mem", None),
                     ("d", "evil", None), ("f", "evil/new", "inside\n")])
oci(f"{OUT}/hostile-links.tar", [links, through], {"Cmd": ["sh"]})
oci(f"{OUT}/hostile-dotdot.tar", [links, tar_bytes([("f", "etc/.wh...", "")])], {})
oci(f"{OUT}/hostile-dot.tar", [links, tar_bytes([("f", ".wh..", "")])], {})
oci(f"{OUT}/hostile-hard.tar", [links, tar_bytes([("h", "stolen", "evil/sentinel")])], {})
oci(f"{OUT}/hostile-up.tar", [links, tar_bytes([("f", "../escape", "x\n")])], {})

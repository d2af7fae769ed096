#!/usr/bin/env python3
"""packaging/kubernetes/*.yaml: valid YAML with the fields Kubernetes
requires, the DaemonSet as README.md describes it, and a ConfigMap that is
packaging/kubernetes/cgsentry.conf and that cgsentryd accepts.

Usage: manifests.py SOURCE_DIR BUILD_DIR. Exit 77 (skipped) without PyYAML
(python3-yaml; tools/deps.sh installs it).
"""
import glob
import os
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:
    print("SKIPPED: python3-yaml is not installed (tools/deps.sh installs it)")
    sys.exit(77)

SRC, BUILD = sys.argv[1], sys.argv[2]
KDIR = os.path.join(SRC, "packaging", "kubernetes")
passed = failed = 0


def check(what, ok):
    global passed, failed
    print(("ok - " if ok else "not ok - ") + what)
    if ok:
        passed += 1
    else:
        failed += 1


def get(d, *path, default=None):
    for p in path:
        if isinstance(d, dict) and p in d:
            d = d[p]
        elif isinstance(d, list) and isinstance(p, int) and p < len(d):
            d = d[p]
        else:
            return default
    return d


# What the API server refuses a document without (apiVersion, kind,
# metadata.name) and, per kind, the fields its schema requires.
REQUIRED = {
    "Namespace": [],
    "ServiceAccount": [],
    "ConfigMap": [],
    "DaemonSet": [("spec", "selector"), ("spec", "template")],
}
DNS_LABEL = set("abcdefghijklmnopqrstuvwxyz0123456789-")

docs = []
files = sorted(glob.glob(os.path.join(KDIR, "*.yaml")))
check("packaging/kubernetes has manifests", bool(files))
for f in files:
    name = os.path.basename(f)
    try:
        with open(f) as fh:
            loaded = [d for d in yaml.safe_load_all(fh) if d is not None]
        check(f"{name}: valid YAML ({len(loaded)} documents)", True)
    except yaml.YAMLError as e:
        check(f"{name}: valid YAML ({e})", False)
        continue
    for d in loaded:
        kind = d.get("kind")
        what = f"{name}: {kind} {get(d, 'metadata', 'name')}"
        check(f"{what}: apiVersion, kind and metadata.name",
              bool(d.get("apiVersion")) and bool(kind) and bool(get(d, "metadata", "name")))
        check(f"{what}: a known kind", kind in REQUIRED)
        for path in REQUIRED.get(kind, []):
            check(f"{what}: has {'.'.join(path)}", get(d, *path) is not None)
        n = get(d, "metadata", "name", default="")
        check(f"{what}: the name is a DNS label", bool(n) and set(n) <= DNS_LABEL and len(n) <= 63)
        docs.append(d)

by_kind = {}
for d in docs:
    by_kind.setdefault(d["kind"], []).append(d)
ds = (by_kind.get("DaemonSet") or [None])[0]
check("there is a DaemonSet", ds is not None)
if ds:
    spec = get(ds, "spec", "template", "spec", default={})
    labels = get(ds, "spec", "template", "metadata", "labels", default={})
    sel = get(ds, "spec", "selector", "matchLabels", default={})
    check("DaemonSet: apps/v1", ds["apiVersion"] == "apps/v1")
    check("DaemonSet: the selector matches the template's labels",
          bool(sel) and all(labels.get(k) == v for k, v in sel.items()))
    check("DaemonSet: hostPID", spec.get("hostPID") is True)
    check("DaemonSet: priorityClassName system-node-critical",
          spec.get("priorityClassName") == "system-node-critical")
    cs = spec.get("containers") or []
    check("DaemonSet: one container with a name and an image",
          len(cs) == 1 and bool(cs[0].get("name")) and bool(cs[0].get("image")))
    c = cs[0] if cs else {}
    sc = c.get("securityContext", {})
    check("DaemonSet: not privileged", sc.get("privileged") is not True)
    caps = set(get(sc, "capabilities", "add", default=[]))
    check("DaemonSet: drops every capability, adds only KILL, SYS_RESOURCE, IPC_LOCK",
          get(sc, "capabilities", "drop") == ["ALL"] and caps == {"KILL", "SYS_RESOURCE", "IPC_LOCK"})
    check("DaemonSet: no privilege escalation, read-only root",
          sc.get("allowPrivilegeEscalation") is False and sc.get("readOnlyRootFilesystem") is True)
    res = c.get("resources", {})
    check("DaemonSet: requests and limits, equal (Guaranteed QoS)",
          bool(res.get("requests")) and res.get("requests") == res.get("limits"))
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
    check("DaemonSet: every volumeMount names a volume",
          all(m["name"] in vols for m in mounts.values()))
    check("DaemonSet: the host's cgroupfs mounted read-write at /sys/fs/cgroup",
          "/sys/fs/cgroup" in mounts and not mounts["/sys/fs/cgroup"].get("readOnly")
          and get(vols, mounts["/sys/fs/cgroup"]["name"], "hostPath", "path") == "/sys/fs/cgroup")
    cm_name = get(vols, get(mounts, "/etc/cgsentry", "name", default=""), "configMap", "name")
    check("DaemonSet: the configuration comes from a ConfigMap at /etc/cgsentry", bool(cm_name))
    check("DaemonSet: runs cgsentryd with that configuration",
          c.get("command") == ["/usr/sbin/cgsentryd", "-c", "/etc/cgsentry/cgsentry.conf"])
    cms = [d for d in by_kind.get("ConfigMap", []) if get(d, "metadata", "name") == cm_name]
    check("the ConfigMap the DaemonSet uses exists, in its namespace",
          len(cms) == 1 and get(cms[0], "metadata", "namespace") == get(ds, "metadata", "namespace"))
    with open(os.path.join(KDIR, "cgsentry.conf")) as fh:
        shipped = fh.read()
    text = get(cms[0], "data", "cgsentry.conf", default="") if cms else ""
    check("the ConfigMap's cgsentry.conf is packaging/kubernetes/cgsentry.conf", text == shipped)
    with tempfile.NamedTemporaryFile("w", suffix=".conf") as tmp:
        tmp.write(text)
        tmp.flush()
        r = subprocess.run([os.path.join(BUILD, "daemon", "cgsentryd"), "--check-config", "-c",
                            tmp.name], capture_output=True, text=True)
        check(f"cgsentryd --check-config accepts it ({(r.stdout + r.stderr).strip()})",
              r.returncode == 0)
    check("a marked place for the metrics port", "METRICS:" in open(files[0]).read())

print(f"manifests: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)

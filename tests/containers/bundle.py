#!/usr/bin/env python3
"""Write an OCI bundle for crun/runc: DIR/config.json and an empty rootfs
whose /usr is the host's (bind-mounted read-only), so that sh, sleep and
python3 run in the container without any image.

Usage: bundle.py DIR [--cgroups-path PATH] [--unified FILE=VALUE]...
                     [--oom-score-adj N] [--env K=V]... -- ARGS...
--unified writes cgroup files as the kubelet asks runtimes to (e.g.
memory.max, memory.oom.group); --oom-score-adj is the container's, as the
kubelet sets it per QoS class.
"""
import json
import os
import sys


def main():
    argv = sys.argv[1:]
    if "--" not in argv or not argv:
        sys.exit(__doc__)
    i = argv.index("--")
    opts, args = argv[:i], argv[i + 1:]
    bundle = opts.pop(0)
    cgroups_path = None
    unified = {}
    oom_score_adj = None
    env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/",
           "LANG=C.UTF-8"]
    while opts:
        o = opts.pop(0)
        if o == "--cgroups-path":
            cgroups_path = opts.pop(0)
        elif o == "--env":
            env.append(opts.pop(0))
        elif o == "--unified":
            k, v = opts.pop(0).split("=", 1)
            unified[k] = v
        elif o == "--oom-score-adj":
            oom_score_adj = int(opts.pop(0))
        else:
            sys.exit(f"unknown option {o}")
    root = os.path.join(bundle, "rootfs")
    for d in ("usr", "proc", "dev", "sys", "tmp", "etc", "run"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    # Debian's merged /usr: the top-level directories are symlinks.
    for link in ("bin", "sbin", "lib", "lib64"):
        p = os.path.join(root, link)
        if not os.path.lexists(p):
            os.symlink("usr/" + link, p)
    config = {
        "ociVersion": "1.0.0",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": env,
            "cwd": "/",
            "capabilities": {k: ["CAP_KILL", "CAP_SETUID", "CAP_SETGID"]
                             for k in ("bounding", "effective", "permitted")},
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "cgsentry-test",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "nodev", "mode=1777"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
            {"destination": "/usr", "type": "bind", "source": "/usr",
             "options": ["rbind", "ro"]},
        ],
        "linux": {
            "namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount")],
            "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list"],
            "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger"],
        },
    }
    if cgroups_path:
        config["linux"]["cgroupsPath"] = cgroups_path
    if unified:
        config["linux"]["resources"] = {"unified": unified}
    if oom_score_adj is not None:
        config["process"]["oomScoreAdj"] = oom_score_adj
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(config, f, indent=1)


main()

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What cgsentryd does with its privileges, one primitive at a time.

  capsprobe.py setup DIR     (root, full privileges) cgroups and victims
  capsprobe.py probe DIR N   (inside a sandboxed unit) try every primitive,
                             victim N; print one JSON object
  capsprobe.py cleanup DIR   kill the victims, remove the cgroups

tests/install/guest.sh runs `probe` in transient copies of the installed
cgsentryd.service (same sandbox, same system call filter, same
MemoryDenyWriteExecute=), once with its CapabilityBoundingSet= and once
without each of its capabilities, to show that each one is needed and
that together they are enough. The primitives are the daemon's own:

  write_high        memory.high of a root-owned cgroup (the tripwire)
  write_high_deleg  memory.high of a cgroup delegated to another user
  kill_deleg        cgroup.kill of that cgroup
  xattr_trusted     trusted.cgsentry.* on a cgroup (memory.high kept
                    across a crash)
  pidfd_open        pin a process of another user
  signal_other      pidfd_send_signal(SIGKILL) to it
  mrelease          process_mrelease() of it once killed
  psi_trigger_1s    a PSI trigger with a 1s window (not a multiple of 2s)
  mlockall          MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT
  oom_score_adj     write -1000 to our own oom_score_adj
  read_proc_other   /proc/PID/status and stat of another user's process
  dlopen_policy     load a shipped policy plugin

Each result is "ok" or the errno name (EPERM, EACCES, ...).
"""
import ctypes
import errno
import json
import os
import signal
import subprocess
import sys
import time

CG = "/sys/fs/cgroup"
NOBODY = 65534
NR_PIDFD_SEND_SIGNAL = 424
NR_PIDFD_OPEN = 434
NR_PROCESS_MRELEASE = 448
MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT = 1, 2, 4
VICTIMS = 6
VICTIM_MB = 16

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def err(e):
    return errno.errorcode.get(e, str(e))


def syscall(*args):
    r = libc.syscall(*[ctypes.c_long(a) for a in args])
    if r < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return r


def attempt(fn):
    try:
        fn()
        return "ok"
    except OSError as e:
        return err(e.errno)


def write(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------
def setup(d):
    os.makedirs(d, exist_ok=True)
    root = os.path.join(CG, "capsprobe")
    with open(os.path.join(CG, "cgroup.subtree_control")) as f:
        if "memory" not in f.read().split():
            write(os.path.join(CG, "cgroup.subtree_control"), b"+memory")
    os.makedirs(root, exist_ok=True)
    write(os.path.join(root, "cgroup.subtree_control"), b"+memory")
    own, deleg, vict = (os.path.join(root, n) for n in ("own", "deleg", "victims"))
    for p in (own, deleg, vict):
        os.makedirs(p, exist_ok=True)
    # Delegated as systemd delegates: the directory and its files belong to
    # the user.
    for dirpath, _, files in os.walk(deleg):
        os.chown(dirpath, NOBODY, NOBODY)
        for f in files:
            os.chown(os.path.join(dirpath, f), NOBODY, NOBODY)
    # The victims report through a file of DIR once their memory is touched.
    os.chmod(d, 0o777)
    pids = []
    code = ("import time; x = b'\\x01' * (%d << 20); open(%r, 'a').write('ok\\n'); "
            "time.sleep(3600)")
    ready = os.path.join(d, "victims.ready")
    for _ in range(VICTIMS):
        p = subprocess.Popen(
            ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups",
             "python3", "-c", code % (VICTIM_MB, ready)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        write(os.path.join(vict, "cgroup.procs"), str(p.pid).encode())
        pids.append(p.pid)
    # Their memory is touched before anyone probes (mrelease has work to do).
    for _ in range(600):
        try:
            with open(ready) as f:
                if len(f.read().split()) >= VICTIMS:
                    break
        except OSError:
            pass
        time.sleep(0.1)
    with open(os.path.join(d, "state.json"), "w") as f:
        json.dump({"own": own, "deleg": deleg, "victims": pids}, f)
    print(json.dumps({"own": own, "deleg": deleg, "victims": pids}))


def probe(d, n):
    with open(os.path.join(d, "state.json")) as f:
        st = json.load(f)
    own, deleg, pid = st["own"], st["deleg"], st["victims"][n]
    res = {}
    res["write_high"] = attempt(lambda: write(os.path.join(own, "memory.high"), b"max"))
    res["write_high_deleg"] = attempt(lambda: write(os.path.join(deleg, "memory.high"), b"max"))
    res["kill_deleg"] = attempt(lambda: write(os.path.join(deleg, "cgroup.kill"), b"1"))

    def xattr():
        os.setxattr(own, "trusted.cgsentry.probe", b"max")
        os.removexattr(own, "trusted.cgsentry.probe")
    res["xattr_trusted"] = attempt(xattr)

    def read_other():
        with open("/proc/%d/status" % pid) as f:
            if "VmRSS:" not in f.read():
                raise OSError(errno.ENODATA, "no VmRSS")
        with open("/proc/%d/stat" % pid) as f:
            f.read()
    res["read_proc_other"] = attempt(read_other)

    pidfd = -1
    try:
        pidfd = syscall(NR_PIDFD_OPEN, pid, 0)
        res["pidfd_open"] = "ok"
    except OSError as e:
        res["pidfd_open"] = err(e.errno)
    res["signal_other"] = "n/a"
    res["mrelease"] = "n/a"
    if pidfd >= 0:
        res["signal_other"] = attempt(
            lambda: syscall(NR_PIDFD_SEND_SIGNAL, pidfd, signal.SIGKILL, 0, 0))
        if res["signal_other"] == "ok":
            # EINVAL until the SIGKILL is delivered, EAGAIN while it cannot reap
            # yet; ESRCH when the process is already gone: the call got through.
            r = "ETIMEDOUT"
            for _ in range(200):
                r = attempt(lambda: syscall(NR_PROCESS_MRELEASE, pidfd, 0))
                if r not in ("EINVAL", "EAGAIN"):
                    break
                time.sleep(0.01)
            res["mrelease"] = "ok" if r in ("ok", "ESRCH") else r
        os.close(pidfd)

    def psi():
        fd = os.open(os.path.join(own, "memory.pressure"),
                     os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            os.write(fd, b"some 150000 1000000\0")
        finally:
            os.close(fd)
    res["psi_trigger_1s"] = attempt(psi)

    def lock():
        if libc.mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0:
            raise OSError(ctypes.get_errno(), "mlockall")
        libc.munlockall()
    res["mlockall"] = attempt(lock)
    res["oom_score_adj"] = attempt(lambda: write("/proc/self/oom_score_adj", b"-1000"))

    def dl():
        import glob
        so = glob.glob("/usr/lib/*/cgsentry/policies/cgsentry-policy-largest.so")
        if not so:
            raise OSError(errno.ENOENT, "no plugin")
        ctypes.CDLL(so[0]).cgsentry_policy_entry
    res["dlopen_policy"] = attempt(dl)
    caps = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("CapEff:", "CapBnd:", "NoNewPrivs:", "Seccomp:")):
                k, v = line.split(":", 1)
                caps[k] = v.strip()
    res["status"] = caps
    print(json.dumps(res, sort_keys=True))


def cleanup(d):
    try:
        with open(os.path.join(d, "state.json")) as f:
            st = json.load(f)
    except OSError:
        return
    root = os.path.dirname(st["own"])
    for p in ("victims", "own", "deleg"):
        try:
            write(os.path.join(root, p, "cgroup.kill"), b"1")
        except OSError:
            pass
    for _ in range(100):
        try:
            for p in ("victims", "own", "deleg"):
                if os.path.isdir(os.path.join(root, p)):
                    os.rmdir(os.path.join(root, p))
            os.rmdir(root)
            break
        except OSError:
            time.sleep(0.05)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "setup":
        setup(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "probe":
        probe(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 3 and sys.argv[1] == "cleanup":
        cleanup(sys.argv[2])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)

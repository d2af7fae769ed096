#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Churn, races, delegated users, faults and a global squeeze, on the real
kernel: nobody wrongly killed, no supervision lost.

Runs INSIDE the test sandbox (tests/vm/sandbox.sh); tests/hardening/run.sh
boots it twice: once as usual (--boot main), once with psi=0 and 768 MB
(--boot small). Each check prints "ok - ..." or "not ok - ...", with what it
measured.

main:
  churn      10,000 cgroups created and removed under a supervised slice; the
             daemon stays up and armed, its fds and RSS return to baseline
  reuse      pid_max 512: a pid seen in a snapshot, reused, is refused by the pidfd
             start-time check (tests/hardening/pidreuse.c); a runaway group whose members fork and exit all the
             time, beside a canary that does the same: the group dies whole,
             no canary process is ever SIGKILLed (pids are reused between the
             snapshot and the kill; the pidfd start-time check must hold)
  delegated  a non-root user's delegated subtree under a supervised group:
             a threaded subtree, 500 levels of nesting and groups created and
             removed while the group is read and killed; the runaway is killed
             whole, a -1000 member survives, the daemon stays up
  faults     cgroup.kill refused (EROFS: a read-only file bound over it), the
             inotify watch limit reached, a plugin answering garbage, a reload
             with errors: each is logged, and the runaway is still killed
small (psi=0, 768 MB):
  nopsi      PressureStall= without PSI: a clear error, the tripwire still works
  squeeze    the whole machine runs out of memory (no limits): the daemon,
             mlocked and at -1000, is not what the kernel kills and still kills
             a runaway group by its rule
A canary process tree outside every rule runs throughout and must never
receive a signal. Ends with "hardening: N passed, M failed".
"""

import argparse
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "daemon"))
import daemon as T  # noqa: E402
from daemon import (MiB, R, Daemon, cgpath, destroy, kill_rx, kv, log, mkcg, oom_kills,  # noqa: E402
                    rfile, spawn_fn, spawn_sleep, wait_started, wait_until, wfile)

CANARY_LOG = "/tmp/canary.log"
USER = 1000


# ------------------------------------------------------------------ helpers

def processes_created():
    for line in rfile("/proc/stat").splitlines():
        if line.startswith("processes "):
            return int(line.split()[1])
    return 0


def rss_kb(pid):
    for line in rfile(f"/proc/{pid}/status").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def canary_tree():
    """Three processes outside every rule that log any signal they get."""
    mkcg("canary.slice")
    procs = []
    for i in range(3):
        def run(i=i):
            def note(sig, _):
                with open(CANARY_LOG, "a") as f:
                    f.write(f"canary {i} got signal {sig}\n")
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1,
                        signal.SIGUSR2, signal.SIGQUIT, signal.SIGALRM):
                signal.signal(sig, note)
            while True:
                signal.pause()
        procs.append(spawn_fn("canary.slice", run, f"canary{i}"))
    wait_started(procs, "canary.slice")
    return procs


def canary_check(procs, what):
    got = rfile(CANARY_LOG) if os.path.exists(CANARY_LOG) else ""
    R.check(all(p.alive() for p in procs) and not got,
            f"{what}: the canary tree outside every rule never got a signal ({procs})", got)


def runaway(rel, n_sleepers=2, adj_min=False):
    members = [spawn_sleep(rel, what="sleeper") for _ in range(n_sleepers)]
    keeper = spawn_sleep(rel, adj=-1000, what="sleeper -1000") if adj_min else None
    wait_started(members + ([keeper] if keeper else []), rel)
    members.append(spawn_fn(rel, T.hog, "hog"))
    return members, keeper


def killed_whole(members):
    return wait_until(lambda: all(not p.alive() for p in members), T.T_KILL) and \
        all(p.killed_by() == signal.SIGKILL for p in members)


def as_user(rel, fn):
    """Fork a child that enters @rel as root, then runs @fn as uid USER."""
    def run():
        os.setgroups([])
        os.setgid(USER)
        os.setuid(USER)
        fn()
    return spawn_fn(rel, run, f"uid {USER}")


def delegate(rel):
    """Hand @rel to USER as systemd does with Delegate=yes."""
    p = cgpath(rel)
    os.chown(p, USER, USER)
    for f in ("cgroup.procs", "cgroup.subtree_control", "cgroup.threads"):
        os.chown(f"{p}/{f}", USER, USER)


# ---------------------------------------------------------------- scenarios

CHURN_CONF = """\
[Rule churn]
Match=churn.slice/**
Tripwire=90%
OOMGroup=yes
Cooldown=1s
"""


def sc_churn(a):
    mkcg("churn.slice", max=1024 * MiB, subtree=True)
    d = Daemon(a.daemon, "churn", CHURN_CONF, a.out)
    try:
        R.check(d.ready(), "churn: cgsentryd started", d.tail())
        time.sleep(1)
        fds0, rss0 = d.fds(), rss_kb(d.pid)
        t = time.monotonic()
        n = a.churn
        rss = []
        # Bursts of 100 siblings, half with a limit (a tripwire to arm), then
        # removed: the daemon sees creations, limits and removals race. Four
        # quarters, RSS after each: the allocator keeps the high-water mark of
        # the groups alive at once, which depends on how far the daemon lagged
        # behind the creations, so a later quarter may add a little once; a
        # leak grows in every quarter.
        parts = 4
        per = n // 100 // parts
        for part in range(parts):
            for b in range(part * per, (part + 1) * per):
                names = [cgpath(f"churn.slice/b{b}-{i}") for i in range(100)]
                for i, p in enumerate(names):
                    os.mkdir(p)
                    if i % 2:
                        wfile(f"{p}/memory.max", 64 * MiB)
                for p in names:
                    os.rmdir(p)
            wait_until(lambda: d.fds() <= fds0, 60, 0.2)
            time.sleep(1)
            rss.append(rss_kb(d.pid))
        dt = time.monotonic() - t
        fds1 = d.fds()
        steps = [rss[i] - rss[i - 1] for i in range(1, parts)]
        log(f"# churn: {n} cgroups created and removed in {dt:.1f} s; daemon fds {fds0} -> "
            f"{fds1}; RSS {rss0} kB at start, after each quarter {', '.join(map(str, rss))} kB")
        R.check(d.alive(), f"churn: cgsentryd survived {n} cgroups", d.tail())
        R.check(fds1 == fds0, f"churn: fds back to baseline ({fds0} -> {fds1})",
                "\n".join(os.listdir(f"/proc/{d.pid}/fd")))
        leak = all(x > 0 for x in steps) and sum(steps) >= 256
        R.check(not leak,
                f"churn: RSS steady: the last three quarters added {steps} kB "
                f"(the first {rss[0] - rss0} kB: what the allocator keeps)")
        # Still armed: a new group's runaway dies whole.
        g = "churn.slice/after"
        mkcg(g, max=128 * MiB)
        T.wait_armed(g, 128 * MiB, 9000)
        members, _ = runaway(g)
        R.check(killed_whole(members) and not oom_kills(g),
                f"churn: still armed afterwards: a runaway is killed whole ({members})", d.tail())
    finally:
        d.stop()
        destroy("churn.slice")


def forker(rel_log=None):
    """Fork short-lived children as fast as possible; pids wrap around."""
    def run():
        while True:
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            _, st = os.waitpid(pid, 0)
            if rel_log and os.WIFSIGNALED(st):
                with open(rel_log, "a") as f:
                    f.write(f"canary child {pid} died of signal {os.WTERMSIG(st)}\n")
    return run


def sc_reuse(a):
    old = rfile("/proc/sys/kernel/pid_max").strip()
    # The smallest pid space the kernel allows: pids come round quickly.
    wfile("/proc/sys/kernel/pid_max", 512)
    p = subprocess.run([a.pidreuse], capture_output=True, text=True, timeout=300)
    R.check(p.returncode == 0, f"reuse: {p.stdout.strip()}", p.stderr)
    mkcg("reuse.slice", max=1024 * MiB, subtree=True)
    conf = CHURN_CONF.replace("churn.slice/**", "reuse.slice/*")
    d = Daemon(a.daemon, "reuse", conf, a.out)
    forkers = []
    try:
        R.check(d.ready(), "reuse: cgsentryd started", d.tail())
        forks0 = processes_created()
        mkcg("canary.slice/fork")
        forkers = [spawn_fn("canary.slice/fork", forker(CANARY_LOG), f"canary forker {i}")
                   for i in range(2)]
        good = 0
        for run in range(a.runs):
            g = f"reuse.slice/g{run}"
            mkcg(g, max=128 * MiB)
            T.wait_armed(g, 128 * MiB, 9000)
            members = [spawn_fn(g, forker(), "forker") for _ in range(2)]
            wait_started(members, g)
            members += runaway(g)[0]
            ok = killed_whole(members) and not oom_kills(g)
            good += ok
            if not ok:
                log(f"# reuse run {run}: {members}, oom_kill {oom_kills(g)}")
            destroy(g)
        got = rfile(CANARY_LOG) if os.path.exists(CANARY_LOG) else ""
        forks = processes_created() - forks0
        log(f"# reuse: pid_max 512: {forks} processes created during the runs, the pid "
            f"space wrapped about {forks // 512} times")
        R.check(good == a.runs, f"reuse: {good}/{a.runs} churning runaway groups killed whole",
                d.tail())
        R.check(not got and all(f.alive() for f in forkers),
                "reuse: no process of the canary forkers (which reuse the same pids) was "
                "signalled", got)
    finally:
        for f in forkers:
            try:
                os.kill(f.pid, signal.SIGKILL)
            except OSError:
                pass
        d.stop()
        destroy("reuse.slice")
        destroy("canary.slice/fork")
        wfile("/proc/sys/kernel/pid_max", old)


def user_nest(base, depth):
    """As USER: a chain of @depth nested cgroups below @base."""
    def run():
        p = base
        for i in range(depth):
            p = f"{p}/n{i}"
            os.mkdir(p)
        signal.pause()
    return run


def user_threaded(base):
    """As USER: a threaded subtree with a thread of this process in it."""
    def run():
        import threading
        os.mkdir(f"{base}/t")
        wfile(f"{base}/t/cgroup.type", "threaded")
        os.mkdir(f"{base}/t/a")
        wfile(f"{base}/t/a/cgroup.type", "threaded")
        ready = threading.Event()

        def thread():
            wfile(f"{base}/t/a/cgroup.threads", threading.get_native_id())
            ready.set()
            while True:
                time.sleep(1)
        threading.Thread(target=thread, daemon=True).start()
        ready.wait()
        while True:
            time.sleep(1)
    return run


def user_flicker(base):
    """As USER: groups created and removed all the time below @base."""
    def run():
        i = 0
        while True:
            p = f"{base}/f{i % 8}"
            try:
                os.mkdir(p)
                os.rmdir(p)
            except OSError:
                pass
            i += 1
    return run


def sc_delegated(a):
    conf = """\
[Rule svc]
Match=deleg.slice/*
Tripwire=90%
OOMGroup=yes
Cooldown=1s
"""
    mkcg("deleg.slice", max=1024 * MiB, subtree=True)
    g = "deleg.slice/svc"
    mkcg(g, max=160 * MiB)
    d = Daemon(a.daemon, "delegated", conf, a.out)
    try:
        R.check(d.ready() and T.wait_armed(g, 160 * MiB, 9000), "delegated: cgsentryd armed",
                d.tail())
        fds0 = d.fds()
        # The user's subtree: svc/user (delegated), processes in its leaves.
        mkcg(f"{g}/user")
        delegate(f"{g}/user")
        base = cgpath(f"{g}/user")
        mkcg(f"{g}/user/main")
        delegate(f"{g}/user/main")
        procs = [as_user(f"{g}/user/main", user_nest(f"{base}/main", a.depth)),
                 as_user(f"{g}/user/main", user_threaded(f"{base}/main")),
                 as_user(f"{g}/user/main", user_flicker(f"{base}/main"))]
        wait_until(lambda: os.path.isdir(f"{base}/main/t/a") and
                   os.path.isdir(f"{base}/main" + "".join(f"/n{i}" for i in range(a.depth))),
                   120, 0.2)
        time.sleep(1)
        depth_ok = os.path.isdir(f"{base}/main" + "".join(f"/n{i}" for i in range(a.depth)))
        keeper = spawn_sleep(g, adj=-1000, what="sleeper -1000")
        hog = as_user(f"{g}/user/main", T.hog)
        members = procs + [hog]
        dead = killed_whole(members)
        R.check(depth_ok, f"delegated: the user nested {a.depth} levels and made a threaded "
                          f"subtree under the supervised group")
        R.check(dead and not oom_kills(g),
                f"delegated: the runaway among the user's groups is killed whole before the "
                f"kernel ({members}, oom_kill {oom_kills(g)})", d.tail())
        R.check(keeper.alive(), f"delegated: the -1000 member survives ({keeper})")
        R.check(d.search(r"left out .*deeper than the snapshot goes"),
                "delegated: what lies deeper than the snapshot reads is logged as left out",
                d.tail())
        R.check(d.alive(), "delegated: cgsentryd still running", d.tail())
        destroy(f"{g}/user")
        wait_until(lambda: d.fds() <= fds0, 10, 0.1)
        R.check(d.fds() == fds0, f"delegated: fds back to baseline ({d.fds()}/{fds0})")
    finally:
        d.stop()
        destroy("deleg.slice")


def sc_faults(a):
    # 1. cgroup.kill refused: a read-only file bound over it.
    conf = """\
[Rule svc]
Match=fault.slice/*
Tripwire=90%
OOMGroup=yes
Cooldown=1s
"""
    mkcg("fault.slice", max=1024 * MiB, subtree=True)
    g = "fault.slice/ro"
    mkcg(g, max=128 * MiB)
    subprocess.run(["mount", "--bind", "/etc/hostname", f"{cgpath(g)}/cgroup.kill"], check=True)
    d = Daemon(a.daemon, "faults", conf, a.out)
    try:
        R.check(d.ready() and T.wait_armed(g, 128 * MiB, 9000), "faults: cgsentryd armed", d.tail())
        members, _ = runaway(g)
        dead = killed_whole(members)
        line = d.search(r"cannot write /fault\.slice/ro/cgroup\.kill: Read-only file system; "
                        r"killing process by process")
        R.check(dead and line and not oom_kills(g),
                f"faults: cgroup.kill refused (EROFS): logged, and the group is killed process "
                f"by process, frozen meanwhile ({members})", d.tail())
        if line:
            log(f"# faults: {line.group(0)}")
        subprocess.run(["umount", f"{cgpath(g)}/cgroup.kill"], check=False)
        destroy(g)

        # 2. A reload with errors keeps the old rules.
        since = d.mark()
        d.write_config(conf + "Tripwire=nan%\n")
        d.hup()
        kept = d.wait_log(r"keeping the previous configuration", 10, since)
        g = "fault.slice/after-reload"
        mkcg(g, max=128 * MiB)
        armed = T.wait_armed(g, 128 * MiB, 9000)
        members, _ = runaway(g)
        R.check(kept and armed and killed_whole(members),
                "faults: a reload with an error is refused and the old rules still kill",
                d.tail())
        log(f"# faults: reload: {kept.group(0) if kept else '?'}")
        destroy(g)
    finally:
        d.stop()

    # 3. A plugin that answers garbage: refused, the kernel's choice used.
    conf_bad = conf.replace("OOMGroup=yes", "OOMGroup=yes\nPolicy=bad-choice") + \
        f"[Daemon]\nPolicyDir={a.test_policies}\n"
    d = Daemon(a.daemon, "faults-plugin", conf_bad, a.out)
    try:
        g = "fault.slice/plugin"
        mkcg(g, max=128 * MiB)
        R.check(d.ready() and T.wait_armed(g, 128 * MiB, 9000), "faults: cgsentryd armed with the "
                "broken plugin", d.tail())
        members, _ = runaway(g)
        dead = killed_whole(members)
        bad = d.search(r"policy bad-choice failed \(.*invalid decision.*\); using the kernel's "
                       r"choice")
        R.check(dead and bad, f"faults: a plugin's out-of-range answer is refused, logged, and "
                              f"the kernel's choice kills ({members})", d.tail())
        if bad:
            log(f"# faults: {bad.group(0)}")
    finally:
        d.stop()
        destroy("fault.slice")

    # 4. The inotify watch limit: groups past it are polled, still killed.
    old = rfile("/proc/sys/fs/inotify/max_user_watches").strip()
    mkcg("fault.slice", max=1024 * MiB, subtree=True)
    for i in range(6):
        mkcg(f"fault.slice/w{i}", max=128 * MiB)
    wfile("/proc/sys/fs/inotify/max_user_watches", 4)
    d = Daemon(a.daemon, "faults-inotify", conf, a.out)
    try:
        g = "fault.slice/w5"
        R.check(d.ready() and T.wait_armed(g, 128 * MiB, 9000), "faults: cgsentryd armed past "
                "the watch limit", d.tail())
        limit = d.search(r"inotify watch limit reached.*")
        members, _ = runaway(g)
        R.check(limit and killed_whole(members) and not oom_kills(g),
                f"faults: with 4 inotify watches the limit is logged and a group past it is "
                f"still supervised by polling memory.events ({members})", d.tail())
        if limit:
            log(f"# faults: {limit.group(0)[:160]}...")
    finally:
        d.stop()
        wfile("/proc/sys/fs/inotify/max_user_watches", old)
        destroy("fault.slice")


def sc_nopsi(a):
    conf = """\
[Rule svc]
Match=nopsi.slice/*
Tripwire=90%
PressureStall=some 10% 1s
OOMGroup=yes
Cooldown=1s
"""
    mkcg("nopsi.slice", max=512 * MiB, subtree=True)
    g = "nopsi.slice/svc"
    mkcg(g, max=96 * MiB)
    d = Daemon(a.daemon, "nopsi", conf, a.out)
    try:
        R.check(d.ready() and T.wait_armed(g, 96 * MiB, 9000), "nopsi: cgsentryd armed",
                d.tail())
        err = d.search(r"/nopsi\.slice/svc: PressureStall= unavailable: .*")
        R.check(err, "nopsi: without PSI (psi=0) PressureStall= says why it is unavailable",
                d.tail())
        if err:
            log(f"# nopsi: {err.group(0)}")
        members, _ = runaway(g)
        R.check(killed_whole(members) and not oom_kills(g),
                f"nopsi: the memory.events tripwire still kills the runaway whole ({members})",
                d.tail())
    finally:
        d.stop()
        destroy("nopsi.slice")


def mem_available_mib():
    for line in rfile("/proc/meminfo").splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) // 1024
    return 0


def sc_squeeze(a):
    conf = """\
[Rule svc]
Match=sq.slice/*
Tripwire=90%
OOMGroup=yes
Cooldown=1s
"""
    mkcg("sq.slice", subtree=True)
    g = "sq.slice/svc"
    mkcg(g, max=64 * MiB)
    # As in production: mlockall, oom_score_adj -1000 (no --no-mlock).
    d = Daemon(a.daemon, "squeeze", conf, a.out, mlock=True)
    hog = None
    try:
        R.check(d.ready() and T.wait_armed(g, 64 * MiB, 9000), "squeeze: cgsentryd armed",
                d.tail())
        adj = rfile(f"/proc/{d.pid}/oom_score_adj").strip()
        lck = d.vmlck_kb()
        # The machine itself runs out: a hog with no limit in the root cgroup,
        # held while MemAvailable is low.
        gate_r, gate_w = os.pipe()

        def squeezer():
            keep = []
            while True:
                keep.append(b"\x01" * MiB)
                if mem_available_mib() < 150:
                    os.read(gate_r, 1)  # hold the squeeze
                    while True:
                        keep.append(b"\x01" * MiB)  # then run into the kernel
        hog = spawn_fn("", squeezer, "global hog")
        wait_until(lambda: mem_available_mib() < 160 or not hog.alive(), 120, 0.2)
        avail = mem_available_mib()
        members, _ = runaway(g)
        killed = killed_whole(members)
        line = d.search(kill_rx("tripwire", g, "svc", 3))
        R.check(killed and line,
                f"squeeze: with {avail} MiB available on the machine, the rule still kills a "
                f"runaway whole ({members})", d.tail())
        os.write(gate_w, b"g")
        wait_until(lambda: not hog.alive(), 120)
        vm = kv("/proc/vmstat")
        R.check(not hog.alive() and d.alive(),
                f"squeeze: the kernel's global OOM killer took the global hog ({hog}), not "
                f"cgsentryd (alive, oom_score_adj {adj}, VmLck {lck} kB; vmstat oom_kill "
                f"{vm.get('oom_kill')})", d.tail())
    finally:
        if hog and hog.alive():
            os.kill(hog.pid, signal.SIGKILL)
        d.stop()
        destroy("sq.slice")


BOOTS = {
    "main": [("churn", sc_churn), ("reuse", sc_reuse), ("delegated", sc_delegated),
             ("faults", sc_faults)],
    "small": [("nopsi", sc_nopsi), ("squeeze", sc_squeeze)],
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--test-policies", required=True)
    ap.add_argument("--pidreuse", required=True)
    ap.add_argument("--boot", choices=sorted(BOOTS), required=True)
    ap.add_argument("--out")
    ap.add_argument("--only")
    ap.add_argument("--churn", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--depth", type=int, default=500)
    a = ap.parse_args()
    if os.environ.get("CGSENTRY_SANDBOX") != "1":
        sys.exit("hardening.py: refusing to run outside the test VM (tests/vm/sandbox.sh)")
    if not a.out and os.environ.get("CGSENTRY_RESULTS"):
        a.out = os.path.join(os.environ["CGSENTRY_RESULTS"], "logs")
    only = set(a.only.split(",")) if a.only else None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # This harness must outlive every OOM it causes.
    wfile("/proc/self/oom_score_adj", -1000)
    canaries = canary_tree()
    t0 = time.monotonic()
    for name, fn in BOOTS[a.boot]:
        if only and name not in only:
            continue
        log(f"# --- {name}")
        t = time.monotonic()
        try:
            fn(a)
        except Exception as e:
            import traceback
            R.check(False, f"{name}: ran to the end ({type(e).__name__}: {e})",
                    traceback.format_exc())
        log(f"# {name}: {time.monotonic() - t:.0f} s")
        canary_check(canaries, name)
    T.reap_all()
    log(f"# total {time.monotonic() - t0:.0f} s")
    log(f"hardening: {R.passed} passed, {R.failed} failed")
    return 0 if R.failed == 0 and R.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())

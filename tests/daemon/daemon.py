#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""End-to-end test of cgsentryd against the real kernel.

Runs INSIDE the test sandbox (tests/vm/sandbox.sh, see README.md next to
this file): it creates cgroups under /sys/fs/cgroup, starts cgsentryd on
them, runs memory hogs, may turn on zram swap, and lets the kernel OOM-kill
things. It refuses to run elsewhere unless --force is given.

Scenarios (each check prints "ok - ..." or "not ok - ..."):
  tripwire   Tripwire=90% OOMGroup=yes, no swap, N fresh slices: the runaway
             service dies whole before the kernel's OOM killer acts, the
             neighbour services live (pass: at least N-1 of N)
  oomkill    OnKernelOOMKill=group-kill: the kernel kills the hog, cgsentryd
             the rest of the group except the oom_score_adj -1000 member
  discovery  a group created after start-up is supervised and its runaway
             killed; 1000 create/remove cycles leak no fd and no inotify watch
  reload     SIGHUP with a broken configuration keeps the old one, with a
             good one applies it; SIGTERM exits 0 and restores memory.high
             (this daemon runs with mlockall)
  dryrun     DryRun=yes reports the decision and kills nothing
  protect    a Protect= member of the runaway group survives its kill
  killsignal KillSignal=SIGTERM:1s,SIGKILL: SIGTERM first, SIGKILL after 1 s
  scope      a hog in a group no rule matches is left to the kernel
  control    cgsentry status / metrics over the control socket after a real
             kill (outcome, reaction, counters; promtool when available), a
             non-root user refused, the metrics textfile, an ExecAfterKill=
             hook with the kill's facts
  psi        PressureStall= kills a thrashing group (zram swap; runs last)

The run ends with "daemon: N passed, M failed"; exit status 0 only if
nothing failed. Daemon logs and configurations are saved in --out
(default $CGSENTRY_RESULTS/daemon).

Usage: daemon.py --daemon PATH [--out DIR] [--runs N] [--only NAME,...]
"""

import argparse
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time

CG = "/sys/fs/cgroup"
MiB = 1 << 20
PAGE = os.sysconf("SC_PAGE_SIZE")

# Under TCG the guest runs 10-50x slower than natively: a hog fills 128M in
# a few seconds, and a kernel OOM kill takes tens of seconds once memory.high
# throttles it. Waits are generous; none of them is a timing assertion.
T_READY = 15.0      # daemon start-up, arming a tripwire
T_KILL = 60.0       # runaway started -> group dead
T_DISCOVER = 1.0    # asserted: mkdir -> "supervising" logged
T_DISCOVER_MAX = 10.0

SLEEP_ARGV = ["sleep", "100000"]


def log(*a):
    print(*a, flush=True)


# ------------------------------------------------------------------ results

class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.todo = 0

    def check(self, cond, desc, detail=None):
        if cond:
            self.passed += 1
            log(f"ok - {desc}")
        else:
            self.failed += 1
            log(f"not ok - {desc}")
            if detail:
                for line in str(detail).rstrip("\n").split("\n"):
                    log(f"#   {line}")
        return bool(cond)

    def known(self, cond, desc, why):
        """A check for a known daemon bug: reported, not counted as failed."""
        if cond:
            log(f"ok - {desc} # TODO known issue no longer seen: {why}")
        else:
            self.todo += 1
            log(f"not ok - {desc} # TODO {why}")


R = Results()


# ------------------------------------------------------------ file helpers

def wfile(path, value):
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, str(value).encode())
    finally:
        os.close(fd)


def rfile(path):
    with open(path) as f:
        return f.read()


def kv(path):
    """memory.events, cgroup.events: "key value" lines -> dict of ints."""
    out = {}
    try:
        for line in rfile(path).splitlines():
            k, _, v = line.partition(" ")
            out[k] = int(v)
    except FileNotFoundError:
        pass
    return out


def cgpath(rel):
    return f"{CG}/{rel}"


def oom_kills(rel):
    """The kernel's OOM kills in @rel and below (memory.events oom_kill)."""
    return kv(f"{cgpath(rel)}/memory.events").get("oom_kill", 0)


def wait_until(pred, timeout, interval=0.02):
    """Poll @pred until it returns a true value or @timeout passes."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


# ----------------------------------------------------------------- cgroups

def mkcg(rel, max=None, high=None, subtree=False):
    p = cgpath(rel)
    os.mkdir(p)
    if max is not None:
        wfile(f"{p}/memory.max", max)
    if high is not None:
        wfile(f"{p}/memory.high", high)
    if subtree:
        wfile(f"{p}/cgroup.subtree_control", "+memory +pids")
    return p


def populated(rel):
    return kv(f"{cgpath(rel)}/cgroup.events").get("populated", 0)


def destroy(rel):
    """cgroup.kill the whole subtree, wait until it is empty, rmdir it."""
    p = cgpath(rel)
    if not os.path.isdir(p):
        return
    try:
        wfile(f"{p}/cgroup.kill", "1")
    except OSError:
        pass
    wait_until(lambda: not populated(rel), 30)
    reap_all()
    for dirpath, dirnames, _ in os.walk(p, topdown=False):
        for attempt in range(100):
            try:
                os.rmdir(dirpath)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.05)


def read_high(rel):
    return rfile(f"{cgpath(rel)}/memory.high").strip()


def tripwire_value(max_bytes, permyriad):
    """memory.high as read back after arm_tripwire() wrote
    max / 10000 * p + max % 10000 * p / 10000: the kernel keeps whole pages."""
    v = max_bytes // 10000 * permyriad + max_bytes % 10000 * permyriad // 10000
    return v // PAGE * PAGE


def wait_armed(rel, max_bytes, permyriad, timeout=T_READY):
    want = str(tripwire_value(max_bytes, permyriad))
    return wait_until(lambda: os.path.exists(cgpath(rel)) and read_high(rel) == want, timeout)


# --------------------------------------------------------------- processes

PROCS = []


class Proc:
    """A child of this script, forked or exec'd, moved into a cgroup first."""

    def __init__(self, pid, what):
        self.pid = pid
        self.what = what
        self.status = None  # os.waitpid status once reaped
        PROCS.append(self)

    def poll(self):
        if self.status is None:
            try:
                pid, st = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                return "gone"
            if pid == 0:
                return None
            self.status = st
        return self.status

    def alive(self):
        return self.poll() is None

    def killed_by(self):
        """The signal that killed it, 0 if it exited, None if it runs."""
        st = self.poll()
        if st is None:
            return None
        if st == "gone":
            return 0
        return os.WTERMSIG(st) if os.WIFSIGNALED(st) else 0

    def __repr__(self):
        st = self.poll()
        state = "alive" if st is None else f"signal {self.killed_by()}" if \
            self.killed_by() else "exited"
        return f"{self.what}[{self.pid}] {state}"


def reap_all():
    for p in PROCS:
        p.poll()
    PROCS[:] = [p for p in PROCS if p.status is None]


def _enter(rel, adj):
    fd = os.open(f"{cgpath(rel)}/cgroup.procs", os.O_WRONLY)
    os.write(fd, b"0")
    os.close(fd)
    # Explicitly, also to 0: a harness that protects itself with -1000
    # must not hand that to the processes it starts.
    fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
    os.write(fd, str(0 if adj is None else adj).encode())
    os.close(fd)


def spawn_fn(rel, fn, what, adj=None):
    """Fork a child that moves itself into @rel and runs @fn (no exec: the
    hog starts allocating at once, without an interpreter start-up)."""
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _enter(rel, adj)
            fn()
        finally:
            os._exit(0)
    return Proc(pid, what)


def spawn_sleep(rel, adj=None, what="sleep"):
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        try:
            _enter(rel, adj)
            devnull = os.open("/dev/null", os.O_RDWR)
            os.dup2(devnull, 0)
            os.execvp(SLEEP_ARGV[0], SLEEP_ARGV)
        finally:
            os._exit(127)
    return Proc(pid, what)


def hog():
    """A runaway: 1 MiB more every iteration, as fast as Python can."""
    chunks = []
    while True:
        chunks.append(b"\x01" * MiB)


def steady(mib):
    def run():
        keep = b"\x02" * (mib * MiB)  # noqa: F841 (kept resident)
        while True:
            signal.pause()
    return run


def thrasher(size):
    """Touch every page of a buffer larger than the group's memory.max, over
    and over: with swap, the group lives in reclaim and refaults."""
    def run():
        buf = bytearray(size)
        n = 0
        while True:
            n = (n + 1) & 0xff
            for i in range(0, size, PAGE):
                buf[i] = n
    return run


def wait_started(procs, rel, timeout=10):
    """Until every process of @procs is in @rel (sleep exec'd, etc.)."""
    def ok():
        try:
            members = set(int(x) for x in rfile(f"{cgpath(rel)}/cgroup.procs").split())
        except FileNotFoundError:
            return False
        return all(p.pid in members or not p.alive() for p in procs)
    return wait_until(ok, timeout)


def procs_in(rel):
    try:
        return [int(x) for x in rfile(f"{cgpath(rel)}/cgroup.procs").split()]
    except FileNotFoundError:
        return []


# ------------------------------------------------------------------ daemon

class Daemon:
    def __init__(self, binary, name, config, out, mlock=False, verbose=False):
        self.name = name
        self.out = out
        self.dir = tempfile.mkdtemp(prefix=f"cgsentryd-{name}-")
        self.config = os.path.join(self.dir, "cgsentry.conf")
        self.write_config(config)
        self.logpath = os.path.join(self.dir, "daemon.log")
        argv = [binary, "-c", self.config]
        if not mlock:
            argv.append("--no-mlock")
        if verbose:
            argv.append("-v")
        self.logf = open(self.logpath, "ab", buffering=0)
        env = {k: v for k, v in os.environ.items() if k not in ("JOURNAL_STREAM", "NOTIFY_SOCKET",
                                                                  "WATCHDOG_USEC")}
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=self.logf, env=env, close_fds=True)
        self.pid = self.proc.pid
        self.rc = None

    def write_config(self, text):
        tmp = self.config + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, self.config)

    def text(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def mark(self):
        return len(self.text())

    def search(self, regex, since=0):
        return re.search(regex, self.text()[since:], re.M)

    def findall(self, regex, since=0):
        return re.findall(regex, self.text()[since:], re.M)

    def wait_log(self, regex, timeout, since=0):
        return wait_until(lambda: self.search(regex, since), timeout)

    def ready(self):
        return self.wait_log(r"cgsentryd \S+: \d+ rules, supervising \d+ cgroups", T_READY)

    def alive(self):
        return self.proc.poll() is None

    def hup(self):
        self.proc.send_signal(signal.SIGHUP)

    def stop(self):
        if self.rc is None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.rc = self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.rc = self.proc.wait()
                log(f"# {self.name}: cgsentryd did not exit on SIGTERM within 20 s; killed")
            self.logf.close()
            self.save()
        return self.rc

    def save(self):
        if not self.out:
            return
        os.makedirs(self.out, exist_ok=True)
        with open(os.path.join(self.out, f"{self.name}.log"), "w") as f:
            f.write(self.text())
        with open(os.path.join(self.out, f"{self.name}.conf"), "w") as f:
            f.write(rfile(self.config))

    def tail(self, n=25):
        return "\n".join(self.text().splitlines()[-n:])

    # Introspection of the running daemon.
    def fds(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def inotify_watches(self):
        n = 0
        for fd in os.listdir(f"/proc/{self.pid}/fd"):
            try:
                if os.readlink(f"/proc/{self.pid}/fd/{fd}") != "anon_inode:inotify":
                    continue
                with open(f"/proc/{self.pid}/fdinfo/{fd}") as f:
                    n += sum(1 for line in f if line.startswith("inotify wd:"))
            except OSError:
                pass
        return n

    def vmlck_kb(self):
        m = re.search(r"^VmLck:\s+(\d+) kB", rfile(f"/proc/{self.pid}/status"), re.M)
        return int(m.group(1)) if m else 0


def kill_rx(trigger, rel, rule, n, of=None, dry=False):
    """The line cgsentryd logs for a kill decision, as a regex: what fired on
    which group with its figures, then how many processes of which group."""
    return (rf"{'dry run: ' if dry else ''}{trigger}: /{re.escape(rel)} .*; "
            rf"{'would kill' if dry else 'killing'} {n} process(?:es)? of "
            rf"/{re.escape(of or rel)} \(rule {re.escape(rule)}, policy ")


def latencies(d, since=0):
    return [int(x) for x in d.findall(r"SIGKILL sent to /\S+ (\d+) us after the event", since)]


def fmt_stats(vals):
    if not vals:
        return "none"
    s = sorted(vals)
    med = s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) // 2
    p99 = s[min(len(s) - 1, max(0, -(-99 * len(s) // 100) - 1))]
    return f"min {s[0]} us, median {med} us, p99 {p99} us (n={len(s)})"


def neighbours(slice_rel, n=2, mib=8):
    out = []
    for i in range(1, n + 1):
        rel = f"{slice_rel}/good{i}"
        mkcg(rel, max=64 * MiB)
        out.append(spawn_fn(rel, steady(mib), f"{rel} neighbour"))
    return out


# ---------------------------------------------------------------- scenarios

def sc_tripwire(a):
    """Tripwire=90%, OOMGroup=yes, no swap, a.runs fresh slices."""
    conf = """\
# A service per child of each tw*.slice; every one dies whole.
[Rule services]
Match=tw*.slice/*
Tripwire=90%
OOMGroup=yes
Cooldown=2s
"""
    d = Daemon(a.daemon, "tripwire", conf, a.out)
    if not R.check(d.ready(), "tripwire: cgsentryd started", d.tail()):
        d.stop()
        return
    max_b = a.runaway_mib * MiB
    good_runs = 0
    lat = []
    t0 = time.monotonic()
    for run in range(1, a.runs + 1):
        sl = f"tw{run:02d}.slice"
        rw = f"{sl}/runaway"
        since = d.mark()
        problems = []
        try:
            mkcg(sl, max=2 * max_b + 256 * MiB, subtree=True)
            nb = neighbours(sl)
            mkcg(rw, max=max_b)
            if not all(wait_armed(r, m, 9000) for r, m in
                       ((rw, max_b), (f"{sl}/good1", 64 * MiB), (f"{sl}/good2", 64 * MiB))):
                problems.append("tripwire not armed in time: memory.high=" + read_high(rw))
            members = [spawn_sleep(rw, what="runaway sleeper") for _ in range(3)]
            wait_started(members, rw)
            for i, p in enumerate(nb, 1):
                wait_started([p], f"{sl}/good{i}")
            start = time.monotonic()
            members.append(spawn_fn(rw, hog, "runaway hog"))
            dead = wait_until(lambda: all(not p.alive() for p in members), T_KILL)
            took = time.monotonic() - start
            ev_rw = kv(f"{cgpath(rw)}/memory.events")
            ev_sl = kv(f"{cgpath(sl)}/memory.events")
            time.sleep(0.2)  # a neighbour killed by mistake shows up here
            if not dead:
                problems.append("runaway group not dead after %.0f s: %s" % (T_KILL, members))
            elif any(p.killed_by() != signal.SIGKILL for p in members):
                problems.append(f"not all SIGKILLed: {members}")
            if procs_in(rw):
                problems.append(f"runaway cgroup.procs not empty: {procs_in(rw)}")
            if any(not p.alive() for p in nb):
                problems.append(f"a neighbour died: {nb}")
            if ev_rw.get("oom_kill") or ev_sl.get("oom_kill"):
                problems.append(f"kernel OOM kill: runaway oom_kill={ev_rw.get('oom_kill')}, "
                                f"slice oom_kill={ev_sl.get('oom_kill')}")
            if not d.wait_log(r"warning: " + kill_rx("tripwire", rw, "services", 4) +
                              r"kernel; OOMGroup=yes\)$", 5, since):
                problems.append("no 'tripwire: /%s ...; killing 4 processes' line" % rw)
            run_lat = latencies(d, since)
            lat += run_lat
        finally:
            destroy(sl)
        if problems:
            log(f"# run {run}: FAILED: " + "; ".join(problems))
            for line in d.text()[since:].splitlines()[-15:]:
                log(f"#     {line}")
        else:
            good_runs += 1
            log(f"# run {run}: 4/4 killed {took:.1f} s after the hog started, oom_kill 0, "
                f"neighbours alive, SIGKILL {run_lat[0] if run_lat else '?'} us after the event")
    elapsed = time.monotonic() - t0
    log(f"tripwire: {good_runs}/{a.runs} runaway groups killed whole before the kernel")
    log(f"# tripwire latency (SIGKILL sent after the event): {fmt_stats(lat)}")
    log(f"# tripwire: {a.runs} runs in {elapsed:.0f} s")
    R.check(good_runs >= a.runs - (a.runs // 20 if a.runs >= 20 else 0),
            f"tripwire: {good_runs}/{a.runs} runaway groups killed whole, neighbours alive, "
            f"oom_kill 0")
    R.check(d.alive(), "tripwire: cgsentryd still running after the runs", d.tail())
    R.check(d.stop() == 0, f"tripwire: cgsentryd exits 0 on SIGTERM (got {d.rc})")


def sc_oomkill(a):
    """OnKernelOOMKill=group-kill, Tripwire=off."""
    conf = """\
[Rule kernel]
Match=work.slice/*
OOMGroup=yes
OnKernelOOMKill=group-kill
Tripwire=off
Cooldown=2s
"""
    sl, g = "work.slice", "work.slice/svc"
    mkcg(sl, max=512 * MiB, subtree=True)
    d = Daemon(a.daemon, "oomkill", conf, a.out)
    try:
        mkcg(g, max=64 * MiB)
        R.check(d.ready() and d.wait_log(r"supervising /work\.slice/svc \(rule kernel, policy kernel builtin, "
                                         r"kernel-oom-kill, whole group\)", T_READY),
                "oomkill: cgsentryd supervises /work.slice/svc (kernel-oom-kill)", d.tail())
        sleepers = [spawn_sleep(g, what="sleeper") for _ in range(2)]
        keeper = spawn_sleep(g, adj=-1000, what="sleeper(adj -1000)")
        wait_started(sleepers + [keeper], g)
        h = spawn_fn(g, hog, "hog")
        hog_dead = wait_until(lambda: not h.alive(), T_KILL)
        t_hog = time.monotonic()
        R.check(hog_dead and h.killed_by() == signal.SIGKILL, f"oomkill: the hog is killed ({h})")
        ev = kv(f"{cgpath(g)}/memory.events")
        R.check(ev.get("oom_kill", 0) >= 1,
                f"oomkill: the kernel OOM-killed it (memory.events oom_kill {ev.get('oom_kill')})")
        gone = wait_until(lambda: all(not p.alive() for p in sleepers), 10)
        dt = time.monotonic() - t_hog
        R.check(gone and all(p.killed_by() == signal.SIGKILL for p in sleepers),
                f"oomkill: cgsentryd killed the 2 sleepers {dt:.1f} s after the hog died "
                f"({sleepers})", d.tail())
        m = d.search(kill_rx("kernel-oom-kill", "work.slice/svc", "kernel", r"\d+"))
        R.check(m, "oomkill: log has 'kernel-oom-kill: /work.slice/svc ...; killing'", d.tail())
        time.sleep(0.5)
        R.check(keeper.alive(), f"oomkill: the oom_score_adj -1000 member is alive ({keeper})")
        # With a spared member the group never becomes empty; the daemon
        # should not call that a stuck kill.
        stuck = d.wait_log(r"still has processes .* after SIGKILL", 7)
        R.check(not stuck, "oomkill: no 'still has processes ... stuck in D state' warning "
                "for the spared member", "confirm_cb() waits for an empty cgroup even when "
                "members were spared on purpose")
    finally:
        d.stop()
        destroy(sl)


def sc_discovery(a):
    conf = """\
[Rule services]
Match=work.slice/*
Tripwire=90%
OOMGroup=yes
Cooldown=1s
"""
    sl, g = "work.slice", "work.slice/new"
    mkcg(sl, max=512 * MiB, subtree=True)
    d = Daemon(a.daemon, "discovery", conf, a.out)
    try:
        R.check(d.ready(), "discovery: cgsentryd started", d.tail())
        since = d.mark()
        t = time.monotonic()
        mkcg(g)
        seen = d.wait_log(r"supervising /work\.slice/new \(rule services", T_DISCOVER_MAX, since)
        dt = time.monotonic() - t
        R.check(seen and dt <= T_DISCOVER,
                f"discovery: 'supervising /work.slice/new' logged {dt:.2f} s after mkdir "
                f"(limit {T_DISCOVER:.0f} s)", d.tail())
        max_b = 128 * MiB
        wfile(f"{cgpath(g)}/memory.max", max_b)
        R.check(wait_armed(g, max_b, 9000),
                "discovery: memory.max written after creation arms the tripwire "
                f"(memory.high={read_high(g)})", d.tail())
        members = [spawn_sleep(g, what="sleeper") for _ in range(2)]
        wait_started(members, g)
        members.append(spawn_fn(g, hog, "hog"))
        dead = wait_until(lambda: all(not p.alive() for p in members), T_KILL)
        ev = kv(f"{cgpath(g)}/memory.events")
        R.check(dead and all(p.killed_by() == signal.SIGKILL for p in members) and
                not ev.get("oom_kill"),
                f"discovery: the runaway in the new group is killed whole by cgsentryd "
                f"({members}, oom_kill {ev.get('oom_kill')})", d.tail())
        destroy(g)
        R.check(d.wait_log(r"/work\.slice/new is gone", 10), "discovery: '/work.slice/new is gone'")
        time.sleep(0.5)
        fds0, w0 = d.fds(), d.inotify_watches()
        since = d.mark()
        t = time.monotonic()
        # Half the cycles as fast as possible (the daemon mostly finds the
        # group gone already), half in step with the daemon: the group (with
        # a memory.max, so a tripwire is armed) is removed once the daemon
        # supervises it, and the next one created once it has let go.
        fast = a.cycles // 2
        for i in range(a.cycles):
            p = cgpath(f"{sl}/tmp{i}")
            os.mkdir(p)
            if i >= fast:
                wfile(f"{p}/memory.max", 64 * MiB)
                # group_new() opens the directory, memory.events and
                # memory.events.local; group_close() closes them.
                wait_until(lambda: d.fds() >= fds0 + 3, 2, 0.002)
            os.rmdir(p)
            if i >= fast:
                wait_until(lambda: d.fds() <= fds0, 2, 0.002)
        dt = time.monotonic() - t
        last = a.cycles - 1
        # The daemon may never see a group that was gone before it looked;
        # settle on the counts, then report.
        wait_until(lambda: d.fds() == fds0 and d.inotify_watches() == w0, 30, 0.2)
        time.sleep(1.0)
        fds1, w1 = d.fds(), d.inotify_watches()
        n_sup = len(d.findall(r"supervising /work\.slice/tmp\d+ ", since))
        n_gone = len(d.findall(r"/work\.slice/tmp\d+ is gone", since))
        log(f"# discovery: {a.cycles} mkdir/rmdir cycles in {dt:.1f} s; the daemon supervised "
            f"{n_sup} of them and saw {n_gone} go")
        R.check(fds1 == fds0, f"discovery: open fds before/after {a.cycles} cycles: {fds0}/{fds1}",
                "\n".join(os.listdir(f"/proc/{d.pid}/fd")))
        R.check(w1 == w0, f"discovery: inotify watches before/after: {w0}/{w1}")
        R.check(n_sup == n_gone, f"discovery: every tmp group supervised was also seen gone "
                f"({n_sup}/{n_gone})")
        R.check(d.alive(), f"discovery: cgsentryd still running (last group tmp{last})", d.tail())

        # A service restart (its cgroup removed and created again under the
        # same name) while the daemon is busy elsewhere: SIGSTOP makes the
        # busy spell deterministic. The new cgroup must be supervised.
        svc = f"{sl}/svc"
        mkcg(svc, max=max_b)
        wait_armed(svc, max_b, 9000)
        os.kill(d.pid, signal.SIGSTOP)
        try:
            os.rmdir(cgpath(svc))
            mkcg(svc, max=max_b)
        finally:
            os.kill(d.pid, signal.SIGCONT)
        R.check(wait_armed(svc, max_b, 9000, timeout=5),
                "discovery: a cgroup removed and re-created under the same name while the "
                f"daemon was busy is supervised again (memory.high={read_high(svc)})",
                "dir_cb() reconciles by name only, so the watch and fds of the old cgroup "
                "stay and the new one is never supervised")
    finally:
        d.stop()
        destroy(sl)


RELOAD_CONF = """\
# cgsentryd test configuration (reload)
[Rule app]
Match=work.slice/*
Tripwire=90%
OOMGroup=yes
Cooldown=1s
"""
RELOAD_BAD = """\
# cgsentryd test configuration (reload, broken on line 4)
[Rule app]
Match=work.slice/*
Tripwire=ninety
OOMGroup=yes
Cooldown=1s
"""
RELOAD_NEW = """\
# cgsentryd test configuration (reload, new rule)
[Rule app2]
Match=work.slice/*
Tripwire=80%
OOMGroup=yes
Cooldown=1s
"""


def run_away(d, rel, rule, since, what):
    members = [spawn_sleep(rel, what="sleeper") for _ in range(2)]
    wait_started(members, rel)
    members.append(spawn_fn(rel, hog, "hog"))
    dead = wait_until(lambda: all(not p.alive() for p in members), T_KILL)
    ev = kv(f"{cgpath(rel)}/memory.events")
    line = d.wait_log(kill_rx("tripwire", rel, rule, 3), 5, since)
    return R.check(dead and line and all(p.killed_by() == signal.SIGKILL for p in members)
                   and not ev.get("oom_kill"),
                   f"reload: {what}: runaway in /{rel} killed whole by rule {rule} "
                   f"(oom_kill {ev.get('oom_kill')})", d.tail())


def sc_reload(a):
    sl = "work.slice"
    max_b = 128 * MiB
    op_high = 125 * MiB  # an operator's memory.high above the tripwire
    mkcg(sl, max=768 * MiB, subtree=True)
    mkcg(f"{sl}/r1", max=max_b)
    mkcg(f"{sl}/r2", max=max_b)
    mkcg(f"{sl}/r3", max=max_b, high=op_high)
    d = Daemon(a.daemon, "reload", RELOAD_CONF, a.out, mlock=True)
    try:
        R.check(d.ready() and all(wait_armed(f"{sl}/{g}", max_b, 9000) for g in ("r1", "r2", "r3")),
                "reload: cgsentryd started (with mlockall) and armed 3 groups", d.tail())
        R.check(not d.search(r"mlockall:") and d.vmlck_kb() > 0,
                f"reload: mlockall succeeded (VmLck {d.vmlck_kb()} kB, no mlockall warning)",
                d.tail())
        # 1. A broken configuration is rejected whole, with FILE:LINE.
        d.write_config(RELOAD_BAD)
        since = d.mark()
        d.hup()
        rejected = d.wait_log(r"reload of .* failed; keeping the previous configuration", T_READY,
                              since)
        R.check(rejected, "reload: broken config: 'keeping the previous configuration' logged",
                d.tail())
        R.check(d.search(rf"{re.escape(d.config)}:4: Tripwire=ninety: ", since),
                f"reload: broken config: error names {os.path.basename(d.config)}:4", d.tail())
        R.check(read_high(f"{sl}/r1") == str(tripwire_value(max_b, 9000)),
                f"reload: the old tripwire stays armed (memory.high={read_high(sl + '/r1')})")
        run_away(d, f"{sl}/r1", "app", since, "after the rejected reload")
        # 2. A good one takes effect: new rule name, Tripwire=80%.
        d.write_config(RELOAD_NEW)
        since = d.mark()
        d.hup()
        R.check(d.wait_log(r"reloaded: 1 rules, supervising \d+ cgroups", T_READY, since),
                "reload: good config: 'reloaded' logged", d.tail())
        R.check(wait_armed(f"{sl}/r2", max_b, 8000),
                f"reload: Tripwire=80% re-armed /work.slice/r2 (memory.high={read_high(sl + '/r2')})")
        run_away(d, f"{sl}/r2", "app2", since, "after the good reload")
        # 3. SIGTERM: exit 0, memory.high given back.
        R.check(read_high(f"{sl}/r3") == str(tripwire_value(max_b, 8000)),
                f"reload: /work.slice/r3 armed below the operator's memory.high "
                f"(memory.high={read_high(sl + '/r3')})")
        rc = d.stop()
        R.check(rc == 0, f"reload: cgsentryd exits 0 on SIGTERM (got {rc})", d.tail())
        R.check(d.search(r"Terminated: exiting"), "reload: 'exiting' logged")
        highs = {g: read_high(f"{sl}/{g}") for g in ("r1", "r2", "r3")}
        R.check(highs == {"r1": "max", "r2": "max", "r3": str(op_high)},
                f"reload: memory.high restored on exit (r1/r2 'max', r3 the operator's "
                f"{op_high}): {highs}")
        # A crash (SIGKILL) leaves the tripwire in memory.high; the next
        # daemon should still give the operator's value back when it exits.
        d2 = Daemon(a.daemon, "reload-crash", RELOAD_CONF, a.out)
        d2.ready() and wait_armed(f"{sl}/r1", max_b, 9000)
        d2.proc.kill()
        d2.proc.wait()
        d2.stop()
        d3 = Daemon(a.daemon, "reload-restart", RELOAD_CONF, a.out)
        d3.ready() and wait_armed(f"{sl}/r1", max_b, 9000)
        d3.stop()
        R.check(read_high(f"{sl}/r1") == "max", "reload: after a crash and a restart, a clean "
                f"exit restores memory.high 'max' (got {read_high(sl + '/r1')})",
                "arm_tripwire() takes the memory.high it finds, the crashed daemon's tripwire, "
                "for the operator's value")
    finally:
        d.stop()
        destroy(sl)


def sc_dryrun(a):
    conf = """\
[Rule dry]
Match=work.slice/*
Tripwire=90%
OOMGroup=yes
DryRun=yes
Cooldown=2s
"""
    sl, g = "work.slice", "work.slice/dry"
    max_b = 128 * MiB
    mkcg(sl, max=512 * MiB, subtree=True)
    mkcg(g, max=max_b)
    d = Daemon(a.daemon, "dryrun", conf, a.out)
    try:
        R.check(d.ready() and wait_armed(g, max_b, 9000) and
                d.search(r"supervising /work\.slice/dry \(rule dry, policy kernel builtin, tripwire, "
                         r"whole group, dry run\)"),
                "dryrun: cgsentryd supervises /work.slice/dry (dry run)", d.tail())
        sleepers = [spawn_sleep(g, what="sleeper") for _ in range(3)]
        wait_started(sleepers, g)
        h = spawn_fn(g, hog, "hog")
        dec = d.wait_log(kill_rx("tripwire", "work.slice/dry", "dry", 4, dry=True), T_KILL)
        R.check(dec, "dryrun: log has 'dry run: tripwire: /work.slice/dry ...; would kill 4 "
                "processes'", d.tail())
        R.check(d.wait_log(r"pid \d+ \(python3\) uid 0 in /work\.slice/dry: anon-rss \d", 5),
                "dryrun: log lists the processes it would kill, in cgsentry's own words", d.tail())
        R.check(not d.search(r"out of memory|Killed process|are going to be killed"),
                "dryrun: no line in the kernel's OOM wording (no OOM happened)", d.tail())
        time.sleep(2.0)
        R.check(all(p.alive() for p in sleepers),
                f"dryrun: the sleepers are alive 2 s after the decision ({sleepers})")
        R.check(not d.search(r"SIGKILL sent|is empty .* after the kill"),
                "dryrun: no 'SIGKILL sent' in the log")
        log(f"# dryrun: the hog is {h} (left to the kernel; memory.events "
            f"{kv(cgpath(g) + '/memory.events')})")
    finally:
        d.stop()
        destroy(sl)


def sc_protect(a):
    conf = """\
[Rule services]
Match=work.slice/*
Tripwire=90%
OOMGroup=yes
Protect=work.slice/svc/keep
Cooldown=2s
"""
    sl, g = "work.slice", "work.slice/svc"
    max_b = 128 * MiB
    mkcg(sl, max=512 * MiB, subtree=True)
    mkcg(g, max=max_b)
    # No controllers in svc's subtree_control: the children are plain
    # cgroups, charged to svc's memcg, and may hold processes.
    mkcg(f"{g}/main")
    mkcg(f"{g}/keep")
    d = Daemon(a.daemon, "protect", conf, a.out)
    try:
        R.check(d.ready() and wait_armed(g, max_b, 9000), "protect: cgsentryd armed /work.slice/svc",
                d.tail())
        members = [spawn_sleep(f"{g}/main", what="sleeper") for _ in range(2)]
        kept = spawn_sleep(f"{g}/keep", what="protected sleeper")
        wait_started(members, f"{g}/main")
        wait_started([kept], f"{g}/keep")
        members.append(spawn_fn(f"{g}/main", hog, "hog"))
        dead = wait_until(lambda: all(not p.alive() for p in members), T_KILL)
        ev = kv(f"{cgpath(g)}/memory.events")
        R.check(dead and all(p.killed_by() == signal.SIGKILL for p in members) and
                not ev.get("oom_kill"),
                f"protect: the 3 unprotected members are killed by cgsentryd ({members}, "
                f"oom_kill {ev.get('oom_kill')})", d.tail())
        R.check(d.search(kill_rx("tripwire", "work.slice/svc", "services", 3)),
                "protect: log says 'killing 3 processes of /work.slice/svc'", d.tail())
        time.sleep(0.5)
        R.check(kept.alive(), f"protect: the Protect= member survives ({kept})")
        stuck = d.wait_log(r"still has processes .* after SIGKILL", 7)
        R.check(not stuck, "protect: no 'still has processes ... stuck in D state' warning for "
                "the protected member", "confirm_cb() waits for an empty cgroup even when "
                "members were spared on purpose")
    finally:
        d.stop()
        destroy(sl)


def stubborn(stopped_fd=None):
    """A runaway that ignores SIGTERM, or (with @stopped_fd) stops allocating
    on SIGTERM, says so on @stopped_fd and hangs instead of exiting."""
    def run():
        stop = []
        if stopped_fd is not None:
            signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
        else:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        chunks = []
        while not stop:
            chunks.append(b"\x01" * MiB)
        os.write(stopped_fd, b"s")
        while True:
            signal.pause()
    return run


def sc_killsignal(a):
    conf = """\
[Rule slow]
Match=work.slice/slow
Tripwire=90%
OOMGroup=yes
KillSignal=SIGTERM:3s,SIGKILL

[Rule graceful]
Match=work.slice/*
Tripwire=90%
OOMGroup=yes
KillSignal=SIGTERM:1s,SIGKILL
Cooldown=1s
"""
    sl, g, g2 = "work.slice", "work.slice/svc", "work.slice/slow"
    max_b = 128 * MiB
    mkcg(sl, max=512 * MiB, subtree=True)
    mkcg(g, max=max_b)
    mkcg(g2, max=max_b)
    d = Daemon(a.daemon, "killsignal", conf, a.out)
    try:
        R.check(d.ready() and wait_armed(g, max_b, 9000), "killsignal: cgsentryd armed /work.slice/svc",
                d.tail())
        sleepers = [spawn_sleep(g, what="sleeper") for _ in range(2)]
        wait_started(sleepers, g)
        h = spawn_fn(g, stubborn(), "hog ignoring SIGTERM")
        members = sleepers + [h]
        died = {}

        def all_dead():
            for p in members:
                if p.pid not in died and not p.alive():
                    died[p.pid] = time.monotonic()
            return len(died) == len(members)
        dead = wait_until(all_dead, T_KILL, 0.01)
        ev = kv(f"{cgpath(g)}/memory.events")
        R.check(dead and all(p.killed_by() == signal.SIGTERM for p in sleepers),
                f"killsignal: SIGTERM first: the sleepers die of it ({sleepers})", d.tail())
        grace = died.get(h.pid, 0) - max(died.get(p.pid, 0) for p in sleepers)
        R.check(dead and h.killed_by() == signal.SIGKILL and 0.8 <= grace <= 5,
                f"killsignal: SIGKILL {grace:.2f} s later for the process ignoring SIGTERM ({h})",
                d.tail())
        R.check(not ev.get("oom_kill"), f"killsignal: no kernel OOM kill during the grace period "
                f"(oom_kill {ev.get('oom_kill')})")
        R.check(d.wait_log(r"/work\.slice/svc is empty \d+ ms after the kill", 5),
                "killsignal: '/work.slice/svc is empty' logged", d.tail())

        # A reload (SIGHUP, same configuration) during the grace period must
        # not cancel the SIGKILL. This runaway stops allocating on SIGTERM
        # (and hangs), so nothing triggers a second decision.
        since = d.mark()
        rfd, wfd = os.pipe()
        h2 = spawn_fn(g2, stubborn(stopped_fd=wfd), "hog hanging on SIGTERM")
        os.close(wfd)
        R.check(d.wait_log(kill_rx("tripwire", "work.slice/slow", "slow", 1), T_KILL, since), "killsignal: second runaway (3 s grace): decision taken",
                d.tail())
        # Reload once the runaway has stopped allocating, so that the rebuilt
        # group sees no new memory.high event and takes no second decision.
        stopped = select.select([rfd], [], [], 2.5)[0]
        os.close(rfd)
        R.check(stopped, "killsignal: the runaway got SIGTERM and stopped allocating")
        d.hup()
        R.check(d.wait_log(r"reloaded: 2 rules", T_READY, since), "killsignal: reloaded during "
                "the grace period", d.tail())
        R.check(wait_until(lambda: not h2.alive(), 5), f"killsignal: the SIGKILL still comes "
                f"after a reload during the grace period ({h2})", "a reload closes the group "
                "and its grace timer (group_close()), so the SIGKILL is never sent")
    finally:
        d.stop()
        destroy(sl)


def sc_scope(a):
    conf = """\
[Rule services]
Match=work.slice/*
Tripwire=90%
OOMGroup=yes
Cooldown=2s
"""
    max_b = 128 * MiB
    mkcg("work.slice", max=512 * MiB, subtree=True)
    mkcg("work.slice/app", max=max_b)
    mkcg("other.slice", max=512 * MiB, subtree=True)
    g = "other.slice/svc"
    mkcg(g, max=max_b)
    d = Daemon(a.daemon, "scope", conf, a.out)
    try:
        R.check(d.ready() and wait_armed("work.slice/app", max_b, 9000),
                "scope: cgsentryd supervises /work.slice/app", d.tail())
        sleepers = [spawn_sleep(g, what="sleeper") for _ in range(2)]
        wait_started(sleepers, g)
        h = spawn_fn(g, hog, "hog")
        dead = wait_until(lambda: not h.alive(), T_KILL)
        ev = kv(f"{cgpath(g)}/memory.events")
        R.check(dead and ev.get("oom_kill", 0) >= 1,
                f"scope: the unmatched hog is left to the kernel ({h}, oom_kill "
                f"{ev.get('oom_kill')})")
        time.sleep(1.0)
        R.check(all(p.alive() for p in sleepers),
                f"scope: its siblings are alive ({sleepers})")
        R.check(not d.search(r"other\.slice"), "scope: the log never mentions /other.slice",
                d.tail())
        R.check(read_high(g) == "max", f"scope: memory.high of the unmatched group untouched "
                f"({read_high(g)})")
    finally:
        d.stop()
        destroy("other.slice")
        destroy("work.slice")


class Zram:
    def __init__(self, size="512M"):
        self.on = False
        subprocess.run(["modprobe", "zram"], check=True, capture_output=True, timeout=60)
        wait_until(lambda: os.path.exists("/dev/zram0"), 10)
        if int(rfile("/sys/block/zram0/disksize")) == 0:
            wfile("/sys/block/zram0/disksize", size)
        subprocess.run(["mkswap", "/dev/zram0"], check=True, capture_output=True, timeout=60)
        subprocess.run(["swapon", "/dev/zram0"], check=True, capture_output=True, timeout=60)
        self.on = True

    def off(self):
        if self.on:
            subprocess.run(["swapoff", "/dev/zram0"], capture_output=True, timeout=300)
            self.on = False


def sc_psi(a):
    conf = """\
[Rule thrash]
Match=work.slice/*
OOMGroup=yes
Tripwire=off
PressureStall=some 10% 1s
Cooldown=2s
"""
    try:
        z = Zram()
    except (OSError, subprocess.SubprocessError) as e:
        R.check(False, f"psi: zram swap set up ({e})")
        return
    sl, g = "work.slice", "work.slice/thrash"
    max_b = 48 * MiB
    try:
        log(f"# psi: swap {rfile('/proc/swaps').splitlines()[-1].split()[:3]}")
        mkcg(sl, max=512 * MiB, subtree=True)
        mkcg(g, max=max_b)
        wfile(f"{cgpath(g)}/memory.swap.max", "max")
        mkcg(f"{sl}/calm", max=64 * MiB)
        d = Daemon(a.daemon, "psi", conf, a.out)
        try:
            R.check(d.ready() and d.search(r"supervising /work\.slice/thrash \(rule thrash, "
                                           r"policy kernel builtin, pressure, whole group\)"),
                    "psi: cgsentryd supervises /work.slice/thrash with a PSI trigger", d.tail())
            calm = spawn_sleep(f"{sl}/calm", what="calm neighbour")
            s = spawn_sleep(g, what="sleeper")
            wait_started([s], g)
            t = time.monotonic()
            th = spawn_fn(g, thrasher(2 * max_b), "thrasher")
            members = [s, th]
            peak = [0]

            def done():
                sc = kv(f"{cgpath(g)}/memory.stat").get("anon", 0) and \
                    int(rfile(f"{cgpath(g)}/memory.swap.current"))
                peak[0] = max(peak[0], sc or 0)
                return all(not p.alive() for p in members)
            dead = wait_until(done, 120)
            dt = time.monotonic() - t
            ev = kv(f"{cgpath(g)}/memory.events")
            st = kv(f"{cgpath(g)}/memory.stat")
            sw = kv(f"{cgpath(g)}/memory.swap.events")
            R.check(dead and all(p.killed_by() == signal.SIGKILL for p in members),
                    f"psi: the thrashing group is killed whole, {dt:.1f} s after it started "
                    f"({members})", d.tail())
            R.check(d.search(kill_rx("pressure", "work.slice/thrash", "thrash", 2)),
                    "psi: on the 'pressure' trigger", d.tail())
            R.check(not ev.get("oom_kill"), f"psi: the kernel did not OOM-kill "
                    f"(oom_kill {ev.get('oom_kill')}, max {ev.get('max')})")
            log(f"# psi: the group had {ev.get('max')} memory.max events, "
                f"{st.get('workingset_refault_anon')} anon refaults, "
                f"{st.get('pgmajfault')} major faults, swap.events {sw}, "
                f"memory.swap.current peak {peak[0] // MiB} MiB; "
                f"{rfile(cgpath(g) + '/memory.pressure').splitlines()[0]}")
            R.check(calm.alive(), f"psi: the neighbour is alive ({calm})")
        finally:
            d.stop()
    finally:
        destroy(sl)
        z.off()


def sc_control(a):
    """Status, metrics, textfile and an after-kill hook around one real kill."""
    cli = os.path.join(os.path.dirname(a.daemon), "cgsentry")
    work = tempfile.mkdtemp(prefix="cgsentry-control-")   # 0700, root: a trusted hook dir
    sock, prom, envf = f"{work}/control.sock", f"{work}/cgsentry.prom", f"{work}/hook.env"
    hook = f"{work}/after-kill"
    with open(hook, "w") as f:
        f.write(f"#!/bin/sh\nenv > {envf}.tmp && mv {envf}.tmp {envf}\necho paged\n")
    os.chmod(hook, 0o755)
    conf = f"""\
[Daemon]
ControlSocket={sock}
MetricsTextfile={prom}

[Rule services]
Match=work.slice/*
Tripwire=90%
OOMGroup=yes
ExecAfterKill={hook} --page
"""
    sl, g = "work.slice", "work.slice/svc"
    mkcg(sl, max=512 * MiB, subtree=True)
    mkcg(g, max=128 * MiB)
    d = Daemon(a.daemon, "control", conf, a.out)

    def ask(*args, user=None):
        argv = [cli, *args, "--socket", sock]
        if user is not None:
            argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] + argv
        return subprocess.run(argv, capture_output=True, text=True, timeout=60)

    try:
        R.check(d.ready() and wait_armed(g, 128 * MiB, 9000), "control: cgsentryd started",
                d.tail())
        s = ask("status", "--json")
        st = json.loads(s.stdout) if s.returncode == 0 else {}
        R.check(s.returncode == 0 and st.get("daemon", {}).get("supervised_groups") == 1 and
                st["groups"][0]["cgroup"] == g and
                st["groups"][0]["armed"]["tripwire"]["memory_high"] == int(read_high(g)),
                "control: status --json lists /work.slice/svc with the tripwire it armed",
                s.stdout[-2000:] + s.stderr)
        members = [spawn_sleep(g, what="sleeper") for _ in range(2)]
        wait_started(members, g)
        members.append(spawn_fn(g, hog, "hog"))
        dead = wait_until(lambda: all(not p.alive() for p in members), T_KILL)
        R.check(dead, f"control: the runaway group is killed ({members})", d.tail())
        R.check(wait_until(lambda: os.path.exists(envf), 10),
                "control: the ExecAfterKill= hook ran", d.tail())
        env = dict(line.split("=", 1) for line in rfile(envf).splitlines() if "=" in line)
        pids = sorted(int(x) for x in env.get("CGSENTRY_KILLED_PIDS", "").split())
        R.check(env.get("CGSENTRY_EVENT") == "after-kill" and env.get("CGSENTRY_CGROUP") == g and
                env.get("CGSENTRY_TRIGGER") == "tripwire" and
                env.get("CGSENTRY_RULE") == "services" and
                pids == sorted(p.pid for p in members) and
                int(env.get("CGSENTRY_MEMORY_MAX", 0)) == 128 * MiB and
                int(env.get("CGSENTRY_MEMORY_CURRENT", 0)) > 64 * MiB,
                "control: the hook's environment names the group, trigger, rule, the 3 "
                "killed pids and the memory figures", repr(env))
        R.check(d.wait_log(r"after-kill hook \S+after-kill: paged$", 10) and
                d.wait_log(r"after-kill hook \S+ for /work\.slice/svc done in \d+ ms", 10),
                "control: the hook's output and exit are in the daemon's log", d.tail())

        def emptied():
            r = ask("status", "--json", g)
            return r.returncode == 0 and \
                (json.loads(r.stdout).get("recent_kills") or [{}])[-1].get("outcome") == "emptied"
        R.check(wait_until(emptied, 10), "control: status shows the kill confirmed (emptied)",
                ask("status", "--json", g).stdout[-3000:])
        st = json.loads(ask("status", "--json").stdout)
        k = st["recent_kills"][-1]
        R.check(st["daemon"]["kills"]["by_trigger"].get("tripwire") == 1 and
                k["trigger"] == "tripwire" and k["processes"] == 3 and
                k["kill_cgroup"] == g and 0 < (k["reaction_usec"] or 0) < 5000000 and
                k["emptied_msec"] is not None and st["daemon"]["hooks"]["started"] == 1,
                f"control: the kill in status: trigger tripwire, 3 processes, first signal "
                f"{k.get('reaction_usec')} us after the event, gone {k.get('emptied_msec')} ms "
                "later; one hook run", json.dumps(k))
        t = ask("status", g)
        R.check(t.returncode == 0 and f"● /{g}" in t.stdout and "Last kill:" in t.stdout,
                "control: 'cgsentry status CGROUP' shows the group and its last kill",
                t.stdout + t.stderr)
        log("# " + "\n# ".join(t.stdout.splitlines()))
        m = ask("metrics")
        R.check(m.returncode == 0 and
                'cgsentry_kills_total{trigger="tripwire",rule="services",policy="kernel"} 1\n'
                in m.stdout and "cgsentry_kill_reaction_seconds_count 1\n" in m.stdout,
                "control: metrics count the kill and its reaction time", m.stdout[-3000:])
        # tools/test.sh extracts promtool there (tools/deps.sh)
        promtool = os.environ.get("CGSENTRY_PROMTOOL") or os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "../../build/tools/prometheus/usr/bin/promtool")
        if promtool and os.access(promtool, os.X_OK):
            p = subprocess.run([promtool, "check", "metrics"], input=m.stdout,
                               capture_output=True, text=True)
            R.check(p.returncode == 0, "control: promtool check metrics passes",
                    p.stdout + p.stderr)
        R.check(wait_until(lambda: os.path.exists(prom) and
                           'cgsentry_kills_total{trigger="tripwire"' in rfile(prom), 10),
                "control: MetricsTextfile= has the kill", d.tail())
        n = ask("status", user=65534)
        R.check(n.returncode == 2 and "permission denied" in n.stderr,
                "control: a non-root user is refused with a clear message",
                f"rc {n.returncode}: {n.stderr}")
        u = ask("status", "work.slice/nope")
        R.check(u.returncode == 1, "control: status of an unsupervised group exits 1",
                f"rc {u.returncode}: {u.stderr}")
    finally:
        R.check(d.stop() == 0, f"control: cgsentryd exits 0 (got {d.rc})")
        R.check(not os.path.exists(sock), "control: the socket is removed on exit")
        gone = ask("status")
        R.check(gone.returncode == 3, "control: status exits 3 once cgsentryd is gone",
                f"rc {gone.returncode}: {gone.stderr}")
        destroy(sl)


SCENARIOS = [
    ("tripwire", sc_tripwire),
    ("oomkill", sc_oomkill),
    ("discovery", sc_discovery),
    ("reload", sc_reload),
    ("dryrun", sc_dryrun),
    ("protect", sc_protect),
    ("killsignal", sc_killsignal),
    ("scope", sc_scope),
    ("control", sc_control),
    ("psi", sc_psi),   # last: it turns on swap
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--daemon", required=True, help="path of cgsentryd")
    ap.add_argument("--out", help="keep daemon logs here (default $CGSENTRY_RESULTS/daemon)")
    ap.add_argument("--runs", type=int, default=20, help="tripwire runs (default 20)")
    ap.add_argument("--runaway-mib", type=int, default=256,
                    help="memory.max of the tripwire runaway service (default 256)")
    ap.add_argument("--cycles", type=int, default=1000, help="discovery mkdir/rmdir cycles")
    ap.add_argument("--only", help="comma-separated scenario names")
    ap.add_argument("--force", action="store_true", help="run outside the sandbox anyway")
    a = ap.parse_args()

    if os.environ.get("CGSENTRY_SANDBOX") != "1" and not a.force:
        sys.exit("daemon.py: refusing to run outside the test VM (tests/vm/sandbox.sh); "
                 "it kills processes and turns on swap. --force overrides.")
    if os.geteuid() != 0:
        sys.exit("daemon.py: needs root")
    a.daemon = os.path.abspath(a.daemon)
    if not os.access(a.daemon, os.X_OK):
        sys.exit(f"daemon.py: {a.daemon}: not executable")
    if not a.out and os.environ.get("CGSENTRY_RESULTS"):
        a.out = os.path.join(os.environ["CGSENTRY_RESULTS"], "daemon")
    only = set(a.only.split(",")) if a.only else None
    if only and only - {n for n, _ in SCENARIOS}:
        sys.exit(f"daemon.py: unknown scenario(s): {','.join(only - {n for n, _ in SCENARIOS})}")

    log(f"# kernel {os.uname().release}, {os.cpu_count()} cpus, "
        f"{rfile('/proc/meminfo').splitlines()[0].split()[1]} kB, "
        f"{subprocess.run([a.daemon, '--version'], capture_output=True, text=True).stdout.strip()}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t0 = time.monotonic()
    for name, fn in SCENARIOS:
        if only and name not in only:
            continue
        log(f"# --- {name}")
        t = time.monotonic()
        try:
            fn(a)
        except Exception as e:  # a harness error fails the scenario, not the run
            import traceback
            R.check(False, f"{name}: scenario ran to the end ({type(e).__name__}: {e})",
                    traceback.format_exc())
            for rel in ("work.slice", "other.slice"):
                destroy(rel)
        log(f"# {name}: {time.monotonic() - t:.0f} s")
    reap_all()
    log(f"# total {time.monotonic() - t0:.0f} s")
    if R.todo:
        log(f"# {R.todo} known daemon issue(s) marked TODO above (not counted as failures)")
    log(f"daemon: {R.passed} passed, {R.failed} failed")
    return 0 if R.failed == 0 and R.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())

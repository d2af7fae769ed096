#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""cgsentryd beside the kernel alone and earlyoom, on a real kernel.

Guest side (run as root inside tests/vm/sandbox.sh, cgroup v2 at /sys/fs/cgroup):

    arena.py guest main     --build BUILD --out DIR [--quick]
    arena.py guest smallram --build BUILD --out DIR [--quick]

writes DIR/main.json or DIR/smallram.json. Host side:

    arena.py report DIR     prints the Markdown report of DIR/*.json

Python 3 standard library only. Timings are measured, never judged: the
harness does not fail on a number, only when it cannot run at all.
"""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

CG = "/sys/fs/cgroup"
MiB = 1 << 20
T_START = time.monotonic()


def progress(msg):
    print(f"[arena {time.monotonic() - T_START:6.1f}s] {msg}", flush=True)


# ---- small file helpers ---------------------------------------------------------


def rd(path):
    with open(path) as f:
        return f.read()


def wr(path, value):
    with open(path, "w") as f:
        f.write(str(value))


def try_wr(path, value):
    try:
        wr(path, value)
        return True
    except OSError:
        return False


def kv(path):
    """memory.events, cgroup.events, /proc/vmstat: 'key value' lines."""
    out = {}
    try:
        for line in rd(path).splitlines():
            k, _, v = line.partition(" ")
            if v.strip().lstrip("-").isdigit():
                out[k] = int(v)
    except OSError:
        pass
    return out


def meminfo():
    out = {}
    for line in rd("/proc/meminfo").splitlines():
        k, v = line.split(":", 1)
        out[k] = int(v.split()[0]) * 1024
    return out


def populated(cg):
    return kv(f"{CG}/{cg}/cgroup.events").get("populated", 0) == 1


def procs(cg):
    try:
        return [int(p) for p in rd(f"{CG}/{cg}/cgroup.procs").split()]
    except OSError:
        return []


def alive(pid):
    """Our child @pid still runs (reaps it if it died)."""
    try:
        r, _ = os.waitpid(pid, os.WNOHANG)
        return r == 0
    except ChildProcessError:
        return False


def reap(pids, timeout=5.0):
    end = time.monotonic() + timeout
    for p in pids:
        while True:
            try:
                r, _ = os.waitpid(p, os.WNOHANG)
            except ChildProcessError:
                break
            if r or time.monotonic() > end:
                break
            time.sleep(0.01)


def mkcg(cg, controllers=None, **files):
    os.makedirs(f"{CG}/{cg}", exist_ok=True)
    if controllers:
        wr(f"{CG}/{cg}/cgroup.subtree_control", controllers)
    for k, v in files.items():
        wr(f"{CG}/{cg}/{k.replace('__', '.')}", v)


def kill_and_remove(cg, timeout=10.0):
    """Empty @cg (and below) with cgroup.kill and remove the whole subtree."""
    path = f"{CG}/{cg}"
    if not os.path.isdir(path):
        return
    try_wr(f"{path}/cgroup.kill", 1)
    end = time.monotonic() + timeout
    while populated(cg) and time.monotonic() < end:
        time.sleep(0.01)
    for root, dirs, _ in sorted(os.walk(path), key=lambda x: -x[0].count("/")):
        for attempt in range(50):
            try:
                os.rmdir(root)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.02)


def pctl(values, p):
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return None
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(-(-p * len(v) // 100)) - 1))
    return v[k]


# ---- processes in cgroups ---------------------------------------------------------


def _child_enter(cg):
    """In a forked child: join @cg, drop the harness's -1000 OOM protection."""
    wr(f"{CG}/{cg}/cgroup.procs", 0)
    wr("/proc/self/oom_score_adj", 0)


def fork_in(cg, fn):
    """Fork a child that joins @cg and runs fn() (never returns)."""
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            _child_enter(cg)
            fn()
        except MemoryError:
            code = 3
        except BaseException:
            code = 1
        os._exit(code)
    return pid


def exec_in(cg, argv):
    pid = os.fork()
    if pid == 0:
        try:
            _child_enter(cg)
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    return pid


SLEEP = ["/bin/busybox", "sleep", "100000"] if os.path.exists("/bin/busybox") else ["/bin/sleep", "100000"]


def hog(chunk_mib):
    """The runaway: allocate and touch @chunk_mib at a time, as fast as it can."""
    def run():
        leak = []
        while True:
            leak.append(b"\x02" * (chunk_mib * MiB))
    return run


def holder(mib):
    """A well-behaved neighbour: holds @mib and sleeps."""
    def run():
        keep = b"\x01" * (mib * MiB)  # noqa: F841 (held, touched)
        while True:
            signal.pause()
    return run


def reset_adj():
    try:
        wr("/proc/self/oom_score_adj", 0)
    except OSError:
        pass


def proc_stats(pid):
    """Context switches, CPU time and memory of @pid from /proc."""
    st = {}
    try:
        for line in rd(f"/proc/{pid}/status").splitlines():
            k, v = line.split(":", 1)
            if k in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"):
                st[k] = int(v)
            elif k in ("VmRSS", "VmHWM", "VmLck", "RssAnon", "RssFile", "RssShmem", "VmSize"):
                st[k] = int(v.split()[0]) * 1024
        fields = rd(f"/proc/{pid}/stat").rsplit(")", 1)[1].split()
        st["cpu_ticks"] = int(fields[11]) + int(fields[12])  # utime + stime
        st["clk_tck"] = os.sysconf("SC_CLK_TCK")
        try:
            st["cpu_ns"] = int(rd(f"/proc/{pid}/schedstat").split()[0])
        except (OSError, IndexError, ValueError):
            pass
        st["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        pass
    return st


def smaps_breakdown(pid):
    """Rss per mapping (library basename, [heap], [stack], anon), largest first."""
    out = {}
    name = None
    try:
        for line in rd(f"/proc/{pid}/smaps").splitlines():
            parts = line.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                name = os.path.basename(parts[5]) if len(parts) >= 6 else "[anon]"
            elif parts and parts[0] == "Rss:":
                out[name] = out.get(name, 0) + int(parts[1]) * 1024
    except OSError:
        pass
    return sorted(([k, v] for k, v in out.items() if v), key=lambda x: -x[1])


# ---- daemons ------------------------------------------------------------------------


class Daemon:
    """A daemon with its output in a file and, optionally, an sd_notify socket."""
    seq = 0

    def __init__(self, name, argv, notify=False, nofile=None, keep_adj=False):
        Daemon.seq += 1
        self.name = name
        self.log_path = f"/tmp/arena-{name}-{Daemon.seq}.log"
        self.notes = []  # (monotonic, message)
        self.sock = None
        env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "LANG": "C.UTF-8"}
        if notify:
            addr = f"\0cgsentry-arena-{os.getpid()}-{Daemon.seq}"
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * MiB)
            self.sock.bind(addr)
            env["NOTIFY_SOCKET"] = "@" + addr[1:]
            threading.Thread(target=self._notify_loop, daemon=True).start()

        def pre():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
            if not keep_adj:
                reset_adj()

        self.logf = open(self.log_path, "wb")
        self.t_start = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT, env=env, preexec_fn=pre)
        self.pid = self.proc.pid

    def _notify_loop(self):
        while True:
            try:
                data = self.sock.recv(4096)
            except OSError:
                return
            self.notes.append((time.monotonic(), data.decode(errors="replace")))

    def ready_after(self):
        for t, m in self.notes:
            if "READY=1" in m.split("\n"):
                return t - self.t_start
        return None

    def wait_ready(self, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.proc.poll() is None:
            r = self.ready_after()
            if r is not None:
                return r
            time.sleep(0.005)
        return None

    def log(self, offset=0):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def wait_log(self, pattern, timeout, poll=0.002):
        """Seconds from start until @pattern appears in the log (None: never)."""
        rx = re.compile(pattern, re.M)
        end = time.monotonic() + timeout
        off, buf = 0, ""
        while True:
            chunk = self.log(off)
            off += len(chunk.encode())
            buf = buf[-4096:] + chunk
            m = rx.search(buf)
            if m:
                return time.monotonic() - self.t_start, m
            if time.monotonic() > end or self.proc.poll() is not None:
                return None, None
            time.sleep(poll)

    def stop(self, timeout=120):
        t = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.sock:
            self.sock.close()
        self.logf.close()
        return time.monotonic() - t


def cgsentryd(build, conf_text, extra=(), name="cgsentryd"):
    conf = f"/tmp/arena-{name}-{Daemon.seq + 1}.conf"
    wr(conf, conf_text)
    exe = os.path.join(build, "daemon", "cgsentryd")
    return Daemon(name, [exe, *extra, "-c", conf], notify=True, nofile=1 << 20, keep_adj=True)


def earlyoom():
    # Debian's default arguments (/etc/default/earlyoom).
    return Daemon("earlyoom", [shutil.which("earlyoom") or "/usr/bin/earlyoom", "-r", "3600"])


RULE_SERVICES = """[Rule arena]
Match=arena.slice/*.service
OOMGroup=yes
Tripwire=90%
OnKernelOOMKill=group-kill
"""

KILL_RX = re.compile(r"SIGKILL sent to /(\S+) (\d+) us after the event")


# ---- reaction ------------------------------------------------------------------------


class Arena:
    """arena.slice: two innocent neighbours, and a runaway service per run."""

    def __init__(self, svc_max):
        kill_and_remove("arena.slice")
        mkcg("arena.slice", "+memory +pids")
        self.svc_max = svc_max
        self.neighbours = {}
        for name, mib in (("web", 32), ("db", 64)):
            self.start_neighbour(name, mib)

    def start_neighbour(self, name, mib):
        cg = f"arena.slice/{name}.service"
        if os.path.isdir(f"{CG}/{cg}"):
            kill_and_remove(cg)
        mkcg(cg)
        if self.svc_max:
            wr(f"{CG}/{cg}/memory.max", self.svc_max)
        self.neighbours[name] = (fork_in(cg, holder(mib)), mib)

    def neighbours_alive(self):
        ok = {n: alive(p) for n, (p, _) in self.neighbours.items()}
        for n, a in ok.items():
            if not a:  # respawn for the next run, but report this one
                self.start_neighbour(n, self.neighbours[n][1])
        return all(ok.values()), [n for n, a in ok.items() if not a]

    def close(self):
        kill_and_remove("arena.slice")
        reap([p for p, _ in self.neighbours.values()])


def run_runaway(arena, tag, *, limit, oom_group=False, ref_bytes, chunk_mib=8, n_sleepers=3,
                timeout=60.0, settle=1.5, daemon=None, peer=None, tripwire=None):
    """One runaway service from start to (hopefully) empty; returns a record."""
    cg = f"arena.slice/{tag}.service"
    mkcg(cg)
    if limit:
        wr(f"{CG}/{cg}/memory.max", limit)
    if oom_group:
        wr(f"{CG}/{cg}/memory.oom.group", 1)
    rec = {"tag": tag, "limit": limit, "ref_bytes": ref_bytes, "oom_group": oom_group}
    if tripwire:
        # The service is supervised before it runs away: wait for cgsentryd to
        # arm the tripwire (it sees the memory.max write through inotify).
        # The kernel keeps memory.high in pages: the value read back is
        # cgsentryd's, rounded down to a page.
        def armed():
            v = rd(f"{CG}/{cg}/memory.high").strip()
            return v != "max" and abs(int(v) - tripwire) < 4096

        end = time.monotonic() + 5
        while time.monotonic() < end and not armed():
            time.sleep(0.005)
        rec["tripwire_armed"] = armed()
    sleepers = [exec_in(cg, SLEEP) for _ in range(n_sleepers)]
    while len(procs(cg)) < n_sleepers:
        time.sleep(0.002)
    vm0 = kv("/proc/vmstat").get("oom_kill", 0)
    dlog0 = daemon.log_size() if daemon else 0
    plog0 = peer.log_size() if peer else 0
    fd_cur = os.open(f"{CG}/{cg}/memory.current", os.O_RDONLY)
    fd_ev = os.open(f"{CG}/{cg}/cgroup.events", os.O_RDONLY)
    peak, min_avail = 0, None
    t_ref = t_dead = t_empty = None
    hog_status = None
    n = 0
    t0 = time.monotonic()
    hogpid = fork_in(cg, hog(chunk_mib))
    while True:
        now = time.monotonic()
        cur = int(os.pread(fd_cur, 64, 0))
        pop = b"populated 1" in os.pread(fd_ev, 256, 0)
        peak = max(peak, cur)
        if t_ref is None and cur >= ref_bytes:
            t_ref = now
        if n % 8 == 0:
            a = meminfo()["MemAvailable"]
            min_avail = a if min_avail is None else min(min_avail, a)
        n += 1
        if t_dead is None:
            r, status = os.waitpid(hogpid, os.WNOHANG)
            if r:
                t_dead = now
                hog_status = (f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
                              else f"exit {os.WEXITSTATUS(status)}")
        if not pop:
            t_empty = now
            break
        if t_dead is not None and now - t_dead > settle:
            break
        if now - t0 > timeout:
            break
        time.sleep(0.001)
    os.close(fd_cur)
    os.close(fd_ev)
    left = procs(cg)
    ev = kv(f"{CG}/{cg}/memory.events")
    time.sleep(0.2)  # let the daemons finish their log lines
    rec.update({
        "samples": n,
        "peak_bytes": peak,
        "min_avail_bytes": min_avail,
        "start_to_ref_s": None if t_ref is None else t_ref - t0,
        "ref_to_hog_dead_s": None if (t_ref is None or t_dead is None) else t_dead - t_ref,
        "ref_to_empty_s": None if (t_ref is None or t_empty is None) else t_empty - t_ref,
        "start_to_hog_dead_s": None if t_dead is None else t_dead - t0,
        "start_to_empty_s": None if t_empty is None else t_empty - t0,
        "hog_status": hog_status,
        "timeout": t_dead is None and t_empty is None,
        "left": len(left),
        "whole_group_died": t_empty is not None,
        "memcg_oom_kill": ev.get("oom_kill", 0),
        "memcg_high": ev.get("high", 0),
        "memcg_max": ev.get("max", 0),
        "global_oom_kill": kv("/proc/vmstat").get("oom_kill", 0) - vm0,
    })
    if daemon:
        text = daemon.log(dlog0)
        kills = [(m.group(1), int(m.group(2))) for m in KILL_RX.finditer(text)]
        rec["daemon_kills"] = [k for k in kills if k[0] == cg]
        rec["daemon_latency_us"] = [us for p, us in kills if p == cg]
        trig = re.findall(r"(tripwire|kernel-oom-kill|pressure): /" + re.escape(cg) + " ", text)
        rec["daemon_triggers"] = trig
    if peer:
        text = peer.log(plog0)
        rec["peer_kills"] = len(re.findall(r"sending SIG(?:TERM|KILL) to process", text))
        rec["peer_log"] = [ln for ln in text.splitlines() if "sending SIG" in ln or "kill" in ln.lower()][:6]
    who = []
    if rec["memcg_oom_kill"] or rec["global_oom_kill"]:
        who.append("kernel")
    if daemon and rec["daemon_kills"]:
        who.append("cgsentryd")
    if peer and rec["peer_kills"]:
        who.append("earlyoom")
    rec["who"] = "+".join(who) or ("nobody (timeout)" if rec["timeout"] else "nobody")
    rec["neighbours_alive"], rec["neighbours_dead"] = arena.neighbours_alive()
    kill_and_remove(cg)
    reap([hogpid, *sleepers])
    return rec


def reaction_limit(build, n_runs, results):
    """Runaway service against its own memory.max in a slice, 2 neighbours."""
    limit = 256 * MiB
    ref = int(limit * 0.85)
    variants = ["kernel", "kernel+oom.group", "cgsentryd", "earlyoom"]
    progress(f"reaction (memcg limit 256 MiB): {n_runs} runs x {len(variants)} variants")
    arena = Arena(limit)
    mkcg("arena.slice", memory__max=1024 * MiB)
    runs = []
    try:
        for i in range(n_runs):
            for v in variants:
                d = p = None
                if v == "cgsentryd":
                    d = cgsentryd(build, RULE_SERVICES, name="cgsentryd-reaction")
                    d.wait_ready(60)
                elif v == "earlyoom":
                    p = earlyoom()
                    p.wait_log(r"mem (total|avail)", 10)
                try:
                    tw = limit // 10000 * 9000 + limit % 10000 * 9000 // 10000
                    rec = run_runaway(arena, f"runaway-{i}-{v.replace('+', '-').replace('.', '-')}",
                                      limit=limit, oom_group=(v == "kernel+oom.group"), ref_bytes=ref,
                                      daemon=d, peer=p, tripwire=tw if d else None)
                finally:
                    if d:
                        d.stop()
                    if p:
                        p.stop()
                rec["variant"] = v
                rec["run"] = i
                runs.append(rec)
                progress(f"  {v:18} run {i}: who={rec['who']:16} whole={rec['whole_group_died']!s:5} "
                         f"left={rec['left']} 85%->dead={fmt_s(rec['ref_to_hog_dead_s'])} "
                         f"85%->empty={fmt_s(rec['ref_to_empty_s'])} neighbours={rec['neighbours_alive']}")
    finally:
        arena.close()
    results["reaction_limit"] = {"limit": limit, "ref_fraction": 0.85, "runs": runs}


def reaction_smallram(build, n_runs, results):
    """No limit: the runaway exhausts the guest's RAM (kernel, earlyoom), or a
    limit at 75% of RAM with cgsentryd's tripwire (and the same limit alone)."""
    total = meminfo()["MemTotal"]
    limit = int(total * 0.75) // 4096 * 4096
    ref = int(total * 0.60)
    variants = ["kernel", "earlyoom", "kernel+limit75", "cgsentryd+limit75"]
    progress(f"reaction (small RAM, MemTotal {total // MiB} MiB, no limit / limit {limit // MiB} MiB): "
             f"{n_runs} runs x {len(variants)} variants")
    arena = Arena(None)
    runs = []
    try:
        for i in range(n_runs):
            for v in variants:
                d = p = None
                if v.startswith("cgsentryd"):
                    d = cgsentryd(build, RULE_SERVICES, name="cgsentryd-smallram")
                    d.wait_ready(60)
                elif v == "earlyoom":
                    p = earlyoom()
                    p.wait_log(r"mem (total|avail)", 10)
                lim = limit if "limit75" in v else None
                tw = limit // 10000 * 9000 + limit % 10000 * 9000 // 10000
                try:
                    rec = run_runaway(arena, f"runaway-{i}-{v.replace('+', '-')}", limit=lim,
                                      ref_bytes=ref, daemon=d, peer=p, timeout=90.0,
                                      tripwire=tw if d else None)
                finally:
                    if d:
                        d.stop()
                    if p:
                        p.stop()
                rec["variant"] = v
                rec["run"] = i
                runs.append(rec)
                progress(f"  {v:18} run {i}: who={rec['who']:16} whole={rec['whole_group_died']!s:5} "
                         f"left={rec['left']} 60%->dead={fmt_s(rec['ref_to_hog_dead_s'])} "
                         f"60%->empty={fmt_s(rec['ref_to_empty_s'])} "
                         f"minavail={(rec['min_avail_bytes'] or 0) // MiB}MiB neighbours={rec['neighbours_alive']}")
    finally:
        arena.close()
    results["reaction_smallram"] = {"mem_total": total, "limit": limit, "ref_fraction_of_ram": 0.60,
                                    "runs": runs}


def fmt_s(v):
    return "-" if v is None else f"{v * 1000:.0f}ms"


# ---- latency ------------------------------------------------------------------------


def latency(build, n_kills, n_big, results):
    """cgsentryd's own event->SIGKILL latency over many tripwire kills (one
    daemon: the first kill is cold, the others warm), then a few of 256 MiB
    services like the reaction runs'."""
    limit = 64 * MiB
    progress(f"latency: {n_kills} tripwire kills of a 64 MiB service (hog + 1 sleeper), "
             f"then {n_big} of a 256 MiB one (hog + 3 sleepers)")
    arena = Arena(256 * MiB)
    d = cgsentryd(build, RULE_SERVICES, name="cgsentryd-latency")
    d.wait_ready(60)
    runs = []
    tw = limit // 10000 * 9000 + limit % 10000 * 9000 // 10000
    try:
        for i in range(n_kills):
            rec = run_runaway(arena, f"lat-{i}", limit=limit, ref_bytes=int(limit * 0.85), chunk_mib=4,
                              n_sleepers=1, timeout=30.0, settle=1.0, daemon=d, tripwire=tw)
            runs.append(rec)
        big = 256 * MiB
        tw_big = big // 10000 * 9000 + big % 10000 * 9000 // 10000
        runs_big = [run_runaway(arena, f"lat-big-{i}", limit=big, ref_bytes=int(big * 0.85),
                                daemon=d, tripwire=tw_big) for i in range(n_big)]
    finally:
        d.stop()
        arena.close()
    us = [u for r in runs for u in r.get("daemon_latency_us", [])]
    results["latency"] = {"runs": runs, "latency_us": us, "runs_big": runs_big,
                          "latency_us_big": [u for r in runs_big for u in r.get("daemon_latency_us", [])]}
    if us:
        progress(f"  {len(us)} kills: min {min(us)} us, median {statistics.median(us):.0f} us, "
                 f"p99 {pctl(us, 99)} us")


# ---- idle cost and memory -------------------------------------------------------------


RULE_BENCH = """[Rule bench]
Match=bench.slice/*
OOMGroup=yes
Tripwire=90%
OnKernelOOMKill=group-kill
"""


def make_groups(n, first=0, with_max=True):
    t = time.monotonic()
    for i in range(first, n):
        os.mkdir(f"{CG}/bench.slice/g{i:05d}")
    t_mkdir = time.monotonic() - t
    t = time.monotonic()
    if with_max:
        for i in range(first, n):
            wr(f"{CG}/bench.slice/g{i:05d}/memory.max", 64 * MiB)
    return t_mkdir, time.monotonic() - t


def start_sleepers(n):
    """One sleeping process in each of bench.slice/g00000..: a busybox shell
    forks them (much faster than fork+exec from Python under TCG)."""
    t = time.monotonic()
    dirs = [f"{CG}/bench.slice/g{i:05d}" for i in range(n)]
    script = 'for d in "$@"; do (echo 0 > "$d/cgroup.procs" && exec ' + " ".join(SLEEP) + ') & done; wait'
    shell = ["/bin/busybox", "sh"] if os.path.exists("/bin/busybox") else ["/bin/sh"]
    argv = [*shell, "-c", script, "sh", *dirs]
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, preexec_fn=reset_adj)
    end = time.monotonic() + 300
    while time.monotonic() < end:
        if all(populated(f"bench.slice/g{i:05d}") for i in (0, n // 2, n - 1)):
            if sum(1 for i in range(n) if populated(f"bench.slice/g{i:05d}")) == n:
                break
        time.sleep(0.2)
    return p, time.monotonic() - t


def mem_record(d, n_groups, mlock, startup_line_s, ready_s):
    st = proc_stats(d.pid)
    return {"groups": n_groups, "mlock": mlock, "startup_line_s": startup_line_s, "ready_s": ready_s,
            "status": st, "smaps": smaps_breakdown(d.pid)[:12]}


def start_and_measure(build, n, mlock, name, timeout=600):
    d = cgsentryd(build, RULE_BENCH, extra=() if mlock else ("--no-mlock",), name=name)
    line_s, m = d.wait_log(r"supervising (\d+) cgroups$", timeout)
    ready_s = d.wait_ready(timeout)
    supervised = int(m.group(1)) if m else None
    time.sleep(1.0)  # settle: nothing should happen any more
    rec = mem_record(d, supervised, mlock, line_s, ready_s)
    rec["warnings"] = [ln for ln in d.log().splitlines() if "warning" in ln or "error" in ln][:10]
    progress(f"  cgsentryd {'' if mlock else '--no-mlock '}with {supervised} groups: "
             f"\"supervising\" after {fmt_s(line_s)}, READY after {fmt_s(ready_s)}, "
             f"VmRSS {rec['status'].get('VmRSS', 0) / MiB:.1f} MiB, VmHWM {rec['status'].get('VmHWM', 0) / MiB:.1f} MiB, "
             f"{rec['status'].get('fds')} fds")
    return d, rec


def idle_and_memory(build, idle_s, quick, results):
    n1, n2 = 1000, 10000
    out = {"setup": {}, "memory": []}
    results["idle_memory"] = out
    kill_and_remove("bench.slice")
    mkcg("bench.slice", "+memory +pids")
    # --quick: empty groups (starting 1,000 sleepers takes ~10-20 s under TCG).
    out["sleepers"] = not quick
    progress(f"idle: {n1} groups" + ("" if quick else " with a sleeping process each"))
    t_mkdir, t_max = make_groups(n1)
    out["setup"].update({"mkdir_1000_s": t_mkdir, "memory_max_1000_s": t_max})
    sh = None
    if not quick:
        sh, t_spawn = start_sleepers(n1)
        out["setup"]["sleepers_1000_s"] = t_spawn
    progress(f"  created {n1} groups in {t_mkdir:.1f}s (+{t_max:.1f}s memory.max)" +
             ("" if quick else f", sleepers in {out['setup']['sleepers_1000_s']:.1f}s"))

    d, rec = start_and_measure(build, n1, True, "cgsentryd-idle")
    out["memory"].append(rec)
    e = earlyoom()
    e.wait_log(r"mem (total|avail)", 10)
    time.sleep(2.0)
    before = {"cgsentryd": proc_stats(d.pid), "earlyoom": proc_stats(e.pid)}
    t = time.monotonic()
    progress(f"  both idle for {idle_s}s ...")
    time.sleep(idle_s)
    window = time.monotonic() - t
    after = {"cgsentryd": proc_stats(d.pid), "earlyoom": proc_stats(e.pid)}
    idle = {"window_s": window, "groups": n1}
    for k in before:
        b, a = before[k], after[k]
        idle[k] = {f: a.get(f, 0) - b.get(f, 0)
                   for f in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches", "cpu_ticks", "cpu_ns")}
        idle[k]["clk_tck"] = a.get("clk_tck", 100)
    out["idle"] = idle
    progress(f"  idle {window:.0f}s: cgsentryd {idle['cgsentryd']}, earlyoom {idle['earlyoom']}")
    # The daemon's memory after the idle period (VmHWM includes start-up).
    rec_after = mem_record(d, n1, True, rec["startup_line_s"], rec["ready_s"])
    rec_after["note"] = "after idle"
    out["memory_1000_after_idle"] = rec_after
    e.stop()
    t_stop = d.stop()
    out["setup"]["stop_1000_s"] = t_stop

    d, rec = start_and_measure(build, n1, False, "cgsentryd-nomlock-1k")
    out["memory"].append(rec)
    d.stop()

    # Kill the sleepers, keep the 1,000 groups, grow to 10,000.
    try_wr(f"{CG}/bench.slice/cgroup.kill", 1)
    end = time.monotonic() + 30
    while populated("bench.slice") and time.monotonic() < end:
        time.sleep(0.05)
    if sh:
        sh.wait()
    progress(f"memory: growing to {n2} groups")
    t_mkdir, t_max = make_groups(n2, first=n1)
    out["setup"].update({"mkdir_9000_s": t_mkdir, "memory_max_9000_s": t_max})
    progress(f"  created {n2 - n1} more groups in {t_mkdir:.1f}s (+{t_max:.1f}s memory.max)")
    d, rec = start_and_measure(build, n2, True, "cgsentryd-10k")
    out["memory"].append(rec)
    out["setup"]["stop_10000_s"] = d.stop()
    progress(f"  SIGTERM to exit with {n2} groups: {out['setup']['stop_10000_s']:.1f}s")

    if not quick:
        d, rec = start_and_measure(build, n2, False, "cgsentryd-nomlock-10k")
        out["memory"].append(rec)
        # Tear the groups down while it runs: its cost of churn.
        st0 = proc_stats(d.pid)
        t = time.monotonic()
        for i in range(n2):
            os.rmdir(f"{CG}/bench.slice/g{i:05d}")
        t_rm = time.monotonic() - t
        # Wait until the daemon has logged every removal.
        end = time.monotonic() + 600
        while time.monotonic() < end:
            if d.log().count(" is gone") >= n2:
                break
            time.sleep(0.5)
        t_caught_up = time.monotonic() - t
        st1 = proc_stats(d.pid)
        out["teardown_live"] = {"groups": n2, "rmdir_s": t_rm, "daemon_caught_up_s": t_caught_up,
                                "daemon_cpu_ns": st1.get("cpu_ns", 0) - st0.get("cpu_ns", 0),
                                "gone_logged": d.log().count(" is gone"),
                                "VmHWM": st1.get("VmHWM"), "VmRSS": st1.get("VmRSS")}
        progress(f"  rmdir {n2} groups under the running daemon: {t_rm:.1f}s, daemon caught up after "
                 f"{t_caught_up:.1f}s, daemon CPU {out['teardown_live']['daemon_cpu_ns'] / 1e9:.1f}s")
        d.stop()
    if not quick:  # (--quick: the guest is thrown away anyway)
        t = time.monotonic()
        kill_and_remove("bench.slice")
        out["setup"]["rmdir_rest_s"] = time.monotonic() - t


# ---- guest entry points -------------------------------------------------------------


def guest(args):
    if os.geteuid() != 0 or not os.path.exists(f"{CG}/cgroup.controllers"):
        sys.exit("arena.py guest: needs root and cgroup v2 at /sys/fs/cgroup (run it in tests/vm/sandbox.sh)")
    if "memory" not in rd(f"{CG}/cgroup.subtree_control"):
        wr(f"{CG}/cgroup.subtree_control", "+memory +pids")
    wr("/proc/self/oom_score_adj", -1000)  # the harness must survive to report
    wr("/proc/sys/fs/inotify/max_user_watches", 1 << 20)
    exe = os.path.join(args.build, "daemon", "cgsentryd")
    if not os.access(exe, os.X_OK):
        sys.exit(f"arena.py: {exe} not found")
    uname = os.uname()
    results = {"part": args.part, "quick": args.quick, "kernel": uname.release,
               "mem_total": meminfo()["MemTotal"], "cpus": os.cpu_count(),
               "earlyoom": subprocess.run([shutil.which("earlyoom"), "-v"], stdout=subprocess.PIPE,
                                          stderr=subprocess.STDOUT, text=True).stdout.strip().split("\n")[0]
               if shutil.which("earlyoom") else None,
               "cgsentryd": subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip(),
               "errors": []}
    os.makedirs(args.out, exist_ok=True)
    out = os.path.join(args.out, f"{args.part}.json")
    if args.part == "main":
        steps = [
            ("reaction", lambda: reaction_limit(args.build, 2 if args.quick else 5, results)),
            ("latency", lambda: latency(args.build, 20 if args.quick else 24, 2 if args.quick else 4, results)),
            ("idle", lambda: idle_and_memory(args.build, 30 if args.quick else 60, args.quick, results)),
        ]
    else:
        steps = [("smallram", lambda: reaction_smallram(args.build, 1 if args.quick else 3, results))]
    for name, step in steps:
        if args.only and name not in args.only.split(","):
            continue
        try:
            step()
        except Exception as e:  # report what ran; the rest is marked failed
            import traceback
            traceback.print_exc()
            results["errors"].append(f"{type(e).__name__}: {e}")
        with open(out, "w") as f:
            json.dump(results, f, indent=1)
    results["elapsed_s"] = time.monotonic() - T_START
    with open(out, "w") as f:
        json.dump(results, f, indent=1)
    progress(f"wrote {out}")
    return 1 if results["errors"] else 0


# ---- report (host) --------------------------------------------------------------------


def ms(v, digits=0):
    return "–" if v is None else f"{v * 1000:.{digits}f}"


def med_range(vals, unit_ms=True):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "–"
    f = (lambda x: f"{x * 1000:.0f}") if unit_ms else (lambda x: f"{x:.0f}")
    if len(vals) == 1:
        return f(vals[0])
    return f"{f(statistics.median(vals))} ({f(min(vals))}–{f(max(vals))})"


def mib(v):
    return "–" if v is None else f"{v / MiB:.1f}"


def reaction_table(runs, variants, ref_label, extra_col):
    lines = [f"| tool | runs | who killed | whole group died | neighbours alive | start→{ref_label} ms "
             f"| {ref_label}→hog dead ms | {ref_label}→group empty ms | start→group empty ms | {extra_col[0]} |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    summary = {}
    for v in variants:
        rs = [r for r in runs if r["variant"] == v]
        if not rs:
            continue
        who = {}
        for r in rs:
            who[r["who"]] = who.get(r["who"], 0) + 1
        whos = ", ".join(f"{k} ×{n}" if len(rs) > 1 else k for k, n in sorted(who.items()))
        whole = sum(r["whole_group_died"] for r in rs)
        left = [r["left"] for r in rs if not r["whole_group_died"]]
        whole_s = f"{whole}/{len(rs)}" + (f" ({max(left)} left)" if left else "")
        nb = sum(r["neighbours_alive"] for r in rs)
        empties = [r["ref_to_empty_s"] for r in rs if r["ref_to_empty_s"] is not None]
        summary[v] = statistics.median(empties) if len(empties) == len(rs) else None
        lines.append(f"| {v} | {len(rs)} | {whos} | {whole_s} | {nb}/{len(rs)} "
                     f"| {med_range([r['start_to_ref_s'] for r in rs])} "
                     f"| {med_range([r['ref_to_hog_dead_s'] for r in rs])} "
                     f"| {med_range([r['ref_to_empty_s'] for r in rs]) if empties else 'never'} "
                     f"| {med_range([r['start_to_empty_s'] for r in rs]) if empties else 'never'} "
                     f"| {extra_col[1](rs)} |")
    return lines, summary


def report(args):
    d = args.dir
    parts = {}
    for p in ("main", "smallram"):
        try:
            with open(os.path.join(d, f"{p}.json")) as f:
                parts[p] = json.load(f)
        except (OSError, ValueError):
            pass
    o = []
    w = o.append
    main, small = parts.get("main"), parts.get("smallram")
    first = main or small
    w(f"# cgsentryd arena — {os.path.basename(os.path.abspath(d))}")
    w("")
    if not first:
        w("No results (the sandbox runs failed; see the console logs beside this file).")
        print("\n".join(o))
        return 0
    w(f"Guest kernel {first['kernel']}, {first['cpus']} vCPUs; {first.get('cgsentryd')}; "
      f"{first.get('earlyoom') or 'earlyoom not installed'}; {'--quick' if first['quick'] else 'full run'}.")
    w("Under TCG emulation and beside other guests: compare tools within this run (ratios), "
      "not with other machines. Medians, (min–max) over the runs.")
    for p in parts.values():
        for e in p.get("errors", []):
            w(f"\n**Harness error in part {p['part']}:** `{e}`")
    if main and "reaction_limit" in main:
        rl = main["reaction_limit"]
        w("")
        w(f"## Reaction: runaway service at its memory.max ({rl['limit'] // MiB} MiB), guest "
          f"{main['mem_total'] // MiB} MiB")
        w("")
        w("`arena.slice` (memory.max 1 GiB) holds `web.service` (32 MiB), `db.service` (64 MiB) and a "
          "runaway service: 3 sleepers + one process allocating 8 MiB at a time, no pause. Each service "
          "has memory.max 256 MiB. `85%` is the harness seeing the runaway's memory.current cross 85% "
          "of memory.max (sampled every ~1 ms): a point every tool passes before anyone acts.")
        w("")
        lines, summ = reaction_table(rl["runs"], ["kernel", "kernel+oom.group", "cgsentryd", "earlyoom"], "85%",
                                     ("peak % of max", lambda rs: med_range(
                                         [r["peak_bytes"] * 100 / r["limit"] for r in rs], unit_ms=False)))
        o.extend(lines)
        w("")
        if summ.get("cgsentryd") and summ.get("kernel+oom.group"):
            w(f"- 85%→group empty, kernel with memory.oom.group=1 / cgsentryd: "
              f"**{summ['kernel+oom.group'] / summ['cgsentryd']:.2f}×** "
              f"({summ['kernel+oom.group'] * 1000:.0f} ms vs {summ['cgsentryd'] * 1000:.0f} ms).")
        w("- kernel alone and earlyoom: the kernel kills the largest process only; the sleepers stay "
          "(the service is half-dead). earlyoom watches system-wide MemAvailable, never reached here.")
    if small and "reaction_smallram" in small:
        rs = small["reaction_smallram"]
        w("")
        w(f"## Reaction: no cgroup limit, runaway exhausts the guest's RAM ({rs['mem_total'] // MiB} MiB)")
        w("")
        w(f"Same slice and neighbours, no memory.max on the services. `kernel`, `earlyoom`: no limit at all "
          f"(global OOM / MemAvailable below 10%). `…+limit75`: the runaway service gets memory.max = 75% of RAM "
          f"({rs['limit'] // MiB} MiB), alone or with cgsentryd's Tripwire=90%. `60%`: the runaway's "
          f"memory.current crossing 60% of RAM.")
        w("")
        lines, summ = reaction_table(rs["runs"], ["kernel", "earlyoom", "kernel+limit75", "cgsentryd+limit75"],
                                     "60%", ("runaway peak MiB / min MemAvailable MiB", lambda rr: med_range(
                                         [r["peak_bytes"] / MiB for r in rr], unit_ms=False) + " / " + med_range(
                                         [(r["min_avail_bytes"] or 0) / MiB for r in rr], unit_ms=False)))
        o.extend(lines)
        w("")
        for a, b in (("earlyoom", "cgsentryd+limit75"), ("kernel", "cgsentryd+limit75")):
            ra = [r["ref_to_hog_dead_s"] for r in rs["runs"] if r["variant"] == a and r["ref_to_hog_dead_s"]]
            rb = [r["ref_to_hog_dead_s"] for r in rs["runs"] if r["variant"] == b and r["ref_to_hog_dead_s"]]
            if ra and rb:
                w(f"- 60%→runaway's hog dead, {a} / {b}: **{statistics.median(ra) / statistics.median(rb):.2f}×** "
                  f"({statistics.median(ra) * 1000:.0f} ms vs {statistics.median(rb) * 1000:.0f} ms).")
    if main and "latency" in main:
        lat = main["latency"]
        runs = lat["runs"]
        w("")
        w("## Latency: cgsentryd's inotify event → SIGKILL sent")
        w("")
        w("From cgsentryd's own log line `SIGKILL sent to /G N us after the event` (the event is the "
          "inotify callback that read memory.events; the time covers reading the group and its processes, "
          "choosing, pidfds, cgroup.kill). One daemon does all the kills of the first two rows, so only its "
          "first kill is cold; each reaction run starts a fresh daemon, so all of the last row's are.")
        w("")
        w("| tripwire kills | n | min µs | median µs | p99 µs | max µs | 85%→group empty ms | whole group |")
        w("|---|---|---|---|---|---|---|---|")

        def row(label, us, rr):
            if not us:
                w(f"| {label} | 0 | – | – | – | – | – | – |")
                return
            w(f"| {label} | {len(us)} | {min(us)} | {statistics.median(us):.0f} | {pctl(us, 99)} | {max(us)} "
              f"| {med_range([r['ref_to_empty_s'] for r in rr])} "
              f"| {sum(r['whole_group_died'] for r in rr)}/{len(rr)} |")
        row("64 MiB service (hog + 1 sleeper)", lat["latency_us"], runs)
        row("256 MiB service, same daemon (warm)", lat.get("latency_us_big", []), lat.get("runs_big", []))
        rr = [r for r in main.get("reaction_limit", {}).get("runs", []) if r["variant"] == "cgsentryd"]
        row("256 MiB, first kill of a fresh daemon (reaction runs)",
            [u for r in rr for u in r.get("daemon_latency_us", [])], rr)
        if lat["latency_us"]:
            w("")
            w(f"The first 64 MiB kill (cold daemon) took {lat['latency_us'][0]} µs.")
    im = main.get("idle_memory") if main else None
    if im and "idle" in im:
        idle = im["idle"]
        w("")
        w(f"## Idle cost: {idle['groups']} supervised groups "
          f"({'one sleeper each' if im.get('sleepers', True) else 'empty'}), {idle['window_s']:.0f} s")
        w("")
        w("Deltas over the same window, from /proc/PID/status (context switches = wake-ups), "
          "/proc/PID/stat (utime+stime ticks) and /proc/PID/schedstat (CPU ns). Both ran at the same "
          "time; earlyoom with Debian's arguments (`-r 3600`).")
        w("")
        w("| daemon | voluntary cs | involuntary cs | wake-ups/min | CPU ticks | CPU ms |")
        w("|---|---|---|---|---|---|")
        for k in ("cgsentryd", "earlyoom"):
            x = idle[k]
            wk = x["voluntary_ctxt_switches"] + x["nonvoluntary_ctxt_switches"]
            w(f"| {k} | {x['voluntary_ctxt_switches']} | {x['nonvoluntary_ctxt_switches']} "
              f"| {wk * 60 / idle['window_s']:.1f} | {x['cpu_ticks']} | {x.get('cpu_ns', 0) / 1e6:.2f} |")
        c, e = idle["cgsentryd"], idle["earlyoom"]
        cw = c["voluntary_ctxt_switches"] + c["nonvoluntary_ctxt_switches"]
        ew = e["voluntary_ctxt_switches"] + e["nonvoluntary_ctxt_switches"]
        w("")
        w(f"- wake-ups, earlyoom / cgsentryd: **{ew / cw:.1f}×**" if cw else
          f"- wake-ups: cgsentryd **0**, earlyoom {ew} (ratio unbounded)")
        if c.get("cpu_ns") and e.get("cpu_ns"):
            w(f"- CPU time, earlyoom / cgsentryd: **{e['cpu_ns'] / c['cpu_ns']:.1f}×**")
        elif e.get("cpu_ns"):
            w(f"- CPU time: cgsentryd 0 ns, earlyoom {e['cpu_ns'] / 1e6:.2f} ms")
    if im and im.get("memory"):
        w("")
        w("## Memory and start-up")
        w("")
        w("`supervising` = start until the log line `… supervising N cgroups`; `READY` = until "
          "sd_notify READY=1 (after mlockall). Empty groups for 10,000, one sleeper each for 1,000; "
          "every group has memory.max, so each start also arms 1 tripwire per group. Goals: "
          "≤ 4 MiB at 1,000, ≤ 16 MiB at 10,000 (as shipped, mlock on).")
        w("")
        w("| groups | mlock | supervising ms | READY ms | VmRSS MiB | VmHWM MiB | VmLck MiB | RssAnon MiB "
          "| RssFile MiB | fds | goal |")
        w("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in im["memory"]:
            s = r["status"]
            goal = (4 if r["groups"] and r["groups"] <= 1000 else 16) * MiB
            verdict = "–" if not r["mlock"] else ("met" if s.get("VmHWM", 0) <= goal else
                                                   f"missed ({s.get('VmHWM', 0) / goal:.1f}× of {goal // MiB} MiB)")
            w(f"| {r['groups']} | {'yes' if r['mlock'] else 'no'} | {ms(r['startup_line_s'])} | {ms(r['ready_s'])} "
              f"| {mib(s.get('VmRSS'))} | {mib(s.get('VmHWM'))} | {mib(s.get('VmLck'))} | {mib(s.get('RssAnon'))} "
              f"| {mib(s.get('RssFile'))} | {s.get('fds', '–')} | {verdict} |")
        m1 = [r for r in im["memory"] if r["groups"] == 1000 and not r["mlock"]]
        m2 = [r for r in im["memory"] if r["groups"] == 10000 and not r["mlock"]]
        if m1 and m2:
            a = (m2[0]["status"].get("RssAnon", 0) - m1[0]["status"].get("RssAnon", 0)) / 9000
            w("")
            w(f"- anonymous memory per supervised group (10,000 vs 1,000, no mlock): **{a:.0f} bytes**")
        s1 = [r for r in im["memory"] if r["groups"] == 1000 and r["mlock"]]
        s2 = [r for r in im["memory"] if r["groups"] == 10000 and r["mlock"]]
        if s1 and s2 and s1[0]["ready_s"] and s2[0]["ready_s"]:
            w(f"- start-up, 10,000 / 1,000 groups: **{s2[0]['ready_s'] / s1[0]['ready_s']:.1f}×** for 10× the "
              f"groups (linear would be 10×; one sample each, noisy under TCG)")
        big = s2[0] if s2 else im["memory"][-1]
        w("")
        w(f"Largest resident mappings at {big['groups']} groups (mlock {'on' if big['mlock'] else 'off'}): " +
          ", ".join(f"{n} {v / MiB:.2f} MiB" for n, v in big["smaps"][:8]) + ".")
        tl = im.get("teardown_live")
        if tl:
            w("")
            w(f"Removing all {tl['groups']} groups while cgsentryd (no mlock) runs: rmdir loop {tl['rmdir_s']:.1f} s, "
              f"daemon caught up (logged every `is gone`) after {tl['daemon_caught_up_s']:.1f} s, daemon CPU "
              f"{tl['daemon_cpu_ns'] / 1e9:.1f} s.")
        st = im.get("setup", {})
        w("")
        labels = {"mkdir_1000_s": "mkdir 1,000 groups", "memory_max_1000_s": "write their memory.max",
                  "sleepers_1000_s": "start 1,000 sleepers", "stop_1000_s": "cgsentryd SIGTERM→exit at 1,000",
                  "mkdir_9000_s": "mkdir 9,000 more", "memory_max_9000_s": "write their memory.max",
                  "stop_10000_s": "cgsentryd SIGTERM→exit at 10,000 (restores memory.high)",
                  "rmdir_rest_s": "final clean-up"}
        w("Guest set-up costs under TCG, seconds: " +
          "; ".join(f"{labels.get(k, k)} {v:.1f}" for k, v in st.items()) + ".")
    for p in parts.values():
        if "elapsed_s" in p:
            w("")
            w(f"Part `{p['part']}` took {p['elapsed_s']:.0f} s in the guest.")
    print("\n".join(o))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("guest")
    g.add_argument("part", choices=["main", "smallram"])
    g.add_argument("--build", required=True)
    g.add_argument("--out", required=True)
    g.add_argument("--quick", action="store_true")
    g.add_argument("--only", help="comma-separated steps: reaction, latency, idle (main), smallram")
    r = sub.add_parser("report")
    r.add_argument("dir")
    args = ap.parse_args()
    return guest(args) if args.cmd == "guest" else report(args)


if __name__ == "__main__":
    sys.exit(main())

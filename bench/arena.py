#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""cgsentryd beside every peer a user would pick instead, on a real kernel.

Guest side (root, systemd as PID 1, cgroup v2; bench/run.sh boots that):

    arena.py guest SCENARIO --build BUILD --out DIR [--quick]

runs every contender on one scenario, interleaved run by run, and writes
DIR/SCENARIO.json. Scenarios: fast, forkhogs, leak, thrash, swap, squeeze,
scale. Host side:

    arena.py report DIR [--plots]   the Markdown report of DIR/*.json, and
                                    with --plots the PNGs (gnuplot) in DIR

The workloads themselves run as `arena.py work KIND ...` inside transient
systemd units. Python 3 standard library only. Timings are measured, never
judged: the harness fails only when it cannot run at all.
"""
import argparse
import json
import os
import random
import re
import resource
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

CG = "/sys/fs/cgroup"
RUN = "/run/arena"
SLICE = "arena.slice"
SELF = os.path.abspath(__file__)
HERE = os.path.dirname(SELF)
MiB = 1 << 20
T_START = time.monotonic()
SLEEP = ["/bin/busybox", "sleep", "100000"] if os.path.exists("/bin/busybox") else ["/bin/sleep", "100000"]


def progress(msg):
    print(f"[arena {time.monotonic() - T_START:6.1f}s] {msg}", flush=True)


# ---- small file helpers ---------------------------------------------------------


def rd(path):
    with open(path) as f:
        return f.read()


def wr(path, value):
    with open(path, "w") as f:
        f.write(str(value))


def try_rd(path, default=""):
    try:
        return rd(path)
    except OSError:
        return default


def try_wr(path, value):
    try:
        wr(path, value)
        return True
    except OSError:
        return False


def kv(path):
    """memory.events, cgroup.events, /proc/vmstat, memory.stat: 'key value' lines."""
    out = {}
    for line in try_rd(path).splitlines():
        k, _, v = line.partition(" ")
        if v.strip().lstrip("-").isdigit():
            out[k] = int(v)
    return out


def meminfo():
    out = {}
    for line in rd("/proc/meminfo").splitlines():
        k, v = line.split(":", 1)
        out[k] = int(v.split()[0]) * 1024
    return out


def psi(path):
    """memory.pressure: {'some': {'avg10': ..., 'total': ...}, 'full': {...}}."""
    out = {}
    for line in try_rd(path).splitlines():
        parts = line.split()
        if parts:
            out[parts[0]] = {k: float(v) for k, v in (p.split("=") for p in parts[1:])}
    return out


def pidfd_alive(fd):
    """A pidfd becomes readable when its process exits."""
    return not select.select([fd], [], [], 0)[0]


def proc_stats(pid):
    """Context switches, CPU time and memory of @pid from /proc."""
    st = {}
    if not pid:
        return st
    try:
        for line in rd(f"/proc/{pid}/status").splitlines():
            k, v = line.split(":", 1)
            if k in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"):
                st[k] = int(v)
            elif k in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                st[k] = int(v.split()[0]) * 1024
        st["cpu_ns"] = int(rd(f"/proc/{pid}/schedstat").split()[0])
    except (OSError, IndexError, ValueError):
        pass
    return st


def cpu_delta(a, b):
    return None if "cpu_ns" not in a or "cpu_ns" not in b else b["cpu_ns"] - a["cpu_ns"]


def wakeups(st):
    return st.get("voluntary_ctxt_switches", 0) + st.get("nonvoluntary_ctxt_switches", 0)


def sh(*argv, timeout=120, check=False):
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {r.returncode}: {r.stdout.strip()[:400]}")
    return r.stdout


def systemctl(*args, check=False):
    return sh("systemctl", "--no-ask-password", *args, check=check)


def unit_show(unit, *props):
    out = {}
    for line in systemctl("show", unit, *[f"-p{p}" for p in props]).splitlines():
        k, _, v = line.partition("=")
        out[k] = v
    return out


def dmesg_take():
    """The kernel log since the last call (read and cleared)."""
    return sh("dmesg", "--read-clear", "--notime")


OOM_RX = re.compile(r"oom-kill:constraint=(\w+),.*?task_memcg=([^,]*),task=([^,]*),pid=(\d+)")


def pctl(values, p):
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return None
    v = sorted(values)
    return v[max(0, min(len(v) - 1, int(-(-p * len(v) // 100)) - 1))]


# ---- workloads (run inside transient units by `arena.py work`) -------------------


def _gate(name):
    """Tell the harness we are up, wait for its go: the supervisors are armed
    and the run is timed from here, not from interpreter start-up."""
    wr(f"{RUN}/{name}.ready.tmp", os.getpid())
    os.rename(f"{RUN}/{name}.ready.tmp", f"{RUN}/{name}.ready")  # never seen half-written
    while not os.path.exists(f"{RUN}/{name}.go"):
        time.sleep(0.01)


def _spawn_sleepers(n):
    for _ in range(n):
        if os.fork() == 0:
            os.execv(SLEEP[0], SLEEP)


def _fork(fn):
    pid = os.fork()
    if pid == 0:
        try:
            fn()
        finally:
            os._exit(0)
    return pid


def _wait_forever():
    """A service's main process: outlives its workers, like a master process
    whose worker was OOM-killed (so a half-dead service stays half-dead)."""
    while True:
        try:
            os.wait()
        except ChildProcessError:
            signal.pause()


def _allocate(chunk_mib, pause, until_mib=None, template=None, base_mib=0):
    leak, held = [b"\x03" * (base_mib * MiB)] if base_mib else [], base_mib
    while until_mib is None or held < until_mib:
        leak.append(bytearray(template) if template is not None else b"\x02" * (chunk_mib * MiB))
        held += chunk_mib
        if pause:
            time.sleep(pause)
    while True:
        signal.pause()


def work(args):
    name = args.name
    if args.kind == "holder":
        keep = b"\x01" * (args.mib * MiB)  # noqa: F841 (held, touched)
        _gate(name)
        while True:
            signal.pause()
    _gate(name)
    if args.kind in ("runaway", "leak", "swaphog"):
        _spawn_sleepers(args.sleepers)
        tpl = None
        if args.kind == "swaphog":
            # Pages half random, half zero: zram compresses them about 2:1, as
            # it does real heaps, instead of the ~100:1 of a constant fill.
            page = os.urandom(2048) + bytes(2048)
            tpl = page * (args.chunk * MiB // 4096)
        _fork(lambda: _allocate(args.chunk, args.pause, template=tpl, base_mib=args.base))
    elif args.kind == "forkhogs":
        _spawn_sleepers(args.sleepers)
        for _ in range(args.n):
            _fork(lambda: _allocate(args.chunk, args.pause, until_mib=args.each))
    elif args.kind == "thrash":
        _fork(lambda: _thrash(args.file, args.progress))
    _wait_forever()


def _thrash(path, progress_path):
    """Random 64 KiB reads over a file larger than the service's memory.max:
    page cache that never fits, a healthy service that only stalls."""
    fd = os.open(path, os.O_RDONLY)
    blocks = os.fstat(fd).st_size // 65536
    rng = random.Random(1)
    done, t = 0, time.monotonic()
    pf = os.open(progress_path, os.O_WRONLY | os.O_CREAT, 0o644)
    while True:
        done += len(os.pread(fd, 65536, rng.randrange(blocks) * 65536))
        now = time.monotonic()
        if now - t > 0.1:
            os.pwrite(pf, f"{done:20d}".encode(), 0)
            t = now


def benign(args):
    """The well-behaved neighbour whose slowdown is the supervisors' overhead:
    touches 64 MiB and reads small files, a fixed amount of work."""
    t = time.monotonic()
    buf = bytearray(64 * MiB)
    acc = 0
    for _ in range(args.rounds):
        for off in range(0, len(buf), 4096):
            buf[off] = (buf[off] + 1) & 0xFF
        for _ in range(50):
            acc += len(try_rd("/proc/self/stat"))
    print(f"{time.monotonic() - t:.6f} {acc}")


# ---- daemons ------------------------------------------------------------------------


class Daemon:
    """A daemon with its output in a file and, optionally, an sd_notify socket."""
    seq = 0

    def __init__(self, name, argv, notify=False, nofile=None, keep_adj=False):
        Daemon.seq += 1
        self.name = name
        self.log_path = f"/tmp/arena-{name}-{Daemon.seq}.log"
        self.notes = []
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
                try_wr("/proc/self/oom_score_adj", 0)

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

    def wait_ready(self, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.proc.poll() is None:
            for t, m in self.notes:
                if "READY=1" in m.split("\n"):
                    return t - self.t_start
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

    def wait_log(self, pattern, timeout):
        """Seconds from start until @pattern appears in the log (None: never)."""
        rx = re.compile(pattern, re.M)
        end = time.monotonic() + timeout
        while True:
            m = rx.search(self.log())
            if m:
                return time.monotonic() - self.t_start, m
            if time.monotonic() > end or self.proc.poll() is not None:
                return None, None
            time.sleep(0.005)

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


# ---- contenders ------------------------------------------------------------------------
#
# Each contender is started before a run and stopped after it (a fresh daemon
# per run: oomd and systemd-oomd go deaf for 15 s after a kill, and no run
# should inherit another's state). The kernel-only contenders start nothing.

KERNEL, GROUP, SD_POLICY = "kernel", "kernel+oom.group", "systemd OOMPolicy=kill"
EARLYOOM, OOMD, SD_OOMD, SD_OOMD_AGG, CGSENTRYD = ("earlyoom", "oomd", "systemd-oomd",
                                                   "systemd-oomd 10%/1s", "cgsentryd")
CONTENDERS = [KERNEL, GROUP, SD_POLICY, EARLYOOM, OOMD, SD_OOMD, SD_OOMD_AGG, CGSENTRYD]
SUPERVISORS = [EARLYOOM, OOMD, SD_OOMD, SD_OOMD_AGG, CGSENTRYD]
# They read the cgroup tree once a second (oomd's --interval, systemd-oomd's
# candidate refresh): a run starts only after they have had one look at the
# new service, as they would at a service that has been running for a while.
POLLERS = (OOMD, SD_OOMD, SD_OOMD_AGG)
OOMD_CONF_DROPIN = "/run/systemd/oomd.conf.d/arena.conf"
CGS_KILL_RX = re.compile(r"SIGKILL sent to /(\S+) (\d+) us after the event")


def cgsentryd_conf(match):
    """examples/slices.conf as shipped, its services rule pointed at @match."""
    src = rd(os.path.join(HERE, "..", "examples", "slices.conf"))
    return src.replace("Match=system.slice/*.service", f"Match={match}")


def oomd_conf(scope, anon_threshold, swap):
    """bench/oomd.json with the scenario's cgroups and size threshold."""
    text = rd(os.path.join(HERE, "oomd.json"))
    text = text.replace("@SCOPE@", scope).replace("@ANON@", f"{anon_threshold // MiB}M")
    conf = json.loads("\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("//")))
    if not swap:
        conf["rulesets"] = [r for r in conf["rulesets"] if "swap" not in r["name"]]
    return conf


class Contender:
    """Starts and stops one contender and reads what it did."""

    def __init__(self, name, ctx):
        self.name, self.ctx = name, ctx
        # "cgsentryd+limit75" is cgsentryd; the suffix is about the workload.
        self.kind = CGSENTRYD if name.startswith(CGSENTRYD) else name
        self.d = None
        self.pid = None
        self.startup_s = None
        self.journal_cursor = None

    def unit_props(self):
        return ["OOMPolicy=kill"] if self.kind == SD_POLICY else ["OOMPolicy=continue"]

    def start(self):
        ctx = self.ctx
        t = time.monotonic()
        if self.kind == CGSENTRYD:
            conf = f"/tmp/arena-cgsentryd-{Daemon.seq + 1}.conf"
            wr(conf, cgsentryd_conf(ctx.cgs_match))
            exe = os.path.join(ctx.build, "daemon", "cgsentryd")
            # The unit's LimitNOFILE= (the guest's default 4096 is ~1,300 groups).
            self.d = Daemon("cgsentryd", [exe, "-c", conf], notify=True, nofile=1 << 20, keep_adj=True)
            self.startup_s = self.d.wait_ready(900)
        elif self.kind == EARLYOOM:
            # Debian's default arguments (/etc/default/earlyoom).
            self.d = Daemon("earlyoom", [shutil.which("earlyoom") or "/usr/bin/earlyoom", "-r", "3600"])
            self.startup_s, _ = self.d.wait_log(r"mem (total|avail)", 30)
        elif self.kind == OOMD:
            conf = f"/tmp/arena-oomd-{Daemon.seq + 1}.json"
            with open(conf, "w") as f:
                json.dump(oomd_conf(ctx.oomd_scope, ctx.oomd_anon, ctx.swap), f, indent=1)
            # Debian's /etc/default/oomd: --interval 1 (its --cgroup-fs is for
            # hybrid hierarchies; this one is unified).
            self.d = Daemon("oomd", ["/usr/bin/oomd", "--interval", "1", "--config", conf,
                                     "--cgroup-fs", CG])
            self.startup_s, _ = self.d.wait_log(r"Running oomd", 60)
        elif self.kind in (SD_OOMD, SD_OOMD_AGG):
            aggressive = self.kind == SD_OOMD_AGG
            os.makedirs(os.path.dirname(OOMD_CONF_DROPIN), exist_ok=True)
            if aggressive:
                wr(OOMD_CONF_DROPIN, "[OOM]\nDefaultMemoryPressureDurationSec=1s\n")
            elif os.path.exists(OOMD_CONF_DROPIN):
                os.unlink(OOMD_CONF_DROPIN)
            props = ["ManagedOOMMemoryPressure=kill",
                     f"ManagedOOMMemoryPressureLimit={'10%' if aggressive else '0%'}"]
            if ctx.swap:
                props.append("ManagedOOMSwap=kill")
            systemctl("set-property", "--runtime", ctx.sdoomd_unit, *props, check=True)
            self.journal_cursor = journal_cursor()
            t = time.monotonic()
            systemctl("start", "systemd-oomd.socket", "systemd-oomd.service", check=True)
            self.pid = int(unit_show("systemd-oomd.service", "MainPID").get("MainPID") or 0) or None
        if self.d:
            self.pid = self.d.pid
        if self.startup_s is None and self.kind in (SD_OOMD, SD_OOMD_AGG):
            self.startup_s = time.monotonic() - t
        return self

    def stop(self):
        if self.d:
            self.d.stop()
        if self.kind in (SD_OOMD, SD_OOMD_AGG):
            # (The unit's ManagedOOM*= stay: they mean nothing without
            # systemd-oomd, and the next systemd-oomd variant sets its own.)
            systemctl("stop", "systemd-oomd.service", "systemd-oomd.socket")
            if os.path.exists(OOMD_CONF_DROPIN):
                os.unlink(OOMD_CONF_DROPIN)

    def log_size(self):
        return self.d.log_size() if self.d else 0

    def kills(self, log_offset, cgroup):
        """The contender's own kill lines since @log_offset: (for @cgroup, elsewhere)."""
        mine, other = [], []
        if self.kind == CGSENTRYD:
            for m in CGS_KILL_RX.finditer(self.d.log(log_offset)):
                (mine if m.group(1) == cgroup else other).append(m.group(0))
        elif self.kind == EARLYOOM:
            # earlyoom names processes, not cgroups: attributed by the harness
            # (neighbours alive or not).
            mine = [ln for ln in self.d.log(log_offset).splitlines() if "sending SIG" in ln]
        elif self.kind == OOMD:
            for ln in self.d.log(log_offset).splitlines():
                if re.search(r"[Kk]ill", ln) and "/" in ln and "dry" not in ln:
                    (mine if cgroup in ln else other).append(ln.strip())
        elif self.kind in (SD_OOMD, SD_OOMD_AGG):
            for ln in journal_since(self.journal_cursor, "systemd-oomd.service").splitlines():
                if ln.startswith("Killed "):
                    (mine if f"/{cgroup} " in ln else other).append(ln.strip())
        return mine, other


def journal_cursor():
    out = sh("journalctl", "-n", "0", "--show-cursor", "--no-pager")
    m = re.search(r"-- cursor: (\S+)", out)
    return m.group(1) if m else None


def journal_since(cursor, unit):
    sh("journalctl", "--sync")
    args = ["journalctl", "-u", unit, "-o", "cat", "--no-pager"]
    if cursor:
        args.append(f"--after-cursor={cursor}")
    return sh(*args)


# ---- the arena: a slice, two innocent neighbours, units started per run ---------------


class Ctx:
    """What the contenders need to know about the scenario."""

    def __init__(self, build, scenario, swap=False):
        self.build = build
        self.scenario = scenario
        self.swap = swap
        self.cgs_match = f"{SLICE}/*.service"
        self.oomd_scope = SLICE
        # oomd acts at the level of cgsentryd's Tripwire=90%: the same
        # threshold, so the comparison is of how each notices and kills.
        self.oomd_anon = int(256 * MiB * 0.9)
        self.sdoomd_unit = SLICE


def start_unit(name, argv, props, slice_=SLICE):
    for f in (f"{RUN}/{name}.ready", f"{RUN}/{name}.go", f"{RUN}/{name}.progress"):
        if os.path.exists(f):
            os.unlink(f)
    sh("systemd-run", "--quiet", f"--unit={name}", f"--slice={slice_}", "-p", "DefaultDependencies=no",
       *[a for p in props for a in ("-p", p)], "--", *argv, check=True)
    cg = f"{slice_}/{name}.service"
    end = time.monotonic() + 60
    while not os.path.exists(f"{RUN}/{name}.ready"):
        if time.monotonic() > end:
            raise RuntimeError(f"{name}: workload never became ready")
        time.sleep(0.01)
    return cg


def go(name):
    wr(f"{RUN}/{name}.go", 1)


def stop_unit(name):
    systemctl("stop", f"{name}.service")
    systemctl("reset-failed", f"{name}.service")


def work_argv(kind, name, *extra):
    return ["/usr/bin/python3", SELF, "work", kind, "--name", name, *map(str, extra)]


class Arena:
    """arena.slice with its neighbours web (32 MiB) and db (64 MiB)."""

    def __init__(self, slice_max, svc_max):
        self.svc_max = svc_max
        os.makedirs("/run/systemd/system", exist_ok=True)
        wr(f"/run/systemd/system/{SLICE}",
           "[Slice]\n" + (f"MemoryMax={slice_max}\n" if slice_max else "") + "MemoryAccounting=yes\n")
        systemctl("daemon-reload", check=True)
        systemctl("start", SLICE, check=True)
        self.neighbours = {}
        for name, mib in (("web", 32), ("db", 64)):
            self.start_neighbour(name, mib)

    def start_neighbour(self, name, mib):
        stop_unit(name)
        props = [f"MemoryMax={self.svc_max}"] if self.svc_max else []
        start_unit(name, work_argv("holder", name, "--mib", mib), props + ["OOMPolicy=continue"])
        pid = int(rd(f"{RUN}/{name}.ready"))
        go(name)
        self.neighbours[name] = (os.pidfd_open(pid), mib)

    def dead_neighbours(self):
        dead = [n for n, (fd, _) in self.neighbours.items() if not pidfd_alive(fd)]
        for n in dead:
            os.close(self.neighbours[n][0])
            self.start_neighbour(n, self.neighbours[n][1])
        return dead

    def close(self):
        for n in self.neighbours:
            stop_unit(n)


# ---- one run: a unit that runs away, sampled every millisecond ---------------------


def innocent_units(runaway, dead_neighbours, kill_lines):
    """Units other than @runaway that died: neighbours found dead, and units
    named in kill lines (kernel or the contender's own) that are not it."""
    named = set(re.findall(r"arena\.slice/([\w.@-]+)\.service", " ".join(kill_lines)))
    return sorted((set(dead_neighbours) | named) - {runaway})


def tripwire_of(limit):
    """cgsentryd's memory.high for Tripwire=90% (integer arithmetic, as it does)."""
    return limit // 10000 * 9000 + limit % 10000 * 9000 // 10000


def wait_tripwire(path, high=None):
    """Until cgsentryd has armed its tripwire on @path (memory.high at @high
    bytes, or set at all), 10 s at most: a run starts on a service it has
    seen. Returns whether memory.high is set."""
    want = str(high // 4096 * 4096) if high is not None else None
    end = time.monotonic() + 10
    while time.monotonic() < end:
        cur = try_rd(f"{path}/memory.high").strip()
        if (cur == want) if want else (cur != "max"):
            break
        time.sleep(0.005)
    return try_rd(f"{path}/memory.high").strip() != "max"


def run_once(ctx, arena, variant, name, argv, *, limit, ref_bytes, ref_kind="current", swap_max=None,
             timeout=60.0, settle=1.5, keep_series=False, extra_props=()):
    """Start @variant, then a unit running @argv; sample it until it is empty
    or settled; return a record."""
    # A neighbour that died between runs is nobody's innocent: restart it.
    before = arena.dead_neighbours() if arena else []
    c = Contender(variant, ctx).start()
    stopped = False
    props = list(c.unit_props()) + list(extra_props)
    if limit:
        props.append(f"MemoryMax={limit}")
    if swap_max is not None:
        props.append(f"MemorySwapMax={swap_max}")
    rec = {"variant": variant, "unit": name, "limit": limit, "ref_bytes": ref_bytes,
           "supervisor_startup_s": c.startup_s, "neighbours_dead_before": before}
    try:
        cg = start_unit(name, argv, props)
        path = f"{CG}/{cg}"
        if variant == GROUP:
            wr(f"{path}/memory.oom.group", 1)
        rec["oom_group"] = try_rd(f"{path}/memory.oom.group").strip()
        if c.kind == CGSENTRYD and limit:
            rec["tripwire_armed"] = wait_tripwire(path, tripwire_of(limit))
        if c.kind in POLLERS:
            time.sleep(1.2)  # one interval: the poller has seen the new service
        dmesg_take()
        st0 = proc_stats(c.pid)
        log0 = c.log_size()
        vm0 = kv("/proc/vmstat").get("oom_kill", 0)
        rec.update(sample(ctx, path, name, ref_bytes, ref_kind, timeout, settle, keep_series))
        if keep_series:
            rec["evidence"] = evidence(c)
        time.sleep(0.3)  # let the daemons finish their log lines
        st1 = proc_stats(c.pid)
        rec["supervisor_cpu_ns"] = cpu_delta(st0, st1)
        rec["supervisor_rss"] = st1.get("VmRSS")
        rec["supervisor_hwm"] = st1.get("VmHWM")
        # Stop the contender before looking at the neighbours: it must not
        # kill one after its run, to be blamed on the next contender.
        c.stop()
        stopped = True
        mine, other = c.kills(log0, cg) if c.kind in SUPERVISORS else ([], [])
        rec["tool_kills"], rec["tool_kills_elsewhere"] = mine[:8], other[:8]
        rec["global_oom_kill"] = kv("/proc/vmstat").get("oom_kill", 0) - vm0
        kern = OOM_RX.findall(dmesg_take())
        rec["kernel_kills"] = [f"{cons} {memcg} {task} {pid}" for cons, memcg, task, pid in kern]
        rec["kernel_kills_elsewhere"] = [k for k in rec["kernel_kills"] if f" /{cg} " not in k + " "]
        # What PSI-driven peers saw: the slice's pressure right after the run.
        rec["slice_psi"] = psi(f"{CG}/{SLICE}/memory.pressure")
        u = unit_show(f"{name}.service", "ActiveState", "Result")
        rec["unit_state"] = f"{u.get('ActiveState')}/{u.get('Result')}"
        dead = arena.dead_neighbours() if arena else []
        rec["neighbours_dead"] = dead
        who = []
        if rec["kernel_kills"] or rec["oom_kill"]:
            who.append(("kernel", rec.get("t_kernel_kill")))
        if mine:
            who.append((c.kind, rec.get("t_first_death")))
        who.sort(key=lambda w: (w[1] is None, w[1] if w[1] is not None else 0))
        rec["who"] = [w[0] for w in who]
        rec["innocents_killed"] = innocent_units(name, dead, rec["kernel_kills_elsewhere"] + other)
        rec["innocents"] = len(rec["innocents_killed"])
        rec["log_excerpt"] = (mine + other)[:3]
    finally:
        if not stopped:
            c.stop()
        stop_unit(name)
    return rec


def sample(ctx, path, name, ref_bytes, ref_kind, timeout, settle, keep_series, stop_at_ref=False):
    """Sample @path about every millisecond (the harness polls only to measure)."""
    fds = {}
    for f in ("memory.current", "cgroup.events", "pids.current", "memory.events", "memory.swap.current"):
        try:
            fds[f] = os.open(f"{path}/{f}", os.O_RDONLY)
        except OSError:
            pass

    def num(f):
        try:
            return int(os.pread(fds[f], 64, 0))
        except (OSError, ValueError, KeyError):
            return None

    series = []
    peak = 0
    min_avail = None
    t_ref = t_first = t_empty = t_kernel = None
    pids0 = None
    last_pids, last_change = None, None
    n = 0
    oom0 = None
    swap_peak = 0
    go(name)
    t0 = time.monotonic()
    while True:
        now = time.monotonic()
        cur = num("memory.current")
        pids = num("pids.current")
        try:
            ev = os.pread(fds["cgroup.events"], 256, 0)
            pop = b"populated 1" in ev
        except OSError:
            pop = False  # removed: systemd cleaned up an empty unit
        try:
            oom = int(re.search(rb"oom_kill (\d+)", os.pread(fds["memory.events"], 512, 0)).group(1))
        except (OSError, AttributeError):
            oom = None
        if oom0 is None:
            oom0 = oom
        if cur is not None:
            peak = max(peak, cur)
        sw = num("memory.swap.current") if ctx.swap else None
        if sw:
            swap_peak = max(swap_peak, sw)
        if n % 8 == 0:
            a = meminfo()["MemAvailable"]
            min_avail = a if min_avail is None else min(min_avail, a)
        if keep_series and cur is not None and (not series or abs(cur - series[-1][1]) >= MiB
                                                or now - t0 - series[-1][0] >= 0.02):
            series.append((round(now - t0, 4), cur))
        level = cur
        if ref_kind == "used":
            mi = meminfo() if n % 4 == 0 else None
            level = mi["MemTotal"] - mi["MemAvailable"] if mi else None
        if t_ref is None and level is not None and level >= ref_bytes:
            t_ref = now
            if stop_at_ref:
                break
        if pids0 is None and pids:
            pids0 = pids
        if t_kernel is None and oom is not None and oom0 is not None and oom > oom0:
            t_kernel = now
        if pids is not None and pids != last_pids:
            if last_pids is not None and pids < last_pids and t_first is None:
                t_first = now
            last_pids, last_change = pids, now
        if not pop:
            t_empty = now
            if t_first is None:
                t_first = now
            break
        if t_first is not None and now - last_change > settle:
            break
        if now - t0 > timeout:
            break
        n += 1
        time.sleep(0.001)
    for fd in fds.values():
        os.close(fd)

    def rel(t):
        return None if (t is None or t_ref is None) else t - t_ref

    return {
        "samples": n, "peak_bytes": peak, "min_avail_bytes": min_avail, "swap_peak_bytes": swap_peak,
        "start_to_ref_s": None if t_ref is None else t_ref - t0,
        "ref_to_first_death_s": rel(t_first), "ref_to_empty_s": rel(t_empty),
        "t_first_death": t_first, "t_kernel_kill": t_kernel,
        "first_death": t_first is not None, "whole_group_died": t_empty is not None,
        "processes": pids0, "left": 0 if t_empty else (last_pids or 0),
        "left_after_kernel": 0 if t_empty else (last_pids or 0),
        "oom_kill": (oom or 0) - (oom0 or 0) if oom is not None else 0,
        "timeout": t_first is None and t_empty is None,
        "series": [(round(t - (t_ref - t0), 4), c) for t, c in series] if (series and t_ref) else series,
        "series_from": "ref" if (series and t_ref) else "start",
    }


def interleaved(variants, n_runs):
    """Run i visits the variants in an order rotated by i, so no contender
    always follows the same one (caches, a neighbour's recovery)."""
    for i in range(n_runs):
        k = i % len(variants)
        for v in variants[k:] + variants[:k]:
            yield i, v


def slug(v):
    return re.sub(r"[^a-z0-9]+", "-", v.lower()).strip("-")


def reaction(ctx, results, *, variants, n_runs, label, argv_of, limit, ref_bytes, ref_kind="current",
             timeout=60.0, settle=1.5, swap_max=None, limit_of=None):
    arena = Arena("1G" if limit else None, "256M" if limit else None)
    runs = []
    seen = set()
    try:
        for i, v in interleaved(variants, n_runs):
            name = f"run-{ctx.scenario}-{i}-{slug(v)}"
            lim = limit_of(v) if limit_of else limit
            rec = run_once(ctx, arena, v, name, argv_of(name), limit=lim, ref_bytes=ref_bytes,
                           ref_kind=ref_kind, timeout=timeout, settle=settle, swap_max=swap_max,
                           keep_series=v not in seen)
            seen.add(v)
            rec["run"] = i
            runs.append(rec)
            progress(f"  {v:22} run {i}: who={'→'.join(rec['who']) or '-':24} "
                     f"whole={rec['whole_group_died']!s:5} left={rec['left']} "
                     f"ref→empty={fmt_s(rec['ref_to_empty_s'])} oom_kills={len(rec['kernel_kills'])} "
                     f"innocents={rec['innocents']} unit={rec['unit_state']}")
    finally:
        arena.close()
    results["reaction"] = {"label": label, "limit": limit, "ref_bytes": ref_bytes, "runs": runs,
                           "variants": variants}


def fmt_s(v):
    return "-" if v is None else f"{v * 1000:.0f}ms"


# ---- evidence that each peer is really watching -------------------------------------


def evidence(c):
    """Proof that a peer watched what the run exercised: `oomctl dump` while
    systemd-oomd still runs, oomd's parsed ruleset, cgsentryd's start-up."""
    if c.kind in (SD_OOMD, SD_OOMD_AGG):
        return sh("oomctl", "dump")
    if c.d:
        return c.d.log()[:3000]
    return None


# ---- scenarios ----------------------------------------------------------------------


def scen_fast(ctx, results, n):
    limit = 256 * MiB
    reaction(ctx, results, variants=CONTENDERS, n_runs=n, label="85% of memory.max",
             argv_of=lambda name: work_argv("runaway", name, "--chunk", 8, "--sleepers", 3),
             limit=limit, ref_bytes=int(limit * 0.85), timeout=40)


def scen_forkhogs(ctx, results, n):
    limit = 256 * MiB
    reaction(ctx, results, variants=CONTENDERS, n_runs=n, label="85% of memory.max",
             argv_of=lambda name: work_argv("forkhogs", name, "--n", 16, "--each", 24, "--chunk", 2,
                                            "--pause", 0.02, "--sleepers", 0),
             limit=limit, ref_bytes=int(limit * 0.85), timeout=40, settle=2.5)


def scen_leak(ctx, results, n):
    limit = 256 * MiB
    reaction(ctx, results, variants=CONTENDERS, n_runs=n, label="85% of memory.max",
             argv_of=lambda name: work_argv("leak", name, "--base", 128, "--chunk", 16, "--pause", 0.5,
                                            "--sleepers", 3),
             limit=limit, ref_bytes=int(limit * 0.85), timeout=60)


def scen_swap(ctx, results, n):
    limit = 256 * MiB
    reaction(ctx, results, variants=CONTENDERS, n_runs=n, label="85% of memory.max",
             argv_of=lambda name: work_argv("swaphog", name, "--chunk", 4, "--sleepers", 3),
             limit=limit, ref_bytes=int(limit * 0.85), timeout=90, settle=2.5, swap_max="infinity")


def scen_squeeze(ctx, results, n):
    total = meminfo()["MemTotal"]
    ref = int(total * 0.60)
    limit75 = int(total * 0.75) // 4096 * 4096
    variants = CONTENDERS + ["cgsentryd+limit75"]
    reaction(ctx, results, variants=variants, n_runs=n, label="60% of RAM in use",
             argv_of=lambda name: work_argv("runaway", name, "--chunk", 8, "--sleepers", 3),
             limit=None, ref_bytes=ref, ref_kind="used", timeout=90, settle=2.5,
             limit_of=lambda v: limit75 if v.endswith("limit75") else None)
    results["reaction"]["limit75"] = limit75
    results["reaction"]["mem_total"] = total


def setup_thrash_file(mib):
    """An ext4 file system on a loop device over tmpfs (the 9p root is not
    page cache), and a file written from here, outside the service: the
    service only reads, so what it holds is page cache alone."""
    sh("modprobe", "loop")
    sh("modprobe", "ext4")
    img, mnt = "/tmp/arena-disk.img", "/tmp/arena-data"
    with open(img, "wb") as f:
        f.truncate((mib + 128) * MiB)
    sh("mkfs.ext4", "-q", "-F", img, check=True)
    os.makedirs(mnt, exist_ok=True)
    dev = sh("losetup", "-f", "--show", img, check=True).strip()
    sh("mount", dev, mnt, check=True)
    path = f"{mnt}/working-set"
    block = os.urandom(MiB)
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(block)
    sh("sync")
    st = os.stat(dev)
    return path, f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"


def drop_file_cache(path):
    """Evict @path's page cache: a previous run's pages stay cached (charged
    to its dead cgroup) and would be hits for the next run."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def scen_thrash(ctx, results, n, window):
    """A healthy service whose page cache working set (192 MiB) is larger than
    its memory.max (128 MiB): it stalls but never OOMs. Nobody should kill it."""
    limit = 128 * MiB
    path, devno = setup_thrash_file(THRASH_WS_MIB)
    arena = Arena("1G", "256M")
    runs = []
    seen = set()
    try:
        for i, v in interleaved(CONTENDERS, n):
            name = f"run-thrash-{i}-{slug(v)}"
            argv = work_argv("thrash", name, "--file", path, "--progress", f"{RUN}/{name}.progress")
            drop_file_cache(path)
            rec = run_thrash(ctx, arena, v, name, argv, limit, window, devno, keep_series=v not in seen)
            seen.add(v)
            rec["run"] = i
            runs.append(rec)
            progress(f"  {v:22} run {i}: fill={fmt_s(rec['fill_s'])} killed={rec['first_death']!s:5} who={'→'.join(rec['who']) or '-':14} "
                     f"MiB/s={rec['read_mib_s']:.0f} psi some/full avg10={rec['psi_some_avg10']}/"
                     f"{rec['psi_full_avg10']} innocents={rec['innocents']}")
    finally:
        arena.close()
    results["reaction"] = {"label": "85% of memory.max", "limit": limit, "runs": runs, "window_s": window,
                           "working_set_mib": THRASH_WS_MIB, "read_bps_limit": THRASH_RBPS,
                           "variants": CONTENDERS}


THRASH_RBPS = 16 * MiB
THRASH_WS_MIB = 192


def run_thrash(ctx, arena, variant, name, argv, limit, window, devno, keep_series):
    before = arena.dead_neighbours()
    c = Contender(variant, ctx).start()
    stopped = False
    rec = {"variant": variant, "unit": name, "limit": limit, "supervisor_startup_s": c.startup_s,
           "neighbours_dead_before": before}
    try:
        cg = start_unit(name, argv, c.unit_props() + [f"MemoryMax={limit}", "IOAccounting=yes"])
        path = f"{CG}/{cg}"
        if variant == GROUP:
            wr(f"{path}/memory.oom.group", 1)
        if c.kind == CGSENTRYD:
            wait_tripwire(path)
        if c.kind in POLLERS:
            time.sleep(1.2)
        dmesg_take()
        st0 = proc_stats(c.pid)
        log0 = c.log_size()
        # Fill the limit with page cache first (not timed), then the window.
        s = sample(ctx, path, name, int(limit * 0.85), "current", 60, 0.5, False, stop_at_ref=True)
        # Then a disk of 16 MiB/s (the loop device over tmpfs would answer
        # every miss at memory speed, and nothing would stall).
        wr(f"{path}/io.max", f"{devno} rbps={THRASH_RBPS}")
        # The window starts when reclaim does: from here on every miss evicts.
        end = time.monotonic() + 15
        while kv(f"{path}/memory.stat").get("pgscan", 0) == 0 and time.monotonic() < end:
            time.sleep(0.02)
        rec["fill_s"] = s["start_to_ref_s"]
        p0 = int(try_rd(f"{RUN}/{name}.progress", "0") or 0)
        t = time.monotonic()
        series = []
        killed_at = None
        while time.monotonic() - t < window:
            cur = try_rd(f"{path}/memory.current").strip()
            if keep_series and cur:
                series.append((round(time.monotonic() - t, 3), int(cur)))
            if "populated 0" in try_rd(f"{path}/cgroup.events", "populated 0"):
                killed_at = time.monotonic() - t
                break
            time.sleep(0.05)
        p1 = int(try_rd(f"{RUN}/{name}.progress", "0") or 0)
        if keep_series:
            rec["evidence"] = evidence(c)
        elapsed = time.monotonic() - t
        pr = psi(f"{path}/memory.pressure")
        ev = kv(f"{path}/memory.events")
        st1 = proc_stats(c.pid)
        c.stop()  # before looking at the neighbours, as in run_once()
        stopped = True
        mine, other = c.kills(log0, cg) if c.kind in SUPERVISORS else ([], [])
        kern = [f"{a} {b} {c_} {d}" for a, b, c_, d in OOM_RX.findall(dmesg_take())]
        dead = arena.dead_neighbours()
        killed = killed_at is not None or s["first_death"]
        rec.update({
            "first_death": killed, "killed_after_s": killed_at, "read_mib_s": (p1 - p0) / MiB / elapsed,
            "psi_some_avg10": pr.get("some", {}).get("avg10"), "psi_full_avg10": pr.get("full", {}).get("avg10"),
            "memcg_high": ev.get("high", 0), "memcg_max": ev.get("max", 0), "oom_kill": ev.get("oom_kill", 0),
            "kernel_kills": kern, "tool_kills": mine[:8], "tool_kills_elsewhere": other[:8],
            "neighbours_dead": dead, "supervisor_cpu_ns": cpu_delta(st0, st1),
            "supervisor_rss": st1.get("VmRSS"), "supervisor_hwm": st1.get("VmHWM"),
            "series": series, "series_from": "ref", "whole_group_died": killed,
            "log_excerpt": (mine + other)[:3],
        })
        who = (["kernel"] if kern else []) + ([variant] if mine else [])
        rec["who"] = who
        # Here the service itself is healthy: killing it is an innocent kill.
        rec["innocents_killed"] = sorted(set(innocent_units("", dead, other + kern)) | ({name} if killed else set()))
        rec["innocents"] = len(rec["innocents_killed"])
    finally:
        if not stopped:
            c.stop()
        stop_unit(name)
    return rec


# ---- scale: many idle groups ----------------------------------------------------------


SCALE_UNIT = "bench-scale"
SCALE_SLICE = "bench.slice"


def scale_setup():
    """A delegated service holds the groups: systemd owns the slice, the
    harness the subtree (as a container manager would)."""
    sh("systemd-run", "--quiet", f"--unit={SCALE_UNIT}", f"--slice={SCALE_SLICE}", "-p", "Delegate=yes",
       "-p", "DefaultDependencies=no", "-p", "OOMPolicy=continue", "--", *SLEEP, check=True)
    base = f"{CG}/{SCALE_SLICE}/{SCALE_UNIT}.service"
    end = time.monotonic() + 30
    while not try_rd(f"{base}/cgroup.procs").strip() and time.monotonic() < end:
        time.sleep(0.01)
    os.makedirs(f"{base}/main", exist_ok=True)
    for pid in rd(f"{base}/cgroup.procs").split():
        wr(f"{base}/main/cgroup.procs", pid)
    wr(f"{base}/cgroup.subtree_control", "+memory +pids")
    return base


def grow_groups(base, have, n):
    t = time.monotonic()
    for i in range(have, n):
        os.mkdir(f"{base}/g{i:05d}")
        wr(f"{base}/g{i:05d}/memory.max", 64 * MiB)
    return time.monotonic() - t


def scale_runaway(ctx, c, base, idx, tag):
    """A runaway in group g@idx among the many: the contender's event latency
    with that many groups. The harness forks it straight into the group."""
    cg_rel = f"{SCALE_SLICE}/{SCALE_UNIT}.service/g{idx:05d}"
    path = f"{CG}/{cg_rel}"
    wr(f"{RUN}/scale-{tag}.ready", 0)
    for f in (f"{RUN}/scale-{tag}.go",):
        if os.path.exists(f):
            os.unlink(f)
    # Double fork: PID 1 reaps the runaway at once (a zombie child of ours
    # would stay in pids.current, and its death would go unseen).
    pid = os.fork()
    if pid == 0:
        try:
            if os.fork() == 0:
                wr(f"{path}/cgroup.procs", 0)
                wr("/proc/self/oom_score_adj", 0)
                while not os.path.exists(f"{RUN}/scale-{tag}.go"):
                    time.sleep(0.005)
                _spawn_sleepers(1)
                _allocate(4, 0)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    limit = 64 * MiB
    if c.kind == CGSENTRYD:
        wait_tripwire(path)
    if c.kind in POLLERS:
        time.sleep(1.2)
    log0 = c.log_size()
    dmesg_take()
    rec = sample(ctx, path, f"scale-{tag}", int(limit * 0.85), "current", 30, 1.5, False)
    time.sleep(0.3)
    try_wr(f"{path}/cgroup.kill", 1)
    end = time.monotonic() + 5
    while "populated 1" in try_rd(f"{path}/cgroup.events") and time.monotonic() < end:
        time.sleep(0.01)
    mine, other = c.kills(log0, cg_rel) if c.kind in SUPERVISORS else ([], [])
    kern = OOM_RX.findall(dmesg_take())
    who = (["kernel"] if kern else []) + ([c.name] if mine else [])
    if len(who) == 2 and rec["t_kernel_kill"] and rec["t_first_death"] and rec["t_kernel_kill"] > rec["t_first_death"]:
        who.reverse()
    lat = [int(m.group(2)) for m in CGS_KILL_RX.finditer(c.d.log(log0))] if c.name == CGSENTRYD else []
    return {"ref_to_empty_s": rec["ref_to_empty_s"], "whole_group_died": rec["whole_group_died"],
            "who": who, "kernel_kills": len(kern), "daemon_latency_us": lat, "elsewhere": other[:3]}


def scen_scale(ctx, results, quick):
    sizes = (100, 1000) if quick else (100, 1000, 10000)
    window = 15 if quick else 60
    n_lat = 1 if quick else 3
    ctx.cgs_match = f"{SCALE_SLICE}/{SCALE_UNIT}.service/*"
    ctx.oomd_scope = f"{SCALE_SLICE}/{SCALE_UNIT}.service"
    ctx.oomd_anon = int(64 * MiB * 0.9)
    ctx.sdoomd_unit = f"{SCALE_UNIT}.service"
    base = scale_setup()
    out = {"sizes": [], "window_s": window}
    results["scale"] = out
    have = 0
    sups = [CGSENTRYD, OOMD, SD_OOMD_AGG, EARLYOOM]
    for n in sizes:
        t_make = grow_groups(base, have, n)
        have = n
        progress(f"scale: {n} groups (+{t_make:.1f}s to create)")
        row = {"groups": n, "create_s": t_make, "alone": {}, "idle": {}}
        out["sizes"].append(row)
        # The kernel alone, for the latency baseline.
        row["alone"][KERNEL] = {"latency": [scale_runaway(ctx, Contender(KERNEL, ctx), base, n // 2, f"k{n}-{i}")
                                            for i in range(n_lat)]}
        for s in sups:
            c = Contender(s, ctx).start()
            try:
                time.sleep(2.0)
                st = proc_stats(c.pid)
                lat = [] if s == EARLYOOM else [scale_runaway(ctx, c, base, n // 2, f"{slug(s)}{n}-{i}")
                                                 for i in range(n_lat)]
                row["alone"][s] = {"startup_s": c.startup_s, "rss": st.get("VmRSS"), "hwm": st.get("VmHWM"),
                                   "latency": lat}
                progress(f"  {s:22} start-up {fmt_s(c.startup_s)}, RSS {(st.get('VmRSS') or 0) / MiB:.1f} MiB, "
                         f"85%→empty {[fmt_s(x['ref_to_empty_s']) for x in lat]}, "
                         f"who {[x['who'] for x in lat]}")
            finally:
                c.stop()
        # Idle side by side: wake-ups and CPU over the window.
        cs = [Contender(s, ctx).start() for s in sups]
        try:
            time.sleep(2.0)
            before = {c.name: proc_stats(c.pid) for c in cs}
            t = time.monotonic()
            time.sleep(window)
            el = time.monotonic() - t
            after = {c.name: proc_stats(c.pid) for c in cs}
            for c in cs:
                b, a = before[c.name], after[c.name]
                row["idle"][c.name] = {"window_s": el, "wakeups": wakeups(a) - wakeups(b),
                                       "cpu_ns": cpu_delta(b, a), "rss": a.get("VmRSS")}
            progress("  idle: " + ", ".join(f"{k} {v['wakeups']} wake-ups {(v['cpu_ns'] or 0) / 1e6:.0f} ms CPU"
                                            for k, v in row["idle"].items()))
        finally:
            for c in cs:
                c.stop()
        if n == sizes[-1]:
            out["overhead"] = overhead(ctx, n, 2 if quick else 5)
    systemctl("stop", f"{SCALE_UNIT}.service")


def overhead(ctx, n, n_runs):
    """The benign workload's time with each supervisor watching @n groups,
    interleaved with runs where none runs."""
    progress(f"overhead: benign workload beside each supervisor ({n} groups), {n_runs} runs")
    times = {}
    for i, v in interleaved(["none", CGSENTRYD, OOMD, SD_OOMD_AGG, EARLYOOM], n_runs):
        c = Contender(v, ctx).start() if v != "none" else None
        try:
            time.sleep(1.0)
            out = sh("/usr/bin/python3", SELF, "benign", "--rounds", "30")
            times.setdefault(v, []).append(float(out.split()[0]))
        finally:
            if c:
                c.stop()
    progress("  " + ", ".join(f"{k} {statistics.median(v):.3f}s" for k, v in times.items()))
    return {"groups": n, "times_s": times}


# ---- guest entry point --------------------------------------------------------------


def guest_setup(swap_mib):
    if os.geteuid() != 0 or not os.path.exists(f"{CG}/cgroup.controllers"):
        sys.exit("arena.py guest: needs root and cgroup v2 at /sys/fs/cgroup (bench/run.sh boots that)")
    if not os.path.isdir("/run/systemd/system"):
        sys.exit("arena.py guest: needs systemd as PID 1 (bench/run.sh boots that)")
    wr("/proc/self/oom_score_adj", -1000)  # the harness must survive to report
    wr("/proc/sys/fs/inotify/max_user_watches", 1 << 20)
    os.makedirs(RUN, exist_ok=True)
    # systemd-oomd without its boot dependencies (sysinit.target would pull
    # in the whole boot the minimal target avoids).
    for u in ("systemd-oomd.service", "systemd-oomd.socket"):
        os.makedirs(f"/run/systemd/system/{u}.d", exist_ok=True)
        wr(f"/run/systemd/system/{u}.d/arena.conf", "[Unit]\nDefaultDependencies=no\n")
    systemctl("daemon-reload", check=True)
    if swap_mib:
        sh("modprobe", "zram", "num_devices=1", check=True)
        wr("/sys/block/zram0/comp_algorithm", "lzo-rle")
        wr("/sys/block/zram0/disksize", swap_mib * MiB)
        sh("mkswap", "/dev/zram0", check=True)
        sh("swapon", "/dev/zram0", check=True)


def version(argv):
    try:
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
        return r.stdout.strip().split("\n")[0]
    except (OSError, subprocess.SubprocessError):
        return None


def guest(args):
    scen = args.scenario
    swap_mib = 256 if scen == "swap" else 0
    guest_setup(swap_mib)
    exe = os.path.join(args.build, "daemon", "cgsentryd")
    if not os.access(exe, os.X_OK):
        sys.exit(f"arena.py: {exe} not found")
    results = {
        "scenario": scen, "quick": args.quick, "kernel": os.uname().release,
        "mem_total": meminfo()["MemTotal"], "cpus": os.cpu_count(), "swap_mib": swap_mib,
        "versions": {"cgsentryd": version([exe, "--version"]), "earlyoom": version(["earlyoom", "-v"]),
                     "oomd": version(["oomd", "--version"]),
                     "systemd": version(["systemctl", "--version"])},
        "errors": [],
    }
    ctx = Ctx(args.build, scen, swap=bool(swap_mib))
    if scen == "thrash":
        ctx.oomd_anon = int(128 * MiB * 0.9)
    if scen == "squeeze":
        # No limit to take 75% of: 75% of what the runaway can have.
        ctx.oomd_anon = int(meminfo()["MemAvailable"] * 0.75)
    n = 1 if args.quick else 5  # --quick: does every part work, not how well
    steps = {
        "fast": lambda: scen_fast(ctx, results, n),
        "forkhogs": lambda: scen_forkhogs(ctx, results, n),
        "leak": lambda: scen_leak(ctx, results, n),
        "thrash": lambda: scen_thrash(ctx, results, n, 3 if args.quick else 5),
        "swap": lambda: scen_swap(ctx, results, n),
        "squeeze": lambda: scen_squeeze(ctx, results, n),
        "scale": lambda: scen_scale(ctx, results, args.quick),
    }
    os.makedirs(args.out, exist_ok=True)
    out = os.path.join(args.out, f"{scen}.json")
    progress(f"scenario {scen}: kernel {results['kernel']}, {results['mem_total'] // MiB} MiB, "
             f"{'quick' if args.quick else 'full'}")
    try:
        steps[scen]()
    except Exception as e:  # report what ran; the error goes into the report
        import traceback
        traceback.print_exc()
        results["errors"].append(f"{type(e).__name__}: {e}")
    results["elapsed_s"] = time.monotonic() - T_START
    with open(out, "w") as f:
        json.dump(results, f, indent=1)
    progress(f"wrote {out}")
    return 1 if results["errors"] else 0


SCENARIOS = ["fast", "forkhogs", "leak", "thrash", "swap", "squeeze", "scale"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("guest")
    g.add_argument("scenario", choices=SCENARIOS)
    g.add_argument("--build", required=True)
    g.add_argument("--out", required=True)
    g.add_argument("--quick", action="store_true")
    w = sub.add_parser("work")
    w.add_argument("kind", choices=["holder", "runaway", "leak", "swaphog", "forkhogs", "thrash"])
    w.add_argument("--name", required=True)
    w.add_argument("--mib", type=int, default=32)
    w.add_argument("--chunk", type=int, default=8)
    w.add_argument("--pause", type=float, default=0.0)
    w.add_argument("--sleepers", type=int, default=3)
    w.add_argument("--n", type=int, default=16)
    w.add_argument("--each", type=int, default=24)
    w.add_argument("--base", type=int, default=0)
    w.add_argument("--file")
    w.add_argument("--progress")
    b = sub.add_parser("benign")
    b.add_argument("--rounds", type=int, default=30)
    r = sub.add_parser("report")
    r.add_argument("dir")
    r.add_argument("--plots", action="store_true")
    args = ap.parse_args()
    if args.cmd == "guest":
        return guest(args)
    if args.cmd == "work":
        return work(args)
    if args.cmd == "benign":
        return benign(args)
    import report as rep  # bench/report.py: host side, kept apart from the guest harness
    return rep.main(args)


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Differential test of `cgsentry explain` against the real kernel OOM killer.

Runs INSIDE the test sandbox (tests/vm/sandbox.sh): it creates cgroups under
/sys/fs/cgroup, forks processes into them, may enable zram swap, and triggers
real memcg OOM kills. It refuses to run elsewhere unless --force is given.

For each scenario:
  1. build a domain /sys/fs/cgroup/oracle-K (a small tree of groups with
     memory.oom.group flags) and fork processes into it, each moved into its
     cgroup and given its oom_score_adj *before* it allocates and touches its
     memory, so that every page it owns is charged there;
  2. reclaim the domain (memory.reclaim) so page cache cannot satisfy the limit;
  3. `cgsentry explain --save-snapshot` the domain, set the saved domain's
     memory_max to the limit L about to be written (L = memory.current - 2 MiB,
     page aligned), and `cgsentry explain --json --snapshot` that: the
     prediction for exactly the totalpages the kernel will use;
  4. write L to the domain's memory.max from outside the domain (the write
     itself runs the memcg OOM killer) and read what the kernel did from the
     kernel log (/dev/kmsg, the records `dmesg` shows) and memory.events;
  5. compare victim pid, kill group and the set of killed pids.

Usage: oracle.py --cgsentry PATH --seed N [--count M] [--out DIR]
Prints one line per scenario, details of every disagreement, then exactly
"oracle: N/M scenarios agree". Exit status 0 only if all agree.
See README.md next to this file.
"""

import argparse
import errno
import json
import os
import random
import re
import select
import signal
import subprocess
import sys
import time

CG = "/sys/fs/cgroup"
PAGE = os.sysconf("SC_PAGE_SIZE")
KiB = 1024
MiB = 1024 * 1024
ADJ_CHOICES = (-1000, -500, 0, 300, 800)
ADJ_WEIGHTS = (1, 1, 3, 1, 1)
# The predicted winner must beat the runner-up by this many pages (1.5 MiB),
# so that small drift between snapshot and kill cannot flip the answer.
SEP_PAGES = (3 * MiB // 2) // PAGE
# memory.max is set this far below memory.current: more than the per-cpu
# charge stock (64 pages per cpu) that the write drains first, less than the
# smallest allocation a victim frees (3 MiB), so one kill ends the OOM.
MARGIN = 2 * MiB
SIZE_STEP = 3 * MiB
MAX_PROCS = 14
WRITE_TIMEOUT = 30.0
# dump_header() (the "invoked oom-killer" ... "oom-kill:constraint=" part)
# is rate limited to 10 per 5 s; keep well below that.
MIN_TRIGGER_INTERVAL = 0.6
ZRAM_SIZE = "256M"


def log(*a):
    print(*a, flush=True)


class HarnessError(Exception):
    """The scenario could not be run as designed (not a mirror disagreement)."""


# ---------------------------------------------------------------- file helpers

def wfile(path, value):
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, str(value).encode())
    finally:
        os.close(fd)


def rfile(path):
    with open(path) as f:
        return f.read()


def read_kv(path):
    out = {}
    try:
        for line in rfile(path).splitlines():
            k, _, v = line.partition(" ")
            out[k] = int(v)
    except FileNotFoundError:
        pass
    return out


def meminfo(key):
    for line in rfile("/proc/meminfo").splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


# ---------------------------------------------------------------- kernel log

class Kmsg:
    """Reads the kernel log records appended since mark()."""

    def __init__(self):
        self.fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)

    def mark(self):
        os.lseek(self.fd, 0, os.SEEK_END)

    def read(self):
        msgs = []
        while True:
            try:
                rec = os.read(self.fd, 16384)
            except BlockingIOError:
                break
            except OSError as e:
                if e.errno == errno.EPIPE:  # overwritten before we read it
                    msgs.append("<oracle: kernel log records lost>")
                    continue
                raise
            if not rec:
                break
            text = rec.decode("utf-8", "replace")
            head, _, body = text.partition(";")
            msgs.append(body.split("\n", 1)[0])
        return msgs


class OomBlock:
    def __init__(self):
        self.header = False       # "... invoked oom-killer:"
        self.constraint = None    # dict of the oom-kill:constraint= line
        self.mem_limit_kb = None
        self.swap_limit_kb = None
        self.dump = []            # (pid, rss, pgtables_bytes, swapents, adj, comm)
        self.killed = []          # pids in "Killed process" order (dups kept)
        self.exiting = []         # "OOM victim PID ... is already exiting. Skip"
        self.group = None         # "Tasks in G are going to be killed ..."
        self.nokill = False       # "Out of memory and no killable processes"
        self.lines = []


RE_DUMP = re.compile(r"^\[\s*(\d+)\]\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(-?\d+)\s+(\d+)\s+(-?\d+)\s+(.*)$")
RE_KILLED = re.compile(r"Killed process (\d+) \(")
RE_EXITING = re.compile(r"OOM victim (\d+) \(.*\) is already exiting")
RE_GROUP = re.compile(r"Tasks in\s*(\S+)\s*are going to be killed due to memory\.oom\.group set")
RE_MEM = re.compile(r"^memory: usage (\d+)kB, limit (\d+)kB")
RE_SWAP = re.compile(r"^swap: usage (\d+)kB, limit (\d+)kB")


def parse_oom_blocks(msgs, cgroup_of=None):
    """Split the log into OOM invocations. A block starts at "invoked
    oom-killer" (dump_header). dump_header is rate limited (10 per 5 s), so a
    block also starts at an "oom-kill:constraint=" line not preceded by a
    header, and at a "Killed process" line that cannot belong to the current
    block: a second kill before any "Tasks in ... memory.oom.group" line, or,
    after it, a kill of a pid outside that group (cgroup_of: pid -> path)."""
    cgroup_of = cgroup_of or {}

    def in_group(pid, group):
        cg = cgroup_of.get(pid)
        return cg is None or cg == group or cg.startswith(group.rstrip("/") + "/")

    blocks = []
    cur = None
    for m in msgs:
        is_header = " invoked oom-killer:" in m
        is_constraint = m.startswith("oom-kill:constraint=")
        km = RE_KILLED.search(m)
        new = is_header or cur is None
        if cur is not None and is_constraint and (cur.constraint or cur.killed):
            new = True
        if cur is not None and "no killable processes" in m and (cur.killed or cur.nokill):
            new = True
        if cur is not None and km and cur.killed:
            pid = int(km.group(1))
            if cur.group is None or not in_group(pid, cur.group):
                new = True
        if new:
            if cur is None and not (is_header or is_constraint or km or
                                    "no killable processes" in m):
                continue
            cur = OomBlock()
            blocks.append(cur)
            cur.header = is_header
        cur.lines.append(m)
        if is_constraint:
            cur.constraint = dict(kv.split("=", 1) for kv in m[len("oom-kill:"):].split(",")
                                  if "=" in kv)
        elif km:
            cur.killed.append(int(km.group(1)))
        elif RE_EXITING.search(m):
            cur.exiting.append(int(RE_EXITING.search(m).group(1)))
        elif RE_GROUP.search(m):
            cur.group = RE_GROUP.search(m).group(1)
        elif "Out of memory and no killable processes" in m:
            cur.nokill = True
        elif RE_MEM.match(m):
            cur.mem_limit_kb = int(RE_MEM.match(m).group(2))
        elif RE_SWAP.match(m):
            cur.swap_limit_kb = int(RE_SWAP.match(m).group(2))
        elif RE_DUMP.match(m):
            d = RE_DUMP.match(m)
            cur.dump.append((int(d.group(1)), int(d.group(5)), int(d.group(6)),
                             int(d.group(7)), int(d.group(8)), d.group(9)))
    return blocks


# ---------------------------------------------------------------- scenario model

class Proc:
    def __init__(self, size, adj):
        self.size = size          # bytes allocated and touched
        self.adj = adj
        self.pid = None
        self.comm = None
        self.group = None
        self.status = None        # wait status once reaped

    def spec(self):
        return {"size_mib": self.size // MiB, "adj": self.adj}


class Group:
    def __init__(self, name="", parent=None, oom_group=False, memory=True):
        self.name = name
        self.parent = parent
        self.children = []
        self.procs = []
        self.oom_group = oom_group
        # False: the parent does not enable +memory for its children, so this
        # group is charged to the nearest ancestor that has a memcg.
        self.memory = memory

    def add(self, name, **kw):
        g = Group(name, self, **kw)
        self.children.append(g)
        return g

    def proc(self, size_mib, adj=0):
        p = Proc(size_mib * MiB, adj)
        p.group = self
        self.procs.append(p)
        return p

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()

    def rel(self):
        parts = []
        g = self
        while g is not None:
            parts.append(g.name)
            g = g.parent
        return "/".join(reversed(parts))

    def spec(self):
        return {"name": self.name, "oom_group": self.oom_group, "memory": self.memory,
                "procs": [p.spec() for p in self.procs],
                "children": [c.spec() for c in self.children]}


class Scenario:
    def __init__(self, name, root, kind="hand", swap=False, swap_max=None, wrapper=None,
                 tune=None, check=None, sysctl=None, about=""):
        self.name = name
        self.root = root              # the top group we create (wrapper or domain)
        self.kind = kind
        self.swap = swap              # needs zram swap
        self.swap_max = swap_max      # bytes for the domain's memory.swap.max
        self.wrapper = wrapper        # the domain is root.children[0], below a wrapper
        self.tune = tune              # callback(sc, pred, ctx) -> True if adj changed
        self.check = check            # callback(sc, result) -> list of problems
        self.about = about
        self.sysctl = sysctl or {}    # /proc/sys/... values set for this scenario only
        self.domain = root if wrapper is None else root.children[0]
        self.rerolls = 0

    def procs(self):
        return [p for g in self.root.walk() for p in g.procs]


# ---------------------------------------------------------------- random scenarios

def gen_random(rng):
    levels = rng.choices([0, 1, 2, 3], weights=[15, 35, 30, 20])[0]
    dom = Group(oom_group=rng.random() < 0.2)
    budget = [7]

    def grow(g, depth):
        if depth >= levels:
            return
        n = rng.randint(1, 3) if depth == 0 else rng.choice([0, 1, 1, 2, 2, 3])
        for i in range(n):
            if budget[0] <= 0:
                break
            budget[0] -= 1
            c = g.add("g%d" % (i + 1), oom_group=rng.random() < 0.3)
            grow(c, depth + 1)

    grow(dom, 0)
    leaves = [g for g in dom.walk() if not g.children]
    counts = [rng.randint(1, 6) for _ in leaves]
    while sum(counts) > MAX_PROCS:
        i = max(range(len(counts)), key=lambda j: counts[j])
        counts[i] -= 1
    total = sum(counts)
    sizes = rng.sample(range(1, max(24, total + 4) + 1), total)
    nothing_killable = rng.random() < 0.07
    k = 0
    procs = []
    for g, n in zip(leaves, counts):
        for _ in range(n):
            adj = -1000 if nothing_killable else rng.choices(ADJ_CHOICES, ADJ_WEIGHTS)[0]
            procs.append(g.proc(sizes[k] * SIZE_STEP // MiB, adj))
            k += 1
    # Nothing killable only by design (above), not by chance.
    if not nothing_killable and all(p.adj == -1000 for p in procs):
        rng.choice(procs).adj = rng.choice([a for a in ADJ_CHOICES if a != -1000])
    return dom


# ---------------------------------------------------------------- hand-made scenarios

def tuned_pair(ref_idx, tuned_idx, k_wrong_fn):
    """Tune the oom_score_adj of one process against a reference process so
    that the winner between them differs between the true totalpages/1000
    (k, computed here from memory.max, memory.swap.max, SwapTotal and
    vm.swappiness, not taken from cgsentry) and the k of a wrong model
    (k_wrong_fn), by the same margin both ways:
    adj = -2 * (base_tuned - base_ref) / (k + k_wrong)."""

    def base(c):
        return c["rss_pages"] + c["swap_pages"] + c["pgtables_bytes"] // PAGE

    def tune(sc, pred, ctx):
        procs = sc.procs()
        ref, tp = procs[ref_idx], procs[tuned_idx]
        cand = {c["pid"]: c for c in pred["candidates"]}
        k = ctx["want_totalpages"] // 1000
        kw = k_wrong_fn(ctx) // 1000
        assert ref.adj == 0
        delta = base(cand[tp.pid]) - base(cand[ref.pid])
        adj = round(-2 * delta / (k + kw)) if k + kw else 0
        adj = max(-999, min(1000, adj))
        ctx["tuned"] = {"pid": tp.pid, "adj": adj, "k": k, "k_wrong": kw,
                        "margin": delta + adj * k, "margin_wrong": delta + adj * kw}
        if tp.adj == adj:
            return False
        tp.adj = adj
        wfile("/proc/%d/oom_score_adj" % tp.pid, adj)
        return True

    def check(sc, res):
        t = res.get("ctx", {}).get("tuned")
        if not t:
            return ["tuning did not run"]
        out = []
        if min(abs(t["margin"]), abs(t["margin_wrong"])) < SEP_PAGES or \
                (t["margin"] > 0) == (t["margin_wrong"] > 0):
            out.append("case not discriminating: tuned task leads by %d pages with "
                       "totalpages/1000=%d and by %d with %d" % (
                           t["margin"], t["k"], t["margin_wrong"], t["k_wrong"]))
        return out

    return tune, check


def handmade():
    out = []

    d = Group()
    a = d.add("small")
    a.proc(6)
    a.proc(9, 300)
    b = d.add("big")
    bb = b.add("deeper")
    bb.proc(60)
    bb.proc(3)
    out.append(Scenario("victim-in-child", d,
                        about="no flags: only the biggest task, two levels down, dies"))

    d = Group()
    a = d.add("a", oom_group=True)
    b = a.add("b", oom_group=True)
    b.proc(45)
    b.proc(6, -500)
    a2 = a.add("a2")
    a2.proc(9)
    c = d.add("c")
    c.proc(24)
    c.proc(12)
    out.append(Scenario("nested-oom-group", d,
                        about="a and a/b both flagged: the highest (a) is killed whole"))

    d = Group(oom_group=True)
    x = d.add("x")
    x.proc(36)
    x.proc(3)
    y = d.add("y")
    y.proc(15)
    out.append(Scenario("oom-group-on-domain", d,
                        about="the domain itself has memory.oom.group=1: everything dies"))

    d = Group()
    a = d.add("a")
    ax = a.add("x")
    ax.proc(42)
    ay = a.add("y", oom_group=True)
    ay.proc(6)
    b = d.add("b", oom_group=True)
    b.proc(24)
    out.append(Scenario("flags-off-path-ignored", d,
                        about="flags on a sibling and a cousin of the victim's group do not apply"))

    w = Group()
    w.oom_group = True
    d = w.add("dom")
    x = d.add("x")
    x.proc(30)
    x.proc(6)
    y = d.add("y")
    y.proc(12)
    out.append(Scenario("flag-above-domain-ignored", w, wrapper=True,
                        about="a flag on the domain's parent is outside the OOM domain"))

    d = Group()
    g = d.add("g", oom_group=True)
    g.proc(48)
    g.proc(18, -1000)
    g.proc(9)
    o = d.add("other")
    o.proc(21)

    def survives(sc, res):
        p = sc.procs()[1]
        if p.status is not None:
            return ["the oom_score_adj -1000 member %d of the killed group died" % p.pid]
        if not pid_alive(p.pid):
            return ["the oom_score_adj -1000 member %d is not alive" % p.pid]
        return []

    out.append(Scenario("adj-min-survives-group-kill", d, check=survives,
                        about="oom_kill_memcg_member() spares oom_score_adj -1000"))

    d = Group()
    d.proc(3, -500)
    d.proc(9, -500)
    d.proc(30, -1000)
    out.append(Scenario("negative-points", d,
                        about="all candidates score below zero; the least negative dies"))

    d = Group()
    d.proc(45)
    d.proc(6, 500)
    tune, check = tuned_pair(0, 1, lambda ctx: (ctx["want_totalpages"] // 1000 - 2) * 1000)
    out.append(Scenario("adj-scaling-no-swap", d, tune=tune, check=check,
                        about="totalpages = memory.max exactly: the winner flips if "
                              "totalpages/1000 were 2 less"))

    d = Group()
    a = d.add("a", oom_group=True)
    a.proc(12, -1000)
    a.proc(24, -1000)
    b = d.add("b")
    b.proc(6, -1000)
    out.append(Scenario("nothing-killable", d,
                        about="only oom_score_adj -1000 tasks: explain exits 1, the kernel "
                              "kills nothing"))

    d = Group(oom_group=True)
    d.proc(9)
    x = d.add("x", memory=False)
    x.proc(36)
    xy = x.add("y", memory=False)
    xy.proc(15)
    out.append(Scenario("memoryless-children", d,
                        about="children without their own memcg are charged to the domain and "
                              "killed with its oom.group"))

    # With zram swap.
    d = Group()
    d.proc(48)
    d.proc(6, 500)
    tune, check = tuned_pair(
        0, 1, lambda ctx: ctx["want_totalpages"] - min(ctx["swap_max_pages"],
                                                       ctx["total_swap_pages"]))
    out.append(Scenario("swap-max-term", d, swap=True, swap_max=16 * MiB, tune=tune, check=check,
                        about="totalpages = memory.max + min(memory.swap.max, SwapTotal): the "
                              "winner flips without the swap term"))

    d = Group()
    d.proc(48)
    d.proc(12, 0)
    tune, check = tuned_pair(1, 0, lambda ctx: ctx["want_totalpages"] + ctx["total_swap_pages"])
    out.append(Scenario("swap-max-zero", d, swap=True, swap_max=0, tune=tune, check=check,
                        about="memory.swap.max 0 with swap on: no swap term; the winner flips "
                              "if SwapTotal were added"))

    d = Group()
    d.proc(48)
    d.proc(6, 500)
    tune, check = tuned_pair(
        0, 1, lambda ctx: ctx["want_totalpages"] + min(ctx["swap_max_pages"],
                                                       ctx["total_swap_pages"]))
    out.append(Scenario("swappiness-zero", d, swap=True, swap_max=32 * MiB, tune=tune,
                        check=check, sysctl={"vm/swappiness": 0},
                        about="vm.swappiness 0 with swap on: no swap term (cgroup v2 uses the "
                              "global value); the winner flips if the swap term were added"))

    g = Group()
    a = g.add("a", oom_group=True)
    a.proc(30)
    a.proc(9, 300)
    b = g.add("b")
    b.proc(21)
    out.append(Scenario("swap-group-kill", g, swap=True, swap_max=8 * MiB,
                        about="oom.group kill of a partly swapped-out group"))
    return out


# ---------------------------------------------------------------- processes

def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return st[st.rindex(")") + 2] not in "ZX"


def child_main(go_r, ready_w, comm):
    """In the forked child: wait until moved, allocate and touch, sleep."""
    try:
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = os.read(go_r, 64)
            if not chunk:
                os._exit(3)
            buf += chunk
        n = int(buf)
        try:
            wfile("/proc/self/comm", comm)
        except OSError:
            pass
        blob = b"\x01" * n  # bytes repetition memsets: every page is touched
        os.write(ready_w, b"r")
        while blob:
            signal.pause()
    except BaseException:
        os._exit(4)
    os._exit(0)


def spawn(sc, idx):
    procs = sc.procs()
    ready_r, ready_w = os.pipe()
    try:
        for i, p in enumerate(procs):
            go_r, go_w = os.pipe()
            comm = "o%dp%d" % (idx, i + 1)
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                os.close(go_w)
                os.close(ready_r)
                child_main(go_r, ready_w, comm)
            os.close(go_r)
            p.pid, p.comm = pid, comm
            try:
                wfile(os.path.join(CG, p.group.rel(), "cgroup.procs"), pid)
                wfile("/proc/%d/oom_score_adj" % pid, p.adj)
                os.write(go_w, b"%d\n" % p.size)
            finally:
                os.close(go_w)
        os.close(ready_w)
        ready_w = -1
        got, deadline = 0, time.monotonic() + 60
        while got < len(procs):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([ready_r], [], [], left)[0]:
                raise HarnessError("only %d of %d processes allocated their memory"
                                   % (got, len(procs)))
            chunk = os.read(ready_r, 64)
            if not chunk:
                raise HarnessError("a process died before allocating (%d of %d ready)"
                                   % (got, len(procs)))
            got += len(chunk)
    finally:
        os.close(ready_r)
        if ready_w >= 0:
            os.close(ready_w)


def reap(procs, wait_for=(), timeout=10.0):
    """Collect exit statuses; wait until every pid in wait_for has exited."""
    deadline = time.monotonic() + timeout
    want = set(wait_for)
    while True:
        for p in procs:
            if p.pid and p.status is None:
                try:
                    r, st = os.waitpid(p.pid, os.WNOHANG)
                except ChildProcessError:
                    r, st = p.pid, -1
                if r:
                    p.status = st
        pending = [p for p in procs if p.pid in want and p.status is None]
        if not pending or time.monotonic() >= deadline:
            return [p.pid for p in pending]
        time.sleep(0.02)


# ---------------------------------------------------------------- cgroups

def cg_create(sc, idx):
    top = "oracle-%d" % idx
    sc.root.name = top
    for g in sc.root.walk():
        path = os.path.join(CG, g.rel())
        os.mkdir(path)
    for g in sc.root.walk():
        path = os.path.join(CG, g.rel())
        if g.children and all(c.memory for c in g.children):
            wfile(os.path.join(path, "cgroup.subtree_control"), "+memory")
        elif any(c.memory for c in g.children):
            raise HarnessError("mixed memory/non-memory children are not supported")
        if g.oom_group:
            if not os.path.exists(os.path.join(path, "memory.oom.group")):
                raise HarnessError("%s has no memory.oom.group" % g.rel())
            wfile(os.path.join(path, "memory.oom.group"), 1)
    if sc.swap_max is not None:
        wfile(os.path.join(CG, sc.domain.rel(), "memory.swap.max"), sc.swap_max)


def cg_destroy_path(top):
    """cgroup.kill the subtree, wait until it is empty, rmdir bottom-up."""
    path = os.path.join(CG, top)
    if not os.path.isdir(path):
        return
    try:
        wfile(os.path.join(path, "cgroup.kill"), 1)
    except OSError:
        pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if "populated 0" in rfile(os.path.join(path, "cgroup.events")):
                break
        except OSError:
            break
        time.sleep(0.02)
    dirs = []
    for dirpath, _, _ in os.walk(path):
        dirs.append(dirpath)
    for d in sorted(dirs, key=len, reverse=True):
        for _ in range(100):
            try:
                os.rmdir(d)
                break
            except FileNotFoundError:
                break
            except OSError as e:
                if e.errno != errno.EBUSY:
                    raise
                time.sleep(0.05)
        else:
            raise HarnessError("cannot remove %s (still busy)" % d)


# ---------------------------------------------------------------- cgsentry

def explain(args):
    cmd = [ORACLE.cgsentry, "explain", "--json"] + args
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=60)
    if r.returncode not in (0, 1):
        raise HarnessError("%s exited %d: %s" % (" ".join(cmd), r.returncode, r.stderr.strip()))
    try:
        pred = json.loads(r.stdout)
    except ValueError as e:
        raise HarnessError("explain printed invalid JSON (%s): %r" % (e, r.stdout[:200]))
    if (pred.get("victim") is not None) != (r.returncode == 0):
        raise HarnessError("explain exit status %d does not match victim %r"
                           % (r.returncode, pred.get("victim")))
    pred["_exit"] = r.returncode
    return pred


class TooSmall(Exception):
    """The generated domain cannot be driven into an OOM; draw another."""


def predict(sc, workdir, limit=None):
    """Snapshot the live domain, then replay it with memory.max = limit."""
    dom = sc.domain.rel()
    snap = os.path.join(workdir, "snapshot.json")
    explain(["--save-snapshot", snap, dom])
    with open(snap) as f:
        s = json.load(f)
    g0 = s["groups"][0]
    if g0.get("path") != "/" + dom:
        raise HarnessError("snapshot domain is %r, expected /%s" % (g0.get("path"), dom))
    if limit is None:
        cur = g0["memory_current"]
        limit = (cur - MARGIN) // PAGE * PAGE
        if limit < 2 * MiB:
            # A random domain whose processes hold too little to OOM
            # meaningfully: drawn again, like a near tie.
            raise TooSmall("memory.current %d too small to lower" % cur)
    g0["memory_max"] = limit
    snap_l = os.path.join(workdir, "snapshot-limit.json")
    with open(snap_l, "w") as f:
        json.dump(s, f, indent=1)
    pred = explain(["--snapshot", snap_l])
    return pred, limit, s


# ---------------------------------------------------------------- one scenario

class Oracle:
    def __init__(self, args):
        self.args = args
        self.cgsentry = args.cgsentry
        self.kmsg = Kmsg()
        self.last_trigger = 0.0
        self.swap_on = False

    def workdir(self, idx, name):
        base = self.args.out or "/tmp/cgsentry-oracle"
        d = os.path.join(base, "%02d-%s" % (idx, name))
        os.makedirs(d, exist_ok=True)
        return d

    def run_scenario(self, sc, idx, rng=None):
        res = {"name": sc.name, "ctx": {}}
        wd = self.workdir(idx, sc.name)
        t0 = time.monotonic()
        saved = {}
        try:
            for key, val in sc.sysctl.items():
                saved[key] = rfile("/proc/sys/" + key).strip()
                wfile("/proc/sys/" + key, val)
            for _ in range(12):
                sc.root.name = "oracle-%d" % idx
                cg_destroy_path(sc.root.name)
                cg_create(sc, idx)
                try:
                    t = time.monotonic()
                    spawn(sc, idx)
                    res["t_spawn"] = round(time.monotonic() - t, 2)
                    try:
                        out = self.measure_and_trigger(sc, idx, wd, res, reroll=rng is not None)
                    except TooSmall as e:
                        if rng is None:
                            raise HarnessError(str(e))
                        out = "reroll"
                finally:
                    procs = sc.procs()
                    cg_destroy_path(sc.root.name)
                    left = reap(procs, [p.pid for p in procs if p.pid])
                    if left:
                        raise HarnessError("processes %s did not exit after cgroup.kill" % left)
                if out != "reroll":
                    break
                sc.rerolls += 1
                sc.root = gen_random(rng)
                sc.domain = sc.root
            else:
                raise HarnessError("no usable scenario (near ties or too small) after 12 attempts")
        except HarnessError as e:
            res["error"] = str(e)
        except Exception as e:  # noqa: BLE001 - report, clean up, go on
            import traceback
            res["error"] = "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc())
        finally:
            for key, val in saved.items():
                wfile("/proc/sys/" + key, val)
        res["seconds"] = round(time.monotonic() - t0, 2)
        res["spec"] = sc.root.spec()
        if sc.swap_max is not None:
            res["spec"]["swap_max"] = sc.swap_max
        with open(os.path.join(wd, "result.json"), "w") as f:
            json.dump({k: v for k, v in res.items() if k != "kmsg"}, f, indent=1, default=str)
        return res

    def measure_and_trigger(self, sc, idx, wd, res, reroll):
        dom_path = os.path.join(CG, sc.domain.rel())
        time.sleep(0.1)
        t_start = time.monotonic()
        # Make page cache unable to satisfy the limit: reclaim what can be.
        for _ in range(2):
            try:
                wfile(os.path.join(dom_path, "memory.reclaim"),
                      int(rfile(os.path.join(dom_path, "memory.current"))))
            except OSError as e:
                if e.errno != errno.EAGAIN:
                    raise
        t_reclaimed = time.monotonic()
        ctx = res["ctx"]
        ctx["total_swap_pages"] = meminfo("SwapTotal") * KiB // PAGE
        sm = rfile(os.path.join(dom_path, "memory.swap.max")).strip() \
            if os.path.exists(os.path.join(dom_path, "memory.swap.max")) else "max"
        ctx["swap_max_pages"] = (1 << 62) if sm == "max" else int(sm) // PAGE
        swappiness = int(rfile("/proc/sys/vm/swappiness"))
        pred, limit, snap = predict(sc, wd)
        # totalpages as mem_cgroup_get_max() computes it, independently of cgsentry.
        want_tp = limit // PAGE + (min(ctx["swap_max_pages"], ctx["total_swap_pages"])
                                   if swappiness else 0)
        ctx["want_totalpages"] = want_tp
        res["expected_totalpages"] = want_tp
        if sc.tune and sc.tune(sc, pred, ctx):
            pred, limit, snap = predict(sc, wd, limit)
            sc.tune(sc, pred, ctx)  # refresh the recorded margins
        with open(os.path.join(wd, "prediction.json"), "w") as f:
            json.dump(pred, f, indent=1)
        res["limit"] = limit
        res["prediction"] = pred

        # Sanity of the prediction itself, independent of the kernel.
        pids = {p.pid for p in sc.procs()}
        cands = {c["pid"] for c in pred["candidates"]}
        if cands != pids:
            raise HarnessError("explain saw pids %s, the scenario has %s"
                               % (sorted(cands), sorted(pids)))
        killable = sorted((c["points"] for c in pred["candidates"] if c["killable"]),
                          reverse=True)
        res["gap"] = killable[0] - killable[1] if len(killable) >= 2 else None
        if res["gap"] is not None and res["gap"] < SEP_PAGES:
            if reroll:
                return "reroll"
            res.setdefault("notes", []).append(
                "near tie: the winner leads by only %d pages" % res["gap"])

        t_predicted = time.monotonic()
        res["t_reclaim"] = round(t_reclaimed - t_start, 2)
        res["t_predict"] = round(t_predicted - t_reclaimed, 2)
        # Trigger.
        wait = self.last_trigger + MIN_TRIGGER_INTERVAL - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        ev_before = read_kv(os.path.join(dom_path, "memory.events"))
        self.kmsg.mark()
        self.last_trigger = time.monotonic()
        res["write"] = timed_write(os.path.join(dom_path, "memory.max"), limit, WRITE_TIMEOUT)
        msgs = self.kmsg.read()
        cgroup_of = {p.pid: "/" + p.group.rel() for p in sc.procs()}
        blocks = parse_oom_blocks(msgs, cgroup_of)
        killed_all = set()
        for b in blocks:
            killed_all.update(b.killed)
            killed_all.update(b.exiting)
        procs = sc.procs()
        left = reap(procs, killed_all & pids, timeout=10)
        time.sleep(0.15)
        reap(procs, ())
        msgs += self.kmsg.read()
        res["kmsg"] = msgs
        blocks = parse_oom_blocks(msgs, cgroup_of)
        ev_after = read_kv(os.path.join(dom_path, "memory.events"))
        with open(os.path.join(wd, "kmsg.txt"), "w") as f:
            f.write("\n".join(msgs) + "\n")
        res["kernel"] = kernel_summary(blocks)
        res["events_delta"] = {k: ev_after.get(k, 0) - ev_before.get(k, 0)
                               for k in ("oom", "oom_kill", "oom_group_kill")}
        res["dead"] = sorted(p.pid for p in procs if p.status is not None)
        if left:
            res.setdefault("notes", []).append("killed by the kernel but still not exited: %s"
                                               % left)
        res["t_trigger"] = round(time.monotonic() - t_predicted, 2)
        self.compare(sc, res, blocks, want_tp)
        return "done"

    def compare(self, sc, res, blocks, want_tp):
        pred = res["prediction"]
        problems, notes = [], res.setdefault("notes", [])
        pv = pred["victim"]["pid"] if pred["victim"] else None
        pg = pred["kill_group"]
        pk = set(pred["kill_pids"])
        if not blocks:
            raise HarnessError("the memory.max write (%s) caused no OOM at all; kernel log:\n  %s"
                               % (res["write"], "\n  ".join(res["kmsg"][-20:]) or "(empty)"))
        b = blocks[0]
        kv = b.killed[0] if b.killed else None
        kg = b.group
        kk = set(b.killed) | set(b.exiting)
        res["agree_victim"] = pv == kv
        res["agree_group"] = pg == kg
        res["agree_killed"] = pk == kk
        if pv != kv:
            problems.append("victim: predicted %s, kernel %s" % (pv, kv))
        if pg != kg:
            problems.append("kill group: predicted %s, kernel %s" % (pg, kg))
        if pk != kk:
            problems.append("killed set: predicted %s, kernel %s" % (sorted(pk), sorted(kk)))
        if pv is None and not b.nokill:
            problems.append("kernel did not report 'no killable processes'")

        # Harness consistency (the log and the counters must tell one story).
        if kv is not None and not b.header:
            notes.append("the first OOM has no dump_header (rate limited)")
        if b.constraint:
            if b.constraint.get("oom_memcg") != pred["domain"]:
                problems.append("kernel oom_memcg=%s, domain %s"
                                % (b.constraint.get("oom_memcg"), pred["domain"]))
            if kv is not None and int(b.constraint.get("pid", -1)) != kv:
                notes.append("constraint line pid %s != first Killed %s"
                             % (b.constraint.get("pid"), kv))
        nkilled_lines = sum(len(x.killed) for x in blocks)
        ngroups = sum(1 for x in blocks if x.group)
        ev = res["events_delta"]
        if ev["oom_kill"] != nkilled_lines:
            notes.append("memory.events oom_kill +%d but %d 'Killed process' lines"
                         % (ev["oom_kill"], nkilled_lines))
        if ev["oom_group_kill"] != ngroups:
            notes.append("memory.events oom_group_kill +%d but %d group kills logged"
                         % (ev["oom_group_kill"], ngroups))
        if res["write"] != "ok":
            notes.append("the memory.max write ended with: %s" % res["write"])
        res["oom_invocations"] = len(blocks)
        res["extra_kills"] = sorted(set(p for x in blocks[1:] for p in x.killed))
        killed_all = set()
        for x in blocks:
            killed_all |= set(x.killed) | set(x.exiting)
        dead = set(res["dead"])
        if dead != killed_all:
            problems.append("processes that died %s != processes the kernel logged as killed %s"
                            % (sorted(dead), sorted(killed_all)))

        # Diagnostics: the kernel's own view of totalpages and of each task.
        if b.mem_limit_kb is not None:
            ktp = b.mem_limit_kb * KiB // PAGE
            if b.swap_limit_kb is not None and int(rfile("/proc/sys/vm/swappiness")):
                ktp += min(b.swap_limit_kb * KiB // PAGE, res["ctx"]["total_swap_pages"])
            res["kernel_totalpages"] = ktp
            if ktp != pred["totalpages"]:
                problems.append("totalpages: predicted %d, kernel limits give %d"
                                % (pred["totalpages"], ktp))
        if pred["totalpages"] != want_tp:
            problems.append("totalpages: predicted %d, memory.max/swap.max give %d"
                            % (pred["totalpages"], want_tp))
        if b.dump:
            cand = {c["pid"]: c for c in pred["candidates"]}
            drift = []
            for pid, rss, pgt, swp, adj, comm in b.dump:
                c = cand.get(pid)
                if c is None:
                    drift.append("kernel dumped pid %d (%s) that explain did not see" % (pid, comm))
                    continue
                kbase = rss + swp + pgt // PAGE
                pbase = c["rss_pages"] + c["swap_pages"] + c["pgtables_bytes"] // PAGE
                if kbase != pbase or adj != c["oom_score_adj"]:
                    drift.append("pid %d: kernel rss %d swap %d pgtables %d adj %d; explain rss "
                                 "%d swap %d pgtables %d adj %d" % (
                                     pid, rss, swp, pgt, adj, c["rss_pages"], c["swap_pages"],
                                     c["pgtables_bytes"], c["oom_score_adj"]))
            if drift:
                notes.append("task values moved between snapshot and OOM: " + "; ".join(drift))
            korder = [d[0] for d in b.dump]
            porder = [c["pid"] for c in pred["candidates"]]
            if korder != porder:
                notes.append("scan order differs: kernel %s, explain %s" % (korder, porder))
        if sc.check:
            problems += sc.check(sc, res)
        res["problems"] = problems
        res["agree"] = not problems

def kernel_summary(blocks):
    out = []
    for b in blocks:
        out.append({"header": b.header, "constraint": b.constraint, "killed": b.killed,
                    "exiting": b.exiting, "group": b.group, "nokill": b.nokill,
                    "mem_limit_kb": b.mem_limit_kb, "swap_limit_kb": b.swap_limit_kb,
                    "dump": b.dump})
    return out


def timed_write(path, value, timeout):
    """Write in a child so a write that never returns can be interrupted
    (a fatal signal ends memory_max_write()'s reclaim/OOM loop)."""
    r, w = os.pipe()
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            wfile(path, value)
            os.write(w, b"ok")
        except OSError as e:
            os.write(w, ("errno %d" % e.errno).encode())
        os._exit(0)
    os.close(w)
    deadline = time.monotonic() + timeout
    result = "timeout"
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            break
        if select.select([r], [], [], min(left, 0.5))[0]:
            result = os.read(r, 64).decode() or "writer died"
            break
    os.waitpid(pid, 0)
    os.close(r)
    return result


# ---------------------------------------------------------------- reporting

def describe_pred(pred):
    v = pred["victim"]
    lines = ["  prediction: domain %s totalpages %d victim %s kill_group %s kill_pids %s" % (
        pred["domain"], pred["totalpages"],
        "%d (%s, %s, %d points)" % (v["pid"], v["comm"], v["cgroup"], v["points"]) if v else None,
        pred["kill_group"], pred["kill_pids"])]
    for c in pred["candidates"]:
        lines.append("    %7d %-15s %-28s points %-8s adj %5d rss %6d swap %5d pgtables %7d%s" % (
            c["pid"], c["comm"], c["cgroup"], c["points"], c["oom_score_adj"], c["rss_pages"],
            c["swap_pages"], c["pgtables_bytes"],
            "" if c["killable"] else "  (%s)" % c.get("unkillable", "unkillable")))
    return lines


def describe_kernel(res):
    lines = []
    for i, b in enumerate(res.get("kernel", [])):
        lines.append("  kernel OOM #%d: victim %s group %s killed %s exiting %s%s limit %skB "
                     "swap limit %skB" % (
                         i + 1, b["killed"][0] if b["killed"] else None, b["group"],
                         b["killed"], b["exiting"], " NO-KILLABLE" if b["nokill"] else "",
                         b["mem_limit_kb"], b["swap_limit_kb"]))
        if b["constraint"]:
            lines.append("    " + ",".join("%s=%s" % kv for kv in b["constraint"].items()))
        for pid, rss, pgt, swp, adj, comm in b["dump"]:
            lines.append("    dump %7d %-15s rss %6d swap %5d pgtables %7d adj %5d" % (
                pid, comm, rss, swp, pgt, adj))
    lines.append("  memory.events delta %s; dead after the OOM %s; write: %s" % (
        res.get("events_delta"), res.get("dead"), res.get("write")))
    return lines


def summary_line(i, m, sc, res):
    head = "[%2d/%d] %-28s" % (i, m, sc.name)
    if "error" in res:
        return head + " ERROR   " + res["error"].splitlines()[0]
    pred = res["prediction"]
    v = pred["victim"]
    what = ("victim %d %s (%d pts)" % (v["pid"], v["cgroup"], v["points"]) if v
            else "nothing killable")
    if pred["kill_group"]:
        what += " group %s kills %d" % (pred["kill_group"], len(pred["kill_pids"]))
    extra = "tp %d" % pred["totalpages"]
    if res.get("gap") is not None:
        extra += " gap %d" % res["gap"]
    if sc.rerolls:
        extra += " rerolls %d" % sc.rerolls
    if res.get("oom_invocations", 1) > 1:
        extra += " +%d later OOM" % (res["oom_invocations"] - 1)
    extra += " %.1fs" % res["seconds"]
    return "%s %-8s %s [%s]" % (head, "agree" if res["agree"] else "DISAGREE", what, extra)


# ---------------------------------------------------------------- main

class Zram:
    """One zram swap device, turned on and off between scenario phases."""

    def __init__(self):
        self.ready = False
        self.error = None
        self.on = False

    def _setup(self):
        subprocess.run(["modprobe", "zram"], check=True, capture_output=True, timeout=60)
        for _ in range(200):
            if os.path.exists("/sys/block/zram0/disksize") and os.path.exists("/dev/zram0"):
                break
            time.sleep(0.05)
        if int(rfile("/sys/block/zram0/disksize")) == 0:
            wfile("/sys/block/zram0/disksize", ZRAM_SIZE)
        subprocess.run(["mkswap", "/dev/zram0"], check=True, capture_output=True, timeout=60)
        self.ready = True

    def set(self, want):
        """Returns an error string, or None once swap is as wanted."""
        if self.error:
            return self.error
        if want == self.on:
            return None
        try:
            if want:
                if meminfo("SwapTotal") > 0:
                    raise OSError("another swap device is already active")
                if not self.ready:
                    self._setup()
                subprocess.run(["swapon", "/dev/zram0"], check=True, capture_output=True,
                               timeout=60)
                if meminfo("SwapTotal") <= 0:
                    raise OSError("swapon succeeded but SwapTotal is 0")
            else:
                subprocess.run(["swapoff", "/dev/zram0"], check=True, capture_output=True,
                               timeout=120)
            self.on = want
        except (OSError, subprocess.SubprocessError) as e:
            err = getattr(e, "stderr", b"") or b""
            self.error = ("%s %s" % (e, err.decode(errors="replace"))).strip()
            return self.error
        return None


ORACLE = None


def main():
    global ORACLE
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cgsentry", required=True, help="path of the cgsentry binary")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, default=54,
                    help="scenarios in total, hand-made ones included (default 54: "
                         "the 14 hand-made ones and 40 random)")
    ap.add_argument("--swap-share", type=float, default=0.25,
                    help="share of the random scenarios run with zram swap (default 0.25)")
    ap.add_argument("--out", help="directory for per-scenario artifacts "
                                  "(default $CGSENTRY_RESULTS/oracle, else /tmp)")
    ap.add_argument("--only", action="append", default=[],
                    help="run only the named scenario(s), e.g. nested-oom-group or random-7")
    ap.add_argument("--deadline", type=float, default=780,
                    help="stop starting scenarios after this many seconds (default 780)")
    ap.add_argument("--force", action="store_true",
                    help="run outside the sandbox (creates cgroups, may enable swap, kills)")
    args = ap.parse_args()
    if os.environ.get("CGSENTRY_SANDBOX") != "1" and not args.force:
        sys.exit("oracle.py: refusing to run outside the test sandbox (see --force)")
    if args.out is None and os.environ.get("CGSENTRY_RESULTS"):
        args.out = os.path.join(os.environ["CGSENTRY_RESULTS"], "oracle")
    args.cgsentry = os.path.abspath(args.cgsentry)
    if not os.access(args.cgsentry, os.X_OK):
        sys.exit("oracle.py: %s is not executable" % args.cgsentry)
    if not os.path.exists(os.path.join(CG, "cgroup.subtree_control")) or \
            "memory" not in rfile(os.path.join(CG, "cgroup.subtree_control")).split():
        sys.exit("oracle.py: %s is not a cgroup v2 root with +memory" % CG)

    # The oracle must never be the victim of anything; children get explicit values.
    wfile("/proc/self/oom_score_adj", -1000)
    ORACLE = Oracle(args)
    start = time.monotonic()
    for d in os.listdir(CG):
        if d.startswith("oracle-"):
            cg_destroy_path(d)

    hand = handmade()
    n_total = max(0, args.count)
    n_random = max(0, n_total - len(hand))
    n_swap_random = int(round(n_random * args.swap_share))
    # Hand-made cases first (those needing swap last among them), then the
    # random ones, those with swap last: swap is switched on and off between.
    plan = [(s, None, s.swap) for s in hand if not s.swap]
    plan += [(s, None, s.swap) for s in hand if s.swap]
    plan = plan[:n_total]
    plan += [(None, i, i > n_random - n_swap_random) for i in range(1, n_random + 1)]
    if args.only:
        plan = [p for p in plan if (p[0].name if p[0] else "random-%d" % p[1]) in args.only]
        if not plan:
            sys.exit("oracle.py: --only matched no scenario")

    log("oracle: seed %d, %d scenarios (%d hand-made, %d random of which %d with swap), "
        "kernel %s, page size %d, %d cpus" % (
            args.seed, len(plan), sum(1 for p in plan if p[0]),
            sum(1 for p in plan if not p[0]), sum(1 for p in plan if not p[0] and p[2]),
            os.uname().release, PAGE, os.cpu_count()))
    results = []
    agree = 0
    skipped = []
    zram = Zram()
    m = len(plan)
    for i, (sc, ridx, swap) in enumerate(plan, 1):
        name = sc.name if sc else "random-%d" % ridx
        if time.monotonic() - start > args.deadline:
            log("[%2d/%d] %-28s NOT RUN  (deadline of %ds reached)" % (i, m, name, args.deadline))
            results.append((name, {"error": "not run: deadline"}))
            continue
        was_on = zram.on
        err = zram.set(swap)
        if err and swap:
            if not skipped:
                log("oracle: WARNING: cannot enable zram swap (%s): swap scenarios skipped" % err)
            skipped.append(name)
            continue
        if err:
            log("oracle: cannot turn swap off (%s)" % err)
            results.append((name, {"error": "swap could not be turned off"}))
            continue
        if zram.on != was_on:
            log("oracle: swap %s (SwapTotal %d kB)" % ("on" if zram.on else "off",
                                                       meminfo("SwapTotal")))
        rng = None
        if sc is None:
            rng = random.Random("%d:%d" % (args.seed, ridx))
            sc = Scenario(name, gen_random(rng), kind="random", swap=swap)
            if swap:
                sc.swap_max = rng.choice([0, 8 * MiB, 32 * MiB])
        res = ORACLE.run_scenario(sc, i, rng)
        results.append((name, res))
        log(summary_line(i, m, sc, res))
        if "error" in res:
            for line in res["error"].splitlines()[1:]:
                log("    " + line)
        else:
            if res["agree"]:
                agree += 1
            else:
                for p in res["problems"]:
                    log("  DISAGREEMENT: " + p)
                if sc.about:
                    log("  (case: %s)" % sc.about)
                for line in describe_pred(res["prediction"]) + describe_kernel(res):
                    log(line)
            for n in res.get("notes", []):
                log("  note: " + n)
    zram.set(False)
    multi = [n for n, r in results if r.get("oom_invocations", 1) > 1]
    if multi:
        log("oracle: %d scenarios saw more than one OOM invocation from one memory.max write "
            "(later kills are not compared): %s" % (len(multi), " ".join(multi)))
    m_run = m - len(skipped)
    elapsed = time.monotonic() - start
    if skipped:
        log("oracle: SKIPPED %d swap scenarios (no zram): %s" % (len(skipped), " ".join(skipped)))
    if args.out:
        with open(os.path.join(args.out, "summary.json"), "w") as f:
            json.dump({"seed": args.seed, "agree": agree, "total": m_run,
                       "seconds": round(elapsed, 1), "skipped": skipped,
                       "results": {n: {k: r.get(k) for k in ("agree", "error", "problems",
                                                             "notes", "seconds")}
                                   for n, r in results}}, f, indent=1)
    log("oracle: %.0fs" % elapsed)
    log("oracle: %d/%d scenarios agree" % (agree, m_run))
    return 0 if agree == m_run and m_run > 0 else 1


if __name__ == "__main__":
    sys.exit(main())

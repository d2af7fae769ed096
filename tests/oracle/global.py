#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The kernel as oracle for system-wide OOMs: `cgsentry explain /` against
what a real global OOM kills, in a small-RAM sandbox without limits.

Runs INSIDE the test sandbox (tests/vm/sandbox.sh --mem 512). Everything
that must survive is oom_score_adj -1000 first: this harness and every
process already running. Per scenario:
  1. create cgroups under /sys/fs/cgroup (memory.oom.group where asked) and
     start `ghog hold` processes of well-separated sizes in them, in a given
     order, with their oom_score_adj; processes meant to tie are grown page
     by page until their badness is equal;
  2. start the trigger (`ghog trigger`, armed, not yet allocating): -1000,
     unless vm.oom_kill_allocating_task=1 wants it killable;
  3. settle, drop the page cache, capture the prediction:
     `cgsentry explain --json / [--allocating-pid TRIGGER]`;
  4. let the trigger allocate until one of the scenario's processes dies
     (the system runs out of memory), and read the kernel log;
  5. compare the FIRST OOM report's victim, memory.oom.group and killed set
     with the prediction's victim, kill_group and kill_pids, and its
     constraint (CONSTRAINT_NONE, global_oom) with the outcome.
One scenario is a memcg OOM under vm.panic_on_oom=1: explain must say
"kill" there (panic_on_oom=1 spares memcg OOMs) and the kernel kills.

Prints one line per scenario, details of disagreements, then exactly
"global oracle: N/M scenarios agree". Exit 0 only if all agree.
Usage: global.py --cgsentry PATH --ghog PATH [--out DIR] [--only NAME]
"""

import argparse
import errno
import json
import os
import re
import select
import signal
import subprocess
import sys
import time

CG = "/sys/fs/cgroup"
PAGE = os.sysconf("SC_PAGE_SIZE")
MiB = 1 << 20
RE_KILLED = re.compile(r"Killed process (\d+) \(")
RE_GROUP = re.compile(r"Tasks in (\S+) are going to be killed due to memory\.oom\.group set")


def log(*a):
    print(*a, flush=True)


def wfile(path, value):
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, str(value).encode())
    finally:
        os.close(fd)


def rfile(path):
    with open(path) as f:
        return f.read()


class HarnessError(Exception):
    pass


# ------------------------------------------------------------ scenarios

class P:
    """A process: cgroup (relative to the scenario root, "" = the root
    cgroup itself), MiB, oom_score_adj, tie group name."""

    def __init__(self, cg, mib, adj=0, tie=None):
        self.cg, self.mib, self.adj, self.tie = cg, mib, adj, tie
        self.pid = None
        self.proc = None


class S:
    def __init__(self, name, procs, oom_groups=(), oak=0, trigger_adj=-1000, trigger_cg="trig",
                 memcg=False, about=""):
        self.name, self.procs, self.oom_groups = name, procs, set(oom_groups)
        self.oak, self.trigger_adj, self.trigger_cg = oak, trigger_adj, trigger_cg
        self.memcg, self.about = memcg, about


def scenarios():
    return [
        S("largest-wins", [P("a", 40), P("b", 120), P("c", 80)],
          about="no flags: the largest process dies alone"),
        S("root-cgroup-victim", [P("a", 40), P(None, 110), P("b", 70)],
          about="the victim lives in the root cgroup: no group to widen to"),
        S("adj-positive", [P("a", 120), P("b", 30, adj=700)],
          about="oom_score_adj 700 makes a small process the victim"),
        S("adj-negative", [P("a", 130, adj=-600), P("b", 60)],
          about="oom_score_adj -600 spares the largest"),
        S("adj-min-spared", [P("a", 140, adj=-1000), P("b", 50), P("c", 90)],
          about="oom_score_adj -1000 is never chosen"),
        S("oom-group-leaf", [P("a/x", 110), P("a/x", 20), P("a/y", 30), P("b", 60)],
          oom_groups=["a/x"], about="memory.oom.group on the victim's cgroup: it dies whole"),
        S("oom-group-nested", [P("g/a/b", 110), P("g/a/b", 20, adj=-1000), P("g/a/c", 15),
                               P("g/d", 25), P("h", 60)],
          oom_groups=["g", "g/a/b"],
          about="flags at two levels: the highest (g) dies whole, its -1000 member survives"),
        S("oom-group-widened-to-root", [P("x/y/z", 110), P("x/q", 20), P("w", 60)],
          oom_groups=["x"],
          about="a flag three levels above the victim: a system-wide OOM widens up to the root"),
        S("oom-group-sibling-ignored", [P("a", 110), P("b", 30), P("b", 20)], oom_groups=["b"],
          about="a flag on a sibling does not apply"),
        # forked first into b, then into a; a cgroup walk (a, b) would end
        # with the first forked
        S("tie-two", [P("b", 80, tie="t"), P("a", 80, tie="t")],
          about="equal badness: the later process of the task list (forked later) dies, not "
                "the last of a cgroup walk"),
        S("tie-three", [P("c", 70, tie="t"), P("a", 70, tie="t"), P("b", 70, tie="t"), P("d", 20)],
          about="three equal: the last forked dies"),
        # The hold processes take most of the memory: the allocator stays
        # far smaller than the largest, so the scan would not choose it.
        S("oak-allocating-killable", [P("a", 240), P("b", 90)], oak=1, trigger_adj=0,
          about="vm.oom_kill_allocating_task=1: the allocating task dies, not the largest"),
        S("oak-allocating-unkillable", [P("a", 240), P("b", 90)], oak=1, trigger_adj=-1000,
          about="vm.oom_kill_allocating_task=1 with a -1000 allocator: the scan chooses"),
        S("oak-allocating-in-oom-group", [P("t", 30), P("a", 260)], oak=1, trigger_adj=0,
          trigger_cg="t", oom_groups=["t"],
          about="the allocating task's memory.oom.group dies with it"),
        S("panic1-spares-memcg", [P("m", 30), P("m", 60)], memcg=True,
          about="vm.panic_on_oom=1 does not panic on a memcg OOM: the scan's victim dies"),
    ]


# ------------------------------------------------------------ processes

def protect_everything():
    """-1000 for every process that exists now (the harness included)."""
    n = 0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                wfile("/proc/%s/oom_score_adj" % d, -1000)
                n += 1
            except OSError:
                pass
    return n


def start_hold(ghog, cgdir, mib, adj):
    p = subprocess.Popen([ghog, "hold", str(mib)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         preexec_fn=lambda: (wfile(os.path.join(cgdir, "cgroup.procs"), os.getpid()),
                                             wfile("/proc/self/oom_score_adj", adj)))
    if p.stdout.readline().strip() != b"ready":
        raise HarnessError("ghog hold %d did not start" % mib)
    return p


def badness_base(pid):
    """rss + swap + pgtables/PAGE in pages, as oom_badness() adds them."""
    kb = {}
    for line in rfile("/proc/%d/status" % pid).splitlines():
        k, _, v = line.partition(":")
        if k in ("RssAnon", "RssFile", "RssShmem", "VmSwap", "VmPTE"):
            kb[k] = int(v.split()[0])
    return ((kb["RssAnon"] + kb["RssFile"] + kb["RssShmem"] + kb["VmSwap"]) * 1024 // PAGE
            + kb["VmPTE"] * 1024 // PAGE)


def equalize(procs):
    """Copies of one size tie already (ghog runs without randomisation);
    otherwise grow the smaller page by page until all score the same."""
    for _ in range(20):
        base = {p: badness_base(p.pid) for p in procs}
        top = max(base.values())
        if all(v == top for v in base.values()):
            return top
        for p, v in base.items():
            if v < top:
                p.proc.stdin.write(b"grow %d\n" % (top - v))
                p.proc.stdin.flush()
                if p.proc.stdout.readline().strip() != b"ready":
                    raise HarnessError("ghog did not grow")
    raise HarnessError("could not equalize the tie: %s" % {p.pid: badness_base(p.pid) for p in procs})


# ------------------------------------------------------------ kernel log

class Kmsg:
    def __init__(self):
        self.fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)

    def mark(self):
        os.lseek(self.fd, 0, os.SEEK_END)

    def read(self, timeout=0.0):
        out = []
        end = time.monotonic() + timeout
        while True:
            try:
                rec = os.read(self.fd, 16384)
                out.append(rec.decode("utf-8", "replace"))
                continue
            except BlockingIOError:
                pass
            except OSError as e:
                if e.errno == errno.EPIPE:
                    continue
                raise
            left = end - time.monotonic()
            if left <= 0:
                return out
            select.select([self.fd], [], [], left)


def first_block(recs):
    """The first OOM report: header .. the next header or summary line."""
    msgs = [r.split(";", 1)[-1].split("\n", 1)[0] for r in recs]
    start = next((i for i, m in enumerate(msgs) if " invoked oom-killer:" in m), None)
    if start is None:
        start = next((i for i, m in enumerate(msgs) if m.startswith("oom-kill:")), None)
    if start is None:
        return None
    block = {"summary": None, "killed": [], "group": None, "lines": [], "alloc": None}
    seen_kill = False
    for i, m in enumerate(msgs[start:]):
        if i > 0 and (" invoked oom-killer:" in m or (m.startswith("oom-kill:") and seen_kill)):
            break
        block["lines"].append(m)
        if " invoked oom-killer:" in m:
            block["alloc"] = m.split(" invoked oom-killer:")[0]
        if m.startswith("oom-kill:"):
            block["summary"] = m
        km = RE_KILLED.search(m)
        if km:
            seen_kill = True
            block["killed"].append(int(km.group(1)))
        g = RE_GROUP.search(m)
        if g:
            block["group"] = g.group(1)
    return block


# ------------------------------------------------------------ one scenario

class Oracle:
    def __init__(self, args):
        self.args = args
        self.kmsg = Kmsg()

    def explain(self, target, extra=()):
        r = subprocess.run([self.args.cgsentry, "explain", "--json"] + list(extra) + [target],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
        if r.returncode not in (0, 1):
            raise HarnessError("explain exited %d: %s" % (r.returncode, r.stderr.strip()))
        return json.loads(r.stdout)

    def run(self, idx, sc):
        top = "goracle-%d" % idx
        root = os.path.join(CG, top)
        res = {"name": sc.name, "problems": [], "notes": []}
        saved = {k: rfile("/proc/sys/vm/" + k).strip()
                 for k in ("oom_kill_allocating_task", "panic_on_oom", "oom_dump_tasks")}
        procs = sc.procs
        trig = None
        try:
            wfile("/proc/sys/vm/oom_kill_allocating_task", sc.oak)
            wfile("/proc/sys/vm/oom_dump_tasks", 1)
            if sc.memcg:
                wfile("/proc/sys/vm/panic_on_oom", 1)
            os.mkdir(root)
            # cgroups in creation order: sorted, so sibling order is known
            cgs = sorted({p.cg for p in procs if p.cg} | set(sc.oom_groups) |
                         ({sc.trigger_cg} if not sc.memcg else set()))
            for cg in cgs:
                parts = cg.split("/")
                for i in range(1, len(parts) + 1):
                    d = os.path.join(root, *parts[:i])
                    if not os.path.isdir(d):
                        wfile(os.path.join(os.path.dirname(d), "cgroup.subtree_control"), "+memory")
                        os.mkdir(d)
            for g in sc.oom_groups:
                wfile(os.path.join(root, g, "memory.oom.group"), 1)
            for p in procs:
                cgdir = CG if p.cg is None else os.path.join(root, p.cg) if p.cg else root
                p.proc = start_hold(self.args.ghog, cgdir, p.mib, p.adj)
                p.pid = p.proc.pid
            ties = {}
            for p in procs:
                if p.tie:
                    ties.setdefault(p.tie, []).append(p)
            for t in ties.values():
                res["tie_points"] = equalize(t)
            if sc.memcg:
                return self.run_memcg(sc, root, top, res)
            tdir = os.path.join(root, sc.trigger_cg)
            trig = subprocess.Popen([self.args.ghog, "trigger"] + [str(p.pid) for p in procs],
                                    stdin=subprocess.PIPE,
                                    preexec_fn=lambda: (wfile(os.path.join(tdir, "cgroup.procs"),
                                                              os.getpid()),
                                                        wfile("/proc/self/oom_score_adj",
                                                              sc.trigger_adj)))
            time.sleep(0.3)
            wfile("/proc/sys/vm/drop_caches", 3)
            extra = ["--allocating-pid", str(trig.pid)] if sc.oak else []
            pred = self.explain("/", extra)
            res["prediction"] = {k: pred.get(k) for k in ("victim", "kill_group", "kill_pids",
                                                          "constraint", "outcome")}
            for t in ties.values():
                pts = sorted({c["points"] for c in pred["candidates"]
                              if c["pid"] in {p.pid for p in t}})
                if len(pts) != 1:
                    res["notes"].append("tie not exact in the snapshot: points %s" % pts)
            self.kmsg.mark()
            trig.stdin.write(b"go\n")
            trig.stdin.flush()
            # The trigger allocates until one of the scenario's processes (or
            # itself) is dead. Block in waitpid() meanwhile: a harness that
            # allocates could be the task whose allocation fails.
            signal.alarm(120)
            try:
                _, st = os.waitpid(trig.pid, 0)
                trig.returncode = os.waitstatus_to_exitcode(st)
            except InterruptedError:
                pass
            finally:
                signal.alarm(0)
            recs = self.kmsg.read(0.5)
            if trig.poll() is None:
                trig.kill()
            trig.wait()
            with open(os.path.join(self.args.out, "%02d-%s.kmsg" % (idx, sc.name)), "w") as f:
                f.write("".join(recs))
            self.compare(sc, pred, first_block(recs), res, trig.pid)
        except HarnessError as e:
            res["problems"].append("harness: %s" % e)
        finally:
            for p in procs:
                if p.proc and p.proc.poll() is None:
                    p.proc.kill()
                if p.proc:
                    p.proc.wait()
            if trig and trig.poll() is None:
                trig.kill()
                trig.wait()
            for k, v in saved.items():
                wfile("/proc/sys/vm/" + k, v)
            destroy(root)
        return res

    def run_memcg(self, sc, root, top, res):
        """memory.max just below usage, written from outside: a memcg OOM."""
        for _ in range(2):
            try:
                wfile(os.path.join(root, "memory.reclaim"), rfile(os.path.join(root, "memory.current")))
            except OSError:
                pass
        pred = self.explain(top + "/m")
        res["prediction"] = {k: pred.get(k) for k in ("victim", "kill_group", "kill_pids",
                                                      "constraint", "outcome")}
        limit = (int(rfile(os.path.join(root, "m", "memory.current"))) - 2 * MiB) // PAGE * PAGE
        self.kmsg.mark()
        wfile(os.path.join(root, "m", "memory.max"), limit)
        recs = self.kmsg.read(0.5)
        self.compare(sc, pred, first_block(recs), res, None)
        return res

    def compare(self, sc, pred, block, res, trigger_pid):
        pr = res["problems"]
        if block is None:
            pr.append("no OOM report in the kernel log")
            return
        res["kernel"] = {k: block[k] for k in ("summary", "killed", "group", "alloc")}
        out = pred["outcome"]
        pv = pred["victim"]["pid"] if pred["victim"] else None
        kv = block["killed"][0] if block["killed"] else None
        if pv != kv:
            pr.append("victim: predicted %s, kernel %s" % (pv, kv))
        if pred["kill_group"] != block["group"]:
            pr.append("group: predicted %s, kernel %s" % (pred["kill_group"], block["group"]))
        if sorted(set(pred["kill_pids"])) != sorted(set(block["killed"])):
            pr.append("killed: predicted %s, kernel %s" % (sorted(pred["kill_pids"]),
                                                           sorted(set(block["killed"]))))
        want_kind = "kill-allocating-task" if sc.oak and sc.trigger_adj != -1000 else "kill"
        if out["kind"] != want_kind:
            pr.append("outcome: explain says %s, expected %s" % (out["kind"], want_kind))
        if sc.memcg:
            if not (block["summary"] or "").startswith("oom-kill:constraint=CONSTRAINT_MEMCG"):
                pr.append("not a memcg OOM: %s" % block["summary"])
        else:
            s = block["summary"] or ""
            if not s.startswith("oom-kill:constraint=CONSTRAINT_NONE") or ",global_oom," not in s:
                pr.append("not a system-wide OOM: %s" % s)
            if pred["constraint"] != "CONSTRAINT_NONE" or not out["global"]:
                pr.append("explain / did not predict a system-wide OOM")
            if block["alloc"] != "oracle-ghog":
                res["notes"].append("the allocating task was %s, not the trigger" % block["alloc"])
                if sc.oak:
                    pr.append("harness: another task allocated under oom_kill_allocating_task")


def destroy(root):
    if not os.path.isdir(root):
        return
    try:
        wfile(os.path.join(root, "cgroup.kill"), 1)
    except OSError:
        pass
    end = time.monotonic() + 10
    while time.monotonic() < end and "populated 1" in rfile(os.path.join(root, "cgroup.events")):
        time.sleep(0.02)
    for d, _, _ in sorted(os.walk(root), key=lambda x: -len(x[0])):
        for _ in range(100):
            try:
                os.rmdir(d)
                break
            except OSError as e:
                if e.errno != errno.EBUSY:
                    break
                time.sleep(0.05)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cgsentry", required=True)
    ap.add_argument("--ghog", required=True)
    ap.add_argument("--out", default=os.environ.get("CGSENTRY_RESULTS", "/tmp"))
    ap.add_argument("--only", action="append", default=[])
    args = ap.parse_args()
    if os.environ.get("CGSENTRY_SANDBOX") != "1":
        sys.exit("global.py: refusing to run outside the test sandbox")
    os.makedirs(args.out, exist_ok=True)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.signal(signal.SIGALRM, lambda *a: None)
    n = protect_everything()
    mem = int(re.search(r"MemTotal:\s+(\d+)", rfile("/proc/meminfo")).group(1))
    plan = [s for s in scenarios() if not args.only or s.name in args.only]
    log("global oracle: %d scenarios, MemTotal %d kB, %d processes protected (-1000), "
        "kernel %s" % (len(plan), mem, n, os.uname().release))
    o = Oracle(args)
    agree = 0
    t0 = time.monotonic()
    for i, sc in enumerate(plan, 1):
        t = time.monotonic()
        res = o.run(i, sc)
        ok = not res["problems"]
        agree += ok
        pred = res.get("prediction") or {}
        v = (pred.get("victim") or {}).get("pid")
        log("[%2d/%d] %-28s %-8s victim %s group %s killed %s [%.1fs]" % (
            i, len(plan), sc.name, "agree" if ok else "DISAGREE", v, pred.get("kill_group"),
            pred.get("kill_pids"), time.monotonic() - t))
        for p in res["problems"]:
            log("  DISAGREEMENT: " + p)
        if not ok:
            log("  (case: %s)" % sc.about)
            log("  kernel: %s" % json.dumps(res.get("kernel")))
            log("  prediction: %s" % json.dumps(pred))
        for note in res["notes"]:
            log("  note: " + note)
        with open(os.path.join(args.out, "%02d-%s.json" % (i, sc.name)), "w") as f:
            json.dump(res, f, indent=1, default=str)
    log("global oracle: %.0fs" % (time.monotonic() - t0))
    log("global oracle: %d/%d scenarios agree" % (agree, len(plan)))
    return 0 if agree == len(plan) and plan else 1


if __name__ == "__main__":
    sys.exit(main())

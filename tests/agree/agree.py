#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""explain --config against what cgsentryd then does, on the real kernel.

Runs INSIDE the test sandbox (tests/vm/sandbox.sh). For each scenario a
domain is set up with its processes; the one that will set the trigger off
is started but held (it allocates part of its memory, then waits on a
pipe). Then `cgsentry explain --config CONF --trigger KIND --json CGROUP`
gives its prediction, the held process is released, and cgsentryd (with
the same CONF) acts. The prediction agrees when the processes it says die
are exactly those that died of SIGKILL, and the ones it says are spared are
alive. Printed as "explain-vs-daemon: N/N agree".

Scenarios: tripwire, protect (Protect=), adjmin (a -1000 member), pool (a
policy's choice widened by memory.oom.group), policy (largest, no widening),
kernelkill (OnKernelOOMKill=group-kill after a real kernel OOM kill),
pressure (a PSI trigger on a thrashing group, zram swap; runs last).
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "daemon"))
import daemon as T  # noqa: E402
from daemon import (MiB, R, Daemon, cgpath, destroy, kv, log, mkcg, spawn_fn,  # noqa: E402
                    spawn_sleep, wait_started, wait_until, wfile)


def held_hog(start_mib, gate_r, ready_w, step_mib=1, pause=0.0):
    """Allocate @start_mib, say so on @ready_w, wait for @gate_r, then run
    away (@step_mib at a time)."""
    def run():
        keep = [b"\x01" * MiB for _ in range(start_mib)]
        os.write(ready_w, b"r")
        os.read(gate_r, 1)
        while True:
            keep.append(b"\x01" * (step_mib * MiB))
            if pause:
                time.sleep(pause)
    return run


def held_thrasher(size, gate_r, ready_w):
    def run():
        buf = bytearray(size)
        os.write(ready_w, b"r")
        os.read(gate_r, 1)
        n = 0
        while True:
            n = (n + 1) & 0xff
            for i in range(0, size, T.PAGE):
                buf[i] = n
    return run


class Gate:
    def __init__(self):
        self.gate_r, self.gate_w = os.pipe()
        self.ready_r, self.ready_w = os.pipe()

    def wait_ready(self, timeout=60):
        import select
        r, _, _ = select.select([self.ready_r], [], [], timeout)
        return bool(r) and os.read(self.ready_r, 1) == b"r"

    def open(self):
        os.write(self.gate_w, b"g")


def predict(a, conf, rel, trigger):
    p = subprocess.run([a.cgsentry, "explain", "--json", "--config", conf, "--trigger", trigger,
                        rel], capture_output=True, text=True, timeout=60)
    if p.returncode not in (0, 1):
        return None, p.stderr
    o = json.loads(p.stdout)
    return o, p.stderr


def scenario(a, d, name, rel, trigger, procs, gate, done_timeout=60):
    """Predict, release, wait, compare. @procs: every process of the domain."""
    conf = d.config
    pred, err = predict(a, conf, rel, trigger)
    if pred is None:
        R.check(False, f"{name}: explain --config answered", err)
        gate.open()
        return False
    want_dead = set(pred["kill_pids"])
    want_alive = {s["pid"] for s in pred["spared"]}
    gate.open()
    wait_until(lambda: all(not p.alive() for p in procs if p.pid in want_dead), done_timeout)
    time.sleep(0.5)  # a wrong extra kill shows up here
    died = {p.pid for p in procs if p.killed_by() == signal.SIGKILL}
    alive = {p.pid for p in procs if p.alive()}
    ok = died == want_dead and want_alive <= alive
    R.check(ok, f"{name}: explain --config predicted {sorted(want_dead)} "
                f"(spared {sorted(want_alive)}); SIGKILLed {sorted(died)}, alive {sorted(alive)}",
            d.tail(15))
    return ok


CONF_HEAD = "[Rule {name}]\nMatch={match}\nCooldown=5s\n"


def run_one(a, name, conf_body, setup, trigger, needs_zram=False):
    d = None
    z = None
    try:
        if needs_zram:
            z = T.Zram()
        rel, procs, gate = setup()
        d = Daemon(a.daemon, name, conf_body, a.out)
        if not R.check(d.ready(), f"{name}: cgsentryd started", d.tail()):
            gate.open()
            return False
        time.sleep(0.5)  # tripwires armed
        return scenario(a, d, name, rel, trigger, procs, gate)
    except Exception as e:  # a harness error fails the scenario
        import traceback
        R.check(False, f"{name}: ran to the end ({e})", traceback.format_exc())
        return False
    finally:
        if d:
            d.stop()
        destroy("agree.slice")
        if z:
            z.off()


def members(rel, n, adj=None):
    ps = [spawn_sleep(rel, adj=adj, what=f"sleeper{'' if adj is None else adj}") for _ in range(n)]
    wait_started(ps, rel)
    return ps


def hogged(rel, start_mib, **kw):
    g = Gate()
    h = spawn_fn(rel, held_hog(start_mib, g.gate_r, g.ready_w, **kw), "held hog")
    if not g.wait_ready():
        raise RuntimeError("the held hog did not get ready")
    return h, g


def setup_plain(max_mib=128):
    def setup():
        mkcg("agree.slice", max=1024 * MiB, subtree=True)
        rel = "agree.slice/svc"
        mkcg(rel, max=max_mib * MiB)
        ps = members(rel, 3)
        h, g = hogged(rel, 60)
        return rel, ps + [h], g
    return setup


def setup_protect():
    mkcg("agree.slice", max=1024 * MiB, subtree=True)
    rel = "agree.slice/svc"
    mkcg(rel, max=128 * MiB)
    mkcg(f"{rel}/main")
    mkcg(f"{rel}/keep")
    ps = members(f"{rel}/main", 2) + members(f"{rel}/keep", 1)
    h, g = hogged(f"{rel}/main", 60)
    return rel, ps + [h], g


def setup_adjmin():
    mkcg("agree.slice", max=1024 * MiB, subtree=True)
    rel = "agree.slice/svc"
    mkcg(rel, max=128 * MiB)
    ps = members(rel, 2) + members(rel, 1, adj=-1000)
    h, g = hogged(rel, 60)
    return rel, ps + [h], g


def setup_pool(oom_group):
    def setup():
        mkcg("agree.slice", max=1024 * MiB, subtree=True)
        rel = "agree.slice/pool"
        mkcg(rel, max=192 * MiB, subtree=True)
        if oom_group:
            wfile(f"{cgpath(rel)}/memory.oom.group", 1)
        for c in ("a", "b"):
            mkcg(f"{rel}/{c}")
        ps = members(f"{rel}/a", 1) + members(f"{rel}/b", 2)
        ps.append(spawn_fn(f"{rel}/b", T.steady(20), "b steady"))
        h, g = hogged(f"{rel}/a", 80)
        wait_until(lambda: kv(f"{cgpath(rel)}/b/memory.stat").get("anon", 0) >= 19 * MiB, 30)
        return rel, ps + [h], g
    return setup


def setup_kernelkill():
    mkcg("agree.slice", max=1024 * MiB, subtree=True)
    rel = "agree.slice/svc"
    mkcg(rel, max=96 * MiB)
    ps = members(rel, 2) + members(rel, 1, adj=-1000)
    h, g = hogged(rel, 40)
    return rel, ps + [h], g


def setup_pressure():
    mkcg("agree.slice", max=1024 * MiB, subtree=True)
    rel = "agree.slice/thrash"
    mkcg(rel, max=48 * MiB)
    wfile(f"{cgpath(rel)}/memory.swap.max", "max")
    ps = members(rel, 1)
    g = Gate()
    th = spawn_fn(rel, held_thrasher(96 * MiB, g.gate_r, g.ready_w), "held thrasher")
    if not g.wait_ready(120):
        raise RuntimeError("the held thrasher did not get ready")
    return rel, ps + [th], g


SCENARIOS = [
    ("tripwire", CONF_HEAD.format(name="svc", match="agree.slice/*") +
     "OOMGroup=yes\nTripwire=90%\n", setup_plain(), "tripwire", False),
    ("protect", CONF_HEAD.format(name="svc", match="agree.slice/*") +
     "OOMGroup=yes\nTripwire=90%\nProtect=agree.slice/svc/keep\n", setup_protect, "tripwire",
     False),
    ("adjmin", CONF_HEAD.format(name="svc", match="agree.slice/*") +
     "OOMGroup=yes\nTripwire=90%\n", setup_adjmin, "tripwire", False),
    ("pool", CONF_HEAD.format(name="pool", match="agree.slice/pool") +
     "Tripwire=90%\nPolicy=largest\n", setup_pool(True), "tripwire", False),
    ("policy", CONF_HEAD.format(name="pool", match="agree.slice/pool") +
     "Tripwire=90%\nPolicy=largest\n", setup_pool(False), "tripwire", False),
    ("kernelkill", CONF_HEAD.format(name="svc", match="agree.slice/*") +
     "Tripwire=off\nOnKernelOOMKill=group-kill\n", setup_kernelkill, "kernel-oom-kill", False),
    ("pressure", CONF_HEAD.format(name="thrash", match="agree.slice/thrash") +
     "OOMGroup=yes\nTripwire=off\nPressureStall=some 10% 1s\n", setup_pressure, "pressure", True),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--cgsentry", required=True)
    ap.add_argument("--policy-dir", required=True)
    ap.add_argument("--out")
    ap.add_argument("--only")
    a = ap.parse_args()
    if os.environ.get("CGSENTRY_SANDBOX") != "1":
        sys.exit("agree.py: refusing to run outside the test VM (tests/vm/sandbox.sh)")
    if not a.out and os.environ.get("CGSENTRY_RESULTS"):
        a.out = os.path.join(os.environ["CGSENTRY_RESULTS"], "logs")
    only = set(a.only.split(",")) if a.only else None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    agree = total = 0
    for name, body, setup, trigger, zram in SCENARIOS:
        if only and name not in only:
            continue
        log(f"# --- {name}")
        conf = f"[Daemon]\nPolicyDir={a.policy_dir}\n" + body
        total += 1
        agree += bool(run_one(a, name, conf, setup, trigger, needs_zram=zram))
    T.reap_all()
    log(f"explain-vs-daemon: {agree}/{total} agree")
    R.check(total > 0 and agree == total, f"explain-vs-daemon: {agree}/{total} agree")
    log(f"agree: {R.passed} passed, {R.failed} failed")
    return 0 if R.failed == 0 and R.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())

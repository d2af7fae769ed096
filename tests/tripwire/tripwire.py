#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The tripwire against the real kernel: danger, not fullness.

Runs INSIDE the test sandbox (tests/vm/sandbox.sh). A "high" event only
says that usage crossed memory.high; the tripwire kills only when the
memory reclaim cannot give back reaches Tripwire= of memory.max. Checked
with the rule of examples/slices.conf (OOMGroup=yes, Tripwire=90%,
OnKernelOOMKill=group-kill) on 128 MiB services:

  cache      a healthy service writing and re-reading a file several times
             its memory.max on ext4 (a loop device), with dirty pages under
             writeback: never killed, by cgsentryd (--runs-cache runs)
  run-cache  the same under `cgsentry run --memory-max 128M`: exits 0
  anon       an anon runaway with three sleepers: killed whole before the
             kernel (oom_kill 0) in at least N-1 of N runs (--runs-anon)
  anon-cache the same, started on top of a page cache that fills the limit
  shmem      a tmpfs writer: shmem is not reclaimable without swap, so the
             group is killed whole before the kernel
  swap       zram swap, memory.swap.max 64M: a service whose anon exceeds
             the tripwire but fits with swap lives; a runaway dies once
             swap is full (the kill line shows the swap headroom used up)

Every kill line must carry the trigger and its figures, and no line of
cgsentryd may use the kernel's OOM wording. Ends with
"tripwire: N passed, M failed".
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "daemon"))
import daemon as T  # noqa: E402  (the sandbox test helpers)
from daemon import (MiB, R, Daemon, cgpath, destroy, kill_rx, kv, log, mkcg,  # noqa: E402
                    oom_kills, rfile, spawn_fn, spawn_sleep, wait_started, wait_until, wfile)

MAX = 128 * MiB
DATA = "/tmp/tw-data"      # ext4 on a loop device
SHM = "/dev/shm"           # tmpfs

RULE = """\
# The rule of examples/slices.conf, on the test services.
[Rule services]
Match=tw.slice/*
OOMGroup=yes
Tripwire=90%
OnKernelOOMKill=group-kill
Cooldown=1s
"""

OOM_WORDING = re.compile(r"out of memory|Killed process|are going to be killed")
FIGURES = (r"non-reclaimable [\d.]+ [KMG]?i?B = \d+% of memory\.max 128 MiB \(anon [\d.]+ "
           r"[KMG]?i?B, shmem [\d.]+ [KMG]?i?B, unevictable [\d.]+ [KMG]?i?B, kernel [\d.]+ "
           r"[KMG]?i?B\), tripwire at 90\.00%; usage ")


# ---------------------------------------------------------------- set-up

def sh(*argv, timeout=120):
    return subprocess.run(argv, check=True, capture_output=True, timeout=timeout)


def make_filesystem():
    """ext4 on a loop device over a file in the guest's tmpfs. The image is
    written in full first, from the root cgroup: the loop driver charges
    new backing pages to the memcg of whoever issued the I/O, which would
    turn the test service's page cache into tmpfs pages of its own."""
    img = "/tmp/tw-disk.img"
    sh("modprobe", "loop")
    sh("modprobe", "ext4")
    sh("dd", "if=/dev/zero", f"of={img}", "bs=1M", "count=640", "status=none")
    sh("mkfs.ext4", "-q", "-F", img)
    os.makedirs(DATA, exist_ok=True)
    sh("mount", "-o", "loop", img, DATA)


def writer(mib, rounds):
    """A healthy service: write a file of @mib MiB and read it back, as a
    database or a log shipper does; its memory is page cache."""
    def run():
        block = bytes(range(256)) * 4096  # 1 MiB
        path = f"{DATA}/svc-{os.getpid()}"
        for _ in range(rounds):
            with open(path, "wb") as f:
                for _ in range(mib):
                    f.write(block)
            with open(path, "rb") as f:
                while f.read(1 << 20):
                    pass
        os.unlink(path)
    return run


def reader(path):
    """Fill the page cache with @path and stay."""
    def run():
        with open(path, "rb") as f:
            while f.read(1 << 20):
                pass
        while True:
            signal.pause()
    return run


def shm_writer():
    def run():
        block = b"\x03" * MiB
        with open(f"{SHM}/tw-shm-{os.getpid()}", "wb") as f:
            while True:
                f.write(block)
                f.flush()
    return run


def steady_anon(mib):
    """A healthy service with a large, mostly cold anonymous working set."""
    def run():
        keep = [b"\x05" * MiB for _ in range(mib)]  # noqa: F841
        while True:
            signal.pause()
    return run


def stat_peaks(rel, peaks, keys=("file_dirty", "file_writeback", "file", "anon", "shmem")):
    st = kv(f"{cgpath(rel)}/memory.stat")
    for k in keys:
        peaks[k] = max(peaks.get(k, 0), st.get(k, 0))


def no_oom_wording(d, what):
    bad = [ln for ln in d.text().splitlines() if OOM_WORDING.search(ln)]
    R.check(not bad, f"{what}: no cgsentryd line uses the kernel's OOM wording", "\n".join(bad[:5]))


# ------------------------------------------------------------- scenarios

def sc_cache(a):
    d = Daemon(a.daemon, "cache", RULE, a.out)
    kills = 0
    try:
        R.check(d.ready(), "cache: cgsentryd started", d.tail())
        mkcg("tw.slice", max=1024 * MiB, subtree=True)
        for run in range(1, a.runs_cache + 1):
            g = f"tw.slice/db{run}"
            since = d.mark()
            mkcg(g, max=MAX)
            T.wait_armed(g, MAX, 9000)
            sleepers = [spawn_sleep(g, what="sleeper") for _ in range(3)]
            wait_started(sleepers, g)
            w = spawn_fn(g, writer(3 * MAX // MiB, 2), "writer")
            peaks = {}
            done = wait_until(lambda: (stat_peaks(g, peaks), not w.alive())[1], 300, 0.05)
            ev = kv(f"{cgpath(g)}/memory.events.local")
            killed = d.search(kill_rx("tripwire", g, "services", r"\d+"), since)
            kills += bool(killed) or w.killed_by() != 0
            R.check(done and w.killed_by() == 0 and not killed and
                    all(p.alive() for p in sleepers) and not oom_kills(g),
                    f"cache: run {run}: the service wrote and read {3 * MAX // MiB} MiB twice at "
                    f"its 128 MiB limit and lives ({ev.get('high', 0)} high events; peak page "
                    f"cache {peaks.get('file', 0) // MiB} MiB, dirty {peaks.get('file_dirty', 0) // MiB}"
                    f" MiB, writeback {peaks.get('file_writeback', 0) // MiB} MiB, anon "
                    f"{peaks.get('anon', 0) // MiB} MiB)", d.tail())
            R.check(ev.get("high", 0) > 0 and d.search(r"above memory\.high but below the "
                                                       r"tripwire: non-reclaimable", since),
                    f"cache: run {run}: the high events were assessed as reclaimable "
                    f"({ev.get('high', 0)} events)", d.tail())
            destroy(g)
        R.check(kills == 0, f"cache: {kills} kills in {a.runs_cache} runs of a healthy "
                            f"cache-heavy service (must be 0)")
        no_oom_wording(d, "cache")
        R.check(d.alive(), "cache: cgsentryd still running", d.tail())
    finally:
        d.stop()
        destroy("tw.slice")


def sc_run_cache(a):
    script = ("import os\n"
              "b = bytes(range(256)) * 4096\n"
              f"p = '{DATA}/run-%d' % os.getpid()\n"
              "for r in range(2):\n"
              "    with open(p, 'wb') as f:\n"
              f"        for i in range({3 * MAX // MiB}): f.write(b)\n"
              "    with open(p, 'rb') as f:\n"
              "        while f.read(1 << 20): pass\n"
              "os.unlink(p)\n")
    ok = 0
    for run in range(1, a.runs_cache + 1):
        rep = f"/tmp/run-cache-{run}.json"
        p = subprocess.run([a.cgsentry, "run", "--memory-max", "128M", "--json-report", rep,
                            "--", "python3", "-c", script], capture_output=True, text=True,
                           timeout=300)
        try:
            r = json.load(open(rep))
        except (OSError, ValueError):
            r = {}
        good = p.returncode == 0 and r.get("killed_by") is None and \
            r.get("memory_events", {}).get("high", 0) > 0
        ok += good
        R.check(good, f"run-cache: run {run}: `cgsentry run --memory-max 128M` around a "
                      f"cache-heavy command exits {p.returncode} (memory.events high "
                      f"{r.get('memory_events', {}).get('high')}, killed_by {r.get('killed_by')})",
                p.stderr)
    R.check(ok == a.runs_cache, f"run-cache: {a.runs_cache - ok} kills in {a.runs_cache} runs "
                                f"(must be 0)")


def anon_runs(a, name, on_cache):
    """A hog and three sleepers in a 128 MiB service, --runs-anon times."""
    d = Daemon(a.daemon, name, RULE, a.out)
    good, figures = 0, 0
    try:
        R.check(d.ready(), f"{name}: cgsentryd started", d.tail())
        mkcg("tw.slice", max=1024 * MiB, subtree=True)
        cache_file = None
        if on_cache:
            cache_file = f"{DATA}/cache-fill"
            with open(cache_file, "wb") as f:
                for _ in range(2 * MAX // MiB):
                    f.write(b"\x07" * MiB)
        for run in range(1, a.runs_anon + 1):
            g = f"tw.slice/svc{run}"
            since = d.mark()
            problems = []
            mkcg(g, max=MAX)
            if not T.wait_armed(g, MAX, 9000):
                problems.append("tripwire not armed")
            members = [spawn_sleep(g, what="sleeper") for _ in range(3)]
            wait_started(members, g)
            if on_cache:
                # Drop the file from the cache, then let a member read it in:
                # the group's page cache fills its limit before the runaway.
                wfile("/proc/sys/vm/drop_caches", 1)
                rd = spawn_fn(g, reader(cache_file), "cache reader")
                members.append(rd)
                wait_until(lambda: kv(f"{cgpath(g)}/memory.stat").get("file", 0) >= 100 * MiB, 60)
                file0 = kv(f"{cgpath(g)}/memory.stat").get("file", 0)
                if file0 < 100 * MiB:
                    problems.append(f"page cache only {file0 // MiB} MiB before the runaway")
            members.append(spawn_fn(g, T.hog, "hog"))
            dead = wait_until(lambda: all(not p.alive() for p in members), T.T_KILL)
            if not dead:
                problems.append(f"not dead: {members}")
            elif any(p.killed_by() != signal.SIGKILL for p in members):
                problems.append(f"not all SIGKILLed: {members}")
            if oom_kills(g):
                problems.append(f"kernel OOM kill (oom_kill {oom_kills(g)})")
            n = len(members)
            line = d.wait_log(r"warning: " + kill_rx("tripwire", g, "services", n) + ".*", 5,
                              since)
            if not line:
                problems.append(f"no 'tripwire: /{g} ...; killing {n} processes' line")
            elif re.search(FIGURES, line.group(0)):
                figures += 1
            if problems:
                log(f"# {name} run {run}: FAILED: " + "; ".join(problems))
                for ln in d.text()[since:].splitlines()[-8:]:
                    log(f"#     {ln}")
            else:
                good += 1
            destroy(g)
        if cache_file:
            os.unlink(cache_file)
        need = a.runs_anon - (a.runs_anon // 20 if a.runs_anon >= 20 else 0)
        R.check(good >= need, f"{name}: {good}/{a.runs_anon} anon runaways killed whole before "
                              f"the kernel (oom_kill 0; need {need})")
        R.check(figures == good and good > 0,
                f"{name}: every kill line carries the trigger and its figures ({figures}/{good})",
                d.tail())
        no_oom_wording(d, name)
        sample = d.search(r"warning: tripwire: .*")
        if sample:
            log(f"# {name}: e.g. {sample.group(0)}")
    finally:
        d.stop()
        destroy("tw.slice")


def sc_anon(a):
    anon_runs(a, "anon", on_cache=False)


def sc_anon_cache(a):
    anon_runs(a, "anon-cache", on_cache=True)


def sc_shmem(a):
    d = Daemon(a.daemon, "shmem", RULE, a.out)
    g = "tw.slice/shm"
    try:
        R.check(d.ready(), "shmem: cgsentryd started", d.tail())
        mkcg("tw.slice", max=1024 * MiB, subtree=True)
        mkcg(g, max=MAX)
        T.wait_armed(g, MAX, 9000)
        members = [spawn_sleep(g, what="sleeper") for _ in range(2)]
        wait_started(members, g)
        members.append(spawn_fn(g, shm_writer(), "tmpfs writer"))
        dead = wait_until(lambda: all(not p.alive() for p in members), T.T_KILL)
        line = d.wait_log(r"warning: " + kill_rx("tripwire", g, "services", 3) + ".*", 5)
        shm = re.search(r"shmem ([\d.]+) MiB", line.group(0)) if line else None
        R.check(dead and all(p.killed_by() == signal.SIGKILL for p in members) and
                not oom_kills(g),
                f"shmem: a tmpfs runaway is killed whole before the kernel ({members}, oom_kill "
                f"{oom_kills(g)})", d.tail())
        R.check(shm and float(shm.group(1)) >= 90,
                f"shmem: the kill line counts the tmpfs pages as not reclaimable "
                f"({line.group(0) if line else 'no line'})")
        # What the documentation says: killing frees the processes, not the
        # files they left in tmpfs; those stay charged until deleted.
        left = int(rfile(f"{cgpath(g)}/memory.current"))
        log(f"# shmem: after the kill the group still holds {left // MiB} MiB (its tmpfs files)")
        no_oom_wording(d, "shmem")
    finally:
        for f in os.listdir(SHM):
            if f.startswith("tw-shm-"):
                os.unlink(os.path.join(SHM, f))
        d.stop()
        destroy("tw.slice")


def sc_swap(a):
    try:
        z = T.Zram()
    except (OSError, subprocess.SubprocessError) as e:
        R.check(False, f"swap: zram swap set up ({e})")
        return
    d = None
    try:
        d = Daemon(a.daemon, "swap", RULE, a.out)
        R.check(d.ready(), "swap: cgsentryd started", d.tail())
        mkcg("tw.slice", max=1024 * MiB, subtree=True)
        # 1. anon above the tripwire but within what swap can take: lives.
        g = "tw.slice/big"
        mkcg(g, max=MAX)
        wfile(f"{cgpath(g)}/memory.swap.max", 64 * MiB)
        T.wait_armed(g, MAX, 9000)
        since = d.mark()
        big = spawn_fn(g, steady_anon(124), "124 MiB of anon")
        wait_until(lambda: int(rfile(f"{cgpath(g)}/memory.swap.current")) > 0 and
                   kv(f"{cgpath(g)}/memory.events.local").get("high", 0) > 0, 60)
        time.sleep(3)
        ev = kv(f"{cgpath(g)}/memory.events.local")
        swapped = int(rfile(f"{cgpath(g)}/memory.swap.current"))
        R.check(big.alive() and not d.search(kill_rx("tripwire", g, "services", r"\d+"), since)
                and not oom_kills(g),
                f"swap: a service with 124 MiB of anon (tripwire at 115 MiB) lives while swap "
                f"can take the excess ({swapped // MiB} MiB swapped of memory.swap.max 64 MiB, "
                f"{ev.get('high', 0)} high events)", d.tail())
        destroy(g)
        # 2. a runaway: killed once swap is full, whole, before the kernel.
        g = "tw.slice/runaway"
        mkcg(g, max=MAX)
        wfile(f"{cgpath(g)}/memory.swap.max", 64 * MiB)
        T.wait_armed(g, MAX, 9000)
        since = d.mark()
        members = [spawn_sleep(g, what="sleeper") for _ in range(2)]
        wait_started(members, g)
        members.append(spawn_fn(g, T.hog, "hog"))
        dead = wait_until(lambda: all(not p.alive() for p in members), 120)
        line = d.wait_log(r"warning: " + kill_rx("tripwire", g, "services", 3) + ".*", 5, since)
        room = re.search(r"swap headroom ([\d.]+) ([KMG]i)?B", line.group(0)) if line else None
        room_b = float(room.group(1)) * {None: 1, "Ki": 1 << 10, "Mi": MiB, "Gi": 1 << 30}[
            room.group(2)] if room else None
        R.check(dead and all(p.killed_by() == signal.SIGKILL for p in members) and
                not oom_kills(g),
                f"swap: a runaway is killed whole before the kernel ({members}, oom_kill "
                f"{oom_kills(g)})", d.tail())
        R.check(room_b is not None and room_b < 16 * MiB,
                f"swap: it died once memory.swap.max was (nearly) used up: the kill line says "
                f"'{room.group(0) if room else 'swap headroom ?'}'",
                line.group(0) if line else d.tail())
        no_oom_wording(d, "swap")
    finally:
        if d:
            d.stop()
        destroy("tw.slice")
        z.off()


SCENARIOS = [
    ("cache", sc_cache),
    ("run-cache", sc_run_cache),
    ("anon", sc_anon),
    ("anon-cache", sc_anon_cache),
    ("shmem", sc_shmem),
    ("swap", sc_swap),  # last: it turns on swap
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--cgsentry", required=True)
    ap.add_argument("--out")
    ap.add_argument("--runs-cache", type=int, default=5)
    ap.add_argument("--runs-anon", type=int, default=20)
    ap.add_argument("--only")
    a = ap.parse_args()
    if os.environ.get("CGSENTRY_SANDBOX") != "1":
        sys.exit("tripwire.py: refusing to run outside the test VM (tests/vm/sandbox.sh)")
    a.daemon, a.cgsentry = os.path.abspath(a.daemon), os.path.abspath(a.cgsentry)
    if not a.out and os.environ.get("CGSENTRY_RESULTS"):
        a.out = os.path.join(os.environ["CGSENTRY_RESULTS"], "logs")
    only = set(a.only.split(",")) if a.only else None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    make_filesystem()
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
            destroy("tw.slice")
        log(f"# {name}: {time.monotonic() - t:.0f} s")
    T.reap_all()
    log(f"# total {time.monotonic() - t0:.0f} s")
    log(f"tripwire: {R.passed} passed, {R.failed} failed")
    return 0 if R.failed == 0 and R.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())

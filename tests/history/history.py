#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""cgsentry history against real kills, in the test sandbox (no systemd, no
journal: cgsentryd keeps its own record in its state directory).

  1. `cgsentry history --follow --json` runs from the start;
  2. a memcg OOM in a group with memory.oom.group (the kernel kills it
     whole), then one without it and with vm.oom_dump_tasks=0;
  3. cgsentryd kills a runaway service at its tripwire;
  4. `cgsentry history --json` lists both kernel kills and cgsentryd's, with
     the right source, domain, victim, cgroup and killed set; --follow
     printed each within a second; the kernel's log of each OOM, saved as
     raw /dev/kmsg records, reads back to the same record with --kmsg
     (these files are the fixtures tests/fixtures/kmsg/v6.1-*.kmsg).

Prints "ok - ..." / "not ok - ...", then "history: N passed, M failed".
Usage: history.py --cgsentry PATH --cgsentryd PATH --out DIR
"""

import argparse
import json
import os
import select
import signal
import subprocess
import sys
import time

CG = "/sys/fs/cgroup"
MiB = 1 << 20
HOG = "l = []\nwhile True: l.append(b'\\x01' * (1 << 20))"
FOLLOW_LIMIT = 1.0  # seconds: a new kill must show up within this


class R:
    passed = failed = 0


def log(*a):
    print(*a, flush=True)


def check(cond, what, detail=None):
    if cond:
        R.passed += 1
        log("ok - " + what)
    else:
        R.failed += 1
        log("not ok - " + what)
        for line in str(detail or "").splitlines()[:40]:
            log("#   " + line)
    return cond


def wfile(path, value):
    with open(path, "w") as f:
        f.write(str(value))


def rfile(path):
    with open(path) as f:
        return f.read()


def mkcg(path, **files):
    os.makedirs(os.path.join(CG, path), exist_ok=True)
    for k, v in files.items():
        wfile(os.path.join(CG, path, k.replace("__", ".")), v)


def spawn_in(path, argv):
    """Fork @argv into cgroup @path before it runs anything."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(w)
        os.read(r, 1)
        os.execvp(argv[0], argv)
    os.close(r)
    wfile(os.path.join(CG, path, "cgroup.procs"), pid)
    wfile("/proc/%d/oom_score_adj" % pid, 0)
    os.write(w, b"x")
    os.close(w)
    return pid


def reap(pid, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r, st = os.waitpid(pid, os.WNOHANG)
        if r:
            return st
        time.sleep(0.02)
    return None


class Kmsg:
    def __init__(self):
        self.fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        os.lseek(self.fd, 0, os.SEEK_END)

    def read(self):
        out = []
        while True:
            try:
                rec = os.read(self.fd, 16384)
            except BlockingIOError:
                return out
            except OSError:
                continue
            out.append(rec.decode("utf-8", "replace").split("\n", 1)[0])


class Follower:
    """cgsentry history --follow --json, its lines stamped on arrival."""

    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.set_blocking(self.p.stdout.fileno(), False)
        self.buf = b""
        self.lines = []  # (monotonic arrival, obj)

    def poll(self, timeout):
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            if select.select([self.p.stdout], [], [], left)[0]:
                chunk = self.p.stdout.read() or b""
                now = time.time()
                if not chunk:
                    return
                self.buf += chunk
                while b"\n" in self.buf:
                    line, self.buf = self.buf.split(b"\n", 1)
                    try:
                        self.lines.append((now, json.loads(line)))
                    except ValueError:
                        pass

    def wait_for(self, pred, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for t, o in self.lines:
                if pred(o):
                    return t, o
            self.poll(min(0.1, max(0, end - time.monotonic())))
        return None, None

    def stop(self):
        self.p.send_signal(signal.SIGINT)
        try:
            self.p.wait(5)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        return self.p.returncode, self.p.stderr.read().decode(errors="replace")


def latency(t, o):
    """Seconds from the kill (the record's own time) to its line arriving."""
    if o is None or not o.get("time"):
        return None
    when = time.mktime(time.strptime(o["time"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    return t - (when + float("0." + o["time"][20:26]))


def memcg_oom(name, oom_group, kmsg):
    """A sleeper and a hog in /NAME (64M); returns (hog pid, sleeper pid,
    the moment the hog was seen dead, the kernel log records)."""
    mkcg(name, memory__max=64 * MiB, memory__swap__max=0,
         memory__oom__group=1 if oom_group else 0)
    sleeper = spawn_in(name, ["sleep", "1000"])
    time.sleep(0.2)
    kmsg.read()
    hog = spawn_in(name, ["python3", "-c", HOG])
    st = reap(hog, 60)
    time.sleep(0.5)
    recs = kmsg.read()
    if not oom_group:
        os.kill(sleeper, signal.SIGKILL)
    reap(sleeper, 10)
    return hog, sleeper, st, recs


def history(args, *extra):
    r = subprocess.run([args.cgsentry, "history", "--json", "--no-journal",
                        "--state-dir", args.state] + list(extra),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    recs = []
    for line in r.stdout.splitlines():
        try:
            recs.append(json.loads(line))
        except ValueError:
            pass
    return r.returncode, recs, r.stderr


def save_kmsg(path, recs, about):
    """Only the OOM report (from the header on), as raw /dev/kmsg records."""
    start = next((i for i, l in enumerate(recs) if " invoked oom-killer:" in l.split(";", 1)[-1]), 0)
    with open(path, "w") as f:
        for l in recs[start:]:
            f.write(l + "\n")
    log("# saved %s (%s): %d records" % (path, about, len(recs) - start))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cgsentry", required=True)
    ap.add_argument("--cgsentryd", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if os.environ.get("CGSENTRY_SANDBOX") != "1":
        sys.exit("history.py: refusing to run outside the test sandbox")
    os.makedirs(args.out, exist_ok=True)
    # On the guest's tmpfs: inotify sees no events on the 9p share the
    # results live on (copied there at the end).
    args.state = "/run/cgsentry-history-state"
    wfile("/proc/self/oom_score_adj", -1000)
    kmsg = Kmsg()

    fol = Follower([args.cgsentry, "history", "--follow", "--json", "--no-journal",
                    "--state-dir", args.state])
    fol.poll(1.0)

    # -- 2a: memcg OOM, memory.oom.group, task dump on
    wfile("/proc/sys/vm/oom_dump_tasks", 1)
    hog, sleeper, st, recs = memcg_oom("hist-group", True, kmsg)
    save_kmsg(os.path.join(args.out, "v6.1-memcg-group.kmsg"), recs,
              "memcg OOM, memory.oom.group=1, oom_dump_tasks=1")
    check(st is not None and os.WIFSIGNALED(st) and os.WTERMSIG(st) == 9,
          "kernel: the hog of /hist-group died of SIGKILL", st)
    t, o = fol.wait_for(lambda o: o["victim"]["pid"] == hog, 5)
    lat = latency(t, o)
    check(lat is not None and lat <= FOLLOW_LIMIT,
          "--follow printed the kernel's group kill %.2f s after it" % (lat or -1))
    grp = (hog, sleeper)

    # -- 2b: memcg OOM, no group, task dump off
    wfile("/proc/sys/vm/oom_dump_tasks", 0)
    hog2, sleeper2, st2, recs2 = memcg_oom("hist-single", False, kmsg)
    wfile("/proc/sys/vm/oom_dump_tasks", 1)
    save_kmsg(os.path.join(args.out, "v6.1-memcg-nodump.kmsg"), recs2,
              "memcg OOM, no oom.group, oom_dump_tasks=0")
    t2, o2 = fol.wait_for(lambda o: o["victim"]["pid"] == hog2, 5)
    lat = latency(t2, o2)
    check(lat is not None and lat <= FOLLOW_LIMIT,
          "--follow printed the kernel's single kill %.2f s after it" % (lat or -1))

    # -- 3: cgsentryd kills a runaway service (no journal: the state log)
    conf = os.path.join(args.out, "cgsentry.conf")
    with open(conf, "w") as f:
        f.write("[Daemon]\nStateDirectory=%s\n\n[Rule svc]\nMatch=hist-daemon/*\n"
                "OOMGroup=yes\nTripwire=60%%\nCooldown=1s\n" % args.state)
    mkcg("hist-daemon", cgroup__subtree_control="+memory")
    mkcg("hist-daemon/svc", memory__max=96 * MiB, memory__swap__max=0)
    dlog = open(os.path.join(args.out, "cgsentryd.log"), "w")
    d = subprocess.Popen([args.cgsentryd, "-c", conf], stdout=dlog, stderr=dlog)
    end = time.monotonic() + 20
    while time.monotonic() < end and "supervising" not in rfile(dlog.name):
        time.sleep(0.1)
    sleeper3 = spawn_in("hist-daemon/svc", ["sleep", "1000"])
    hog3 = spawn_in("hist-daemon/svc", ["python3", "-c",
                                        "import time\nl = []\nwhile True:\n"
                                        "    l.append(b'\\x01' * (4 << 20)); time.sleep(0.05)"])
    st3 = reap(hog3, 60)
    reap(sleeper3, 10)
    check(st3 is not None and os.WIFSIGNALED(st3), "cgsentryd: the runaway service died", st3)
    t3, o3 = fol.wait_for(lambda o: o["source"] == "cgsentryd", 5)
    lat = latency(t3, o3)
    check(lat is not None and lat <= FOLLOW_LIMIT,
          "--follow printed cgsentryd's kill %.2f s after it" % (lat or -1))
    d.send_signal(signal.SIGTERM)
    d.wait(20)
    dlog.close()
    rc_f, err_f = fol.stop()
    check(rc_f == 0, "--follow exits 0 on SIGINT after printing kills (got %s)" % rc_f, err_f)

    # -- 4: the whole history
    rc, recs_all, err = history(args)
    log("# history --json:")
    for o in recs_all:
        log("#   " + json.dumps(o, sort_keys=True))
    check(rc == 0, "history exits 0 when it found kills (got %d)" % rc, err)
    k1 = [o for o in recs_all if o["source"] == "kernel" and o["victim"]["pid"] == hog]
    k2 = [o for o in recs_all if o["source"] == "kernel" and o["victim"]["pid"] == hog2]
    c3 = [o for o in recs_all if o["source"] == "cgsentryd"]
    check(len(k1) == 1 and k1[0]["domain"] == "/hist-group" and
          k1[0]["group"] == "/hist-group" and k1[0]["victim"]["cgroup"] == "/hist-group" and
          k1[0]["killed"] == sorted(grp) and k1[0]["constraint"] == "CONSTRAINT_MEMCG" and
          k1[0]["victim"]["comm"] == "python3" and k1[0]["time"] and k1[0]["boot_id"],
          "history: the kernel's group kill of /hist-group (victim %d, killed %s)" % (hog, sorted(grp)),
          k1)
    check(len(k2) == 1 and k2[0]["domain"] == "/hist-single" and k2[0]["group"] is None and
          k2[0]["killed"] == [hog2] and k2[0]["victim"]["uid"] == 0 and
          k2[0]["victim"]["anon_rss_kb"] > 32 * 1024,
          "history: the kernel's single kill in /hist-single (victim %d)" % hog2, k2)
    check(len(c3) == 1 and c3[0]["constraint"] == "tripwire" and
          c3[0]["domain"] == "/hist-daemon/svc" and c3[0]["group"] == "/hist-daemon/svc" and
          c3[0]["victim"]["pid"] == hog3 and c3[0]["killed"] == sorted((hog3, sleeper3)) and
          c3[0]["rule"] == "svc",
          "history: cgsentryd's tripwire kill of /hist-daemon/svc from its state log", c3)
    order = [o["time"] for o in recs_all]
    check(order == sorted(order), "history: oldest first")
    check(os.path.exists(os.path.join(args.state, "history.jsonl")),
          "cgsentryd wrote StateDirectory=/history.jsonl")

    # filters
    rc, only, _ = history(args, "--cgroup", "hist-daemon/**")
    check(rc == 0 and [o["source"] for o in only] == ["cgsentryd"], "--cgroup selects", only)
    rc, only, _ = history(args, "--pid", str(sleeper))
    check(rc == 0 and len(only) == 1 and only[0]["victim"]["pid"] == hog, "--pid selects", only)
    rc, only, _ = history(args, "--comm", "nosuchcomm")
    check(rc == 1 and not only, "no match: exit 1")

    # the saved logs read back to the same kills
    for path, want in ((os.path.join(args.out, "v6.1-memcg-group.kmsg"), k1),
                       (os.path.join(args.out, "v6.1-memcg-nodump.kmsg"), k2)):
        r = subprocess.run([args.cgsentry, "history", "--json", "--kmsg", path],
                           stdout=subprocess.PIPE, text=True)
        got = [json.loads(l) for l in r.stdout.splitlines()]
        ok = len(got) == 1 and want and all(
            got[0][k] == want[0][k] for k in ("domain", "group", "killed", "constraint", "victim"))
        check(ok, "history --kmsg %s gives the same kill" % os.path.basename(path),
              json.dumps(got) + "\n" + json.dumps(want))

    subprocess.run(["cp", "-r", args.state, os.path.join(args.out, "state")])
    log("history: %d passed, %d failed" % (R.passed, R.failed))
    return 0 if R.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

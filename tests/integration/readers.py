#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
Real-kernel check of libsupervise's readers (cgroupfs, procfs, JSON).

Runs as root INSIDE the test VM (tests/vm/sandbox.sh; see run.sh next to this
file). It builds a live cgroup tree with distinctive limits, a variety of
processes and real memory events, freezes it, takes a snapshot with

    cgsentry explain --save-snapshot FILE --json it

and compares every field of the saved JSON with what the kernel shows when
this script reads the same files itself, just before and just after.

The tree (created in this order, which is neither name nor hash order):

    /sys/fs/cgroup/it            memory.max set; +memory +pids for children
      zz                         all four limits + swap.max; memory.high is
                                 exceeded on purpose (high events, reclaim
                                 to zram swap, PSI)
                                 tasks: "alloc" (anonymous memory),
                                 a zombie leader with a live thread,
                                 the non-reaping parent of a pure zombie
      aa                         memory.low/high; +pids only for children
        c                        no memory controller (memcg false)
                                 tasks: sh (oom_score_adj -500),
                                 "a (b) c" (real uid 4321, effective 1234),
                                 "x) R 1 (y z" (mimics /proc/PID/stat fields;
                                 8 MiB of shared memory: RssShmem)
      mm                         memory.oom.group 1; +memory for children
        keep                     task: comm with a newline, a control byte and
                                 a byte that is not UTF-8; oom_score_adj 700
        hog                      memory.max 64M, swap.max 0, oom.group 1: one
                                 real OOM kill (oom, oom_kill, oom_group_kill)

Also checked: vm.swappiness (set to 77), MemTotal/SwapTotal in pages, that
sibling order is creation order (the kernel's) in the snapshot, a zombie
leader takes its memory from a live thread (as find_lock_task_mm() does) and is killable, a pure zombie
is in neither cgroup.procs nor the snapshot, a snapshot of the root ("/")
lists kernel threads with PF_KTHREAD, memory.low/memory.min "max" read back,
every JSON key is known here (a new one must be compared too), the JSON is
valid UTF-8, and loading a saved snapshot and saving it again is byte-exact.

How values are compared (the tree is frozen, but the kernel still moves some
counters, so each snapshot value is checked against the kernel's value read
right BEFORE and right AFTER the snapshot):

  stable    must equal both reads exactly: inode numbers, group order,
            subtree_control, limits, memory.oom.group, memory.events(.local),
            cgroup.events, the have{} bits, task list and order, pid, ppid,
            uid, comm, state, flags, starttime, oom_score_adj, has_mm,
            VmSize, VmPTE, and the system figures.
  volatile  must lie in [min(before, after) - tol, max(before, after) + tol]:
    memory.current, memory.peak, memory.swap.current:
        tol = 64 pages x CPUs: per-CPU charge stocks (MEMCG_CHARGE_BATCH
        pages each) can be drained into or out of the page counter by
        unrelated activity even while the group is frozen.
    memory.stat keys:
        tol = 64 x CPUs pages (sizes) or events (counters): memory.stat is
        flushed from per-CPU rstat lazily, only once that many updates are
        pending or by the 2 s periodic flush, so a read may lag.
    memory.pressure avg10/avg60/avg300:
        tol = 0.02: the averages decay every 2 s even with no stall.
    memory.pressure total, RssAnon/RssFile/RssShmem/VmSwap:
        tol = 0 (bracket only): a frozen task does not fault, but reclaim by
        kswapd may still move its pages to swap.

Output: "ok - ..." / "not ok - ..." per check, then
"readers: N passed, M failed". Exit status 0 only if nothing failed.
Artifacts (snapshots, kernel reads) go to $CGSENTRY_RESULTS when set.
"""

import argparse
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import traceback

CG = "/sys/fs/cgroup"
DOMAIN = "it"
PAGE = os.sysconf("SC_PAGE_SIZE")
NCPU = os.cpu_count() or 1
PF_KTHREAD = 0x00200000
PF_WQ_WORKER = 0x00000020
MiB = 1 << 20

TOL_CHARGE = 64 * NCPU * PAGE   # bytes, see the docstring
TOL_STAT_PAGES = 64 * NCPU * PAGE
TOL_STAT_EVENTS = 64 * NCPU
TOL_PSI_AVG = 0.02
# Committed_AS is a per-cpu batched sum that moves with every mmap on the
# machine; the sandbox's own processes stay well within this.
TOL_COMMIT_KB = 64 * 1024

# Distinctive, page-aligned limits (the kernel stores pages and shows
# pages * PAGE_SIZE, so an unaligned value would read back rounded down).
P = PAGE
LIMITS = {
    "it": {"memory.max": 900 * MiB + 7 * P},
    "it/zz": {
        "memory.max": 300 * MiB + 1 * P,
        "memory.high": 40 * MiB + 2 * P,
        "memory.low": 20 * MiB + 3 * P,
        "memory.min": 10 * MiB + 5 * P,
        "memory.swap.max": 100 * MiB + 11 * P,
    },
    "it/aa": {"memory.high": 200 * MiB + 13 * P, "memory.low": 3 * MiB + 17 * P},
    "it/mm": {"memory.max": 500 * MiB + 19 * P, "memory.min": 1 * MiB + 23 * P,
              "memory.oom.group": 1},
    "it/mm/keep": {"memory.high": 80 * MiB + 29 * P},
    "it/mm/hog": {"memory.max": 64 * MiB + 31 * P, "memory.swap.max": 0,
                  "memory.oom.group": 1},
}
# Creation order: siblings deliberately not in name order.
TREE = ["it", "it/zz", "it/aa", "it/aa/c", "it/mm", "it/mm/keep", "it/mm/hog"]
SUBTREE = {"it": "+memory +pids", "it/aa": "+pids", "it/mm": "+memory"}

NAME_PARENS = b"a (b) c"
NAME_STATLIKE = b"x) R 1 (y z"
NAME_BINARY = b"\xffnl\nbin\x01"   # not UTF-8, a newline, a control byte

# ---- JSON schema: every key the snapshot has, so none goes unchecked ------
TOP_KEYS = {"schema", "domain", "page_size", "total_ram_pages", "total_swap_pages",
            "swappiness", "groups", "free_swap_pages", "swap_headroom", "vm",
            "commit_limit_kb", "committed_as_kb"}
VM_KEYS = ["panic_on_oom", "oom_kill_allocating_task", "oom_dump_tasks",
           "overcommit_memory", "overcommit_ratio", "overcommit_kbytes"]
GROUP_KEYS = {"path", "parent", "ino", "memcg", "have", "subtree_control",
              "memory_current", "memory_max", "memory_high", "memory_low", "memory_min",
              "memory_peak", "swap_current", "swap_max", "oom_group", "events",
              "events_local", "pressure", "stat", "cgroup_events", "tasks", "prefer", "avoid",
              "threaded"}
HAVE_KEYS = {"memory", "swap", "events", "pressure", "stat", "peak"}
EVENT_KEYS = ["low", "high", "max", "oom", "oom_kill", "oom_group_kill"]
STAT_KEYS = ["anon", "file", "kernel", "kernel_stack", "pagetables", "sock", "shmem",
             "file_mapped", "file_dirty", "file_writeback", "swapcached", "active_anon",
             "inactive_anon", "active_file", "inactive_file", "unevictable", "slab",
             "workingset_refault_anon", "workingset_refault_file", "pgscan", "pgsteal",
             "pgfault", "pgmajfault", "slab_reclaimable", "slab_unreclaimable",
             "sec_pagetables", "percpu", "vmalloc", "zswap"]
STAT_EVENT_KEYS = {"workingset_refault_anon", "workingset_refault_file", "pgscan",
                   "pgsteal", "pgfault", "pgmajfault"}
PSI_KEYS = {"avg10", "avg60", "avg300", "total_usec"}
CGEV_KEYS = {"populated", "frozen"}
TASK_KEYS = {"pid", "ppid", "uid", "comm", "state", "flags", "starttime", "oom_score_adj",
             "oom_adj", "has_mm", "vm_size_kb", "rss_anon_kb", "rss_file_kb", "rss_shmem_kb",
             "vm_swap_kb", "vm_pte_kb"}
STATUS_KB = {"VmSize": "vm_size_kb", "RssAnon": "rss_anon_kb", "RssFile": "rss_file_kb",
             "RssShmem": "rss_shmem_kb", "VmSwap": "vm_swap_kb", "VmPTE": "vm_pte_kb"}


# ---- reporting ------------------------------------------------------------

class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0

    def check(self, cond, desc, detail=""):
        if cond:
            self.passed += 1
            print(f"ok - {desc}", flush=True)
        else:
            self.failed += 1
            print(f"not ok - {desc}" + (f": {detail}" if detail else ""), flush=True)
        return cond

    def skip(self, desc, why):
        self.skipped += 1
        self.passed += 1
        print(f"ok - {desc} # SKIP {why}", flush=True)

    def note(self, text):
        for line in str(text).splitlines():
            print(f"# {line}", flush=True)


R = Report()


def show(v):
    if isinstance(v, str):
        return repr(v)
    return str(v)


# ---- small file helpers ---------------------------------------------------

def cgp(rel):
    return os.path.join(CG, rel) if rel else CG


def read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None


def read_text(path):
    b = read_bytes(path)
    return None if b is None else b.decode("utf-8", "surrogateescape")


def write(path, value):
    with open(path, "w") as f:
        f.write(str(value))


def sh(*argv, check=True):
    return subprocess.run(argv, check=check, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)


# ---- what the kernel shows -------------------------------------------------

def parse_limit(text):
    t = text.strip()
    return "max" if t == "max" else int(t)


def parse_kv(text):
    out = {}
    for line in text.splitlines():
        k, v = line.split(" ")
        out[k] = int(v)
    return out


def parse_psi(text):
    out = {}
    for line in text.splitlines():
        kind, *fields = line.split(" ")
        d = {}
        for f in fields:
            k, v = f.split("=")
            if k == "total":
                d["total_usec"] = int(v)
            else:
                d[k] = float(v)
        out[kind] = d
    return out


def kernel_task(pid):
    """The JSON task object the kernel's procfs files imply, or None if gone."""
    d = f"/proc/{pid}"
    stat = read_bytes(f"{d}/stat")
    status = read_text(f"{d}/status")
    adj = read_text(f"{d}/oom_score_adj")
    legacy_adj = read_text(f"{d}/oom_adj")
    if stat is None or status is None or adj is None or legacy_adj is None:
        return None
    lp, rp = stat.index(b"("), stat.rindex(b")")
    comm = stat[lp + 1:rp].decode("utf-8", "surrogateescape")
    rest = stat[rp + 2:].split(b" ")   # rest[0] is field 3
    st = {}
    for line in status.splitlines():
        k, _, v = line.partition(":")
        st[k] = v.strip()
    t = {
        "pid": pid,
        "ppid": int(st["PPid"]),
        "uid": int(st["Uid"].split()[0]),
        "comm": comm,
        "state": rest[0].decode(),
        "flags": int(rest[9 - 3]),
        "starttime": int(rest[22 - 3]),
        "oom_score_adj": int(adj),
        "oom_adj": int(legacy_adj),
        "has_mm": "VmSize" in st,
    }
    if not t["has_mm"] and not t["flags"] & PF_KTHREAD:
        # A zombie leader's own status has no memory lines; the kernel
        # (find_lock_task_mm) takes the mm of any live thread.
        for tid in sorted(os.listdir(f"{d}/task")) if os.path.isdir(f"{d}/task") else []:
            ts = read_text(f"{d}/task/{tid}/status") or ""
            tst = dict((k, v.strip()) for k, _, v in (ln.partition(":") for ln in ts.splitlines()))
            if "VmSize" in tst:
                st, t["has_mm"] = tst, True
                break
    for key, field in STATUS_KB.items():
        t[field] = int(st[key].split()[0]) if key in st else 0
    return t


def xattr_set(path, name):
    """Set unless absent or "0", as the policies read it."""
    try:
        v = os.getxattr(path, name)
    except OSError:
        return False
    return v not in (b"0", b"0\n")


# Preferences on cgroupfs (user.* xattrs, 5.7+): one set, one set to "0".
XATTRS = {"it/zz": {"user.cgsentry.avoid": b"yes"}, "it/aa": {"user.cgsentry.prefer": b"0"},
          "it/mm/hog": {"user.cgsentry.prefer": b"1"}}


def kernel_group(rel):
    """The JSON group object (minus path/parent) the kernel's files imply."""
    d = cgp(rel)
    ex = lambda name: os.path.exists(os.path.join(d, name))  # noqa: E731
    rt = lambda name: read_text(os.path.join(d, name))  # noqa: E731
    g = {"ino": os.stat(d).st_ino}
    memcg = ex("memory.current")
    g["memcg"] = memcg
    psi_text = None
    if ex("memory.pressure"):
        try:
            psi_text = rt("memory.pressure")
        except OSError:          # EOPNOTSUPP with psi=0
            psi_text = None
    g["have"] = {
        "memory": memcg,
        "swap": ex("memory.swap.current"),
        "events": ex("memory.events"),
        "pressure": psi_text is not None,
        "stat": ex("memory.stat"),
        "peak": ex("memory.peak"),
    }
    g["subtree_control"] = rt("cgroup.subtree_control").split()
    # The library's defaults for files a group does not have.
    g["memory_current"] = int(rt("memory.current")) if memcg else 0
    g["memory_max"] = parse_limit(rt("memory.max")) if memcg else "max"
    g["memory_high"] = parse_limit(rt("memory.high")) if memcg else "max"
    g["memory_low"] = parse_limit(rt("memory.low")) if memcg else 0
    g["memory_min"] = parse_limit(rt("memory.min")) if memcg else 0
    g["memory_peak"] = int(rt("memory.peak")) if ex("memory.peak") else 0
    g["swap_current"] = int(rt("memory.swap.current")) if ex("memory.swap.current") else 0
    g["swap_max"] = parse_limit(rt("memory.swap.max")) if ex("memory.swap.max") else "max"
    g["oom_group"] = rt("memory.oom.group").strip() == "1" if memcg else False
    g["prefer"] = xattr_set(d, "user.cgsentry.prefer")
    g["avoid"] = xattr_set(d, "user.cgsentry.avoid")
    # A threaded cgroup refuses cgroup.procs (EOPNOTSUPP): its processes are
    # listed by the threaded domain above it.
    g["threaded"] = ex("cgroup.type") and rt("cgroup.type").strip() == "threaded"
    g["_events_raw"] = parse_kv(rt("memory.events")) if ex("memory.events") else {}
    g["_events_local_raw"] = (parse_kv(rt("memory.events.local"))
                              if ex("memory.events.local") else {})
    g["events"] = {k: g["_events_raw"].get(k, 0) for k in EVENT_KEYS}
    g["events_local"] = {k: g["_events_local_raw"].get(k, 0) for k in EVENT_KEYS}
    zero_psi = {"avg10": 0.0, "avg60": 0.0, "avg300": 0.0, "total_usec": 0}
    if psi_text is not None:
        psi = parse_psi(psi_text)
        g["pressure"] = {"some": psi["some"], "full": psi.get("full")}
    else:
        g["pressure"] = {"some": zero_psi, "full": None}
    g["_stat_raw"] = parse_kv(rt("memory.stat")) if ex("memory.stat") else {}
    g["stat"] = {k: g["_stat_raw"].get(k, 0) for k in STAT_KEYS}
    cgev = parse_kv(rt("cgroup.events")) if ex("cgroup.events") else {}
    g["cgroup_events"] = {"populated": cgev.get("populated", 0) == 1,
                          "frozen": cgev.get("frozen", 0) == 1}
    g["procs"] = [] if g["threaded"] else [int(x) for x in rt("cgroup.procs").split()]
    g["tasks"] = [kernel_task(pid) for pid in g["procs"]]
    return g


def kernel_swap_headroom(rel, free_bytes, swappiness):
    """mem_cgroup_get_nr_swap_pages() of @rel in bytes: the free swap capped
    by memory.swap.max - memory.swap.current at every level below the root."""
    if not swappiness:
        return 0
    room = free_bytes
    parts = [p for p in rel.split("/") if p]
    for i in range(1, len(parts) + 1):
        d = cgp("/".join(parts[:i]))
        try:
            mx = read_text(f"{d}/memory.swap.max").strip()
        except FileNotFoundError:
            continue
        if mx == "max":
            continue
        cur = int(read_text(f"{d}/memory.swap.current"))
        room = min(room, max(0, int(mx) - cur))
    return room


def kernel_system(domain_rel=""):
    mi = {}
    for line in read_text("/proc/meminfo").splitlines():
        k, _, v = line.partition(":")
        mi[k] = v.split()
    assert mi["MemTotal"][1] == "kB" and mi["SwapTotal"][1] == "kB"
    swappiness = int(read_text("/proc/sys/vm/swappiness"))
    return {
        "page_size": PAGE,
        "total_ram_pages": int(mi["MemTotal"][0]) * 1024 // PAGE,
        "total_swap_pages": int(mi["SwapTotal"][0]) * 1024 // PAGE,
        "free_swap_pages": int(mi["SwapFree"][0]) * 1024 // PAGE,
        "swappiness": swappiness,
        "swap_headroom": kernel_swap_headroom(domain_rel, int(mi["SwapFree"][0]) * 1024,
                                              swappiness),
        "vm": {k: int(read_text(f"/proc/sys/vm/{k}")) for k in VM_KEYS},
        "commit_limit_kb": int(mi["CommitLimit"][0]),
        "committed_as_kb": int(mi["Committed_AS"][0]),
    }


def kernel_state(groups):
    return {"system": kernel_system(groups[0] if groups else ""),
            "groups": {rel: kernel_group(rel) for rel in groups}}


def kernel_preorder(rel):
    """Pre-order below cgp(rel), children sorted by inode (kernfs id)."""
    out = [rel]
    d = cgp(rel)
    kids = [e for e in os.scandir(d) if e.is_dir(follow_symlinks=False)]
    kids.sort(key=lambda e: e.inode())
    for e in kids:
        out += kernel_preorder(f"{rel}/{e.name}" if rel else e.name)
    return out


# ---- comparing -------------------------------------------------------------

def tolerance(path):
    """None for stable fields, else the allowed slack beyond the bracket."""
    top = path[0]
    if top in ("memory_current", "memory_peak", "swap_current"):
        return TOL_CHARGE
    if top == "committed_as_kb":
        return TOL_COMMIT_KB
    if top == "stat":
        return TOL_STAT_EVENTS if path[1] in STAT_EVENT_KEYS else TOL_STAT_PAGES
    if top == "pressure":
        return 0 if path[-1] == "total_usec" else TOL_PSI_AVG
    if top in ("rss_anon_kb", "rss_file_kb", "rss_shmem_kb", "vm_swap_kb"):
        return 0
    return None


def leaf_problems(path, snap, before, after):
    """Mismatches between a snapshot value and the kernel's before/after reads."""
    name = ".".join(path)
    if isinstance(after, dict) or isinstance(snap, dict):
        if not isinstance(after, dict) or not isinstance(snap, dict):
            return [f"{name}: snapshot {show(snap)}, kernel {show(after)}"]
        probs = []
        if set(snap) != set(after):
            probs.append(f"{name}: keys {sorted(snap)} vs kernel {sorted(after)}")
        for k in after:
            if k in snap:
                probs += leaf_problems(path + [k], snap[k], (before or {}).get(k), after[k])
        return probs
    tol = tolerance(path)
    if tol is None or not isinstance(after, (int, float)) or isinstance(after, bool) \
            or not isinstance(snap, (int, float)) or isinstance(snap, bool):
        if type(snap) is not type(after) or snap != after:
            return [f"{name}: snapshot {show(snap)}, kernel {show(after)}"]
        if before != after:
            return [f"{name}: kernel changed from {show(before)} to {show(after)} "
                    "while frozen (field assumed stable)"]
        return []
    lo = min(before, after) - tol
    hi = max(before, after) + tol
    if not lo <= snap <= hi:
        return [f"{name}: snapshot {show(snap)} outside kernel [{show(before)}, {show(after)}]"
                f" +/- {tol}"]
    return []


def compare_obj(label, snap, before, after, keys):
    for key in keys:
        probs = leaf_problems([key], snap.get(key), before.get(key), after.get(key))
        val = snap.get(key)
        brief = show(val) if not isinstance(val, (dict, list)) else ""
        R.check(not probs, f"{label} {key}" + (f" = {brief}" if brief else ""), "; ".join(probs))


def check_keys(label, obj, expected):
    if not isinstance(obj, dict):
        return R.check(False, f"{label}: is an object", f"got {type(obj).__name__}")
    extra = sorted(set(obj) - set(expected))
    missing = sorted(set(expected) - set(obj))
    return R.check(not extra and not missing, f"{label}: JSON keys are exactly the known ones",
                   f"unknown (not compared by this test) {extra}, missing {missing}")


def load_json(path, label):
    """Parse a JSON file; non-UTF-8 bytes are kept as surrogates and reported."""
    raw = read_bytes(path)
    try:
        raw.decode("utf-8")
        utf8 = True
    except UnicodeDecodeError as e:
        utf8 = False
        R.check(False, f"{label} is valid UTF-8 (JSON requires it)",
                f"invalid byte at offset {e.start}: {raw[max(0, e.start - 30):e.start + 10]!r}")
    if utf8:
        R.check(True, f"{label} is valid UTF-8 (JSON requires it)")
    doc = json.loads(raw.decode("utf-8", "surrogateescape"))
    # A process name that is not UTF-8 is shown with U+FFFD and kept exactly
    # in comm_hex; compare the exact bytes.
    for g in doc.get("groups", []) if isinstance(doc, dict) else []:
        for t in g.get("tasks") or []:
            if "comm_hex" in t:
                t["comm"] = bytes.fromhex(t.pop("comm_hex")).decode("utf-8", "surrogateescape")
    return doc


# ---- processes -------------------------------------------------------------

CHILDREN = []
CLEANUP = []   # undo actions for system settings, run last to first


def spawn(group, argv, adj=None, resuid=None, ready=True):
    procs = os.path.join(cgp(group), "cgroup.procs")

    def pre():
        write(procs, "0")
        if adj is not None:
            write("/proc/self/oom_score_adj", adj)
        if resuid:
            os.setresgid(*resuid)
            os.setresuid(*resuid)

    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd="/",
                         preexec_fn=pre, close_fds=True)
    CHILDREN.append(p)
    what = f"pid {p.pid} ({' '.join(argv[3:]) or argv[0]}) in {group}"
    line = b""
    if ready:
        rl, _, _ = select.select([p.stdout], [], [], 60)
        if not rl:
            raise RuntimeError(f"{what}: not ready after 60 s")
        line = p.stdout.readline()
        if not line.startswith(b"ready"):
            raise RuntimeError(f"{what}: said {line!r}, exit status {p.poll()}")
    return p, line.decode().split()[1:]


PY_PRELUDE = r"""
import ctypes, mmap, os, sys, threading
libc = ctypes.CDLL(None, use_errno=True)
def setname(hexname):
    if hexname:
        libc.prctl(15, ctypes.c_char_p(bytes.fromhex(hexname)), 0, 0, 0)
"""

# Touched anonymous memory in 1 MiB steps (bytes * n: malloc + memset).
# With a memory.events path, stop at the first "high" event: without swap,
# overshooting memory.high by much would throttle the task for a long time.
PY_ALLOC = PY_PRELUDE + r"""
setname(sys.argv[1])
def high_events():
    with open(sys.argv[3]) as f:
        return int(dict(l.split() for l in f)["high"])
anon = []
for i in range(int(sys.argv[2])):
    anon.append(b"\x01" * (1 << 20))
    if sys.argv[3] and high_events() > 0:
        break
print("ready", len(anon), flush=True)
sys.stdin.read()
"""

# Optionally with touched MAP_SHARED|MAP_ANONYMOUS memory (shmem, RssShmem).
PY_SLEEPER = PY_PRELUDE + r"""
setname(sys.argv[1])
mb = int(sys.argv[2]) if len(sys.argv) > 2 else 0
if mb:
    shm = mmap.mmap(-1, mb << 20)
    shm.write(b"\x02" * (mb << 20))
print("ready", flush=True)
sys.stdin.read()
"""

# The thread-group leader exits (SYS_exit, not exit_group) while a thread
# lives on: the leader is a zombie that stays in cgroup.procs.
PY_ZOMBIE_LEADER = PY_PRELUDE + r"""
setname(sys.argv[1])
t = threading.Thread(target=sys.stdin.read)
t.start()
print("ready", flush=True)
libc.syscall(60, 0)
"""

# A child that exits and is never reaped: a pure zombie (not in cgroup.procs).
PY_ZOMBIE_PARENT = PY_PRELUDE + r"""
setname(sys.argv[1])
pid = os.fork()
if pid == 0:
    os._exit(0)
print("ready", pid, flush=True)
sys.stdin.read()
"""

PY_HOG = r"""
import sys
x = b"\x01" * (256 << 20)
print("survived", flush=True)
"""


def py(code, *args):
    return [sys.executable, "-c", code] + [str(a) for a in args]


def wait_state(pid, want, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        t = kernel_task(pid)
        if t and t["state"] == want:
            return True
        time.sleep(0.05)
    return False


def wait_frozen(rel, want, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if parse_kv(read_text(os.path.join(cgp(rel), "cgroup.events"))).get("frozen") == want:
            return True
        time.sleep(0.05)
    return False


# ---- setup -----------------------------------------------------------------

SWAPPINESS = "/proc/sys/vm/swappiness"


def setup_swap():
    """zram swap so that memory.swap.* and VmSwap can be non-zero."""
    try:
        sh("modprobe", "zram", "num_devices=1")
        write("/sys/block/zram0/disksize", 256 * MiB)
        sh("mkswap", "/dev/zram0")
        sh("swapon", "/dev/zram0")
        CLEANUP.append(lambda: sh("swapoff", "/dev/zram0", check=False))
        return True
    except (OSError, subprocess.CalledProcessError) as e:
        out = getattr(e, "stdout", "") or ""
        R.note(f"no zram swap ({e}) {out.strip()}")
        return False


def build_tree():
    # Not the default 60, so that reading it is really checked.
    old = read_text(SWAPPINESS).strip()
    write(SWAPPINESS, 77)
    CLEANUP.append(lambda: write(SWAPPINESS, old))
    for rel in TREE:
        os.mkdir(cgp(rel))
        if rel in SUBTREE:
            write(os.path.join(cgp(rel), "cgroup.subtree_control"), SUBTREE[rel])
    for rel, files in LIMITS.items():
        for name, value in files.items():
            write(os.path.join(cgp(rel), name), value)
    for rel, attrs in XATTRS.items():
        for name, value in attrs.items():
            os.setxattr(cgp(rel), name, value)


def cleanup(extra_groups):
    if os.path.exists(cgp(DOMAIN)):
        try:
            write(os.path.join(cgp(DOMAIN), "cgroup.freeze"), 0)
        except OSError:
            pass
    for p in CHILDREN:
        try:
            p.kill()
        except OSError:
            pass
    for p in CHILDREN:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    for rel in list(reversed(TREE)) + extra_groups:
        for _ in range(50):
            try:
                if os.path.exists(cgp(rel)):
                    os.rmdir(cgp(rel))
                break
            except OSError:
                time.sleep(0.1)
    for fn in reversed(CLEANUP):
        try:
            fn()
        except OSError:
            pass


def run_cgsentry(binary, *args):
    p = subprocess.run([binary, "explain"] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


# ---- the checks --------------------------------------------------------------

def check_snapshot(snap, before, after, order, domain_rel):
    """Compare a snapshot of the domain with the kernel, field by field."""
    check_keys("snapshot", snap, TOP_KEYS)
    R.check(snap.get("schema") == "cgsentry-snapshot/1", "schema is cgsentry-snapshot/1",
            f"got {show(snap.get('schema'))}")
    R.check(snap.get("domain") == "/" + domain_rel, f"domain = /{domain_rel}",
            f"got {show(snap.get('domain'))}")
    compare_obj("system", snap, before["system"], after["system"],
                ["page_size", "total_ram_pages", "total_swap_pages", "swappiness",
                 "free_swap_pages", "swap_headroom", "vm", "commit_limit_kb",
                 "committed_as_kb"])

    groups = snap.get("groups") or []
    paths = [g.get("path") for g in groups]
    want = ["/" + rel for rel in order]
    R.check(paths == want, "groups in pre-order, siblings in creation order",
            f"snapshot {paths}, expected {want}")
    index = {p: i for i, p in enumerate(paths)}
    for g in groups:
        rel = g.get("path", "?")[1:]
        label = g.get("path", "?")
        check_keys(f"{label}", g, GROUP_KEYS)
        if rel not in after["groups"]:
            R.check(False, f"{label}: group known to the kernel", "not in the kernel's tree")
            continue
        kb, ka = before["groups"][rel], after["groups"][rel]
        parent = rel.rpartition("/")[0] if "/" in rel else None
        want_parent = None if rel == domain_rel else index.get("/" + parent)
        R.check(g.get("parent") == want_parent, f"{label} parent = {show(g.get('parent'))}",
                f"expected {show(want_parent)}")
        check_keys(f"{label} have", g.get("have"), HAVE_KEYS)
        check_keys(f"{label} events", g.get("events"), EVENT_KEYS)
        check_keys(f"{label} events_local", g.get("events_local"), EVENT_KEYS)
        check_keys(f"{label} stat", g.get("stat"), STAT_KEYS)
        check_keys(f"{label} cgroup_events", g.get("cgroup_events"), CGEV_KEYS)
        pr = g.get("pressure") or {}
        check_keys(f"{label} pressure", pr, {"some", "full"})
        for line in ("some", "full"):
            if pr.get(line) is not None:
                check_keys(f"{label} pressure.{line}", pr[line], PSI_KEYS)
        compare_obj(label, g, kb, ka,
                    ["ino", "memcg", "have", "subtree_control", "memory_current", "memory_max",
                     "memory_high", "memory_low", "memory_min", "memory_peak", "swap_current",
                     "swap_max", "oom_group", "events", "events_local", "pressure", "stat",
                     "cgroup_events", "prefer", "avoid", "threaded"])
        tasks = g.get("tasks") or []
        pids = [t.get("pid") for t in tasks]
        R.check(pids == ka["procs"] and kb["procs"] == ka["procs"],
                f"{label} tasks = cgroup.procs {ka['procs']} (same order)",
                f"snapshot {pids}, kernel before {kb['procs']}, after {ka['procs']}")
        tb = {t["pid"]: t for t in kb["tasks"] if t}
        ta = {t["pid"]: t for t in ka["tasks"] if t}
        for t in tasks:
            pid = t.get("pid")
            tl = f"{label} task {pid} ({t.get('comm')!r})"
            check_keys(tl, t, TASK_KEYS)
            if pid not in ta or pid not in tb:
                R.check(False, f"{tl}: still exists", "gone from /proc while frozen")
                continue
            compare_obj(tl, t, tb[pid], ta[pid], sorted(TASK_KEYS - {"pid"}))


def find_task(snap, pid):
    for g in snap["groups"]:
        for t in g["tasks"]:
            if t["pid"] == pid:
                return g, t
    return None, None


def scenario_checks(after, swap, info):
    """The tree really exercises what it is meant to (else the test proves little)."""
    gs = after["groups"]
    zz, hog, mm = gs["it/zz"], gs["it/mm/hog"], gs["it/mm"]
    R.check(zz["events"]["high"] > 0, "scenario: it/zz memory.events high > 0",
            f"{zz['events']}")
    R.check(zz["events_local"]["high"] > 0, "scenario: it/zz memory.events.local high > 0",
            f"{zz['events_local']}")
    R.check(info["hog_rc"] == -signal.SIGKILL, "scenario: the it/mm/hog task was OOM-killed",
            f"exit status {info['hog_rc']}")
    R.check(hog["events"]["oom_kill"] >= 1 and hog["events"]["oom"] >= 1
            and hog["events"]["max"] >= 1,
            "scenario: it/mm/hog memory.events max, oom, oom_kill > 0", f"{hog['events']}")
    R.check(hog["events"]["oom_group_kill"] >= 1,
            "scenario: it/mm/hog memory.events oom_group_kill > 0", f"{hog['events']}")
    R.check(mm["events"]["oom_kill"] >= 1 and mm["events_local"]["oom_kill"] == 0,
            "scenario: it/mm events (hierarchical) differ from events.local",
            f"events {mm['events']}, local {mm['events_local']}")
    R.check(not hog["cgroup_events"]["populated"] and not hog["procs"],
            "scenario: it/mm/hog is empty (populated 0)", f"{hog['cgroup_events']}")
    R.check(all(g["cgroup_events"]["frozen"] for g in gs.values()),
            "scenario: every group reports frozen 1")
    R.check(not gs["it/aa/c"]["memcg"], "scenario: it/aa/c has no memory controller")
    total = sum(g["pressure"]["some"]["total_usec"] for g in gs.values())
    R.check(gs["it"]["pressure"]["some"]["total_usec"] > 0,
            "scenario: it memory.pressure some total > 0",
            f"{gs['it']['pressure']} (sum over groups {total})")
    if swap:
        R.check(zz["swap_current"] > 0, "scenario: it/zz memory.swap.current > 0",
                f"{zz['swap_current']}")
        vmswap = sum(t["vm_swap_kb"] for t in zz["tasks"] if t)
        R.check(vmswap > 0, "scenario: some it/zz task has VmSwap > 0", f"{vmswap} kB")
    else:
        R.skip("scenario: it/zz memory.swap.current > 0", "no zram swap")
        R.skip("scenario: some it/zz task has VmSwap > 0", "no zram swap")
    alloc = next((t for t in zz["tasks"] if t and t["pid"] == info["alloc"]), None)
    R.check(alloc is not None and alloc["rss_anon_kb"] > 0 and alloc["rss_file_kb"] > 0,
            "scenario: alloc has RssAnon, RssFile > 0", f"{alloc}")
    shm = next((t for t in gs["it/aa/c"]["tasks"] if t and t["pid"] == info["statlike"]), None)
    R.check(shm is not None and shm["rss_shmem_kb"] >= 8 * 1024,
            "scenario: the 'x) R 1 (y z' task has RssShmem >= 8 MiB", f"{shm}")


def special_task_checks(snap, after, info):
    # Kernel thread flags, zombies and odd names, in the domain snapshot.
    g, t = find_task(snap, info["zleader"])
    k = kernel_task(info["zleader"])
    R.check(t is not None and t["state"] == "Z" and t["has_mm"] is True
            and k is not None and k["has_mm"] is True,
            f"zombie leader {info['zleader']} (live thread): state Z, has_mm from the live thread",
            f"snapshot {t}, kernel {k}")
    # The kernel's find_lock_task_mm() looks at every thread, so the OOM killer
    # can still select this process; /proc/PID/oom_score says what it thinks.
    score = int(read_text(f"/proc/{info['zleader']}/oom_score"))
    ex = info["explain"]
    cand = next((c for c in (ex or {}).get("candidates", []) if c.get("pid") == info["zleader"]),
                None)
    R.check(cand is not None and (score > 0) == bool(cand.get("killable")),
            f"zombie leader {info['zleader']}: explain agrees with the kernel on killability",
            f"kernel oom_score {score} (badness > 0: find_lock_task_mm() found the live "
            f"thread's mm), explain candidate {cand}")
    zp = info["zombie"]
    zstat = kernel_task(zp)
    g, t = find_task(snap, zp)
    R.check(zstat is not None and zstat["state"] == "Z" and t is None
            and zp not in after["groups"]["it/zz"]["procs"],
            f"pure zombie {zp}: in /proc as Z, absent from cgroup.procs and from the snapshot",
            f"kernel {zstat}, snapshot {t}")
    for name, pid in (("a (b) c", info["parens"]), ("x) R 1 (y z", info["statlike"]),
                      (NAME_BINARY.decode("utf-8", "surrogateescape"), info["binary"])):
        g, t = find_task(snap, pid)
        R.check(t is not None and t["comm"] == name, f"comm {name!r} read back intact",
                f"snapshot {t and t['comm']!r}")
    g, t = find_task(snap, info["parens"])
    R.check(t is not None and t["uid"] == 4321, "uid is the real uid (4321, not effective 1234)",
            f"snapshot {t and t['uid']}")
    g, t = find_task(snap, info["sh"])
    R.check(t is not None and t["oom_score_adj"] == -500 and t["comm"] == "sh",
            "sh has oom_score_adj -500", f"snapshot {t}")
    g, t = find_task(snap, info["binary"])
    R.check(t is not None and t["oom_score_adj"] == 700, "oom_score_adj 700 read back",
            f"snapshot {t}")


def root_checks(root, it_snap):
    groups = root.get("groups") or []
    R.check(bool(groups) and groups[0].get("path") == "/" and root.get("domain") == "/",
            "root snapshot: domain and groups[0] are /",
            f"domain {root.get('domain')!r}, groups[0] {groups[0].get('path') if groups else None}")
    if not groups:
        return
    g0 = groups[0]
    R.check(g0.get("ino") == os.stat(CG).st_ino, f"root snapshot: / ino = {g0.get('ino')}",
            f"kernel {os.stat(CG).st_ino}")
    want_ctl = read_text(os.path.join(CG, "cgroup.subtree_control")).split()
    R.check(g0.get("subtree_control") == want_ctl, "root snapshot: / subtree_control",
            f"snapshot {g0.get('subtree_control')}, kernel {want_ctl}")
    want_have = {"memory": False, "swap": False, "events": False,
                 "pressure": os.path.exists(os.path.join(CG, "memory.pressure")),
                 "stat": os.path.exists(os.path.join(CG, "memory.stat")), "peak": False}
    R.check(g0.get("have") == want_have, "root snapshot: / have (no memory.current at the root)",
            f"snapshot {g0.get('have')}, expected {want_have}")
    paths = [g.get("path") for g in groups]
    want = ["/" + p for p in kernel_preorder("")]
    R.check(paths == want, "root snapshot: all groups in kernel pre-order",
            f"snapshot {paths}, kernel {want}")
    sub = [g for g in groups if g["path"] == "/it" or g["path"].startswith("/it/")]
    same = [(g["path"], g["ino"], [t["pid"] for t in g["tasks"]], g["memory_max"])
            for g in sub] == [(g["path"], g["ino"], [t["pid"] for t in g["tasks"]],
                               g["memory_max"]) for g in it_snap["groups"]]
    R.check(same, "root snapshot: the /it subtree equals the domain snapshot (paths, inodes, "
            "tasks, limits)")
    # For kernel threads /proc shows more than task->comm: the full kthread
    # name ("rcu_tasks_kthread") or, for workqueue workers, the comm plus
    # "-" or "+" and the workqueue last served ("kworker/0:1-events"), which
    # changes all the time. Only the first 15 bytes can be expected in the
    # snapshot, and for workers only up to the "-" or "+".
    def wq_base(name):
        cut = [i for i in (name.find(b"-", 8), name.find(b"+", 8)) if i >= 0]
        return name[:min(cut)] if cut else name

    kthreads = 0
    bad = []
    longer = []
    for t in g0.get("tasks", []):
        k = kernel_task(t["pid"])
        if k is None or not k["flags"] & PF_KTHREAD:
            continue
        kthreads += 1
        kcomm = k["comm"].encode("utf-8", "surrogateescape")
        if len(kcomm) > 15:
            longer.append(f"{t['pid']}:{k['comm']}")
        scomm = t["comm"].encode("utf-8", "surrogateescape")
        if t["flags"] & PF_WQ_WORKER:
            same = wq_base(scomm) == wq_base(kcomm)
        else:
            same = scomm == kcomm[:15]
        if not t["flags"] & PF_KTHREAD or t["has_mm"] or not same:
            bad.append((t["pid"], t["comm"], k["comm"], hex(t["flags"]), t["has_mm"]))
    R.check(kthreads >= 10 and not bad,
            f"root snapshot: {kthreads} kernel threads carry PF_KTHREAD, has_mm false, comm = "
            "first 15 bytes of /proc/PID/stat's (workers: up to the -/+)",
            f"mismatches {bad[:10]}")
    if longer:
        R.note(f"/proc/PID/stat names longer than task->comm (the snapshot keeps 15 bytes): "
               f"{' '.join(longer[:12])}{' ...' if len(longer) > 12 else ''}")
    g, t = find_task(root, 2)
    k = kernel_task(2)
    R.check(t is not None and k is not None and t["flags"] == k["flags"]
            and t["flags"] & PF_KTHREAD and t["comm"] == "kthreadd" and t["ppid"] == 0,
            f"root snapshot: pid 2 kthreadd flags {t and hex(t['flags'])} has PF_KTHREAD",
            f"snapshot {t}, kernel {k}")
    g, t = find_task(root, 1)
    k = kernel_task(1)
    R.check(t is not None and k is not None and t["flags"] == k["flags"]
            and not t["flags"] & PF_KTHREAD and t["ppid"] == 0 and t["has_mm"],
            "root snapshot: pid 1 is not a kernel thread and has an mm", f"snapshot {t}")


def limit_max_checks(binary, outdir, extra_groups):
    """memory.low and memory.min can read "max" (page_counter_memparse accepts it)."""
    for name, file in (("itlow", "memory.low"), ("itmin", "memory.min")):
        os.mkdir(cgp(name))
        extra_groups.append(name)
        write(os.path.join(cgp(name), file), "max")
        shown = read_text(os.path.join(cgp(name), file)).strip()
        path = os.path.join(outdir, f"snapshot-{name}.json")
        rc, out, err = run_cgsentry(binary, "--save-snapshot", path, "--json", name)
        got = None
        if os.path.exists(path) and rc in (0, 1):
            try:
                got = json.loads(read_bytes(path))["groups"][0][file.replace(".", "_")]
            except (ValueError, KeyError, IndexError):
                pass
        R.check(rc in (0, 1) and got == "max",
                f"{file} = {shown!r} in the kernel reads back as \"max\"",
                f"cgsentry exit {rc}, value {got!r}, stderr {err.strip()!r}")


def roundtrip_check(binary, path, outdir, label):
    """Loading a saved snapshot and saving it again gives the same bytes."""
    again = os.path.join(outdir, os.path.basename(path) + ".again")
    rc, out, err = run_cgsentry(binary, "--snapshot", path, "--save-snapshot", again, "--json")
    same = os.path.exists(again) and read_bytes(again) == read_bytes(path)
    R.check(rc in (0, 1) and same, f"{label}: --snapshot load + --save-snapshot gives the same "
            "bytes", f"exit {rc}, stderr {err.strip()!r}, identical {same}")


# ---- main --------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cgsentry", required=True, help="path of the cgsentry binary")
    ap.add_argument("--force", action="store_true",
                    help="run even outside the test VM (it changes cgroups and swap!)")
    ap.add_argument("--no-swap", action="store_true",
                    help="do not set up zram swap (exercises the swapless variant)")
    args = ap.parse_args()

    if os.environ.get("CGSENTRY_SANDBOX") != "1" and not args.force:
        print("readers.py: refusing to run outside the test VM (CGSENTRY_SANDBOX=1 unset); "
              "use tests/integration/run.sh", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("readers.py: must run as root", file=sys.stderr)
        return 2
    binary = os.path.abspath(args.cgsentry)
    if not os.access(binary, os.X_OK):
        print(f"readers.py: {binary}: not executable", file=sys.stderr)
        return 2

    outdir = os.environ.get("CGSENTRY_RESULTS") or tempfile.mkdtemp(prefix="readers.")
    os.makedirs(outdir, exist_ok=True)
    R.note(f"kernel {os.uname().release}, page size {PAGE}, {NCPU} CPUs, artifacts in {outdir}")

    extra_groups = []
    info = {}
    try:
        swap = False if args.no_swap else setup_swap()
        build_tree()

        hexn = lambda b: b.hex()  # noqa: E731
        # it/zz: helpers first, then the allocator that overshoots memory.high.
        p, _ = spawn("it/zz", py(PY_ZOMBIE_LEADER, hexn(b"zleader")))
        info["zleader"] = p.pid
        if not wait_state(p.pid, "Z"):
            raise RuntimeError("the zombie leader did not become a zombie")
        p, words = spawn("it/zz", py(PY_ZOMBIE_PARENT, hexn(b"zparent")))
        info["zombie"] = int(words[0])
        if not wait_state(info["zombie"], "Z"):
            raise RuntimeError("the zombie child did not become a zombie")
        # memory.high is 40 MiB: with swap, go well over it (reclaim to zram).
        events = "" if swap else os.path.join(cgp("it/zz"), "memory.events")
        p, words = spawn("it/zz", py(PY_ALLOC, hexn(b"alloc"), 48 if swap else 64, events))
        info["alloc"] = p.pid
        R.note(f"alloc: {words[0]} MiB anonymous memory")
        # it/aa/c: a shell, odd names, a real uid that differs from the effective one.
        p, _ = spawn("it/aa/c", ["sh", "-c", "read x"], adj=-500, ready=False)
        info["sh"] = p.pid
        p, _ = spawn("it/aa/c", py(PY_SLEEPER, hexn(NAME_PARENS)), resuid=(4321, 1234, 1234))
        info["parens"] = p.pid
        p, _ = spawn("it/aa/c", py(PY_SLEEPER, hexn(NAME_STATLIKE), 8))
        info["statlike"] = p.pid
        p, _ = spawn("it/mm/keep", py(PY_SLEEPER, hexn(NAME_BINARY)), adj=700)
        info["binary"] = p.pid
        # it/mm/hog: one real OOM kill.
        p, _ = spawn("it/mm/hog", py(PY_HOG), ready=False)
        try:
            info["hog_rc"] = p.wait(timeout=120)
        except subprocess.TimeoutExpired:
            info["hog_rc"] = None

        names = [e for e in os.listdir(cgp(DOMAIN)) if os.path.isdir(os.path.join(cgp(DOMAIN), e))]
        R.note(f"readdir order of it/: {names}; creation order: ['zz', 'aa', 'mm']")

        # Freeze, let the 2 s periodic stats flush run, then read/snapshot/read.
        write(os.path.join(cgp(DOMAIN), "cgroup.freeze"), 1)
        if not wait_frozen(DOMAIN, 1):
            raise RuntimeError("the tree did not freeze")
        time.sleep(4.5)

        order = kernel_preorder(DOMAIN)
        R.check(order == TREE, "kernel: inode order of the groups is their creation order",
                f"inode pre-order {order}, creation {TREE}")

        snap_path = os.path.join(outdir, "snapshot-it.json")
        before = kernel_state(TREE)
        t0 = time.monotonic()
        rc, out, err = run_cgsentry(binary, "--save-snapshot", snap_path, "--json", DOMAIN)
        took = time.monotonic() - t0
        after = kernel_state(TREE)
        with open(os.path.join(outdir, "kernel-it.json"), "w") as f:
            json.dump({"before": before, "after": after}, f, indent=1, default=str)
        with open(os.path.join(outdir, "explain-it.json"), "wb") as f:
            f.write(out)
        R.check(rc == 0 and os.path.exists(snap_path),
                f"cgsentry explain --save-snapshot --json it: exit {rc} ({took:.2f} s)",
                f"stderr {err.strip()!r}")
        if not os.path.exists(snap_path):
            raise RuntimeError("no snapshot to compare")
        snap = load_json(snap_path, "snapshot JSON")
        try:
            info["explain"] = load_json(os.path.join(outdir, "explain-it.json"),
                                        "explain --json output")
            R.check(True, "explain --json output parses")
        except ValueError as e:
            info["explain"] = None
            R.check(False, "explain --json output parses", str(e))

        scenario_checks(after, swap, info)
        check_snapshot(snap, before, after, TREE, DOMAIN)
        special_task_checks(snap, after, info)
        if info["explain"]:
            cands = [c.get("pid") for c in info["explain"].get("candidates", [])]
            pids = [t["pid"] for g in snap["groups"] for t in g["tasks"]]
            R.check(cands == pids, "explain candidates = snapshot tasks, in scan order",
                    f"candidates {cands}, tasks {pids}")
        roundtrip_check(binary, snap_path, outdir, "domain snapshot")

        # The whole hierarchy, still frozen: kernel threads live in the root.
        root_path = os.path.join(outdir, "snapshot-root.json")
        rc, out, err = run_cgsentry(binary, "--save-snapshot", root_path, "--json", "/")
        R.check(rc in (0, 1) and os.path.exists(root_path),
                f"cgsentry explain --save-snapshot --json /: exit {rc}", f"stderr {err.strip()!r}")
        if os.path.exists(root_path):
            root = json.loads(read_bytes(root_path).decode("utf-8", "surrogateescape"))
            root_checks(root, snap)
            roundtrip_check(binary, root_path, outdir, "root snapshot")

        limit_max_checks(binary, outdir, extra_groups)
    except Exception as e:  # noqa: BLE001 - report any setup failure as a failed check
        R.check(False, "test setup and run", f"{type(e).__name__}: {e}")
        traceback.print_exc(file=sys.stdout)
    finally:
        cleanup(extra_groups)

    if R.skipped:
        R.note(f"{R.skipped} skipped (counted as passed)")
    print(f"readers: {R.passed} passed, {R.failed} failed", flush=True)
    return 0 if R.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The hardened unit, without booting anything.

  unit-check.py UNIT_FILE

- `systemd-analyze security --offline` rates its exposure at 2.0 or less;
- the system call filter, with systemd's own group tables, still allows
  every call the daemon cannot do without (pidfds, process_mrelease,
  mlockall, inotify, xattrs on the cgroupfs, ...);
- the capability bounding set is the documented one (a change must be
  argued in the unit and checked in the sandbox by tests/install).

Exit status: 0 pass, 1 fail, 77 skipped (no systemd-analyze with --offline).
"""
import re
import shutil
import subprocess
import sys

MAX_EXPOSURE = 2.0
CAPS = {"CAP_KILL", "CAP_DAC_OVERRIDE", "CAP_SYS_ADMIN", "CAP_SYS_RESOURCE"}
NEEDED = ["pidfd_open", "pidfd_send_signal", "process_mrelease", "mlockall",
          "inotify_init1", "inotify_add_watch", "fsetxattr", "fgetxattr",
          "fremovexattr", "openat", "pread64", "write", "epoll_wait", "poll",
          "sendmsg", "socket", "connect", "prctl", "getrlimit", "mmap",
          "mprotect", "kill", "rt_sigaction", "timerfd_create", "clock_gettime",
          "clone3", "execve", "wait4"]

fails = 0


def check(ok, what):
    global fails
    print(("ok - " if ok else "not ok - ") + what)
    if not ok:
        fails += 1


def group(name, seen=None):
    """The system calls of @name, groups expanded, as systemd knows them."""
    seen = seen if seen is not None else set()
    if name in seen:
        return set()
    seen.add(name)
    out = subprocess.run(["systemd-analyze", "syscall-filter", name],
                         capture_output=True, text=True).stdout
    calls = set()
    for line in out.splitlines()[1:]:
        w = line.strip()
        if not w or w.startswith("#"):
            continue
        calls |= group(w, seen) if w.startswith("@") else {w}
    return calls


def main(unit):
    if not shutil.which("systemd-analyze"):
        print("SKIPPED: systemd-analyze is not installed")
        return 77
    p = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", unit],
                       capture_output=True, text=True)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", p.stdout + p.stderr)
    if not m:
        if "offline" in p.stderr:
            print("SKIPPED: this systemd-analyze has no --offline")
            return 77
        print(p.stdout + p.stderr)
        check(False, "systemd-analyze security --offline rated the unit")
        return 1
    exposure = float(m.group(1))
    check(exposure <= MAX_EXPOSURE,
          f"exposure {exposure} <= {MAX_EXPOSURE} (systemd-analyze security --offline)")

    allow, deny, caps = set(), set(), set()
    for line in open(unit, encoding="utf-8"):
        k, _, v = line.strip().partition("=")
        if k == "SystemCallFilter":
            neg = v.startswith("~")
            for w in v.lstrip("~").split():
                calls = group(w) if w.startswith("@") else {w}
                (deny if neg else allow).update(calls)
        elif k == "CapabilityBoundingSet":
            caps |= set(v.split())
    if not allow:
        check(False, "the unit has an allow-list SystemCallFilter=")
    for c in NEEDED:
        check(c in allow and c not in deny, f"SystemCallFilter= allows {c}")
    check(caps == CAPS, f"CapabilityBoundingSet= is {' '.join(sorted(CAPS))} "
                        f"(found {' '.join(sorted(caps)) or 'none'})")
    return 1 if fails else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))

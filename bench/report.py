# SPDX-License-Identifier: GPL-2.0-or-later
"""Host side of the arena: the Markdown report and the plots of a results
directory (DIR/<scenario>.json, written by `arena.py guest`).

    arena.py report DIR [--plots]

Plots are drawn by gnuplot (Debian's gnuplot-nox; bench/run.sh installs it)
into DIR/*.png. Python 3 standard library only.
"""
import gzip
import json
import os
import shutil
import statistics
import subprocess
import tempfile

MiB = 1 << 20
ORDER = ["fast", "forkhogs", "leak", "thrash", "swap", "squeeze", "scale"]
TITLES = {
    "fast": "Fast runaway at a limit",
    "forkhogs": "Fork of hogs: 16 medium allocators in one service",
    "leak": "Slow leak: 16 MiB every 500 ms",
    "thrash": "File-backed thrash: healthy, must not be killed",
    "swap": "zram swap storm",
    "squeeze": "Global squeeze: no limits, the guest's RAM runs out",
    "scale": "Scale: 100 / 1,000 / 10,000 idle groups",
}
WHAT = {
    "fast": "A service (memory.max 256 MiB, 3 sleeping processes and a main process) whose worker "
            "allocates and touches 8 MiB at a time without pause, beside two innocent services "
            "(web 32 MiB, db 64 MiB) in `arena.slice` (memory.max 1 GiB).",
    "forkhogs": "A service whose main process forks 16 workers that each grow to 24 MiB, 2 MiB every "
                "20 ms (384 MiB in all, memory.max 256 MiB): the kernel kills one worker at a time.",
    "leak": "As the fast runaway, but the worker leaks 16 MiB every 500 ms.",
    "thrash": "A service that reads random 64 KiB blocks of a 192 MiB file on ext4 (a loop device), "
              "memory.max 128 MiB: page cache that never fits. Once it has filled its limit, its reads "
              "are throttled to 16 MiB/s (io.max: a slow disk) and it is watched while reclaim evicts "
              "and it re-reads: it stalls without any OOM. Killing it is an innocent kill.",
    "swap": "256 MiB of zram swap (lzo-rle); the runaway (memory.max 256 MiB, swap unlimited) writes "
            "pages half random, half zero (about 2:1 in zram), 4 MiB at a time, until swap is full.",
    "squeeze": "No memory.max anywhere: the runaway of the fast scenario fills the 1 GiB guest. "
               "`cgsentryd+limit75` is cgsentryd with the runaway given memory.max = 75% of RAM "
               "(cgsentryd acts on limits; without one it only finishes a kernel kill).",
}


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def med_range(vals, scale=1000.0, digits=0):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "–"
    f = (lambda x: f"{x * scale:.{digits}f}")
    if len(vals) == 1:
        return f(vals[0])
    return f"{f(statistics.median(vals))} ({f(min(vals))}–{f(max(vals))})"


def load(d):
    """The scenarios' results in @d: <scenario>.json as the guests write them,
    or .json.gz (the committed example keeps them compressed)."""
    parts = {}
    for s in ORDER:
        for name, opener in ((f"{s}.json", open), (f"{s}.json.gz", gzip.open)):
            try:
                with opener(os.path.join(d, name), "rt") as f:
                    parts[s] = json.load(f)
                break
            except (OSError, ValueError):
                pass
    return parts


def by_variant(runs, variants):
    out = {}
    for v in variants:
        rs = [r for r in runs if r["variant"] == v]
        if rs:
            out[v] = rs
    return out


def counts(items):
    c = {}
    for x in items:
        c[x] = c.get(x, 0) + 1
    return ", ".join(f"{k} ×{n}" for k, n in sorted(c.items(), key=lambda kv: -kv[1]))


def sup_cost(rs):
    cpu = [r.get("supervisor_cpu_ns") for r in rs if r.get("supervisor_cpu_ns") is not None]
    rss = [r.get("supervisor_rss") for r in rs if r.get("supervisor_rss")]
    if not cpu and not rss:
        return "–", "–"
    return (med_range([c / 1e9 for c in cpu]) if cpu else "–",
            f"{statistics.median(rss) / MiB:.1f}" if rss else "–")


def reaction_summary(rs):
    """Per contender: median ref→empty when every run emptied the group."""
    empties = [r["ref_to_empty_s"] for r in rs if r.get("ref_to_empty_s") is not None]
    return {
        "n": len(rs),
        "whole": sum(1 for r in rs if r["whole_group_died"]),
        "empty_med": statistics.median(empties) if empties else None,
        "all_empty": len(empties) == len(rs),
        "innocents": sum(r["innocents"] for r in rs),
        "kernel_kills": sum(len(r["kernel_kills"]) for r in rs),
        "first": [r["who"][0] if r["who"] else "nobody" for r in rs],
    }


def reaction_section(w, scen, p):
    rx = p["reaction"]
    groups = by_variant(rx["runs"], rx["variants"])
    limit = rx.get("limit")
    w(f"Reference point: {rx['label']}. Times are from the harness seeing that point (memory.current "
      f"sampled about every millisecond) to the service's cgroup reporting `populated 0`.")
    w("")
    extra = {"swap": "swap peak MiB", "squeeze": "min MemAvailable MiB"}.get(scen, "peak % of limit")
    w(f"| contender | runs | killed first | whole group dead | kernel OOM kills | innocents killed "
      f"| ref→group empty ms | ref→first death ms | {extra} | supervisor CPU ms | RSS MiB |")
    w("|---|---|---|---|---|---|---|---|---|---|---|")
    summ = {}
    for v, rs in groups.items():
        s = reaction_summary(rs)
        summ[v] = s
        left = [r["left"] for r in rs if not r["whole_group_died"]]
        whole = f"{s['whole']}/{s['n']}" + (f" (half-dead: {max(left)} left)" if left else "")
        if scen == "swap":
            ex = med_range([r.get("swap_peak_bytes", 0) / MiB for r in rs], scale=1)
        elif scen == "squeeze":
            ex = med_range([(r.get("min_avail_bytes") or 0) / MiB for r in rs], scale=1)
        else:
            ex = med_range([r["peak_bytes"] * 100 / (r["limit"] or limit) for r in rs if (r["limit"] or limit)],
                           scale=1)
        cpu, rss = sup_cost(rs)
        empt = med_range([r["ref_to_empty_s"] for r in rs]) if any(
            r["ref_to_empty_s"] is not None for r in rs) else "never"
        if empt != "never" and not s["all_empty"]:
            empt += f" in {sum(1 for r in rs if r['ref_to_empty_s'] is not None)}/{s['n']}"
        w(f"| {v} | {s['n']} | {counts(s['first'])} | {whole} | {s['kernel_kills']} | {s['innocents']} "
          f"| {empt} | {med_range([r['ref_to_first_death_s'] for r in rs])} | {ex} | {cpu} | {rss} |")
    w("")
    checks_line(w, rx["runs"])
    sd = [r for r in rx["runs"] if r["variant"].startswith("systemd-oomd") and r.get("slice_psi")]
    if sd:
        full = [r["slice_psi"].get("full", {}).get("avg10") for r in sd]
        some = [r["slice_psi"].get("some", {}).get("avg10") for r in sd]
        w(f"PSI of arena.slice right after the systemd-oomd runs (what it acts on): some avg10 "
          f"{med_range(some, scale=1, digits=2)} %, full avg10 {med_range(full, scale=1, digits=2)} %.")
        w("")
    return summ


def checks_line(w, runs):
    """That each contender was really in play, from what the guest recorded."""
    out = []
    for v in ("systemd-oomd", "systemd-oomd 10%/1s"):
        ev = next((r.get("evidence") for r in runs if r["variant"] == v and r.get("evidence")), None)
        if ev is not None:
            ok = "Path: /arena.slice" in ev.split("Memory Pressure Monitored CGroups:")[-1]
            lim = next((ln.split(":", 1)[1].strip() for ln in ev.splitlines() if "Memory Pressure Limit:" in ln
                        and "Default" not in ln), "?")
            out.append(f"`oomctl dump` during {v}: arena.slice {'monitored' if ok else 'NOT monitored'} "
                       f"(limit {lim})")
    ev = next((r.get("evidence") for r in runs if r["variant"] == "oomd" and r.get("evidence")), None)
    if ev is not None:
        out.append(f"oomd loaded {ev.count('Ruleset=')} rulesets")
    pol = [r for r in runs if r["variant"] == "systemd OOMPolicy=kill"]
    if pol:
        g = sum(1 for r in pol if r.get("oom_group") == "1")
        k = sum(1 for r in pol if str(r.get("unit_state", "")).endswith("oom-kill"))
        out.append(f"OOMPolicy=kill: memory.oom.group=1 in {g}/{len(pol)} runs, unit failed with "
                   f"Result=oom-kill in {k}/{len(pol)}")
    cg = [r for r in runs if r["variant"] == "cgsentryd" and "tripwire_armed" in r]
    if cg:
        out.append(f"cgsentryd's tripwire armed before the run in {sum(1 for r in cg if r['tripwire_armed'])}/{len(cg)}")
    if out:
        w("Checks: " + "; ".join(out) + ".")
        w("")


def thrash_section(w, p):
    rx = p["reaction"]
    groups = by_variant(rx["runs"], rx["variants"])
    w(f"Each run: the service fills its limit with page cache, then {rx['window_s']} s are watched.")
    w("")
    w("| contender | runs | healthy service killed | by | kernel OOM kills | innocents killed | read MiB/s "
      "| PSI some avg10 % | PSI full avg10 % | supervisor CPU ms | RSS MiB |")
    w("|---|---|---|---|---|---|---|---|---|---|---|")
    summ = {}
    for v, rs in groups.items():
        killed = sum(1 for r in rs if r["first_death"])
        cpu, rss = sup_cost(rs)
        cpu_ns = [r["supervisor_cpu_ns"] for r in rs if r.get("supervisor_cpu_ns") is not None]
        summ[v] = {"killed": killed, "n": len(rs), "innocents": sum(r["innocents"] for r in rs),
                   "read_med": med([r["read_mib_s"] for r in rs]),
                   "cpu_med": statistics.median(cpu_ns) / 1e6 if cpu_ns else None}
        w(f"| {v} | {len(rs)} | {killed}/{len(rs)} | {counts([x for r in rs for x in r['who'][:1]]) or '–'} "
          f"| {sum(len(r['kernel_kills']) for r in rs)} | {summ[v]['innocents']} "
          f"| {med_range([r['read_mib_s'] for r in rs], scale=1)} "
          f"| {med_range([r['psi_some_avg10'] for r in rs], scale=1, digits=1)} "
          f"| {med_range([r['psi_full_avg10'] for r in rs], scale=1, digits=1)} | {cpu} | {rss} |")
    w("")
    checks_line(w, rx["runs"])
    return summ


def summary_line(scen, summ):
    """One line per scenario: cgsentryd against the best other contender."""
    me = summ.get("cgsentryd")
    if not me:
        return ""
    if scen == "thrash":
        bad = [v for v, s in summ.items() if s["killed"]]
        return (f"cgsentryd killed the healthy service in {me['killed']}/{me['n']} runs; "
                + (f"it was killed under {', '.join(bad)}." if bad else "so did nobody else."))
    others = {v: s for v, s in summ.items() if not v.startswith("cgsentryd") and s["all_empty"] and s["empty_med"]}
    half = [v for v, s in summ.items() if s["whole"] < s["n"]]
    line = (f"cgsentryd emptied the group in {me['whole']}/{me['n']} runs"
            + (f", median {me['empty_med'] * 1000:.0f} ms" if me["empty_med"] else "")
            + f", kernel OOM kills {me['kernel_kills']}, innocents {me['innocents']}")
    lim = summ.get("cgsentryd+limit75")
    if lim and lim["empty_med"]:
        line += (f"; with a limit (cgsentryd+limit75) {lim['whole']}/{lim['n']}, median "
                 f"{lim['empty_med'] * 1000:.0f} ms, kernel OOM kills {lim['kernel_kills']}")
    if others and me["all_empty"] and me["empty_med"]:
        best = min(others, key=lambda v: others[v]["empty_med"])
        r = others[best]["empty_med"] / me["empty_med"]
        line += (f"; the best other, {best}: {others[best]['empty_med'] * 1000:.0f} ms ("
                 + (f"cgsentryd **{r:.1f}×** sooner)" if r >= 1 else f"cgsentryd took **{1 / r:.1f}×** as long)"))
    if half:
        line += f"; half-dead or untouched in some runs: {', '.join(half)}"
    return line + "."


def ratio_lines(scen, summ):
    """'cgsentryd emptied the group N× sooner than X' and the honest line."""
    lines = []
    me = summ.get("cgsentryd")
    if not me:
        return lines, None
    if scen == "thrash":
        bad = [f"{v} ({s['killed']}/{s['n']})" for v, s in summ.items() if s["killed"]]
        if me["killed"]:
            return lines, f"cgsentryd killed the healthy service in {me['killed']}/{me['n']} runs."
        lines.append("cgsentryd killed the healthy thrashing service in 0 runs"
                     + (f"; {', '.join(bad)} killed it." if bad else "; nobody did."))
        # Not killing is not all: what watching it cost the service and the machine.
        why = []
        others = {v: s for v, s in summ.items() if v != "cgsentryd"}
        reads = {v: s["read_med"] for v, s in others.items() if s["read_med"]}
        if me["read_med"] and reads:
            best = max(reads, key=reads.get)
            if me["read_med"] < reads[best] * 0.97:
                why.append(f"the service read {me['read_med']:.0f} MiB/s beside it against "
                           f"{reads[best]:.0f} beside {best} (its Tripwire=90% sets memory.high, so "
                           f"reclaim keeps the page cache at 90% of the limit)")
        cpus = {v: s["cpu_med"] for v, s in others.items() if s["cpu_med"] is not None}
        if me["cpu_med"] is not None and cpus:
            cheap = min(cpus, key=cpus.get)
            if me["cpu_med"] > cpus[cheap] * 1.2:
                why.append(f"it used {me['cpu_med']:.0f} ms of CPU in the window against "
                           f"{cpus[cheap]:.0f} for {cheap} (it reads memory.stat on every "
                           f"high event, many a second while reclaim works)")
        return lines, (f"**cgsentryd is not ahead on cost here:** {'; '.join(why)}." if why else None)
    mine = me["empty_med"] if me["all_empty"] else None
    for v, s in summ.items():
        if v.startswith("cgsentryd"):
            continue
        if mine and s["all_empty"] and s["empty_med"]:
            r = s["empty_med"] / mine
            lines.append((f"cgsentryd emptied the group **{r:.1f}×** sooner than {v}" if r >= 1 else
                           f"{v} emptied the group **{1 / r:.1f}×** sooner than cgsentryd")
                         + f" (median {mine * 1000:.0f} ms vs {s['empty_med'] * 1000:.0f} ms).")
        elif s["whole"] < s["n"]:
            lines.append(f"{v} left the service half-dead in {s['n'] - s['whole']}/{s['n']} runs.")
    # Not ahead: sooner, fewer innocents, no kernel kill, whole.
    why = []
    if me["innocents"]:
        why.append(f"it killed {me['innocents']} innocent(s)")
    if me["whole"] < me["n"]:
        why.append(f"it left the group half-dead in {me['n'] - me['whole']}/{me['n']} runs")
    if me["kernel_kills"]:
        why.append(f"the kernel still OOM-killed {me['kernel_kills']} time(s) first")
    faster = [v for v, s in summ.items() if not v.startswith("cgsentryd") and s["all_empty"]
              and s["innocents"] <= me["innocents"] and mine and s["empty_med"] and s["empty_med"] < mine]
    if faster:
        why.append(f"{', '.join(faster)} emptied the group sooner (median)")
    if not mine and not me["all_empty"]:
        why.append("it did not empty the group in every run")
    honest = None
    if why:
        honest = f"**cgsentryd is not ahead here:** {'; '.join(why)}."
    return lines, honest


def scale_section(w, p):
    sc = p["scale"]
    w(f"Groups are empty cgroups with memory.max 64 MiB, under a delegated service "
      f"(`bench.slice/bench-scale.service/g*`). Start-up and RSS with each supervisor alone; wake-ups and "
      f"CPU with all of them side by side for {sc['window_s']} s while nothing happens; event latency "
      f"is a runaway in one of the groups (85% of its 64 MiB → group empty).")
    w("")
    w("| groups | contender | start-up ms | RSS MiB | idle wake-ups/min | idle CPU ms/min "
      "| 85%→empty ms | killed first | cgsentryd's own event→SIGKILL µs |")
    w("|---|---|---|---|---|---|---|---|---|")
    for row in sc["sizes"]:
        for name, a in row["alone"].items():
            idle = row["idle"].get(name, {})
            wk = (f"{idle['wakeups'] * 60 / idle['window_s']:.0f}" if idle else "–")
            cpu = (f"{(idle['cpu_ns'] or 0) / 1e6 * 60 / idle['window_s']:.1f}" if idle else "–")
            lat = a.get("latency", [])
            us = [u for x in lat for u in x.get("daemon_latency_us", [])]
            st = "–" if a.get("startup_s") is None else f"{a['startup_s'] * 1000:.0f}"
            rss = "–" if not a.get("rss") else f"{a['rss'] / MiB:.1f}"
            w(f"| {row['groups']:,} | {name} | {st} | {rss} | {wk} | {cpu} "
              f"| {med_range([x['ref_to_empty_s'] for x in lat]) if lat else '–'} "
              f"| {counts([x['who'][0] if x['who'] else 'nobody' for x in lat]) or '–'} "
              f"| {med_range(us, scale=1) if us else '–'} |")
    w("")
    ov = sc.get("overhead")
    if ov:
        base = med(ov["times_s"].get("none", []))
        w(f"Overhead: a benign workload (touches 64 MiB six times, reads /proc) beside each supervisor "
          f"watching {ov['groups']:,} groups, interleaved with runs beside none.")
        w("")
        w("| beside | runs | time s | slowdown vs none |")
        w("|---|---|---|---|")
        for k, v in ov["times_s"].items():
            m = statistics.median(v)
            sl = "–" if k == "none" or not base else f"{(m / base - 1) * 100:+.1f} %"
            w(f"| {k} | {len(v)} | {med_range(v, scale=1, digits=3)} | {sl} |")
        w("")
        none = ov["times_s"].get("none", [])
        if none and all(min(none) <= statistics.median(v) <= max(none) for k, v in ov["times_s"].items()):
            w("Every median lies within the spread of the runs beside none: no overhead measurable in "
              "this emulated guest.")
            w("")


def scale_lines(p):
    sc = p["scale"]
    big = sc["sizes"][-1]
    out, honest = [], []
    me = big["idle"].get("cgsentryd")
    if me:
        for k, v in big["idle"].items():
            if k == "cgsentryd":
                continue
            if me["wakeups"]:
                out.append(f"At {big['groups']:,} groups idle, {k} woke {v['wakeups'] / me['wakeups']:.1f}× as "
                           f"often as cgsentryd ({v['wakeups']} vs {me['wakeups']} in {v['window_s']:.0f} s).")
            else:
                out.append(f"At {big['groups']:,} groups idle, cgsentryd woke 0 times, {k} {v['wakeups']} times "
                           f"in {v['window_s']:.0f} s.")
            if v["wakeups"] < me["wakeups"]:
                honest.append(f"{k} woke less often at {big['groups']:,} groups")
        rss = {k: a.get("rss") for k, a in big["alone"].items() if a.get("rss")}
        if rss.get("cgsentryd"):
            lower = [k for k, r in rss.items() if k != "cgsentryd" and r < rss["cgsentryd"]]
            if lower:
                honest.append(f"{', '.join(lower)} had a smaller RSS at {big['groups']:,} groups "
                              f"(cgsentryd {rss['cgsentryd'] / MiB:.1f} MiB: a watch and a few fds per group)")
        cpu = {k: v.get("cpu_ns") or 0 for k, v in big["idle"].items()}
        lower = [k for k, c in cpu.items() if k != "cgsentryd" and c < cpu.get("cgsentryd", 0)]
        if lower:
            honest.append(f"{', '.join(lower)} used less idle CPU")
        st = big["alone"].get("cgsentryd", {}).get("startup_s")
        slower = [k for k, a in big["alone"].items() if k not in ("cgsentryd", "kernel") and a.get("startup_s")
                  and st and a["startup_s"] < st]
        if slower:
            honest.append(f"{', '.join(slower)} started faster at {big['groups']:,} groups (cgsentryd reads "
                          f"and arms every group before READY; the others look at groups only when they act)")
    return out, ("**cgsentryd is not ahead on:** " + "; ".join(honest) + ".") if honest else None


def render(d):
    parts = load(d)
    o = []
    w = o.append
    w(f"# cgsentryd arena — {os.path.basename(os.path.abspath(d))}")
    w("")
    if not parts:
        w("No results (see the guests' logs beside this file).")
        return "\n".join(o)
    first = next(iter(parts.values()))
    v = first.get("versions", {})
    w(f"Guest kernel {first['kernel']}, {first['cpus']} vCPUs under QEMU TCG, systemd as PID 1 "
      f"({v.get('systemd')}); {v.get('cgsentryd')}, oomd {v.get('oomd')}, {v.get('earlyoom')}; "
      f"{'--quick' if first['quick'] else 'full run'}. One boot per scenario; in it every contender "
      f"runs in turn on the same workload, interleaved run by run. Medians, (min–max) over the runs. "
      f"Compare within this report (ratios), not with other machines.")
    for s, p in parts.items():
        for e in p.get("errors", []):
            w(f"\n**Harness error in {s}:** `{e}`")
    summary, honest_all = [], []
    body = []
    b = body.append
    for s in ORDER:
        p = parts.get(s)
        if not p:
            continue
        b("")
        b(f"## {TITLES[s]} (`{s}`, guest {p['mem_total'] // MiB} MiB)")
        b("")
        if s in WHAT:
            b(WHAT[s])
            b("")
        if s == "scale" and "scale" in p:
            scale_section(b, p)
            lines, honest = scale_lines(p)
        elif s == "thrash" and "reaction" in p:
            summ = thrash_section(b, p)
            lines, honest = ratio_lines(s, summ)
            lines = [summary_line(s, summ)] + [ln for ln in lines if not ln.startswith("cgsentryd killed")]
        elif "reaction" in p:
            summ = reaction_section(b, s, p)
            lines, honest = ratio_lines(s, summ)
            lines = [summary_line(s, summ)] + lines
        else:
            continue
        for ln in lines:
            b(f"- {ln}")
        if honest:
            b("")
            b(honest)
        summary.append((s, lines, honest))
        b("")
        if os.path.exists(os.path.join(d, f"memory-{s}.png")):
            b(f"![memory.current over time, {s}](memory-{s}.png)")
            b("")
    w("")
    w("## Summary")
    w("")
    for s, lines, honest in summary:
        head = lines[0] if lines else ""
        w(f"- **{s}**: {head}" + (f" {honest}" if honest else ""))
    if os.path.exists(os.path.join(d, "reaction.png")):
        w("")
        w("![reaction time per contender and scenario](reaction.png)")
    o.extend(body)
    for s, p in parts.items():
        if "elapsed_s" in p:
            w(f"Scenario `{s}` took {p['elapsed_s']:.0f} s in its guest.")
            w("")
    return "\n".join(o)


# ---- plots ------------------------------------------------------------------------------

COLORS = {"kernel": "#888888", "kernel+oom.group": "#444444", "systemd OOMPolicy=kill": "#9467bd",
          "earlyoom": "#ff7f0e", "oomd": "#1f77b4", "systemd-oomd": "#17becf", "systemd-oomd 10%/1s": "#2ca02c",
          "cgsentryd": "#d62728", "cgsentryd+limit75": "#e377c2"}


def gp_str(s):
    return '"' + s.replace('"', "'") + '"'


def plots(d):
    if not shutil.which("gnuplot"):
        return "gnuplot not found: no plots (apt-get install gnuplot-nox)"
    parts = load(d)
    tmp = tempfile.mkdtemp(prefix="arena-plot-")
    script = ["set terminal pngcairo size 1200,820 font 'DejaVu Sans,9'", "set encoding utf8"]
    # Reaction time: one panel per scenario with a reaction.
    panels = [s for s in ORDER if s in parts and "reaction" in parts[s] and s != "thrash"]
    if panels:
        script += [f"set output {gp_str(os.path.join(d, 'reaction.png'))}",
                   f"set multiplot layout {(len(panels) + 1) // 2},2 title "
                   "'Runaway at the reference point → its group empty (median, min–max; log scale; "
                   "no bar: the group was never emptied)'",
                   "set logscale y", "set ylabel 'ms'", "set style fill solid 0.8", "set boxwidth 0.7",
                   "set xtics rotate by 30 right", "set grid ytics", "unset key", "set yrange [5:*]"]
        for s in panels:
            rx = parts[s]["reaction"]
            groups = by_variant(rx["runs"], rx["variants"])
            f = os.path.join(tmp, f"r-{s}.dat")
            with open(f, "w") as fh:
                for i, (v, rs) in enumerate(groups.items()):
                    e = [r["ref_to_empty_s"] * 1000 for r in rs if r["ref_to_empty_s"] is not None]
                    col = COLORS.get(v, "#000000").replace("#", "0x")
                    if len(e) == len(rs) and e:
                        fh.write(f"{i} {statistics.median(e):.2f} {min(e):.2f} {max(e):.2f} {col} {gp_str(v)}\n")
                    else:
                        fh.write(f"{i} NaN NaN NaN {col} {gp_str(v + ' (never)' if not e else v + ' (not always)')}\n")
            script += [f"set title {gp_str(TITLES[s])}", f"set xrange [-0.6:{len(groups) - 0.4}]",
                       f"plot {gp_str(f)} using 1:2:5:xtic(6) with boxes lc rgb variable, "
                       f"'' using 1:2:3:4 with yerrorbars lc rgb 'black' pt 0"]
        script += ["unset multiplot", "unset logscale y", "set yrange [*:*]", "unset xtics", "set xtics"]
    # memory.current over time, one run of each contender.
    for s in ORDER:
        p = parts.get(s)
        if not p or "reaction" not in p:
            continue
        rx = p["reaction"]
        lines = []
        for v in rx["variants"]:
            r = next((r for r in rx["runs"] if r["variant"] == v and r.get("series")), None)
            if not r:
                continue
            f = os.path.join(tmp, f"m-{s}-{len(lines)}.dat")
            with open(f, "w") as fh:
                for t, c in r["series"]:
                    fh.write(f"{t} {c / MiB:.1f}\n")
            lines.append(f"{gp_str(f)} using 1:2 with lines lw 1.6 lc rgb {gp_str(COLORS.get(v, '#000000'))} "
                         f"title {gp_str(v)}")
        if not lines:
            continue
        xl = ("seconds from the start of the window" if s == "thrash" else
              f"seconds from the reference point ({rx['label']})")
        xr = "[*:*]" if s == "thrash" else ("[-6:6]" if s in ("leak", "swap") else "[-2:3]")
        script += [f"set output {gp_str(os.path.join(d, f'memory-{s}.png'))}",
                   "set terminal pngcairo size 900,480 font 'DejaVu Sans,9'",
                   f"set title {gp_str(TITLES[s] + ': memory.current of the service, one run each')}",
                   f"set xlabel {gp_str(xl)}", "set ylabel 'MiB'", "set key outside right top",
                   "set grid", f"set xrange {xr}", "set yrange [0:*]", "set xtics norotate",
                   "plot " + ", ".join(lines)]
        script.append("set terminal pngcairo size 1200,820 font 'DejaVu Sans,9'")
    with open(os.path.join(tmp, "plot.gp"), "w") as fh:
        fh.write("\n".join(script) + "\n")
    r = subprocess.run(["gnuplot", os.path.join(tmp, "plot.gp")], capture_output=True, text=True)
    shutil.rmtree(tmp, ignore_errors=True)
    return None if r.returncode == 0 else f"gnuplot failed: {r.stderr.strip()[:500]}"


def main(args):
    err = plots(args.dir) if args.plots else None
    print(render(args.dir))
    if err:
        print(f"\n({err})")
    return 0

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The man pages against the programs they describe.

  check-man.py keys SRC_DIR CGSENTRYD MAN_PAGE
      Every configuration key the parser accepts is documented in
      cgsentry.conf(5), in the section of its [Section], and nothing else is.
  check-man.py options CGSENTRY CGSENTRYD MAN_DIR [SRC_DIR]
      Every command of `cgsentry --help` has a subsection in cgsentry(1)
      that documents exactly the options of `cgsentry COMMAND --help`; the
      same for `cgsentryd --help` and cgsentryd(8).
  check-man.py lint MAN_PAGE...
      `man --warnings` says nothing about any page.

Exit status: 0 pass, 1 fail, 77 skipped (a tool is missing).

The key list is not copied from anywhere: every capitalised word that is a
string literal in daemon/*.[ch] is a candidate, and the parser itself
(`cgsentryd --check-config`) says which candidates it takes as a section or a
key: a candidate is a key when the parser's complaint about it differs from
its complaint about a name that cannot exist. So a key added to the parser,
however the parser is written, fails this test until it is documented.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

BOGUS_SECTION = "CgsentryNoSuchSection"
BOGUS_KEY = "CgsentryNoSuchKey"

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def finish(what):
    if failures:
        print(f"{what}: {len(failures)} problem(s)")
        return 1
    print(f"{what}: ok")
    return 0


# ---------------------------------------------------------------------------
# roff
# ---------------------------------------------------------------------------
def roff_text(line):
    """A roff line as plain text: macro name, quotes and escapes removed."""
    line = re.sub(r"^\.(B|I|R|BI|BR|IB|IR|RB|RI|SM|SB)\s+", "", line)
    line = re.sub(r"\\f[BIRP]|\\f\(..|\\f\[[^]]*\]", "", line)
    line = line.replace(r"\-", "-").replace(r"\(em", "-").replace(r"\~", " ")
    line = line.replace(r"\&", "").replace(r"\e", "\\")
    return line.replace('"', "")


def man_sections(path):
    """[(level, heading, [lines])] for every .SH and .SS of a page."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            m = re.match(r'^\.(SH|SS)\s+(.*)$', line)
            if m:
                out.append((m.group(1), roff_text(m.group(2)).strip(), []))
            elif out:
                out[-1][2].append(line)
    return out


def tp_tags(lines):
    """The tag lines of the .TP (and .TQ) entries of a section, as text."""
    tags = []
    for i, line in enumerate(lines):
        if re.match(r"^\.(TP|TQ)\b", line) and i + 1 < len(lines):
            tags.append(roff_text(lines[i + 1]))
    return tags


def tag_options(tags):
    opts = set()
    for t in tags:
        # "-c, --config FILE", "--state-dir DIR, -c, --config FILE"
        for tok in re.findall(r"(?<![\w-])(--?[A-Za-z0-9][A-Za-z0-9-]*)", t):
            opts.add(tok)
    return opts


# ---------------------------------------------------------------------------
# keys
# ---------------------------------------------------------------------------
def candidates(src):
    words = set()
    files = sorted(glob.glob(os.path.join(src, "daemon", "*.[ch]")))
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for lit in re.findall(r'"((?:[^"\\\n]|\\.)*)"', text):
            if re.fullmatch(r"[A-Z][A-Za-z0-9]* ?", lit):
                words.add(lit)
    return sorted(words)


def check_config(cgsentryd, text):
    """{line number: message} of `cgsentryd --check-config` on @text."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "probe.conf")
        with open(path, "w") as f:
            f.write(text)
        p = subprocess.run([cgsentryd, "--check-config", "-c", path],
                           capture_output=True, text=True, timeout=60)
        errs = {}
        for line in (p.stdout + p.stderr).splitlines():
            m = re.match(re.escape(path) + r":(\d+): (.*)$", line)
            if m:
                errs.setdefault(int(m.group(1)), m.group(2))
        return errs


def section_header(cand):
    # "Rule " is the prefix of [Rule NAME] sections.
    return cand + "probe" if cand.endswith(" ") else cand


def known_sections(cgsentryd, cands):
    lines = []
    where = {}
    for c in [BOGUS_SECTION] + cands:
        lines.append(f"[{section_header(c)}]")
        where[c] = len(lines) + 1
        lines.append(f"{BOGUS_KEY}=1")
    errs = check_config(cgsentryd, "\n".join(lines) + "\n")
    ref = errs.get(where[BOGUS_SECTION])
    if ref is None:
        fail(f"the parser took [{BOGUS_SECTION}] as a section: cannot tell sections apart")
        return []
    out = []
    for c in cands:
        expect = ref.replace(BOGUS_SECTION, section_header(c))
        if errs.get(where[c]) != expect:
            out.append(c)
    return out


def known_keys(cgsentryd, section, cands):
    header = f"[{section_header(section)}]"
    lines = [header]
    if section.endswith(" "):
        lines.append("Match=probe")
    where = {}
    for c in [BOGUS_KEY] + cands:
        lines.append(f"{c}=")
        where[c] = len(lines)
    errs = check_config(cgsentryd, "\n".join(lines) + "\n")
    ref = errs.get(where[BOGUS_KEY])
    if ref is None:
        fail(f"the parser took {BOGUS_KEY}= in {header} as a key: cannot tell keys apart")
        return set()
    keys = set()
    for c in cands:
        if errs.get(where[c]) != ref.replace(BOGUS_KEY, c):
            keys.add(c)
    return keys


def documented_keys(page):
    """{section word ("Daemon", "Rule"): set of keys} from the .SH "[...]" sections."""
    out = {}
    for level, heading, lines in man_sections(page):
        m = re.match(r"^\[([A-Za-z0-9]+)", heading)
        if level != "SH" or not m:
            continue
        keys = out.setdefault(m.group(1), set())
        for tag in tp_tags(lines):
            k = re.match(r"^([A-Z][A-Za-z0-9]*)=", tag.strip())
            if k:
                keys.add(k.group(1))
    return out


def cmd_keys(src, cgsentryd, page):
    cands = candidates(src)
    sections = known_sections(cgsentryd, cands)
    if not sections:
        fail("no configuration section found: the probe does not work")
        return finish("keys")
    doc = documented_keys(page)
    total = 0
    for s in sections:
        word = s.strip()
        keys = known_keys(cgsentryd, s, [c for c in cands if not c.endswith(" ")])
        total += len(keys)
        print(f"[{section_header(s) if not s.endswith(' ') else word + ' NAME'}] "
              f"parser: {' '.join(sorted(keys)) or '-'}")
        have = doc.get(word)
        if have is None:
            fail(f"{os.path.basename(page)} has no section for [{word}...]: add "
                 f'.SH "[{word}{" NAME" if s.endswith(" ") else ""}] SECTION..." '
                 f"with a .TP entry per key")
            continue
        for k in sorted(keys - have):
            fail(f"[{word}] {k}= is accepted by the parser but not documented in "
                 f"{os.path.basename(page)} (add a .TP entry \"{k}=\" under "
                 f'the [{word}...] section, with its default and range)')
        for k in sorted(have - keys):
            fail(f"[{word}] {k}= is documented in {os.path.basename(page)} but the "
                 f"parser does not accept it")
    for word in sorted(set(doc) - {s.strip() for s in sections}):
        fail(f"{os.path.basename(page)} documents a section [{word}...] the parser "
             f"does not accept")
    if total < 5:
        fail(f"only {total} keys found: the probe does not work")
    return finish("keys")


# ---------------------------------------------------------------------------
# options
# ---------------------------------------------------------------------------
def run_help(argv):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        fail(f"{' '.join(argv)} exited {p.returncode}")
    return p.stdout


def help_options(text):
    """Options of a --help text: the option column of lines indented by at
    most 6 blanks that start with '-' (descriptions are indented deeper)."""
    opts = set()
    for line in text.splitlines():
        m = re.match(r"^ {1,6}(-.*)$", line)
        if not m:
            continue
        column = re.split(r"\s{2,}", m.group(1))[0]
        opts |= set(re.findall(r"(?<![\w-])(--?[A-Za-z0-9][A-Za-z0-9-]*)", column))
    return opts


def help_commands(text):
    cmds, inside = [], False
    for line in text.splitlines():
        if re.match(r"^Commands?:", line):
            inside = True
            continue
        if inside:
            if not line.strip():
                break
            m = re.match(r"^  ([a-z][a-z0-9-]*)\b", line)
            if m:
                cmds.append(m.group(1))
    return cmds


def compare(what, helped, documented, where):
    for o in sorted(helped - documented):
        fail(f"{what}: {o} is in --help but not documented in {where}")
    for o in sorted(documented - helped):
        fail(f"{what}: {o} is documented in {where} but not in --help")


def cmd_options(cgsentry, cgsentryd, man_dir, src=None):
    page1 = os.path.join(man_dir, "cgsentry.1")
    page8 = os.path.join(man_dir, "cgsentryd.8")
    top = run_help([cgsentry, "--help"])
    cmds = help_commands(top)
    if not cmds:
        fail("cgsentry --help lists no commands")
    if src:
        # A command the tool dispatches must also be in its --help.
        with open(os.path.join(src, "daemon", "cgsentry.c"), encoding="utf-8") as f:
            dispatched = set(re.findall(r'strcmp\(argv\[1\],\s*"([a-z][a-z0-9-]*)"\)', f.read()))
        for c in sorted(dispatched - set(cmds) - {"help"}):
            fail(f"cgsentry dispatches '{c}' but cgsentry --help does not list it")
    secs = man_sections(page1)
    global_opts = set(re.findall(r"(--?[a-z][a-z-]*)", top.splitlines()[0])) | help_options(top)
    doc_global = set()
    for level, heading, lines in secs:
        if level == "SH" and heading == "OPTIONS":
            doc_global = tag_options(tp_tags(lines))
    compare("cgsentry", global_opts, doc_global, "cgsentry(1) OPTIONS")
    for c in cmds:
        helped = help_options(run_help([cgsentry, c, "--help"]))
        sub = [lines for level, heading, lines in secs
               if level == "SS" and re.split(r"\s+", heading.replace("cgsentry ", "", 1))[0] == c]
        if not sub:
            fail(f"cgsentry(1) has no subsection for '{c}': add "
                 f'.SS "{c} [OPTIONS] ..." under .SH COMMANDS with a .TP entry per option')
            continue
        compare(f"cgsentry {c}", helped, tag_options(tp_tags(sub[0])), f"cgsentry(1) '{c}'")
        print(f"cgsentry {c}: {' '.join(sorted(helped))}")
    documented_cmds = [re.split(r"\s+", h)[0] for level, h, _ in secs if level == "SS"]
    for c in documented_cmds:
        if c not in cmds:
            fail(f"cgsentry(1) documents a command '{c}' that cgsentry --help does not list")

    helped = help_options(run_help([cgsentryd, "--help"]))
    doc = set()
    for level, heading, lines in man_sections(page8):
        if level == "SH" and heading == "OPTIONS":
            doc = tag_options(tp_tags(lines))
    compare("cgsentryd", helped, doc, "cgsentryd(8) OPTIONS")
    print(f"cgsentryd: {' '.join(sorted(helped))}")
    return finish("options")


# ---------------------------------------------------------------------------
# lint
# ---------------------------------------------------------------------------
def cmd_lint(pages):
    if not shutil.which("man"):
        print("SKIPPED: man (man-db) is not installed")
        return 77
    env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80", MAN_KEEP_STDERR="1")
    for page in pages:
        p = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", page],
                           capture_output=True, text=True, env=env, timeout=60)
        if p.returncode != 0 or p.stderr.strip():
            fail(f"{page}: man --warnings: exit {p.returncode}\n{p.stderr.rstrip()}")
        elif len(p.stdout) < 200:
            fail(f"{page}: rendered to almost nothing")
        else:
            print(f"{os.path.basename(page)}: clean")
    return finish("lint")


def main(argv):
    if len(argv) >= 5 and argv[1] == "keys":
        return cmd_keys(argv[2], argv[3], argv[4])
    if len(argv) in (5, 6) and argv[1] == "options":
        return cmd_options(argv[2], argv[3], argv[4], argv[5] if len(argv) == 6 else None)
    if len(argv) >= 3 and argv[1] == "lint":
        return cmd_lint(argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env bash
# cgsentry run against a real kernel (runs inside the sandbox, as root).
# Usage: wrap.sh BUILD_DIR
set -u
CGSENTRY=$(cd "$1" && pwd)/daemon/cgsentry
CG=/sys/fs/cgroup
work=$(mktemp -d)
pass=0 failed=0

check() { # check DESCRIPTION COMMAND...
        local what=$1; shift
        if "$@"; then echo "ok - $what"; pass=$((pass + 1))
        else echo "not ok - $what"; failed=$((failed + 1)); fi
}
no_run_cgroups() { ! ls "$CG" | grep -q '^cgsentry-run-'; }
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {"d": d}))' "$@"; }

HOG='l = []
while True: l.append(b"\x01" * (1 << 20))'

# 1. A tree of four processes, one allocating without bound, in 64M.
marker=$work/parent-alive
touch "$marker"
"$CGSENTRY" run --memory-max 64M --json-report "$work/r1.json" -- \
        sh -c "sleep 300 & sleep 300 & python3 -c '$HOG' & wait" 2> "$work/err1"
rc=$?
check "runaway tree: exit 137" [ "$rc" = 137 ]
check "runaway tree: one line on stderr saying why" \
        bash -c "[ \$(wc -l < '$work/err1') = 1 ] && grep -q 'killed sh (4 processes) on tripwire' '$work/err1'"
check "runaway tree: all 4 processes gone" bash -c '! pgrep -x sleep >/dev/null && ! pgrep -f "l[.]append" >/dev/null'
check "runaway tree: killed by cgsentry before the kernel (oom_kill 0)" \
        [ "$(json "$work/r1.json" 'd["memory_events"]["oom_kill"]')" = 0 ]
check "runaway tree: report says cgsentry, tripwire" \
        [ "$(json "$work/r1.json" 'd["killed_by"] + "/" + d["trigger"]')" = cgsentry/tripwire ]
check "runaway tree: cgroup removed" no_run_cgroups
check "runaway tree: the calling shell is untouched" [ -e "$marker" ]

# 2. Well-behaved commands keep their exit status and output.
"$CGSENTRY" run --memory-max 64M -- true
check "exit 0 passes through" [ $? = 0 ]
"$CGSENTRY" run --memory-max 64M -- sh -c 'exit 3'
check "exit 3 passes through" [ $? = 3 ]
printf 'line one\n\001binary\377\n' > "$work/in"
"$CGSENTRY" run --memory-max 64M -- sh -c "cat '$work/in'; echo to-stderr >&2" \
        > "$work/out" 2> "$work/err"
check "stdout passes through unchanged" cmp -s "$work/in" "$work/out"
check "stderr passes through unchanged" [ "$(cat "$work/err")" = to-stderr ]
"$CGSENTRY" run --memory-max 64M -- python3 -c 'import time; time.sleep(30)' &
p=$!
sleep 1.5
kill -INT "$p"
wait "$p"
check "SIGINT is forwarded: exit 130" [ $? = 130 ]
"$CGSENTRY" run --memory-max 64M -- sleep 30 &
p=$!
sleep 1
kill -TERM "$p"
wait "$p"
check "SIGTERM is forwarded: exit 143, cgroup removed" bash -c "[ $? = 143 ] && ! ls $CG | grep -q '^cgsentry-run-'"

# 3. A container-style tree in new namespaces is wrapped and killed whole.
"$CGSENTRY" run --memory-max 64M --json-report "$work/r3.json" -- \
        unshare --fork --pid --mount-proc sh -c "sleep 300 & sleep 300 & python3 -c '$HOG'" 2>/dev/null
rc=$?
check "unshare --pid --fork tree: exit 137" [ "$rc" = 137 ]
check "unshare tree: every process gone" bash -c '! pgrep -x sleep >/dev/null && ! pgrep -x unshare >/dev/null'
check "unshare tree: before the kernel (oom_kill 0)" \
        [ "$(json "$work/r3.json" 'd["memory_events"]["oom_kill"]')" = 0 ]

# 4. --tripwire off leaves the limit to the kernel; the tree still dies whole
#    (memory.oom.group is set, and cgsentry finishes what the kernel started).
"$CGSENTRY" run --memory-max 64M --tripwire off --json-report "$work/r4.json" -- \
        sh -c "sleep 300 & python3 -c '$HOG'; wait" 2> "$work/err4"
rc=$?
check "--tripwire off: the kernel kills (oom_kill >= 1)" \
        [ "$(json "$work/r4.json" 'd["memory_events"]["oom_kill"] >= 1')" = True ]
check "--tripwire off: nothing left of the tree" bash -c '! pgrep -x sleep >/dev/null'

# 5. --keep and --name.
"$CGSENTRY" run --memory-max 32M --name keepme --keep -- true
check "--keep --name keeps /keepme with memory.max 32M" \
        [ "$(cat $CG/keepme/memory.max 2>/dev/null)" = 33554432 ]
rmdir "$CG/keepme" 2>/dev/null

# 6. --parent: a delegated slice.
mkdir -p "$CG/jobs.slice"
"$CGSENTRY" run --parent jobs.slice --name j1 --memory-max 64M --keep -- true
check "--parent jobs.slice creates jobs.slice/j1" [ -d "$CG/jobs.slice/j1" ]
rmdir "$CG/jobs.slice/j1" "$CG/jobs.slice" 2>/dev/null

# 7. Bad input: a clear error, exit 2, nothing created.
bad() { # bad DESCRIPTION EXPECTED-STDERR-PATTERN ARGS...
        local what=$1 pat=$2; shift 2
        "$CGSENTRY" run "$@" > /dev/null 2> "$work/bad"
        local rc=$?
        check "$what: exit 2, says why, creates nothing" \
                bash -c "[ $rc = 2 ] && grep -q -- '$pat' '$work/bad' && ! ls $CG | grep -q '^cgsentry-run-'"
}
bad "bad size" "invalid size" --memory-max lots -- true
bad "negative size" "invalid size" --memory-max -5M -- true
bad "missing command" "missing COMMAND" --memory-max 64M
bad "bad tripwire" "--tripwire" --tripwire 150 -- true
bad "bad pressure" "--pressure sometimes: expected" --pressure "sometimes" -- true
bad "pressure window out of range" "from 500ms to 10s" --pressure "some 20% 11s" -- true
bad "tripwire nan" "--tripwire nan%: expected a percentage" --tripwire "nan%" -- true
# A newline in an option is not a second configuration line any more.
bad "policy with a newline" "--policy" --policy "$(printf 'kernel\nDryRun=yes')" -- true
bad "missing parent" "cannot open" --parent no/such/parent -- true
CGSENTRY_CGROUP_ROOT=$work bad "no cgroup v2 mount" "not a cgroup v2 mount" -- true

rm -rf "$work"
echo "wrap: $pass passed, $failed failed"
[ "$failed" = 0 ]

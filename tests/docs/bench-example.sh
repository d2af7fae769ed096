#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The committed bench example (bench/example) is what the report renderer
# makes of its raw results: render them again and compare with report.md,
# but for its title (the run's directory name) and the wall-time line that
# bench/run.sh appends. Fails when the renderer breaks or drifts from the
# published example; re-render with
#   python3 bench/arena.py report bench/example
# and keep the first and the last lines of the old report.
set -euo pipefail
root=${1:?usage: bench-example.sh SOURCE_DIR}
ex=$root/bench/example
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$root/bench/arena.py" report "$ex" | sed 1d >"$tmp/rendered"
sed -e 1d -e '/^Wall time of bench\/run.sh/,$d' "$ex/report.md" >"$tmp/committed"
# bench/run.sh separates the wall-time line with an empty line.
sed -i -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$tmp/rendered" "$tmp/committed"
if ! diff -u "$tmp/committed" "$tmp/rendered"; then
        echo "not ok - bench/example/report.md is not what bench/report.py renders from its results"
        exit 1
fi
n=$(grep -c '^## ' "$tmp/rendered")
for s in fast forkhogs leak thrash swap squeeze scale; do
        grep -q "(\`$s\`" "$tmp/rendered" || { echo "not ok - scenario $s missing"; exit 1; }
done
echo "ok - bench/example/report.md re-rendered from its results ($n sections, every scenario)"

#!/usr/bin/env bash
# Copies the tables of the last `make bench` (bench/results.md) into
# bench/README.md: everything between the two bench markers is replaced.
# The README keeps only a summary and the chart.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f bench/results.md ] || { echo "readme-bench: no bench/results.md; run make bench" >&2; exit 1; }
python3 - <<'PY'
import re
readme = open("bench/README.md").read()
body = open("bench/results.md").read()
# The tables' own headings sit one level below the section.
body = re.sub(r"^## ", "### ", body, flags=re.M)
begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
i, j = readme.index(begin) + len(begin), readme.index(end)
open("bench/README.md", "w").write(readme[:i] + "\n" + body.strip() + "\n" + readme[j:])
PY

#!/usr/bin/env bash
# Regenerates the README's benchmark section from bench/results.md (written by
# `make bench`): everything between the two bench markers is replaced.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f bench/results.md ] || { echo "readme-bench: no bench/results.md; run make bench" >&2; exit 1; }
python3 - <<'PY'
import re
readme = open("README.md").read()
body = open("bench/results.md").read().replace("](results.png)", "](bench/results.png)")
# The tables' own headings sit one level below the README's section.
body = re.sub(r"^### ", "#### ", body, flags=re.M)
begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
i, j = readme.index(begin) + len(begin), readme.index(end)
open("README.md", "w").write(readme[:i] + "\n" + body.strip() + "\n" + readme[j:])
PY

#!/usr/bin/env bash
# Regenerates toy-models/REPRODUCTION.md from this session's run directories (see the report for the commands).
# Commits: the run directories were produced by jars built from these commits of branch `toy`.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
/usr/bin/python3 "$here/toy-models/tools/reproduction_report.py" \
  --runs /tmp/toy-full --quick /tmp/toy-quick2 --bench /tmp/toy-bench --out "$here/toy-models/REPRODUCTION.md" \
  --commit tms-intro=a538347 --commit fig1=a538347 --commit fig2=a538347 --commit fig5=a538347 --commit fig6=a538347 \
  --commit table1=40d9714 --commit fig4=ceb4ff8 --commit tms-geometry=ceb4ff8 --commit fig3=ceb4ff8 --commit loss=ceb4ff8 \
  --commit bench:fig3=40d9714 --commit bench:fig4=40d9714 --commit bench:fig4-moescope-final=ceb4ff8 \
  --commit bench:fig4-final=ceb4ff8 --commit bench:fig3-final=ceb4ff8 \
  --load "fig3=7.44 before / 6.41 after" --load "fig4=6.41 / 4.36" --load "fig4-moescope-final=3.38 / 2.83" \
  --load "fig4-final=3.08 / 2.43" --load "fig3-final=2.74 / 3.06"

#!/usr/bin/env bash
# Regenerates toy-models/REPRODUCTION.md from the run directories of the sessions that produced them (see the
# report for each run's command). The first --runs directory holding a run wins: /tmp/toy-full5 holds the fourth and
# fifth sessions' runs (Fig 4 B.E2, B.E3, C.E3, the 5-run loss figure (resumed in the fifth session with the same
# jar) and the 10-seed Fig 4 B.E1, C.E1 and C.E2) and the sixth session's (the 10-seed Fig 4 B.E2, B.E3 and C.E3,
# same jar), /tmp/toy-full4 the third
# session's runs (fig3 and fig4-full-A.E2 are links to the stages of `moescope demo --full --out /tmp/demo-full`),
# /tmp/toy-full3 the second session's, /tmp/toy-full and /tmp/toy-quick2 the first's.
# Commits: the run directories were produced by jars built from these commits of branch `toy`.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
/usr/bin/python3 "$here/toy-models/tools/reproduction_report.py" \
  --runs /tmp/toy-full5 --runs /tmp/toy-full4 --runs /tmp/toy-full3 --runs /tmp/toy-full --quick /tmp/toy-quick2 --bench /tmp/toy-bench \
  --out "$here/toy-models/REPRODUCTION.md" \
  --reference-fig2 "12 seeds, Xavier output biases=/tmp/toyx/ref-xavier.json" \
  --commit tms-intro=a538347 --commit fig1=a538347 --commit fig6=a538347 \
  --commit fig4=ceb4ff8 --commit fig3=ceb4ff8 --commit loss=ceb4ff8 \
  --commit fig4-paper-seeds=ceb4ff8 --commit fig4-full-A.E1=ceb4ff8 --commit fig4-grid-A.E2=ceb4ff8 \
  --commit /tmp/toy-full/fig2=a538347 --commit /tmp/toy-full/fig5=a538347 \
  --commit /tmp/toy-full/table1=40d9714 --commit /tmp/toy-full/tms-geometry=ceb4ff8 \
  --commit /tmp/toy-full3/fig2=a3f4a28 --commit /tmp/toy-full3/fig2-zero-bias=a3f4a28 \
  --commit /tmp/toy-full3/tms-geometry=a3f4a28 --commit /tmp/toy-full3/table1=a3f4a28 \
  --commit /tmp/toy-full3/fig4-full-C.E1=155810d --commit /tmp/toy-full3/fig4-full-B.E1=88f6789 \
  --commit /tmp/toy-full3/fig5=88f6789 --commit /tmp/toy-full3/fig5-zero-bias=88f6789 \
  --commit /tmp/toy-full3/fig5-torch-roundoff=88f6789 --commit /tmp/toy-full3/fig5-zero-bias-torch-roundoff=88f6789 \
  --commit /tmp/demo-full/toy/fig3=378eae4 --commit /tmp/demo-full/toy/fig4=378eae4 \
  --commit /tmp/toy-full4/table1=378eae4 --commit /tmp/toy-full4/fig4-full-C.E2=378eae4 \
  --commit /tmp/toy-full4/fig4-full-B.E2=378eae4 --commit /tmp/toy-full4/fig4-full-C.E3=378eae4 \
  --commit /tmp/toy-full4/fig4-full-B.E3=378eae4 \
  --commit /tmp/toy-full5/fig4-full-B.E2=22893ea --commit /tmp/toy-full5/fig4-full-B.E3=93e711d \
  --commit /tmp/toy-full5/fig4-full-C.E3=93e711d --commit /tmp/toy-full5/loss=93e711d \
  --commit /tmp/toy-full5/fig4-full10-B.E1=93e711d --commit /tmp/toy-full5/fig4-full10-C.E1=93e711d \
  --commit /tmp/toy-full5/fig4-full10-C.E2=93e711d --commit /tmp/toy-full5/fig4-full10-B.E2=93e711d \
  --commit /tmp/toy-full5/fig4-full10-B.E3=93e711d --commit /tmp/toy-full5/fig4-full10-C.E3=93e711d \
  --commit bench:fig3-session4=93e711d --commit bench:fig3-session4-again=93e711d \
  --commit bench:fig3-session4-previous-kernel=22893ea \
  --commit bench:fig3=40d9714 --commit bench:fig4=40d9714 --commit bench:fig4-moescope-final=ceb4ff8 \
  --commit bench:fig4-final=ceb4ff8 --commit bench:fig3-final=ceb4ff8 \
  --load "fig3=7.44 before / 6.41 after" --load "fig4=6.41 / 4.36" --load "fig4-moescope-final=3.38 / 2.83" \
  --load "fig4-final=3.08 / 2.43" --load "fig3-final=2.74 / 3.06" \
  --load "fig3-session4=2.00 / 1.87" --load "fig3-session4-previous-kernel=1.87 / 1.82" \
  --load "fig3-session4-again=1.87 / 1.82"

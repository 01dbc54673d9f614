#!/bin/bash
# Engine benchmarks of two builds side by side, alternating (ABBA) so host drift hits both alike:
#   scripts/ab-bench.sh OLD_ROOT NEW_ROOT [ROUNDS]     (each ROOT holds a built dist/ and node_modules/)
# Prints ms/step medians of `minnow bench train-step` and `minnow bench mlm-step` per run.
set -euo pipefail
old=$1 new=$2 rounds=${3:-3}
ms() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).ms_per_step_median.toFixed(2)))'; }
ts() { node "$1/dist/cli/main.js" bench train-step --threads 2 --no-peer --no-real-vocab --reps 5 --steps 10 --json --out /tmp/ab-ts.json 2>/dev/null | ms; }
mlm() { node "$1/dist/cli/main.js" bench mlm-step --preset eelbert-tiny --threads 2 --reps 5 --steps 10 --json --out /tmp/ab-mlm.json 2>/dev/null | ms; }
for r in $(seq "$rounds"); do
  echo "round $r train-step old $(ts "$old") new $(ts "$new") new $(ts "$new") old $(ts "$old")"
  echo "round $r mlm-step   old $(mlm "$old") new $(mlm "$new") new $(mlm "$new") old $(mlm "$old")"
done

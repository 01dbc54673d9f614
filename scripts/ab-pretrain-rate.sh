#!/bin/bash
# Pre-training throughput of two builds side by side: per model, REPS rounds of one run of OLD then one of
# NEW, each 100 updates of the budget curve's recipe (batch 16, seq 128, lr 1e-3, 2 threads, seed 0) on
# gutenberg_train; prints each run's JSON result line (tokens_per_s: the training loop's) and the medians.
#   scripts/ab-pretrain-rate.sh OLD_ROOT NEW_ROOT REPS "MODEL FLAGS" ["MODEL FLAGS" ...]
# Each ROOT holds a built dist/ (a frozen copy: cp -r dist assets package.json ROOT). Run it alone.
# e.g. scripts/ab-pretrain-rate.sh runs/frozen-s8 runs/frozen-s9 3 "--preset uno-lowrank --lowrank-dim 4" "--preset bert-tiny"
set -euo pipefail
if [ $# -lt 4 ]; then sed -n 2,7p "$0" >&2; exit 2; fi
old=$1 new=$2 reps=$3
shift 3
corpus=${SHARED:-../shared}/data/corpus/gutenberg_train.txt
rate() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s.trim().split("\n").pop()).tokens_per_s))'; }
med() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }  # the median of the numbers on stdin
for model in "$@"; do
  declare -A all=([old]="" [new]="")
  for rep in $(seq "$reps"); do
    for build in old new; do
      root=${!build}
      out=$(mktemp -d)
      # shellcheck disable=SC2086
      r=$(node "$root/dist/cli/main.js" pretrain $model --corpus "$corpus" --out "$out" --tokens 201600 \
        --cache-dir runs/curve/cache --batch-size 16 --lr 1e-3 --seq-len 128 --threads 2 --seed 0 \
        --checkpoint-every 0 --json 2>/dev/null | tail -1)
      rm -rf "$out"
      echo "$model | $build $root | rep $rep | $r"
      all[$build]+="$(echo "$r" | rate) "
    done
  done
  o=$(echo "${all[old]}" | med) n=$(echo "${all[new]}" | med)
  echo "$model | median tokens/s: old $o, new $n, new/old $(awk -v a="$n" -v b="$o" 'BEGIN {printf "%.2f", a/b}')"
done

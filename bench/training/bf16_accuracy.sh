#!/usr/bin/env bash
# Does bf16 cost accuracy? Runs the same quantized distillation spec twice with the same seed, once
# with `precision: fp32` and once with `precision: auto` (bf16 autocast with fp32 master weights
# where the CPU has native bf16), on the generated `shapes` set and on the MNIST split (the 10,000
# t10k images: 8,000 train, 2,000 test), and prints both final test accuracies and the difference.
# The requirement: |auto - fp32| <= 0.5 points for each dataset.
#
# usage: bench/training/bf16_accuracy.sh [--seeds 1[,2,...]] [--datasets shapes,mnist]
#                                        [--teacher-epochs 4] [--epochs 4] [--shapes-subset N]
#                                        [--mnist DIR] [--keep DIR]
#
# Runs go through `quantstudio train --spec S.json --out DIR` (QuantStudio.Cli, Release build).
# The MNIST folder defaults to ../shared/data/mnist-t10k next to the repository; without it the
# MNIST part is skipped with a note.
set -euo pipefail
cd "$(dirname "$0")"
repo=$(cd ../.. && pwd)
source ../lib/side-by-side.sh

seeds=1 datasets=shapes,mnist teacher_epochs=4 epochs=4 shapes_subset="" mnist="" keep=""
while [[ $# -gt 0 ]]; do
  [[ $# -ge 2 ]] || { echo "$1 needs a value" >&2; exit 2; }
  case "$1" in
    --seeds) seeds=$2 ;;
    --datasets) datasets=$2 ;;
    --teacher-epochs) teacher_epochs=$2 ;;
    --epochs) epochs=$2 ;;
    --shapes-subset) shapes_subset=$2 ;;
    --mnist) mnist=$2 ;;
    --keep) keep=$2 ;;
    *) echo "unknown option $1 (options: --seeds --datasets --teacher-epochs --epochs --shapes-subset --mnist --keep)" >&2; exit 2 ;;
  esac
  shift 2
done
mnist=${mnist:-$repo/../shared/data/mnist-t10k}

find_python json
require_openblas
if ! build_log=$(dotnet build "$repo/QuantStudio.Cli/QuantStudio.Cli.csproj" -c Release -nologo -v q 2>&1); then
  echo "$build_log" >&2; echo "building QuantStudio.Cli failed" >&2; exit 1
fi
cli=$repo/QuantStudio.Cli/bin/Release/net10.0/quantstudio.dll
train() { dotnet "$cli" train --spec "$1" --out "$2"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

spec() {  # spec <dataset> <precision> <seed>: the spec JSON on stdout
  local dataset=$1 precision=$2 seed=$3 root="" subset="" teacher student lr
  case "$dataset" in
    shapes)
      teacher=cifar-student-1 student=cifar-student-2 lr=0.05
      [[ -n "$shapes_subset" ]] && subset=", \"subset\": $shapes_subset" ;;
    mnist)
      # LeNet has no batch norm: distilled at 0.05 its first steps can silence its ReLUs (see mnist_check.sh).
      teacher=lenet5 student=lenet5-small lr=0.01
      root=", \"root\": \"$mnist\"" ;;
  esac
  cat <<EOF
{
  "name": "bf16 accuracy check: $dataset, $precision, seed $seed",
  "seed": $seed,
  "dataset": { "name": "$dataset"$root, "validation_split": 0.2, "augment": false$subset },
  "teacher": { "arch": "$teacher", "train": { "lr": 0.05, "epochs": $teacher_epochs, "batch_size": 64 } },
  "student": { "arch": "$student" },
  "method": "quantized_distillation",
  "quantization": { "bits": 4, "bucket_size": 256 },
  "distillation": { "temperature": 2.0, "alpha": 0.7 },
  "optimizer": { "name": "sgd", "lr": $lr, "momentum": 0.9, "nesterov": true, "weight_decay": 5e-4, "schedule": "cosine", "epochs": $epochs, "batch_size": 64 },
  "precision": "$precision",
  "channels_last": true
}
EOF
}

field() {  # field <summary.json> <name>
  "$python" -c 'import json, sys; v = json.load(open(sys.argv[1])).get(sys.argv[2]); print("" if v is None else v)' "$1" "$2"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
IFS=, read -r -a dataset_list <<<"$datasets"
IFS=, read -r -a seed_list <<<"$seeds"
for d in "${dataset_list[@]}"; do
  if [[ "$d" == mnist && ! -e "$mnist/t10k-images-idx3-ubyte.gz" ]]; then
    echo "dataset=mnist skipped: no MNIST test files in $mnist (pass --mnist DIR)"
    continue
  fi
  for s in "${seed_list[@]}"; do
    declare -A acc=() used=()
    for p in fp32 auto; do
      out=$work/$d-$s-$p
      mkdir -p "$out"
      spec "$d" "$p" "$s" >"$out/spec.json"
      if ! train "$out/spec.json" "$out" >"$out/stdout" 2>"$out/stderr"; then
        cat "$out/stdout" "$out/stderr" >&2
        echo "the $p run on $d (seed $s) failed" >&2
        exit 1
      fi
      acc[$p]=$(field "$out/summary.json" student_accuracy)
      used[$p]=$(field "$out/summary.json" precision)
    done
    "$python" - "$d" "$s" "${acc[fp32]}" "${acc[auto]}" "${used[auto]}" <<'EOF' || status=1
import sys
d, s, fp32, auto, used = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
diff = 100 * (auto - fp32)
ok = abs(diff) <= 0.5
print(f"dataset={d:<7} seed={s} accuracy_fp32={100 * fp32:.2f} accuracy_auto={100 * auto:.2f} (auto ran as {used or 'unknown'}) "
      f"difference={diff:+.2f} points {'within' if ok else 'NOT within'} 0.5")
sys.exit(0 if ok else 1)
EOF
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ -n "$keep" ]]; then
  mkdir -p "$keep"
  cp -r "$work"/. "$keep"/
  echo "runs kept in $keep"
fi
exit $status

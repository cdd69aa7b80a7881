#!/usr/bin/env bash
# Quantized distillation, side by side: QuantStudio's trainer (QdBench) against the same work in
# plain PyTorch (pytorch_qd.py), on the same data files, batch, thread count and BLAS, in one run.
#
# usage: bench/training/run.sh [--epochs 10] [--train 2048] [--test 256] [--batch 64] [--threads 2]
#                              [--rounds 1] [--configs reuse_best-vs-fp32,fp32_augment,reuse_best-vs-bf16_cl]
#                              [--data DIR] [--keep-logs DIR] [--pytorch-retains-memory] [--pytorch-passive-omp]
#                              [--no-qd-overhead]
#
# Configurations (ours vs PyTorch, goal for ours / PyTorch):
#   reuse_best-vs-fp32        ours: teacher-logit reuse, precision auto (measured at the start: the faster of
#                             fp32 and bf16), channels_last, no augmentation
#                             PyTorch: plain fp32, teacher forward every step              goal >= 2.5
#   fp32_augment              both fp32 with augmentation (no reuse possible on our side)   goal >= 1.15
#   reuse_best-vs-bf16_cl     ours as in the first; PyTorch with bf16 autocast and
#                             channels_last, teacher forward every step                     (no goal)
#
# Timing: whole training epochs on both sides, data loading and the teacher included. Ours counts
# all --epochs epochs, the first included (it builds the teacher-logit table and warms up);
# PyTorch runs one untimed warm-up epoch, then --epochs timed ones. Within each round every
# configuration runs once per side, alternating which side goes first; with several rounds the
# best round of each side is reported (the run least disturbed by other work on a shared machine).
#
# Then, unless --no-qd-overhead, our side once more (QdBench --versus-full-precision): quantized
# distillation and the same student trained in full precision, one after the other in one process, with
# teacher-logit reuse, fp32 and channels_last, and their epoch-time ratio.
#
# Our side calls NativeMemory.RetainFreedMemory() as a QuantStudio training process does; PyTorch runs
# with the C library's defaults unless --pytorch-retains-memory gives it the same glibc settings
# (MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_), as in bench/engine. Our side's OpenMP threads sleep between
# parallel regions (OMP_WAIT_POLICY=PASSIVE, QuantStudio's default); PyTorch's spin, as its users get it, unless
# --pytorch-passive-omp gives it the same policy.
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)

epochs=10 train=2048 test=256 batch=64 threads=2 rounds=1 data="" keep=""
configs=reuse_best-vs-fp32,fp32_augment,reuse_best-vs-bf16_cl
pytorch_env=()
qd_overhead=1
while [[ $# -gt 0 ]]; do
  if [[ "$1" == --pytorch-retains-memory ]]; then
    pytorch_env+=(MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824); shift; continue
  fi
  if [[ "$1" == --pytorch-passive-omp ]]; then
    pytorch_env+=(OMP_WAIT_POLICY=PASSIVE); shift; continue
  fi
  if [[ "$1" == --no-qd-overhead ]]; then
    qd_overhead=0; shift; continue
  fi
  [[ $# -ge 2 ]] || { echo "$1 needs a value" >&2; exit 2; }
  case "$1" in
    --epochs) epochs=$2 ;;
    --train) train=$2 ;;
    --test) test=$2 ;;
    --batch) batch=$2 ;;
    --threads) threads=$2 ;;
    --rounds) rounds=$2 ;;
    --configs) configs=$2 ;;
    --data) data=$2 ;;
    --keep-logs) keep=$2 ;;
    *) echo "unknown option $1 (options: --epochs --train --test --batch --threads --rounds --configs --data --keep-logs --pytorch-retains-memory --pytorch-passive-omp --no-qd-overhead)" >&2; exit 2 ;;
  esac
  shift 2
done

# --- Python with torch, and OpenBLAS on both sides.
source ../lib/side-by-side.sh
find_python torch numpy
require_openblas

# --- Build our side (not part of QuantStudio.sln; QuantStudio.Core brings TorchSharp and its libtorch).
if ! build_log=$(dotnet build QdBench/QdBench.csproj -c Release -nologo -v q 2>&1); then
  echo "$build_log" >&2
  echo "building QdBench failed" >&2
  exit 1
fi

log=$(mktemp -d)
child=""
# An interrupted run stops the side that is running, too.
trap 'if [[ -n "$child" ]]; then kill "$child" 2>/dev/null || true; fi; rm -rf "$log"' EXIT
trap 'exit 130' INT TERM
# --- The shared data: one CIFAR-10 binary folder both sides read (kept when --data names a folder).
if [[ -z "$data" ]]; then
  data=$log/data
fi
if [[ ! -e "$data/cifar-10-batches-bin/test_batch.bin" ]]; then
  "$python" make_data.py --out "$data" --train "$train" --test "$test" --seed 1 >&2
fi

ours_cmd() {  # ours_cmd <config>: the QdBench arguments of our side of a configuration
  case "$1" in
    reuse_best-vs-*) echo "--precision auto --channels-last" ;;
    fp32_augment) echo "--precision fp32 --no-channels-last --augment" ;;
  esac
}
pytorch_cmd() {
  case "$1" in
    *-vs-fp32) echo "--precision fp32" ;;
    *-vs-bf16_cl) echo "--precision bf16 --channels-last" ;;
    fp32_augment) echo "--precision fp32 --augment" ;;
  esac
}
goal() {
  case "$1" in
    *-vs-fp32) echo 2.5 ;;
    *-vs-bf16_cl) echo - ;;
    fp32_augment) echo 1.15 ;;
  esac
}

IFS=, read -r -a config_list <<<"$configs"
for c in "${config_list[@]}"; do
  [[ -n "$(goal "$c")" ]] || { echo "unknown configuration '$c' (known: reuse_best-vs-fp32, fp32_augment, reuse_best-vs-bf16_cl)" >&2; exit 2; }
done

run_ours() {  # run_ours <config> <round>
  # shellcheck disable=SC2046
  DOTNET_PROCESSOR_COUNT=$threads dotnet QdBench/bin/Release/net10.0/QdBench.dll --data "$data" --epochs "$epochs" \
    --batch "$batch" --threads "$threads" $(ours_cmd "$1") >"$log/ours.$1.$2" 2>"$log/ours.$1.$2.err" &
  child=$!
  if ! wait "$child"; then
    cat "$log/ours.$1.$2" "$log/ours.$1.$2.err" >&2
    echo "our side failed on $1" >&2
    exit 1
  fi
}
run_pytorch() {
  # shellcheck disable=SC2046
  env "${pytorch_env[@]}" "$python" pytorch_qd.py --data "$data" --epochs "$epochs" --batch "$batch" --threads "$threads" \
    $(pytorch_cmd "$1") >"$log/pytorch.$1.$2" 2>"$log/pytorch.$1.$2.err" &
  child=$!
  if ! wait "$child"; then
    cat "$log/pytorch.$1.$2" "$log/pytorch.$1.$2.err" >&2
    echo "the PyTorch side failed on $1" >&2
    exit 1
  fi
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start=$SECONDS
turn=0
for ((r = 1; r <= rounds; r++)); do
  for c in "${config_list[@]}"; do
    if ((turn++ % 2 == 0)); then
      echo "round $r: $c (ours first)" >&2
      run_ours "$c" "$r"; run_pytorch "$c" "$r"
    else
      echo "round $r: $c (PyTorch first)" >&2
      run_pytorch "$c" "$r"; run_ours "$c" "$r"
    fi
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

first_c=${config_list[0]}
echo "ours:    $(grep -m1 '^libtorch' "$log/ours.$first_c.1.err")"
echo "ours:    $(grep -m1 '^blas' "$log/ours.$first_c.1.err")"
echo "pytorch: $(grep -m1 '^pytorch' "$log/pytorch.$first_c.1.err")"
echo "pytorch: $(grep -m1 '^blas' "$log/pytorch.$first_c.1.err")"
echo "pytorch: environment ${pytorch_env[*]:-defaults (glibc allocator, OpenMP spin-waits)}"
echo "quantized distillation, cifar-teacher -> cifar-student-1, 4 bits, buckets of 256; $train training examples,"
echo "batch $batch, $threads threads, $epochs epochs (PyTorch: +1 untimed warm-up), best of $rounds round(s), $((SECONDS - start)) s"
echo "load average (1/5/15 min): before $load_before, after $load_after"
# quiet <file> <side>: the rate a run would have had if each epoch after the first had run like its
# fastest one, E*N / (t_1 + (E-1)*min t_k) for ours (the first epoch holds the teacher-logit table)
# and N / min t_k for PyTorch (its first timed epoch follows a warm-up). On a machine shared with
# other work this shows how much of the whole-run figure is disturbance.
quiet() {
  awk -v side="$2" '
    /^epoch=/ {
      for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
      n = f["samples_per_s"] * f["seconds"]; e++
      if (e == 1) first = f["seconds"]
      if ((side == "pytorch" || e > 1) && (min == "" || f["seconds"] < min)) min = f["seconds"]
    }
    END {
      if (e == 0) { print 0; exit }
      if (side == "pytorch" || e == 1) printf "%.1f", n / (min == "" ? first : min)
      else printf "%.1f", e * n / (first + (e - 1) * min)
    }' "$1"
}
for c in "${config_list[@]}"; do
  best() {  # best <side> <measure>: the highest figure of a side over the rounds
    local m=0 v
    for ((r = 1; r <= rounds; r++)); do
      if [[ $2 == whole ]]; then
        v=$(awk -F= '$1 == "samples_per_s" { print $2 }' "$log/$1.$c.$r")
      else
        v=$(quiet "$log/$1.$c.$r" "$1")
      fi
      m=$(awk -v a="$m" -v b="$v" 'BEGIN { print (b + 0 > a + 0 ? b : a) }')
    done
    echo "$m"
  }
  o=$(best ours whole)
  p=$(best pytorch whole)
  qo=$(best ours quiet)
  qp=$(best pytorch quiet)
  awk -v c="$c" -v o="$o" -v p="$p" -v qo="$qo" -v qp="$qp" -v g="$(goal "$c")" \
    'BEGIN { r = o / p; printf "config=%-25s samples_per_s_ours=%-8s samples_per_s_pytorch=%-8s ratio=%.2f goal=%s %-7s (fastest-epoch estimate: %s / %s = %.2f)\n", c, o, p, r, g, (g == "-" ? "" : r >= g ? "met" : "not met"), qo, qp, qo / qp }'
done
if ((qd_overhead)); then
  echo "ours, quantized distillation over full precision (one process, teacher-logit reuse, fp32, channels_last, $epochs epochs):"
  DOTNET_PROCESSOR_COUNT=$threads dotnet QdBench/bin/Release/net10.0/QdBench.dll --data "$data" --epochs "$epochs" \
    --batch "$batch" --threads "$threads" --precision fp32 --channels-last --versus-full-precision \
    >"$log/ours.qd_overhead" 2>"$log/ours.qd_overhead.err" &
  child=$!
  if ! wait "$child"; then
    cat "$log/ours.qd_overhead" "$log/ours.qd_overhead.err" >&2
    echo "our side failed on --versus-full-precision" >&2
    exit 1
  fi
  child=""
  awk -F= '$1 == "samples_per_s" { printf "samples_per_s_qd=%s  ", $2 } $1 == "fp_samples_per_s" { printf "samples_per_s_full_precision=%s  ", $2 }
    $1 == "qd_over_fp_epoch_time" { sub(/^qd_over_fp_epoch_time=/, ""); print "qd_over_fp_epoch_time=" $0 }' "$log/ours.qd_overhead"
fi
if [[ -n "$keep" ]]; then
  mkdir -p "$keep"
  cp "$log"/ours.* "$log"/pytorch.* "$keep"/
  echo "logs kept in $keep"
fi

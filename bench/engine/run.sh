#!/usr/bin/env bash
# Runs the same training step (CIFAR-10 student, batch 64, 2 threads, SGD momentum 0.9) through
# TorchSharp with QuantStudio's layers (EngineBench) and through plain PyTorch, side by side, for four
# configurations: fp32, channels_last, bf16 (ours: ComputePrecision.Bf16; PyTorch: autocast), bf16 +
# channels_last. Then, unless --no-efficiency, our side once more per configuration: the fp32 GEMM rate
# of a 2048x2048 matrix product and the step's achieved GFLOP/s as a fraction of it.
#
# usage: bench/engine/run.sh [--rounds N] [--warmup N] [--steps N] [--threads N] [--batch N] [--configs a,b]
#                            [--pytorch-retains-memory] [--no-efficiency]
#
# Our side calls NativeMemory.RetainFreedMemory() (glibc keeps freed activations in the process), as
# `quantstudio train` does; PyTorch runs with the C library's defaults. With
# --pytorch-retains-memory the PyTorch process gets the same glibc settings through
# MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_, leaving only the binding itself compared.
#
# Each round runs every configuration once on each side, alternating which side goes first, and
# the best round of each side is reported: on a shared machine the fastest run is the one least
# disturbed by other work.
set -euo pipefail
cd "$(dirname "$0")"

rounds=3 warmup=5 steps=20 threads=2 batch=64 configs=fp32,channels_last,bf16,bf16_channels_last
pytorch_env=()
efficiency=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --pytorch-retains-memory) pytorch_env=(MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824); shift; continue ;;
    --no-efficiency) efficiency=0; shift; continue ;;
    --rounds) rounds=$2 ;;
    --warmup) warmup=$2 ;;
    --steps) steps=$2 ;;
    --threads) threads=$2 ;;
    --batch) batch=$2 ;;
    --configs) configs=$2 ;;
    *) echo "unknown option $1 (options: --rounds --warmup --steps --threads --batch --configs --pytorch-retains-memory --no-efficiency)" >&2; exit 2 ;;
  esac
  shift 2
done

# --- Python with torch, and OpenBLAS on both sides.
source ../lib/side-by-side.sh
find_python torch
require_openblas

# --- Build our side (not part of QuantStudio.sln; QuantStudio.Core brings TorchSharp and its libtorch).
if ! build_log=$(dotnet build EngineBench/EngineBench.csproj -c Release -nologo -v q 2>&1); then
  echo "$build_log" >&2
  echo "building EngineBench failed" >&2
  exit 1
fi
ours=(dotnet EngineBench/bin/Release/net10.0/EngineBench.dll)
common=(--threads "$threads" --batch "$batch" --warmup "$warmup" --steps "$steps")

log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
run_ours() {  # run_ours <args...>: our side, its stdout to $log/ours; on failure shows why and stops
  if ! "${ours[@]}" "$@" >>"$log/ours" 2>>"$log/ours.err"; then
    tail -5 "$log/ours.err" >&2
    echo "our side failed ($*)" >&2
    exit 1
  fi
}
run_pytorch() {
  if ! env "${pytorch_env[@]}" "$python" pytorch_step.py "$@" >>"$log/pytorch" 2>>"$log/pytorch.err"; then
    tail -5 "$log/pytorch.err" >&2
    echo "the PyTorch side failed ($*)" >&2
    exit 1
  fi
}
IFS=, read -r -a config_list <<<"$configs"
for ((r = 1; r <= rounds; r++)); do
  for c in "${config_list[@]}"; do
    if ((r % 2)); then
      run_ours "${common[@]}" --configs "$c"
      run_pytorch "${common[@]}" --configs "$c"
    else
      run_pytorch "${common[@]}" --configs "$c"
      run_ours "${common[@]}" --configs "$c"
    fi
  done
done

echo "ours:    $(grep -m1 '^libtorch' "$log/ours.err")"
echo "ours:    $(grep -m1 '^blas' "$log/ours.err")"
echo "pytorch: $(grep -m1 '^pytorch' "$log/pytorch.err")"
echo "pytorch: $(grep -m1 '^blas' "$log/pytorch.err")"
echo "pytorch: glibc allocator ${pytorch_env[*]:-defaults}"
echo "batch $batch, threads $threads, warm-up $warmup, timed steps $steps, best of $rounds rounds"
for c in "${config_list[@]}"; do
  best() { awk -v c="$c" '$1 == c { split($2, kv, "="); if (kv[2] > m) m = kv[2] } END { printf "%.1f", m }' "$1"; }
  o=$(best "$log/ours")
  p=$(best "$log/pytorch")
  awk -v c="$c" -v o="$o" -v p="$p" 'BEGIN { printf "config=%-19s samples_per_s_ours=%-8s samples_per_s_pytorch=%-8s ratio=%.2f\n", c, o, p, o / p }'
done
if ((efficiency)); then
  echo "ours, arithmetic rate (one run, same process: GEMM first, then each configuration):"
  if ! "${ours[@]}" "${common[@]}" --configs "$configs" --efficiency 2>>"$log/ours.err"; then
    tail -5 "$log/ours.err" >&2
    echo "our side failed (--efficiency)" >&2
    exit 1
  fi
fi

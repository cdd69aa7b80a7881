#!/usr/bin/env bash
# ONNX Runtime latency of the paper's CIFAR-10 teacher and its three students at batch 1 and 64, next to
# their depth, with the same models' TorchSharp latency in the same run.
# Usage: bench/onnx/run.sh [threads] [iterations]   (defaults: all cores, 25 timed runs per figure)
set -euo pipefail
cd "$(dirname "$0")"
dotnet run -c Release --project OnnxBench.csproj -- "$@"

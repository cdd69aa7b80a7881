#!/usr/bin/env bash
# Fused bucketed quantizer vs the same quantization as separate tensor ops, 10M float32 elements.
# Usage: bench/quantizer/run.sh [threads]   (default: all cores)
set -euo pipefail
cd "$(dirname "$0")"
dotnet run -c Release --project QuantizerBench.csproj -- "$@"

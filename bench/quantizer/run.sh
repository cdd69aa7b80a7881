#!/usr/bin/env bash
# Fused bucketed quantizer vs the same quantization as separate tensor ops, 10M float32 elements,
# next to a plain tensor copy (the memory-bandwidth limit).
# Usage: bench/quantizer/run.sh [threads]   (default: all cores)
set -euo pipefail
cd "$(dirname "$0")"
dotnet run -c Release --project QuantizerBench.csproj -- "$@"

#!/usr/bin/env bash
# The same batch of independent small runs on 1 `quantstudio worker` and on 2 (1 torch thread each), against the local
# PostgreSQL and RabbitMQ (each batch on a fresh database and queue): wall time per batch and the throughput ratio.
# Usage: bench/scale/run.sh [--runs 8] [--epochs 4] [--subset 960] [--workers 1,2] [--postgres CONN] [--rabbitmq URI]
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet build -c Release QuantStudio.Cli/QuantStudio.Cli.csproj -nologo -v quiet -clp:NoSummary
# The baseline in the same run: what two single-threaded processes of plain PyTorch get from this machine at once.
# Debian's python3-torch (scripts/install-deps.sh installs it); a version manager's python3 may come first on PATH.
for python in /usr/bin/python3 python3; do
  if "$python" -c "import torch" 2>/dev/null; then "$python" bench/scale/ceiling.py 2; break; fi
done
dotnet run -c Release --project bench/scale/ScaleBench.csproj -- --cli QuantStudio.Cli/bin/Release/net10.0/quantstudio "$@"

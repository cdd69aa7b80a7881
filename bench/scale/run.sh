#!/usr/bin/env bash
# The same batch of independent small runs on 1 `quantstudio worker` and on 2 (1 torch thread each), against the local
# PostgreSQL and RabbitMQ (each batch on a fresh database and queue): wall time per batch and the throughput ratio.
# Usage: bench/scale/run.sh [--runs 8] [--epochs 4] [--subset 960] [--workers 1,2] [--postgres CONN] [--rabbitmq URI]
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet build -c Release QuantStudio.Cli/QuantStudio.Cli.csproj -nologo -v quiet -clp:NoSummary
dotnet run -c Release --project bench/scale/ScaleBench.csproj -- --cli QuantStudio.Cli/bin/Release/net10.0/quantstudio "$@"

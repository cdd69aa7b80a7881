#!/usr/bin/env bash
# 50 concurrent SignalR followers on one live (simulated) run for a minute: completeness of every follower's event
# sequence against the store, and the server's resident memory sampled every second.
# With --pages N, N run pages in headless Chromium follow the run instead (every point on every page, update latency
# once every page is open, memory per page, load average). The pages open one after the other while the run trains, so
# give the run more time than they take to open, in at most 2,000 steps: e.g. --pages 20 --seconds 600 --step-ms 1000
# (docs/web-server.md has the figures and why a faster run saturates the browser on a 2-core machine).
# Usage: bench/web/run.sh [--followers 50] [--seconds 60] [--step-ms 20] [--join-seconds 10] [--pages 20]
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet build -c Release QuantStudio.Web/QuantStudio.Web.csproj -nologo -v quiet -clp:NoSummary
dotnet run -c Release --project bench/web/WebLoadBench.csproj -- --web QuantStudio.Web/bin/Release/net10.0/QuantStudio.Web.dll "$@"

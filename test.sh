#!/usr/bin/env bash
# Builds everything and runs the whole test suite; the last line gives the totals over every test assembly.
set -euo pipefail
cd "$(dirname "$0")"
QS_WITH_BROWSER=1 QS_WITH_PYTORCH=1 QS_WITH_SERVICES=1 scripts/install-deps.sh
scripts/services.sh   # PostgreSQL and RabbitMQ for the distributed mode's tests; leaves running ones alone
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
dotnet test QuantStudio.sln -c Release "$@" 2>&1 | tee "$log" || status=$?
# One plain closing line with the totals over every test assembly.
awk '/(Passed|Failed)! +- +Failed:/ {
       for (i = 1; i <= NF; i++) { gsub(",", "", $(i+1)); if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
     }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"

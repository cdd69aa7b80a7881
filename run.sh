#!/usr/bin/env bash
# Builds and starts the QuantStudio web app on http://127.0.0.1:5000 (data in ./data).
set -euo pipefail
cd "$(dirname "$0")"
exec dotnet run -c Release --project QuantStudio.Web -- "$@"

#!/usr/bin/env bash
# Installs the system packages QuantStudio builds and runs on (Debian 12 / Ubuntu 22.04+).
# Idempotent: does nothing when everything is present. Uses sudo when not root.
set -euo pipefail

# The engine (TorchSharp and libtorch) and the web app's libraries (Blazor, Plotly.Blazor with plotly.js) come from
# NuGet with the build: running the app needs no system package.
packages=()
if [[ "${QS_WITH_BROWSER:-0}" == "1" ]]; then
  packages+=(chromium chromium-driver)  # headless browser tests
fi
if [[ "${QS_WITH_PYTORCH:-0}" == "1" ]]; then
  packages+=(python3-torch)             # the side-by-side baseline in bench/
fi
if [[ "${QS_WITH_SERVICES:-0}" == "1" ]]; then
  packages+=(postgresql rabbitmq-server) # the distributed mode's store and queue tests (scripts/services.sh starts them)
fi

missing=()
for p in "${packages[@]+"${packages[@]}"}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

SUDO=""
if [[ "$(id -u)" != "0" ]]; then SUDO="sudo"; fi
echo "Installing system packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

#!/usr/bin/env bash
# Installs what Switchboard needs from Debian 12 packages, skipping what is already there.
#   scripts/install-deps.sh          build and run dependencies
#   scripts/install-deps.sh --test   plus what the test suite needs (redis-server, chromium, nginx, promtool)
set -euo pipefail

packages=(build-essential cmake ninja-build pkg-config ccache
          libboost1.81-dev nlohmann-json3-dev libspdlog-dev libhiredis-dev libcurl4-openssl-dev libssl-dev
          libsqlite3-dev libgtest-dev ca-certificates)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(redis-server chromium nginx-light prometheus fonts-dejavu-core)
fi
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "Installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

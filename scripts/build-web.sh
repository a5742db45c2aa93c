#!/usr/bin/env bash
# Builds the web UI into web/dist (embedded into the binary by CMake). Versions come from web/package-lock.json.
set -euo pipefail
web="$(dirname "$0")/../web"
[[ -f "$web/package.json" ]] || exit 0
cd "$web"
npm ci --no-audit --no-fund --loglevel=error
npm run --silent build

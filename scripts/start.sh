#!/usr/bin/env bash
# README command 1: install what is missing, build a Release binary with the web UI embedded, and start the server
# on http://127.0.0.1:8080 with the embedded defaults (in-memory sessions, SQLite history in ./data, no keys).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build-web.sh
cmake --preset release >/dev/null
cmake --build --preset release --target switchboard
exec build/release/switchboard --config config/switchboard.json "$@"

#!/usr/bin/env bash
# README command 2: install what is missing (test services included), build with tests, and run every test:
# GoogleTest unit tests, integration tests against the real binary, and browser end-to-end tests (through ctest).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/build-web.sh
(cd tests && npm ci --no-audit --no-fund --loglevel=error)
cmake --preset ci >/dev/null
cmake --build --preset ci
# Test files run one at a time on a 2-core machine: integration suites start their own servers and time matters.
ctest --preset ci -j 1 "$@"

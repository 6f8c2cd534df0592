#!/usr/bin/env bash
# Benchmark the migration linter against squawk (PyPI squawk-cli) on the same generated files, in one run,
# and print which of our rules squawk also reports on that corpus.
# Installs the peer when it is missing, then runs the bench.
#   scripts/bench-lint.sh                       # 500 files x 24 statements (12,000+ statements)
#   LINT_BENCH_FILES=1000 scripts/bench-lint.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v squawk >/dev/null 2>&1; then
  python3 -m pip install --quiet squawk-cli || python3 -m pip install --quiet --break-system-packages squawk-cli
fi
if [ "${1:-}" = "--install-only" ]; then exit 0; fi
SQUAWK="$(command -v squawk)" cargo bench -p runway-migrate --bench lint

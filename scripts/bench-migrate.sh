#!/usr/bin/env bash
# Benchmark the migration runner against `sqlx migrate run` on the same folder and server.
# Installs the peer (sqlx-cli) when it is missing, then runs the bench.
#   RUNWAY_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres scripts/bench-migrate.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v sqlx >/dev/null 2>&1 && [ ! -x "${CARGO_HOME:-$HOME/.cargo}/bin/sqlx" ]; then
  cargo install sqlx-cli --no-default-features --features postgres,rustls
fi
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
if [ "${1:-}" = "--install-only" ]; then exit 0; fi
cargo bench -p runway-migrate --bench apply

#!/usr/bin/env bash
# Backup throughput vs plain `pg_dump -Fc -f file`, and restore-drill time vs plain `pg_restore`, in one run.
#
#   scripts/bench-backup.sh                       # pgbench scale 70 (about 1 GB) + 300 MB of random bytes
#   RUNWAY_BENCH_SCALE=10 scripts/bench-backup.sh # smaller
#
# Needs a PostgreSQL server: RUNWAY_BENCH_DATABASE_URL (admin URL), else RUNWAY_TEST_DATABASE_URL, else the
# local postgres://postgres@127.0.0.1:5432/postgres. The bench creates and drops its own databases.
set -euo pipefail
cd "$(dirname "$0")/.."

have_pg_tools() {
  for t in pg_dump pg_restore pgbench; do
    ls /usr/lib/postgresql/*/bin/$t >/dev/null 2>&1 || command -v $t >/dev/null 2>&1 || return 1
  done
}

if ! have_pg_tools; then
  echo "installing the PostgreSQL client tools and contrib (pg_dump, pg_restore, pgbench, pgcrypto)" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq postgresql-client postgresql-contrib >/dev/null
fi

export RUNWAY_BENCH_DATABASE_URL="${RUNWAY_BENCH_DATABASE_URL:-${RUNWAY_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}}"
if command -v pg_isready >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_isready >/dev/null 2>&1; then
  PG_ISREADY="$(ls /usr/lib/postgresql/*/bin/pg_isready 2>/dev/null | sort -V | tail -1 || command -v pg_isready)"
  "$PG_ISREADY" -d "$RUNWAY_BENCH_DATABASE_URL" >/dev/null || {
    echo "no PostgreSQL server answers at the bench URL; set RUNWAY_BENCH_DATABASE_URL" >&2
    exit 2
  }
fi

exec cargo bench -p runway-backup --bench backup

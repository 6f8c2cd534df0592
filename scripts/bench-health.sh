#!/usr/bin/env bash
# Health-check throughput vs wrk against the same local endpoint, in one run.
# Installs wrk (apt-get) when missing, then runs the runway-health benchmark in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get install -y wrk >/dev/null || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y wrk >/dev/null; }
  else
    echo "wrk is required (https://github.com/wg/wrk)" >&2
    exit 1
  fi
fi
exec cargo bench -p runway-health --bench http_throughput "$@"

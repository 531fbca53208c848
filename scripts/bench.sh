#!/usr/bin/env bash
# `make bench`: run every bench/bench_*.py in turn, print its output, and sum up.
#
# When DATABASE_URL is unset and PostgreSQL answers on 127.0.0.1:5432, the scripts get
# DATABASE_URL=postgres://postgres@127.0.0.1:5432/nefos_bench (each script sets up its own
# database, data dir and schema). Exit status 0 when every script succeeded.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ -z "${DATABASE_URL:-}" ] && (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  export DATABASE_URL=postgres://postgres@127.0.0.1:5432/nefos_bench
fi
# Never print a password that DATABASE_URL may carry.
database=$(printf '%s' "${DATABASE_URL:-(unset: SQLite)}" | sed -E 's#//[^/@]*@#//***@#')

shopt -s nullglob
benches=(bench/bench_*.py)
if [ ${#benches[@]} -eq 0 ]; then
  echo "bench: no bench/bench_*.py yet"
  exit 0
fi

failed=()
for bench in "${benches[@]}"; do
  echo "=== $bench (DATABASE_URL=$database)"
  started=$SECONDS
  if .venv/bin/python "$bench"; then
    echo "=== $bench: ok in $((SECONDS - started)) s"
  else
    status=$?
    echo "=== $bench: FAILED with status $status after $((SECONDS - started)) s"
    failed+=("$bench")
  fi
  echo
done

echo "bench: $((${#benches[@]} - ${#failed[@]})) of ${#benches[@]} scripts succeeded"
if [ ${#failed[@]} -gt 0 ]; then
  echo "bench: failed: ${failed[*]}"
  exit 1
fi

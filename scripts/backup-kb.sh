#!/usr/bin/env bash
# Thin entry point named by the runbook: `kb-dr backup` (see bin/kb-dr.ts, --help for options).
# exec node itself (tsx loaded as an import hook, not its CLI): the CLI then runs in the process
# you started, so SIGINT/SIGTERM to this script's PID reach the CLI, which stops its pg_dump/psql
# children and cleans up; there is no wrapper process to leave an orphan behind.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOADER="$ROOT/node_modules/tsx/dist/loader.mjs"
if [[ ! -f "$LOADER" ]]; then
  echo "error: $LOADER not found; run \`npm ci\` in $ROOT first" >&2
  exit 1
fi
exec node --import "$LOADER" "$ROOT/bin/kb-dr.ts" backup "$@"

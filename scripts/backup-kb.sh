#!/usr/bin/env bash
# Thin entry point named by the runbook: `kb-dr backup` (see bin/kb-dr.ts, --help for options).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TSX="$ROOT/node_modules/.bin/tsx"
if [[ ! -x "$TSX" ]]; then
  echo "error: $TSX not found; run \`npm ci\` in $ROOT first" >&2
  exit 1
fi
exec "$TSX" "$ROOT/bin/kb-dr.ts" backup "$@"

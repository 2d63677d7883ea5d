# Sourced by scripts/*.sh: runs the built CLI, dist/kb-dr.js, with node itself (exec: the CLI runs
# in the process you started, so SIGINT/SIGTERM to the script's PID reach it, and it stops its
# pg_dump/psql children and cleans up; no wrapper process is left behind).
#
# `npm ci` builds dist/kb-dr.js (the `prepare` script). When it is missing, or older than a source
# file it is built from (a `git pull` or an edit since), it is rebuilt here first, with a message.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CLI="$ROOT/dist/kb-dr.js"

kb_dr_build_if_stale() {
  local why=""
  if [[ ! -f "$CLI" ]]; then
    why="dist/kb-dr.js is missing"
  elif [[ -n "$(find "$ROOT/bin" "$ROOT/cli" "$ROOT/core" "$ROOT/lambda" "$ROOT/package-lock.json" \
    -newer "$CLI" \( -name '*.ts' -o -name package-lock.json \) -print -quit 2>/dev/null)" ]]; then
    why="sources changed since dist/kb-dr.js was built"
  else
    return 0
  fi
  if [[ ! -f "$ROOT/node_modules/esbuild/package.json" ]]; then
    echo "error: $why and the build tool is not installed; run \`npm ci\` in $ROOT first" >&2
    exit 1
  fi
  echo "kb-dr: $why; building it (a few seconds)..." >&2
  if ! node "$ROOT/scripts/build-cli.mjs" >&2; then
    echo "error: building the CLI failed (above); fix the error or run \`npm ci\` in $ROOT, then retry" >&2
    exit 1
  fi
}

kb_dr_build_if_stale
# --expose-gc --max-opt=1: the flags the built file's `#!` line gives node (why: SHEBANG in
# scripts/build-cli.mjs; test/cli/local/startup-loads.test.ts checks both agree).
# --enable-source-maps: a stack trace (printed at LOG_LEVEL=DEBUG only) names the .ts files, not
# the bundle. Only then: reading the map costs every other start about 30 ms.
if [[ "${LOG_LEVEL:-}" == DEBUG ]]; then
  exec node --expose-gc --max-opt=1 --enable-source-maps "$CLI" "$@"
fi
exec node --expose-gc --max-opt=1 "$CLI" "$@"

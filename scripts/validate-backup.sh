#!/usr/bin/env bash
# Thin entry point named by the runbook: `kb-dr validate` (see bin/kb-dr.ts, --help for options). Runs
# the built CLI with node directly (scripts/lib/run-cli.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/run-cli.sh" validate "$@"

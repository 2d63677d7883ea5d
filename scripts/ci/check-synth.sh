#!/usr/bin/env bash
# Synthesize both stacks exactly as `cdk deploy` would (cdk-nag AwsSolutions runs inside synth and
# fails it on any unacknowledged finding), then lint every template with cfn-lint.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CDK_DISABLE_VERSION_CHECK=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== cdk synth (cdk-nag AwsSolutions checks run during synth)"
synth=(node node_modules/aws-cdk/bin/cdk synth --quiet -o "$out" -c kb:dbInstanceId=kb-ci-check -c kb:alarmEmails=oncall@example.com)
if command -v strace >/dev/null 2>&1; then
  # Synth must never reach for the network (notices, telemetry, version checks, Docker bundling):
  # record every connect() of the whole process tree and fail on any IPv4/IPv6 one.
  # --seccomp-bpf: the kernel stops the process only at connect(), not at every system call as plain
  # ptrace does (that cost synth about 20 s of system CPU); the same calls are recorded.
  seccomp=()
  if strace -f -qq --seccomp-bpf -e trace=connect -o /dev/null true >/dev/null 2>&1; then seccomp=(--seccomp-bpf); fi
  strace -f -qq "${seccomp[@]}" -e trace=connect -o "$out/connect.trace" "${synth[@]}"
  if grep -E 'AF_INET6?[,}]' "$out/connect.trace"; then
    echo "cdk synth opened network connections (above); it must make none" >&2
    exit 1
  fi
  echo "network: $(grep -c 'connect(' "$out/connect.trace") connect() calls during synth, none to an IP address"
else
  echo "network: strace is not installed, so synth's connections were not checked (.ci/run installs it)"
  "${synth[@]}"
fi
node -e '
const r = require(process.argv[1]);
// The findings of every plugin: cdk-nag (lib/app.ts) and the CloudFormation Validate plugin built
// into aws-cdk-lib (the tests synthesize without it, so this is where its findings fail the build).
// A plugin with no finding and no acknowledgement writes no report.
const findings = (r.pluginReports || []).flatMap((p) => p.violations || []);
if (findings.length) { console.error(JSON.stringify(findings, null, 2)); process.exit(1); }
console.log("cdk-nag and CloudFormation Validate: 0 unacknowledged findings");
' "$out/validation-report.json"

echo "== cfn-lint"
# W3005 ("dependency already enforced by a GetAtt"): CDK itself writes DependsOn from each function
# to its role and the role's default policy (so the policy exists before the first invocation);
# the role half is redundant with the GetAtt, harmless, and not ours to change. Nothing else is ignored.
cfn-lint --ignore-checks W3005 -- "$out"/*.template.json
echo "cfn-lint: 0 findings in $(ls "$out"/*.template.json | wc -l) templates"

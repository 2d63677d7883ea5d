// aws-sdk-client-mock-jest's matchers (toHaveReceivedCommand...) are imported by the test files that
// use them, not here: loading it (sinon and the mock library) cost every other test file about
// 90 ms of CPU.

// Powertools: human-readable logs and no EMF flush warnings in tests.
process.env.POWERTOOLS_DEV = 'true';

// aws-cdk-lib's built-in "CloudFormation Validate" plugin (a WASM schema and rule engine) runs on
// every synth and costs 5-10 s of CPU per test file that synthesizes, about a third of the suite's
// CDK time. In an app it only warns (its errors are downgraded unless
// @aws-cdk/core:validateAgainstDefaultRules is set), so no assertion here depends on it; cdk-nag,
// which the tests do assert on, is a separate plugin and still runs on every synth. The real
// `cdk synth` in `npm run check:synth` keeps it on and fails on any finding it reports
// (scripts/ci/check-synth.sh reads every plugin's report in validation-report.json).
process.env.CDK_VALIDATION = 'false';

// PostgreSQL's client programs by name without Debian's pg_wrapper in between: test/global-setup.ts
// puts them in front of the PATH once for the whole run (test/support/pg-client-path.ts).

// The CDK records a creation stack trace for every resource and annotation it makes (debug
// metadata in the cloud assembly, never in a template). Under jest every capture goes through
// jest's source-map support: 0.5-0.8 s of CPU per test file that builds an app. No assertion
// reads them; `npm run check:synth`'s real `cdk synth` still records them. CDK_CONTEXT_JSON is how
// the CDK CLI hands context to an app: every app a test builds gets these two keys.
process.env.CDK_CONTEXT_JSON = JSON.stringify({
  'aws:cdk:disable-creation-stack-traces': true,
  'aws:cdk:disable-stack-trace': true,
});

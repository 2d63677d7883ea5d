import 'aws-sdk-client-mock-jest';
import { directClientFolder } from './support/pg-client-path';

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

// PostgreSQL's client programs by name without Debian's pg_wrapper in between (see the module).
const directClients = directClientFolder();
if (directClients && !(process.env.PATH ?? '').startsWith(`${directClients}:`)) {
  process.env.PATH = `${directClients}:${process.env.PATH ?? ''}`;
}

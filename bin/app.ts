#!/usr/bin/env node
/** CDK app entry (cdk.json `app`). Configuration errors end synth with the setting's name and an example. */
import { KbDrError } from '../core/errors';
import { buildApp } from '../lib/app';

try {
  buildApp();
} catch (err) {
  if (err instanceof KbDrError) {
    console.error(`kb-dr: ${err.userMessage}`);
    process.exit(1);
  }
  throw err;
}

/** The drill's steps, in the order they run (drill/index.ts loads this once the prerequisites pass). */
import type { DrillContext } from '../context';
import type { DrillStep } from '../runner';
import { alarmReplayStep } from './alarm-replay';
import { localRestoreStep } from './local-restore';
import { nightStep } from './night';
import { recoverEntriesStep } from './recover-entries';
import { restoreStep } from './restore';
import { restoreTestStep } from './restore-test';
import { seedStep } from './seed';
import { targetsStep } from './targets';
import { validateStep } from './validate';
import { verifyRestoreStep } from './verify-restore';

export const DRILL_STEPS: readonly DrillStep<DrillContext>[] = [
  seedStep,
  nightStep,
  validateStep,
  restoreStep,
  verifyRestoreStep,
  restoreTestStep,
  localRestoreStep,
  recoverEntriesStep,
  alarmReplayStep,
  targetsStep,
];

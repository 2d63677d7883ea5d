import { Construct } from 'constructs';
import type { KbDrConfig } from '../config';
import type { StorageResources } from './storage-resources';

export interface RestoreFunctionsProps {
  readonly config: KbDrConfig;
  readonly storage: StorageResources;
}

/** The on-call restore and validation functions (restore-snapshot, restore-pitr, restore-status, validate-backup, promote-restore). */
export class RestoreFunctions extends Construct {
  constructor(scope: Construct, id: string, _props: RestoreFunctionsProps) {
    super(scope, id);
  }
}

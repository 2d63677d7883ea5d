/**
 * Contract: the alarms in the synthesized stacks watch exactly what the handlers print.
 * The real backup and reconcile handlers run a successful night and a failed one against
 * moto_server, their EMF output is captured, and every alarm's namespace, metric name and
 * dimension set (name and value) must match a metric the handlers emitted, with the catalogue's unit.
 */
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { RDSClient } from '@aws-sdk/client-rds';
import { ENV } from '../../lambda/shared/env';
import {
  INSTANCE_DIMENSION,
  KbMetrics,
  METRIC_NAMESPACE,
  type KbMetricName,
} from '../../core/metrics-catalog';
import { exportTaskIdFor, snapshotIdFor } from '../../core/naming';
import { alarmsFromTemplate, type MetricAlarmDefinition } from '../../harness/alarm-evaluator';
import { testAppTemplates } from '../../harness/synth-cache';
import { captureEmf, enableEmf, type EmfDocument } from '../../harness/emf';
import type { MotoServer } from '../../harness/moto';
import { sharedMoto } from '../support/shared-services';
import { createProtectedInstance, pipelineEnv } from '../../harness/pipeline-world';
import { coldStart, loadPipelineHandlers } from '../support/pipeline-handlers';
import { rdsSnapshotEvent } from '../../harness/rds-events';
import { writeSyntheticExport } from '../support/export-fixtures';
import { verificationKey, type VerificationRecord } from '../../core/verification';

/** One metric as printed: namespace, name, unit, dimension sets and dimension values. */
interface EmittedMetric {
  readonly namespace: string;
  readonly name: string;
  readonly unit: string | undefined;
  readonly dimensionSets: string[][];
  readonly dimensionValues: Record<string, string>;
}

function emittedMetrics(docs: EmfDocument[]): EmittedMetric[] {
  return docs.flatMap((doc) =>
    doc._aws.CloudWatchMetrics.flatMap((directive) =>
      directive.Metrics.map((m) => ({
        namespace: directive.Namespace,
        name: m.Name,
        unit: m.Unit,
        dimensionSets: directive.Dimensions,
        dimensionValues: Object.fromEntries(directive.Dimensions.flat().map((d) => [d, String(doc[d])])),
      })),
    ),
  );
}

const INSTANCE = 'kb-prod';
const BUCKET = `kb-contract-${process.pid}`;

let moto: MotoServer;
let emitted: EmittedMetric[] = [];
let docs: EmfDocument[] = [];
// No asset bundling: only the alarm definitions are read; the handlers run from source.
const { operations } = testAppTemplates({
  context: { 'kb:dbInstanceId': INSTANCE, 'aws:cdk:bundling-stacks': [] },
});
const alarms = [...alarmsFromTemplate(operations).values()];
const metricAlarms = alarms.filter((a): a is MetricAlarmDefinition => a.kind === 'metric');

beforeAll(async () => {
  moto = await sharedMoto({ applyToProcessEnv: true });
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  enableEmf();
  const rds = new RDSClient({});
  const s3 = new S3Client({ forcePathStyle: true });
  await createProtectedInstance(rds, INSTANCE);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  Object.assign(process.env, pipelineEnv(INSTANCE, BUCKET));
  const handlers = loadPipelineHandlers();
  let backup = handlers.backup;
  const reconcile = handlers.reconcile;

  const emf = captureEmf();
  try {
    // A successful night: snapshot, export started on the created event, recorded on completion.
    const time = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    const snapshotId = snapshotIdFor(time);
    const event = (id: string) => rdsSnapshotEvent(id, snapshotId);
    await backup({ source: 'kb-dr.schedule', time: time.toISOString() });
    await reconcile(event('RDS-EVENT-0042'));
    // What RDS writes: Parquet files (counted from their footers) and export_tables_info.
    await writeSyntheticExport(s3, BUCKET, exportTaskIdFor(snapshotId), {
      'public.knowledge_entries': 3,
      'public.embedding_cache': 1,
    });
    await reconcile(event('RDS-EVENT-0161'));
    await reconcile({});
    // A failed night: the instance is gone (a cold start configured for a missing instance).
    process.env[ENV.dbInstanceId] = 'kb-gone';
    backup = loadPipelineHandlers().backup;
    await backup({ source: 'kb-dr.schedule', time: new Date(time.getTime() - 60_000).toISOString() });
    // A weekly restore test of the night's backup: requested, verified (the record verify-restore
    // writes), recorded and deleted on the RDS event; then a pass.
    process.env[ENV.dbInstanceId] = INSTANCE;
    let restoreTest!: (event: unknown) => Promise<unknown>;
    coldStart(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      restoreTest = (require('../../lambda/restore-test/index') as { handler: typeof restoreTest }).handler;
    });
    const started = (await restoreTest({ action: 'start', time: time.toISOString() })) as {
      instanceId: string;
    };
    const verification: VerificationRecord = {
      version: 1,
      instanceId: started.instanceId,
      outcome: 'PASS',
      source: { kind: 'snapshot', snapshotId },
      startedAt: new Date().toISOString(),
      verifiedAt: new Date().toISOString(),
      checks: [],
      summary: 'verified',
    };
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: verificationKey(started.instanceId),
        Body: JSON.stringify(verification),
      }),
    );
    await restoreTest({
      source: 'aws.rds',
      'detail-type': 'RDS DB Instance Event',
      detail: { EventID: 'RDS-EVENT-0043', SourceIdentifier: started.instanceId },
    });
    await restoreTest({ action: 'pass' });
    docs = emf.docs();
    emitted = emittedMetrics(docs);
  } finally {
    emf.restore();
  }
});

afterAll(async () => {
  await moto.stop();
});

describe('EMF printed by the handlers ↔ alarms in the synthesized stacks', () => {
  it('the scenarios printed every metric the backup and restore-test alarms watch', () => {
    expect(metricAlarms.length).toBeGreaterThanOrEqual(3);
    const names = new Set(emitted.map((m) => m.name));
    for (const a of metricAlarms) expect(names).toContain(a.metricName);
  });

  it.each([
    'TimeSinceLastBackup',
    'BackupFailure',
    'BackupDuration',
    'EntryCountDropFraction',
    'RestoreTestSuccess',
    'HoursSinceLastRestoreTest',
    'RestoreTestOrphans',
  ])(
    'an alarm watches %s in namespace KB with exactly the DBInstanceIdentifier dimension the handlers print',
    (metricName) => {
      const watching = metricAlarms.filter((a) => a.metricName === metricName);
      expect(watching.length).toBeGreaterThan(0);
      const printed = emitted.filter(
        (m) => m.name === metricName && m.dimensionValues[INSTANCE_DIMENSION] === INSTANCE,
      );
      expect(printed.length).toBeGreaterThan(0);
      for (const alarm of watching) {
        for (const m of printed) {
          expect(m.namespace).toBe(alarm.namespace);
          expect(m.dimensionSets).toEqual([Object.keys(alarm.dimensions)]);
          expect(m.dimensionValues).toEqual(alarm.dimensions);
          // CloudWatch matches units when an alarm names one: it must then equal the printed unit.
          if (alarm.unit !== undefined) expect(m.unit).toBe(alarm.unit);
        }
      }
    },
  );

  it('prints every metric in namespace KB, with only the DBInstanceIdentifier dimension, and the catalogue unit', () => {
    expect(emitted.length).toBeGreaterThan(0);
    for (const m of emitted) {
      expect(m.namespace).toBe(METRIC_NAMESPACE);
      expect(m.dimensionSets).toEqual([[INSTANCE_DIMENSION]]);
      expect(Object.keys(KbMetrics)).toContain(m.name);
      expect(m.unit).toBe(KbMetrics[m.name as KbMetricName].unit);
    }
  });

  it('prints the BackupSuccess/BackupFailure pair as 1/0 on success and 0/1 on failure', () => {
    const pairs = docs
      .filter((d) => d.BackupFailure !== undefined)
      .map((d) => [d[INSTANCE_DIMENSION], d.BackupSuccess, d.BackupFailure]);
    expect(pairs).toEqual([
      [INSTANCE, 1, 0],
      ['kb-gone', 0, 1],
    ]);
  });

  it("prints KnowledgeEntries and EntryCountDropFraction from the export's Parquet footers once per successful backup", () => {
    expect(docs.flatMap((d) => (d.KnowledgeEntries !== undefined ? [d.KnowledgeEntries] : []))).toEqual([3]);
    expect(
      docs.flatMap((d) => (d.EntryCountDropFraction !== undefined ? [d.EntryCountDropFraction] : [])),
    ).toEqual([0]);
  });

  it('the composite KB-BackupFailure combines exactly the two child alarms', () => {
    const composite = alarms.find((a) => a.kind === 'composite');
    expect(composite).toBeDefined();
    const children = metricAlarms.filter((a) => a.name.startsWith('KB-BackupFailure-'));
    expect(children.map((c) => c.metricName).sort()).toEqual(['BackupFailure', 'TimeSinceLastBackup']);
    for (const c of children)
      expect(composite!.kind === 'composite' && composite!.rule).toContain(`{${c.logicalId}}`);
  });
});

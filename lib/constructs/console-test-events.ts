import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as eventschemas from 'aws-cdk-lib/aws-eventschemas';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { deployedFunctionName, FUNCTIONS, type KbFunctionName } from '../../core/functions';
import { acknowledgeCustomResourceProvider } from '../nag';
import { PROJECT_ROOT } from './kb-function';

/** The EventBridge Schemas registry where the Lambda console keeps shareable test events. */
export const TEST_EVENT_REGISTRY = 'lambda-testevent-schemas';

/** The schema name the Lambda console (and `sam remote test-event`) uses for a function's events. */
export function testEventSchemaName(functionName: string): string {
  return `_${functionName}-schema`;
}

/** Console examples by function: example name -> event. */
export type ConsoleEvents = Partial<Record<KbFunctionName, Record<string, unknown>>>;

/**
 * `docs/events/<function>.<name>.json` grouped by function: the single source of the console
 * examples. Files of other names (or of unknown functions) are skipped.
 */
export function loadConsoleEvents(dir = path.join(PROJECT_ROOT, 'docs', 'events')): ConsoleEvents {
  const out: ConsoleEvents = {};
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const [fn, name] = file.replace(/\.json$/, '').split('.');
    if (!fn || !name || !(FUNCTIONS as readonly string[]).includes(fn)) continue;
    const byFn = (out[fn as KbFunctionName] ??= {});
    byFn[name] = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as unknown;
  }
  return out;
}

/** The OpenAPI 3 document the Lambda console reads shareable test events from. */
export function testEventSchemaContent(examples: Record<string, unknown>): Record<string, unknown> {
  return {
    openapi: '3.0.0',
    info: { version: '1.0.0', title: 'Event' },
    paths: {},
    components: {
      schemas: { Event: { type: 'object' } },
      examples: Object.fromEntries(Object.entries(examples).map(([name, value]) => [name, { value }])),
    },
  };
}

export interface TestEventSchemaProps {
  /** The deployed function name, e.g. `kb-dr-restore-snapshot`. */
  readonly functionName: string;
  /** Example name -> event (at least one). */
  readonly examples: Readonly<Record<string, unknown>>;
  /** The call that makes sure the registry exists: the schema is created after it. */
  readonly registry: cr.AwsCustomResource;
}

/** One function's console test events, as a schema in the `lambda-testevent-schemas` registry. */
export function addTestEventSchema(
  scope: Construct,
  id: string,
  props: TestEventSchemaProps,
): eventschemas.CfnSchema {
  if (Object.keys(props.examples).length === 0) {
    throw new Error(
      `addTestEventSchema ${id}: no examples for ${props.functionName}; add docs/events/<function>.<name>.json`,
    );
  }
  const schema = new eventschemas.CfnSchema(scope, id, {
    registryName: TEST_EVENT_REGISTRY,
    schemaName: testEventSchemaName(props.functionName),
    type: 'OpenApi3',
    description: `kb-dr console test events for ${props.functionName} (from docs/events)`,
    content: JSON.stringify(testEventSchemaContent(props.examples)),
  });
  schema.node.addDependency(props.registry);
  return schema;
}

export interface ConsoleTestEventsProps {
  /** Deployed names are `<prefix>-<function>` (KbDrConfig.functionNamePrefix). */
  readonly functionNamePrefix: string;
  /** The functions to offer examples for, in this order; one without examples gets no schema. */
  readonly functions: readonly KbFunctionName[];
  /** The examples. @default loadConsoleEvents() (docs/events) */
  readonly events?: ConsoleEvents;
}

/**
 * The docs/events examples as shareable console test events: one schema per function in the
 * `lambda-testevent-schemas` registry, which is created first if the account lacks it. Schema ids
 * are `<Function>TestEvents` directly under this construct.
 */
export class ConsoleTestEvents extends Construct {
  /** The call that makes sure the registry exists (other constructs' schemas depend on it too). */
  readonly registry: cr.AwsCustomResource;
  /** The schemas, by function. */
  readonly schemas: Readonly<Partial<Record<KbFunctionName, eventschemas.CfnSchema>>>;

  constructor(scope: Construct, id: string, props: ConsoleTestEventsProps) {
    super(scope, id);
    this.registry = ensureTestEventRegistry(this);
    const events = props.events ?? loadConsoleEvents();
    const schemas: Partial<Record<KbFunctionName, eventschemas.CfnSchema>> = {};
    for (const fn of props.functions) {
      const examples = events[fn];
      if (!examples || Object.keys(examples).length === 0) continue;
      schemas[fn] = addTestEventSchema(this, `${pascalCase(fn)}TestEvents`, {
        functionName: deployedFunctionName(props.functionNamePrefix, fn),
        examples,
        registry: this.registry,
      });
    }
    this.schemas = schemas;
  }
}

/** `restore-snapshot` -> `RestoreSnapshot` (construct ids of the functions and their schemas). */
export function pascalCase(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());
}

/**
 * Make sure the `lambda-testevent-schemas` registry exists. The Lambda console creates it the first
 * time anyone in the account saves a shareable test event, so in one account it exists and in
 * another it does not; CloudFormation can neither create a registry that exists nor attach schemas
 * to one that does not. CreateRegistry, with "already exists" (ConflictException) ignored, works
 * in both. Nothing is deleted with the stack: other teams' test events live in the same registry.
 */
function ensureTestEventRegistry(scope: Construct): cr.AwsCustomResource {
  const stack = Stack.of(scope);
  const registryArn = `arn:${stack.partition}:schemas:${stack.region}:${stack.account}:registry/${TEST_EVENT_REGISTRY}`;
  const ensure = new cr.AwsCustomResource(scope, 'EnsureTestEventRegistry', {
    onCreate: {
      service: 'Schemas',
      action: 'CreateRegistry',
      parameters: { RegistryName: TEST_EVENT_REGISTRY, Description: 'Lambda console shareable test events' },
      physicalResourceId: cr.PhysicalResourceId.of(TEST_EVENT_REGISTRY),
      ignoreErrorCodesMatching: 'ConflictException',
    },
    policy: cr.AwsCustomResourcePolicy.fromStatements([
      new iam.PolicyStatement({ actions: ['schemas:CreateRegistry'], resources: [registryArn] }),
    ]),
    installLatestAwsSdk: false,
    logGroup: new logs.LogGroup(scope, 'EnsureTestEventRegistryLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    }),
  });
  acknowledgeCustomResourceProvider(scope);
  return ensure;
}

/** Console test events: docs/events parsed and grouped, one schema per function, the registry ensured. */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { FUNCTIONS } from '../../../core/functions';
import {
  addTestEventSchema,
  ConsoleTestEvents,
  loadConsoleEvents,
  TEST_EVENT_REGISTRY,
  testEventSchemaName,
} from '../../../lib/constructs/console-test-events';
import { RESTORE_FUNCTION_DIRS } from '../../../lib/constructs/restore-functions';
import { bareStack } from './bare-stack';

const EVENTS_DIR = path.join(__dirname, '../../../docs/events');

describe('loadConsoleEvents', () => {
  it('parses every docs/events file and groups it by function and example name', () => {
    const files = readdirSync(EVENTS_DIR).filter((f) => f.endsWith('.json'));
    const events = loadConsoleEvents();
    const loaded = Object.entries(events).flatMap(([fn, examples]) =>
      Object.keys(examples ?? {}).map((n) => `${fn}.${n}.json`),
    );
    expect(loaded.sort()).toEqual(files.sort());
    for (const file of files) {
      const [fn, name] = file.replace(/\.json$/, '').split('.') as [keyof typeof events, string];
      expect(FUNCTIONS).toContain(fn);
      expect(events[fn]?.[name]).toEqual(JSON.parse(readFileSync(path.join(EVENTS_DIR, file), 'utf8')));
    }
  });

  it('skips files of unknown functions and files without an example name; refuses a file that is not JSON', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kb-events-'));
    writeFileSync(path.join(dir, 'restore-status.drill.json'), '{"restoreInstanceId":"kb-restore-x"}');
    writeFileSync(path.join(dir, 'not-a-function.x.json'), '{}');
    writeFileSync(path.join(dir, 'restore-status.json'), '{}');
    writeFileSync(path.join(dir, 'README.md'), '# notes');
    expect(loadConsoleEvents(dir)).toEqual({
      'restore-status': { drill: { restoreInstanceId: 'kb-restore-x' } },
    });
    writeFileSync(path.join(dir, 'restore-pitr.broken.json'), '{"targetTime": ');
    expect(() => loadConsoleEvents(dir)).toThrow(SyntaxError);
  });
});

describe('ConsoleTestEvents', () => {
  const { stack } = bareStack();
  const events = new ConsoleTestEvents(stack, 'TestEvents', {
    functionNamePrefix: 'kb-dr',
    functions: RESTORE_FUNCTION_DIRS,
  });
  const template = Template.fromStack(stack);
  const schemas = template.findResources('AWS::EventSchemas::Schema');

  it('offers each restore function its docs/events examples as an OpenAPI schema the console reads', () => {
    expect(Object.keys(schemas)).toHaveLength(RESTORE_FUNCTION_DIRS.length);
    const [, schema] = Object.entries(schemas).find(
      ([, r]) => r.Properties.SchemaName === testEventSchemaName('kb-dr-restore-snapshot'),
    )!;
    expect(schema.Properties).toMatchObject({ RegistryName: TEST_EVENT_REGISTRY, Type: 'OpenApi3' });
    const content = JSON.parse(String(schema.Properties.Content)) as {
      openapi: string;
      components: { examples: Record<string, { value: unknown }> };
    };
    expect(content.openapi).toBe('3.0.0');
    expect(Object.keys(content.components.examples).sort()).toEqual(['by-id', 'dry-run', 'latest']);
    expect(content.components.examples.latest?.value).toEqual(
      JSON.parse(readFileSync(path.join(EVENTS_DIR, 'restore-snapshot.latest.json'), 'utf8')),
    );
  });

  it('creates the registry if the account lacks it, tolerates one that exists, never deletes it, and creates schemas after it', () => {
    const calls = Object.entries(template.findResources('Custom::AWS'));
    expect(calls).toHaveLength(1);
    const [ensureId, resource] = calls[0]!;
    expect(JSON.parse(String(resource.Properties.Create))).toMatchObject({
      service: 'Schemas',
      action: 'CreateRegistry',
      parameters: { RegistryName: TEST_EVENT_REGISTRY },
      ignoreErrorCodesMatching: 'ConflictException',
    });
    expect(resource.Properties.Delete).toBeUndefined();
    for (const s of Object.values(schemas)) expect(s.DependsOn).toEqual(expect.arrayContaining([ensureId]));
    template.resourceCountIs('AWS::EventSchemas::Registry', 0);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: 'schemas:CreateRegistry',
            Effect: 'Allow',
            Resource: `arn:aws:schemas:eu-west-1:123456789012:registry/${TEST_EVENT_REGISTRY}`,
          },
        ],
      },
    });
    expect(events.registry).toBeDefined();
  });

  it('gives a function without examples no schema', () => {
    const { stack: s } = bareStack();
    const partial = new ConsoleTestEvents(s, 'TestEvents', {
      functionNamePrefix: 'kb-dr',
      functions: ['restore-status', 'backup'],
      events: { 'restore-status': { drill: {} }, backup: {} },
    });
    expect(Object.keys(partial.schemas)).toEqual(['restore-status']);
    Template.fromStack(s).resourceCountIs('AWS::EventSchemas::Schema', 1);
  });

  it('refuses a schema without examples, naming the folder to add them to', () => {
    const { stack: s } = bareStack();
    const registry = new ConsoleTestEvents(s, 'TestEvents', { functionNamePrefix: 'kb-dr', functions: [] })
      .registry;
    expect(() =>
      addTestEventSchema(s, 'Empty', { functionName: 'kb-dr-backup', examples: {}, registry }),
    ).toThrow(/no examples for kb-dr-backup; add docs\/events\/<function>\.<name>\.json/);
  });
});

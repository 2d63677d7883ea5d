/**
 * Helpers for acknowledging cdk-nag findings precisely. cdk-nag names a wildcard finding after the
 * resolved resource string (`<Logical.Arn>`, `<AWS::AccountId>`, or a literal where CDK knows it),
 * so these build the same string from the construct instead of hard-coding logical ids.
 */
import { Stack, Token, Validations, type CfnElement } from 'aws-cdk-lib';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { IConstruct } from 'constructs';

/** How cdk-nag renders `Fn::GetAtt [resource, Arn]` of a construct's default resource. */
export function nagArnRef(construct: IConstruct): string {
  const child = construct.node.defaultChild as CfnElement | undefined;
  if (!child) throw new Error(`nagArnRef: ${construct.node.path} has no default CloudFormation resource`);
  return `<${Stack.of(construct).getLogicalId(child)}.Arn>`;
}

/** How cdk-nag renders `arn:${Partition}:${service}:${Region}:${Account}:` in the scope's stack. */
export function nagArnPrefix(scope: IConstruct, service: string): string {
  const stack = Stack.of(scope);
  const part = Token.isUnresolved(stack.partition) ? '<AWS::Partition>' : stack.partition;
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  return `arn:${part}:${service}:${region}:${account}:`;
}

/**
 * One cdk-nag acknowledgement: the rule, the finding within it (for rules that report one finding
 * per wildcard or managed policy), and why it is acceptable.
 */
export interface NagAcknowledgement {
  /** The rule id, pack and rule, e.g. `AwsSolutions-IAM5`. */
  readonly rule: string;
  /** The finding's resource (IAM5 `Resource::...`), as cdk-nag renders it (see nagArnRef, nagArnPrefix). */
  readonly resource?: string;
  /** The finding's action (IAM5 `Action::...`), e.g. `s3:Get*`. */
  readonly action?: string;
  /** The finding's managed policy (IAM4 `Policy::...`). */
  readonly policy?: string;
  /** Why the finding is acceptable: what the grant is for and what limits it. */
  readonly reason: string;
}

const RULE_ID = /^[A-Za-z]+-[A-Za-z]+\d+$/;
/** Rules that report one finding per wildcard or managed policy: acknowledging the bare rule would hide all of them. */
const GRANULAR_RULES = new Set(['AwsSolutions-IAM4', 'AwsSolutions-IAM5']);
/** A reason shorter than this cannot say what is granted and what limits it. */
const MIN_REASON_LENGTH = 20;

/** The id cdk-nag reports (and `Validations.acknowledge` takes) for an acknowledgement, e.g. `AwsSolutions-IAM5[Resource::*]`. */
export function nagFindingId(ack: NagAcknowledgement): string {
  const findings = [
    ack.resource !== undefined ? `Resource::${ack.resource}` : undefined,
    ack.action !== undefined ? `Action::${ack.action}` : undefined,
    ack.policy !== undefined ? `Policy::${ack.policy}` : undefined,
  ].filter((f): f is string => f !== undefined);
  if (!RULE_ID.test(ack.rule)) {
    throw new Error(
      `cdk-nag acknowledgement: "${ack.rule}" is not a rule id; name the rule as cdk-nag reports it, e.g. "AwsSolutions-IAM5"`,
    );
  }
  if (findings.length > 1) {
    throw new Error(
      `cdk-nag acknowledgement of ${ack.rule}: give one finding (resource, action or policy), got ${findings.join(' and ')}; acknowledge each finding on its own`,
    );
  }
  const [finding] = findings;
  if (finding === undefined && GRANULAR_RULES.has(ack.rule)) {
    throw new Error(
      `cdk-nag acknowledgement of ${ack.rule} names no finding: that would hide every other finding of the rule on the same construct; name the resource, action or policy, e.g. { rule: "${ack.rule}", resource: "<Bucket.Arn>/manifests/*", reason }`,
    );
  }
  return finding === undefined ? ack.rule : `${ack.rule}[${finding}]`;
}

/**
 * Acknowledge one cdk-nag finding on one construct (the narrowest scope: the role, not the stack).
 * Refuses an acknowledgement without a rule id, without a real reason, or of a whole granular rule.
 */
export function acknowledge(construct: IConstruct, ack: NagAcknowledgement): void {
  const id = nagFindingId(ack);
  if (ack.reason.trim().length < MIN_REASON_LENGTH) {
    throw new Error(
      `cdk-nag acknowledgement ${id} on ${construct.node.path}: the reason "${ack.reason.trim()}" is too short to say what is granted and what limits it (at least ${MIN_REASON_LENGTH} characters)`,
    );
  }
  Validations.of(construct).acknowledge({ id, reason: ack.reason });
}

/** Acknowledge one AwsSolutions-IAM5 wildcard finding (action or resource) on one construct. */
export function acknowledgeWildcard(
  construct: IConstruct,
  finding: { readonly action: string } | { readonly resource: string },
  reason: string,
): void {
  acknowledge(construct, { rule: 'AwsSolutions-IAM5', ...finding, reason });
}

/**
 * An ARN attribute of `producer` usable in `scope`, and how cdk-nag names it in findings. In the
 * same stack that is `<Logical.Arn>`; across stacks the value is the `Fn::ImportValue` CDK would
 * create for the reference on its own, and cdk-nag names the finding after that export.
 */
export function crossStackArn(
  scope: IConstruct,
  producer: IConstruct,
  arn: string,
): { value: string; nag: string } {
  const producerStack = Stack.of(producer);
  const consumerStack = Stack.of(scope);
  if (producerStack === consumerStack) return { value: arn, nag: nagArnRef(producer) };
  const value = producerStack.exportValue(arn);
  const resolved = consumerStack.resolve(value) as { 'Fn::ImportValue'?: unknown };
  const exportName = resolved['Fn::ImportValue'];
  if (typeof exportName !== 'string') {
    throw new Error(`crossStackArn: could not resolve the export name of ${producer.node.path}`);
  }
  return { value, nag: exportName };
}

const acknowledgedProviders = new WeakSet<object>();

/**
 * Acknowledge the basic-execution managed policy of CDK's AwsCustomResource provider (a singleton
 * function at stack level), once per stack. Call it after creating an AwsCustomResource in `scope`.
 */
export function acknowledgeCustomResourceProvider(scope: IConstruct): void {
  const stack = Stack.of(scope);
  const provider = stack.node.tryFindChild(
    `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`,
  );
  const providerRole = provider?.node.tryFindChild('ServiceRole');
  if (!providerRole)
    throw new Error('acknowledgeCustomResourceProvider: CDK custom-resource provider role not found');
  if (acknowledgedProviders.has(providerRole)) return;
  acknowledgedProviders.add(providerRole);
  acknowledge(providerRole, {
    rule: 'AwsSolutions-IAM4',
    policy: 'arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
    reason:
      "CDK's AwsCustomResource provider runs only during deployment (it creates the test-event registry if missing and tags the protected instances); it writes its logs with the basic execution policy, and its other permissions are schemas:CreateRegistry on that registry and rds:AddTagsToResource of the kb-dr:protected-instance tag on the protected instances",
  });
}

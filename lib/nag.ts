/**
 * Helpers for acknowledging cdk-nag findings precisely. cdk-nag names a wildcard finding after the
 * resolved resource string (`<Logical.Arn>`, `<AWS::AccountId>`, or a literal where CDK knows it),
 * so these build the same string from the construct instead of hard-coding logical ids.
 */
import { Stack, Token, Validations, type CfnElement } from 'aws-cdk-lib';
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

/** Acknowledge one AwsSolutions-IAM5 wildcard finding (action or resource) on one construct. */
export function acknowledgeWildcard(
  construct: IConstruct,
  finding: { readonly action: string } | { readonly resource: string },
  reason: string,
): void {
  const id = 'action' in finding ? `Action::${finding.action}` : `Resource::${finding.resource}`;
  Validations.of(construct).acknowledge({ id: `AwsSolutions-IAM5[${id}]`, reason });
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

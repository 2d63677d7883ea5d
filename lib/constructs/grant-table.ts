import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { acknowledge, nagArnPrefix, nagFindingId, type NagAcknowledgement } from '../nag';

/**
 * One IAM statement of a role's table: what it allows, on what, under which conditions, and the
 * cdk-nag findings it raises with the reason each is acceptable. A finding is acknowledged once per
 * role, next to the statement that first raises it (a later statement on the same wildcard resource
 * is covered by that acknowledgement).
 */
export interface GrantRow {
  /** Statement id (names the statement in the policy and in tests). @default none */
  readonly sid?: string;
  readonly actions: readonly string[];
  /** Resource ARNs as they go into the policy (tokens allowed). */
  readonly resources: readonly string[];
  /** IAM condition block. @default none */
  readonly conditions?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** The cdk-nag findings this statement raises, each with its rule id and reason. @default none */
  readonly nag?: readonly NagAcknowledgement[];
}

/**
 * Apply a table of statements to a role, in order (the order of the policy document), and
 * acknowledge each statement's cdk-nag findings on that role only. Refuses a table that
 * acknowledges the same finding twice: one of the two reasons would be silently lost.
 */
export function applyGrants(role: iam.Role, rows: readonly GrantRow[]): void {
  const acknowledged = new Map<string, string | undefined>();
  for (const row of rows) {
    if (row.actions.length === 0 || row.resources.length === 0) {
      throw new Error(
        `applyGrants on ${role.node.path}: statement ${row.sid ?? '(no sid)'} needs at least one action and one resource`,
      );
    }
    role.addToPolicy(
      new iam.PolicyStatement({
        ...(row.sid !== undefined ? { sid: row.sid } : {}),
        actions: [...row.actions],
        resources: [...row.resources],
        ...(row.conditions ? { conditions: row.conditions } : {}),
      }),
    );
    for (const ack of row.nag ?? []) {
      const id = nagFindingId(ack);
      if (acknowledged.has(id)) {
        throw new Error(
          `applyGrants on ${role.node.path}: ${id} is acknowledged by statement ${acknowledged.get(id) ?? '(no sid)'} and again by ${row.sid ?? '(no sid)'}; keep the acknowledgement on the first statement only`,
        );
      }
      acknowledged.set(id, row.sid);
      acknowledge(role, ack);
    }
  }
}

/**
 * Use of this account's KMS keys through RDS only (`kms:ViaService`): what restoring an encrypted
 * snapshot needs, as the protected instance's key is not known at synth. `reason` is the cdk-nag
 * acknowledgement of the key wildcard, in the caller's words.
 */
export function useDbKeyViaRdsRow(scope: IConstruct, reason: string): GrantRow {
  const stack = Stack.of(scope);
  return {
    sid: 'UseDbKeyViaRds',
    actions: ['kms:CreateGrant', 'kms:DescribeKey'],
    resources: [`arn:${stack.partition}:kms:${stack.region}:${stack.account}:key/*`],
    conditions: { StringEquals: { 'kms:ViaService': `rds.${stack.region}.amazonaws.com` } },
    nag: [{ rule: 'AwsSolutions-IAM5', resource: `${nagArnPrefix(scope, 'kms')}key/*`, reason }],
  };
}

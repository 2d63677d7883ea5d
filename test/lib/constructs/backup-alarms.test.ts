import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ALARM_NAMES } from '../../../core/metrics-catalog';
import { BackupAlarms } from '../../../lib/constructs/backup-alarms';
import { testAppTemplates } from '../../../harness/synth-cache';

function alarmsWith(fraction: number): BackupAlarms {
  const stack = new Stack(new App(), 'AlarmsUnderTest');
  return new BackupAlarms(stack, 'Alarms', {
    dbInstanceId: 'kb-prod',
    topic: new sns.Topic(stack, 'Topic'),
    maxEntryCountDropFraction: fraction,
  });
}

describe('BackupAlarms: KB-EntryCountDrop threshold', () => {
  it.each([0, 1, -0.2, 1.5, Number.NaN])(
    'refuses maxEntryCountDropFraction %d at synth, with an example',
    (f) => {
      expect(() => alarmsWith(f)).toThrow(
        /maxEntryCountDropFraction must be between 0 and 1 \(exclusive\), e\.g\. 0\.2 for 20%/,
      );
    },
  );

  it('uses the configured fraction (kb:entryCountDropFraction) as the threshold and in the description', () => {
    const template = Template.fromJSON(
      testAppTemplates({ context: { 'aws:cdk:bundling-stacks': [], 'kb:entryCountDropFraction': 0.35 } })
        .operations,
    );
    const alarms = template.findResources('AWS::CloudWatch::Alarm', {
      Properties: { AlarmName: ALARM_NAMES.entryCountDrop },
    });
    const props = Object.values(alarms)[0]?.Properties as { Threshold: number; AlarmDescription: string };
    expect(props.Threshold).toBe(0.35);
    expect(props.AlarmDescription).toContain('more than 35% fewer knowledge entries');
  });
});

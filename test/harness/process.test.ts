import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandLine, describeFailure, runTool } from '../../harness/process';

describe('describeFailure: why a process did not succeed, with the command run', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kb-process-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('says nothing for a process that exited 0', () => {
    expect(describeFailure(runTool('sh', ['-c', 'echo fine']))).toBeUndefined();
  });

  it('reports a program that does not exist as could not start (ENOENT), not as an exit code', () => {
    // Act
    const text = describeFailure(runTool(join(dir, 'initdb'), ['-D', 'data']));
    // Assess
    expect(text).toBe(
      `could not start \`${join(dir, 'initdb')} -D data\`: no such file (ENOENT); the program is not installed or not where it was looked for`,
    );
    expect(text).not.toMatch(/null|undefined/);
  });

  it('reports a file that is not executable as could not start (EACCES)', () => {
    // Prepare
    const file = join(dir, 'not-executable');
    writeFileSync(file, '#!/bin/sh\necho hi\n');
    chmodSync(file, 0o644);
    // Act
    const text = describeFailure(runTool(file));
    // Assess
    expect(text).toBe(
      `could not start \`${file}\`: permission denied (EACCES); the file is not executable by this user`,
    );
  });

  it('reports a process killed by a signal with the signal name and the command', () => {
    const text = describeFailure(runTool('sh', ['-c', 'echo partial >&2; kill -9 $$']));
    expect(text).toBe("`sh -c 'echo partial >&2; kill -9 $$'` was killed by signal SIGKILL: partial");
    expect(text).not.toMatch(/null/);
  });

  it('reports an exit code with the last lines of output, or says there was none', () => {
    expect(describeFailure(runTool('sh', ['-c', 'echo first; echo "FATAL: broken" >&2; exit 3']))).toBe(
      '`sh -c \'echo first; echo "FATAL: broken" >&2; exit 3\'` exited with code 3: FATAL: broken\nfirst',
    );
    expect(describeFailure(runTool('sh', ['-c', 'exit 1']))).toBe(
      "`sh -c 'exit 1'` exited with code 1: (no output)",
    );
  });

  it('explains an exit code above 128 as a program killed by a signal (runuser, sh report it so)', () => {
    expect(describeFailure(runTool('sh', ['-c', 'exit 137']))).toBe(
      "`sh -c 'exit 137'` exited with code 137 (128 + 9: the program was killed by SIGKILL): (no output)",
    );
    expect(describeFailure(runTool('sh', ['-c', 'exit 200']))).toBe(
      "`sh -c 'exit 200'` exited with code 200: (no output)",
    );
  });

  it('reports a process that ran past its time limit as stopped, not as a start failure', () => {
    const text = describeFailure(runTool('sleep', ['5'], { timeout: 200 }));
    expect(text).toMatch(/^`sleep 5` did not finish in time and was stopped/);
  });

  it('shows the command as a person would type it, quoting only what needs quotes', () => {
    expect(commandLine('/usr/bin/pg_ctl', ['-D', '/tmp/a b', '-o', "-c x='y'", 'start'])).toBe(
      `/usr/bin/pg_ctl -D '/tmp/a b' -o '-c x='\\''y'\\''' start`,
    );
  });
});

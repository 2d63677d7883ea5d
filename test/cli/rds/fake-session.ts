/**
 * The one family of fakes for the RDS commands: a terminal that answers, an invoker that answers
 * from a script and records the calls, and the RdsSession that carries them (as
 * cli/rds/context.ts's createRdsSession builds the real one).
 */
import type { RdsSession } from '../../../cli/rds/context';
import type { Invoker, RdsFunction } from '../../../cli/rds/invoke';
import type { PollOptions, RdsIo } from '../../../cli/rds/operations';
import type { FakeContext } from '../shared/fake-context';

export type FakeIo = RdsIo & { readonly lines: string[]; readonly questions: string[] };

/** A terminal that answers `answer` to every question and keeps the progress lines; sleeps return at once. */
export function fakeIo(answer = true): FakeIo {
  const lines: string[] = [];
  const questions: string[] = [];
  return {
    lines,
    questions,
    confirm: async (q) => {
      questions.push(q);
      return answer;
    },
    progress: (l) => void lines.push(l),
    sleep: async () => {},
  };
}

export type RecordingInvoker = Invoker & {
  /** The functions called, in order. */
  readonly calls: RdsFunction[];
  /** Each call's function and event, in order. */
  readonly events: { fn: RdsFunction; event: Record<string, unknown> }[];
};

/** An invoker that records every call and answers with `answer(fn, event)`. */
export function recordingInvoker(
  answer: (fn: RdsFunction, event: Record<string, unknown>) => unknown,
): RecordingInvoker {
  const calls: RdsFunction[] = [];
  const events: { fn: RdsFunction; event: Record<string, unknown> }[] = [];
  const fn: Invoker = async (name, event) => {
    calls.push(name);
    events.push({ fn: name, event: { ...event } });
    return answer(name, { ...event });
  };
  return Object.assign(fn, { calls, events });
}

/** An invoker that answers each function from its list in turn; an unscripted call throws. */
export function scriptedInvoker(answers: Partial<Record<RdsFunction, unknown[]>>): RecordingInvoker {
  return recordingInvoker((name) => {
    const next = answers[name]?.shift();
    if (next === undefined) throw new Error(`unexpected call to ${name}`);
    return next;
  });
}

/** The session an RDS command runs with, writing to `ctx`'s captured streams. */
export function fakeSession(
  ctx: FakeContext,
  invoke: Invoker,
  io: RdsIo = fakeIo(),
  poll: PollOptions = {},
): RdsSession {
  return { invoke, io, poll, stdout: ctx.stdout, stderr: ctx.stderr };
}

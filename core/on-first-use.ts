/**
 * A value built on its first use and kept: for schemas only some invocations need, so a cold start
 * does not build them (test/lambda/cold-start.test.ts checks which are built at load).
 */
export function onFirstUse<T>(build: () => T): () => T {
  let made: T | undefined;
  return () => (made ??= build());
}

/**
 * Jest runtime (jest.config.js `runtime`) that gives V8 a code cache for every module it compiles.
 *
 * Jest loads every module of a test file afresh in the file's own context, and compiles each from
 * source with `vm.compileFunction` and no cache: aws-cdk-lib, the AWS SDK and the rest are parsed
 * again by every test file (test/lib, test/lint and test/bench took 60 CPU-s without a cache and
 * 50 with one, 53 when it started empty). This runtime is jest-runtime with
 * one difference: when jest compiles a module, V8 gets the bytecode it produced the last time it
 * compiled the same source (kept per worker in memory and on disk under
 * node_modules/.cache/kb-dr/v8-code-cache/), and skips the parse. Nothing else changes: the module
 * is still evaluated afresh in the test file's own context, with jest's require, mocks and module
 * registry. A cache V8 rejects (another Node version or flags) is replaced; the key is a hash of
 * the file name and the exact source, so an edited file never meets an old cache.
 */
const { createHash } = require('node:crypto');
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const vm = require('node:vm');
const Runtime = require('jest-runtime').default;

const { CODE_CACHE_ROOT } = require('./code-cache-prune');

const DIR = join(CODE_CACHE_ROOT, process.version);
/** Caches this worker has read or made, by key. */
const memory = new Map();
/** The module jest is compiling right now (set only around jest's own call). */
let current;

function keyOf(filename, source) {
  return createHash('sha1').update(filename).update('\0').update(source).digest('hex');
}

function readCache(key) {
  if (memory.has(key)) return memory.get(key);
  let data;
  try {
    data = readFileSync(join(DIR, `${key}.bin`));
  } catch {
    data = undefined;
  }
  memory.set(key, data);
  return data;
}

function writeCache(key, data) {
  memory.set(key, data);
  try {
    mkdirSync(DIR, { recursive: true });
    const tmp = join(DIR, `${key}.${process.pid}.tmp`);
    writeFileSync(tmp, data);
    renameSync(tmp, join(DIR, `${key}.bin`)); // readers see the whole file or none
  } catch {
    // A read-only or full disk only costs the next run its parse.
  }
}

const compileFunction = vm.compileFunction;
// Only jest's own compile of a module (below) is given a cache; any other call, e.g. a test's own
// vm.compileFunction, is passed through untouched.
vm.compileFunction = function compileWithCache(code, params, options) {
  const module = current;
  if (!module || options?.filename !== module.filename || code !== module.source)
    return compileFunction.call(this, code, params, options);
  current = undefined;
  const key = keyOf(module.filename, code);
  const cachedData = readCache(key);
  const fn = compileFunction.call(this, code, params, {
    ...options,
    ...(cachedData ? { cachedData } : { produceCachedData: true }),
  });
  if (!cachedData && fn.cachedDataProduced && fn.cachedData) writeCache(key, fn.cachedData);
  if (cachedData && fn.cachedDataRejected) memory.set(key, undefined);
  return fn;
};

class CodeCacheRuntime extends Runtime {
  constructor(...args) {
    super(...args);
    // jest-runtime 30 compiles modules in its ModuleExecutor (`this.executor.compile`); without
    // one (another jest version) modules are compiled as before, without a cache.
    const executor = this.executor;
    if (!executor || typeof executor.compile !== 'function') return;
    const compile = executor.compile.bind(executor);
    executor.compile = (source, filename) => {
      current = { filename, source };
      try {
        return compile(source, filename);
      } finally {
        current = undefined;
      }
    };
  }
}

module.exports = CodeCacheRuntime;
module.exports.default = CodeCacheRuntime;

/**
 * Where the jest runtime (code-cache-runtime.js) keeps its V8 code cache, and its pruning (by the
 * global teardown). Apart from the runtime, which patches vm.compileFunction when loaded.
 */
const { readdirSync, rmSync, statSync } = require('node:fs');
const { join } = require('node:path');

/** One folder per Node version (a cache is only good for the version that made it). */
const CODE_CACHE_ROOT = join(__dirname, '..', '..', 'node_modules', '.cache', 'kb-dr', 'v8-code-cache');

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Keep the cache from growing without end (every edit of a module adds an entry, and nothing else
 * removes the old one): remove what has not been read or written for `maxAgeDays` (the file's
 * access time, which Linux's default relatime moves at least once a day on a read, or its write
 * time if later), the folders of other Node versions not written for as long, and temporary files
 * left by a killed worker. Run by the global teardown, once per run. Returns what it removed.
 */
function pruneCodeCache({
  root = CODE_CACHE_ROOT,
  version = process.version,
  now = Date.now(),
  maxAgeDays = 14,
} = {}) {
  const removed = [];
  const old = (stat, days) => now - Math.max(stat.atimeMs, stat.mtimeMs) > days * DAY_MS;
  let versions;
  try {
    versions = readdirSync(root);
  } catch {
    return removed; // no cache yet
  }
  for (const name of versions) {
    const dir = join(root, name);
    try {
      if (name !== version) {
        if (old(statSync(dir), maxAgeDays)) {
          rmSync(dir, { recursive: true, force: true });
          removed.push(dir);
        }
        continue;
      }
      for (const file of readdirSync(dir)) {
        const path = join(dir, file);
        const stat = statSync(path);
        if (file.endsWith('.bin') ? old(stat, maxAgeDays) : old(stat, 1 / 24)) {
          rmSync(path, { force: true });
          removed.push(path);
        }
      }
    } catch {
      // Gone meanwhile, or not ours to read: leave it.
    }
  }
  return removed;
}

module.exports = { CODE_CACHE_ROOT, pruneCodeCache };

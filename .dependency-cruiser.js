/**
 * The import graph's rules (issue 12, "Done when"; docs/ARCHITECTURE.md, Import direction):
 * core <- lambda <- lib/cli/harness <- bin/drill/bench, nothing outside test/ imports test/, no
 * cycles. `npm run lint:imports` runs it (part of `npm run lint`, hence of `npm test`). ESLint's
 * no-restricted-imports (eslint.config.mjs) checks the same direction file by file as you type;
 * this checks the resolved graph, which also catches cycles and imports that a relative path
 * regex cannot see.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'A cycle: two modules that need each other. Move what both need into a third module lower in the ' +
        'graph (core/ or lambda/shared/), or pass it as an argument.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-imports-nothing-of-ours',
      severity: 'error',
      comment:
        'core/ is the vocabulary at the bottom of the graph: it imports only node built-ins, zod and core/ ' +
        'itself (no SDK, no CDK, nothing of ours).',
      from: { path: '^core/' },
      to: { pathNot: ['^core/', '^node_modules/zod/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'lambda-is-deployed-code',
      severity: 'error',
      comment:
        'lambda/ is bundled into the functions: it may import core/, lambda/ and npm packages, never lib, ' +
        'cli, harness, drill, bench, bin or test.',
      from: { path: '^lambda/' },
      to: { path: '^(lib|cli|harness|drill|bench|bin|test)/' },
    },
    {
      name: 'lambda-shared-is-below-the-functions',
      severity: 'error',
      comment:
        "lambda/shared/ serves every function, so it never imports one function's folder: move what it " +
        'needs (a type, a helper) into lambda/shared/ or core/, and let the function re-export it.',
      from: { path: '^lambda/shared/' },
      to: { path: '^lambda/(?!shared/)' },
    },
    {
      name: 'harness-never-imports-test',
      severity: 'error',
      comment:
        'harness/ is what the drill and the benches run on, without jest: what it needs lives in harness/ ' +
        'or core/, never in test/.',
      from: { path: '^harness/' },
      to: { path: '^test/' },
    },
    {
      name: 'nothing-outside-test-imports-test',
      severity: 'error',
      comment:
        'Only tests import test/: move what production code, the drill or a bench needs into harness/ ' +
        '(or core/).',
      from: { pathNot: '^(test|harness)/' },
      to: { path: '^test/' },
    },
    {
      name: 'entry-points-are-leaves',
      severity: 'error',
      comment:
        'bin/, drill/ and bench/ are entry points at the top of the graph: nothing else imports them ' +
        '(tests may). Move what others need into cli/, harness/ or core/.',
      from: { pathNot: '^(bin|drill|bench|test)/' },
      to: { path: '^(bin|drill|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(cdk\\.out|dist|coverage|drill-out|bench-out)/' },
    // Type-only imports count: a layer may not even name another's types upwards.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};

// The house rules of incasso, checked by `npm run check:deps` (and so by `npm test`). Each rule says why it
// exists; an exception is written into the rule it bends, with its reason, never as a blanket ignore.
// Paths are relative to the repository root. Type-only imports count: a type from a higher layer still ties
// the lower one to it (and to its shape changing).

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'No import cycles in the hub or the emulators: a cycle means two modules are one module in two files, ' +
        'the order their top-level code runs in depends on which one is imported first, and neither can be ' +
        'changed or tested alone. Break it by moving the shared piece down a layer or by passing a function in.',
      from: { path: '^(src|emulators)/' },
      to: { circular: true },
    },
    {
      name: 'core-imports-only-core',
      severity: 'error',
      comment:
        'src/core/ is the bottom layer (money, ids, states and their transitions, validation): everything may ' +
        'use it, so it may use nothing of the hub, or every layer would depend on every other through it.',
      from: { path: '^src/core/' },
      to: { path: '^(src|emulators|test|bench|bin|scripts)/', pathNot: '^src/core/' },
    },
    {
      name: 'connectors-are-codecs',
      severity: 'error',
      comment:
        "A connector translates between the hub's core types and one processor's protocol. It never reads the " +
        "database, the HTTP layer, the services or the hub's configuration: the services call it with what it " +
        'needs, so a connector can be tested (and used by its emulator) without a hub. Allowed: core, other ' +
        'connector code, src/security/ (the Secret wrapper its credentials are held in).',
      from: { path: '^src/connectors/' },
      to: { path: '^(src/(services|store|http|cli)/|src/(server|config)\\.ts$|emulators/)' },
    },
    {
      name: 'services-never-import-http',
      severity: 'error',
      comment:
        'src/services/ is what the hub does; src/http/ is one way of asking for it (the CLI and the worker are ' +
        'others). A service that imports http cannot run without Fastify and ties the ledger to one surface.',
      from: { path: '^src/services/' },
      to: { path: '^(src/(http|cli)/|src/server\\.ts$)' },
    },
    {
      name: 'store-imports-only-core',
      severity: 'error',
      comment:
        'src/store/ holds the schema, migrations and statements. It knows rows, not what the hub does with ' +
        'them: a store that imports a service or a connector would make every schema change ripple upwards.',
      from: { path: '^src/store/' },
      to: { path: '^(src|emulators)/', pathNot: '^src/(store|core)/' },
    },
    {
      name: 'emulators-stay-outside-the-hub',
      severity: 'error',
      comment:
        'The emulators play the processors: they talk to the hub over HTTP only, like the real ones. They may ' +
        "reuse the connectors' codecs (the same wire format from the other side), the core types and the neutral " +
        'HTML template (src/html/), never hub services, store internals or http. The database handle they ' +
        "get is a plain Kysely passed in by the hub at mount time, not an import of the hub's store.",
      from: { path: '^emulators/' },
      to: { path: '^src/', pathNot: '^src/(core|connectors|html)/' },
    },
    {
      name: 'only-the-composition-root-mounts-emulators',
      severity: 'error',
      comment:
        'The hub does not depend on its sandbox. Exception: src/server.ts builds the running hub and mounts the ' +
        'emulators when INCASSO_EMULATORS asks for them (a dynamic import, so a hub without them never loads them).',
      from: { path: '^src/', pathNot: '^src/server\\.ts$' },
      to: { path: '^emulators/' },
    },
    {
      name: 'html-template-is-neutral',
      severity: 'error',
      comment:
        "src/html/ is shared by the hub's pages and the emulators' pages, so it must import nothing but core " +
        '(it is what keeps the emulators from importing src/http/).',
      from: { path: '^src/html/' },
      to: { path: '^(src|emulators)/', pathNot: '^src/(html|core)/' },
    },
    {
      name: 'no-test-code-in-the-product',
      severity: 'error',
      comment: 'The hub and the emulators ship without test/, bench/ and scripts/: importing them would break a production install.',
      from: { path: '^(src|emulators)/' },
      to: { path: '^(test|bench|scripts)/' },
    },
    {
      name: 'no-dev-dependencies-at-run-time',
      severity: 'error',
      comment:
        'The hub and the emulators run from `npm ci --omit=dev`: a runtime import of a devDependency works in ' +
        'development and fails in production. Type-only imports vanish at run time and are fine.',
      from: { path: '^(src|emulators)/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that cannot be resolved would silently pass every rule above (there would be no edge to check), ' + 'and fails at run time anyway.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-orphans',
      severity: 'error',
      comment:
        'A module that nothing imports and that imports nothing is dead code. Entry points loaded by path are exempt: ' +
        "the verification worker's boot file (new Worker(url)), and the console's scripts for the browser " +
        '(`*.browser.js`, read as text and served to the page, never imported).',
      from: { orphan: true, pathNot: ['\\.d\\.ts$', '^src/services/verify-worker-boot\\.mjs$', '^src/http/console/.+\\.browser\\.js$'] },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Packages are resolved through their `exports` maps, as Node does (tsx/esm/api exists only there).
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    reporterOptions: { text: { highlightFocused: true } },
    cache: false,
  },
};

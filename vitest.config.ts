import { defineConfig } from 'vitest/config';

// Projects: `unit` (tests beside the code, no cluster), `conformance` (kubeloop against client-go, no cluster),
// `integration` (one shared control plane per run, started by test/support/global-setup.ts; a namespace per test) and
// `fault` (files that start their own control planes). Decorators are compiled the legacy way with metadata, as tsc does.
const oxc = { decorator: { legacy: true, emitDecoratorMetadata: true } } as const;

export default defineConfig({
  oxc,
  test: {
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
    projects: [
      {
        oxc,
        test: {
          name: 'unit',
          include: ['sdk/**/*.test.ts', 'scripts/**/*.test.ts', 'test/unit/**/*.test.ts'],
        },
      },
      {
        oxc,
        test: {
          // kubeloop against client-go v0.37.2 on the same corpus: test/conformance/oracle is a Go program built once
          // into ~/.cache/kubeloop (or named by KUBELOOP_CONFORMANCE_ORACLE); skipped when Go is missing.
          name: 'conformance',
          include: ['test/conformance/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 300_000,
        },
      },
      {
        oxc,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'samples/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        oxc,
        test: {
          // The book (docs/): snippets type-checked against the built package, generated reference pages up to date,
          // the tutorial's included code present, the site built with VitePress, its links resolved and eight pages (a
          // tutorial page among them) rendered in headless Chromium.
          name: 'docs',
          include: ['test/docs/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        oxc,
        test: {
          // Scaffolds an operator with the CLI, installs it from a packed tarball, builds, tests and runs it against
          // a control plane of its own: minutes, not seconds. tutorial.test.ts follows the book's tutorial in a
          // scaffolded project linked to this checkout.
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 600_000,
          hookTimeout: 300_000,
        },
      },
      {
        oxc,
        test: {
          // Each file starts the control planes it may kill, restart or cut off.
          name: 'fault',
          include: ['test/fault/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});

/**
 * The differential suite: kubeloop against client-go v0.37.2 on the same inputs. A Go program (oracle/, built once
 * into ~/.cache/kubeloop) says what client-go and apimachinery make of each case of the corpus (corpus/); this file
 * runs the same case through kubeloop and compares, case by case. Differences are accepted only when listed in
 * differences.ts; the run prints the known ones. Skipped, with the reason, when Go is missing and no oracle is built.
 * `KUBELOOP_CONFORMANCE_REPORT=file` writes every difference found, one line each, to that file.
 */
import { writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeconfigCases } from './corpus/kubeconfig.js';
import { writeFixtures } from './corpus/fixtures.js';
import { quantityCases } from './corpus/quantities.js';
import { fieldSelectorCases, fieldSets, labelSelectorCases, labelSets } from './corpus/selectors.js';
import { deliberateDifferences, knownDifferences, type AcceptedDifference } from './differences.js';
import { findOracle, runOracle } from './support/oracle.js';
import {
  kubeloopFieldSelector,
  kubeloopKubeconfig,
  kubeloopLabelSelector,
  kubeloopQuantity,
  listDelimiter,
  type PreparedCase,
} from './support/kubeloop.js';
import {
  compareKubeconfig,
  compareQuantity,
  compareSelector,
  formatDifference,
  type Difference,
  type KubeconfigResult,
  type QuantityResult,
  type SelectorResult,
} from './support/results.js';

interface OracleResponse {
  kubeconfig: Record<string, KubeconfigResult>;
  labels: Record<string, SelectorResult>;
  fields: Record<string, SelectorResult>;
  quantities: Record<string, QuantityResult>;
}

const oracle = findOracle();
const root = await mkdtemp(join(tmpdir(), 'kubeloop-conformance-'));
const fixtures = await writeFixtures(root);
const kubeconfigs = kubeconfigCases(fixtures);

/** Writes each case's files into its own folder and makes its paths absolute. */
async function prepare(): Promise<PreparedCase[]> {
  return Promise.all(
    kubeconfigs.map(async (c) => {
      const dir = join(root, 'cases', c.id);
      await mkdir(dir, { recursive: true });
      for (const [path, text] of Object.entries(c.files)) {
        await mkdir(dirname(join(dir, path)), { recursive: true });
        await writeFile(join(dir, path), text, { mode: 0o600 });
      }
      const prepared: PreparedCase = { id: c.id, dir: root };
      if (c.explicit) prepared.explicitPath = join(dir, c.explicit);
      else prepared.kubeconfigEnv = (c.list ?? []).map((p) => (p ? join(dir, p) : '')).join(listDelimiter);
      if (c.flags) {
        prepared.flags = Object.fromEntries(Object.entries(c.flags).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));
      }
      return prepared;
    }),
  );
}

/** Every case's differences, by kind and case id; filled once, before the per-case tests. */
const differences = new Map<string, Difference[]>();

beforeAll(async () => {
  if (!('path' in oracle)) return;
  const prepared = await prepare();
  const response = await runOracle<OracleResponse>(oracle.path, {
    kubeconfig: prepared,
    labels: labelSelectorCases.map((c) => ({ ...c, sets: labelSets })),
    fields: fieldSelectorCases.map((c) => ({ ...c, sets: fieldSets })),
    quantities: quantityCases,
  });
  for (const c of prepared) {
    const clientGo = response.kubeconfig[c.id];
    if (!clientGo) throw new Error(`the oracle gave no result for ${c.id}`);
    differences.set(c.id, compareKubeconfig(clientGo, await kubeloopKubeconfig(c)));
  }
  for (const c of labelSelectorCases) {
    differences.set(c.id, compareSelector(response.labels[c.id]!, kubeloopLabelSelector(c.selector, labelSets), labelSets));
  }
  for (const c of fieldSelectorCases) {
    differences.set(c.id, compareSelector(response.fields[c.id]!, kubeloopFieldSelector(c.selector, fieldSets), fieldSets));
  }
  for (const c of quantityCases) {
    differences.set(c.id, compareQuantity(response.quantities[c.id]!, kubeloopQuantity(c.value, c.other)));
  }
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const covers = (accepted: AcceptedDifference | undefined, d: Difference): boolean =>
  Boolean(accepted?.fields.some((f) => d.field === f || d.field.startsWith(`${f}.`) || d.field.startsWith(`${f}[`)));

/** Checks one case: only listed fields may differ, and a deliberate difference must still be one. */
function check(id: string): void {
  const diffs = differences.get(id);
  expect(diffs, `no result for ${id}`).toBeDefined();
  const deliberate = deliberateDifferences[id];
  const known = knownDifferences[id];
  const lines = (diffs ?? []).map((d) => formatDifference(id, d));
  if (known && lines.length) console.warn(`known difference, ${known.reason}:\n  ${lines.join('\n  ')}`);
  if (known && !lines.length) console.warn(`${id} now matches client-go: remove it from knownDifferences`);
  const unexpected = (diffs ?? []).filter((d) => !covers(deliberate ?? known, d)).map((d) => formatDifference(id, d));
  expect(unexpected, 'kubeloop differs from client-go v0.37.2').toEqual([]);
  if (deliberate) {
    expect(lines.length, `${id} no longer differs: remove it from deliberateDifferences and the README`).toBeGreaterThan(0);
  }
}

const title = (id: string, about: string): string => `${id}: ${about}`;

if ('missing' in oracle) {
  describe('conformance with client-go v0.37.2', () => {
    it('needs the client-go oracle', (ctx) => {
      console.warn(`conformance suite skipped: ${oracle.missing}`);
      ctx.skip(oracle.missing);
    });
  });
} else {
  describe('conformance with client-go v0.37.2', () => {
    it('has a corpus of the promised size, with unique ids, and lists differences only for existing cases', () => {
      const ids = [...kubeconfigs, ...labelSelectorCases, ...fieldSelectorCases, ...quantityCases].map((c) => c.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(kubeconfigs.length).toBeGreaterThan(150);
      expect(labelSelectorCases.length).toBeGreaterThanOrEqual(150);
      expect(labelSets.length).toBe(14);
      const listed = [...Object.keys(deliberateDifferences), ...Object.keys(knownDifferences)];
      expect(listed.filter((id) => !ids.includes(id))).toEqual([]);
    });

    describe('kubeconfig and kubectl overrides', () => {
      it.each(kubeconfigs.map((c) => [title(c.id, c.about), c.id]))('%s', (_, id) => check(id));
    });
    describe('label selectors', () => {
      it.each(labelSelectorCases.map((c) => [title(c.id, JSON.stringify(c.selector)), c.id]))('%s', (_, id) => check(id));
    });
    describe('field selectors', () => {
      it.each(fieldSelectorCases.map((c) => [title(c.id, JSON.stringify(c.selector)), c.id]))('%s', (_, id) => check(id));
    });
    describe('quantities', () => {
      it.each(quantityCases.map((c) => [title(c.id, JSON.stringify(c.other === undefined ? c.value : [c.value, c.other])), c.id]))(
        '%s',
        (_, id) => check(id),
      );
    });

    it('reports the counts', () => {
      const differing = [...differences].filter(([, d]) => d.length > 0).map(([id]) => id);
      const deliberate = differing.filter((id) => deliberateDifferences[id]);
      const known = differing.filter((id) => knownDifferences[id]);
      console.warn(
        `conformance with client-go v0.37.2: ${differences.size} cases (${kubeconfigs.length} kubeconfig, ` +
          `${labelSelectorCases.length} label selectors × ${labelSets.length} sets, ${fieldSelectorCases.length} field ` +
          `selectors, ${quantityCases.length} quantities); ${differing.length} differ: ${deliberate.length} deliberate, ` +
          `${known.length} known and not fixed yet, ${differing.length - deliberate.length - known.length} unexpected`,
      );
      const report = process.env.KUBELOOP_CONFORMANCE_REPORT;
      if (report) {
        const all = [...differences].flatMap(([id, diffs]) => diffs.map((d) => formatDifference(id, d)));
        writeFileSync(report, `${all.join('\n')}\n`);
      }
      expect(differences.size).toBe(kubeconfigs.length + labelSelectorCases.length + fieldSelectorCases.length + quantityCases.length);
    });
  });
}

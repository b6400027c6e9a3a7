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
import { placeholderFixtures, writeFixtures } from './corpus/fixtures.js';
import { kubeconfigCases, type KubeconfigCase } from './corpus/kubeconfig.js';
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
/** The kubeconfig cases, for their ids and titles; the files they name are written in {@link compareAll}. */
const kubeconfigs = kubeconfigCases(placeholderFixtures());
/** The temporary folder of the run, once made. */
let root: string | undefined;

/** Writes each case's files into its own folder under `dir` and makes its paths absolute. */
async function prepare(dir: string, cases: KubeconfigCase[]): Promise<PreparedCase[]> {
  return Promise.all(
    cases.map(async (c) => {
      const folder = join(dir, 'cases', c.id);
      await mkdir(folder, { recursive: true });
      for (const [path, text] of Object.entries(c.files)) {
        await mkdir(dirname(join(folder, path)), { recursive: true });
        await writeFile(join(folder, path), text, { mode: 0o600 });
      }
      const prepared: PreparedCase = { id: c.id, dir };
      if (c.explicit) prepared.explicitPath = join(folder, c.explicit);
      else prepared.kubeconfigEnv = (c.list ?? []).map((p) => (p ? join(folder, p) : '')).join(listDelimiter);
      if (c.flags) {
        prepared.flags = Object.fromEntries(Object.entries(c.flags).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));
      }
      return prepared;
    }),
  );
}

/** Every case's differences, by case id; filled once, before the per-case tests. */
const differences = new Map<string, Difference[]>();

async function compareAll(oraclePath: string): Promise<void> {
  root = await mkdtemp(join(tmpdir(), 'kubeloop-conformance-'));
  const prepared = await prepare(root, kubeconfigCases(await writeFixtures(root)));
  const response = await runOracle<OracleResponse>(oraclePath, {
    kubeconfig: prepared,
    labels: labelSelectorCases.map((c) => ({ ...c, sets: labelSets })),
    fields: fieldSelectorCases.map((c) => ({ ...c, sets: fieldSets })),
    quantities: quantityCases,
  });
  const result = <T>(map: Record<string, T>, id: string): T => {
    const r = map[id];
    if (r === undefined) throw new Error(`the oracle gave no result for ${id}`);
    return r;
  };
  for (const c of prepared) {
    differences.set(c.id, compareKubeconfig(result(response.kubeconfig, c.id), await kubeloopKubeconfig(c)));
  }
  for (const c of labelSelectorCases) {
    const kubeloop = kubeloopLabelSelector(c.selector, labelSets);
    differences.set(c.id, compareSelector(result(response.labels, c.id), kubeloop, labelSets));
  }
  for (const c of fieldSelectorCases) {
    const kubeloop = kubeloopFieldSelector(c.selector, fieldSets);
    differences.set(c.id, compareSelector(result(response.fields, c.id), kubeloop, fieldSets));
  }
  for (const c of quantityCases) {
    differences.set(c.id, compareQuantity(result(response.quantities, c.id), kubeloopQuantity(c.value, c.other)));
  }
}

const covers = (accepted: AcceptedDifference | undefined, d: Difference): boolean =>
  Boolean(accepted?.fields.some((f) => d.field === f || d.field.startsWith(`${f}.`) || d.field.startsWith(`${f}[`)));

/**
 * The differences of one case that no entry of differences.ts accepts, as lines; also a line when a deliberate
 * difference is gone. Prints the known differences it lets through.
 */
function unexpectedDifferences(id: string): string[] {
  const diffs = differences.get(id);
  if (!diffs) return [`${id}: no result`];
  const deliberate = deliberateDifferences[id];
  const known = knownDifferences[id];
  const lines = diffs.map((d) => formatDifference(id, d));
  if (known && lines.length) console.warn(`known difference, ${known.reason}:\n  ${lines.join('\n  ')}`);
  if (known && !lines.length) console.warn(`${id} now matches client-go: remove it from knownDifferences`);
  const unexpected = diffs.filter((d) => !covers(deliberate ?? known, d)).map((d) => formatDifference(id, d));
  if (deliberate && !lines.length)
    unexpected.push(`${id} no longer differs: remove it from deliberateDifferences and the README`);
  return unexpected;
}

const title = (id: string, about: string): string => `${id}: ${about}`;
const oraclePath = 'path' in oracle ? oracle.path : undefined;
if ('missing' in oracle) console.warn(`conformance with client-go v0.37.2 skipped: ${oracle.missing}`);

describe.skipIf(oraclePath === undefined)('conformance with client-go v0.37.2', () => {
  beforeAll(() => compareAll(oraclePath ?? ''), 300_000);
  afterAll(() => root && rm(root, { recursive: true, force: true }));

  it('has a corpus of the promised size, with unique ids, and lists differences only for existing cases', () => {
    const ids = [...kubeconfigs, ...labelSelectorCases, ...fieldSelectorCases, ...quantityCases].map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(kubeconfigs.length).toBeGreaterThan(150);
    expect(labelSelectorCases.length).toBeGreaterThanOrEqual(150);
    expect(labelSets.length).toBe(14);
    const listed = [...Object.keys(deliberateDifferences), ...Object.keys(knownDifferences)];
    expect(listed.filter((id) => !ids.includes(id))).toEqual([]);
  });

  const cases: [string, { id: string; about: string }[]][] = [
    ['kubeconfig and kubectl overrides', kubeconfigs],
    ['label selectors', labelSelectorCases.map((c) => ({ id: c.id, about: JSON.stringify(c.selector) }))],
    ['field selectors', fieldSelectorCases.map((c) => ({ id: c.id, about: JSON.stringify(c.selector) }))],
    [
      'quantities',
      quantityCases.map((c) => ({
        id: c.id,
        about: JSON.stringify(c.other === undefined ? c.value : [c.value, c.other]),
      })),
    ],
  ];
  describe.each(cases)('%s', (_, list) => {
    it.each(list.map((c) => [title(c.id, c.about), c.id]))('%s', (_name, id) => {
      expect(unexpectedDifferences(id), 'kubeloop differs from client-go v0.37.2').toEqual([]);
    });
  });

  it('compared every case, and reports the counts', () => {
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
      writeFileSync(
        report,
        [...differences].flatMap(([id, diffs]) => diffs.map((d) => `${formatDifference(id, d)}\n`)).join(''),
      );
    }
    expect(differences.size).toBe(
      kubeconfigs.length + labelSelectorCases.length + fieldSelectorCases.length + quantityCases.length,
    );
  });
});

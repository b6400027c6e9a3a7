import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDefinitionFromCrd, generateTypesFromCrd } from '../../sdk/client/index.js';
import { repoRoot, runCli } from '../e2e/support/cli.js';

// `kubeloop generate types --crd`: kubeloop/client's generateTypesFromCrd, reached from the command line.
const fixture = join(repoRoot, 'sdk/client/codegen/testdata/cert-manager.io_certificaterequests.yaml');
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kubeloop-cli-types-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('kubeloop generate types', () => {
  it('prints what generateTypesFromCrd makes of the file', async () => {
    const ran = await runCli(['generate', 'types', '--crd', fixture], { cwd: root });
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toBe(
      generateTypesFromCrd(await readFile(fixture, 'utf8'), { source: 'cert-manager.io_certificaterequests.yaml' }),
    );
    expect(ran.stdout).toContain('export const CertificateRequest');
  });

  it('prints defineCustomResource definitions with --definition', async () => {
    const ran = await runCli(['generate', 'types', '--crd', fixture, '--definition'], { cwd: root });
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toBe(
      generateDefinitionFromCrd(await readFile(fixture, 'utf8'), {
        source: 'cert-manager.io_certificaterequests.yaml',
      }),
    );
    expect(ran.stdout).toContain('export const CertificateRequest = defineCustomResource({');
  });

  it('writes to --out, importing from --import-from', async () => {
    const ran = await runCli(
      ['generate', 'types', '--crd', fixture, '--out', 'src/certs.ts', '--import-from', '../kubeloop.js'],
      { cwd: root },
    );
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toBe('');
    expect(ran.stderr).toContain('wrote src/certs.ts');
    expect(await readFile(join(root, 'src/certs.ts'), 'utf8')).toContain("from '../kubeloop.js'");
  });

  it('says which file is unreadable or holds no CRD', async () => {
    let ran = await runCli(['generate', 'types', '--crd', 'nope.yaml'], { cwd: root });
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain(`error: cannot read --crd ${join(root, 'nope.yaml')}`);
    await writeFile(join(root, 'pod.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: { name: p }\n');
    ran = await runCli(['generate', 'types', '--crd', 'pod.yaml'], { cwd: root });
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain('pod.yaml: no CustomResourceDefinition in the input');
  });
});

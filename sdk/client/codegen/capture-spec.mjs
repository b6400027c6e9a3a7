// `npm run codegen:capture`: starts a real kube-apiserver (kubeloop/envtest) with every API group-version and every
// alpha and beta feature gate on, downloads its OpenAPI v3 documents and stores them under
// sdk/client/codegen/spec/ as the snapshot that `npm run codegen` reads: each document exactly as served, gzipped (about
// 1 MB instead of 10 MB of JSON; the generated TypeScript is the readable diff of an upgrade), and manifest.json. Regeneration needs no server; run this only
// to move to another Kubernetes version (set KUBEBUILDER_ASSETS or let envtest build the binaries).
//
// This is a developer tool, not part of the package: it imports kubeloop/envtest's TypeScript sources directly (Node's
// type stripping, with a resolve hook for the `.js` specifiers TypeScript source uses).
import { registerHooks } from 'node:module';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

registerHooks({
  resolve(specifier, context, next) {
    try {
      return next(specifier, context);
    } catch (err) {
      if (specifier.startsWith('.') && specifier.endsWith('.js')) return next(`${specifier.slice(0, -3)}.ts`, context);
      throw err;
    }
  },
});

const { startControlPlane } = await import('../../envtest/index.ts');
const { Agent, request } = await import('undici');

const specDir = join(import.meta.dirname, 'spec');
const apiServerFlags = ['--runtime-config=api/all=true', '--feature-gates=AllAlpha=true,AllBeta=true'];

const env = await startControlPlane({ kubernetesVersion: '1.37.2', apiServerFlags });
try {
  const { config } = env;
  const agent = new Agent({
    connect: { ca: config.caData, cert: config.certData, key: config.keyData, servername: config.serverName },
  });
  const get = async (path) => {
    const res = await request(`${config.host}${path}`, { dispatcher: agent, headers: { accept: 'application/json' } });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`GET ${path}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
    return JSON.parse(text);
  };
  const version = await get('/version');
  const index = await get('/openapi/v3');
  // Only group-version documents (`api/v1`, `apis/apps/v1`) describe resources; the others (`apis/apps`, `version`,
  // `.well-known/openid-configuration`, …) describe discovery endpoints.
  const groupVersions = Object.keys(index.paths)
    .filter((p) => /^api\/v1$|^apis\/[^/]+\/[^/]+$/.test(p))
    .toSorted();
  await mkdir(specDir, { recursive: true });
  for (const name of await readdir(specDir)) if (name.endsWith('.json.gz')) await rm(join(specDir, name));
  let bytes = 0;
  for (const gv of groupVersions) {
    const doc = await get(index.paths[gv].serverRelativeURL.split('?')[0]);
    const text = `${JSON.stringify(doc)}\n`;
    bytes += text.length;
    await writeFile(join(specDir, `${gv.replaceAll('/', '__')}.json.gz`), gzipSync(text, { level: 9 }));
  }
  const manifest = {
    comment: 'Written by sdk/client/codegen/capture-spec.mjs (npm run codegen:capture). Do not edit.',
    gitVersion: version.gitVersion,
    apiServerFlags,
    groupVersions,
  };
  await writeFile(join(specDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  process.stdout.write(
    `captured ${groupVersions.length} group-versions from ${version.gitVersion}: ${(bytes / 1e6).toFixed(1)} MB\n`,
  );
  await agent.close();
} finally {
  await env.stop();
}

// S1 cold sync (PERFORMANCE.md): one informer over N ConfigMaps (~1 KB of data each) against a control plane this
// script starts, next to the floor: a raw undici LIST of the same objects plus JSON.parse, in the same run.
//
//   npm run build && node bench/cache/cold-sync.mjs            # N=10000, 3 repetitions
//   N=1000 REPS=5 node bench/cache/cold-sync.mjs
//   VARIANTS=floor,watch-list CPU_PROF_DIR=/tmp/prof node bench/cache/cold-sync.mjs   # some variants, CPU profiles
//
// Each measurement runs in a fresh Node process (`--expose-gc`), one variant after the other in every repetition
// (A B C A B C …), so heap figures are not polluted by earlier runs and the order evens out drift. Reported: median
// time to synced (wall), median client CPU (user + system), and settled heap per object (after a full GC, minus the
// heap before the first request). Ratios are to the floor of the same run. Nothing here asserts a timing.
// kubeloop's client asks for gzip by default (as client-go does); the API server then compresses large LIST answers,
// which costs CPU on both ends over loopback. The `-identity` variants turn that off, to compare like with like.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const dist = (p) => join(root, 'dist/sdk', p);

const variants = {
  floor: 'raw undici LIST + JSON.parse',
  'floor-watch-list': 'raw undici WatchList stream, JSON.parse per event, until the initial-events-end bookmark',
  'watch-list': 'informer, WatchList (default), NODE_ENV=production',
  'list-500': 'informer, paginated LIST (limit=500), NODE_ENV=production',
  'list-all': 'informer, one LIST (no pages), NODE_ENV=production',
  'list-all-identity': 'informer, one LIST, disableCompression (no gzip, as the floor), NODE_ENV=production',
  'list-500-identity': 'informer, paginated LIST, disableCompression, NODE_ENV=production',
  'watch-list-frozen': 'informer, WatchList, objects frozen (development default)',
  metadata: 'metadata-only informer (PartialObjectMetadata), WatchList, NODE_ENV=production',
};

async function child(variant, connFile) {
  const { config, namespace, n } = JSON.parse(readFileSync(connFile, 'utf8'));
  // Load the code first: the figures are about the data, not about module sizes.
  const { Agent, request } = await import('undici');
  const { createSharedIndexInformer } = await import(dist('cache/index.js'));
  // kubeloop's own building block, not public API: the manager's metadata-only informers use it.
  const { metadataListWatchFor, resolveResource } = await import(dist('cache/internal.js'));
  const { createResourceClientFactory } = await import(dist('client/index.js'));
  const gc = globalThis.gc;
  gc();
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const cpu0 = process.cpuUsage();
  let keep;
  let t0;
  let t1;
  if (variant === 'floor') {
    const agent = new Agent({ connect: { ca: config.caData, cert: config.certData, key: config.keyData } });
    t0 = performance.now();
    const res = await request(`${config.host}/api/v1/namespaces/${namespace}/configmaps`, {
      dispatcher: agent,
      headers: { accept: 'application/json' },
    });
    const text = await res.body.text();
    keep = JSON.parse(text);
    t1 = performance.now();
    if (keep.items.length !== n) throw new Error(`floor listed ${keep.items.length} of ${n}`);
    await agent.close();
  } else if (variant === 'floor-watch-list') {
    const agent = new Agent({ connect: { ca: config.caData, cert: config.certData, key: config.keyData } });
    const controller = new AbortController();
    t0 = performance.now();
    const query =
      'watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion=';
    const res = await request(`${config.host}/api/v1/namespaces/${namespace}/configmaps?${query}`, {
      dispatcher: agent,
      headers: { accept: 'application/json' },
      signal: controller.signal,
    });
    const items = [];
    let pending = Buffer.alloc(0);
    outer: for await (const chunk of res.body) {
      let buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let start = 0;
      for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10, start)) {
        const event = JSON.parse(buf.toString('utf8', start, nl));
        start = nl + 1;
        if (event.type === 'BOOKMARK') break outer;
        items.push(event.object);
      }
      pending = buf.subarray(start);
    }
    t1 = performance.now();
    keep = items;
    if (items.length !== n) throw new Error(`floor-watch-list got ${items.length} of ${n}`);
    controller.abort();
    await agent.destroy();
  } else {
    const ConfigMap = { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };
    const cfg = variant.endsWith('-identity') ? { ...config, disableCompression: true } : config;
    const lw =
      variant === 'metadata'
        ? metadataListWatchFor(cfg, resolveResource(ConfigMap), namespace)
        : createResourceClientFactory(cfg).resource(ConfigMap).namespace(namespace);
    const options = {
      'watch-list': { initialList: 'watch-list' },
      'watch-list-frozen': { initialList: 'watch-list', freeze: true },
      metadata: { initialList: 'watch-list' },
      'list-500': { initialList: 'list', pageSize: 500 },
      'list-all': { initialList: 'list', pageSize: 0 },
      'list-all-identity': { initialList: 'list', pageSize: 0 },
      'list-500-identity': { initialList: 'list', pageSize: 500 },
    }[variant];
    const informer = createSharedIndexInformer(lw, options);
    const controller = new AbortController();
    t0 = performance.now();
    const running = informer.start(controller.signal);
    await informer.waitForSync();
    t1 = performance.now();
    if (informer.getIndexer().size !== n) throw new Error(`${variant} cached ${informer.getIndexer().size} of ${n}`);
    keep = informer;
    // Settled heap is measured with the informer still running (its cache is what a process keeps).
    const cpu = process.cpuUsage(cpu0);
    gc();
    gc();
    const heap = process.memoryUsage().heapUsed - heap0;
    controller.abort();
    await running;
    process.stdout.write(
      JSON.stringify({
        ms: t1 - t0,
        cpuMs: (cpu.user + cpu.system) / 1000,
        heapPerObject: heap / n,
        rss: process.memoryUsage().rss,
      }),
    );
    return;
  }
  const cpu = process.cpuUsage(cpu0);
  gc();
  gc();
  const heap = process.memoryUsage().heapUsed - heap0;
  process.stdout.write(
    JSON.stringify({
      ms: t1 - t0,
      cpuMs: (cpu.user + cpu.system) / 1000,
      heapPerObject: heap / n,
      rss: process.memoryUsage().rss,
      keep: keep ? 1 : 0,
    }),
  );
}

const ratio = (a, b) => (b ? `${(a / b).toFixed(2)}×` : '');

const median = (xs) => {
  const s = xs.toSorted((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function parent() {
  const n = Number(process.env.N ?? 10_000);
  const reps = Number(process.env.REPS ?? 3);
  const only = process.env.VARIANTS ? process.env.VARIANTS.split(',') : Object.keys(variants);
  const { startControlPlane } = await import(dist('envtest/index.js'));
  const { createResourceClientFactory } = await import(dist('client/index.js'));
  const env = await startControlPlane({ kubernetesVersion: '1.37.2', progress: () => undefined });
  const dir = mkdtempSync(join(tmpdir(), 'kubeloop-bench-'));
  try {
    const namespace = `bench-${n}`;
    const core = createResourceClientFactory(env.config);
    await core
      .resource({ group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false })
      .create({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: namespace },
      });
    const cms = core
      .resource({ group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true })
      .namespace(namespace);
    const seedStart = performance.now();
    const filler = 'x'.repeat(1000);
    for (let start = 0; start < n; start += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, n - start) }, (_, j) =>
          cms.create({
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: `cm-${start + j}`, labels: { app: 'bench', shard: String((start + j) % 10) } },
            data: { payload: filler },
          }),
        ),
      );
    }
    const bytes = (await cms.list({ limit: 1 })).items[0];
    console.log(
      `seeded ${n} ConfigMaps in ${Math.round(performance.now() - seedStart)} ms (one is ${JSON.stringify(bytes).length} bytes of JSON)`,
    );

    const connFile = join(dir, 'conn.json');
    writeFileSync(connFile, JSON.stringify({ config: env.config, namespace, n }), { mode: 0o600 });
    const results = Object.fromEntries(only.map((v) => [v, []]));
    for (let r = 0; r < reps; r++) {
      for (const v of only) {
        const prof = process.env.CPU_PROF_DIR
          ? ['--cpu-prof', `--cpu-prof-dir=${process.env.CPU_PROF_DIR}`, `--cpu-prof-name=${v}-${r}.cpuprofile`]
          : [];
        const out = execFileSync(
          process.execPath,
          ['--expose-gc', ...prof, fileURLToPath(import.meta.url), 'child', v, connFile],
          {
            encoding: 'utf8',
            env: { ...process.env, NODE_ENV: v === 'watch-list-frozen' ? 'development' : 'production' },
          },
        );
        results[v].push(JSON.parse(out));
      }
      process.stdout.write(`repetition ${r + 1}/${reps} done\n`);
    }

    const floor = results.floor;
    const f = floor && {
      ms: median(floor.map((x) => x.ms)),
      cpu: median(floor.map((x) => x.cpuMs)),
      heap: median(floor.map((x) => x.heapPerObject)),
    };
    console.log(
      `\nS1 cold sync, N=${n}, ${reps} repetitions, medians (node ${process.version}, kube-apiserver v1.37.2)\n`,
    );
    console.log(
      '| variant | synced (ms) | ÷ floor | client CPU (ms) | ÷ floor | heap/object (B) | ÷ floor | spread (ms) |',
    );
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const v of only) {
      const xs = results[v];
      const ms = median(xs.map((x) => x.ms));
      const cpu = median(xs.map((x) => x.cpuMs));
      const heap = median(xs.map((x) => x.heapPerObject));
      const spread = `${Math.round(Math.min(...xs.map((x) => x.ms)))}–${Math.round(Math.max(...xs.map((x) => x.ms)))}`;
      console.log(
        `| ${v}: ${variants[v]} | ${Math.round(ms)} | ${ratio(ms, f?.ms)} | ${Math.round(cpu)} | ${ratio(cpu, f?.cpu)} | ${Math.round(heap)} | ${ratio(heap, f?.heap)} | ${spread} |`,
      );
    }
    console.log('\nThe floor keeps managedFields (it parses what the server sends); informers strip them by default.');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await env.stop();
  }
}

if (process.argv[2] === 'child') await child(process.argv[3], process.argv[4]);
else await parent();

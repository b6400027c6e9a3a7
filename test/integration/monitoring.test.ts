import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { load } from 'js-yaml';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigMap, createClientset } from '../../sdk/client/index.js';
import { controllerFor, createManager, type ReconcileResult } from '../../sdk/manager/index.js';
import { allowed, createCertificateAuthority } from '../../sdk/webhook/index.js';
import { createTestNamespace, sharedCluster, uniqueName } from '../support/cluster.js';
import { managerRunner } from '../support/managers.js';
import { eventually, freePort, httpGet } from '../support/wait.js';

// The dashboards and alerts kubeloop ships for scaffolded operators (templates/monitoring): every query must name
// series that a running manager exports, so that no panel stays empty and no alert silently never fires.
const monitoring = resolve(import.meta.dirname, '../../templates/monitoring');

/** Labels Prometheus adds to every scraped series (the target's), and `le` of histogram buckets. */
const targetLabels = new Set([
  'job',
  'instance',
  'namespace',
  'pod',
  'service',
  'container',
  'endpoint',
  'exported_namespace',
  'le',
]);
const keywords = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/** The metric names and the label names a PromQL expression (Grafana variables allowed) uses. */
function promqlNames(expr: string): { metrics: string[]; labels: string[] } {
  const labels: string[] = [];
  let text = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const m of text.matchAll(/\{([^}]*)\}/g))
    for (const l of m[1]!.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)) labels.push(l[1]!);
  text = text.replace(/\{[^}]*\}/g, ' ').replace(/\[[^\]]*\]/g, ' ');
  text = text.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_, __, list: string) => {
    labels.push(
      ...list
        .split(',')
        .map((l) => l.trim())
        .filter((l) => l !== ''),
    );
    return ' ';
  });
  const metrics = [...text.matchAll(/(?<![\w:.$])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*\()/g)]
    .map((m) => m[1]!)
    .filter((name) => !keywords.has(name.toLowerCase()));
  return { metrics, labels };
}

/**
 * Prometheus' own parser (test/support/promql, built from the Go module proxy and cached): its path, or why there is
 * none. Without it, the names come from {@link promqlNames} alone and the syntax is not checked.
 */
function findPromqlParser(): { path: string } | { missing: string } {
  const build = spawnSync('bash', [resolve(import.meta.dirname, '../support/promql/build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const path = build.stdout.trim().split('\n').pop();
  if (build.status === 0 && path && existsSync(path)) return { path };
  if (build.status === 3)
    return { missing: "Go is not installed and Prometheus' PromQL parser is not cached (install Go 1.26)" };
  throw new Error(`building the PromQL parser failed (exit ${build.status}); its output is above`);
}

interface ParsedNames {
  error?: string;
  metrics: string[];
  labels: string[];
}

/** Each expression parsed by Prometheus' parser, Grafana's interval variables read as 5m. */
async function parseWithPrometheus(path: string, exprs: string[]): Promise<ParsedNames[]> {
  const child = promisify(execFile)(path, [], { maxBuffer: 16 * 1024 * 1024 });
  child.child.stdin?.end(JSON.stringify(exprs.map((e) => e.replace(/\$__\w+/g, '5m'))));
  return JSON.parse((await child).stdout) as ParsedNames[];
}

const promqlParser = findPromqlParser();
if ('missing' in promqlParser) console.warn(`monitoring: the PromQL syntax check is skipped: ${promqlParser.missing}`);

/** The series of a Prometheus text page: each name with the label names its samples carry. */
function seriesOf(page: string): Map<string, Set<string>> {
  const series = new Map<string, Set<string>>();
  for (const line of page.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? /.exec(line);
    if (!m) continue;
    const labels = series.get(m[1]!) ?? new Set<string>();
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="/g)) labels.add(l[1]!);
    series.set(m[1]!, labels);
  }
  return series;
}

interface GrafanaPanel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: GrafanaPanel[];
}

interface Dashboard {
  panels: GrafanaPanel[];
  templating: { list: { name: string; query?: string | { query: string } }[] };
}

/** Every query of a dashboard: its panels' and its variables' (`label_values(metric{…}, label)`). */
function dashboardQueries(dashboard: Dashboard): { where: string; expr: string }[] {
  const queries: { where: string; expr: string }[] = [];
  const walk = (panels: GrafanaPanel[]): void => {
    for (const p of panels) {
      for (const t of p.targets ?? []) if (t.expr) queries.push({ where: `panel ${p.title}`, expr: t.expr });
      walk(p.panels ?? []);
    }
  };
  walk(dashboard.panels);
  for (const v of dashboard.templating.list) {
    const query = typeof v.query === 'string' ? v.query : v.query?.query;
    const m = query && /^label_values\((.*),\s*([a-zA-Z_]\w*)\)$/.exec(query);
    if (m) queries.push({ where: `variable ${v.name}`, expr: `sum by (${m[2]}) (${m[1]})` });
  }
  return queries;
}

interface PrometheusRule {
  kind: string;
  spec: { groups: { name: string; rules: { alert: string; expr: string; for?: string }[] }[] };
}

/** A webhook call as the API server makes it: an AdmissionReview POSTed over TLS. */
function admissionCall(port: number, ca: string, path: string): Promise<number> {
  const review = {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: 'u-1', operation: 'CREATE', object: {} },
  };
  return new Promise((resolvePromise, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        ca,
        servername: 'localhost',
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolvePromise(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(review));
  });
}

describe('the shipped Grafana dashboards and PrometheusRule', () => {
  const { config } = sharedCluster();
  const run = managerRunner();
  let exported: Map<string, Set<string>>;
  let certDir: string;

  it('reads PromQL names as Prometheus does', () => {
    expect(
      promqlNames(
        'histogram_quantile(0.99, sum by (controller, le) (rate(foo_bucket{job=~"$job", code=~"5.."}[$__rate_interval])))',
      ),
    ).toEqual({
      metrics: ['foo_bucket'],
      labels: ['job', 'code', 'controller', 'le'],
    });
    expect(promqlNames('a_total / on (pod) group_left b_info > 0 and c offset 5m').metrics).toEqual([
      'a_total',
      'b_info',
      'c',
    ]);
  });

  // One manager with a controller (whose first reconcile fails, so retries exist too), leader election and a webhook
  // that was called: every series of the manager then has samples.
  beforeAll(async () => {
    const ns = await createTestNamespace(config, 'monitoring');
    const ca = await createCertificateAuthority('monitoring-ca');
    const leaf = await ca.sign({
      commonName: 'localhost',
      usage: 'server',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    certDir = await mkdtemp(join(tmpdir(), 'monitoring-certs-'));
    await writeFile(join(certDir, 'tls.crt'), leaf.certPem);
    await writeFile(join(certDir, 'tls.key'), leaf.keyPem);
    const [metricsPort, webhookPort] = [await freePort(), await freePort()];
    const mgr = await createManager({
      config,
      cache: { namespaces: [ns] },
      metrics: { bindAddress: `127.0.0.1:${metricsPort}` },
      healthProbeBindAddress: '0',
      leaderElection: {
        enabled: true,
        id: uniqueName('monitoring'),
        namespace: ns,
        leaseDurationMs: 4000,
        renewDeadlineMs: 3000,
        retryPeriodMs: 500,
      },
      webhook: { host: '127.0.0.1', port: webhookPort, certDir },
      logger: pino({ level: 'silent' }),
    });
    let attempts = 0;
    controllerFor(mgr)
      .for(ConfigMap)
      .named('monitored')
      .complete({
        reconcile: async (): Promise<ReconcileResult> => {
          attempts++;
          if (attempts === 1) throw new Error('the first attempt fails');
          return {};
        },
      });
    mgr.webhookServer.register('/validate-anything', () => allowed());
    run(mgr);
    await createClientset(config)
      .coreV1()
      .configMaps(ns)
      .create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'watched' } });
    await mgr.webhookServer.listening();
    const admitted = await admissionCall(webhookPort, ca.certPem, '/validate-anything');
    if (admitted !== 200) throw new Error(`the webhook answered ${admitted}`);
    const page = await eventually('a retried reconcile, a leader and the unfinished-work gauges, scraped', async () => {
      const scraped = await httpGet(`http://127.0.0.1:${metricsPort}/metrics`);
      const ready =
        /controller_runtime_reconcile_total\{controller="monitored",result="success"\} [1-9]/.test(scraped.text) &&
        /leader_election_master_status\{[^}]*\} 1/.test(scraped.text) &&
        // The unfinished-work gauges are set periodically (every 500 ms), as client-go's.
        scraped.text.includes('workqueue_longest_running_processor_seconds{');
      return ready ? scraped.text : undefined;
    });
    exported = seriesOf(page);
  });

  afterAll(async () => {
    await rm(certDir, { recursive: true, force: true });
  });

  /**
   * The problems of some queries: syntax errors (when Prometheus' parser is at hand, which must also agree with
   * {@link promqlNames}), metric names not exported, label names neither exported with them nor a target's.
   */
  async function problems(queries: { where: string; expr: string }[]): Promise<string[]> {
    const parsed =
      'path' in promqlParser
        ? await parseWithPrometheus(
            promqlParser.path,
            queries.map((q) => q.expr),
          )
        : undefined;
    return queries.flatMap(({ where, expr }, i) => {
      const ours = promqlNames(expr);
      const theirs = parsed?.[i];
      if (theirs?.error) return [`${where}: ${theirs.error} in ${expr}`];
      const found: string[] = [];
      if (theirs && JSON.stringify(theirs.metrics) !== JSON.stringify([...new Set(ours.metrics)].toSorted())) {
        found.push(
          `${where}: Prometheus reads the metrics ${theirs.metrics.join(', ')}, the test ${ours.metrics.join(', ')}`,
        );
      }
      const { metrics, labels } = theirs ?? ours;
      if (metrics.length === 0) found.push(`${where}: no metric in ${expr}`);
      for (const name of metrics) if (!exported.has(name)) found.push(`${where}: ${name} is not exported`);
      const known = new Set(metrics.flatMap((name) => [...(exported.get(name) ?? [])]));
      for (const label of labels)
        if (!known.has(label) && !targetLabels.has(label))
          found.push(`${where}: label ${label} is on none of ${metrics.join(', ')}`);
      return found;
    });
  }

  it('every dashboard query names exported series and their labels', async () => {
    const dir = join(monitoring, 'grafana');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
    expect(files.toSorted()).toEqual(['controller-runtime-metrics.json', 'operator-health.json']);
    const seen = new Set<string>();
    for (const file of files) {
      const dashboard = JSON.parse(await readFile(join(dir, file), 'utf8')) as Dashboard;
      const queries = dashboardQueries(dashboard);
      expect(queries.length).toBeGreaterThan(5);
      expect(await problems(queries.map((q) => ({ where: `${file} ${q.where}`, expr: q.expr })))).toEqual([]);
      for (const q of queries) for (const name of promqlNames(q.expr).metrics) seen.add(name);
    }
    // The families the issue asks for each have a panel.
    for (const name of [
      'controller_runtime_reconcile_total',
      'controller_runtime_reconcile_errors_total',
      'controller_runtime_reconcile_time_seconds_bucket',
      'workqueue_depth',
      'workqueue_queue_duration_seconds_bucket',
      'kubeloop_informer_synced',
      'kubeloop_informer_watching',
      'leader_election_master_status',
      'controller_runtime_webhook_requests_total',
      'controller_runtime_webhook_latency_seconds_bucket',
    ]) {
      expect(seen, name).toContain(name);
    }
  });

  it('every alert expression names exported series and their labels', async () => {
    const rule = load(await readFile(join(monitoring, 'prometheus', 'alerts.yaml'), 'utf8')) as PrometheusRule;
    expect(rule.kind).toBe('PrometheusRule');
    const alerts = rule.spec.groups.flatMap((g) => g.rules);
    expect(alerts.map((a) => a.alert)).toEqual(
      expect.arrayContaining([
        'KubeloopReconcileErrors',
        'KubeloopInformerStalled',
        'KubeloopNoLeader',
        'KubeloopWebhookErrors',
      ]),
    );
    expect(await problems(alerts.map((a) => ({ where: `alert ${a.alert}`, expr: a.expr })))).toEqual([]);
  });
});

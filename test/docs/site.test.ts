/**
 * The built book: `vitepress build docs` succeeds, every internal link and anchor of the built HTML resolves, and
 * headless Chromium renders the home page, a tutorial page (its code included from samples/cronjob), a how-to, a
 * concepts page, the performance page (its charts loaded) and three reference pages (error codes, metrics, an API
 * page) with their content and no console error. Screenshots go to test-results/docs/.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, launchChromium, type Browser } from './chromium.js';
import { repoRoot } from './pages.js';

const run = promisify(execFile);
const dist = join(repoRoot, 'docs', '.vitepress', 'dist');
const shots = join(repoRoot, 'test-results', 'docs');

function htmlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    if (e.isDirectory()) return htmlFiles(full);
    return e.name.endsWith('.html') ? [full] : [];
  });
}

/** The built file a site path stands for: `/guide/start.html`, `/guide/` → index.html. */
function fileOf(path: string): string {
  const clean = decodeURIComponent(path);
  return join(dist, normalize(clean.endsWith('/') ? `${clean}index.html` : clean));
}

const types: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
};

function serve(): Promise<Server> {
  const server = createServer((req, res) => {
    const file = fileOf(new URL(req.url ?? '/', 'http://localhost').pathname);
    if (!file.startsWith(dist + sep) || !existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('the built book', () => {
  let server: Server;
  let browser: Browser | undefined;

  beforeAll(async () => {
    const vitepress = join(repoRoot, 'node_modules', 'vitepress', 'bin', 'vitepress.js');
    await run(process.execPath, [vitepress, 'build', 'docs'], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
    server = await serve();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('has working internal links and anchors', () => {
    const files = htmlFiles(dist);
    const ids = new Map<string, Set<string>>();
    const idsOf = (file: string): Set<string> => {
      let set = ids.get(file);
      if (!set) {
        set = new Set([...readFileSync(file, 'utf8').matchAll(/\sid="([^"]+)"/g)].map((m) => m[1] ?? ''));
        ids.set(file, set);
      }
      return set;
    };
    const broken: string[] = [];
    let checked = 0;
    for (const file of files) {
      const page = `/${relative(dist, file).split(sep).join('/')}`;
      for (const [, href = ''] of readFileSync(file, 'utf8').matchAll(/<a\s[^>]*?href="([^"]*)"/g)) {
        if (/^[a-z]+:/i.test(href) || href.startsWith('//')) continue; // another site, mailto:
        const url = new URL(href.replaceAll('&amp;', '&'), `http://site${page}`);
        const target = fileOf(url.pathname);
        checked++;
        if (!existsSync(target)) broken.push(`${page}: ${href} (no page)`);
        else if (url.hash && !idsOf(target).has(decodeURIComponent(url.hash.slice(1))))
          broken.push(`${page}: ${href} (no anchor)`);
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(broken).toEqual([]);
  });

  const pages = [
    {
      name: 'home',
      path: '/index.html',
      expect: ['Kubernetes operators in TypeScript', 'Get started', 'Tested against a real API server'],
    },
    {
      name: 'tutorial-reconciler',
      path: '/tutorial/reconciler.html',
      // Included from samples/cronjob/src/reconcilers/cron-job-reconciler.ts by region.
      expect: ['The reconciler', 'defineFieldIndex(Job, jobOwnerKey', 'class CronJobReconciler implements Reconciler'],
    },
    {
      name: 'howto-rbac',
      path: '/howto/rbac.html',
      expect: ['RBAC from decorators', 'widgets/finalizers', 'enqueueRequestsFromMapFunc'],
    },
    {
      name: 'performance',
      path: '/performance.html',
      expect: ['Performance', 'Targets', 'S1 cold sync'],
      // Every chart is an image the browser could load and decode.
      ready: `[...document.querySelectorAll('.VPDoc img')].length >= 5 && [...document.querySelectorAll('.VPDoc img')].every((i) => i.complete && i.naturalWidth > 0)`,
    },
    {
      name: 'concepts-reconcile',
      path: '/concepts/reconcile.html',
      expect: ['The reconcile contract', 'TerminalError', 'requeueAfterMs'],
    },
    {
      name: 'reference-errors',
      path: '/reference/errors.html',
      expect: ['Error codes', 'ERR_KUBE_API', 'ERR_CLI_USAGE'],
    },
    {
      name: 'reference-metrics',
      path: '/reference/metrics.html',
      expect: ['Metrics', 'controller_runtime_reconcile_total', 'kubeloop_informer_objects'],
    },
    {
      name: 'reference-api-manager',
      path: '/reference/api/manager.html',
      expect: ['API: kubeloop/manager', 'createManager', 'Makes a manager'],
    },
  ];

  it.each(pages)(
    'renders $name in Chromium without console errors',
    async (page) => {
      const chromium = chromiumPath();
      expect(
        chromium,
        "Debian's chromium package is needed (.ci/run installs it: apt-get install -y chromium)",
      ).toBeDefined();
      browser ??= await launchChromium(chromium ?? 'chromium');
      const { port } = server.address() as AddressInfo;
      // Hydrated: VitePress's navigation bar and the page's own content are in the DOM.
      const visit = await browser.visit(
        `http://127.0.0.1:${port}${page.path}`,
        `document.querySelector('.VPNav') && document.querySelector('.VPContent')${'ready' in page ? ` && (${page.ready})` : ''}`,
      );
      mkdirSync(shots, { recursive: true });
      writeFileSync(join(shots, `${page.name}.png`), visit.screenshot);
      expect(visit.errors).toEqual([]);
      for (const text of page.expect) expect(visit.text).toContain(text);
      expect(visit.screenshot.subarray(1, 4).toString()).toBe('PNG');
      expect(existsSync(dirname(join(shots, `${page.name}.png`)))).toBe(true);
    },
    60_000,
  );
});

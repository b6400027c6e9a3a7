/**
 * Headless Chromium (Debian's `chromium` package) driven over the DevTools protocol with Node's own WebSocket: open a
 * page, collect console errors and uncaught exceptions, read text, take a screenshot. No browser download, no driver.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArgumentError } from '../../sdk/client/index.js';

interface CdpMessage {
  id?: number;
  method?: string;
  sessionId?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
}

export interface PageVisit {
  /** Console errors, uncaught exceptions and failed loads, as text. */
  errors: string[];
  /** document.body.innerText once `ready` held. */
  text: string;
  /** PNG bytes of the viewport. */
  screenshot: Buffer;
}

export interface Browser {
  visit(url: string, ready: string): Promise<PageVisit>;
  close(): Promise<void>;
}

/** Chromium's path on PATH, or undefined when it is not installed. */
export function chromiumPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    for (const name of ['chromium', 'chromium-browser']) {
      const path = join(dir, name);
      if (statSync(path, { throwIfNoEntry: false })?.isFile()) return path;
    }
  }
  return undefined;
}

function devToolsUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
      if (m?.[1]) {
        child.stderr?.off('data', onData);
        resolve(m[1]);
      }
    };
    child.stderr?.on('data', onData);
    child.once('exit', (code) =>
      reject(new ArgumentError(`chromium exited (${code ?? 'signal'}) before DevTools listened: ${seen.slice(-500)}`)),
    );
  });
}

export async function launchChromium(path: string): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'kubeloop-docs-chromium-'));
  const child = spawn(
    path,
    [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--remote-debugging-port=0',
      `--user-data-dir=${profile}`,
      '--window-size=1280,900',
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const ws = new WebSocket(await devToolsUrl(child));
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', () => reject(new ArgumentError('cannot connect to chromium DevTools')), {
      once: true,
    });
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  const listeners = new Set<(m: CdpMessage) => void>();
  ws.addEventListener('message', (event: MessageEvent) => {
    const message = JSON.parse(String(event.data)) as CdpMessage;
    if (message.id !== undefined) {
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) waiter?.reject(new ArgumentError(`DevTools: ${message.error.message}`));
      else waiter?.resolve(message.result ?? {});
      return;
    }
    for (const listener of listeners) listener(message);
  });
  const send = (
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
  ): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params, ...(sessionId && { sessionId }) }));
    });

  return {
    async visit(url: string, ready: string): Promise<PageVisit> {
      const { targetId } = (await send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
      const { sessionId } = (await send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
      const errors: string[] = [];
      const onEvent = (m: CdpMessage): void => {
        if (m.sessionId !== sessionId) return;
        if (m.method === 'Runtime.exceptionThrown')
          errors.push(`exception: ${JSON.stringify(m.params?.exceptionDetails)}`);
        if (m.method === 'Runtime.consoleAPICalled' && (m.params?.type === 'error' || m.params?.type === 'assert')) {
          errors.push(`console.error: ${JSON.stringify(m.params?.args)}`);
        }
        if (m.method === 'Log.entryAdded') {
          const entry = m.params?.entry as { level?: string; text?: string; url?: string } | undefined;
          if (entry?.level === 'error') errors.push(`log: ${entry.text ?? ''} ${entry.url ?? ''}`);
        }
      };
      listeners.add(onEvent);
      try {
        await send('Runtime.enable', {}, sessionId);
        await send('Log.enable', {}, sessionId);
        await send('Page.enable', {}, sessionId);
        await send('Page.navigate', { url }, sessionId);
        // Wait (bounded) until the page is loaded and hydrated and `ready` holds.
        const waited = await send(
          'Runtime.evaluate',
          {
            expression: `new Promise((resolve) => { const end = Date.now() + 20000; const tick = () => {
              let ok = false; try { ok = document.readyState === 'complete' && Boolean(${ready}); } catch {}
              if (ok || Date.now() > end) resolve(ok); else setTimeout(tick, 50); }; tick(); })`,
            awaitPromise: true,
            returnByValue: true,
          },
          sessionId,
        );
        if ((waited.result as { value?: unknown } | undefined)?.value !== true)
          errors.push(`not ready within 20 s: ${ready}`);
        const text = await send(
          'Runtime.evaluate',
          { expression: 'document.body.innerText', returnByValue: true },
          sessionId,
        );
        const shot = (await send('Page.captureScreenshot', { format: 'png' }, sessionId)) as { data: string };
        return {
          errors,
          text: String((text.result as { value?: unknown } | undefined)?.value ?? ''),
          screenshot: Buffer.from(shot.data, 'base64'),
        };
      } finally {
        listeners.delete(onEvent);
        await send('Target.closeTarget', { targetId });
      }
    },
    async close(): Promise<void> {
      ws.close();
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

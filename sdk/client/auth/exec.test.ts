import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasErrorCode, type KubeloopError } from '../errors.js';
import type { ExecConfig } from '../config/types.js';
import {
  createExecCredentialSource,
  ExecCredentialError,
  printable,
  sharedExecCredentialSource,
  type ExecCredentialSourceOptions,
} from './exec.js';

const v1 = 'client.authentication.k8s.io/v1';
const v1beta1 = 'client.authentication.k8s.io/v1beta1';
const secret = 'SECRET-token-9d8c7b';
const cluster = { server: 'https://api.example.com:6443' };

// One plugin, steered by environment variables the tests set through `exec.env`:
// OUTPUT (printed on stdout), STDERR, EXIT, SLEEP_MS, COUNT_FILE (one line per run), INFO_FILE (receives
// KUBERNETES_EXEC_INFO, argv and two variables), FAIL_AFTER (exit 1 once COUNT_FILE has that many lines),
// READ_STDIN (the token is the first line of standard input), WAIT_FILE (waits until that file exists: a plugin the test
// holds running, for as long as it likes, without timing anything).
const pluginSource = `
import { appendFileSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
const env = process.env;
const runs = env.COUNT_FILE && existsSync(env.COUNT_FILE) ? readFileSync(env.COUNT_FILE, 'utf8').split('\\n').filter(Boolean).length : 0;
if (env.COUNT_FILE) appendFileSync(env.COUNT_FILE, 'run\\n');
if (env.INFO_FILE) writeFileSync(env.INFO_FILE, JSON.stringify({
  info: JSON.parse(env.KUBERNETES_EXEC_INFO), argv: process.argv.slice(2), base: env.BASE_VAR, override: env.OVERRIDE_VAR,
}));
if (env.SLEEP_MS) await new Promise((r) => setTimeout(r, Number(env.SLEEP_MS)));
while (env.WAIT_FILE && !existsSync(env.WAIT_FILE)) await new Promise((r) => setTimeout(r, 10));
if (env.STDERR) process.stderr.write(env.STDERR);
if (env.FAIL_AFTER && runs >= Number(env.FAIL_AFTER)) { process.stderr.write('refresh failed'); process.exit(1); }
let output = env.OUTPUT ?? '';
if (env.READ_STDIN) {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  output = JSON.stringify({ apiVersion: '${v1}', kind: 'ExecCredential', status: { token: 'stdin:' + input.split('\\n')[0] } });
}
process.stdout.write(output);
process.exit(Number(env.EXIT ?? 0));
`;

let dir: string;
let plugin: string;
let counter = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'exec-test-'));
  plugin = join(dir, 'plugin.mjs');
  await writeFile(plugin, pluginSource);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const tempFile = (name: string): string => join(dir, `${name}-${++counter}`);

function credential(status: Record<string, unknown>, apiVersion = v1): string {
  return JSON.stringify({ apiVersion, kind: 'ExecCredential', status });
}

/** An ExecConfig running the test plugin with Node, with the given steering variables. */
function execConfig(vars: Record<string, string>, more: Partial<ExecConfig> = {}): ExecConfig {
  return {
    apiVersion: v1,
    interactiveMode: 'Never',
    command: process.execPath,
    args: [plugin],
    env: Object.entries(vars).map(([name, value]) => ({ name, value })),
    ...more,
  };
}

/** Captures what the plugin writes on standard error. */
function stderrSink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

const quiet = (): ExecCredentialSourceOptions => ({ stderr: stderrSink().stream, stdin: notTty() });
const notTty = (): NodeJS.ReadableStream & { isTTY?: boolean } => Object.assign(new PassThrough(), { isTTY: false });
const fakeTty = (input?: string): NodeJS.ReadableStream & { isTTY?: boolean } => {
  const stream = Object.assign(new PassThrough(), { isTTY: true });
  if (input !== undefined) stream.end(input);
  return stream;
};

async function runs(countFile: string): Promise<number> {
  try {
    return (await readFile(countFile, 'utf8')).split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
}

async function execError(work: Promise<unknown>): Promise<KubeloopError> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ExecCredentialError);
  expect(hasErrorCode(err, 'ERR_KUBE_EXEC')).toBe(true);
  expect((err as Error).message).not.toContain(secret);
  return err as KubeloopError;
}

describe('exec credential plugins: running', () => {
  it('returns the token of a v1 plugin and passes KUBERNETES_EXEC_INFO without cluster info by default', async () => {
    const info = tempFile('info');
    const source = createExecCredentialSource(
      execConfig({ OUTPUT: credential({ token: secret }), INFO_FILE: info }),
      cluster,
      quiet(),
    );
    expect(await source.credential()).toEqual({ token: secret });
    const seen = JSON.parse(await readFile(info, 'utf8')) as { info: unknown };
    expect(seen.info).toEqual({ apiVersion: v1, kind: 'ExecCredential', spec: { interactive: false } });
  });

  it('passes the cluster with provideClusterInfo: server, TLS settings, base64 CA and the exec extension', async () => {
    const info = tempFile('info');
    const ca = '-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n';
    const source = createExecCredentialSource(
      execConfig(
        { OUTPUT: credential({ token: secret }), INFO_FILE: info },
        { provideClusterInfo: true, config: { audience: 'prod', n: 1 } },
      ),
      {
        server: 'https://10.0.0.1:6443',
        caData: ca,
        serverName: 'api.internal',
        insecureSkipTLSVerify: true,
        proxyUrl: 'http://p:3128',
      },
      quiet(),
    );
    await source.credential();
    const seen = JSON.parse(await readFile(info, 'utf8')) as { info: unknown };
    expect(seen.info).toEqual({
      apiVersion: v1,
      kind: 'ExecCredential',
      spec: {
        interactive: false,
        cluster: {
          server: 'https://10.0.0.1:6443',
          'tls-server-name': 'api.internal',
          'insecure-skip-tls-verify': true,
          'certificate-authority-data': Buffer.from(ca).toString('base64'),
          'proxy-url': 'http://p:3128',
          config: { audience: 'prod', n: 1 },
        },
      },
    });
  });

  it('passes args, and merges the plugin env over the base environment', async () => {
    const info = tempFile('info');
    const source = createExecCredentialSource(
      {
        ...execConfig({ OUTPUT: credential({ token: secret }), INFO_FILE: info, OVERRIDE_VAR: 'from-plugin-env' }),
        args: [plugin, 'get-token', '--cluster', 'prod'],
      },
      cluster,
      { ...quiet(), env: { ...process.env, BASE_VAR: 'from-base', OVERRIDE_VAR: 'from-base' } },
    );
    await source.credential();
    expect(JSON.parse(await readFile(info, 'utf8'))).toMatchObject({
      argv: ['get-token', '--cluster', 'prod'],
      base: 'from-base',
      override: 'from-plugin-env',
    });
  });

  it('returns the client certificate and expiry of a v1beta1 plugin', async () => {
    const source = createExecCredentialSource(
      execConfig(
        {
          OUTPUT: credential(
            {
              clientCertificateData: 'CERT PEM',
              clientKeyData: 'KEY PEM',
              expirationTimestamp: '2030-01-02T03:04:05Z',
            },
            v1beta1,
          ),
        },
        { apiVersion: v1beta1, interactiveMode: undefined },
      ),
      cluster,
      quiet(),
    );
    expect(await source.credential()).toEqual({
      certData: 'CERT PEM',
      keyData: 'KEY PEM',
      expiresAt: Date.parse('2030-01-02T03:04:05Z'),
    });
  });

  it('forwards the plugin standard error', async () => {
    const sink = stderrSink();
    const source = createExecCredentialSource(
      execConfig({ OUTPUT: credential({ token: secret }), STDERR: 'opening browser…' }),
      cluster,
      {
        stderr: sink.stream,
        stdin: notTty(),
      },
    );
    await source.credential();
    expect(sink.text()).toBe('opening browser…');
  });
});

describe('exec credential plugins: caching', () => {
  it('caches until expirationTimestamp, refreshing 10 s early', async () => {
    const count = tempFile('count');
    let now = Date.parse('2030-01-01T00:00:00Z');
    const expires = '2030-01-01T00:01:00Z'; // 60 s of life
    const source = createExecCredentialSource(
      execConfig({ OUTPUT: credential({ token: secret, expirationTimestamp: expires }), COUNT_FILE: count }),
      cluster,
      { ...quiet(), now: () => now },
    );
    expect(await source.credential()).toEqual({ token: secret, expiresAt: Date.parse(expires) });
    now += 49_999;
    await source.credential();
    expect(await runs(count)).toBe(1);
    now += 1;
    await source.credential();
    expect(await runs(count)).toBe(2);
  });

  it('refreshes a short-lived credential halfway through its life, not at once', async () => {
    const count = tempFile('count');
    let now = Date.parse('2030-01-01T00:00:00Z');
    const source = createExecCredentialSource(
      execConfig({
        OUTPUT: credential({ token: secret, expirationTimestamp: '2030-01-01T00:00:04Z' }),
        COUNT_FILE: count,
      }),
      cluster,
      { ...quiet(), now: () => now },
    );
    await source.credential();
    now += 1999;
    await source.credential();
    expect(await runs(count)).toBe(1);
    now += 1;
    await source.credential();
    expect(await runs(count)).toBe(2);
  });

  it('keeps a credential without expiry until invalidate()', async () => {
    const count = tempFile('count');
    const source = createExecCredentialSource(
      execConfig({ OUTPUT: credential({ token: secret }), COUNT_FILE: count }),
      cluster,
      quiet(),
    );
    const first = await source.credential();
    await source.credential();
    expect(await runs(count)).toBe(1);
    source.invalidate({ token: 'some other credential' });
    await source.credential();
    expect(await runs(count)).toBe(1);
    source.invalidate(first);
    const second = await source.credential();
    expect(await runs(count)).toBe(2);
    source.invalidate();
    await source.credential();
    expect(await runs(count)).toBe(3);
    expect(second).toEqual(first);
  });

  it('shares one run between concurrent callers', async () => {
    const count = tempFile('count');
    const source = createExecCredentialSource(
      execConfig({ OUTPUT: credential({ token: secret }), COUNT_FILE: count, SLEEP_MS: '200' }),
      cluster,
      quiet(),
    );
    const all = await Promise.all(Array.from({ length: 5 }, () => source.credential()));
    expect(all.every((c) => c.token === secret)).toBe(true);
    expect(await runs(count)).toBe(1);
  });

  it('keeps a credential that has not expired when its early refresh fails', async () => {
    const count = tempFile('count');
    let now = Date.parse('2030-01-01T00:00:00Z');
    const source = createExecCredentialSource(
      execConfig({
        OUTPUT: credential({ token: secret, expirationTimestamp: '2030-01-01T00:01:00Z' }),
        COUNT_FILE: count,
        FAIL_AFTER: '1',
      }),
      cluster,
      { ...quiet(), now: () => now },
    );
    await source.credential();
    now += 55_000; // inside the early-refresh window, before expiry
    expect(await source.credential()).toMatchObject({ token: secret });
    expect(await runs(count)).toBe(2);
    now += 5_000; // expired now: the failure surfaces
    const err = await execError(source.credential());
    expect(err.message).toMatch(/exited with code 1; its standard error was passed on to ours/);
  });
});

describe('exec credential plugins: waiting', () => {
  /** A source whose plugin runs until `release()` creates its gate file. */
  function held(): {
    source: ReturnType<typeof createExecCredentialSource>;
    count: string;
    release: () => Promise<void>;
  } {
    const count = tempFile('count');
    const gate = tempFile('gate');
    const source = createExecCredentialSource(
      execConfig({ OUTPUT: credential({ token: secret }), COUNT_FILE: count, WAIT_FILE: gate }),
      cluster,
      quiet(),
    );
    return { source, count, release: () => writeFile(gate, '') };
  }

  it('rejects a caller whose signal aborts at once, with its reason; the run goes on for the other callers', async () => {
    const { source, count, release } = held();
    const patient = source.credential();
    let patientDone = false;
    void patient.then(() => (patientDone = true));
    const abort = new AbortController();
    const impatient = source.credential(abort.signal);
    const reason = new Error('the caller gave up');
    abort.abort(reason);
    await expect(impatient).rejects.toBe(reason);
    expect(patientDone).toBe(false);
    expect(source.health()).toMatchObject({ running: true, stuck: false, waitersTimedOut: 0 });
    // A caller whose signal already aborted does not wait at all.
    await expect(source.credential(AbortSignal.abort(reason))).rejects.toBe(reason);
    await release();
    expect(await patient).toMatchObject({ token: secret });
    expect(await runs(count)).toBe(1);
  });

  it('shows a run that outlived a caller’s timeout as stuck, until it ends', async () => {
    const { source, count, release } = held();
    const err = await source.credential(AbortSignal.timeout(20)).catch((e: unknown) => e);
    expect((err as Error).name).toBe('TimeoutError');
    const health = source.health();
    expect(health).toMatchObject({
      command: process.execPath,
      running: true,
      stuck: true,
      waitersTimedOut: 1,
      lastError: undefined,
    });
    expect(health.runningForMs).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(health)).not.toContain(plugin); // the arguments are not shown
    // A later caller joins the run in progress: no second run.
    const joined = source.credential();
    await release();
    expect(await joined).toMatchObject({ token: secret });
    expect(await runs(count)).toBe(1);
    expect(source.health()).toMatchObject({
      running: false,
      stuck: false,
      waitersTimedOut: 0,
      runningForMs: undefined,
    });
  });

  it('reports the last failed run in health, without the plugin output', async () => {
    const source = createExecCredentialSource(execConfig({ OUTPUT: secret, EXIT: '3' }), cluster, quiet());
    await execError(source.credential());
    expect(source.health().lastError).toMatch(/exited with code 3/);
    expect(source.health().lastError).not.toContain(secret);
  });

  it('shares one source, and so one run, between equal configurations', () => {
    const config = execConfig({ OUTPUT: credential({ token: secret }) });
    const a = sharedExecCredentialSource(config, cluster);
    expect(sharedExecCredentialSource({ ...config }, { ...cluster })).toBe(a);
    expect(sharedExecCredentialSource(config, { server: 'https://other:6443' })).not.toBe(a);
  });
});

describe('exec credential plugins: errors', () => {
  it('says a missing command is not installed, with the install hint', async () => {
    const source = createExecCredentialSource(
      {
        apiVersion: v1,
        interactiveMode: 'Never',
        command: 'kubeloop-no-such-plugin',
        installHint: 'Install it with: brew install kubeloop-plugin',
      },
      cluster,
      quiet(),
    );
    const err = await execError(source.credential());
    expect(err.message).toMatch(/exec plugin kubeloop-no-such-plugin not found/);
    expect(err.message).toContain('Install it with: brew install kubeloop-plugin');
  });

  it('escapes control characters of the install hint, as client-go does, so a terminal shows them instead of obeying', async () => {
    const source = createExecCredentialSource(
      {
        apiVersion: v1,
        interactiveMode: 'Never',
        command: 'kubeloop-no-such-plugin',
        installHint:
          'Run:\tinstall \u001b[2J\u001b]8;;https://x.example\u0007here\u001b]8;;\u0007\u009b\u200b\u0000 done\r\n',
      },
      cluster,
      quiet(),
    );
    const err = await execError(source.credential());
    expect(err.message).toContain(
      'Run:\tinstall U+001B[2JU+001B]8;;https://x.exampleU+0007hereU+001B]8;;U+0007U+009BU+200BU+0000 done\r\n',
    );
    expect(err.message).toBe(printable(err.message));
  });

  it('keeps letters, marks, numbers, punctuation, symbols and separators of any script', () => {
    expect(printable('Installez: brew install plugin — 插件 ✓ é\u00a0')).toBe(
      'Installez: brew install plugin — 插件 ✓ é\u00a0',
    );
    expect(printable('a\u007fb\u{e0001}c\u202ed')).toBe('aU+007FbU+E0001cU+202Ed');
  });

  it('says a command that is not executable cannot run', async () => {
    const file = tempFile('not-executable');
    await writeFile(file, '#!/bin/sh\necho hi\n');
    await chmod(file, 0o644);
    const err = await execError(
      createExecCredentialSource(
        { apiVersion: v1, interactiveMode: 'Never', command: file },
        cluster,
        quiet(),
      ).credential(),
    );
    expect(err.message).toMatch(/is not executable/);
  });

  it('gives the exit code, never standard output or standard error (which goes to stderr, as in client-go)', async () => {
    const sink = stderrSink();
    const source = createExecCredentialSource(
      execConfig({
        OUTPUT: credential({ token: secret }),
        STDERR: `${'x'.repeat(5000)}\nerror: session expired, one-time code s3cr3t-0tp`,
        EXIT: '3',
      }),
      cluster,
      { stderr: sink.stream, stdin: notTty() },
    );
    const err = await execError(source.credential());
    expect(err.message).toMatch(/exited with code 3; its standard error was passed on to ours$/);
    expect(err.message).not.toContain('s3cr3t-0tp');
    expect(err.message).not.toContain(secret);
    expect(sink.text()).toContain('one-time code s3cr3t-0tp');
  });

  it('refuses output that is not an ExecCredential, without quoting it', async () => {
    const cases: [string, RegExp][] = [
      [`token=${secret}`, /printed something that is not JSON/],
      ['', /printed nothing/],
      [`["${secret}"]`, /JSON that is not an object/],
      [
        credential({ token: secret }, v1beta1),
        /apiVersion "client.authentication.k8s.io\/v1beta1", but the kubeconfig asks for client.authentication.k8s.io\/v1/,
      ],
      [
        JSON.stringify({ apiVersion: v1, kind: 'Secret', status: { token: secret } }),
        /kind "Secret", expected ExecCredential/,
      ],
      [JSON.stringify({ apiVersion: v1, kind: secret, status: { token: secret } }), /kind \(not shown\), expected/],
      [JSON.stringify({ apiVersion: v1, kind: 'ExecCredential' }), /without status/],
      [credential({}), /neither status.token nor status.clientCertificateData/],
      [
        credential({ clientCertificateData: 'CERT' }),
        /only one of status.clientCertificateData and status.clientKeyData/,
      ],
      [credential({ token: 42 }), /status.token is not a string/],
      [credential({ token: secret, expirationTimestamp: 'tomorrow' }), /expirationTimestamp is not an RFC 3339 time/],
    ];
    for (const [output, message] of cases) {
      const err = await execError(
        createExecCredentialSource(execConfig({ OUTPUT: output }), cluster, quiet()).credential(),
      );
      expect(err.message, output).toMatch(message);
      expect(err.message).toContain(process.execPath);
    }
  });

  it('checks the configuration: apiVersion, and interactiveMode required by v1', async () => {
    const missingMode = createExecCredentialSource({ ...execConfig({}), interactiveMode: undefined }, cluster, quiet());
    expect((await execError(missingMode.credential())).message).toMatch(/v1 needs interactiveMode/);
    const alpha = createExecCredentialSource(
      { ...execConfig({}), apiVersion: 'client.authentication.k8s.io/v1alpha1' },
      cluster,
      quiet(),
    );
    expect((await execError(alpha.credential())).message).toMatch(
      /apiVersion "client.authentication.k8s.io\/v1alpha1" is not supported/,
    );
  });
});

describe('exec credential plugins: interactive mode', () => {
  const readsStdin = { READ_STDIN: '1' };

  it('IfAvailable gives a TTY standard input to the plugin and says so', async () => {
    const info = tempFile('info');
    const source = createExecCredentialSource(
      execConfig({ ...readsStdin, INFO_FILE: info }, { interactiveMode: 'IfAvailable' }),
      cluster,
      {
        stderr: stderrSink().stream,
        stdin: fakeTty('typed-by-user\n'),
      },
    );
    expect(await source.credential()).toEqual({ token: 'stdin:typed-by-user' });
    expect(JSON.parse(await readFile(info, 'utf8'))).toMatchObject({ info: { spec: { interactive: true } } });
  });

  it('IfAvailable without a TTY, and Never, give no standard input', async () => {
    for (const [mode, stdin] of [
      ['IfAvailable', notTty()],
      ['Never', fakeTty('typed-by-user\n')],
    ] as const) {
      const info = tempFile('info');
      const source = createExecCredentialSource(
        execConfig({ ...readsStdin, INFO_FILE: info }, { interactiveMode: mode }),
        cluster,
        {
          stderr: stderrSink().stream,
          stdin,
        },
      );
      expect(await source.credential(), mode).toEqual({ token: 'stdin:' });
      expect(JSON.parse(await readFile(info, 'utf8'))).toMatchObject({ info: { spec: { interactive: false } } });
    }
  });

  it('v1beta1 without interactiveMode behaves as IfAvailable', async () => {
    const info = tempFile('info');
    const source = createExecCredentialSource(
      execConfig(
        { OUTPUT: credential({ token: secret }, v1beta1), INFO_FILE: info },
        { apiVersion: v1beta1, interactiveMode: undefined },
      ),
      cluster,
      { stderr: stderrSink().stream, stdin: fakeTty('') },
    );
    await source.credential();
    expect(JSON.parse(await readFile(info, 'utf8'))).toMatchObject({
      info: { apiVersion: v1beta1, spec: { interactive: true } },
    });
  });

  it('Always needs a TTY', async () => {
    const count = tempFile('count');
    const without = createExecCredentialSource(
      execConfig({ OUTPUT: credential({ token: secret }), COUNT_FILE: count }, { interactiveMode: 'Always' }),
      cluster,
      quiet(),
    );
    expect((await execError(without.credential())).message).toMatch(
      /needs an interactive terminal \(interactiveMode Always\), but standard input is not a TTY/,
    );
    expect(await runs(count)).toBe(0);
    const withTty = createExecCredentialSource(execConfig(readsStdin, { interactiveMode: 'Always' }), cluster, {
      stderr: stderrSink().stream,
      stdin: fakeTty('yes\n'),
    });
    expect(await withTty.credential()).toEqual({ token: 'stdin:yes' });
  });
});

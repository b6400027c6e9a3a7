import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';
import { createClientset } from '../clientset.js';
import { ApiError, StreamError, hasErrorCode } from '../errors.js';
import type { RestConfig } from '../config/types.js';
import { exitCodeOf, frames, maxFramePayloadBytes } from './channels.js';
import { entryPath } from './copy.js';
import { parsePortSpec } from './port-forward.js';
import { startConnectProxy } from '../../../test/support/connect-proxy.js';

// The protocol layer against a small WebSocket server written here, speaking what the API server passes through from
// a kubelet: channel frames, the error channel's Status, resize, v5's close signal, and port-forward's channel pairs.

interface Seen {
  url: string;
  protocol: string;
  headers: IncomingMessage['headers'];
}

let server: Server;
let wss: WebSocketServer;
let host: string;
/** The subprotocols the server accepts, most preferred first. */
let serverProtocols: string[] = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
const seen: Seen[] = [];
const open = new Set<WebSocket>();
let evilRoot = '';

const status = (body: object): Buffer => Buffer.from(JSON.stringify({ kind: 'Status', apiVersion: 'v1', ...body }));
const send = (ws: WebSocket, channel: number, data: string | Buffer): void =>
  ws.send(Buffer.concat([Buffer.of(channel), Buffer.from(data)]));

function exitWith(ws: WebSocket, code: number): void {
  const body =
    code === 0
      ? { status: 'Success' }
      : {
          status: 'Failure',
          reason: 'NonZeroExitCode',
          message: `command terminated with non-zero exit code: exit status ${code}`,
          details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
        };
  ws.send(Buffer.concat([Buffer.of(3), status(body)]));
  ws.close();
}

function exec(ws: WebSocket, url: URL): void {
  const command = url.searchParams.getAll('command');
  switch (command[0]) {
    case 'streams':
      send(ws, 1, 'out\n');
      send(ws, 2, 'err\n');
      exitWith(ws, 3);
      return;
    case 'cat': {
      // Echoes stdin; v5's close signal ends it; v4 cannot, so a `Q` byte does.
      ws.on('message', (data: Buffer) => {
        if (data[0] === 255 && data[1] === 0) exitWith(ws, 0);
        else if (data[0] === 0) {
          if (ws.protocol === 'v4.channel.k8s.io' && data.at(-1) === 0x51) {
            send(ws, 1, data.subarray(1, -1));
            exitWith(ws, 0);
          } else send(ws, 1, data.subarray(1));
        }
      });
      return;
    }
    case 'stty':
      ws.on('message', (data: Buffer) => {
        if (data[0] !== 4) return;
        const size = JSON.parse(data.subarray(1).toString()) as { Width: number; Height: number };
        send(ws, 1, `${size.Height} ${size.Width}\r\n`);
        exitWith(ws, 0);
      });
      return;
    case 'missing':
      ws.send(
        Buffer.concat([
          Buffer.of(3),
          status({ status: 'Failure', reason: 'InternalError', message: 'executable file not found in $PATH' }),
        ]),
      );
      ws.close();
      return;
    case 'die':
      send(ws, 1, 'partial');
      setTimeout(() => ws.terminate(), 20);
      return;
    case 'hang':
      return;
    case 'deaf':
      // Reads nothing more, so PINGs go unanswered: a connection that died silently.
      ws.pause();
      return;
    case 'tar':
      runLocally(ws, command, url.pathname.includes('/pods/evil/'));
      return;
    default:
      exitWith(ws, 0);
  }
}

/** Runs the command here, as a kubelet runs it in a container; pod `evil` answers with an archive naming `../`. */
function runLocally(ws: WebSocket, command: string[], evil: boolean): void {
  const args = evil ? ['cf', '-', '-C', evilRoot, '--transform=s,^,data/../../,', 'x.txt'] : command.slice(1);
  const child = spawn('tar', args, { stdio: 'pipe' });
  child.stdout.on('data', (chunk: Buffer) => send(ws, 1, chunk));
  child.stderr.on('data', (chunk: Buffer) => send(ws, 2, chunk));
  child.stdin.on('error', () => undefined);
  ws.on('message', (data: Buffer) => {
    if (data[0] === 255 && data[1] === 0) child.stdin.end();
    else if (data[0] === 0) child.stdin.write(data.subarray(1));
  });
  ws.on('close', () => child.kill());
  child.on('close', (code) => exitWith(ws, code ?? 1));
}

function portForward(ws: WebSocket, url: URL): void {
  const ports = url.searchParams.getAll('ports').map(Number);
  ports.forEach((port, i) => {
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16LE(port);
    send(ws, 2 * i, prefix);
    send(ws, 2 * i + 1, prefix);
    if (port === 9) {
      send(ws, 2 * i + 1, 'error forwarding port 9 to pod p: connection refused');
      ws.close();
    }
  });
  // Each port echoes what it gets, upper-cased, so that the test sees which port answered.
  ws.on('message', (data: Buffer) => {
    const i = data[0]! / 2;
    const text = data.subarray(1).toString();
    send(ws, data[0]!, `${ports[i]}:${text.toUpperCase()}`);
  });
}

beforeAll(async () => {
  wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (offered) => serverProtocols.find((p) => offered.has(p)) ?? false,
  });
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!url.pathname.endsWith('/log')) return void res.writeHead(404).end();
    seen.push({ url: req.url ?? '', protocol: '', headers: req.headers });
    // A followed log: two lines now, one more a little later, then nothing until the client goes.
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('first\nsec');
    res.write('ond\n');
    setTimeout(() => res.write('third\n'), 30);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.includes('/pods/forbidden/')) {
      const body = JSON.stringify({
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        reason: 'Forbidden',
        code: 403,
        message: 'pods "forbidden" is forbidden: User "u" cannot create resource "pods/exec"',
      });
      socket.end(
        `HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      open.add(ws);
      ws.on('close', () => open.delete(ws));
      seen.push({ url: req.url ?? '', protocol: ws.protocol, headers: req.headers });
      if (url.pathname.endsWith('/exec') || url.pathname.endsWith('/attach')) exec(ws, url);
      else if (url.pathname.endsWith('/portforward')) portForward(ws, url);
      else ws.close();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const ws of open) ws.terminate();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  serverProtocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
  seen.length = 0;
});

function pods(extra: Partial<RestConfig> = {}) {
  return createClientset({ host, ...extra })
    .coreV1()
    .pods('ns');
}

async function read(stream: NodeJS.ReadableStream | null): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream ?? []) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('framing', () => {
  it('splits large payloads into frames of at most 32 KiB, each led by its channel', () => {
    const data = Buffer.alloc(maxFramePayloadBytes * 2 + 5, 7);
    const out = frames(0, data);
    expect(out.map((f) => f.length)).toEqual([maxFramePayloadBytes + 1, maxFramePayloadBytes + 1, 6]);
    expect(out.every((f) => f[0] === 0)).toBe(true);
  });

  it('turns the error channel Status into an exit code, or a coded error', () => {
    const request = { method: 'GET', path: '/x' };
    expect(exitCodeOf('{"status":"Success"}', request)).toBe(0);
    expect(
      exitCodeOf(
        '{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"42"}]}}',
        request,
      ),
    ).toBe(42);
    const failure = (() => {
      try {
        exitCodeOf('{"status":"Failure","reason":"InternalError","message":"no such container"}', request);
      } catch (err) {
        return err;
      }
    })();
    expect(failure).toBeInstanceOf(StreamError);
    expect((failure as StreamError).code).toBe('ERR_KUBE_REMOTE_COMMAND');
    expect((failure as StreamError).status?.reason).toBe('InternalError');
    expect(() => exitCodeOf('not json', request)).toThrow(
      expect.objectContaining({ code: 'ERR_KUBE_STREAM_PROTOCOL' }),
    );
  });
});

describe('exec and attach', () => {
  it('returns stdout, stderr and the exit code, with the command, container and auth headers sent', async () => {
    const result = await pods({
      bearerToken: 'secret-token',
      impersonate: { userName: 'alice', groups: ['a', 'b'] },
    }).exec('p', { command: ['streams', 'x y'], container: 'c' });
    expect(result).toEqual({ stdout: 'out\n', stderr: 'err\n', exitCode: 3 });
    const [request] = seen;
    const url = new URL(request!.url, 'http://x');
    expect(url.pathname).toBe('/api/v1/namespaces/ns/pods/p/exec');
    expect(url.searchParams.getAll('command')).toEqual(['streams', 'x y']);
    expect(url.searchParams.get('container')).toBe('c');
    expect(url.searchParams.get('stdout')).toBe('true');
    expect(url.searchParams.get('stdin')).toBe('false');
    expect(request!.protocol).toBe('v5.channel.k8s.io');
    expect(request!.headers.authorization).toBe('Bearer secret-token');
    expect(request!.headers['impersonate-user']).toBe('alice');
    expect(request!.headers['impersonate-group']).toBe('a, b');
  });

  it('sends stdin, half-closes it with the v5 close signal, and reads stdout with backpressure', async () => {
    const s = pods().execStream('p', { command: ['cat'], stdin: true });
    const data = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) % 251;
    s.stdin!.end(data);
    const [out, code] = await Promise.all([
      (async () => {
        const chunks: Buffer[] = [];
        for await (const chunk of s.stdout!) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks);
      })(),
      s.exitCode,
    ]);
    expect(code).toBe(0);
    expect(out.equals(data)).toBe(true);
    expect(await s.protocol).toBe('v5.channel.k8s.io');
  });

  it('goes through an HTTP proxy with a CONNECT tunnel', async () => {
    const proxy = await startConnectProxy();
    try {
      const result = await pods({ proxyUrl: proxy.url }).exec('p', { command: ['streams'] });
      expect(result.exitCode).toBe(3);
      expect(proxy.targets).toEqual([new URL(host).host]);
    } finally {
      await proxy.close();
    }
  });

  it('falls back to v4.channel.k8s.io when the server has no v5', async () => {
    serverProtocols = ['v4.channel.k8s.io'];
    const s = pods().execStream('p', { command: ['cat'], stdin: true });
    s.stdin!.write('hello Q');
    expect(await read(s.stdout)).toBe('hello ');
    expect(await s.exitCode).toBe(0);
    expect(await s.protocol).toBe('v4.channel.k8s.io');
  });

  it('refuses a server that agrees to no known subprotocol', async () => {
    serverProtocols = ['v3.channel.k8s.io'];
    const err = await pods()
      .exec('p', { command: ['true'] })
      .catch((e: unknown) => e);
    expect(hasErrorCode(err, 'ERR_KUBE_STREAM_PROTOCOL') || hasErrorCode(err, 'ERR_KUBE_TRANSPORT')).toBe(true);
  });

  it('sends the terminal size on the resize channel (with tty, stderr merged)', async () => {
    const s = pods().execStream('p', { command: ['stty', 'size'], tty: true });
    expect(s.stderr).toBeNull();
    s.resize({ width: 120, height: 40 });
    expect(await read(s.stdout)).toBe('40 120\r\n');
    expect(await s.exitCode).toBe(0);
    expect(new URL(seen[0]!.url, 'http://x').searchParams.get('tty')).toBe('true');
  });

  it('turns a non-exit-code Status into ERR_KUBE_REMOTE_COMMAND', async () => {
    const err = await pods()
      .exec('p', { command: ['missing'] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamError);
    expect((err as StreamError).code).toBe('ERR_KUBE_REMOTE_COMMAND');
    expect((err as StreamError).message).toContain('executable file not found');
  });

  it('turns a refused handshake into the ApiError of its status', async () => {
    const err = await pods({ bearerToken: 'secret-token' })
      .exec('forbidden', { command: ['true'] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).statusCode).toBe(403);
    expect((err as ApiError).message).toContain('pods/exec');
    expect(String((err as Error).message)).not.toContain('secret-token');
  });

  it('ends with ERR_KUBE_STREAM_BROKEN when the connection dies before the exit status', async () => {
    const s = pods().execStream('p', { command: ['die'] });
    const errors: unknown[] = [];
    s.stdout!.on('error', (e) => errors.push(e));
    const err = await s.exitCode.catch((e: unknown) => e);
    expect(hasErrorCode(err, 'ERR_KUBE_STREAM_BROKEN')).toBe(true);
    expect(errors).toHaveLength(1);
  });

  it('ends a connection whose PINGs go unanswered within two ping intervals', async () => {
    const s = pods({ pingIntervalMs: 50 }).execStream('p', { command: ['deaf'] });
    const err = await s.exitCode.catch((e: unknown) => e);
    expect(hasErrorCode(err, 'ERR_KUBE_STREAM_BROKEN')).toBe(true);
    // The server's end reads nothing, so it does not see the close: end it here.
    for (const ws of open) ws.terminate();
    await expect.poll(() => open.size).toBe(0);
  });

  it('closes the connection on abort: exitCode rejects with the reason, the server sees the close', async () => {
    const controller = new AbortController();
    const s = pods().execStream('p', { command: ['hang'], signal: controller.signal });
    await s.protocol;
    expect(open.size).toBe(1);
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(s.exitCode).rejects.toBe(reason);
    await expect.poll(() => open.size).toBe(0);
  });

  it('attach sends no command', async () => {
    const result = await pods().attach('p', { container: 'c' });
    expect(result.exitCode).toBe(0);
    const url = new URL(seen[0]!.url, 'http://x');
    expect(url.pathname).toBe('/api/v1/namespaces/ns/pods/p/attach');
    expect(url.searchParams.has('command')).toBe(false);
  });

  it('rejects bad arguments with ERR_KUBE_INVALID_ARGUMENT', () => {
    expect(() => pods().execStream('p', { command: [] })).toThrow(
      expect.objectContaining({ code: 'ERR_KUBE_INVALID_ARGUMENT' }),
    );
    expect(() => pods().execStream('', { command: ['x'] })).toThrow(
      expect.objectContaining({ code: 'ERR_KUBE_INVALID_ARGUMENT' }),
    );
  });
});

describe('port-forward', () => {
  it('maps each port to its channel pair, strips the port prefix, and ends on close', async () => {
    const pf = pods().portForwardStream('p', { ports: [80, 443] });
    await pf.opened;
    const a = pf.port(80);
    const b = pf.port(443);
    const first = new Promise<string>((resolve) => a.once('data', (d: Buffer) => resolve(d.toString())));
    const second = new Promise<string>((resolve) => b.once('data', (d: Buffer) => resolve(d.toString())));
    a.write('hello');
    b.write('world');
    expect(await first).toBe('80:HELLO');
    expect(await second).toBe('443:WORLD');
    expect(new URL(seen[0]!.url, 'http://x').searchParams.getAll('ports')).toEqual(['80', '443']);
    pf.close();
    await pf.closed;
    await expect.poll(() => open.size).toBe(0);
  });

  it("reports the kubelet's error channel as ERR_KUBE_PORT_FORWARD", async () => {
    const pf = pods().portForwardStream('p', { ports: [9] });
    const err = await pf.closed.catch((e: unknown) => e);
    expect(hasErrorCode(err, 'ERR_KUBE_PORT_FORWARD')).toBe(true);
    expect((err as Error).message).toContain('connection refused');
  });

  it('listens locally like kubectl port-forward, one WebSocket per connection', async () => {
    const pf = await pods().portForward('p', { ports: [':80'] });
    const [port] = pf.ports;
    expect(port!.remote).toBe(80);
    expect(port!.local).toBeGreaterThan(0);
    const talk = (text: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket = connect(port!.local, '127.0.0.1', () => socket.write(text));
        socket.once('data', (d) => {
          resolve(d.toString());
          socket.destroy();
        });
        socket.once('error', reject);
      });
    expect(await Promise.all([talk('one'), talk('two')])).toEqual(['80:ONE', '80:TWO']);
    expect(seen).toHaveLength(2);
    await pf.close();
    await expect.poll(() => open.size).toBe(0);
  });

  it('parses kubectl port specs', () => {
    expect(parsePortSpec('8080:80')).toEqual({ local: 8080, remote: 80 });
    expect(parsePortSpec(':80')).toEqual({ local: 0, remote: 80 });
    expect(parsePortSpec('80')).toEqual({ local: 80, remote: 80 });
    expect(parsePortSpec(443)).toEqual({ local: 443, remote: 443 });
    for (const bad of ['', 'x', '80:', '0', '70000', '1:2:3']) {
      expect(() => parsePortSpec(bad), bad).toThrow(expect.objectContaining({ code: 'ERR_KUBE_INVALID_ARGUMENT' }));
    }
  });
});

describe('streamLogs', () => {
  it('yields lines as they are written, sends the options, and ends quietly on abort', async () => {
    const controller = new AbortController();
    const lines: string[] = [];
    for await (const line of pods().streamLogs('p', {
      container: 'c',
      tailLines: 10,
      timestamps: true,
      sinceSeconds: 60,
      signal: controller.signal,
    })) {
      lines.push(line);
      if (lines.length === 3) controller.abort();
    }
    expect(lines).toEqual(['first', 'second', 'third']);
    const query = new URL(seen[0]!.url, 'http://x').searchParams;
    expect(Object.fromEntries(query)).toEqual({
      follow: 'true',
      container: 'c',
      tailLines: '10',
      timestamps: 'true',
      sinceSeconds: '60',
    });
  });
});

describe('cp through tar over exec', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubeloop-cp-'));
    evilRoot = dir;
    await writeFile(join(dir, 'x.txt'), 'x');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('copies a folder in and back out, byte for byte', async () => {
    const source = join(dir, 'src');
    await mkdir(join(source, 'sub', 'deeper'), { recursive: true });
    await writeFile(join(source, 'a.txt'), 'alpha\n');
    await writeFile(join(source, 'sub', 'deeper', 'b.bin'), Buffer.alloc(200_000, 9));
    await mkdir(join(dir, 'container'));
    await pods().copyToPod('p', { source, destination: join(dir, 'container', 'copied') });
    expect(await readFile(join(dir, 'container', 'copied', 'a.txt'), 'utf8')).toBe('alpha\n');
    const back = join(dir, 'back', 'out');
    const result = await pods().copyFromPod('p', { source: join(dir, 'container', 'copied'), destination: back });
    expect(result).toEqual({ files: 2, skippedLinks: [] });
    expect(await readFile(join(back, 'a.txt'), 'utf8')).toBe('alpha\n');
    expect((await readFile(join(back, 'sub', 'deeper', 'b.bin'))).equals(Buffer.alloc(200_000, 9))).toBe(true);
  });

  it('refuses an archive from the container that climbs out of the destination', async () => {
    const back = join(dir, 'evil', 'data');
    const err = await pods()
      .copyFromPod('evil', { source: '/any/data', destination: back })
      .catch((e: unknown) => e);
    expect(hasErrorCode(err, 'ERR_KUBE_COPY')).toBe(true);
    expect((err as Error).message).toContain('a path outside');
    expect(await readdir(join(dir, 'evil'))).toEqual([]);
  });

  it('refuses a local source that cannot be read with ERR_KUBE_INVALID_ARGUMENT', async () => {
    const err = await pods()
      .copyToPod('p', { source: join(dir, 'missing'), destination: '/tmp/x' })
      .catch((e: unknown) => e);
    expect(hasErrorCode(err, 'ERR_KUBE_INVALID_ARGUMENT')).toBe(true);
    expect((err as Error).message).toContain('ENOENT');
  });

  it('copies a folder whose name starts with a dash out of the container', async () => {
    await mkdir(join(dir, 'container', '-dashed'), { recursive: true });
    await writeFile(join(dir, 'container', '-dashed', 'f.txt'), 'f');
    const back = join(dir, 'dashed-back');
    expect(await pods().copyFromPod('p', { source: join(dir, 'container', '-dashed'), destination: back })).toEqual({
      files: 1,
      skippedLinks: [],
    });
    expect(await readFile(join(back, 'f.txt'), 'utf8')).toBe('f');
  });

  it('reports a failing tar in the container with its message', async () => {
    const err = await pods()
      .copyFromPod('p', { source: join(dir, 'does-not-exist'), destination: join(dir, 'none') })
      .catch((e: unknown) => e);
    expect(hasErrorCode(err, 'ERR_KUBE_COPY')).toBe(true);
    expect((err as Error).message).toContain('exited with');
  });
});

describe('cp archive paths', () => {
  it('keeps entries under the destination and refuses traversal', () => {
    expect(entryPath('/tmp/out', 'data', 'data/a/b.txt')).toBe('/tmp/out/a/b.txt');
    expect(entryPath('/tmp/out', 'data', './data/')).toBe('/tmp/out');
    for (const bad of ['../x', 'data/../../x', '/etc/passwd', 'other/x', 'data\\..\\x', '']) {
      expect(() => entryPath('/tmp/out', 'data', bad), bad).toThrow(expect.objectContaining({ code: 'ERR_KUBE_COPY' }));
    }
  });
});

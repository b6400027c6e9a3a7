// Type tests of the streaming methods of the typed pods client (README "Streaming: exec, attach, port-forward, logs,
// cp"), as a user writes them. Checked by `tsc -p tsconfig.json --noEmit` (every `@ts-expect-error` line must fail to
// compile, every other line must compile); nothing here runs.
import type { Duplex, Readable, Writable } from 'node:stream';
import { expectTypeOf } from 'vitest';
import {
  createClientset,
  type CopyFromPodResult,
  type ExecResult,
  type ExecStream,
  type ForwardedPort,
  type PortForward,
  type PortForwardStream,
  type RestConfig,
} from '../../sdk/client/index.js';

declare const config: RestConfig;
const pods = createClientset(config).coreV1().pods('default');

export async function streaming(): Promise<void> {
  const r = await pods.exec('p', { container: 'c', command: ['sh', '-c', 'echo hi; exit 3'], input: 'x' });
  expectTypeOf(r).toEqualTypeOf<ExecResult>();
  expectTypeOf(r.exitCode).toEqualTypeOf<number>();
  // @ts-expect-error the command is required
  await pods.exec('p', { container: 'c' });
  // @ts-expect-error command is an array of strings
  await pods.exec('p', { command: 'ls' });

  const s = pods.execStream('p', { command: ['cat'], stdin: true, tty: false });
  expectTypeOf(s).toEqualTypeOf<ExecStream>();
  expectTypeOf(s.stdin).toEqualTypeOf<Writable | null>();
  expectTypeOf(s.stdout).toEqualTypeOf<Readable | null>();
  expectTypeOf(s.exitCode).toEqualTypeOf<Promise<number>>();
  s.resize({ width: 80, height: 24 });
  // @ts-expect-error sizes are { width, height }
  s.resize({ cols: 80, rows: 24 });

  const a = await pods.attach('p', { container: 'c' });
  expectTypeOf(a).toEqualTypeOf<ExecResult>();
  expectTypeOf(pods.attachStream('p', { stdin: true, tty: true })).toEqualTypeOf<ExecStream>();

  const pf = await pods.portForward('p', { ports: ['8080:80', ':443', 9090] });
  expectTypeOf(pf).toEqualTypeOf<PortForward>();
  expectTypeOf(pf.ports).toEqualTypeOf<readonly ForwardedPort[]>();
  await pf.close();
  const conn = pods.portForwardStream('p', { ports: [80] });
  expectTypeOf(conn).toEqualTypeOf<PortForwardStream>();
  expectTypeOf(conn.port(80)).toEqualTypeOf<Duplex>();

  for await (const line of pods.streamLogs('p', { follow: true, sinceSeconds: 10, tailLines: 5, previous: false })) {
    expectTypeOf(line).toEqualTypeOf<string>();
  }
  // @ts-expect-error tailLines is a number
  pods.streamLogs('p', { tailLines: '5' });

  await pods.copyToPod('p', { source: './a', destination: '/tmp/a' });
  const copied = await pods.copyFromPod('p', { source: '/tmp/a', destination: './a', container: 'c' });
  expectTypeOf(copied).toEqualTypeOf<CopyFromPodResult>();
}

import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { RestConfig, Secret } from '../client/index.js';
import { createDefaultLogger, redactSecrets } from './logger.js';

/** A destination that keeps each line, parsed. */
function capture(): { stream: Writable; lines: Record<string, unknown>[]; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return {
    stream,
    get lines() {
      return chunks
        .join('')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    text: () => chunks.join(''),
  };
}

const secretValues = [
  'c3VwZXItc2VjcmV0',
  'plain-secret',
  'TOKEN-abc123',
  'hunter2',
  'PRIVATE-KEY-PEM',
  'CERT-PEM',
  'exec-env-secret',
  'Bearer xyz',
];

function secret(): Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'db', namespace: 'ns' },
    type: 'Opaque',
    data: { password: 'c3VwZXItc2VjcmV0' },
    stringData: { apiKey: 'plain-secret' },
  };
}

function restConfig(): RestConfig {
  return {
    host: 'https://10.0.0.1:6443',
    bearerToken: 'TOKEN-abc123',
    username: 'admin',
    password: 'hunter2',
    keyData: 'PRIVATE-KEY-PEM',
    certData: 'CERT-PEM',
    exec: {
      command: 'aws',
      apiVersion: 'client.authentication.k8s.io/v1',
      env: [{ name: 'AWS_SECRET', value: 'exec-env-secret' }],
    },
  };
}

describe('createDefaultLogger', () => {
  it('never shows the secret fields of a logged Secret or RestConfig, wherever they are logged', () => {
    const out = capture();
    const log = createDefaultLogger({ destination: out.stream, level: 'debug' });
    const s = secret();
    const config = restConfig();
    log.info({ secret: s }, 'read a secret');
    log.info(s, 'secret as the log object');
    log.info({ list: { kind: 'SecretList', items: [s, s] } }, 'a list of secrets');
    log.info({ config }, 'config');
    log.debug(config, 'config as the log object');
    log
      .child({ cluster: { name: 'prod', config } })
      .warn({ req: { headers: { authorization: 'Bearer xyz' } } }, 'child with config');
    log.info({ deep: { a: { b: { token: 'TOKEN-abc123' } } } }, 'deep token');
    log.info(
      { kubeconfig: { users: [{ name: 'u', user: { 'client-key-data': 'PRIVATE-KEY-PEM', token: 'TOKEN-abc123' } }] } },
      'kubeconfig',
    );

    const text = out.text();
    for (const value of secretValues) expect(text).not.toContain(value);
    const lines = out.lines;
    expect(lines).toHaveLength(8);
    // What stays readable: which keys a Secret has, and everything that is not a credential.
    expect(lines[0]).toMatchObject({
      level: 'info',
      msg: 'read a secret',
      secret: {
        kind: 'Secret',
        metadata: { name: 'db' },
        data: { password: '[REDACTED]' },
        stringData: { apiKey: '[REDACTED]' },
        type: 'Opaque',
      },
    });
    expect(lines[1]).toMatchObject({ kind: 'Secret', data: { password: '[REDACTED]' } });
    expect(lines[2]).toMatchObject({
      list: { items: [{ data: { password: '[REDACTED]' } }, { data: { password: '[REDACTED]' } }] },
    });
    expect(lines[3]).toMatchObject({
      config: {
        host: 'https://10.0.0.1:6443',
        username: 'admin',
        bearerToken: '[REDACTED]',
        password: '[REDACTED]',
        keyData: '[REDACTED]',
        exec: { command: 'aws', env: '[REDACTED]' },
      },
    });
    expect(lines[4]).toMatchObject({ level: 'debug', host: 'https://10.0.0.1:6443', bearerToken: '[REDACTED]' });
    expect(lines[5]).toMatchObject({
      cluster: { name: 'prod', config: { bearerToken: '[REDACTED]' } },
      req: { headers: { authorization: '[REDACTED]' } },
    });
    expect(lines[6]).toMatchObject({ deep: { a: { b: { token: '[REDACTED]' } } } });
    expect(lines[7]).toMatchObject({
      kubeconfig: { users: [{ user: { 'client-key-data': '[REDACTED]', token: '[REDACTED]' } }] },
    });
    expect(typeof lines[0]?.['time']).toBe('string');
  });

  it('leaves the logged objects unchanged, and ConfigMap data readable', () => {
    const out = capture();
    const log = createDefaultLogger({ destination: out.stream });
    const s = secret();
    const config = restConfig();
    log.info({ secret: s, config }, 'x');
    log.info({ cm: { apiVersion: 'v1', kind: 'ConfigMap', data: { color: 'blue' } } }, 'config map');
    expect(s).toEqual(secret());
    expect(config).toEqual(restConfig());
    expect(out.lines[1]).toMatchObject({ cm: { data: { color: 'blue' } } });
  });

  it('honours level, name and extra redaction paths', () => {
    const out = capture();
    const log = createDefaultLogger({
      destination: out.stream,
      level: 'warn',
      name: 'widget-operator',
      redactPaths: ['spec.apiKey'],
    });
    log.info('hidden');
    log.warn({ spec: { apiKey: 'k-123' } }, 'shown');
    expect(out.lines).toEqual([
      expect.objectContaining({ name: 'widget-operator', level: 'warn', msg: 'shown', spec: { apiKey: '[REDACTED]' } }),
    ]);
  });
});

describe('redactSecrets', () => {
  it('pinoOptions add serializers and formatters without undoing the redaction', () => {
    const out = capture();
    const log = createDefaultLogger({
      destination: out.stream,
      pinoOptions: {
        base: { app: 'widgets' },
        formatters: { log: (o) => ({ ...o, extra: { token: 'TOKEN-abc123' } }) },
      },
    });
    log.child({ config: restConfig() }).child({ secret: secret() }).info({ secret: secret() }, 'app');
    for (const value of secretValues) expect(out.text()).not.toContain(value);
    expect(out.lines[0]).toMatchObject({
      app: 'widgets',
      extra: { token: '[REDACTED]' },
      config: { bearerToken: '[REDACTED]' },
    });
  });

  it('redactSecrets returns the same object when there is nothing to redact', () => {
    const obj = { a: [{ b: 1 }], kind: 'ConfigMap', data: { x: 'y' } };
    expect(redactSecrets(obj)).toBe(obj);
    const withSecret = { nested: [{ kind: 'Secret', data: { k: 'v' } }], other: { z: 1 } };
    const redacted = redactSecrets(withSecret);
    expect(redacted).toEqual({ nested: [{ kind: 'Secret', data: { k: '[REDACTED]' } }], other: { z: 1 } });
    expect(redacted.other).toBe(withSecret.other);
    expect(withSecret.nested[0]?.data.k).toBe('v');
  });
});

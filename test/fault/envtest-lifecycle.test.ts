import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../../sdk/envtest/index.js';
import { rawRequest } from '../support/cluster.js';

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('envtest control plane lifecycle (own control plane)', () => {
  let env: ControlPlane;

  beforeAll(async () => {
    env = await startControlPlane({ kubernetesVersion: '1.37.2' });
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('answers again on the same port after restartApiServer(), with the data kept in etcd', async () => {
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'survives-restart' } };
    expect((await rawRequest(env.config, 'POST', '/api/v1/namespaces', ns)).status).toBe(201);
    const before = env.host;

    await env.restartApiServer();

    expect(env.host).toBe(before);
    const res = await rawRequest(env.config, 'GET', '/api/v1/namespaces/survives-restart');
    expect(res.status).toBe(200);
    expect((await rawRequest(env.config, 'GET', '/readyz')).status).toBe(200);
  });

  it('stops both processes and removes its work folder', async () => {
    const other = await startControlPlane();
    const owner = JSON.parse(readFileSync(`${other.workDir}/owner.json`, 'utf8')) as { children: { pid: number }[] };
    expect(owner.children).toHaveLength(2);
    for (const child of owner.children) expect(running(child.pid)).toBe(true);

    await other.stop();

    for (const child of owner.children) expect(running(child.pid)).toBe(false);
    expect(existsSync(other.workDir)).toBe(false);
    await expect(other.stop()).resolves.toBeUndefined(); // idempotent
  });

  it('fails with a clear error when the binaries are not of the asked version', async () => {
    await expect(startControlPlane({ kubernetesVersion: '1.30.0' })).rejects.toThrow(
      /kube-apiserver reports v1\.37\.2, but kubernetesVersion 1\.30\.0 was asked for/,
    );
  });
});

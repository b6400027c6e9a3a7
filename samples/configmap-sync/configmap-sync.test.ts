import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClientset, isNotFound } from 'kubeloop/client';
import { createManager } from 'kubeloop/manager';
import { sharedCluster, uniqueName } from '../../test/support/cluster.js';
import { copyOfLabel, injectLabel, setupConfigMapSync, source } from './configmap-sync-reconciler.js';
import { eventually, type EventuallyOptions } from '../../test/support/wait.js';

const poll: EventuallyOptions = { intervalMs: 50, retryErrors: true };

describe('sample: ConfigMap sync (built-in kinds only) against a real API server', () => {
  const { config } = sharedCluster();
  const cs = createClientset(config);
  const stop = new AbortController();
  let running: Promise<void>;

  beforeAll(async () => {
    await cs
      .coreV1()
      .namespaces()
      .create({ metadata: { name: source.namespace } })
      .catch((err: { statusCode?: number }) => {
        if (err.statusCode !== 409) throw err;
      });
    await cs
      .coreV1()
      .configMaps(source.namespace)
      .create({ metadata: { name: source.name }, data: { motd: 'hello' } })
      .catch((err: { statusCode?: number }) => {
        if (err.statusCode !== 409) throw err;
      });
    const mgr = await createManager({
      config,
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      logger: pino({ level: 'silent' }),
    });
    setupConfigMapSync(mgr);
    running = mgr.start(stop.signal);
  });
  afterAll(async () => {
    stop.abort();
    await running;
  });

  it('copies the ConfigMap into namespaces that ask, follows the source, and restores an edited or deleted copy', async () => {
    const asking = uniqueName('asks');
    const quiet = uniqueName('quiet');
    await cs
      .coreV1()
      .namespaces()
      .create({ metadata: { name: asking, labels: { [injectLabel]: 'true' } } });
    await cs
      .coreV1()
      .namespaces()
      .create({ metadata: { name: quiet } });
    const copy = await eventually('the copy', () => cs.coreV1().configMaps(asking).get(source.name), poll);
    expect(copy.data).toEqual({ motd: 'hello' });
    expect(copy.metadata?.labels?.[copyOfLabel]).toBe(`${source.namespace}.${source.name}`);

    const motd = uniqueName('motd');
    await cs.coreV1().configMaps(source.namespace).patch(source.name, { data: { motd } }, { patchType: 'merge' });
    await eventually(
      'the copy following the source',
      async () => {
        const cm = await cs.coreV1().configMaps(asking).get(source.name);
        return cm.data?.['motd'] === motd ? cm : undefined;
      },
      poll,
    );

    await cs
      .coreV1()
      .configMaps(asking)
      .patch(source.name, { data: { motd: 'tampered' } }, { patchType: 'merge' });
    await eventually(
      'the edited copy restored',
      async () => {
        const cm = await cs.coreV1().configMaps(asking).get(source.name);
        return cm.data?.['motd'] === motd ? cm : undefined;
      },
      poll,
    );
    await cs.coreV1().configMaps(asking).delete(source.name);
    await eventually('the deleted copy re-created', () => cs.coreV1().configMaps(asking).get(source.name), poll);

    const absent = await cs
      .coreV1()
      .configMaps(quiet)
      .get(source.name)
      .catch((err: unknown) => err);
    expect(isNotFound(absent)).toBe(true);
  });
});

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigMap, createClientset, isNotFound, type corev1 } from '../../sdk/client/index.js';
import { controllerFor, createManager, finalizer, type Manager } from '../../sdk/manager/index.js';
import { eventually } from '../support/wait.js';
import { createTestNamespace, sharedCluster } from '../support/cluster.js';

describe('finalizer() against the real API server', () => {
  const { config } = sharedCluster();
  const name = 'test.kubeloop.dev/cleanup';
  const events: string[] = [];
  let failCleanups = 1;
  const stop = new AbortController();
  let mgr: Manager;
  let running: Promise<void>;
  let ns: string;

  beforeAll(async () => {
    ns = await createTestNamespace(config, 'finalizer');
    mgr = await createManager({
      config,
      cache: { namespaces: [ns] },
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      logger: pino({ level: 'silent' }),
    });
    controllerFor(mgr)
      .for(ConfigMap)
      .complete({
        reconcile: async (req) => {
          const cm = await mgr.client.get(ConfigMap, req).catch((err: unknown) => {
            if (isNotFound(err)) return undefined;
            throw err;
          });
          if (!cm) return {};
          return finalizer(mgr.client, name, cm, async (event) => {
            events.push(`${event.type}:${req.name}`);
            if (event.type === 'cleanup' && failCleanups-- > 0) throw new Error('the external thing is not gone yet');
            return {};
          });
        },
      });
    running = mgr.start(stop.signal);
  });
  afterAll(async () => {
    stop.abort();
    await running;
  });

  it('adds the finalizer before apply, and removes it only after a cleanup that succeeded', async () => {
    const cms = createClientset(config).coreV1().configMaps(ns);
    await cms.create({ metadata: { name: 'guarded', finalizers: ['someone.else/keep'] } });
    const withOurs = await eventually('our finalizer', async () => {
      const cm = await cms.get('guarded');
      return cm.metadata?.finalizers?.includes(name) ? cm : undefined;
    });
    expect(withOurs.metadata?.finalizers).toEqual(['someone.else/keep', name]);
    await eventually('apply', () => (events.includes('apply:guarded') ? true : undefined));

    await cms.delete('guarded');
    // The first cleanup fails: the object stays, marked for deletion, with our finalizer; the retry succeeds.
    const released = await eventually('the finalizer removed', async () => {
      const cm: corev1.ConfigMap = await cms.get('guarded');
      return cm.metadata?.finalizers?.includes(name) ? undefined : cm;
    });
    expect(events.filter((e) => e === 'cleanup:guarded')).toHaveLength(2);
    expect(released.metadata?.deletionTimestamp).toBeTruthy();
    expect(released.metadata?.finalizers).toEqual(['someone.else/keep']); // another controller's finalizer is untouched
    await cms.patch('guarded', { metadata: { finalizers: null } }, { patchType: 'merge' });
    await eventually('the object gone', async () =>
      cms.get('guarded').then(
        () => undefined,
        (err: unknown) => (isNotFound(err) ? true : undefined),
      ),
    );
  });
});

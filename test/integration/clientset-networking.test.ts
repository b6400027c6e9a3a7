// The typed Clientset against the real API server: networking.k8s.io/v1 ingresses and ingress classes.
import { describe, expect, it } from 'vitest';
import { createClientset } from '../../sdk/client/clientset.js';
import { isNotFound } from '../../sdk/client/errors.js';
import { createTestNamespace, sharedCluster, uniqueName } from '../support/cluster.js';

describe('Clientset: networking.k8s.io/v1', () => {
  const { config } = sharedCluster();
  const cs = createClientset(config);

  it('creates an ingress class and an ingress, sets the ingress status, lists and deletes', async () => {
    const ns = await createTestNamespace(config, 'cs-ingress');
    const className = uniqueName('nginx');
    await cs
      .networkingV1()
      .ingressClasses()
      .create({ metadata: { name: className }, spec: { controller: 'example.com/ingress' } });
    const ingresses = cs.networkingV1().ingresses(ns);
    const ingress = await ingresses.create({
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        ingressClassName: className,
        tls: [{ hosts: ['web.example.com'], secretName: 'web-tls' }],
        rules: [
          {
            host: 'web.example.com',
            http: {
              paths: [
                { path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { name: 'http' } } } },
                { path: '/api', pathType: 'Exact', backend: { service: { name: 'api', port: { number: 8080 } } } },
              ],
            },
          },
        ],
      },
    });
    expect(
      ingress.spec?.rules?.[0]?.http?.paths.map(
        (p) => p.backend.service?.port?.number ?? p.backend.service?.port?.name,
      ),
    ).toEqual(['http', 8080]);
    const withStatus = await ingresses.updateStatus({
      ...ingress,
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } },
    });
    expect(withStatus.status?.loadBalancer?.ingress?.[0]?.ip).toBe('192.0.2.10');
    expect((await ingresses.list({ labelSelector: 'app=web' })).items.map((i) => i.spec?.ingressClassName)).toEqual([
      className,
    ]);
    await ingresses.delete('web');
    await expect(ingresses.get('web')).rejects.toSatisfy(isNotFound);
    await cs.networkingV1().ingressClasses().delete(className);
  });
});

import { Deployment, Service, ignoreNotFound, isNotFound, type appsv1, type corev1 } from 'kubeloop/client';
import {
  CLIENT,
  EVENT_RECORDER,
  Reconciler,
  createOrUpdate,
  finalizer,
  generationChanged,
  inject,
  or,
  setControllerReference,
  setStatusCondition,
  type CachedObject,
  type Client,
  type EventRecorder,
  type ReconcileContext,
  type ReconcileRequest,
  type ReconcileResult,
} from 'kubeloop/manager';
import { WebApp, cleanupFinalizer, type WebAppCondition } from './webapp.js';

/**
 * Keeps a Deployment and a Service in step with each WebApp, and reports readiness in the WebApp's status.
 *
 * Reads come from the manager's cache; the Deployment and Service are owned by the WebApp (controller reference), so
 * their changes wake this reconciler too. A finalizer lets it delete them itself when the WebApp goes (a cluster's
 * garbage collector would too; the finalizer shows the pattern, and works where no garbage collector runs).
 */
@Reconciler({
  for: WebApp,
  owns: [Deployment, Service],
  // Spec changes (generation) and deletion only: status writes by this reconciler do not wake it again.
  predicates: [or(generationChanged(), (obj: CachedObject) => obj.metadata?.deletionTimestamp !== undefined)],
  maxConcurrentReconciles: 2,
})
export class WebAppReconciler implements Reconciler {
  constructor(
    @inject(CLIENT) private readonly client: Client,
    @inject(EVENT_RECORDER) private readonly recorder: EventRecorder,
  ) {}

  async reconcile(req: ReconcileRequest, ctx: ReconcileContext): Promise<ReconcileResult> {
    let app;
    try {
      app = await this.client.get(WebApp, req, { signal: ctx.signal });
    } catch (err) {
      if (isNotFound(err)) return {}; // deleted: its Deployment and Service go with it (owner references)
      throw err;
    }
    return finalizer(this.client, cleanupFinalizer, app, async (event) =>
      event.type === 'cleanup' ? this.cleanup(event.object, ctx) : this.apply(event.object, req, ctx),
    );
  }

  /** The WebApp is being deleted: delete what it owns, then the finalizer goes. */
  private async cleanup(app: WebApp, ctx: ReconcileContext): Promise<ReconcileResult> {
    const { namespace, name } = app.metadata ?? {};
    const owned = [
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace } },
    ];
    for (const obj of owned) await ignoreNotFound(this.client.delete(obj, { signal: ctx.signal }));
    this.recorder.event(app, 'Normal', 'Deleted', `deleted Deployment and Service ${name ?? ''}`, 'Cleanup');
    return {};
  }

  private async apply(app: WebApp, req: ReconcileRequest, ctx: ReconcileContext): Promise<ReconcileResult> {
    const spec = app.spec!;
    const labels = { 'app.kubernetes.io/name': req.name, 'app.kubernetes.io/managed-by': 'webapp-operator' };
    const port = spec.port ?? 8080;

    const wantedSpec: appsv1.DeploymentSpec = {
      replicas: spec.replicas ?? 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'web', image: spec.image, ports: [{ containerPort: port }] }] },
      },
    };
    const deployment: appsv1.Deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: req.name, namespace: req.namespace },
      spec: wantedSpec,
    };
    // createOrUpdate reads the live object (from the cache), lets the function set what this operator owns, and
    // writes only when something changed.
    const deploymentResult = await createOrUpdate(this.client, deployment, (d: appsv1.Deployment) => {
      d.metadata!.labels = { ...d.metadata?.labels, ...labels };
      d.spec = { ...d.spec, ...wantedSpec };
      setControllerReference(app, d);
    });

    const service: corev1.Service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: req.name, namespace: req.namespace },
    };
    await createOrUpdate(this.client, service, (s: corev1.Service) => {
      s.metadata!.labels = { ...s.metadata?.labels, ...labels };
      s.spec = { ...s.spec, selector: labels, ports: [{ name: 'http', port, targetPort: port }] };
      setControllerReference(app, s);
    });

    if (deploymentResult === 'created') {
      this.recorder.event(app, 'Normal', 'Created', `created Deployment ${req.name}`, 'Reconcile');
    }

    const current = await this.client.get(Deployment, req, { signal: ctx.signal }).catch(() => undefined);
    const ready = current?.status?.readyReplicas ?? 0;
    const wanted = spec.replicas ?? 1;
    const conditions: WebAppCondition[] = [...(app.status?.conditions ?? [])];
    setStatusCondition(conditions, {
      type: 'Available',
      status: ready >= wanted ? 'True' : 'False',
      reason: ready >= wanted ? 'ReplicasReady' : 'ReplicasNotReady',
      message: `${ready} of ${wanted} replicas are ready`,
      observedGeneration: app.metadata?.generation ?? 0,
    });
    // A merge patch of the status carries no resourceVersion: it cannot conflict with the writes that raced it.
    await this.client
      .status()
      .patch(
        app,
        { status: { observedGeneration: app.metadata?.generation ?? 0, readyReplicas: ready, conditions } },
        { patchType: 'merge', signal: ctx.signal },
      );

    // No kubelet runs pods in a test cluster and a real one takes time: look again until the replicas are ready.
    return ready >= wanted ? {} : { requeueAfterMs: 10_000 };
  }
}

import { ConfigMap, Namespace, isNotFound, type corev1 } from 'kubeloop/client';
import {
  controllerFor,
  createOrUpdate,
  enqueueRequestsFromMapFunc,
  type CachedObject,
  type Client,
  type Manager,
  type Reconcile,
  type ReconcileContext,
  type ReconcileRequest,
  type ReconcileResult,
} from 'kubeloop/manager';

/** Namespaces with this label set to `true` get a copy of the source ConfigMap. */
export const injectLabel = 'configsync.kubeloop.dev/inject';
/** The label on every copy, naming its source as `namespace.name`. */
export const copyOfLabel = 'configsync.kubeloop.dev/copy-of';

export interface ConfigMapSyncSource {
  namespace: string;
  name: string;
}

/** Where the shared ConfigMap lives. In a real operator this would come from flags; the sample fixes it. */
export const source: ConfigMapSyncSource = { namespace: 'config-source', name: 'shared-config' };

const asking = (ns: CachedObject): boolean => ns.metadata?.labels?.[injectLabel] === 'true';
const isSource = (obj: CachedObject): boolean =>
  obj.metadata?.namespace === source.namespace && obj.metadata?.name === source.name;

/**
 * Keeps a copy of one ConfigMap in every namespace that asks for it with a label: a controller over built-in kinds
 * only, built with the builder rather than the decorator (its event mapping reads the manager's cache). See
 * {@link setupConfigMapSync}.
 */
export class ConfigMapSyncReconciler implements Reconcile {
  constructor(private readonly client: Client) {}

  async reconcile(req: ReconcileRequest, ctx: ReconcileContext): Promise<ReconcileResult> {
    const ns = await this.client.get(Namespace, { name: req.name }, { signal: ctx.signal }).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (!ns || ns.metadata?.deletionTimestamp || ns.metadata?.labels?.[injectLabel] !== 'true') return {};
    const original = await this.client.get(ConfigMap, source, { signal: ctx.signal }).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (!original) {
      ctx.log.info({ source }, 'the source ConfigMap does not exist (yet)');
      return { requeueAfterMs: 30_000 };
    }
    const copy: corev1.ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: source.name, namespace: req.name },
    };
    const result = await createOrUpdate(this.client, copy, (cm: corev1.ConfigMap) => {
      cm.metadata!.labels = { ...cm.metadata?.labels, [copyOfLabel]: `${source.namespace}.${source.name}` };
      cm.data = { ...original.data };
      if (original.binaryData) cm.binaryData = { ...original.binaryData };
    });
    if (result !== 'unchanged') ctx.log.info({ namespace: req.name, result }, 'synced the ConfigMap');
    return {};
  }
}

/**
 * Registers the controller: the primary resource is the Namespace (only those that ask); a change of the source
 * ConfigMap wakes every asking namespace (listed from the cache), and a change of a copy (edited or deleted by
 * someone) wakes its own namespace, which puts it back.
 */
export function setupConfigMapSync(mgr: Manager): void {
  controllerFor(mgr)
    .named('configmap-sync')
    .for(Namespace, { predicates: [asking] })
    .watches(
      ConfigMap,
      enqueueRequestsFromMapFunc(async (cm: CachedObject) => {
        if (isSource(cm)) {
          const namespaces = await mgr.client.list(Namespace, {
            labelSelector: `${injectLabel}=true`,
            unsafeDisableDeepCopy: true,
          });
          return namespaces.items.map((ns) => ({ namespace: '', name: ns.metadata?.name ?? '' }));
        }
        const copyOf = cm.metadata?.labels?.[copyOfLabel];
        return copyOf === `${source.namespace}.${source.name}`
          ? [{ namespace: '', name: cm.metadata?.namespace ?? '' }]
          : [];
      }),
    )
    .complete(new ConfigMapSyncReconciler(mgr.client));
}

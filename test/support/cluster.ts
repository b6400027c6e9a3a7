import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { Agent, request } from 'undici';
import { createDynamicClient, restClientFor, type RestConfig, type Unstructured } from '../../sdk/client/index.js';

/** What global-setup.ts hands to every integration test: the admin identity of the shared control plane. */
export interface SharedCluster {
  config: RestConfig;
  kubeconfigPath: string;
  kubectl: string | undefined;
  workDir: string;
  /** The test kubelet's node: pods with this `spec.nodeName` run as local processes (exec, attach, logs, port-forward). */
  kubeletNodeName: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: SharedCluster;
  }
}

export function sharedCluster(): SharedCluster {
  return inject('cluster');
}

/** A unique, valid namespace name with a readable prefix. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`.toLowerCase();
}

export interface RawResponse {
  status: number;
  body: unknown;
}

const agents = new Map<string, Agent>();

/**
 * A bare HTTPS call with a RestConfig's client certificate, independent of kubeloop's client: for tests that prove
 * the control plane itself, and for set-up steps in tests of the client.
 */
export async function rawRequest(
  config: RestConfig,
  method: string,
  path: string,
  body?: unknown,
): Promise<RawResponse> {
  const key = `${config.host}|${config.certData ?? ''}`;
  let agent = agents.get(key);
  if (!agent) {
    agent = new Agent({
      connect: { ca: config.caData, cert: config.certData, key: config.keyData, servername: config.serverName },
    });
    agents.set(key, agent);
  }
  const res = await request(`${config.host}${path}`, {
    method: method as 'GET',
    dispatcher: agent,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.statusCode, body: parsed };
}

/** Creates a namespace with a unique name for one test and returns its name. */
export async function createTestNamespace(config: RestConfig, prefix = 'test'): Promise<string> {
  const name = uniqueName(prefix);
  const res = await rawRequest(config, 'POST', '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name },
  });
  if (res.status !== 201) throw new Error(`creating namespace ${name}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return name;
}

/**
 * Installs a namespaced CustomResourceDefinition with one served version, `v1`, whose `spec` takes anything, and waits
 * until it is Established. Use a unique group per test (`${uniqueName('x')}.example.com`); delete it when done.
 */
export async function installCrd(
  config: RestConfig,
  crd: { group: string; plural: string; kind: string },
): Promise<void> {
  const crds = createDynamicClient(config).resource({
    group: 'apiextensions.k8s.io',
    version: 'v1',
    resource: 'customresourcedefinitions',
  });
  const name = `${crd.plural}.${crd.group}`;
  await crds.create({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name },
    spec: {
      group: crd.group,
      scope: 'Namespaced',
      names: { plural: crd.plural, singular: crd.kind.toLowerCase(), kind: crd.kind, listKind: `${crd.kind}List` },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
            },
          },
        },
      ],
    },
  } as Unstructured);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const got = await crds.get(name);
    const conditions =
      (got['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
    if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) return;
    if (Date.now() > deadline) throw new Error(`CRD ${name} not established within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The user the API server sees: a SelfSubjectReview's `status.userInfo`. */
export interface UserInfo {
  username: string;
  groups?: string[];
}

/** Who the API server thinks the caller of `config` is (a SelfSubjectReview). */
export async function whoAmI(config: RestConfig): Promise<UserInfo> {
  const rc = restClientFor(config, { groupVersion: { group: 'authentication.k8s.io', version: 'v1' } });
  const review = await rc
    .post()
    .resource('selfsubjectreviews')
    .body({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' })
    .do()
    .into<{ status: { userInfo: UserInfo } }>();
  return review.status.userInfo;
}

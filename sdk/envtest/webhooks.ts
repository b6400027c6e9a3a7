import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { loadAll } from 'js-yaml';
import {
  createClientset,
  isAlreadyExists,
  isNotFound,
  type RestConfig,
  type admissionregistrationv1,
  type apiextensionsv1,
  type KubeObject,
} from '../client/index.js';
import { createCertificateAuthority } from '../webhook/index.js';
import { EnvtestError } from './errors.js';
import { freePort } from './internal/processes.js';

/** Where a local webhook server is to listen, and the certificate it serves: `createManager({ webhook })`. */
export interface WebhookServingOptions {
  host: string;
  port: number;
  /** Holds `tls.crt` and `tls.key`, signed by the CA in the installed configurations' `caBundle`. */
  certDir: string;
}

/** Options of {@link installWebhooks} (and `startControlPlane({ webhooks })`). */
export interface WebhookInstallOptions {
  /** YAML or JSON files, or folders of them (not recursive), holding Mutating/ValidatingWebhookConfigurations; other kinds are skipped. */
  paths?: string[];
  /** Webhook configurations as objects. */
  configurations?: (
    | admissionregistrationv1.MutatingWebhookConfiguration
    | admissionregistrationv1.ValidatingWebhookConfiguration
  )[];
  /** The address the local webhook server listens on. Default: `127.0.0.1`. */
  host?: string;
  /** Its port. Default: a free port. */
  port?: number;
  /** Where the serving certificate is written. Default: a new temporary folder. */
  certDir?: string;
}

/** Options of {@link installCrds} (and `startControlPlane({ crds })`). */
export interface CrdInstallOptions {
  /** YAML or JSON files, or folders of them (not recursive), holding CustomResourceDefinitions; other kinds are skipped. */
  paths?: string[];
  objects?: apiextensionsv1.CustomResourceDefinition[];
  /** How long each CRD may take to be Established. Default: 30000. */
  timeoutMs?: number;
}

/** Webhook configurations installed against a local server. */
export interface WebhookInstallation {
  /** Pass to `createManager({ webhook: installation.webhookOptions })`. */
  readonly webhookOptions: WebhookServingOptions;
  /** PEM of the CA that signed the serving certificate (the configurations' `caBundle`). */
  readonly caData: string;
  /** A clientConfig that reaches `path` on the local server, for configurations written in a test. */
  clientConfig(path: string): { url: string; caBundle: string };
  /** The configurations installed, by kind and name. */
  readonly installed: readonly { kind: string; name: string }[];
  /** Deletes the configurations installed. */
  uninstall(): Promise<void>;
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** Reads every object in YAML/JSON files and folders of them, in name order. */
async function readObjects(paths: readonly string[]): Promise<KubeObject[]> {
  const objects: KubeObject[] = [];
  for (const path of paths) {
    let files: string[];
    try {
      files = (await stat(path)).isDirectory()
        ? (await readdir(path))
            .filter((f) => ['.yaml', '.yml', '.json'].includes(extname(f)))
            .toSorted()
            .map((f) => join(path, f))
        : [path];
    } catch (err) {
      throw new EnvtestError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
    }
    for (const file of files) {
      try {
        for (const doc of loadAll(await readFile(file, 'utf8'))) {
          if (doc && typeof doc === 'object' && !Array.isArray(doc)) objects.push(doc as KubeObject);
        }
      } catch (err) {
        throw new EnvtestError(`cannot parse ${file}: ${(err as Error).message}`, { cause: err });
      }
    }
  }
  return objects;
}

type WebhookConfiguration =
  | admissionregistrationv1.MutatingWebhookConfiguration
  | admissionregistrationv1.ValidatingWebhookConfiguration;

/**
 * Installs admission webhook configurations that send the API server's calls to a local HTTPS server, as
 * controller-runtime's `WebhookInstallOptions` does: a CA and a serving certificate for `host` are generated into
 * `certDir`, and each webhook's `clientConfig` becomes `url: https://<host>:<port><path>` (the path of its service
 * reference, or of its URL) with that CA as `caBundle`. An existing configuration of the same name is replaced.
 *
 * Caveats: the API server picks new configurations up from its own informer, usually within a second; a request made
 * at once may not be sent to the webhook yet.
 *
 * Errors: `ERR_ENVTEST` naming the file or configuration at fault.
 */
export async function installWebhooks(
  config: RestConfig,
  options: WebhookInstallOptions,
): Promise<WebhookInstallation> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort());
  const certDir = options.certDir ?? (await mkdtemp(join(tmpdir(), 'kubeloop-webhook-certs-')));
  await mkdir(certDir, { recursive: true });
  const ca = await createCertificateAuthority('kubeloop-envtest-webhook-ca');
  const isIp = /^[\d.]+$|:/.test(host);
  const serving = await ca.sign({
    commonName: 'kubeloop-envtest-webhook',
    usage: 'server',
    dnsNames: ['localhost', ...(isIp ? [] : [host])],
    ipAddresses: ['127.0.0.1', ...(isIp && host !== '127.0.0.1' ? [host] : [])],
  });
  await writeFile(join(certDir, 'tls.crt'), serving.certPem);
  await writeFile(join(certDir, 'tls.key'), serving.keyPem, { mode: 0o600 });

  const urlHost = host.includes(':') ? `[${host}]` : host;
  const clientConfig = (path: string): { url: string; caBundle: string } => ({
    url: `https://${urlHost}:${port}${path}`,
    caBundle: b64(ca.certPem),
  });
  const objects = [...(await readObjects(options.paths ?? [])), ...(options.configurations ?? [])].filter(
    (o): o is WebhookConfiguration =>
      o.kind === 'MutatingWebhookConfiguration' || o.kind === 'ValidatingWebhookConfiguration',
  );
  const cs = createClientset(config);
  const installed: { kind: string; name: string }[] = [];
  for (const original of objects) {
    const obj = structuredClone(original);
    const name = obj.metadata?.name;
    if (!name) throw new EnvtestError(`a ${obj.kind} has no metadata.name`);
    for (const hook of obj.webhooks ?? []) {
      const cc = hook.clientConfig ?? {};
      const path = cc.service?.path ?? (cc.url ? new URL(cc.url).pathname : '/');
      hook.clientConfig = clientConfig(path);
    }
    try {
      if (obj.kind === 'MutatingWebhookConfiguration')
        await replace(
          cs.admissionregistrationV1().mutatingWebhookConfigurations(),
          obj as admissionregistrationv1.MutatingWebhookConfiguration,
        );
      else
        await replace(
          cs.admissionregistrationV1().validatingWebhookConfigurations(),
          obj as admissionregistrationv1.ValidatingWebhookConfiguration,
        );
    } catch (err) {
      throw new EnvtestError(`cannot install ${obj.kind} ${name}: ${(err as Error).message}`, { cause: err });
    }
    installed.push({ kind: obj.kind!, name });
  }
  return {
    webhookOptions: { host, port, certDir },
    caData: ca.certPem,
    clientConfig,
    installed,
    async uninstall() {
      for (const { kind, name } of installed) {
        const client =
          kind === 'MutatingWebhookConfiguration'
            ? cs.admissionregistrationV1().mutatingWebhookConfigurations()
            : cs.admissionregistrationV1().validatingWebhookConfigurations();
        await client.delete(name).catch((err: unknown) => {
          if (!isNotFound(err)) throw err;
        });
      }
    },
  };
}

interface Replaceable<T> {
  get(name: string): Promise<T>;
  create(obj: T): Promise<T>;
  update(obj: T): Promise<T>;
}

async function replace<T extends KubeObject>(client: Replaceable<T>, obj: T): Promise<T> {
  try {
    return await client.create(obj);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    const current = await client.get(obj.metadata!.name!);
    return client.update({ ...obj, metadata: { ...obj.metadata, resourceVersion: current.metadata?.resourceVersion } });
  }
}

/**
 * Installs CustomResourceDefinitions and waits until each is Established, as controller-runtime's
 * `CRDInstallOptions`. With a webhook installation, a CRD whose `spec.conversion.strategy` is `Webhook` gets a
 * clientConfig reaching the local server's `/convert` (or its service path) with the installation's CA.
 * An existing CRD of the same name is replaced.
 *
 * Errors: `ERR_ENVTEST` naming the file or CRD at fault, or the CRD that did not become Established in time.
 */
export async function installCrds(
  config: RestConfig,
  options: CrdInstallOptions,
  webhooks?: Pick<WebhookInstallation, 'clientConfig'>,
): Promise<apiextensionsv1.CustomResourceDefinition[]> {
  const crds = [...(await readObjects(options.paths ?? [])), ...(options.objects ?? [])].filter(
    (o): o is apiextensionsv1.CustomResourceDefinition => o.kind === 'CustomResourceDefinition',
  );
  const client = createClientset(config).apiextensionsV1().customResourceDefinitions();
  const done: apiextensionsv1.CustomResourceDefinition[] = [];
  for (const original of crds) {
    const crd = structuredClone(original);
    const name = crd.metadata?.name;
    if (!name) throw new EnvtestError('a CustomResourceDefinition has no metadata.name');
    const conversion = crd.spec.conversion;
    if (conversion?.strategy === 'Webhook' && webhooks) {
      const path = conversion.webhook?.clientConfig?.service?.path ?? '/convert';
      conversion.webhook = {
        conversionReviewVersions: conversion.webhook?.conversionReviewVersions ?? ['v1'],
        clientConfig: webhooks.clientConfig(path),
      };
    }
    try {
      await replace(client, crd);
    } catch (err) {
      throw new EnvtestError(`cannot install CustomResourceDefinition ${name}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    for (;;) {
      const current = await client.get(name);
      if (current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) {
        done.push(current);
        break;
      }
      if (Date.now() > deadline)
        throw new EnvtestError(
          `CustomResourceDefinition ${name} was not Established within ${options.timeoutMs ?? 30_000} ms`,
        );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return done;
}

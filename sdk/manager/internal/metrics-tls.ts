import { access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeloopError } from '../../client/index.js';
import type { ServingCertificate } from '../../webhook/index.js';
import { CertWatcher, loadCertificates } from '../../webhook/internal.js';

/** Where the metrics server looks for its certificate by default, as controller-runtime: `<tmp>/k8s-metrics-server/serving-certs`. */
export const defaultMetricsCertDir = join(tmpdir(), 'k8s-metrics-server', 'serving-certs');

/** Where the metrics server's certificate comes from. */
export interface MetricsCertificateOptions {
  /** Default: `<os temp dir>/k8s-metrics-server/serving-certs`. */
  certDir?: string;
  /** Default: `tls.crt`. */
  certName?: string;
  /** Default: `tls.key`. */
  keyName?: string;
  /** How often the files are re-read besides on file events. Default: 10000. */
  certPollIntervalMs?: number;
}

/** The certificate to start with, and the watcher that keeps it current (none for a self-signed one). */
export interface MetricsCertificate {
  pair: ServingCertificate;
  /** Where it came from: the certificate file, or `self-signed`. */
  source: string;
  watcher: CertWatcher | undefined;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * A self-signed certificate for `localhost` and 127.0.0.1, as controller-runtime makes when no certificate is given:
 * it encrypts the scrape; Prometheus scrapes it with `insecureSkipVerify` or trusts nothing and relies on the token.
 */
async function selfSigned(): Promise<ServingCertificate> {
  // Loaded here, not at import: @peculiar/x509 is about 10 MB of a process that serves no TLS metrics.
  const { createCertificateAuthority } = await loadCertificates();
  const ca = await createCertificateAuthority(`localhost-ca@${Math.floor(Date.now() / 1000)}`, {
    validityMs: 365 * 24 * 3600 * 1000,
  });
  const leaf = await ca.sign({
    commonName: 'localhost',
    usage: 'server',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    validityMs: 365 * 24 * 3600 * 1000,
  });
  return { cert: `${leaf.certPem.trim()}\n${ca.certPem.trim()}\n`, key: leaf.keyPem };
}

/**
 * The metrics server's certificate, as controller-runtime's metrics server chooses it: the pair in `certDir` when both
 * files exist (watched by the webhook server's certificate watcher, so a rotation needs no restart), else a
 * self-signed one made at start. `onChange` gets each reloaded pair.
 *
 * Errors: `ERR_METRICS_CERTIFICATE` when both files exist but do not load as a pair.
 */
export async function metricsCertificate(
  options: MetricsCertificateOptions,
  onChange: (pair: ServingCertificate) => void,
  onError: (err: Error) => void,
): Promise<MetricsCertificate> {
  const dir = options.certDir ?? defaultMetricsCertDir;
  const certPath = join(dir, options.certName ?? 'tls.crt');
  const keyPath = join(dir, options.keyName ?? 'tls.key');
  if (!(await exists(certPath)) || !(await exists(keyPath)))
    return { pair: await selfSigned(), source: 'self-signed', watcher: undefined };
  const watcher = new CertWatcher({ dir, certPath, keyPath }, onChange, onError, options.certPollIntervalMs);
  try {
    return { pair: await watcher.load(), source: certPath, watcher };
  } catch (err) {
    throw new KubeloopError(
      'ERR_METRICS_CERTIFICATE',
      `cannot load the metrics serving certificate from ${certPath} and ${keyPath}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

/** Turns undici's and Node's network errors into messages that say what went wrong and what to do. */

const untrusted = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

/** The first error code found on an error or its causes. */
export function errorCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET' && code !== 'UND_ERR_CONNECT') return code;
  }
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function describeNetworkError(err: unknown, origin: string): string {
  const code = errorCode(err) ?? '';
  const detail = (err as Error | undefined)?.message ?? String(err);
  if (untrusted.has(code)) {
    return (
      `TLS: the certificate of ${origin} is not signed by a trusted certificate authority (${code}). ` +
      `Set the cluster's certificate-authority(-data) to the CA that signed it; insecure-skip-tls-verify turns ` +
      `verification off, only for clusters you accept the risk for`
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `TLS: the certificate of ${origin} is not valid for that host name (${detail}). Set tls-server-name to a name it holds`;
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return `TLS: the certificate of ${origin} is outside its validity period (${code})`;
  }
  if (code === 'ECONNREFUSED')
    return `connection refused by ${origin}: is the API server running, and is the address right?`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot resolve the host of ${origin} (${code})`;
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return `timed out connecting to ${origin}`;
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return `${origin} sent no response headers in time`;
  if (code === 'UND_ERR_BODY_TIMEOUT') return `${origin} stopped sending the response body`;
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) return `TLS handshake with ${origin} failed: ${detail}`;
  return `request to ${origin} failed: ${detail}${code ? ` (${code})` : ''}`;
}

/** The connection failed before the request could be sent: safe to retry any verb. */
export function failedBeforeSending(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'EAI_AGAIN';
}

/** The connection broke: safe to retry a read (GET), not a write whose outcome is unknown. */
export function connectionBroke(err: unknown): boolean {
  const code = errorCode(err);
  return (
    failedBeforeSending(err) ||
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    code === 'UND_ERR_SOCKET' ||
    code === 'UND_ERR_CLOSED' ||
    (err as Error | undefined)?.message === 'other side closed'
  );
}

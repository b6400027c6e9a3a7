/**
 * Every difference between kubeloop and client-go v0.37.2 that the differential suite accepts, by case id. Anything
 * not listed here fails the suite.
 *
 * - `deliberateDifferences`: kubeloop differs on purpose; each is documented in the README (Client configuration,
 *   "Where kubeloop differs on purpose"; the Quantity section) and the module doc of sdk/client/meta/quantity.ts. The
 *   test fails when one no longer differs, so the list stays true.
 * - `knownDifferences`: kubeloop should match client-go, or the choice is not made yet ("not fixed yet"). The run
 *   prints them every time; when one is fixed, the run says so and the entry goes.
 *
 * `fields` are the result fields allowed to differ (`error`, `auth.token`, `string`, `matches`, …); any other field that
 * differs still fails.
 */
export interface AcceptedDifference {
  fields: string[];
  reason: string;
}

const refusedAtLoad = (reason: string): AcceptedDifference => ({ fields: ['error'], reason });

const mismatchedPair =
  'a client certificate whose key belongs to another certificate is refused at load, naming the user entry; client-go reads certificate files lazily (to re-read them as they rotate) and fails at the first TLS handshake';

const exactQuantity: AcceptedDifference = {
  fields: ['value', 'milliValue'],
  reason: "value() and milliValue() are exact bigints; apimachinery's int64 results wrap around or give 0 past 2^63",
};

export const deliberateDifferences: Record<string, AcceptedDifference> = {
  'basic-token-and-token-file': refusedAtLoad(
    'token together with tokenFile in one user is refused; client-go keeps both and the file wins',
  ),
  'host-query': refusedAtLoad(
    'a server with a query or fragment is refused; client-go drops them only when the URL has a path',
  ),
  'host-ftp': refusedAtLoad(
    'a server whose scheme is not http or https is refused at load; client-go accepts it there',
  ),
  'host-userinfo': refusedAtLoad(
    'a server URL with a user name or password is refused (credentials go in the user entry); client-go accepts it',
  ),
  'cert-key-mismatch-files': refusedAtLoad(mismatchedPair),
  'flag-client-cert-mismatch': refusedAtLoad(mismatchedPair),
  'cert-not-pem': refusedAtLoad(
    'a client certificate file that does not parse is refused at load; client-go reads it lazily and fails at the first TLS handshake',
  ),
  'token-file-blank': refusedAtLoad(
    'a token file with only white space is refused at load, as an empty one is; client-go accepts it',
  ),
  'ctx-missing-user': refusedAtLoad(
    'a context whose user entry does not exist is refused, naming both; client-go connects with no credentials, which turns a typo in a user name into anonymous requests',
  ),
  'yaml-second-document': refusedAtLoad(
    'a second YAML document with content is refused (usually two files concatenated by mistake); kubectl silently reads the first only',
  ),
  'flag-token-over-token-file': {
    fields: ['auth.token', 'auth.tokenFile'],
    reason:
      "the token override also drops the user's tokenFile, as kubectl means it to; clientcmd's merge cannot clear the field, so client-go sends the file's token instead of --token's",
  },
  ...Object.fromEntries(
    [
      'qty-012',
      'qty-017',
      'qty-054',
      'qty-055',
      'qty-056',
      'qty-057',
      'qty-058',
      'qty-059',
      'qty-pair-019',
      'qty-pair-020',
      'qty-pair-021',
    ].map((id) => [id, exactQuantity]),
  ),
  'qty-060': {
    fields: ['value', 'milliValue', 'string'],
    reason: `${exactQuantity.reason}; and a decimal value of 10^21 or more is written with an exponent (1e21), where Go writes the bare mantissa (1)`,
  },
};

export const knownDifferences: Record<string, AcceptedDifference> = {};

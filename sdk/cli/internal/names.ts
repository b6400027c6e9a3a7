/**
 * Names the CLI accepts and derives: project, domain, API group, version and kind, plurals and file names. Each check
 * says what is wrong and what a valid name looks like.
 */
import { CliError } from './errors.js';

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function usage(message: string): CliError {
  return new CliError('ERR_CLI_USAGE', message);
}

/** True for a DNS-1123 subdomain: lower-case labels joined by dots, at most 253 characters. */
export function isDnsSubdomain(value: string): boolean {
  return (
    value.length > 0 &&
    value.length <= 253 &&
    value.split('.').every((label) => label.length <= 63 && dnsLabel.test(label))
  );
}

/**
 * The project's name: an npm package name and the prefix of its Kubernetes objects (`<name>-controller-manager`), so
 * a DNS-1123 label of at most 40 characters, leaving room for the suffixes.
 */
export function checkProjectName(name: string): string {
  if (!dnsLabel.test(name) || name.length > 40) {
    throw usage(
      `invalid project name "${name}": use lower-case letters, digits and '-', starting and ending with a letter or ` +
        'digit, at most 40 characters (e.g. guestbook-operator); pass one with --name',
    );
  }
  return name;
}

/** A namespace name: a DNS-1123 label. */
export function checkNamespace(namespace: string): string {
  if (!dnsLabel.test(namespace) || namespace.length > 63) {
    throw usage(`invalid namespace "${namespace}": use lower-case letters, digits and '-', at most 63 characters`);
  }
  return namespace;
}

/** The domain of the project's API groups: a DNS-1123 subdomain with at least one dot (`example.com`). */
export function checkDomain(domain: string): string {
  if (!isDnsSubdomain(domain) || !domain.includes('.')) {
    throw usage(`invalid domain "${domain}": use a lower-case DNS name with at least one dot, such as example.com`);
  }
  return domain;
}

/**
 * The full API group of `--group`: a short group (`webapp`) gets the project's domain (`webapp.example.com`); a group
 * with a dot is taken as it is. Kubernetes requires a dot in a CRD's group.
 */
export function fullGroup(group: string, domain: string): string {
  const full = group.includes('.') ? group : `${group}.${domain}`;
  if (!group || !isDnsSubdomain(full)) {
    throw usage(
      `invalid group "${group}": use lower-case letters, digits and '-' (e.g. webapp, which becomes webapp.${domain}), ` +
        'or a full DNS name such as webapp.example.com',
    );
  }
  return full;
}

/** The first label of a group: `webapp` of `webapp.example.com`, the folder its API modules live in. */
export function shortGroup(group: string): string {
  return group.split('.')[0] ?? group;
}

const versionPattern = /^v[1-9][0-9]*((alpha|beta)[1-9][0-9]*)?$/;

/** An API version as Kubernetes orders them: `v1`, `v2`, `v1beta1`, `v1alpha2`. */
export function checkVersion(version: string): string {
  if (!versionPattern.test(version)) {
    throw usage(
      `invalid version "${version}": use v1, v2, v1beta1, v1alpha1 and the like (v, a number, then alphaN or betaN)`,
    );
  }
  return version;
}

/**
 * Names a kind may not take because the generated modules import or declare them, so the kind would clash with them.
 */
const reservedKinds = new Set([
  'ConfigMap',
  'Reconciler',
  'Client',
  'EventRecorder',
  'ReconcileContext',
  'ReconcileRequest',
  'ReconcileResult',
  'CustomObject',
  'Webhook',
  'ValidationError',
  'FieldError',
  'Defaulter',
  'Validator',
  'Warnings',
  'AdmissionContext',
  'Object',
  'Array',
  'Promise',
  'Map',
  'Set',
  'Error',
  'String',
  'Number',
  'Boolean',
  'Symbol',
  'Function',
  'Date',
]);

/** A kind: PascalCase letters and digits, at most 63 characters, not a name the generated code needs for itself. */
export function checkKind(kind: string): string {
  if (!/^[A-Z][A-Za-z0-9]*$/.test(kind) || kind.length > 63) {
    throw usage(
      `invalid kind "${kind}": use PascalCase letters and digits, starting with an upper-case letter (e.g. Guestbook, WebApp)`,
    );
  }
  if (reservedKinds.has(kind)) {
    throw usage(`the kind "${kind}" clashes with a name the generated code uses; choose another kind`);
  }
  if (kind.endsWith('List')) {
    throw usage(`invalid kind "${kind}": a kind ending in "List" is confused with list kinds; choose another kind`);
  }
  return kind;
}

/**
 * The lower-case plural of a kind, by the common English rules: `Policy` → `policies`, `Bus` → `buses`,
 * `Box` → `boxes`, `Match` → `matches`, `Guestbook` → `guestbooks`. Pass `--plural` where English disagrees.
 */
export function pluralOf(kind: string): string {
  const lower = kind.toLowerCase();
  if (/[^aeiou]y$/.test(lower)) return `${lower.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(lower)) return `${lower}es`;
  return `${lower}s`;
}

/** A plural given with `--plural`: a DNS-1123 label, lower case. */
export function checkPlural(plural: string): string {
  if (!dnsLabel.test(plural))
    throw usage(`invalid plural "${plural}": use lower-case letters, digits and '-' (e.g. guestbooks)`);
  return plural;
}

/** kebab-case for file names: `WebApp` → `web-app`, `HTTPRoute` → `http-route`, `Guestbook2` → `guestbook2`. */
export function kebabCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

/** camelCase of a PascalCase name: `WebApp` → `webApp`, `HTTPRoute` → `httpRoute`. */
export function camelCase(name: string): string {
  const match = /^[A-Z]+(?=[A-Z][a-z]|$)|^[A-Z]/.exec(name);
  return match ? match[0].toLowerCase() + name.slice(match[0].length) : name;
}

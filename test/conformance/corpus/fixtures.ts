/**
 * The files the kubeconfig cases name: certificate authorities, client certificate/key pairs, token files and an
 * exec plugin, written once into a temporary folder that both sides (client-go and kubeloop) read. Every credential
 * here is fake and made up for the run.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCertificateAuthority } from '../../../sdk/webhook/index.js';

/** PEM texts of the fixtures, and their paths under `dir`. */
export interface Fixtures {
  /** The temporary folder everything lives in; printed as `$DIR` in results. */
  dir: string;
  ca1: string;
  ca2: string;
  /** Client pair A (cert + key), and pair B; A's certificate with B's key is a mismatch. */
  certA: string;
  keyA: string;
  certB: string;
  keyB: string;
  /** Absolute paths of the same texts, and of the token files and plugin. */
  paths: {
    ca1: string;
    ca2: string;
    certA: string;
    keyA: string;
    certB: string;
    keyB: string;
    notPem: string;
    token: string;
    emptyToken: string;
    blankToken: string;
    plugin: string;
  };
}

/** Fake tokens and passwords the corpus uses. Never printed: results carry digests. */
export const fake = {
  token: 'fake-token-0123456789abcdef',
  otherToken: 'fake-token-override-fedcba9876543210',
  fileToken: 'fake-token-from-file-5555',
  password: 'fake-password-1',
  otherPassword: 'fake-password-override-2',
  /** Written unquoted, so YAML reads it as a number: the refusal must not quote it. */
  numericToken: '98765432109876',
  numericPassword: '4242424242',
} as const;

export async function writeFixtures(dir: string): Promise<Fixtures> {
  const shared = join(dir, 'fixtures');
  await mkdir(join(shared, 'bin'), { recursive: true });
  const [authority1, authority2] = await Promise.all([
    createCertificateAuthority('conformance-ca-1'),
    createCertificateAuthority('conformance-ca-2'),
  ]);
  const pairA = await authority1.sign({ commonName: 'user-a', organizations: ['group-a'], usage: 'client' });
  const pairB = await authority1.sign({ commonName: 'user-b', usage: 'client' });
  const paths = {
    ca1: join(shared, 'ca1.crt'),
    ca2: join(shared, 'ca2.crt'),
    certA: join(shared, 'a.crt'),
    keyA: join(shared, 'a.key'),
    certB: join(shared, 'b.crt'),
    keyB: join(shared, 'b.key'),
    notPem: join(shared, 'not-pem.txt'),
    token: join(shared, 'token'),
    emptyToken: join(shared, 'empty-token'),
    blankToken: join(shared, 'blank-token'),
    plugin: join(shared, 'bin', 'plugin'),
  };
  const texts: [string, string][] = [
    [paths.ca1, authority1.certPem],
    [paths.ca2, authority2.certPem],
    [paths.certA, pairA.certPem],
    [paths.keyA, pairA.keyPem],
    [paths.certB, pairB.certPem],
    [paths.keyB, pairB.keyPem],
    [paths.notPem, 'this is not a certificate\n'],
    [paths.token, `${fake.fileToken}\n`],
    [paths.emptyToken, ''],
    [paths.blankToken, '  \n'],
    [paths.plugin, '#!/bin/sh\nexit 1\n'],
  ];
  await Promise.all(texts.map(([path, text]) => writeFile(path, text, { mode: 0o600 })));
  await chmod(paths.plugin, 0o700);
  return {
    dir,
    ca1: authority1.certPem,
    ca2: authority2.certPem,
    certA: pairA.certPem,
    keyA: pairA.keyPem,
    certB: pairB.certPem,
    keyB: pairB.keyPem,
    paths,
  };
}

/** base64 of a text, as kubeconfig `*-data` fields hold it. */
export const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/** Fixtures with empty texts and paths: enough to list the cases (ids and titles) before anything is written. */
export function placeholderFixtures(): Fixtures {
  const paths = {
    ca1: '',
    ca2: '',
    certA: '',
    keyA: '',
    certB: '',
    keyB: '',
    notPem: '',
    token: '',
    emptyToken: '',
    blankToken: '',
    plugin: '',
  };
  return { dir: '', ca1: '', ca2: '', certA: '', keyA: '', certB: '', keyB: '', paths };
}

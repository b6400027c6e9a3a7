// The schema → TypeScript mapping as the built-in generator uses it: references, allOf wrappers, list kinds.
// (The CRD side of the same mapping is tested in crd.test.ts.)
import { describe, expect, it } from 'vitest';
import { docComment, pascalCase, propertyKey, SchemaMapper } from './typescript.js';

const resolveRef = (ref: string): string => `metav1.${ref.slice(ref.lastIndexOf('.') + 1)}`;

describe('SchemaMapper', () => {
  it('resolves $ref, unwraps a one-element allOf and keeps the outer description and default', () => {
    const mapper = new SchemaMapper({ resolveRef });
    mapper.declare('Thing', {
      type: 'object',
      required: ['metadata'],
      properties: {
        metadata: {
          description: 'Standard metadata.',
          default: {},
          allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }],
        },
        selector: {
          allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector' }],
          default: { matchLabels: {} },
        },
        items: {
          type: 'array',
          items: { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Condition' },
        },
      },
    });
    expect(mapper.render()).toBe(
      'export interface Thing {\n' +
        '  /** Standard metadata. */\n' +
        '  metadata: metav1.ObjectMeta;\n' +
        '  /**\n   * @default {"matchLabels":{}}\n   */\n' +
        '  selector?: metav1.LabelSelector;\n' +
        '  items?: metav1.Condition[];\n' +
        '}\n',
    );
  });

  it('declares non-objects as aliases and typed oneOf as unions', () => {
    const mapper = new SchemaMapper();
    mapper.declare('Time', { type: 'string', format: 'date-time', description: 'A time.' });
    mapper.declare('Either', { oneOf: [{ type: 'string' }, { type: 'number' }] });
    mapper.declare('Empty', { type: 'object', description: 'Nothing in it.' });
    expect(mapper.render()).toBe(
      '/** A time. */\nexport type Time = string;\n\nexport type Either = string | number;\n\n/** Nothing in it. */\nexport type Empty = Record<string, never>;\n',
    );
  });

  it('refuses $ref without a resolver, duplicate names and names it was told to keep free', () => {
    expect(() => new SchemaMapper().typeOf({ $ref: '#/x' }, 'X')).toThrow('unexpected $ref #/x');
    const mapper = new SchemaMapper({ reservedNames: ['ObjectMeta'] });
    mapper.alias('A', 'string', []);
    expect(() => mapper.alias('A', 'number', [])).toThrow('A is declared twice');
    expect(mapper.uniqueName('ObjectMeta')).toBe('ObjectMeta2');
    expect(mapper.uniqueName('A', 'V1')).toBe('AV1');
    expect(() => mapper.replace('B', '')).toThrow('B was never declared');
  });
});

describe('helpers', () => {
  it('quotes property keys that are not identifiers', () => {
    expect(['a', '$ref', 'x-y', 'a.b/c', "it's"].map(propertyKey)).toEqual([
      'a',
      '$ref',
      "'x-y'",
      "'a.b/c'",
      "'it\\'s'",
    ]);
  });

  it('PascalCases property names', () => {
    expect(['matchLabels', 'tls-config', 'x509', 'app.kubernetes.io/name', '$ref'].map(pascalCase)).toEqual([
      'MatchLabels',
      'TlsConfig',
      'X509',
      'AppKubernetesIoName',
      'Ref',
    ]);
  });

  it('writes one-line and multi-line doc comments', () => {
    expect(docComment([])).toBe('');
    expect(docComment(['One line.'], '  ')).toBe('  /** One line. */\n');
    expect(docComment(['First.', '', '@default 1'])).toBe('/**\n * First.\n *\n * @default 1\n */\n');
  });
});

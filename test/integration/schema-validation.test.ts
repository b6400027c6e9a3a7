// Conformance of validateObject with the API server: one definition (defineCustomResource) gives the CRD installed in
// envtest and the schema validateObject applies; the same objects go to both (creates and updates, with a server-side
// dry run), and the two must agree on accept/refuse and on the fields named.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamicClient } from '../../sdk/client/index.js';
import { ApiError } from '../../sdk/client/errors.js';
import type { Unstructured } from '../../sdk/client/meta/types.js';
import { typedClient } from '../../sdk/client/rest/resource.js';
import { s, type Infer } from '../../sdk/client/schema/builder.js';
import { defineCustomResource, type CustomResource } from '../../sdk/client/schema/resource.js';
import { validateObject } from '../../sdk/client/schema/validate.js';
import { buildCrds } from '../../sdk/cli/internal/crd.js';
import { createTestNamespace, sharedCluster, uniqueName } from '../support/cluster.js';
import { eventually } from '../support/wait.js';

const gadgetSpec = s.object(
  {
    name: s.string({
      minLength: 3,
      maxLength: 10,
      pattern: '^[a-z][a-z0-9-]*$',
      description: 'A short lower-case name.',
    }),
    replicas: s.integer({ minimum: 0, maximum: 10 }).optional(),
    ratio: s.number({ minimum: 0, maximum: 1, exclusiveMaximum: true }).optional(),
    step: s.integer({ multipleOf: 5 }).optional(),
    mode: s.enum(['Fast', 'Slow']).optional(),
    enabled: s.boolean().optional(),
    port: s.intOrString().optional(),
    memory: s.quantity().optional(),
    startTime: s
      .dateTime({
        validations: [
          {
            rule: 'self > timestamp("2000-01-01T00:00:00Z") && self.getFullYear() < 2100',
            message: 'startTime is in this century',
          },
        ],
      })
      .optional(),
    day: s.string({ format: 'date' }).optional(),
    id: s.string({ format: 'uuid' }).optional(),
    address: s.string({ format: 'ipv4' }).optional(),
    network: s.string({ format: 'cidr' }).optional(),
    tags: s.array(s.string({ maxLength: 20 }), { maxItems: 3, listType: 'set' }).optional(),
    ports: s
      .array(s.object({ name: s.string({ maxLength: 15 }), port: s.integer({ minimum: 1, maximum: 65535 }) }), {
        listType: 'map',
        mapKeys: ['name'],
        maxItems: 5,
      })
      .optional(),
    labels: s.map(s.string({ maxLength: 5 }), { maxProperties: 2 }).optional(),
    min: s.integer().optional(),
    max: s.integer().optional(),
    storageClass: s
      .string({ maxLength: 20, validations: [{ rule: 'self == oldSelf', message: 'storageClass is immutable' }] })
      .optional(),
    version: s.integer({ validations: [{ rule: 'self >= oldSelf', message: 'version may not decrease' }] }).optional(),
    owner: s
      .string({
        maxLength: 20,
        validations: [{ rule: 'self.lowerAscii() == self', message: 'owner must be lower case' }],
      })
      .optional(),
    endpoints: s
      .array(s.string({ maxLength: 50 }), {
        maxItems: 5,
        validations: [{ rule: 'self.all(e, e.startsWith("https://"))', message: 'endpoints must use https' }],
      })
      .optional(),
    weights: s
      .map(s.integer(), {
        maxProperties: 5,
        validations: [{ rule: 'self.all(k, self[k] > 0)', message: 'weights must be positive' }],
      })
      .optional(),
    template: s.embeddedResource().optional(),
    pod: s.podTemplateSpec().optional(),
  },
  {
    validations: [
      {
        rule: '!has(self.min) || !has(self.max) || self.min <= self.max',
        message: 'min must not exceed max',
        fieldPath: '.min',
      },
      {
        rule: '!has(self.mode) || self.mode != "Fast" || has(self.replicas)',
        message: 'Fast mode needs replicas',
        reason: 'FieldValueRequired',
        fieldPath: '.replicas',
      },
      {
        rule: '!has(self.tags) || self.tags.exists_one(t, t == "primary") || !self.tags.exists(t, t.startsWith("p"))',
        message: 'one tag may be primary',
      },
    ],
  },
);

function gadget(group: string): CustomResource<Infer<typeof gadgetSpec>, unknown> {
  return defineCustomResource({
    group,
    version: 'v1',
    kind: 'Gadget',
    plural: 'gadgets',
    namespaced: true,
    spec: gadgetSpec,
  });
}

type Spec = Record<string, unknown>;
interface Case {
  name: string;
  spec: Spec;
  /** For an update: the spec of the object created first (valid). */
  old?: Spec;
}

const ok = { name: 'abc' };
const cases: Case[] = [
  { name: 'minimal', spec: ok },
  {
    name: 'every field valid',
    spec: {
      ...ok,
      replicas: 3,
      ratio: 0.5,
      step: 10,
      mode: 'Fast',
      enabled: true,
      port: 'http',
      memory: '1Gi',
      startTime: '2024-01-02T03:04:05Z',
      day: '2024-02-29',
      id: '123e4567-e89b-12d3-a456-426614174000',
      address: '10.0.0.1',
      network: '10.0.0.0/8',
      tags: ['a', 'b'],
      ports: [
        { name: 'http', port: 80 },
        { name: 'https', port: 443 },
      ],
      labels: { a: 'x' },
      min: 1,
      max: 2,
      owner: 'bob',
      endpoints: ['https://a'],
      weights: { a: 1 },
      template: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } },
    },
  },
  { name: 'name missing', spec: {} },
  { name: 'name too short', spec: { name: 'ab' } },
  { name: 'name too long', spec: { name: 'abcdefghijk' } },
  { name: 'name against the pattern', spec: { name: 'Abc' } },
  { name: 'replicas above maximum', spec: { ...ok, replicas: 11 } },
  { name: 'replicas below minimum', spec: { ...ok, replicas: -1 } },
  { name: 'replicas at the bounds', spec: { ...ok, replicas: 10, min: 0, max: 0 } },
  { name: 'replicas a string', spec: { ...ok, replicas: '3' } },
  { name: 'replicas a fraction', spec: { ...ok, replicas: 2.5 } },
  { name: 'ratio at the exclusive maximum', spec: { ...ok, ratio: 1 } },
  { name: 'ratio an integer', spec: { ...ok, ratio: 0 } },
  { name: 'step not a multiple', spec: { ...ok, step: 7 } },
  { name: 'mode not in the enum', spec: { ...ok, mode: 'Medium' } },
  { name: 'enabled a string', spec: { ...ok, enabled: 'yes' } },
  { name: 'port a number', spec: { ...ok, port: 8080 } },
  { name: 'port a boolean', spec: { ...ok, port: true } },
  { name: 'memory in millis', spec: { ...ok, memory: '500m' } },
  { name: 'memory a number', spec: { ...ok, memory: 2 } },
  { name: 'memory not a quantity', spec: { ...ok, memory: '1GB' } },
  { name: 'startTime not a date-time', spec: { ...ok, startTime: 'yesterday' } },
  { name: 'startTime with an offset', spec: { ...ok, startTime: '2024-01-02T03:04:05.123+02:00' } },
  { name: 'rule: startTime as a timestamp, too early', spec: { ...ok, startTime: '1999-12-31T23:59:59Z' } },
  { name: 'rule: startTime as a timestamp, in range', spec: { ...ok, startTime: '2099-12-31T23:59:59.5+01:00' } },
  { name: 'day that does not exist', spec: { ...ok, day: '2023-02-29' } },
  { name: 'id not a uuid', spec: { ...ok, id: 'not-a-uuid' } },
  { name: 'address out of range', spec: { ...ok, address: '10.0.0.256' } },
  { name: 'address is IPv6', spec: { ...ok, address: '::1' } },
  { name: 'network prefix too long', spec: { ...ok, network: '10.0.0.0/33' } },
  { name: 'network IPv6', spec: { ...ok, network: 'fd00::/64' } },
  { name: 'tags too many', spec: { ...ok, tags: ['a', 'b', 'c', 'd'] } },
  { name: 'tags duplicated', spec: { ...ok, tags: ['a', 'a'] } },
  { name: 'tags item a number', spec: { ...ok, tags: [1] } },
  {
    name: 'ports key duplicated',
    spec: {
      ...ok,
      ports: [
        { name: 'a', port: 1 },
        { name: 'a', port: 2 },
      ],
    },
  },
  { name: 'ports item port zero', spec: { ...ok, ports: [{ name: 'a', port: 0 }] } },
  { name: 'ports item without port', spec: { ...ok, ports: [{ name: 'a' }] } },
  { name: 'labels value too long', spec: { ...ok, labels: { a: 'toolong' } } },
  { name: 'labels too many', spec: { ...ok, labels: { a: '1', b: '2', c: '3' } } },
  { name: 'labels value a number', spec: { ...ok, labels: { a: 1 } } },
  { name: 'rule: min above max (fieldPath)', spec: { ...ok, min: 3, max: 2 } },
  { name: 'rule: Fast without replicas (reason Required)', spec: { ...ok, mode: 'Fast' } },
  { name: 'rule: Slow without replicas', spec: { ...ok, mode: 'Slow' } },
  { name: 'rule: owner upper case (lowerAscii)', spec: { ...ok, owner: 'Bob' } },
  { name: 'rule: endpoints not https (all, startsWith)', spec: { ...ok, endpoints: ['https://a', 'http://b'] } },
  { name: 'rule: weights not positive (map all)', spec: { ...ok, weights: { a: 1, b: 0 } } },
  { name: 'rule: two primary-like tags (exists_one)', spec: { ...ok, tags: ['primary', 'pets'] } },
  { name: 'rule: one primary tag', spec: { ...ok, tags: ['primary', 'x'] } },
  { name: 'embedded resource without kind', spec: { ...ok, template: { apiVersion: 'v1', metadata: { name: 'x' } } } },
  {
    name: 'pod template valid',
    spec: {
      ...ok,
      pod: {
        metadata: { labels: { app: 'x' } },
        spec: {
          containers: [
            {
              name: 'c',
              image: 'nginx',
              ports: [{ containerPort: 80 }],
              resources: { limits: { cpu: '500m', memory: '1Gi' } },
            },
          ],
        },
      },
    },
  },
  { name: 'pod template: containers a string', spec: { ...ok, pod: { spec: { containers: 'oops' } } } },
  {
    name: 'pod template: container without name',
    spec: { ...ok, pod: { spec: { containers: [{ image: 'nginx' }] } } },
  },
  {
    name: 'pod template: containerPort a string',
    spec: { ...ok, pod: { spec: { containers: [{ name: 'c', ports: [{ containerPort: '80' }] }] } } },
  },
  {
    name: 'pod template: limit not a quantity',
    spec: { ...ok, pod: { spec: { containers: [{ name: 'c', resources: { limits: { cpu: 'lots' } } }] } } },
  },
  { name: 'several problems at once', spec: { name: 'ab', replicas: 20, mode: 'Other', tags: ['a', 'a'] } },
  {
    name: 'update: storageClass changed (transition rule)',
    old: { ...ok, storageClass: 'fast' },
    spec: { ...ok, storageClass: 'slow' },
  },
  {
    name: 'update: storageClass unchanged',
    old: { ...ok, storageClass: 'fast' },
    spec: { ...ok, storageClass: 'fast', replicas: 2 },
  },
  { name: 'update: storageClass set for the first time', old: ok, spec: { ...ok, storageClass: 'fast' } },
  { name: 'update: version decreased (transition rule)', old: { ...ok, version: 3 }, spec: { ...ok, version: 2 } },
  { name: 'update: version increased', old: { ...ok, version: 3 }, spec: { ...ok, version: 4 } },
  { name: 'update: replicas out of bounds', old: { ...ok, replicas: 1 }, spec: { ...ok, replicas: 12 } },
  { name: 'update: rule broken by the update', old: { ...ok, min: 1, max: 2 }, spec: { ...ok, min: 3, max: 2 } },
  { name: 'update: name removed', old: ok, spec: { replicas: 1 } },
];

/** What came of one write: accepted, or refused naming these fields (`spec.replicas FieldValueInvalid`). */
interface Outcome {
  accepted: boolean;
  fields: string[];
}

describe('validateObject agrees with the API server (a CRD from the same definition)', () => {
  const { config } = sharedCluster();
  const group = `${uniqueName('schema')}.example.com`;
  const Gadget = gadget(group);
  const crds = createDynamicClient(config).resource({
    group: 'apiextensions.k8s.io',
    version: 'v1',
    resource: 'customresourcedefinitions',
  });
  let namespace = '';

  beforeAll(async () => {
    const [generated] = buildCrds([{ descriptor: Gadget, version: Gadget.crdVersion, source: 'test' }]);
    await crds.create(generated!.crd as unknown as Unstructured);
    await eventually(
      'the CRD to be established',
      async () => {
        const got = await crds.get(`gadgets.${group}`);
        const conditions =
          (got['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
        return conditions.some((c) => c.type === 'Established' && c.status === 'True') || undefined;
      },
      30_000,
    );
    namespace = await createTestNamespace(config, 'schema');
  }, 60_000);

  afterAll(async () => {
    await crds.delete(`gadgets.${group}`);
  });

  async function server(c: Case, i: number): Promise<Outcome> {
    const client = typedClient(config, Gadget).namespace(namespace);
    const metadata = { name: `g${i}` };
    try {
      if (c.old) {
        const created = await client.create({
          apiVersion: `${group}/v1`,
          kind: 'Gadget',
          metadata,
          spec: c.old as never,
        });
        await client.update({ ...created, spec: c.spec as never }, { dryRun: ['All'] });
      } else {
        await eventually(
          'gadgets to be served',
          () =>
            client
              .create(
                { apiVersion: `${group}/v1`, kind: 'Gadget', metadata, spec: c.spec as never },
                { dryRun: ['All'] },
              )
              .then(
                () => true,
                (err: unknown) => (err instanceof ApiError && err.statusCode === 404 ? undefined : Promise.reject(err)),
              ),
          30_000,
        );
      }
      return { accepted: true, fields: [] };
    } catch (err) {
      if (!(err instanceof ApiError) || err.statusCode !== 422) throw err;
      const fields = (err.details?.causes ?? []).map((cause) => `${cause.field ?? ''} ${cause.reason ?? ''}`);
      return { accepted: false, fields: [...new Set(fields)].toSorted() };
    }
  }

  function local(c: Case, i: number): Outcome {
    const object = { apiVersion: `${group}/v1`, kind: 'Gadget', metadata: { name: `g${i}`, namespace }, spec: c.spec };
    const old = c.old && { ...object, spec: c.old };
    const errors = validateObject(Gadget, object, old);
    return {
      accepted: errors.length === 0,
      fields: [...new Set(errors.map((e) => `${e.field} ${e.type}`))].toSorted(),
    };
  }

  it(`runs ${cases.length} objects through both and gets the same answers`, async () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    const disagreements: string[] = [];
    let refused = 0;
    for (const [i, c] of cases.entries()) {
      const [want, got] = [await server(c, i), local(c, i)];
      if (!want.accepted) refused++;
      if (JSON.stringify(want) !== JSON.stringify(got))
        disagreements.push(`${c.name}: server ${JSON.stringify(want)}, validateObject ${JSON.stringify(got)}`);
    }
    expect(disagreements).toEqual([]);
    // Both answers occur: the suite is not all-accept or all-refuse.
    expect(refused).toBeGreaterThan(20);
    expect(refused).toBeLessThan(cases.length - 10);
  }, 120_000);
});

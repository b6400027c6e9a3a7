import { describe, expect, it } from 'vitest';
import { defineResource } from '../client/index.js';
import { createExponentialFailureRateLimiter } from '../workqueue/index.js';
import { controllerFor, type ControllerRegistry, type ControllerSpec } from './builder.js';
import type { ControllerOptions } from './controller-options.js';
import type { ReconcilerOptions } from './decorator.js';
import type { Reconcile } from './reconcile.js';

const Widget = defineResource<{ size?: number }>({
  group: 'example.com',
  version: 'v1',
  kind: 'Widget',
  plural: 'widgets',
  namespaced: true,
});
const reconciler: Reconcile = { reconcile: async () => ({}) };

function recording(): ControllerRegistry & { specs: ControllerSpec[] } {
  const specs: ControllerSpec[] = [];
  return { specs, addController: (spec) => specs.push(spec) };
}

describe('controllerFor(...).withOptions', () => {
  it('hands the manager one maxConcurrentReconciles of 1 and nothing else by default', () => {
    const registry = recording();
    controllerFor(registry).for(Widget).complete(reconciler);
    const [spec] = registry.specs;
    expect(spec).toMatchObject({ name: 'widget', maxConcurrentReconciles: 1 });
    expect(spec).not.toHaveProperty('rateLimiter');
    expect(spec).not.toHaveProperty('reconcileTimeoutMs');
    expect(spec).not.toHaveProperty('cacheSyncTimeoutMs');
  });

  it('passes every ControllerOptions field on, later calls keeping what they leave undefined', () => {
    const registry = recording();
    const rateLimiter = createExponentialFailureRateLimiter<string>();
    const options: ControllerOptions = { maxConcurrentReconciles: 3, rateLimiter, reconcileTimeoutMs: 500 };
    controllerFor(registry)
      .for(Widget)
      .withOptions(options)
      .withOptions({ cacheSyncTimeoutMs: 1000 })
      .complete(reconciler);
    expect(registry.specs[0]).toMatchObject({
      maxConcurrentReconciles: 3,
      rateLimiter,
      reconcileTimeoutMs: 500,
      cacheSyncTimeoutMs: 1000,
    });
  });

  it('takes only its own fields from a larger object, such as a decorator’s metadata', () => {
    const registry = recording();
    const metadata: ReconcilerOptions = { for: Widget, owns: [], maxConcurrentReconciles: 2 };
    controllerFor(registry).for(Widget).withOptions(metadata).complete(reconciler);
    expect(registry.specs[0]).not.toHaveProperty('for');
    expect(registry.specs[0]).not.toHaveProperty('owns');
    expect(registry.specs[0]?.maxConcurrentReconciles).toBe(2);
  });

  it('rejects a maxConcurrentReconciles that is not a whole number ≥ 1', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => controllerFor(recording()).withOptions({ maxConcurrentReconciles: bad })).toThrow(RangeError);
    }
  });
});

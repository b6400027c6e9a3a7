import { describe, expect, it } from 'vitest';
import { hasErrorCode } from '../client/index.js';
import { InvalidSelectorError, labelSelectorFromObject, parseLabelSelector } from './label-selector.js';

const matches = (selector: string, labels: Record<string, string> | undefined): boolean =>
  parseLabelSelector(selector).matches(labels);

describe('parseLabelSelector', () => {
  it('matches everything when empty', () => {
    expect(parseLabelSelector('').empty).toBe(true);
    expect(parseLabelSelector('  ').matches(undefined)).toBe(true);
  });

  it('evaluates equality and inequality', () => {
    expect(matches('app=web', { app: 'web' })).toBe(true);
    expect(matches('app==web', { app: 'web' })).toBe(true);
    expect(matches('app=web', { app: 'db' })).toBe(false);
    expect(matches('app=web', {})).toBe(false);
    expect(matches('app!=web', { app: 'db' })).toBe(true);
    expect(matches('app!=web', {})).toBe(true);
    expect(matches('app!=web', { app: 'web' })).toBe(false);
    expect(matches('app=', { app: '' })).toBe(true);
  });

  it('evaluates in and notin', () => {
    expect(matches('tier in (a, b)', { tier: 'b' })).toBe(true);
    expect(matches('tier in (a,b)', { tier: 'c' })).toBe(false);
    expect(matches('tier in (a,b)', {})).toBe(false);
    expect(matches('tier notin (a,b)', { tier: 'c' })).toBe(true);
    expect(matches('tier notin (a,b)', {})).toBe(true);
    expect(matches('tier notin (a,b)', { tier: 'a' })).toBe(false);
  });

  it('evaluates exists, does-not-exist and numeric comparisons', () => {
    expect(matches('app', { app: '' })).toBe(true);
    expect(matches('app', {})).toBe(false);
    expect(matches('!app', {})).toBe(true);
    expect(matches('!app', { app: 'x' })).toBe(false);
    expect(matches('replicas>2', { replicas: '3' })).toBe(true);
    expect(matches('replicas>2', { replicas: '2' })).toBe(false);
    expect(matches('replicas<2', { replicas: 'x' })).toBe(false);
  });

  it('ands comma-separated requirements, with prefixed keys', () => {
    const sel = parseLabelSelector('app.kubernetes.io/name=web, env notin (prod), !canary,tier');
    expect(sel.requirements).toHaveLength(4);
    expect(sel.matches({ 'app.kubernetes.io/name': 'web', env: 'dev', tier: 'fe' })).toBe(true);
    expect(sel.matches({ 'app.kubernetes.io/name': 'web', env: 'dev', tier: 'fe', canary: 'y' })).toBe(false);
    expect(sel.toString()).toBe('app.kubernetes.io/name=web,env notin (prod),!canary,tier');
    expect(parseLabelSelector(sel.toString()).toString()).toBe(sel.toString());
  });

  it.each([
    ['app=web,', /expected a label key/],
    ['app in (a', /expected ',' or '\)'/],
    ['app in a', /expected '\(' after "app in"/],
    ['app ~ web', /expected =, ==, !=, in, notin, > or < after "app"/],
    ['-bad=1', /key "-bad" is invalid/],
    ['Bad_Prefix.com/x=1', /invalid prefix/],
    ['app=has space', /expected ','/],
    ['app=-x', /value "-x" is invalid/],
    ['n>x', /needs an integer/],
  ])('rejects %j with a clear error', (input, message) => {
    let caught: unknown;
    try {
      parseLabelSelector(input);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidSelectorError);
    expect(hasErrorCode(caught, 'ERR_KUBE_INVALID_SELECTOR')).toBe(true);
    expect((caught as Error).message).toContain(JSON.stringify(input));
    expect((caught as Error).message).toMatch(message);
  });
});

describe('labelSelectorFromObject', () => {
  it('ands matchLabels and matchExpressions', () => {
    const sel = labelSelectorFromObject({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['fe', 'be'] },
        { key: 'canary', operator: 'DoesNotExist' },
      ],
    });
    expect(sel.matches({ app: 'web', tier: 'fe' })).toBe(true);
    expect(sel.matches({ app: 'web', tier: 'fe', canary: '1' })).toBe(false);
    expect(sel.toString()).toBe('app=web,tier in (be,fe),!canary');
    expect(labelSelectorFromObject({}).empty).toBe(true);
  });

  it('rejects In without values', () => {
    expect(() => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] })).toThrow(
      /a In needs at least one value/,
    );
  });
});

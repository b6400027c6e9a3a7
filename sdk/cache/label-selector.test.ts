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
    expect(sel.toString()).toBe('app.kubernetes.io/name=web,!canary,env notin (prod),tier'); // sorted by key, as apimachinery
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
    ['n>x', /needs an integer \(int64\)/],
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

describe('parseLabelSelector: > and < compare as int64, as apimachinery', () => {
  it.each([
    // [selector, label value, matches]
    ['n>2', '3', true],
    ['n>2', '2', false],
    ['n<2', '1', true],
    ['n>9007199254740992', '9007199254740993', true], // above 2^53: a JS number would call them equal
    ['n<9007199254740993', '9007199254740992', true],
    ['n>9223372036854775806', '9223372036854775807', true], // int64 max
    ['n>1', '9223372036854775808', false], // above int64: not an integer to the API server
    ['n<1', '-9223372036854775808', true], // int64 min (a label value cannot be negative, but matching allows it)
    ['n<1', '-9223372036854775809', false],
    ['n>1', '00012', true], // leading zeros, as strconv.ParseInt
    ['n>1', '+5', true], // a sign, as strconv.ParseInt
    ['n>1', '12345678901234567890', false], // 20 digits: above int64
    ['n>1', '1.5', false],
    ['n<1', 'x', false],
    ['n<1', '', false],
    ['n>0', '1e3', false],
  ])('%s with n=%j matches: %s', (selector, value, expected) => {
    expect(matches(selector, { n: value })).toBe(expected);
  });

  it('never matches a missing label', () => {
    expect(matches('n<5', {})).toBe(false);
    expect(matches('n>5', undefined)).toBe(false);
  });

  it.each([
    ['n>-1', /needs a label value: value "-1" is invalid/], // a valid int64, but not a label value
    ['n<+1', /needs a label value: value "\+1" is invalid/],
    ['n>9223372036854775808', /needs an integer \(int64\)/],
    ['n>12345678901234567890', /needs an integer \(int64\)/],
    ['n>1.5', /needs an integer \(int64\), not "1.5"/],
    ['n>', /needs an integer \(int64\), not ""/],
    ['n>0x10', /needs an integer/],
  ])('refuses %j', (input, message) => {
    expect(() => parseLabelSelector(input)).toThrow(message);
  });

  it('sorts requirements by key, as apimachinery (String() of "b=1,a=2,!c" is "a=2,b=1,!c")', () => {
    expect(parseLabelSelector('b=1,a=2,!c').toString()).toBe('a=2,b=1,!c');
    expect(parseLabelSelector('x,x=1,!w').requirements.map((r) => r.operator)).toEqual(['!', 'exists', '=']);
  });

  it('keeps leading zeros in the canonical form', () => {
    expect(parseLabelSelector('n > 007').toString()).toBe('n>007');
    expect(matches('n>007', { n: '8' })).toBe(true);
  });
});

describe('parseLabelSelector: whitespace is space, tab, CR and LF only, as apimachinery', () => {
  it('skips space, tab, CR and LF around tokens', () => {
    const sel = parseLabelSelector(' \tapp\r\n=\nweb ,\ttier in ( a ,\r\nb )\n');
    expect(sel.toString()).toBe('app=web,tier in (a,b)');
  });

  it.each([
    ['app=web\f'],
    ['app=web\v'],
    ['app=\u00a0web'],
    ['app\u2003=web'],
    ['\ufeffapp=web'],
    ['tier in (a,\u00a0b)'],
    ['n>\u00a01'],
  ])('refuses other whitespace as part of a key or value: %j', (input) => {
    expect(() => parseLabelSelector(input)).toThrow(InvalidSelectorError);
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
    expect(sel.toString()).toBe('app=web,!canary,tier in (be,fe)');
    expect(labelSelectorFromObject({}).empty).toBe(true);
  });

  it('rejects In without values', () => {
    expect(() => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] })).toThrow(
      /a In needs at least one value/,
    );
  });
});

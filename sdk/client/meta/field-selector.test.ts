import { describe, expect, it } from 'vitest';
import { hasErrorCode } from '../errors.js';
import {
  escapeFieldSelectorValue,
  everythingFields,
  fieldSelectorFromSet,
  InvalidSelectorError,
  parseFieldSelector,
  type FieldSelector,
  type FieldSelectorTerm,
} from './field-selector.js';

const fields: Readonly<Record<string, string>> = {
  'metadata.name': 'web',
  'metadata.namespace': 'prod',
  'status.phase': 'Running',
};

// Expected canonical strings are what apimachinery v0.37.2's fields.ParseSelector(...).String() gives.
describe('parseFieldSelector, as fields.ParseSelector', () => {
  it.each([
    ['', ''],
    ['a=b', 'a=b'],
    ['a==b', 'a=b'],
    ['a!=b', 'a!=b'],
    ['c=d,a=b', 'a=b,c=d'], // terms are sorted
    ['b=1,a=2,A=3', 'A=3,a=2,b=1'], // byte-wise
    ['x=\u00e9,x=z', 'x=z,x=\u00e9'],
    ['x=\u{1F600},x=\uffff', 'x=\uffff,x=\u{1F600}'], // UTF-8 order, not UTF-16
    ['a=', 'a='],
    ['=', ''], // neither field nor value: everything
    ['!=', ''],
    [',', ''],
    ['a=b,', 'a=b'],
    ['a=b,,c=d', 'a=b,c=d'],
    ['=x', '=x'],
    ['a=b\\=c', 'a=b\\=c'],
    ['a=b\\,c', 'a=b\\,c'],
    ['a=b\\\\c', 'a=b\\\\c'],
    ['a!b=c', 'a!b=c'],
    ['a=!b', 'a=!b'],
    ['a = b', 'a = b'], // nothing is trimmed
    ['\\,=x', '\\,=x'], // the field is not unescaped
    ['metadata.namespace!=kube-system,metadata.name=web', 'metadata.name=web,metadata.namespace!=kube-system'],
  ])('%j is %j', (input, canonical) => {
    const selector = parseFieldSelector(input);
    expect(selector.toString()).toBe(canonical);
    expect(parseFieldSelector(canonical).toString()).toBe(canonical);
    expect(selector.empty()).toBe(canonical === '');
  });

  it('unescapes values and splits at unescaped commas only', () => {
    const reqs: readonly FieldSelectorTerm[] = parseFieldSelector(
      'spec.x=a\\,b\\=c\\\\d,status.phase!=Failed',
    ).requirements();
    expect(reqs).toEqual([
      { field: 'spec.x', operator: '=', value: 'a,b=c\\d' },
      { field: 'status.phase', operator: '!=', value: 'Failed' },
    ]);
    expect(parseFieldSelector('a = b').requirements()).toEqual([{ field: 'a ', operator: '=', value: ' b' }]);
  });

  it('matches as apimachinery: a missing field reads as the empty string', () => {
    const matches = (selector: string): boolean => parseFieldSelector(selector).matches(fields);
    expect(matches('')).toBe(true);
    expect(matches('metadata.name=web')).toBe(true);
    expect(matches('metadata.name==web,status.phase=Running')).toBe(true);
    expect(matches('metadata.name=web,status.phase=Failed')).toBe(false);
    expect(matches('metadata.name!=web')).toBe(false);
    expect(matches('status.phase!=Failed')).toBe(true);
    expect(matches('spec.nodeName=')).toBe(true);
    expect(matches('spec.nodeName!=')).toBe(false);
    expect(matches('spec.nodeName!=node-1')).toBe(true);
    expect(matches('toString=')).toBe(true); // not a property of the prototype
  });

  it('tells the exact value a field must have', () => {
    const selector: FieldSelector = parseFieldSelector('status.phase!=Failed,metadata.name=web');
    expect(selector.requiresExactMatch('metadata.name')).toBe('web');
    expect(selector.requiresExactMatch('status.phase')).toBeUndefined();
    expect(selector.requiresExactMatch('spec.nodeName')).toBeUndefined();
  });

  it.each([
    ['a', /can't understand "a"/],
    ['a=b,c', /can't understand "c"/],
    ['a=b=c', /unescaped "=" in the value "b=c"/],
    ['a==b=c', /unescaped "="/],
    ['a===b', /unescaped "="/],
    ['a\\=b=c', /unescaped "="/],
    ['a=b\\!c', /invalid escape sequence "\\\\!"/],
    ['a=b\\', /ends with a lone backslash/],
    ['!', /can't understand "!"/],
  ])('refuses %j', (input, message) => {
    let caught: unknown;
    try {
      parseFieldSelector(input);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidSelectorError);
    expect(hasErrorCode(caught, 'ERR_KUBE_INVALID_SELECTOR')).toBe(true);
    expect((caught as InvalidSelectorError).kind).toBe('field');
    expect((caught as Error).message).toContain(`field selector ${JSON.stringify(input)}`);
    expect((caught as Error).message).toMatch(message);
  });
});

describe('fieldSelectorFromSet and escapeFieldSelectorValue', () => {
  it('requires each field to equal its value, sorted by field', () => {
    const selector = fieldSelectorFromSet({ 'status.phase': 'Running', 'metadata.name': 'a,b=c' });
    expect(selector.toString()).toBe('metadata.name=a\\,b\\=c,status.phase=Running');
    expect(parseFieldSelector(selector.toString()).requirements()).toEqual(selector.requirements());
    expect(selector.matches({ 'metadata.name': 'a,b=c', 'status.phase': 'Running' })).toBe(true);
    expect(fieldSelectorFromSet({}).empty()).toBe(true);
    expect(fieldSelectorFromSet({})).toBe(everythingFields);
  });

  it('escapes backslash, comma and equals only', () => {
    expect(escapeFieldSelectorValue('a\\b,c=d!e')).toBe('a\\\\b\\,c\\=d!e');
    expect(parseFieldSelector(`x=${escapeFieldSelectorValue('a\\b,c=d!e')}`).requirements()[0]?.value).toBe(
      'a\\b,c=d!e',
    );
  });
});

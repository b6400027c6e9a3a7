import { describe, expect, it } from 'vitest';
import {
  camelCase,
  checkDomain,
  checkKind,
  checkPlural,
  checkProjectName,
  checkVersion,
  fullGroup,
  kebabCase,
  pluralOf,
  shortGroup,
} from './names.js';

describe('names', () => {
  it('accepts project names that are DNS labels of at most 40 characters', () => {
    expect(checkProjectName('guestbook-operator')).toBe('guestbook-operator');
    for (const bad of ['Guestbook', '-x', 'x-', 'a_b', '', 'a'.repeat(41), 'my.operator']) {
      expect(() => checkProjectName(bad), bad).toThrow(
        expect.objectContaining({ code: 'ERR_CLI_USAGE', message: expect.stringContaining('--name') }),
      );
    }
  });

  it('wants a domain with a dot', () => {
    expect(checkDomain('example.com')).toBe('example.com');
    for (const bad of ['localhost', 'Example.com', 'a..b', 'x_y.com', ''])
      expect(() => checkDomain(bad), bad).toThrow(/invalid domain/);
  });

  it('completes a short group with the domain and keeps a full one', () => {
    expect(fullGroup('webapp', 'example.com')).toBe('webapp.example.com');
    expect(fullGroup('batch.other.io', 'example.com')).toBe('batch.other.io');
    expect(shortGroup('webapp.example.com')).toBe('webapp');
    for (const bad of ['', 'Web', 'web_app', '-web'])
      expect(() => fullGroup(bad, 'example.com'), bad).toThrow(/invalid group/);
  });

  it('accepts Kubernetes API versions only', () => {
    for (const ok of ['v1', 'v2', 'v1beta1', 'v2alpha3', 'v10']) expect(checkVersion(ok)).toBe(ok);
    for (const bad of ['1', 'v0', 'V1', 'v1beta', 'v1gamma1', 'v1.0', 'v01'])
      expect(() => checkVersion(bad), bad).toThrow(/invalid version/);
  });

  it('accepts PascalCase kinds and refuses names the generated code needs', () => {
    for (const ok of ['Guestbook', 'WebApp', 'HTTPRoute', 'Db2']) expect(checkKind(ok)).toBe(ok);
    for (const bad of ['guestbook', 'Web-App', 'Web App', '1Kind', 'X'.repeat(64)])
      expect(() => checkKind(bad), bad).toThrow(/invalid kind/);
    expect(() => checkKind('ConfigMap')).toThrow(/clashes/);
    expect(() => checkKind('GuestbookList')).toThrow(/List/);
  });

  it('makes English plurals and checks given ones', () => {
    expect(['Guestbook', 'Policy', 'Gateway', 'Bus', 'Box', 'Match', 'Mesh', 'Quiz'].map(pluralOf)).toEqual([
      'guestbooks',
      'policies',
      'gateways',
      'buses',
      'boxes',
      'matches',
      'meshes',
      'quizes',
    ]);
    expect(checkPlural('quizzes')).toBe('quizzes');
    expect(() => checkPlural('Quizzes')).toThrow(/invalid plural/);
  });

  it('derives file and variable names', () => {
    expect(['Guestbook', 'WebApp', 'HTTPRoute', 'Db2Backup'].map(kebabCase)).toEqual([
      'guestbook',
      'web-app',
      'http-route',
      'db2-backup',
    ]);
    expect(['Guestbook', 'WebApp', 'HTTPRoute', 'A'].map(camelCase)).toEqual(['guestbook', 'webApp', 'httpRoute', 'a']);
  });
});

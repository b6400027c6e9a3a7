import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { outputPath, renderTemplate, renderTemplateSet, templatesDir } from './render.js';

describe('renderTemplate', () => {
  it('replaces variables and keeps or drops blocks, whole lines included', () => {
    const text =
      'a {{name}}\n{{#if on}}\nyes {{name}}\n{{else}}\nno\n{{/if}}\n{{#unless on}}\nunless\n{{/unless}}\nend{{#if on}}!{{/if}}\n';
    expect(renderTemplate(text, { name: 'x', on: true })).toBe('a x\nyes x\nend!\n');
    expect(renderTemplate(text, { name: 'x', on: false })).toBe('a x\nno\nunless\nend\n');
  });

  it('leaves code braces alone and fails on unknown names and stray tags', () => {
    expect(renderTemplate('`${{{kind}}.group}` { status: {} }', { kind: 'Widget' })).toBe(
      '`${Widget.group}` { status: {} }',
    );
    expect(() => renderTemplate('{{nmae}}', { name: 'x' }, 't.tmpl')).toThrow(
      't.tmpl: unknown template variable "nmae"',
    );
    expect(() => renderTemplate('{{#if x}}open', { x: true }, 't.tmpl')).toThrow(/t.tmpl: unbalanced/);
  });

  it('maps template file names to output names', () => {
    expect(outputPath('dot-gitignore.tmpl')).toBe('.gitignore');
    expect(outputPath('src/main.ts.tmpl')).toBe('src/main.ts');
  });
});

describe('templates/', () => {
  const values = {
    name: 'demo',
    domain: 'example.com',
    namespace: 'demo-system',
    leaseName: 'demo.example.com',
    image: 'demo:latest',
    kubeloopDependency: '^0.1.0',
    kubeloopVersion: '0.1.0',
    reflectMetadataVersion: '^0.2.2',
    jsYamlVersion: '^5.5.0',
    typescriptVersion: '^7.0.2',
    vitestVersion: '^5.1.0',
    typesNodeVersion: '^24.19.2',
  };

  it('renders every init template with the values init gives, leaving no tag behind', async () => {
    const files = await renderTemplateSet('init', values);
    expect([...files.keys()]).toEqual(
      expect.arrayContaining([
        'package.json',
        'src/main.ts',
        '.gitignore',
        '.dockerignore',
        'Dockerfile',
        'config/manager/manager.yaml',
      ]),
    );
    for (const [path, text] of files) expect(text, path).not.toContain('{{');
    expect(JSON.parse(files.get('package.json')!)).toMatchObject({
      name: 'demo',
      dependencies: { kubeloop: '^0.1.0' },
    });
  });

  it('renders every api template for namespaced and cluster-scoped kinds', async () => {
    const dir = join(templatesDir(), 'api');
    const reconcilers: Record<string, string> = {};
    for (const namespaced of [true, false]) {
      for (const file of await readdir(dir)) {
        const text = renderTemplate(
          await readFile(join(dir, file), 'utf8'),
          {
            kind: 'Widget',
            kindCamel: 'widget',
            kindLower: 'widget',
            group: 'apps.example.com',
            version: 'v1',
            plural: 'widgets',
            namespaced,
            storage: true,
            resourceImport: '../api/apps/v1/widget.js',
            testResourceImport: '../src/api/apps/v1/widget.js',
            testReconcilerImport: '../src/reconcilers/widget-reconciler.js',
            testSupportImport: './support.js',
            name: 'demo',
          },
          file,
        );
        expect(text, file).not.toContain('{{');
        if (file === 'reconciler.ts.tmpl') reconcilers[String(namespaced)] = text;
      }
    }
    // A namespaced kind's reconciler owns a ConfigMap; a cluster-scoped one's has no namespace to put it in.
    expect(reconcilers['true']).toContain('@Reconciler({ for: Widget, owns: [ConfigMap] })');
    expect(reconcilers['false']).toContain('@Reconciler({ for: Widget })');
    expect(reconcilers['false']).not.toContain('ConfigMap');
  });
});

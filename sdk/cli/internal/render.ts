/**
 * The templates in kubeloop's `templates/` folder and the small language they are written in:
 * - `{{name}}` is replaced by the value of `name` (every name must be given: a typo fails loudly);
 * - `{{#if name}}…{{else}}…{{/if}}` and `{{#unless name}}…{{/unless}}` keep a part when `name` is true (false);
 *   a line holding only such a tag is dropped whole. Blocks do not nest.
 * File names end in `.tmpl` (so no tool mistakes a template for source) and start with `dot-` where the output starts
 * with a dot (`dot-gitignore.tmpl` → `.gitignore`: npm would drop a real `.gitignore` from the package).
 */
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';

export type TemplateValues = Readonly<Record<string, string | boolean>>;

/** The folder of kubeloop's package.json: the checkout in development, `node_modules/kubeloop` when installed. */
export function packageRoot(from: string = import.meta.dirname): string {
  let dir = from;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name;
      if (name === 'kubeloop') return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`kubeloop's package.json was not found above ${from}`);
    dir = parent;
  }
}

/** kubeloop's `templates/` folder. */
export function templatesDir(): string {
  return join(packageRoot(), 'templates');
}

const blockLine = /^[ \t]*(\{\{(?:#if|#unless|else|\/if|\/unless)[^}]*\}\})[ \t]*\r?\n/gm;
const block = /\{\{#(if|unless) ([A-Za-z][\w]*)\}\}([\s\S]*?)(?:\{\{else\}\}([\s\S]*?))?\{\{\/\1\}\}/g;
const variable = /\{\{\s*([A-Za-z][\w]*)\s*\}\}/g;

/** Renders one template's text. Throws an Error naming the template and the unknown variable or stray tag. */
export function renderTemplate(text: string, values: TemplateValues, name = 'template'): string {
  const flag = (key: string): boolean => {
    if (!(key in values)) throw new Error(`${name}: unknown template variable "${key}"`);
    return values[key] === true;
  };
  const withBlocks = text
    .replace(blockLine, '$1')
    .replace(block, (_all, kind: string, key: string, yes: string, no: string | undefined) =>
      flag(key) === (kind === 'if') ? yes : (no ?? ''),
    );
  const out = withBlocks.replace(variable, (_all, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`${name}: unknown template variable "${key}"`);
    return String(value);
  });
  const stray = /\{\{[^}]*\}\}/.exec(out);
  if (stray) throw new Error(`${name}: unbalanced or malformed template tag ${stray[0]}`);
  return out;
}

/** The output path of a template file: `.tmpl` removed, `dot-` turned into `.` in each segment. */
export function outputPath(templatePath: string): string {
  return templatePath
    .replace(/\.tmpl$/, '')
    .split(sep)
    .map((segment) => (segment.startsWith('dot-') ? `.${segment.slice(4)}` : segment))
    .join('/');
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map(async (entry) => {
      const path = join(dir, entry.name);
      return entry.isDirectory() ? filesUnder(path) : [path];
    }),
  );
  return nested.flat().toSorted();
}

/** Renders every template under `templates/<set>`: output path (with `/`) → text, in a stable order. */
export async function renderTemplateSet(set: string, values: TemplateValues): Promise<Map<string, string>> {
  const root = join(templatesDir(), set);
  const out = new Map<string, string>();
  for (const file of await filesUnder(root)) {
    const rel = relative(root, file);
    out.set(
      outputPath(rel),
      renderTemplate(await readFile(file, 'utf8'), values, `templates/${set}/${rel.split(sep).join('/')}`),
    );
  }
  return out;
}

/** Renders one template file, `templates/<path>`. */
export async function renderTemplateFile(path: string, values: TemplateValues): Promise<string> {
  return renderTemplate(await readFile(join(templatesDir(), path), 'utf8'), values, `templates/${path}`);
}

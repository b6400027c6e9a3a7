/** `kubeloop generate types --crd <file>`: TypeScript types and descriptors from a CRD, by kubeloop/client's generator. */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { generateDefinitionFromCrd, generateTypesFromCrd } from '../../client/index.js';
import { CliError } from './errors.js';
import { applyFileChanges } from './files.js';

export interface GenerateTypesOptions {
  /** A YAML or JSON file holding one or more CustomResourceDefinitions. */
  crd: string;
  /** The module the output imports from. Default: `kubeloop/client`. */
  importFrom?: string;
  /** Versions to generate. Default: every served version. */
  versions?: string[];
  /** Write `defineCustomResource` definitions (the `s` builder) instead of interfaces and `defineResource` descriptors. */
  definition?: boolean;
}

/** The TypeScript for the CRDs in `options.crd`. Errors (`ERR_CLI_USAGE`): the file cannot be read, or holds no usable CRD. */
export async function generateTypes(options: GenerateTypesOptions): Promise<string> {
  let text: string;
  try {
    text = await readFile(options.crd, 'utf8');
  } catch (err) {
    throw new CliError('ERR_CLI_USAGE', `cannot read --crd ${options.crd}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return (options.definition ? generateDefinitionFromCrd : generateTypesFromCrd)(text, {
      source: basename(options.crd),
      ...(options.importFrom !== undefined && { importFrom: options.importFrom }),
      ...(options.versions !== undefined && { versions: options.versions }),
    });
  } catch (err) {
    throw new CliError(
      'ERR_CLI_USAGE',
      `${options.crd}: ${(err as Error).message.replace(/^generate(Types|Definition)FromCrd: /, '')}`,
      { cause: err },
    );
  }
}

/** Writes generated types to a file (in one step: a failure leaves the old file). */
export async function writeTypes(path: string, text: string): Promise<void> {
  await applyFileChanges([{ path, text }]);
}

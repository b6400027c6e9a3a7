// `npm run codegen`: regenerates sdk/client/generated/ from the OpenAPI snapshot in sdk/client/codegen/spec/ (no
// server needed). Deterministic: running it twice changes nothing, and a test fails when the committed output differs.
// Runs the generator's TypeScript sources directly (Node's type stripping, with a resolve hook for the `.js`
// specifiers TypeScript source uses).
import { registerHooks } from 'node:module';
import { join } from 'node:path';

registerHooks({
  resolve(specifier, context, next) {
    try {
      return next(specifier, context);
    } catch (err) {
      if (specifier.startsWith('.') && specifier.endsWith('.js')) return next(`${specifier.slice(0, -3)}.ts`, context);
      throw err;
    }
  },
});

const { loadSpecSnapshot } = await import('./spec.ts');
const { generateKubernetes } = await import('./kubernetes.ts');
const { writeGeneratedFiles } = await import('./write.ts');

const outDir = join(import.meta.dirname, '..', 'generated');
const snapshot = loadSpecSnapshot();
const files = generateKubernetes(snapshot);
writeGeneratedFiles(files, outDir);
const bytes = files.reduce((sum, f) => sum + Buffer.byteLength(f.content), 0);
process.stdout.write(
  `generated ${files.length} files (${(bytes / 1e6).toFixed(2)} MB) in ${outDir} from Kubernetes ${snapshot.gitVersion}\n`,
);

// The API report: every public entry point's exported declarations, as api-extractor renders them, in
// api/<entry>.api.md. `npm run api-report` rewrites the files after a deliberate change of the public surface;
// `npm run api-report -- --check` (run by .ci/run) fails when the emitted declarations differ from the committed
// report, so a change to what users program against is always a visible diff in review.
//
// api-extractor carries its own TypeScript 5 and reads only declarations: it runs on what TypeScript 7 emits into
// dist/ (`npm run build` first), not on the sources.
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Extractor, ExtractorConfig, ExtractorLogLevel } from '@microsoft/api-extractor';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const reportFolder = join(root, 'api');
mkdirSync(reportFolder, { recursive: true });

/** Entry points from package.json's exports map: '.' → 'kubeloop', './client' → 'client', … */
const entries = Object.entries(pkg.exports)
  .filter(([, target]) => typeof target === 'object' && target.types)
  .map(([subpath, target]) => ({ name: subpath === '.' ? 'kubeloop' : subpath.slice(2), types: target.types }));

let changed = 0;
for (const entry of entries) {
  const config = ExtractorConfig.prepare({
    configObject: {
      projectFolder: root,
      mainEntryPointFilePath: join(root, entry.types),
      compiler: {
        overrideTsconfig: { compilerOptions: { lib: ['ES2024', 'DOM'], types: ['node'], skipLibCheck: true } },
      },
      apiReport: {
        enabled: true,
        reportFileName: `${entry.name}.api.md`,
        reportFolder,
        reportTempFolder: join(root, 'test-results', 'api-report'),
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        // The report is about the shape of the surface; doc-comment style and "forgotten export" notes are not errors.
        compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Warning } },
        extractorMessageReporting: {
          default: { logLevel: ExtractorLogLevel.None },
          'ae-missing-release-tag': { logLevel: ExtractorLogLevel.None },
        },
        tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None } },
      },
    },
    configObjectFullPath: join(root, 'api', 'api-extractor.json'),
    packageJsonFullPath: join(root, 'package.json'),
  });
  const result = Extractor.invoke(config, { localBuild: !values.check, messageCallback: quiet });
  if (result.apiReportChanged) {
    changed++;
    console.error(
      values.check
        ? `api/${entry.name}.api.md: the public API of '${pkg.name}${entry.name === 'kubeloop' ? '' : `/${entry.name}`}' changed. ` +
            'If that is intended, run `npm run build && npm run api-report` and commit the new report.'
        : `api/${entry.name}.api.md updated`,
    );
  }
}
console.error(`API report: ${entries.length} entry points, ${changed} changed`);
process.exitCode = values.check && changed ? 1 : 0;

/** api-extractor prints its progress lines through this callback: keep errors and warnings only. */
function quiet(message) {
  if (message.logLevel !== ExtractorLogLevel.Error && message.logLevel !== ExtractorLogLevel.Warning)
    message.handled = true;
}

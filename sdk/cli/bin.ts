#!/usr/bin/env node
// The `kubeloop` executable (package.json "bin"): runs the CLI and exits with its code. The CLI is imported only
// after the Node version check, so an old Node gets this message rather than a stack trace from a dependency.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(
    `error: kubeloop needs Node.js 22.19 or newer; this is Node.js ${process.versions.node} (${process.execPath}). Install a newer Node.js and try again.\n`,
  );
  process.exit(1);
}
const { run } = await import('./index.js');
process.exitCode = await run(process.argv.slice(2));

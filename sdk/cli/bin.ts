#!/usr/bin/env node
// The `kubeloop` executable (package.json "bin"): runs the CLI and exits with its code.
import { run } from './index.js';

process.exitCode = await run(process.argv.slice(2));

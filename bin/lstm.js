#!/usr/bin/env node
// Starts the CLI; everything else lives in src/ (compiled to dist/ by `npm install`).
import '../dist/platform/node.js'; // the engine core's platform: Node's (see src/platform/platform.ts)
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv);

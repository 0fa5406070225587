// Every test runs on Node's platform (src/platform/node.ts), as the CLI and the library do.
import '../../src/platform/node.js';

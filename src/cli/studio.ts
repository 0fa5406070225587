// Commander wiring for `lstm studio` (the command itself is src/commands/studio.ts).

import { Command } from 'commander';
import { runStudio, STUDIO_HOST, STUDIO_PORT } from '../commands/studio.js';
import { Ui } from './ui.js';

export function registerStudio(program: Command): void {
  program
    .command('studio')
    .description('train a model in your browser and watch it work, live: a local web page (127.0.0.1) with the training, the samples and the views inside the model; Ctrl-C stops it')
    .argument('[file]', 'a corpus to start from (a UTF-8 file, - for standard input), or a checkpoint to inspect or continue training')
    .option('--port <n>', `the port to listen on; 0 = any free one (default: ${STUDIO_PORT}, so the page and the runs it keeps are the same each time)`)
    .option('--host <host>', `the address to listen on (default: ${STUDIO_HOST}, this machine only; another one warns, since then other machines can reach it)`)
    .option('--open', 'open the page in the system\'s browser')
    .option('--out <dir>', 'instead of serving, write the studio as static files to a new or empty folder (or one it wrote before), for any static web host')
    .addHelpText('after', `
The page is cross-origin isolated, so the engine trains on threads. For that, a static host
(--out) must send Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy:
require-corp with every file (--out writes them in a _headers file, which Netlify and Cloudflare
Pages read); without them the page trains on one thread.

Examples:
  $ lstm studio                                  # the bundled corpus
  $ lstm studio notes.txt --open
  $ lstm studio checkpoints/notes.json --port 9000
  $ lstm studio notes.txt --out site/`)
    .action(async (file: string | undefined, _opts, cmd: Command) => {
      const raw: Record<string, unknown> = { ...cmd.opts(), input: file };
      await runStudio(raw, new Ui(), (line) => process.stdout.write(`${line}\n`));
    });
}

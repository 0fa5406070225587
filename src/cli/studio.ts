// Commander wiring for `lstm studio` (the command itself is src/commands/studio.ts): the
// signals that stop the server, its lines, and the browser --open starts.

import { spawn } from 'node:child_process';
import { Command } from 'commander';
import { runStudio, STUDIO_HOST, STUDIO_PORT } from '../commands/studio.js';
import { Ui } from './ui.js';
import { SignalStop } from './signals.js';

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
      const ui = new Ui();
      const out = (line: string) => process.stdout.write(`${line}\n`);
      // Caught from when the server listens (before, a signal ends the process as usual) until
      // the first one: a second Ctrl-C while the connections close ends it at once.
      const stop = new SignalStop();
      stop.signal.addEventListener('abort', () => stop.close(), { once: true });
      try {
        const r = await runStudio(raw, {
          signal: stop.signal,
          onWarning: (text) => ui.warn(text),
          onListening: (url) => {
            stop.listen();
            out(`lstm studio: ${url} (Ctrl-C to stop)`);
            if (raw.open) openBrowser(url, ui);
          },
        });
        if ('wrote' in r) out(`lstm studio: wrote ${r.wrote.files} files to ${r.wrote.dir}; for threads a host must send Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp (without them the page trains on one thread)`);
      } finally {
        stop.close();
      }
    });
}

/** The system's browser at `url`; if it cannot be started, a warning (the server serves on). */
function openBrowser(url: string, ui: Ui): void {
  const [cmd, args] = process.platform === 'darwin' ? ['open', [url]]
    : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]]
      : ['xdg-open', [url]];
  const failed = (why: string): void => ui.warn(`could not open a browser (${cmd}: ${why}); open ${url} yourself`);
  try {
    // cmd's start takes its first quoted word as a window title: "" is one, passed verbatim.
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true, windowsVerbatimArguments: process.platform === 'win32' });
    child.on('error', (e: NodeJS.ErrnoException) => failed(e.code ?? e.message));
    child.on('exit', (code) => { if (code) failed(`exit code ${code}`); });
    child.unref();
  } catch (e) {
    failed((e as NodeJS.ErrnoException).code ?? (e as Error).message);
  }
}

// The local web server of `lstm studio` (node:http only): the static page from its root folder
// and the data the command line named, read-only, with the headers that make the page
// cross-origin isolated (so the engine's wasm threads get SharedArrayBuffer).
//
// What it answers (the URL contract in the studio design, kept exactly):
//   GET /                    the root's index.html
//   GET /<name>              a file directly in the root (no folders, no dot files, no listing)
//   GET /data/manifest.json  {"corpus": {name, url: "data/corpus", bytes} | null, "checkpoint": … | null}
//   GET /data/corpus         the corpus's bytes (application/octet-stream), 404 when none was given
//   GET /data/checkpoint     the checkpoint's bytes (application/json), 404 when none was given
// and HEAD for each. Files are read when asked (a corpus changed on disk is served as it now is).
//
// Security, in the order a request meets it:
//   1) the parser: headers past MAX_HEADER_BYTES get 431, a malformed request 400, a client too
//      slow to send its headers (or request) is cut off by headersTimeout/requestTimeout (408);
//   2) the Host header must name this server (DNS rebinding: a page of another site whose name
//      now resolves to 127.0.0.1 sends its own name) → 421;
//   3) GET and HEAD only → 405 with Allow; a request with a body → 413;
//   4) the URL: longer than MAX_URL_BYTES → 414; anything but a plain path of [A-Za-z0-9._-]
//      segments (so no %-encoding at all: %2e%2e, %2f, %5c, double encoding and overlong UTF-8
//      never reach a decoder; no backslash, NUL, "..", ".", empty segment, absolute-form URL)
//      → 400; a name that is not on the allow-list → 404. Nothing is ever joined to a path
//      from the request: a static name is served only if the root's own listing has it.
// Every response (refusals too) carries SECURITY_HEADERS; a handler that fails answers 500 and the
// server serves on.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP, type Socket } from 'node:net';
import { open, readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';

/** A file the command line named, served at /data/corpus or /data/checkpoint. */
export interface StudioFile {
  /** Where it is read from, at each request. */
  path: string;
  /** The name the page shows (the file's base name). */
  name: string;
  /** The most bytes served (the CLI's limit for a corpus or a checkpoint). */
  limit: number;
  /** Its bytes, read once, for a source that cannot be read again (standard input, a FIFO). */
  snapshot?: Uint8Array;
}

export interface StudioOptions {
  /** The folder of the built page (dist/studio/). */
  root: string;
  host: string;
  /** 0: any free port. */
  port: number;
  corpus?: StudioFile;
  checkpoint?: StudioFile;
  /** How long a client may take to send its headers, and its whole request (ms). */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export interface Studio {
  url: string;
  /** The port it listens on (the one chosen, for port 0). */
  port: number;
  /** Stop listening and close every connection. */
  close(): Promise<void>;
}

/** Sent with every response: cross-origin isolation (COOP + COEP; CORP for our own files), no
 *  sniffing, a CSP that allows only this origin (Workers from Blob URLs for the wasm threads,
 *  wasm compilation, no inline script, no eval), and no caching of a page that changes. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'self'; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'Cache-Control': 'no-store',
};

/** Content types by extension; anything else is application/octet-stream. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export function contentType(name: string): string {
  return CONTENT_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

/** Node's own default, said here: a request's headers (with its request line) beyond this get 431. */
export const MAX_HEADER_BYTES = 16 * 1024;
/** Our URLs are a few dozen characters; a longer one is no request of the page's (414). */
export const MAX_URL_BYTES = 2048;
/** A browser sends its headers at once: 10 s is ample, and a slow client is cut off after it. */
const HEADERS_TIMEOUT_MS = 10_000;
/** GET and HEAD carry no body: the whole request is its headers. */
const REQUEST_TIMEOUT_MS = 20_000;

/** A static name: a file directly in the root, not hidden. */
const NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
/** A path as the page asks for one: nothing but these characters (no %, \, NUL, non-ASCII). */
const PLAIN_PATH = /^\/[A-Za-z0-9._/-]*$/;

/** The manifest's object for a file, or null. */
async function described(file: StudioFile | undefined, url: string): Promise<{ name: string; url: string; bytes: number } | null> {
  if (!file) return null;
  if (file.snapshot) return { name: file.name, url, bytes: file.snapshot.length };
  const bytes = await readLimited(file.path, file.limit);
  return bytes ? { name: file.name, url, bytes: bytes.length } : null;
}

/** A regular file's bytes, at most `limit` (null: not there, not a regular file, or too large). */
async function readLimited(path: string, limit: number): Promise<Buffer | null> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return null;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.size > limit) return null;
    const bytes = await fh.readFile();
    return bytes.length > limit ? null : bytes;
  } catch {
    return null;
  } finally {
    await fh.close();
  }
}

/**
 * The page's files among the regular files directly in its root: not hidden, and not what tsc
 * puts there. dist/studio/ is both the page build's output and where tsc compiles src/studio/
 * (this server, the inside module: their .js beside a .d.ts, their .d.ts and .js.map files), and
 * the CLI's code is no part of the page (folders, such as tsc's dist/studio/inside/, never are).
 */
export function pageNames(files: readonly string[]): string[] {
  const all = new Set(files);
  return files.filter((name) => NAME.test(name) && !name.endsWith('.d.ts') && !name.endsWith('.js.map')
    && !(name.endsWith('.js') && all.has(`${name.slice(0, -'.js'.length)}.d.ts`))).sort();
}

/** The root's allow-list, listed at each request (a page rebuilt while serving is served new). */
export async function listPage(root: string): Promise<Set<string>> {
  return new Set(pageNames((await readdir(root, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name)));
}

/** Whether `host` is this machine only (localhost, 127.x.x.x, ::1): nobody else can connect. */
export function isLoopback(host: string): boolean {
  const h = unbracket(host).toLowerCase();
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** A host as it stands in a URL or a Host header: an IPv6 address in brackets. */
function urlHost(host: string): string {
  const h = unbracket(host);
  return isIP(h) === 6 ? `[${h}]` : h.toLowerCase();
}

/**
 * Which Host headers name this server: its own host, the loopback names, and, bound to every
 * interface (0.0.0.0, ::), any IP address; always with its port. A name from elsewhere (the
 * rebinding attack's) is never one of them.
 */
function hostChecker(host: string, port: number): (header: string | undefined) => boolean {
  const wildcard = ['0.0.0.0', '::'].includes(unbracket(host));
  const names = new Set(['localhost', '127.0.0.1', '[::1]', urlHost(host)]);
  return (header) => {
    if (header === undefined) return false;
    const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(header.trim());
    if (!m) return false;
    if (Number(m[2] ?? 80) !== port) return false;
    const name = m[1].toLowerCase();
    return names.has(name) || (wildcard && isIP(unbracket(name)) !== 0);
  };
}

/** A refusal or an error: its status line's words as a text/plain body. */
function refuse(res: ServerResponse, status: number, extra: Record<string, string> = {}): void {
  const body = `${status} ${STATUS_TEXT[status] ?? 'Error'}\n`;
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)), ...extra });
  res.end(body);
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request', 404: 'Not Found', 405: 'Method Not Allowed', 408: 'Request Timeout', 413: 'Content Too Large',
  414: 'URI Too Long', 421: 'Misdirected Request', 431: 'Request Header Fields Too Large', 500: 'Internal Server Error',
};

function send(res: ServerResponse, type: string, body: Uint8Array): void {
  res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': String(body.length) });
  res.end(body);
}

/** Start serving; resolves once it listens (rejects with the system's error: EADDRINUSE, …). */
export async function startStudio(opts: StudioOptions): Promise<Studio> {
  const { root } = opts;
  const headersTimeout = opts.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
  const requestTimeout = Math.max(opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS, headersTimeout);
  const server: Server = createServer({
    maxHeaderSize: MAX_HEADER_BYTES,
    headersTimeout,
    requestTimeout,
    // How often Node looks for requests past their timeouts: often enough that one is cut off
    // soon after it (Node's default, 30 s, would let a slow client stay that long).
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
    keepAliveTimeout: 5000,
  });
  // A connection idle this long (a client that stopped reading a response) is closed.
  server.setTimeout(60_000, (socket) => socket.destroy());

  let allowedHost: (header: string | undefined) => boolean = () => false;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!allowedHost(req.headers.host)) return refuse(res, 421, { Connection: 'close' });
    const hasBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined;
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, { Allow: 'GET, HEAD', ...(hasBody ? { Connection: 'close' } : {}) });
    if (hasBody) return refuse(res, 413, { Connection: 'close' });
    const target = req.url ?? '';
    if (Buffer.byteLength(target) > MAX_URL_BYTES) return refuse(res, 414);
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    if (!PLAIN_PATH.test(path)) return refuse(res, 400);
    const parts = path === '/' ? ['index.html'] : path.slice(1).split('/');
    if (parts.some((p) => p === '' || p === '.' || p === '..')) return refuse(res, 400);

    if (parts.length === 2 && parts[0] === 'data') {
      const [, what] = parts;
      if (what === 'manifest.json') {
        const manifest = {
          corpus: await described(opts.corpus, 'data/corpus'),
          checkpoint: await described(opts.checkpoint, 'data/checkpoint'),
        };
        return send(res, 'application/json', Buffer.from(JSON.stringify(manifest), 'utf8'));
      }
      const file = what === 'corpus' ? opts.corpus : what === 'checkpoint' ? opts.checkpoint : undefined;
      const bytes = file && (file.snapshot ?? await readLimited(file.path, file.limit));
      if (!bytes) return refuse(res, 404);
      return send(res, what === 'corpus' ? 'application/octet-stream' : 'application/json', bytes);
    }
    if (parts.length !== 1 || !NAME.test(parts[0])) return refuse(res, 404);
    const [name] = parts;
    if (!(await listPage(root)).has(name)) return refuse(res, 404);
    const bytes = await readLimited(join(root, name), 256 << 20); // a name from the root's own listing
    if (!bytes) return refuse(res, 404);
    return send(res, contentType(name), bytes);
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) refuse(res, 500);
      else res.destroy();
    });
  });

  // What Node's parser refuses before a handler sees it: a status line, our headers, and close.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const body = `${status} ${STATUS_TEXT[status]}\n`;
    const headers = { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close' };
    socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${body}`);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: unbracket(opts.host), port: opts.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // A listening server's later errors (none expected) must not end the process.
  server.on('error', () => {});
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  allowedHost = hostChecker(opts.host, port);
  const shown = ['0.0.0.0', '::'].includes(unbracket(opts.host)) ? '127.0.0.1' : urlHost(opts.host);
  return {
    url: `http://${shown}:${port}/`,
    port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

// `lstm studio` and its web server (issue 20, items 3 and 5), tried as a user and as an attacker
// would: the command is spawned (bin/lstm.js) on a free port with a stand-in page
// (LSTM_STUDIO_ROOT), its URL read from what it prints, then asked with fetch and with raw
// sockets (fetch would tidy a hostile URL before sending it). Every refusal has its status code,
// and the server is asked again after each kind: it serves on.

import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, expectOneLineError, lstm, type Run } from '../support/cli-helpers.js';
import { tempDir } from '../support/helpers.js';
import { runStudio } from '../../src/commands/studio.js';

const dir = tempDir('lstm-studio-server-');
const page = join(dir, 'page');
const SECRET = 'this-must-never-be-served-7f3a';
const PAGE_FILES: Record<string, [string | Buffer, string]> = {
  'index.html': ['<!doctype html><title>studio</title><script type="module" src="studio.js"></script>', 'text/html; charset=utf-8'],
  'studio.js': ['new Worker("worker.js");', 'text/javascript; charset=utf-8'],
  'worker.js': ['postMessage(1);', 'text/javascript; charset=utf-8'],
  'studio.css': ['body { margin: 0 }', 'text/css; charset=utf-8'],
  'engine.wasm': [Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), 'application/wasm'],
  'default.txt': ['the bundled corpus\n', 'text/plain; charset=utf-8'],
  'icons.json': ['{}', 'application/json'],
};
const CORPUS = 'I grew up in India. I speak fluent Hindi.\n'.repeat(20);
const LIMIT_MS = 30_000;

const SECURITY_HEADERS: Record<string, string> = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'self'; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'cache-control': 'no-store',
};

let checkpoint: string;
beforeAll(() => {
  mkdirSync(join(page, 'sub'), { recursive: true });
  for (const [name, [body]] of Object.entries(PAGE_FILES)) writeFileSync(join(page, name), body);
  writeFileSync(join(page, '.hidden'), SECRET);
  // What tsc writes into dist/studio/ beside the page (it compiles src/studio/ there): not the page's.
  for (const name of ['server.js', 'server.d.ts', 'server.js.map', 'studio.js.map']) writeFileSync(join(page, name), SECRET);
  symlinkSync(join(dir, 'secret.txt'), join(page, 'link.txt')); // a link out of the root: not a file of it
  writeFileSync(join(page, 'sub', 'secret.txt'), SECRET);
  writeFileSync(join(dir, 'secret.txt'), SECRET); // beside the root: what a traversal would reach
  writeFileSync(join(dir, 'notes.txt'), CORPUS);
  checkpoint = join(dir, 'm.json');
  const tr = lstm(['train', join(dir, 'notes.txt'), '--hidden', '4', '--batch-size', '2', '--seq-len', '8', '--steps', '2', '--val-frac', '0', '--out', checkpoint, '--quiet']);
  expect(tr.code, tr.stderr).toBe(0);
}, 60_000);

// ---- helpers ----------------------------------------------------------------------------

interface Studio { url: string; port: number; pid: number; stderr: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>; stop(): Promise<number | null> }
const running: Studio[] = [];
afterAll(async () => { await Promise.all(running.map((s) => s.stop())); });

/** `lstm studio ARGS` spawned, once it has printed its URL. */
function studio(args: string[], env: Record<string, string> = {}, input?: string): Promise<Studio> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'studio', ...args], { env: { ...process.env, NO_COLOR: '1', LSTM_STUDIO_ROOT: page, ...env }, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (input !== undefined) child.stdin!.end(input);
    let stdout = '', stderr = '', done = false;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('close', (code, signal) => res({ code, signal })));
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no URL after ${LIMIT_MS} ms: ${stderr}`)); }, LIMIT_MS);
    child.stderr!.on('data', (d) => { stderr += d; });
    child.stdout!.on('data', (d) => {
      stdout += d;
      const m = /^lstm studio: (http:\/\/\S+:(\d+)\/) \(Ctrl-C to stop\)$/m.exec(stdout);
      if (!m || done) return;
      done = true;
      clearTimeout(timer);
      const s: Studio = {
        url: m[1], port: Number(m[2]), pid: child.pid!, stderr: () => stderr, exited,
        stop: async () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT'); return (await exited).code; },
      };
      running.push(s);
      resolve(s);
    });
    exited.then(({ code }) => { if (!done) { clearTimeout(timer); reject(new Error(`exited ${code} before serving: ${stderr}`)); } });
  });
}

/** lstm as a child process that is not expected to serve (it fails before it would). */
function lstmAsync(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1', LSTM_STUDIO_ROOT: page, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), LIMIT_MS);
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

/** Bytes sent as they are on a new connection; what came back until the server closed it (or
 *  `wait` ms passed: a keep-alive answer). */
function raw(port: number, request: string | Buffer, wait = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => sock.destroy(), wait);
    sock.on('data', (d) => { got += d.toString('latin1'); });
    sock.on('error', () => {}); // a reset after the answer: what came is the answer
    sock.on('close', () => { clearTimeout(timer); resolve(got); });
    sock.on('connect', () => sock.write(request));
    sock.setTimeout(LIMIT_MS, () => reject(new Error('no answer')));
  });
}

const statusOf = (resp: string): number => Number(/^HTTP\/1\.[01] (\d{3}) /.exec(resp)?.[1] ?? NaN);

function headersOf(resp: string): Record<string, string> {
  const head = resp.split('\r\n\r\n')[0].split('\r\n').slice(1);
  return Object.fromEntries(head.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
}

const get = (s: Studio, target: string, extra = '', host = `127.0.0.1:${s.port}`) =>
  raw(s.port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n${extra}\r\n`);

function expectSecurityHeaders(h: Record<string, string> | Headers, what: string): void {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) expect(h instanceof Headers ? h.get(k) : h[k], `${k} on ${what}`).toBe(v);
}

/** Still serving: the page, whole. */
async function expectServing(s: Studio): Promise<void> {
  const r = await fetch(s.url);
  expect(r.status).toBe(200);
  expect(await r.text()).toBe(PAGE_FILES['index.html'][0]);
}

// ---- a corpus --------------------------------------------------------------------------

describe('lstm studio notes.txt: what it serves', () => {
  let s: Studio;
  beforeAll(async () => { s = await studio([join(dir, 'notes.txt'), '--port', '0'], { LSTM_STUDIO_TIMEOUT_MS: '300' }); }, LIMIT_MS);

  it('prints its URL on 127.0.0.1 and how to stop it', () => {
    expect(s.url).toBe(`http://127.0.0.1:${s.port}/`);
    expect(s.stderr()).toBe('');
  });

  it('every file of the root, with its type, length and the isolation headers; / is index.html', async () => {
    for (const [name, [body, type]] of [['', PAGE_FILES['index.html']] as const, ...Object.entries(PAGE_FILES)]) {
      const r = await fetch(s.url + name);
      expect(r.status, name).toBe(200);
      expect(r.headers.get('content-type'), name).toBe(type);
      const bytes = Buffer.from(await r.arrayBuffer());
      expect(bytes.equals(Buffer.from(body)), name).toBe(true);
      expect(r.headers.get('content-length'), name).toBe(String(bytes.length));
      expectSecurityHeaders(r.headers, name || '/');
    }
  });

  it('the manifest names the corpus; data/corpus is its bytes; data/checkpoint is 404', async () => {
    const m = await fetch(`${s.url}data/manifest.json`);
    expect(m.headers.get('content-type')).toBe('application/json');
    expectSecurityHeaders(m.headers, 'manifest');
    expect(await m.json()).toEqual({ corpus: { name: 'notes.txt', url: 'data/corpus', bytes: Buffer.byteLength(CORPUS) }, checkpoint: null });
    const c = await fetch(`${s.url}data/corpus`);
    expect(c.headers.get('content-type')).toBe('application/octet-stream');
    expectSecurityHeaders(c.headers, 'corpus');
    expect(await c.text()).toBe(CORPUS);
    const k = await fetch(`${s.url}data/checkpoint`);
    expect(k.status).toBe(404);
    expectSecurityHeaders(k.headers, 'a 404');
  });

  it('the corpus is read when asked: a file changed on disk is served as it now is', async () => {
    const now = 'changed since\n';
    writeFileSync(join(dir, 'notes.txt'), now);
    try {
      expect((await (await fetch(`${s.url}data/manifest.json`)).json()).corpus.bytes).toBe(now.length);
      expect(await (await fetch(`${s.url}data/corpus`)).text()).toBe(now);
    } finally {
      writeFileSync(join(dir, 'notes.txt'), CORPUS);
    }
  });

  it('HEAD: the same headers, no body', async () => {
    const resp = await raw(s.port, `HEAD /studio.js HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nConnection: close\r\n\r\n`);
    expect(statusOf(resp)).toBe(200);
    const h = headersOf(resp);
    expect(h['content-length']).toBe(String(Buffer.byteLength(PAGE_FILES['studio.js'][0])));
    expect(h['content-type']).toBe('text/javascript; charset=utf-8');
    expectSecurityHeaders(h, 'HEAD');
    expect(resp.split('\r\n\r\n')[1]).toBe('');
  });

  it("only the page in the root: no hidden file, none of tsc's output (server.js, .d.ts, .map), no folder, nothing else", async () => {
    for (const target of ['/.hidden', '/server.js', '/server.d.ts', '/server.js.map', '/studio.js.map', '/link.txt', '/sub', '/sub/', '/sub/secret.txt', '/nope.js', '/data', '/data/', '/data/nope', '/data/manifest.json/x', '/index.htm']) {
      const resp = await get(s, target);
      expect([400, 404], target).toContain(statusOf(resp));
      expect(resp, target).not.toContain(SECRET);
      expectSecurityHeaders(headersOf(resp), target);
    }
    await expectServing(s);
  });

  it('path traversal in every encoding is refused (400 or 404) and reaches nothing', async () => {
    const targets = [
      '/../secret.txt', '/../../../../etc/passwd', '/..', '/.', '/./index.html', '/data/../index.html', '/data/./corpus',
      '/%2e%2e/secret.txt', '/%2E%2E/secret.txt', '/.%2e/secret.txt', '/%2e%2e%2fsecret.txt', '/..%2fsecret.txt', '/..%2Fsecret.txt',
      '/%252e%252e%252fsecret.txt', '/%25252e%25252e/secret.txt', // double and triple encoding
      '/..\\secret.txt', '/..%5csecret.txt', '/..%5Csecret.txt', '/%5c..%5csecret.txt', '\\..\\secret.txt',
      '/index.html%00', '/index.html%00.js', '/%00',
      '/%c0%ae%c0%ae/secret.txt', '/%c0%ae%c0%ae%c0%afsecret.txt', '/%e0%80%ae%e0%80%ae/secret.txt', '/..%c0%afsecret.txt', '/%c1%9c', // overlong UTF-8
      '//secret.txt', '///etc/passwd', '/etc/passwd', `/${dir.slice(1)}/secret.txt`, '/C:/Windows/win.ini', '/C:%5cWindows',
      `http://127.0.0.1/../secret.txt`, '*', 'secret.txt', '/sub/..%2f..%2fsecret.txt', '/%2fetc%2fpasswd',
    ];
    for (const target of targets) {
      const resp = await get(s, target);
      expect([400, 404], `${target}: ${resp.slice(0, 40)}`).toContain(statusOf(resp));
      expect(resp, target).not.toContain(SECRET);
      expect(resp, target).not.toContain('root:');
    }
    // Raw bytes the parser sees: a NUL, overlong UTF-8 and a backslash, unencoded.
    for (const target of [Buffer.from('/index.html\0'), Buffer.from([0x2f, 0xc0, 0xae, 0xc0, 0xae, 0x2f]), Buffer.from('/..\\..\\secret.txt')]) {
      const resp = await raw(s.port, Buffer.concat([Buffer.from('GET '), target, Buffer.from(` HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nConnection: close\r\n\r\n`)]));
      expect([400, 404], JSON.stringify(target.toString('latin1'))).toContain(statusOf(resp));
      expect(resp).not.toContain(SECRET);
    }
    await expectServing(s);
  });

  it('a Host that is not this server is refused with 421 (DNS rebinding); its own names are served', async () => {
    for (const host of ['evil.example', `evil.example:${s.port}`, `localhost.evil.example:${s.port}`, `127.0.0.1:${s.port + 1}`, `127.0.0.1`, `10.0.0.1:${s.port}`, `127.0.0.1:${s.port}@evil.example`, '']) {
      const resp = await get(s, '/', '', host);
      expect(statusOf(resp), host).toBe(421);
      expect(resp).not.toContain('<title>studio');
      expectSecurityHeaders(headersOf(resp), `Host ${host}`);
    }
    // HTTP/1.0 may leave Host out; the server may not then guess it is meant.
    expect(statusOf(await raw(s.port, 'GET / HTTP/1.0\r\n\r\n'))).toBe(421);
    expect(statusOf(await raw(s.port, 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n'))).toBe(400); // HTTP/1.1 must send one
    for (const host of [`127.0.0.1:${s.port}`, `localhost:${s.port}`, `LOCALHOST:${s.port}`]) expect(statusOf(await get(s, '/', '', host)), host).toBe(200);
    await expectServing(s);
  });

  it('oversized headers get 431, a long URL 414, a malformed request 400', async () => {
    const big = await get(s, '/', `X-Big: ${'a'.repeat(20_000)}\r\n`);
    expect(statusOf(big)).toBe(431);
    expectSecurityHeaders(headersOf(big), '431');
    const many = await get(s, '/', Array.from({ length: 1000 }, (_, i) => `X-H${i}: ${'b'.repeat(20)}\r\n`).join(''));
    expect(statusOf(many)).toBe(431);
    const long = await get(s, `/${'a'.repeat(4000)}`);
    expect(statusOf(long)).toBe(414);
    expectSecurityHeaders(headersOf(long), '414');
    for (const bad of ['GARBAGE\r\n\r\n', 'GET\r\n\r\n', 'GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n', '\x00\x01\x02\r\n\r\n', `GET / HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nBad Header\r\n\r\n`]) {
      const resp = await raw(s.port, bad);
      expect(statusOf(resp), JSON.stringify(bad)).toBe(400);
    }
    // An HTTP/0.9 request line: Node takes it, and it has no Host header to name this server.
    expect(statusOf(await raw(s.port, 'GET /\r\n\r\n'))).toBe(421);
    await expectServing(s);
  });

  it('read-only: other methods get 405 with Allow, a request body 413', async () => {
    const h = `Host: 127.0.0.1:${s.port}\r\nConnection: close\r\n`;
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const resp = await raw(s.port, `${method} /data/corpus HTTP/1.1\r\n${h}Content-Length: 5\r\n\r\nhello`);
      expect(statusOf(resp), method).toBe(405);
      expect(headersOf(resp).allow).toBe('GET, HEAD');
      expectSecurityHeaders(headersOf(resp), method);
    }
    expect(statusOf(await raw(s.port, `GET / HTTP/1.1\r\n${h}Content-Length: 5\r\n\r\nhello`))).toBe(413);
    expect(statusOf(await raw(s.port, `GET / HTTP/1.1\r\n${h}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`))).toBe(413);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe(CORPUS);
    await expectServing(s);
  });

  it('a client that never finishes its headers is cut off (408) while others are served', async () => {
    // LSTM_STUDIO_TIMEOUT_MS=300 for this server: the headers' time limit.
    const slow = raw(s.port, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nX-Slow: `, LIMIT_MS);
    await expectServing(s);
    const resp = await slow; // resolved only when the server closed it (else the test's limit)
    expect(statusOf(resp)).toBe(408);
    await expectServing(s);
  });

  it('it never crashed: the same process serves on', async () => {
    expect(s.stderr()).toBe('');
    expect(await (await fetch(`${s.url}data/corpus`)).text()).toBe(CORPUS);
  });
});

// ---- a checkpoint, nothing, another host ---------------------------------------------------

describe('lstm studio with a checkpoint, with nothing, on another host', () => {
  it('a checkpoint: the manifest names it, data/checkpoint is its bytes as application/json', async () => {
    const s = await studio([checkpoint, '--port', '0']);
    const m = await (await fetch(`${s.url}data/manifest.json`)).json();
    const bytes = readFileSync(checkpoint);
    expect(m).toEqual({ corpus: null, checkpoint: { name: 'm.json', url: 'data/checkpoint', bytes: bytes.length } });
    const r = await fetch(`${s.url}data/checkpoint`);
    expect(r.headers.get('content-type')).toBe('application/json');
    expectSecurityHeaders(r.headers, 'checkpoint');
    expect(Buffer.from(await r.arrayBuffer()).equals(bytes)).toBe(true);
    expect((await fetch(`${s.url}data/corpus`)).status).toBe(404);
    expect(await s.stop()).toBe(0);
  }, LIMIT_MS);

  it('standard input (-): read once, as train reads it, and served as it was read', async () => {
    const s = await studio(['-', '--port', '0'], {}, CORPUS);
    expect(await (await fetch(`${s.url}data/manifest.json`)).json()).toEqual({ corpus: { name: 'standard input', url: 'data/corpus', bytes: Buffer.byteLength(CORPUS) }, checkpoint: null });
    expect(await (await fetch(`${s.url}data/corpus`)).text()).toBe(CORPUS);
    expect(await s.stop()).toBe(0);
  }, LIMIT_MS);

  it('no file: the manifest has neither', async () => {
    const s = await studio(['--port', '0']);
    expect(await (await fetch(`${s.url}data/manifest.json`)).json()).toEqual({ corpus: null, checkpoint: null });
    expect(await s.stop()).toBe(0);
  }, LIMIT_MS);

  it('--host 0.0.0.0 warns in one line, and still refuses a Host that is not its own', async () => {
    const s = await studio(['--host', '0.0.0.0', '--port', '0']);
    const lines = s.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^warning: --host 0\.0\.0\.0: the studio is reachable from other machines/);
    expect(s.url).toBe(`http://127.0.0.1:${s.port}/`);
    expect(statusOf(await get(s, '/', '', `evil.example:${s.port}`))).toBe(421);
    expect(statusOf(await get(s, '/', '', `192.168.1.20:${s.port}`))).toBe(200); // an address of its own, as another machine names it
    await expectServing(s);
    expect(await s.stop()).toBe(0);
  }, LIMIT_MS);

  it('the loopback default gives no warning', async () => {
    const s = await studio(['--port', '0', '--host', 'localhost']);
    expect(s.stderr()).toBe('');
    expect(s.url).toBe(`http://localhost:${s.port}/`);
    expect(await s.stop()).toBe(0);
  }, LIMIT_MS);
});

// ---- stopping, --open, bad input -----------------------------------------------------------

describe('lstm studio: stopping, --open, bad input', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} stops it with exit 0, with a connection still open`, async () => {
      const s = await studio(['--port', '0']);
      const idle = connect(s.port, '127.0.0.1');
      idle.on('error', () => {});
      await new Promise((r) => idle.on('connect', r));
      idle.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\n\r\n`); // keep-alive: the server holds it after answering
      await new Promise((r) => idle.once('data', r));
      process.kill(s.pid, signal);
      const { code, signal: killedBy } = await s.exited;
      expect(killedBy).toBeNull();
      expect(code).toBe(0);
      expect(s.stderr()).toBe('');
      idle.destroy();
    }, LIMIT_MS);
  }

  it('the command serves until the signal it is given aborts, then returns (the signals are cli/studio.ts\'s)', async () => {
    const saved = process.env.LSTM_STUDIO_ROOT;
    process.env.LSTM_STUDIO_ROOT = page;
    try {
      const stop = new AbortController();
      const heard: string[] = [];
      const r = await runStudio({ input: join(dir, 'notes.txt'), port: '0' }, {
        signal: stop.signal,
        onWarning: (text) => heard.push(`warning: ${text}`),
        onListening: async (url) => {
          heard.push(url);
          const res = await fetch(url);
          heard.push(`GET / ${res.status}`);
          stop.abort();
        },
      });
      expect(heard).toEqual([expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/$/), 'GET / 200']);
      expect(r).toEqual({ served: { url: heard[0] } });
      const out = join(dir, 'hooks-site');
      const wrote = await runStudio({ input: join(dir, 'notes.txt'), out }, { signal: stop.signal });
      expect(wrote).toEqual({ wrote: { dir: out, files: JSON.parse(readFileSync(join(out, '.lstm-studio.json'), 'utf8')).files.length } });
    } finally {
      if (saved === undefined) delete process.env.LSTM_STUDIO_ROOT;
      else process.env.LSTM_STUDIO_ROOT = saved;
    }
  }, LIMIT_MS);

  it('--open starts the system browser at the URL (a stand-in xdg-open on PATH)', async () => {
    if (process.platform !== 'linux') return;
    const bin = join(dir, 'bin-open');
    mkdirSync(bin, { recursive: true });
    const opened = join(dir, 'opened.txt');
    writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\necho "$1" > '${opened}'\n`);
    chmodSync(join(bin, 'xdg-open'), 0o755);
    const s = await studio(['--port', '0', '--open'], { PATH: bin });
    for (let i = 0; i < 100 && !existsSync(opened); i++) await new Promise((r) => setTimeout(r, 50));
    expect(readFileSync(opened, 'utf8').trim()).toBe(s.url);
    expect(await s.stop()).toBe(0);
  }, LIMIT_MS);

  it('--open without a browser to start: one warning, and it serves on', async () => {
    if (process.platform !== 'linux') return;
    const s = await studio(['--port', '0', '--open'], { PATH: join(dir, 'no-such-bin') });
    for (let i = 0; i < 100 && !s.stderr(); i++) await new Promise((r) => setTimeout(r, 50));
    expect(s.stderr().trim().split('\n')).toHaveLength(1);
    expect(s.stderr()).toMatch(/^warning: could not open a browser \(xdg-open: ENOENT\); open http:\/\/127\.0\.0\.1:\d+\/ yourself/);
    await expectServing(s);
    expect(await s.stop()).toBe(0);
  }, LIMIT_MS);

  it('a port in use: one line, exit 1', async () => {
    const s = await studio(['--port', '0']);
    const r = await lstmAsync(['studio', '--port', String(s.port)]);
    expectOneLineError(r, new RegExp(`^lstm: port ${s.port} on 127\\.0\\.0\\.1 is in use; pick another with --port N \\(0: any free port\\)$`), 1);
    expect(r.stdout).toBe('');
    await expectServing(s);
    expect(await s.stop()).toBe(0);
  }, LIMIT_MS);

  const bad = (name: string, content: string | Buffer): string => {
    const p = join(dir, name);
    writeFileSync(p, content);
    return p;
  };
  // Each the line `lstm train` (or, for a checkpoint, `lstm sample`) gives, before any server starts.
  const cases: Array<[string, () => string[], RegExp, number, Record<string, string>?]> = [
    ['a missing file', () => ['studio', join(dir, 'missing.txt')], /^lstm: corpus .*missing\.txt does not exist$/, 1],
    ['a binary file', () => ['studio', bad('bin.dat', Buffer.from([1, 2, 0, 3, 4]))], /looks binary.*offset 2/, 1],
    ['not UTF-8', () => ['studio', bad('latin1.txt', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]))], /not valid UTF-8|UTF-8/, 1],
    ['an empty file', () => ['studio', bad('empty.txt', '')], /is empty/, 1],
    ['a device that gives nothing', () => ['studio', '/dev/null'], /^lstm: corpus \/dev\/null is empty$/, 1],
    ['a folder', () => ['studio', page], /is a folder, not a file/, 1],
    ['a damaged checkpoint', () => ['studio', bad('cut.json', readFileSync(checkpoint, 'utf8').slice(0, 300))], /cut\.json is not a valid checkpoint: the file is truncated/, 1],
    ['a corpus too large', () => ['studio', join(dir, 'notes.txt')], /is .*, more than the .* lstm reads/, 1, { LSTM_MAX_CORPUS_MB: '0.0001' }],
    ['--port out of range', () => ['studio', '--port', '70000'], /^lstm: invalid value for --port "70000": must be at most 65535$/, 2],
    ['--port not a number', () => ['studio', '--port', 'http'], /^lstm: invalid value for --port "http": must be a number$/, 2],
    ['--port not whole', () => ['studio', '--port', '80.5'], /must be a whole number/, 2],
    ['--host empty', () => ['studio', '--host', '', '--port', '0'], /^lstm: invalid value for --host "": must not be empty$/, 2],
    ['--host not here', () => ['studio', '--host', '203.0.113.7', '--port', '0'], /^lstm: cannot listen on 203\.0\.113\.7: it is not an address of this machine$/, 1],
    ['the page not built', () => ['studio', '--port', '0'], /^lstm: the studio page is not built \(.*index\.html is missing\); build it with: npm run build$/, 1, { LSTM_STUDIO_ROOT: join(dir, 'no-page') }],
    ['--out with --port', () => ['studio', '--out', join(dir, 'never'), '--port', '9000'], /^lstm: --out writes files and starts no server: --port does nothing with it$/, 2],
  ];
  for (const [what, args, line, code, env] of cases) {
    it.concurrent(`${what}: one line, exit ${code}, no server`, async () => {
      const r = await lstmAsync(args(), env);
      expectOneLineError(r, line, code);
      expect(r.stdout).toBe('');
    }, LIMIT_MS);
  }
});

// ---- --out and --help ----------------------------------------------------------------------

describe('lstm studio --out DIR', () => {
  const site = join(dir, 'site');

  it('writes the page, data/manifest.json and the data, and no hidden file or folder', async () => {
    const r = await lstmAsync(['studio', join(dir, 'notes.txt'), '--out', site]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^lstm studio: wrote 10 files to .*site; for threads a host must send Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp/);
    for (const [name, [body]] of Object.entries(PAGE_FILES)) expect(readFileSync(join(site, name)).equals(Buffer.from(body)), name).toBe(true);
    expect(readFileSync(join(site, 'data', 'corpus'), 'utf8')).toBe(CORPUS);
    expect(JSON.parse(readFileSync(join(site, 'data', 'manifest.json'), 'utf8'))).toEqual({ corpus: { name: 'notes.txt', url: 'data/corpus', bytes: Buffer.byteLength(CORPUS) }, checkpoint: null });
    expect(readdirSync(site).sort()).toEqual(['.lstm-studio.json', '_headers', 'data', ...Object.keys(PAGE_FILES)].sort());
    // The headers lstm studio sends, for the hosts that read a _headers file (Netlify, Cloudflare Pages).
    const headers = readFileSync(join(site, '_headers'), 'utf8');
    expect(headers.startsWith('/*\n')).toBe(true);
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) expect(headers.toLowerCase()).toContain(`  ${k}: ${v}\n`.toLowerCase());
    expect(readdirSync(join(site, 'data')).sort()).toEqual(['corpus', 'manifest.json']);
  }, LIMIT_MS);

  it('writes over a studio it wrote (what the new one lacks goes), refuses any other non-empty folder', async () => {
    const r = await lstmAsync(['studio', checkpoint, '--out', site]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(site, 'data')).sort()).toEqual(['checkpoint', 'manifest.json']);
    expect(readFileSync(join(site, 'data', 'checkpoint')).equals(readFileSync(checkpoint))).toBe(true);
    expect(JSON.parse(readFileSync(join(site, 'data', 'manifest.json'), 'utf8')).corpus).toBeNull();

    const mine = join(dir, 'mine');
    mkdirSync(mine, { recursive: true });
    writeFileSync(join(mine, 'index.html'), 'my own page');
    const refused = await lstmAsync(['studio', '--out', mine]);
    expectOneLineError(refused, /^lstm: --out .*mine is a folder that is not empty and not a studio lstm wrote; give a new or empty folder$/, 2);
    expect(readdirSync(mine)).toEqual(['index.html']);
    expect(readFileSync(join(mine, 'index.html'), 'utf8')).toBe('my own page');
    const file = await lstmAsync(['studio', '--out', join(mine, 'index.html')]);
    expectOneLineError(file, /is a file; give a folder/, 2);
    expect(readFileSync(join(mine, 'index.html'), 'utf8')).toBe('my own page');
  }, LIMIT_MS);
});

describe('lstm studio in the help', () => {
  it('lstm --help lists it; lstm studio --help has the flags, the headers and examples', () => {
    expect(lstm(['--help']).stdout).toMatch(/\n\s+studio \[options\] \[file\]\s+train a model in your browser/);
    const r = lstm(['studio', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--port', '--host', '--open', '--out']) expect(r.stdout).toContain(flag);
    expect(r.stdout).toContain('Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy:\nrequire-corp');
    expect(r.stdout).toMatch(/Examples:\n\s+\$ lstm studio/);
  });
});

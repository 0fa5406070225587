// The studio page: the panels (Text, Train, the chart, Samples, Save and load, Inside) over the
// engine in a Web Worker (worker.ts; the page never trains). Every text and checkpoint is data:
// it is shown with textContent, never parsed as markup. Every refusal is one sentence in the
// message bar, and changes nothing the user had.
//
// 1) The worker and its messages. 2) Showing things. 3) The text. 4) The run. 5) Samples,
// evaluation. 6) Save, load, the kept run. 7) The guide. 8) The start: the command line's
// corpus or checkpoint (data/manifest.json), else the bundled corpus; then the kept run, if any.

import { drawChart } from './chart.js';
import { mountInside, type InsideView } from '../inside/render.js';
import type { InsideRequest, InsideResult } from '../inside/types.js';
import { forget, keep, readKept, type KeptRun, type KeptText } from './storage.js';
import type { Progress, Request, RunInfo, StudioSettings, TextInfo, WorkerMessage } from './protocol.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

// ---- 1) The worker ------------------------------------------------------------------------------

const worker = new Worker('worker.js', { name: 'lstm-studio-engine' });
let nextId = 1;
const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

function ask<T = unknown>(req: Request, transfer: Transferable[] = []): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
    worker.postMessage({ id, req }, transfer);
  });
}

worker.onmessage = (e: MessageEvent<WorkerMessage>) => {
  const m = e.data;
  if ('progress' in m) return onProgress(m.progress);
  const w = waiting.get(m.id);
  if (!w) return;
  waiting.delete(m.id);
  if (m.ok) w.resolve(m.result);
  else w.reject(new Error(m.error));
};
worker.onerror = (e) => say(`the engine stopped: ${e.message || 'its worker failed to start'}`);

/** Runs `work`; a refusal is one sentence in the message bar, and nothing else changes. */
async function guarded(work: () => Promise<void>): Promise<void> {
  unsay(); // the last refusal was about the last thing asked
  try {
    await work();
  } catch (e) {
    say((e as Error).message);
  }
}

// ---- 2) Showing things ------------------------------------------------------------------------

function say(sentence: string): void {
  const m = $('message');
  m.textContent = sentence.endsWith('.') ? sentence : `${sentence}.`;
  m.hidden = false;
}
function unsay(): void {
  $('message').hidden = true;
}

function facts(dl: HTMLElement, rows: Array<[string, string]>): void {
  dl.replaceChildren();
  for (const [k, v] of rows) {
    const dt = document.createElement('dt'), dd = document.createElement('dd');
    dt.textContent = k;
    dd.textContent = v;
    dd.dataset.fact = k;
    dl.append(dt, dd);
  }
}

const fmt = (n: number) => n.toLocaleString('en-US');
function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 2 ** 20) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 2 ** 20).toFixed(1)} MB`;
}
function rate(x: number): string {
  if (!Number.isFinite(x)) return '–';
  return x >= 1e4 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(0);
}
function duration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '–';
  if (sec < 60) return `${Math.round(sec)} s`;
  const m = Math.floor(sec / 60);
  return m < 60 ? `${m} min ${String(Math.round(sec % 60)).padStart(2, '0')} s` : `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

// ---- 3) The text --------------------------------------------------------------------------------

let textInfo: TextInfo | null = null;
/** The text's bytes as loaded, kept with the run (IndexedDB) so that a reload can go on. */
let textBytes: KeptText | null = null;

async function loadText(name: string, data: Uint8Array): Promise<void> {
  // A copy goes to the worker: the page keeps its own for the kept run.
  const r = await ask<{ text: TextInfo; run: RunInfo }>({ type: 'text', name, bytes: data.slice(), settings: settings() });
  textInfo = r.text;
  textBytes = { name, bytes: data };
  showText();
  settingsDirty = false;
  clearSamples();
  setRun(r.run);
}

function showText(): void {
  const t = textInfo;
  if (!t) return;
  facts($('text-info'), [['name', t.name], ['size', bytes(t.bytes)], ['characters', fmt(t.chars)], ['vocabulary', `${fmt(t.vocab)} distinct characters`]]);
  $('text-preview').textContent = t.preview + (t.chars > t.preview.length ? ' …' : '');
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url} could not be read (HTTP ${r.status})`);
  return new Uint8Array(await r.arrayBuffer());
}

async function readFile(f: File): Promise<Uint8Array> {
  return new Uint8Array(await f.arrayBuffer());
}

// ---- 4) The run ---------------------------------------------------------------------------------

let runInfo: RunInfo | null = null;
let training = false;
/** Settings changed since the run was built: Start rebuilds a run still at step 0. */
let settingsDirty = false;
let chartQueued = false;
let lastKept = 0;

function settings(): StudioSettings {
  const f = $('settings') as HTMLFormElement;
  const v = (name: string) => (f.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement).value;
  const n = (name: string) => {
    const s = v(name).trim();
    return s === '' ? NaN : Number(s);
  };
  return {
    cell: v('cell') as StudioSettings['cell'], layers: n('layers'), hidden: n('hidden'), seqLen: n('seqLen'), batchSize: n('batchSize'),
    lr: n('lr'), clip: n('clip'), seed: n('seed'), steps: n('steps'), evalEvery: n('evalEvery'), sampleEvery: n('sampleEvery'), keepEvery: n('keepEvery'),
    threads: n('threads'),
  };
}

function showSettings(s: StudioSettings): void {
  const f = $('settings') as HTMLFormElement;
  for (const [k, val] of Object.entries(s)) {
    const input = f.elements.namedItem(k) as HTMLInputElement | null;
    if (input) input.value = String(val);
  }
  settingsDirty = false;
}

async function resetRun(): Promise<void> {
  const info = await ask<RunInfo>({ type: 'reset', settings: settings() });
  settingsDirty = false;
  clearSamples();
  setRun(info);
}

function clearSamples(): void {
  samples.length = 0;
  $('samples').replaceChildren();
  $('sample').textContent = '';
  $('sample-step').textContent = '';
  $('eval-result').textContent = '';
}

function setRun(info: RunInfo): void {
  runInfo = info;
  queueChart();
  showInside();
}

function showRun(): void {
  const r = runInfo;
  if (!r) return;
  const lastVal = r.val.length ? r.val[r.val.length - 1] : null;
  facts($('run-facts'), [
    ['model', `${r.layers} × ${r.hidden} ${r.cell}, ${fmt(r.parameters)} parameters`],
    ['step', `${fmt(r.step)} of ${fmt(r.target)}`],
    ['text', r.trainChars ? `${fmt(r.trainChars)} characters to train on, ${fmt(r.valChars)} to validate` : `${r.corpusSource} (not loaded: inspect only)`],
    ['validation', lastVal ? `${lastVal[1].toFixed(4)} bits per character at step ${fmt(lastVal[0])}` : '–'],
    ['threads', String(r.threads)],
  ]);
  setControls();
}

function setControls(): void {
  const can = runInfo?.resumable === true;
  ($('start') as HTMLButtonElement).disabled = training || !can;
  ($('step') as HTMLButtonElement).disabled = training || !can;
  ($('pause') as HTMLButtonElement).disabled = !training;
  $('state').textContent = training ? 'training'
    : !runInfo ? 'no run yet'
      : !can ? 'inspecting a checkpoint'
        : runInfo.step === 0 ? 'ready: press Start'
          : runInfo.step >= runInfo.target ? `done: ${fmt(runInfo.step)} steps` : `paused at step ${fmt(runInfo.step)}`;
  $('state').classList.toggle('on', training);
}

/** While training, the chart, the facts and the rate are drawn at most this often: each drawing
 *  (style, layout, paint of the page) takes a core, taken from the worker's on a 2-core machine
 *  if drawn at every step (what npm run bench:studio measured: docs/performance.md); five a
 *  second still reads as live. */
const DRAW_EVERY_MS = 200;
let drawnAt = -Infinity;
/** The latest step's rate and time left, shown when the chart is next drawn. */
let speed: { charsPerSec: number; etaSeconds: number } | null = null;

function queueChart(): void {
  if (chartQueued) return;
  chartQueued = true;
  const wait = training ? Math.max(0, drawnAt + DRAW_EVERY_MS - performance.now()) : 0;
  const draw = () => requestAnimationFrame(() => {
    chartQueued = false;
    drawnAt = performance.now();
    const r = runInfo;
    if (!r) return;
    if (speed && training) {
      $('speed').textContent = rate(speed.charsPerSec);
      $('eta').textContent = duration(speed.etaSeconds);
    }
    showRun();
    const refs = [{ name: 'uniform', bpc: r.chanceBpc, cls: 'uniform' }, { name: 'unigram', bpc: r.unigramBpc, cls: 'unigram' }];
    if (r.ngram) refs.push({ name: `${r.ngram.order}-gram`, bpc: r.ngram.bpc, cls: 'ngram' });
    drawChart($('chart') as unknown as SVGSVGElement, { train: r.train, val: r.val, refs, target: r.target });
  });
  if (wait > 0) setTimeout(draw, wait);
  else draw();
}

// The inside views (src/studio/inside/render.ts): mounted once there is a model, asked again
// (only the view shown, one request at a time) after each validation while training, and
// whenever the run changes.
let inside: InsideView | null = null;
let insideAsked = 0;

function showInside(): void {
  if (!runInfo) return;
  if (!inside) {
    const root = $('inside');
    root.replaceChildren();
    inside = mountInside(root, (req: InsideRequest) => ask<InsideResult>({ type: 'inside', req }));
    insideAsked = performance.now();
  } else refreshInside(true);
}

/** Every validation at most once in two seconds: the views' numbers are a look, not the training. */
function refreshInside(now = false): void {
  if (!inside) return;
  const t = performance.now();
  if (!now && t - insideAsked < 2000) return;
  insideAsked = t;
  inside.refresh();
}

const samples: Array<{ step: number; text: string }> = [];

function onProgress(p: Progress): void {
  switch (p.type) {
    case 'run':
      // The loop's start: the model is the one the views were last asked about (at the text,
      // Reset, Pause or a load), so they are not asked again here, which would take the worker
      // from its first steps.
      runInfo = p.run;
      queueChart();
      if (!inside) showInside();
      break;
    case 'step':
      if (!runInfo) return;
      runInfo.step = p.step;
      runInfo.train.push(p.bpc);
      speed = { charsPerSec: p.charsPerSec, etaSeconds: p.etaSeconds };
      queueChart();
      break;
    case 'eval':
      if (!runInfo) return;
      runInfo.val.push([p.step, p.bpc]);
      queueChart();
      refreshInside();
      break;
    case 'sample':
      showSample(p.step, p.text);
      break;
    case 'keep':
      void keepRun(p.step, p.json);
      break;
    case 'state':
      training = p.training;
      if (!training) {
        speed = null;
        $('eta').textContent = '–';
        // The loop's own rate over the stretch it ran (what lstm train reports at its end).
        if (p.charsPerSec !== undefined) {
          $('speed').textContent = rate(p.charsPerSec);
          $('speed').dataset.charsPerSec = String(p.charsPerSec);
        }
        refreshInside(true);
      }
      if (runInfo) runInfo.step = p.step;
      showRun();
      break;
    case 'warning':
      $('save-note').textContent = p.message;
      break;
    case 'error':
      say(p.message);
      break;
  }
}

function showSample(step: number, text: string): void {
  $('sample-step').textContent = `At step ${fmt(step)}:`;
  $('sample').textContent = text;
  samples.push({ step, text });
  const li = document.createElement('li');
  const b = document.createElement('strong');
  b.textContent = `step ${fmt(step)} `;
  const pre = document.createElement('pre');
  pre.textContent = text;
  li.append(b, pre);
  $('samples').prepend(li);
  while ($('samples').children.length > 12) $('samples').lastElementChild!.remove();
}

async function start(): Promise<void> {
  unsay();
  if (!runInfo || (settingsDirty && runInfo.step === 0 && runInfo.resumable)) await resetRun();
  await ask({ type: 'start', steps: settings().steps });
}

// ---- 5) Samples, evaluation ------------------------------------------------------------------------

function sampleAsk() {
  const num = (id: string) => Number(($(id) as HTMLInputElement).value);
  return { temperature: num('temperature'), length: num('length'), prime: ($('prime') as HTMLInputElement).value, seed: runInfo?.settings.seed ?? 1 };
}

async function sampleNow(): Promise<void> {
  const text = await ask<string>({ type: 'sample', ask: sampleAsk() });
  showSample(runInfo?.step ?? 0, text);
}

async function evaluateNow(): Promise<void> {
  const r = await ask<{ bpc: number; predictions: number; chars: number }>({ type: 'evaluate' });
  const out = $('eval-result');
  out.textContent = `validation text: ${r.bpc.toFixed(4)} bits per character (${fmt(r.predictions)} predictions, as lstm eval computes it)`;
  out.dataset.bpc = String(r.bpc);
}

// ---- 6) Save, load, the kept run -----------------------------------------------------------------

async function keepRun(step: number, json: string): Promise<void> {
  if (!textBytes) return;
  try {
    await keep({ text: textBytes, checkpoint: json, step, saved: new Date().toISOString() });
    lastKept = step;
    $('save-note').textContent = `Kept in this browser at step ${fmt(step)}: a reload can continue it.`;
    document.body.dataset.kept = String(lastKept);
  } catch (e) {
    $('save-note').textContent = `This browser would not keep the run (${(e as Error).message}); save it to a file instead.`;
  }
}

async function save(): Promise<void> {
  const json = await ask<string>({ type: 'save' });
  const r = runInfo;
  const base = (r?.corpusSource || 'run').replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9._-]+/g, '-') || 'run';
  const name = `${base}-${r?.cell ?? 'lstm'}-${r?.layers ?? 1}x${r?.hidden ?? 0}-step${r?.step ?? 0}.json`;
  const url = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  $('save-note').textContent = `Saved ${name}: try lstm sample --checkpoint ${name}`;
}

async function loadCheckpoint(name: string, json: string, text?: KeptText): Promise<void> {
  const keepEvery = settings().keepEvery;
  const r = await ask<{ resumed: boolean; why: string | null; run: RunInfo; text: TextInfo | null }>({
    type: 'checkpoint', name, json, resume: true, keepEvery: Number.isInteger(keepEvery) && keepEvery >= 0 ? keepEvery : 25, threads: settings().threads,
    ...(text ? { text: { name: text.name, bytes: text.bytes.slice() } } : {}),
  });
  if (text && r.text) {
    textInfo = r.text;
    textBytes = text;
    showText();
  }
  clearSamples();
  training = false;
  showSettings(r.run.settings);
  setRun(r.run);
  $('save-note').textContent = r.resumed
    ? `Loaded ${name} at step ${fmt(r.run.step)}: press Start to continue its run.`
    : `Loaded ${name} to inspect and sample (${r.why ?? 'it cannot be continued here'}).`;
}

async function continueKept(k: KeptRun): Promise<void> {
  await loadCheckpoint('the kept run', k.checkpoint, k.text);
}

// ---- 7) The guide ---------------------------------------------------------------------------------

let guideAt = 0;
function showGuide(at: number): void {
  const items = [...$('guide').querySelectorAll<HTMLLIElement>('li')];
  guideAt = at;
  $('guide').hidden = false;
  items.forEach((li, j) => li.classList.toggle('current', j === at));
  document.querySelectorAll('.panel.highlight').forEach((p) => p.classList.remove('highlight'));
  const target = items[at]?.dataset.target;
  if (target) $(target).classList.add('highlight');
  $('guide-next').textContent = at === items.length - 1 ? 'Done' : 'Next';
}
function closeGuide(): void {
  $('guide').hidden = true;
  document.querySelectorAll('.panel.highlight').forEach((p) => p.classList.remove('highlight'));
  try {
    localStorage.setItem('lstm-studio-guide', 'seen');
  } catch {
    // no storage: the guide shows again next time
  }
}

// ---- 8) The start ---------------------------------------------------------------------------------

interface Manifest { corpus: { name: string; url: string } | null; checkpoint: { name: string; url: string } | null }

function wire(): void {
  const click = (id: string, work: () => Promise<void>) => $(id).addEventListener('click', () => void guarded(work));
  click('start', start);
  click('pause', async () => {
    setRun(await ask<RunInfo>({ type: 'pause' }));
  });
  click('step', async () => {
    unsay();
    if (!runInfo || (settingsDirty && runInfo.step === 0)) await resetRun();
    setRun(await ask<RunInfo>({ type: 'step', steps: settings().steps }));
  });
  click('reset', async () => {
    unsay();
    await resetRun();
  });
  click('use-default', async () => loadText('default', await fetchBytes('default.txt')));
  click('use-paste', async () => {
    const s = ($('paste') as HTMLTextAreaElement).value;
    await loadText('pasted text', new TextEncoder().encode(s));
  });
  click('sample-now', sampleNow);
  for (const id of ['temperature', 'length', 'prime']) {
    $(id).addEventListener('change', () => void guarded(async () => {
      unsay();
      await ask({ type: 'sampling', ask: sampleAsk() });
    }));
  }
  click('evaluate', evaluateNow);
  click('save', save);
  click('guide-open', async () => showGuide(0));
  click('guide-close', async () => closeGuide());
  click('guide-next', async () => {
    if (guideAt >= $('guide').querySelectorAll('li').length - 1) closeGuide();
    else showGuide(guideAt + 1);
  });
  $('file').addEventListener('change', () => void guarded(async () => {
    const input = $('file') as HTMLInputElement;
    const f = input.files?.[0];
    input.value = '';
    if (f) await loadText(f.name, await readFile(f));
  }));
  $('load').addEventListener('change', () => void guarded(async () => {
    const input = $('load') as HTMLInputElement;
    const f = input.files?.[0];
    input.value = '';
    if (f) await loadCheckpoint(f.name, await f.text());
  }));
  const panel = $('text-panel');
  panel.addEventListener('dragover', (e) => {
    e.preventDefault();
    panel.classList.add('drop');
  });
  panel.addEventListener('dragleave', () => panel.classList.remove('drop'));
  panel.addEventListener('drop', (e) => {
    e.preventDefault();
    panel.classList.remove('drop');
    const f = e.dataTransfer?.files[0];
    if (f) void guarded(async () => loadText(f.name, await readFile(f)));
  });
  $('settings').addEventListener('input', () => {
    settingsDirty = true;
  });
  $('settings').addEventListener('submit', (e) => e.preventDefault());
  new ResizeObserver(() => queueChart()).observe($('chart-panel'));
}

async function boot(): Promise<void> {
  wire();
  $('isolation').textContent = crossOriginIsolated
    ? 'This page is cross-origin isolated: the engine may use several threads.'
    : 'This page is not cross-origin isolated: the engine uses one thread.';
  let manifest: Manifest = { corpus: null, checkpoint: null };
  try {
    const r = await fetch('data/manifest.json');
    if (r.ok) manifest = await r.json() as Manifest;
  } catch {
    // a static copy without data/: the bundled corpus
  }
  await guarded(async () => {
    if (manifest.corpus) await loadText(manifest.corpus.name, await fetchBytes(manifest.corpus.url));
    else await loadText('default', await fetchBytes('default.txt'));
  });
  if (manifest.checkpoint) {
    const ck = manifest.checkpoint;
    await guarded(async () => loadCheckpoint(ck.name, new TextDecoder().decode(await fetchBytes(ck.url))));
  }
  $('engine').textContent = 'engine ready';
  const kept = await readKept();
  if (kept) {
    $('resume-text').textContent = `A run was kept from your last visit: step ${fmt(kept.step)} on ${kept.text.name}, kept ${new Date(kept.saved).toLocaleString()}.`;
    $('resume').hidden = false;
    $('resume-continue').addEventListener('click', () => void guarded(async () => {
      $('resume').hidden = true;
      await continueKept(kept);
    }), { once: true });
    $('resume-discard').addEventListener('click', () => void guarded(async () => {
      $('resume').hidden = true;
      await forget();
    }), { once: true });
  }
  let seen = false;
  try {
    seen = localStorage.getItem('lstm-studio-guide') === 'seen';
  } catch {
    // no storage
  }
  if (!seen && !kept) showGuide(0);
  document.body.dataset.ready = '1';
}

void boot();

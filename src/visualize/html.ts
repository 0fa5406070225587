// The --html page (visualizationPage): one self-contained file (no network, no external files)
// that opens from disk.
//
// The text is data, never markup. It travels as JSON inside a non-executed <script
// type="application/json"> block with every <, > and & written as \u escapes, and the page's own
// script puts each character into the document with textContent. A Content-Security-Policy
// allows only that one script (by its hash), so even an injected handler could not run, and
// no request can leave the page.
//
// Size: the values of every listed unit are quantised to one signed byte per character
// (−127 … 127 on the −1 … 1 scale) and sent as base64: 5,000 characters × 512 units ≈ 3.4 MB.
// The script builds one span per character once; recolouring a unit sets T background colours
// from a 255-entry palette.

import { encodeBase64 } from '../data/base64.js';
import { sha256 } from '../data/sha256.js';
import type { Feature } from './features.js';
import { SIGMOID_GATES, unitSeries } from './record.js';
import { defaultQuantity, type Visualization } from './run.js';
import { rgb, toUnit } from './terminal.js';
import { describeSaturation, formatScore, strengthOf, unitLabel } from './units.js';

export interface PageEntry {
  /** What the list shows, e.g. "layer 1 · unit 37 · c". */
  label: string;
  /** The feature it tracks best and how strongly (already formatted), or ''. */
  note: string;
  /** 0 … 1, for the bar beside it. */
  strength: number;
  /** Values on the −1 … 1 colour scale, one per character. */
  values: ArrayLike<number>;
  /** What the hover box calls the value, e.g. "tanh(c)". */
  valueName: string;
  /** The value shown in the hover box is (scaled + offset) · factor: gates 0 … 1 use 0.5 / 1. */
  gate: boolean;
}

export interface PageInput {
  title: string;
  /** Lines of plain text under the title (model, text source). */
  subtitle: string[];
  chars: readonly string[];
  entries: PageEntry[];
  /** Index into entries shown first. */
  selected: number;
  vocab: readonly string[];
  /** T × K next-character ids and probabilities. */
  K: number;
  top: Int32Array;
  topP: Float32Array;
  /** Feature table: one section per feature with rows of (entry index or −1, label, score). */
  features: Array<{ name: string; description: string; rows: Array<{ entry: number; label: string; score: string }> }>;
  /** Saturation panels: a title, an SVG (numbers only) and sentences. */
  saturation: Array<{ title: string; svg: string; lines: string[] }>;
}

export function escapeHtml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** JSON that can sit inside a <script> block: nothing in it can close the block or open a comment. */
export function scriptSafeJson(data: unknown): string {
  return JSON.stringify(data).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function quantise(values: ArrayLike<number>, into: Int8Array, off: number): void {
  for (let t = 0; t < values.length; t++) {
    const x = Math.max(-1, Math.min(1, Number.isFinite(values[t]) ? values[t] : 0));
    into[off + t] = Math.round(x * 127);
  }
}

/** A scatter of per-unit (left, right) saturation shares as an SVG (no text from the corpus). */
export function saturationSvg(left: ArrayLike<number>, right: ArrayLike<number>, size = 220): string {
  const pad = 44, w = size - pad - 8;
  const pts: string[] = [];
  for (let j = 0; j < left.length; j++) {
    const x = pad + left[j] * w, y = 8 + (1 - right[j]) * w;
    pts.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="2.2"/>`);
  }
  const grid = [0, 0.5, 1].map((v) => {
    const x = pad + v * w, y = 8 + (1 - v) * w;
    return `<line x1="${x}" y1="8" x2="${x}" y2="${8 + w}" class="g"/><line x1="${pad}" y1="${y}" x2="${pad + w}" y2="${y}" class="g"/>` +
      `<text x="${x}" y="${size - 10}" text-anchor="middle">${v}</text><text x="${pad - 4}" y="${y + 4}" text-anchor="end">${v}</text>`;
  }).join('');
  return `<svg viewBox="0 0 ${size} ${size + 6}" width="${size}" height="${size + 6}" role="img">` +
    `<line x1="${pad}" y1="8" x2="${pad + w}" y2="${8 + w}" class="d"/>${grid}<g class="p">${pts.join('')}</g>` +
    `<text x="${pad + w / 2}" y="${size + 4}" text-anchor="middle">left-saturated (&lt; 0.1)</text>` +
    `<text transform="translate(9 ${8 + w / 2}) rotate(-90)" text-anchor="middle">right-saturated (&gt; 0.9)</text></svg>`;
}

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2330;background:#f6f7f9}
header{padding:14px 22px;background:#1d2330;color:#eef1f6}header h1{margin:0 0 4px;font-size:18px;font-weight:600}header p{margin:0;color:#aeb6c4;font-size:12.5px}
main{display:grid;grid-template-columns:minmax(0,1fr) 330px;gap:16px;padding:16px 22px}
.card{background:#fff;border:1px solid #e1e4ea;border-radius:8px;padding:12px 14px}
h2{font-size:14px;margin:0 0 8px;font-weight:600}
#text{font:13.5px/1.75 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-all;max-height:72vh;overflow:auto}
#text span{cursor:default}#text span.nl{color:#9aa3b2}#text span:hover{outline:1px solid #1d2330}
#units{max-height:72vh;overflow:auto;padding:0;margin:0;list-style:none}
#units li{display:grid;grid-template-columns:1fr 60px;gap:6px;padding:4px 8px;border-radius:5px;cursor:pointer;font-size:12.5px}
#units li:hover{background:#eef1f6}#units li.sel{background:#dce6fb}
#units .n{color:#5b6475;font-size:11.5px;grid-column:1/3}#units .bar{height:6px;margin-top:6px;background:#e6e9ef;border-radius:3px;overflow:hidden}#units .bar i{display:block;height:100%;background:#4f6fd6}
#legend{display:flex;align-items:center;gap:8px;font-size:12px;color:#5b6475;margin:6px 0 10px}#legend .ramp{width:180px;height:10px;border-radius:3px}
#box{position:fixed;display:none;pointer-events:none;background:#1d2330;color:#eef1f6;border-radius:6px;padding:8px 10px;font-size:12.5px;min-width:170px;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:5}
#box table{border-collapse:collapse;width:100%}#box td{padding:1px 4px}#box td.c{font-family:ui-monospace,Menlo,monospace;background:#2d3446;border-radius:3px;text-align:center}#box .p{width:70px}#box .p i{display:block;height:5px;background:#7fa2ff;border-radius:2px}
.below{padding:0 22px 22px;display:grid;gap:16px}
table.f{border-collapse:collapse;font-size:12.5px}table.f td,table.f th{padding:3px 10px;text-align:left;border-bottom:1px solid #eef0f3}table.f tr[data-entry]{cursor:pointer}table.f tr[data-entry]:hover{background:#eef1f6}
.feats{display:flex;flex-wrap:wrap;gap:8px 28px}.feats h2{font-size:13.5px}.sat{display:flex;flex-wrap:wrap;gap:18px}.sat figure{margin:0;max-width:260px}.sat figcaption{font-size:12px;color:#3c4454}
svg text{font-size:10px;fill:#5b6475}svg .g{stroke:#eceef2}svg .d{stroke:#d5d9e0;stroke-dasharray:3 3}svg .p circle{fill:#4f6fd6;fill-opacity:.55}.sat figure{width:250px}
`;

// The page's script. It reads the data block, builds the text once, and recolours on click.
const SCRIPT = `
(function(){
var tStart=performance.now(),D=JSON.parse(document.getElementById('data').textContent);
var T=D.chars.length,K=D.K;
var raw=atob(D.values),bytes=new Int8Array(raw.length);for(var i=0;i<raw.length;i++)bytes[i]=raw.charCodeAt(i)<<24>>24;
var pal=new Array(255);for(var v=-127;v<=127;v++){var x=v/127,a=Math.abs(x),e=x<0?[49,105,200]:[208,55,45],m=[245,245,240];
pal[v+127]='rgb('+Math.round(m[0]+(e[0]-m[0])*a)+','+Math.round(m[1]+(e[1]-m[1])*a)+','+Math.round(m[2]+(e[2]-m[2])*a)+')';}
var text=document.getElementById('text'),frag=document.createDocumentFragment(),spans=new Array(T);
for(var t=0;t<T;t++){var s=document.createElement('span'),ch=D.chars[t];s.dataset.t=t;
if(ch==='\\n'){s.textContent='\\u21b5';s.className='nl';frag.appendChild(s);frag.appendChild(document.createTextNode('\\n'));}
else{s.textContent=ch==='\\t'?'\\u2192   ':ch;frag.appendChild(s);}spans[t]=s;}
text.appendChild(frag);
var list=document.getElementById('units'),items=[],cur=-1;
D.entries.forEach(function(e,k){var li=document.createElement('li');li.dataset.entry=k;
var a=document.createElement('span');a.textContent=e.label;var b=document.createElement('span');b.className='bar';var bi=document.createElement('i');bi.style.width=Math.round(100*e.strength)+'%';b.appendChild(bi);
var n=document.createElement('span');n.className='n';n.textContent=e.note;li.appendChild(a);li.appendChild(b);if(e.note)li.appendChild(n);list.appendChild(li);items.push(li);});
function show(k){if(k===cur)return;var t0=performance.now(),off=k*T;for(var t=0;t<T;t++)spans[t].style.backgroundColor=pal[bytes[off+t]+127];
if(cur>=0)items[cur].classList.remove('sel');items[k].classList.add('sel');cur=k;var e=D.entries[k];
document.getElementById('shown').textContent=e.label+(e.note?' \\u2014 '+e.note:'');
document.getElementById('lo').textContent=e.gate?'0':'\\u22121';document.getElementById('hi').textContent=e.gate?'1':'+1';void text.offsetHeight;document.body.dataset.recolourMs=(performance.now()-t0).toFixed(1);}
function pick(ev){var el=ev.target.closest('[data-entry]');if(el&&el.dataset.entry!=='-1')show(+el.dataset.entry);}
list.addEventListener('click',pick);document.getElementById('features').addEventListener('click',pick);
var box=document.getElementById('box');
function describe(c){return c==='\\n'?'\\u21b5':c===' '?'\\u2423':c==='\\t'?'\\u2192':c;}
text.addEventListener('mouseover',function(ev){var s=ev.target;if(!s.dataset||s.dataset.t===undefined)return;var t=+s.dataset.t,e=D.entries[cur];
var q=bytes[cur*T+t]/127,val=e.gate?(q+1)/2:q;box.textContent='';
var h=document.createElement('div');h.textContent='\\u201c'+describe(D.chars[t])+'\\u201d  '+e.valueName+' = '+val.toFixed(3);box.appendChild(h);
var sub=document.createElement('div');sub.style.cssText='color:#aeb6c4;margin:4px 0 2px';sub.textContent='most likely next:';box.appendChild(sub);
var tb=document.createElement('table');for(var k=0;k<K;k++){var id=D.top[t*K+k];if(id<0)continue;var p=D.topP[t*K+k],tr=document.createElement('tr');
var c1=document.createElement('td');c1.className='c';c1.textContent=describe(D.vocab[id]);var c2=document.createElement('td');c2.textContent=(100*p).toFixed(1)+'%';
var c3=document.createElement('td');c3.className='p';var bar=document.createElement('i');bar.style.width=Math.round(100*p)+'%';c3.appendChild(bar);
tr.appendChild(c1);tr.appendChild(c2);tr.appendChild(c3);tb.appendChild(tr);}box.appendChild(tb);box.style.display='block';
var r=s.getBoundingClientRect(),bw=box.offsetWidth,bh=box.offsetHeight;var x=Math.min(window.innerWidth-bw-8,r.left),y=r.bottom+6;if(y+bh>window.innerHeight)y=r.top-bh-6;box.style.left=x+'px';box.style.top=y+'px';});
text.addEventListener('mouseleave',function(){box.style.display='none';});
show(D.selected);
document.body.dataset.buildMs=(performance.now()-tStart).toFixed(0);document.body.dataset.readyAt=performance.now().toFixed(0);document.body.dataset.ready='1';
})();
`;

export function renderPage(p: PageInput): string {
  const T = p.chars.length;
  const bytes = new Int8Array(p.entries.length * T);
  p.entries.forEach((e, k) => quantise(e.values, bytes, k * T));
  const data = {
    chars: p.chars,
    vocab: p.vocab,
    K: p.K,
    top: Array.from(p.top),
    topP: Array.from(p.topP, (x) => Math.round(x * 1000) / 1000),
    selected: p.selected,
    entries: p.entries.map((e) => ({ label: e.label, note: e.note, strength: Math.round(e.strength * 1000) / 1000, valueName: e.valueName, gate: e.gate })),
    values: encodeBase64(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)),
  };
  const scriptHash = encodeBase64(sha256(new TextEncoder().encode(SCRIPT)));
  const [lr, lg, lb] = rgb(-1), [hr, hg, hb] = rgb(1);
  const features = p.features.map((f) => `<div><h2>${escapeHtml(f.name)} <small style="font-weight:400;color:#5b6475">${escapeHtml(f.description)}</small></h2>` +
    `<table class="f"><tr><th>unit</th><th>score</th></tr>${f.rows.map((r) => `<tr data-entry="${r.entry}"><td>${escapeHtml(r.label)}</td><td>${escapeHtml(r.score)}</td></tr>`).join('')}</table></div>`).join('');
  const sat = p.saturation.map((s) => `<figure>${s.svg}<figcaption><b>${escapeHtml(s.title)}</b><br>${s.lines.map(escapeHtml).join('<br>')}</figcaption></figure>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha256-${scriptHash}'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(p.title)}</title>
<style>${STYLE}</style></head><body>
<header><h1>${escapeHtml(p.title)}</h1>${p.subtitle.map((s) => `<p>${escapeHtml(s)}</p>`).join('')}</header>
<main><section class="card"><h2 id="shown"></h2>
<div id="legend"><span id="lo">−1</span><span class="ramp" style="background:linear-gradient(90deg,rgb(${lr},${lg},${lb}),rgb(245,245,240),rgb(${hr},${hg},${hb}))"></span><span id="hi">+1</span><span>· hover a character for its value and the five most likely next characters · click a unit to recolour</span></div>
<div id="text"></div></section>
<aside class="card"><h2>Units, strongest first</h2><ul id="units"></ul></aside></main>
<div class="below"><section class="card" id="features"><h2 style="font-size:15px">Cells that track something</h2><p style="margin:0 0 10px;font-size:12.5px;color:#3c4454">For each feature of the text, the units that follow it best: r is the correlation (−1 … 1), η² the share of the unit's variance the categories explain (0 … 1). c is scored before tanh. Click a row to colour the text by it.</p><div class="feats">${features || '<p>No feature varies on this text.</p>'}</div></section>
<section class="card"><h2 style="font-size:15px">Gate saturation</h2><p style="margin:0 0 10px;font-size:12.5px;color:#3c4454">Each dot is one gate unit: how often (share of characters) it is below 0.1 (x) and above 0.9 (y). Dots near the top-left are gates that are almost always open; near the bottom-right almost always closed; near the origin, gates that act gradually.</p><div class="sat">${sat}</div></section></div>
<div id="box"></div>
<script type="application/json" id="data">${scriptSafeJson(data)}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}

function shownName(q: string): string {
  return q === 'c' ? 'tanh(c)' : q;
}

/** The page of a visualization: every unit of the shown quantity (or c/h) in the list, strongest
 *  first; `top` units listed per feature. */
export function visualizationPage(r: Visualization, title: string, top: number): string {
  const rec = r.recording;
  const q = r.shown.quantity === 'vs-ngram' ? defaultQuantity(rec) : r.shown.quantity;
  const gate = SIGMOID_GATES.has(q);
  const entries: PageEntry[] = [];
  const index = new Map<string, number>();
  if (r.ngram) entries.push({ label: 'LSTM vs n-gram', note: r.ngram.description, strength: 1, values: r.ngram.scaled, valueName: 'scaled log-prob difference', gate: false });
  // Best score of each unit over the features.
  const best = new Map<string, { f: Feature; score: number }>();
  for (const f of r.features) {
    for (const s of f.ranked) {
      if (s.quantity !== q) continue;
      const key = `${s.layer}:${s.unit}`;
      const b = best.get(key);
      if (!b || strengthOf(f.feature, s.score) > strengthOf(b.f, b.score)) best.set(key, { f: f.feature, score: s.score });
    }
  }
  const all: Array<{ layer: number; unit: number; strength: number; note: string }> = [];
  for (let l = 0; l < rec.L; l++) {
    for (let j = 0; j < rec.H; j++) {
      const b = best.get(`${l}:${j}`);
      const strength = b ? strengthOf(b.f, b.score) : 0;
      all.push({ layer: l, unit: j, strength, note: b ? `${b.f.name} ${formatScore(b.f, b.score)}` : '' });
    }
  }
  all.sort((a, b) => b.strength - a.strength || a.layer - b.layer || a.unit - b.unit);
  for (const u of all) {
    index.set(`${u.layer}:${u.unit}:${q}`, entries.length);
    const values = unitSeries(rec, u.layer, u.unit, q, true);
    for (let t = 0; t < values.length; t++) values[t] = toUnit(values[t], gate);
    entries.push({ label: unitLabel({ ...u, quantity: q }), note: u.note, strength: u.strength, values, valueName: shownName(q), gate });
  }
  // Every unit of q is in the list, so the shown one (of q unless the view is vs-ngram, the
  // first entry) is found.
  const selected = r.ngram ? 0 : index.get(`${r.shown.layer}:${r.shown.unit}:${r.shown.quantity}`)!;
  return renderPage({
    title,
    subtitle: [`${r.layers}×${r.hidden} ${r.cell} · ${r.chars.length.toLocaleString('en-US')} characters: ${r.textSource}`],
    chars: r.chars,
    entries,
    selected,
    vocab: r.vocab,
    K: rec.K,
    top: rec.top,
    topP: rec.topP,
    features: r.features.map((f) => ({
      name: f.feature.name,
      description: f.feature.description,
      rows: f.ranked.slice(0, top).map((s) => ({ entry: index.get(`${s.layer}:${s.unit}:${s.quantity}`) ?? -1, label: unitLabel(s), score: formatScore(f.feature, s.score) })),
    })),
    saturation: r.saturation.map((s) => ({ title: `layer ${s.layer + 1} · ${s.gate} gate`, svg: saturationSvg(s.left, s.right), lines: describeSaturation(s) })),
  });
}

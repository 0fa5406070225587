// Compact human formatting of numbers, rates, durations and sizes, and of text for a terminal line.

/**
 * Compact number formatting (axis labels): 0.5, 1.25, 3.2k, 1.5M, 1e-6, -2.5e-7.
 * `sig` is the number of significant digits kept (trailing zeros are dropped).
 */
export function formatNumber(v: number, sig = 3): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (v === 0) return '0';
  const p = Math.min(15, Math.max(1, Math.round(sig)));
  const sign = v < 0 ? '-' : '';
  // Round first, so that 999.9 at 3 digits becomes 1k rather than 1000.
  const r = Number(Math.abs(v).toPrecision(p));
  if (r < 1e-3 || r >= 1e15) return sign + expForm(r, p);
  const suffixes: Array<[number, string]> = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [div, suf] of suffixes) if (r >= div) return sign + fixedSig(r / div, p) + suf;
  return sign + fixedSig(r, p);
}

function exponentOf(x: number): number {
  // From toExponential rather than Math.log10, which is off by one ulp near some powers of ten.
  return Number(x.toExponential().split('e')[1]);
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

function fixedSig(x: number, sig: number): string {
  return trimZeros(x.toFixed(Math.max(0, sig - 1 - exponentOf(x))));
}

function expForm(x: number, sig: number): string {
  const [m, e] = x.toExponential(sig - 1).split('e');
  return `${trimZeros(m)}e${e.replace('+', '')}`;
}

/** 950 → "950", 45210 → "45.2k", 1234567 → "1.23M". */
export function formatRate(x: number): string {
  if (!Number.isFinite(x)) return '–';
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e4) return `${(x / 1e3).toFixed(1)}k`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(2)}k`;
  return x.toFixed(0);
}

/** Seconds as "42s", "3m05s", "2h07m". */
export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '–';
  if (sec < 60) return `${sec < 10 ? sec.toFixed(1) : Math.round(sec)}s`;
  const m = Math.floor(sec / 60), s = Math.round(sec % 60);
  if (m < 60) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** A count and its noun, with thousands separators: "1 character", "67,952 characters". */
export function plural(n: number, noun: string, nouns = `${noun}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? noun : nouns}`;
}

/** Bytes as "512 B", "3.4 MB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/** Greedy word wrap at `width` columns (words split at white space): the first line starts
 *  with `first`, every later one with `rest`. */
export function wrap(text: string, width: number, rest = '', first = ''): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const candidate = line ? `${line} ${word}` : first + word;
    if ([...candidate].length > width && line) {
      out.push(line);
      line = rest + word;
    } else line = candidate;
  }
  if (line) out.push(line);
  return out;
}

/** Text from a file made safe for a terminal line: control characters (C0, DEL, C1), line and
 *  paragraph separators, bidirectional overrides and lone surrogates are shown as escapes
 *  (\n, \x1b, \u202e), so a hostile string can neither move the cursor nor break the line. */
export function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (ch) => {
    const c = ch.charCodeAt(0);
    if (ch === '\n') return '\\n';
    if (ch === '\t') return '\\t';
    if (ch === '\r') return '\\r';
    return c <= 0xff ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
  });
}

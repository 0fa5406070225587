// Reading a probe set: JSON lines, a header first, then one item per line (the format that
// tools/corpus/generate.ts writes to corpora/probe.jsonl). Every way a file can be wrong is an
// error naming the file and the line.

import { z } from 'zod';
import type { ProbeEntry } from './candidates.js';
import { UserError } from '../errors.js';

export interface ProbeSet {
  /** The candidates every item is scored against, in the header's order. */
  languages: string[];
  /** Bin names in the header's order (possibly empty: then the items' order is used). */
  bins: string[];
  pairs: Array<{ country: string; language: string }>;
  /** The shortest and longest cue-to-answer distance of the training corpus, if the header says. */
  trainingDistance: { min: number; max: number } | null;
  items: Array<ProbeEntry & { country?: string }>;
}

const HeaderSchema = z.object({
  kind: z.literal('header'),
  languages: z.array(z.string().min(1)).min(2),
  bins: z.array(z.string()).optional(),
  pairs: z.array(z.object({ country: z.string(), language: z.string() })).optional(),
  trainingDistance: z.object({ min: z.number(), max: z.number() }).optional(),
});

const ItemSchema = z.object({
  prefix: z.string().min(1),
  suffix: z.string().default(''),
  answer: z.string().min(1),
  country: z.string().optional(),
  distance: z.number().finite().min(0),
  bin: z.string().min(1),
});

/** A ProbeSet made in code (probe's `set`): what parseProbeSet would have returned. */
export const ProbeSetSchema = z.object({
  languages: HeaderSchema.shape.languages,
  bins: z.array(z.string()),
  pairs: z.array(z.object({ country: z.string(), language: z.string() })),
  trainingDistance: z.object({ min: z.number(), max: z.number() }).nullable(),
  items: z.array(ItemSchema).min(1),
}).refine((s) => s.items.every((i) => s.languages.includes(i.answer)), "every item's answer must be one of its languages");

/** A probe file that cannot be read: one line the user sees as it is. */
export class ProbeFileError extends UserError {}

/** Parses probe JSON lines; `where` names the file in errors. Blank lines are ignored. */
export function parseProbeSet(text: string, where: string): ProbeSet {
  const lines = text.split('\n').map((l, i) => ({ l: l.replace(/\r$/, ''), n: i + 1 })).filter((x) => x.l.trim() !== '');
  if (lines.length === 0) throw new ProbeFileError(`${where} is empty`);
  const json = (l: string, n: number): unknown => {
    try {
      return JSON.parse(l);
    } catch (e) {
      throw new ProbeFileError(`${where}, line ${n}: not JSON (${(e as Error).message})`);
    }
  };
  const first = lines[0];
  const h = HeaderSchema.safeParse(json(first.l, first.n));
  if (!h.success) {
    const issue = h.error.issues[0];
    throw new ProbeFileError(`${where}, line ${first.n}: the first line must be a header {"kind":"header","languages":[at least 2 names],…}; ${issuePath(issue)}${issue.message}`);
  }
  const languages = h.data.languages;
  const dup = languages.find((x, i) => languages.indexOf(x) !== i);
  if (dup !== undefined) throw new ProbeFileError(`${where}, line ${first.n}: the header names the language ${JSON.stringify(dup)} twice`);
  const items: ProbeSet['items'] = [];
  for (const { l, n } of lines.slice(1)) {
    const r = ItemSchema.safeParse(json(l, n));
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new ProbeFileError(`${where}, line ${n}: not a probe item {prefix, suffix, answer, distance, bin}: ${issuePath(issue)}${issue.message}`);
    }
    if (!languages.includes(r.data.answer)) {
      throw new ProbeFileError(`${where}, line ${n}: the answer ${JSON.stringify(r.data.answer)} is not one of the header's languages`);
    }
    items.push(r.data);
  }
  if (items.length === 0) throw new ProbeFileError(`${where} has a header but no items`);
  return {
    languages,
    bins: h.data.bins ?? [],
    pairs: h.data.pairs ?? [],
    trainingDistance: h.data.trainingDistance ?? null,
    items,
  };
}

function issuePath(issue: z.core.$ZodIssue): string {
  return issue.path.length ? `${issue.path.join('.')}: ` : '';
}

/** The names a warm-up line must not contain: every country and language of the set. */
export function namesIn(line: string, set: Pick<ProbeSet, 'languages' | 'pairs' | 'items'>): string[] {
  const names = new Set<string>([...set.languages, ...set.pairs.map((p) => p.country)]);
  for (const i of set.items) if (i.country) names.add(i.country);
  return [...names].filter((n) => n !== '' && line.includes(n));
}

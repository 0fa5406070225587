// The inside views' request and result, as the page and the worker carry them (src/studio/inside/types.ts).

export type { InsideRequest, InsideResult } from '../inside/types.js';

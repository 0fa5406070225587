// The inside views' request and result, as the page and the worker carry them. Until the inside
// views (src/studio/inside/) are part of this build, any request; the page shows a placeholder.

export type InsideRequest = { kind: string } & Record<string, unknown>;
export type InsideResult = unknown;

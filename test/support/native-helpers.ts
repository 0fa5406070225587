// The native addon as the platform loads it, or null where it does not load here.

import { nodePlatform } from '../../src/platform/node.js';
import type { NativeAddon } from '../../src/platform/platform.js';

export function nativePlatformAddon(): NativeAddon | null {
  const a = nodePlatform.native?.();
  return a === undefined || typeof a === 'string' ? null : a;
}

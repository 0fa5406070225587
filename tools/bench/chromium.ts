// Headless Chromium, as the browser tests and bench:studio drive it: Debian's chromium (or the
// one $LSTM_CHROMIUM names) through puppeteer-core, with a fresh profile each time and nothing
// that reaches for the network on its own (updates, sync, QUIC), so that a test can assert the
// page asks for nothing outside its origin.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

export const CHROMIUM = process.env.LSTM_CHROMIUM ?? '/usr/bin/chromium';

/** Starts headless Chromium on a profile of its own: a new temporary folder, removed by the
 *  browser's close() (or when it fails to start). */
export async function launchChromium(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'lstm-chromium-'));
  const forget = () => rmSync(profile, { recursive: true, force: true, maxRetries: 3 });
  try {
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`],
    });
    // Removed once the browser has exited (close() waits for its processes), not on
    // 'disconnected', when they may still be writing their caches there.
    const close = browser.close.bind(browser);
    browser.close = async () => {
      try {
        await close();
      } finally {
        forget();
      }
    };
    return browser;
  } catch (e) {
    forget();
    throw e;
  }
}

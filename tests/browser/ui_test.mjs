// End-to-end browser test of the Lookout operators' UI against a running `lookout serve`.
// Drives the system Chromium (headless, through puppeteer-core, which downloads no browser):
// search-as-you-type, crops loading, the detail view with its box, keyboard open/close,
// "find similar" and back. Prints one JSON summary line; exit 0 = pass, 1 = fail.
//
// usage: node ui_test.mjs --url http://127.0.0.1:PORT --key KEY --query "man in a black jacket"
//        [--chromium /usr/bin/chromium] [--timeout-ms 30000] [--screenshot-dir DIR]

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import puppeteer from 'puppeteer-core';

const { values: options } = parseArgs({
  options: {
    url: { type: 'string' },
    key: { type: 'string' },
    query: { type: 'string', default: 'man in a black jacket' },
    chromium: { type: 'string', default: process.env.CHROMIUM || '/usr/bin/chromium' },
    'timeout-ms': { type: 'string', default: '30000' },
    'screenshot-dir': { type: 'string' },
    'type-delay-ms': { type: 'string', default: '60' },
  },
});

if (!options.url || !options.key) {
  console.error('usage: node ui_test.mjs --url http://127.0.0.1:PORT --key KEY --query "man in a black jacket"');
  process.exit(2);
}

const baseUrl = options.url.replace(/\/+$/, '');
const timeoutMs = Number(options['timeout-ms']);
const typeDelayMs = Number(options['type-delay-ms']);
const byTestId = (id) => `[data-testid="${id}"]`;

// What went wrong in the page, collected while the steps run and checked at the end.
const consoleErrors = [];
const failedRequests = [];
let step = 'launching chromium';
let browser;

/** Search-as-you-type aborts superseded requests and re-rendered grids drop pending lazy images: those are expected. */
function isExpectedFailure(errorText) {
  return errorText === 'net::ERR_ABORTED';
}

/** The key travels in image URLs; keep it out of the printed report. */
function redact(text) {
  return String(text).split(options.key).join('<key>');
}

async function screenshot(page, name) {
  if (!options['screenshot-dir'] || !page) return;
  mkdirSync(options['screenshot-dir'], { recursive: true });
  await page.screenshot({ path: join(options['screenshot-dir'], `${name}.png`) }).catch(() => {});
}

/** Waits for the grid to show `query`'s answer with at least one card; returns the card count. */
async function waitForResultsOf(page, query) {
  await page.waitForFunction(
    (expected) => {
      const grid = document.getElementById('results-grid');
      return grid && grid.dataset.query === expected && grid.querySelectorAll('[data-testid="result"]').length > 0;
    },
    { timeout: timeoutMs, polling: 50 },
    query,
  );
  return page.$$eval(byTestId('result'), (cards) => cards.length);
}

/** The crops of the cards on screen (lazy ones further down may rightly not load yet) must all decode. */
async function checkVisibleCropsLoaded(page) {
  await page.waitForFunction(
    () => {
      const crops = [...document.querySelectorAll('[data-testid="result"] img')].filter((img) => {
        const rect = img.getBoundingClientRect();
        return rect.bottom > 0 && rect.top < innerHeight;
      });
      return crops.length > 0 && crops.every((img) => img.complete);
    },
    { timeout: timeoutMs, polling: 100 },
  );
  const crops = await page.$$eval('[data-testid="result"] img', (images) => images
    .filter((img) => { const rect = img.getBoundingClientRect(); return rect.bottom > 0 && rect.top < innerHeight; })
    .map((img) => ({ src: img.currentSrc, width: img.naturalWidth, height: img.naturalHeight })));
  const broken = crops.filter((crop) => !(crop.width > 0));
  if (broken.length) throw new Error(`${broken.length} of ${crops.length} visible crops did not load: ${broken[0].src}`);
  return crops.length;
}

/** The detail view is open, its frame decoded, and the box is drawn inside the displayed frame. */
async function checkDetailView(page, expectedId) {
  await page.waitForSelector(`${byTestId('detail')}[open]`, { visible: true, timeout: timeoutMs });
  await page.waitForFunction(
    () => { const img = document.querySelector('[data-testid="detail-frame"]'); return img && img.complete && img.getAttribute('src'); },
    { timeout: timeoutMs, polling: 100 },
  );
  const view = await page.evaluate(() => {
    const img = document.querySelector('[data-testid="detail-frame"]');
    const box = document.querySelector('[data-testid="detail-box"]');
    const rect = (el) => { const r = el.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; };
    return {
      naturalWidth: img.naturalWidth,
      frame: rect(img),
      box: box && !box.hidden ? rect(box) : null,
      text: document.querySelector('[data-testid="detail"]').innerText,
    };
  });
  if (!(view.naturalWidth > 0)) throw new Error('the detail frame image did not load');
  if (!view.box || view.box.w < 2 || view.box.h < 2) throw new Error('the detail box is missing or empty');
  const slack = 3; // borders are drawn just outside the percentages
  const inside = view.box.x >= view.frame.x - slack && view.box.y >= view.frame.y - slack
    && view.box.x + view.box.w <= view.frame.x + view.frame.w + slack
    && view.box.y + view.box.h <= view.frame.y + view.frame.h + slack;
  if (!inside) throw new Error(`the detail box ${JSON.stringify(view.box)} lies outside the frame ${JSON.stringify(view.frame)}`);
  if (!view.text.includes(expectedId)) throw new Error(`the detail view does not show the sighting id ${expectedId}`);
}

async function run() {
  browser = await puppeteer.launch({
    executablePath: options.chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    defaultViewport: { width: 1400, height: 900 },
    protocolTimeout: timeoutMs * 4,
  });
  const page = await browser.newPage();
  page.setDefaultTimeout(timeoutMs);
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(redact(`${message.text()} ${message.location()?.url || ''}`.trim()));
  });
  page.on('pageerror', (error) => consoleErrors.push(redact(`uncaught: ${error.message}`)));
  page.on('requestfailed', (request) => {
    const errorText = request.failure()?.errorText || 'failed';
    if (!isExpectedFailure(errorText)) failedRequests.push(redact(`${request.method()} ${request.url()}: ${errorText}`));
  });
  page.on('response', (response) => {
    if (response.status() >= 400) failedRequests.push(redact(`${response.request().method()} ${response.url()}: HTTP ${response.status()}`));
  });

  try {
    step = 'opening the page';
    await page.goto(`${baseUrl}/#key=${encodeURIComponent(options.key)}`, { waitUntil: 'domcontentloaded', timeout: timeoutMs });
    await page.waitForSelector(byTestId('search-input'), { visible: true });
    const hash = await page.evaluate(() => location.hash);
    if (hash.includes('key=')) throw new Error('the key was left in the address bar');
    const keyBoxShown = await page.$eval(byTestId('key-input'), (input) => input.offsetParent !== null);
    if (keyBoxShown) throw new Error('the key box is shown although the key came in the URL');

    step = 'waiting for the camera filter';
    await page.waitForSelector(`${byTestId('camera-filter')} input[type="checkbox"]`, { timeout: timeoutMs });

    step = 'typing the query';
    await page.focus(byTestId('search-input'));
    const typingStarted = Date.now();
    let msToFirstResults = null;
    // Notices the first card while typing is still going on, as search-as-you-type should show them.
    const firstResults = page.waitForSelector(byTestId('result'), { timeout: timeoutMs + options.query.length * typeDelayMs })
      .then(() => { msToFirstResults = Date.now() - typingStarted; });
    await page.type(byTestId('search-input'), options.query, { delay: typeDelayMs });
    const typingEnded = Date.now();

    step = 'waiting for results';
    await firstResults;
    const resultCount = await waitForResultsOf(page, options.query.trim());
    const msAfterTyping = Date.now() - typingEnded;
    const status = await page.$eval(byTestId('results-status'), (el) => el.textContent);
    if (!/total/.test(status)) throw new Error(`results-status shows no timings: "${status}"`);

    step = 'checking crops';
    const cropsChecked = await checkVisibleCropsLoaded(page);
    await screenshot(page, '1-results');

    step = 'opening the first result';
    const firstId = await page.$eval(byTestId('result'), (card) => card.dataset.id);
    if (!firstId) throw new Error('the first result card has no data-id');
    await page.click(byTestId('result'));
    await checkDetailView(page, firstId);
    await screenshot(page, '2-detail');

    step = 'closing the detail view with Escape';
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => !document.querySelector('[data-testid="detail"]').open, { timeout: timeoutMs });
    const focusedId = await page.evaluate(() => document.activeElement?.dataset?.id || null);
    if (focusedId !== firstId) throw new Error('focus did not return to the opened result after Escape');

    step = 'reopening with the keyboard';
    await page.keyboard.press('Enter');
    await checkDetailView(page, firstId);

    step = 'finding similar';
    await page.click(byTestId('find-similar'));
    await page.waitForSelector(byTestId('similar-chip'), { visible: true, timeout: timeoutMs });
    const similarCount = await waitForResultsOf(page, firstId);
    const firstSimilarId = await page.$eval(byTestId('result'), (card) => card.dataset.id);
    await checkVisibleCropsLoaded(page);
    await screenshot(page, '3-similar');

    step = 'clearing the similar chip';
    await page.click(`${byTestId('similar-chip')} button`);
    await page.waitForFunction(() => !document.querySelector('[data-testid="similar-chip"]'), { timeout: timeoutMs });
    await waitForResultsOf(page, options.query.trim());

    step = 'checking for console errors and failed requests';
    if (consoleErrors.length || failedRequests.length) {
      throw new Error(`the page reported problems: ${JSON.stringify({ consoleErrors, failedRequests })}`);
    }

    console.log(JSON.stringify({
      ok: true,
      results: resultCount,
      similar: similarCount,
      ms_to_first_results: msToFirstResults,
      ms_after_typing_to_final_results: msAfterTyping,
      crops_checked: cropsChecked,
      similar_first_is_self: firstSimilarId === firstId,
      status: redact(status),
    }));
    return 0;
  } catch (error) {
    await screenshot(page, 'failure');
    console.log(JSON.stringify({
      ok: false,
      step,
      error: redact(error.message),
      console_errors: consoleErrors,
      failed_requests: failedRequests,
    }));
    return 1;
  }
}

let exitCode = 1;
try {
  exitCode = await run();
} catch (error) {
  console.log(JSON.stringify({ ok: false, step, error: redact(error.message) }));
} finally {
  await browser?.close().catch(() => {});
}
process.exit(exitCode);

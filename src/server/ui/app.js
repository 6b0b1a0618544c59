// Lookout operators' UI: talks to the `lookout serve` JSON API from the browser.
// Search-as-you-type over written descriptions, filters, a results grid, a detail
// view with the person's box on the frame, and "find similar" from a sighting.
// Plain ES module, no framework and no build step: the daemon serves this file as-is.

const KEY_STORAGE_NAME = 'lookout.apiKey';
const SEARCH_DEBOUNCE_MS = 120;
const STATUS_REFRESH_MS = 5000;
const RELATIVE_TIME_REFRESH_MS = 30000;

const $ = (id) => document.getElementById(id);

const elements = {
  health: $('health'),
  cameraStrip: $('camera-strip'),
  changeKey: $('change-key'),
  keyBox: $('key-box'),
  keyForm: $('key-form'),
  keyInput: $('key-input'),
  keyMessage: $('key-message'),
  keyCancel: $('key-cancel'),
  searchForm: $('search-form'),
  searchInput: $('search-input'),
  resultsStatus: $('results-status'),
  queryHint: $('query-hint'),
  similarChipSlot: $('similar-chip-slot'),
  cameraChips: $('camera-chips'),
  timeFrom: $('time-from'),
  timeTo: $('time-to'),
  minScore: $('min-score'),
  minScoreValue: $('min-score-value'),
  rerank: $('rerank'),
  limit: $('limit'),
  resultsMessage: $('results-message'),
  resultsGrid: $('results-grid'),
  cardTemplate: $('result-card-template'),
  detail: $('detail'),
  detailTitle: $('detail-title'),
  detailClose: $('detail-close'),
  detailFrameWrap: $('detail-frame-wrap'),
  detailFrame: $('detail-frame'),
  detailFrameCaption: $('detail-frame-caption'),
  detailBox: $('detail-box'),
  detailCrop: $('detail-crop'),
  detailFacts: $('detail-facts'),
  findSimilar: $('find-similar'),
};

const state = {
  apiKey: '',
  knownCameraIds: [],          // order of the chips, so a refresh only rebuilds on change
  selectedCameras: new Set(),  // empty = all cameras
  similarTo: null,             // the RESULT that "find similar" started from, or null for text search
  results: [],
  detailResult: null,
  lastOpenedCard: null,        // focus goes back here when the detail view closes
  searchSequence: 0,           // increases per request; a response is shown only if it is still the latest
  searchAbort: null,           // AbortController of the request in flight
  debounceTimer: 0,
  focusFirstResultOnRender: false,
};

// ---------------------------------------------------------------- API key

/** localStorage can throw (privacy modes, file: origins); the key then lives in memory only. */
function readStoredKey() {
  try { return localStorage.getItem(KEY_STORAGE_NAME) || ''; } catch { return ''; }
}

function storeKey(key) {
  state.apiKey = key;
  try {
    if (key) localStorage.setItem(KEY_STORAGE_NAME, key);
    else localStorage.removeItem(KEY_STORAGE_NAME);
  } catch { /* memory only, see readStoredKey */ }
}

/** Takes `#key=...` from the address, then removes it so the key is not left in history or screenshots. */
function takeKeyFromFragment() {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ''));
  const key = fragment.get('key');
  if (key === null) return;
  storeKey(key.trim());
  fragment.delete('key');
  const rest = fragment.toString();
  history.replaceState(null, '', location.pathname + location.search + (rest ? `#${rest}` : ''));
}

function showKeyBox(message) {
  elements.keyMessage.textContent = message || '';
  elements.keyMessage.hidden = !message;
  // Already open (e.g. the 5 s refresh met a 401 again): keep what the operator is typing.
  if (!elements.keyBox.hidden) return;
  elements.keyBox.hidden = false;
  elements.keyInput.value = '';
  elements.keyInput.focus();
}

function hideKeyBox() {
  elements.keyBox.hidden = true;
}

// ---------------------------------------------------------------- HTTP

/** An API error with the HTTP status (0 = the request never got an answer). */
class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

/**
 * Calls the API and returns the parsed JSON body. Every failure becomes an
 * ApiError with a message fit to show an operator; an abort stays an AbortError
 * so callers can ignore it.
 */
async function apiRequest(path, { method = 'GET', body, signal, withKey = true } = {}) {
  const headers = { Accept: 'application/json' };
  if (withKey && state.apiKey) headers.Authorization = `Bearer ${state.apiKey}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: 'no-store',
    });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, `Cannot reach the Lookout daemon (${error.message}).`);
  }
  const text = await response.text();
  let payload = null;
  if (text) {
    try { payload = JSON.parse(text); } catch { /* handled below */ }
  }
  if (!response.ok) {
    const message = (payload && typeof payload.error === 'string' && payload.error)
      || `${response.status} ${response.statusText || 'error'}`.trim();
    throw new ApiError(response.status, message);
  }
  if (payload === null) throw new ApiError(response.status, `The daemon sent an unreadable answer to ${path}.`);
  return payload;
}

/** 401 asks for a key; anything else is the caller's to show. Returns true if it was handled. */
function handleAuthError(error) {
  if (error instanceof ApiError && error.status === 401) {
    showKeyBox(`The daemon refused the key: ${error.message}`);
    return true;
  }
  return false;
}

/** Image URLs carry the key as a query parameter because <img> cannot send headers. */
function imageUrl(url) {
  if (!url) return '';
  if (!state.apiKey) return url;
  return `${url}${url.includes('?') ? '&' : '?'}key=${encodeURIComponent(state.apiKey)}`;
}

// ---------------------------------------------------------------- formatting

const relativeTimeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });
const timeOnlyFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const shortDateTimeFormat = new Intl.DateTimeFormat(undefined, {
  month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
});
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
});

function isValidTime(ms) {
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0;
}

/** Local time; the date is left out for today's sightings, which are most of them. */
function formatLocalTime(ms) {
  if (!isValidTime(ms)) return '—';
  const date = new Date(ms);
  const now = new Date();
  if (date.toDateString() === now.toDateString()) return timeOnlyFormat.format(date);
  return date.getFullYear() === now.getFullYear() ? shortDateTimeFormat.format(date) : dateTimeFormat.format(date);
}

function formatFullTime(ms) {
  return isValidTime(ms) ? dateTimeFormat.format(new Date(ms)) : '—';
}

function formatRelativeTime(ms) {
  if (!isValidTime(ms)) return '';
  const seconds = Math.round((ms - Date.now()) / 1000);
  const steps = [[60, 'second'], [60, 'minute'], [24, 'hour'], [7, 'day'], [4.35, 'week'], [12, 'month']];
  let value = seconds;
  for (const [size, unit] of steps) {
    if (Math.abs(value) < size) return relativeTimeFormat.format(Math.round(value), unit);
    value /= size;
  }
  return relativeTimeFormat.format(Math.round(value), 'year');
}

function formatDuration(ms) {
  if (!(ms >= 0)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 90) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

function formatScore(score) {
  return typeof score === 'number' && Number.isFinite(score) ? score.toFixed(3) : '—';
}

function formatMs(value) {
  return typeof value === 'number' && Number.isFinite(value) ? `${value.toFixed(1)} ms` : '—';
}

function shortId(id) {
  return String(id).slice(0, 8);
}

/** A datetime-local value is local time; the Date constructor reads it as such. */
function datetimeLocalToMs(value) {
  if (!value) return undefined;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

function msToDatetimeLocal(ms) {
  const date = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`
    + `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

// ---------------------------------------------------------------- health and cameras

const CAMERA_STATE_LABELS = {
  starting: 'starting', up: 'up', reconnecting: 'reconnecting', down: 'down',
  finished: 'finished', stopped: 'stopped', stored: 'stored only',
};

async function refreshHealth() {
  try {
    const health = await apiRequest('/api/health', { withKey: false });
    const store = health.store || {};
    const points = typeof store.points === 'number' ? store.points.toLocaleString() : '?';
    elements.health.textContent = `${health.status === 'ok' ? 'Online' : `Status: ${health.status}`}`
      + ` · model ${health.model_version || '?'} · ${points} sightings`;
    elements.health.title = `Store: ${store.backend || '?'} / ${store.collection || '?'}`;
    elements.health.dataset.state = health.status === 'ok' ? 'ok' : 'warn';
  } catch (error) {
    elements.health.textContent = `Daemon unreachable: ${error.message}`;
    elements.health.title = '';
    elements.health.dataset.state = 'error';
  }
}

async function refreshCameras() {
  if (!state.apiKey) {
    renderCameraStripMessage('Cameras need an API key');
    return;
  }
  try {
    const { cameras } = await apiRequest('/api/cameras');
    renderCameraStrip(Array.isArray(cameras) ? cameras : []);
    renderCameraChips(Array.isArray(cameras) ? cameras : []);
  } catch (error) {
    if (!handleAuthError(error)) renderCameraStripMessage(`Cameras unavailable: ${error.message}`, true);
    else renderCameraStripMessage('Cameras need a valid API key', true);
  }
}

function renderCameraStripMessage(message, isError = false) {
  const span = document.createElement('span');
  span.className = isError ? 'error-text' : 'muted';
  span.textContent = message;
  elements.cameraStrip.replaceChildren(span);
}

function cameraTooltip(camera) {
  const lines = [
    `${camera.id}: ${CAMERA_STATE_LABELS[camera.state] || camera.state}`,
    `${camera.frames ?? 0} frames, ${camera.dropped ?? 0} dropped, ${camera.sightings ?? 0} sightings`,
  ];
  if (isValidTime(camera.last_frame_ms)) lines.push(`Last frame ${formatRelativeTime(camera.last_frame_ms)} (${formatFullTime(camera.last_frame_ms)})`);
  if (camera.last_error) lines.push(`Last error: ${camera.last_error}`);
  return lines.join('\n');
}

function renderCameraStrip(cameras) {
  if (cameras.length === 0) {
    renderCameraStripMessage('No cameras');
    return;
  }
  const pills = cameras.map((camera) => {
    const pill = document.createElement('span');
    pill.className = 'camera-pill';
    pill.dataset.state = camera.state;
    pill.title = cameraTooltip(camera);
    pill.tabIndex = 0; // so keyboard users can reach the tooltip text too
    pill.setAttribute('aria-label', cameraTooltip(camera).replace(/\n/g, '. '));
    const dot = document.createElement('span');
    dot.className = 'state-dot';
    dot.setAttribute('aria-hidden', 'true');
    const name = document.createElement('span');
    name.className = 'camera-name';
    name.textContent = camera.id;
    const fps = document.createElement('span');
    fps.className = 'camera-fps';
    fps.textContent = camera.state === 'up' && typeof camera.fps === 'number' ? `${camera.fps.toFixed(1)} fps` : (CAMERA_STATE_LABELS[camera.state] || camera.state);
    pill.append(dot, name, fps);
    if (camera.last_error) {
      const warning = document.createElement('span');
      warning.className = 'camera-warning';
      warning.setAttribute('aria-hidden', 'true');
      warning.textContent = '!';
      pill.append(warning);
    }
    return pill;
  });
  elements.cameraStrip.replaceChildren(...pills);
}

/** Rebuilds the filter chips only when the camera list changes, so ticks and focus survive the 5 s refresh. */
function renderCameraChips(cameras) {
  const ids = cameras.map((camera) => camera.id);
  for (const selected of [...state.selectedCameras]) {
    if (!ids.includes(selected)) state.selectedCameras.delete(selected);
  }
  if (ids.join('\n') === state.knownCameraIds.join('\n')) {
    for (const camera of cameras) {
      const chip = elements.cameraChips.querySelector(`[data-camera-id="${CSS.escape(camera.id)}"]`);
      if (chip) chip.dataset.state = camera.state;
    }
    return;
  }
  state.knownCameraIds = ids;
  if (ids.length === 0) {
    const none = document.createElement('span');
    none.className = 'muted';
    none.textContent = 'No cameras yet';
    elements.cameraChips.replaceChildren(none);
    return;
  }
  const chips = cameras.map((camera) => {
    const label = document.createElement('label');
    label.className = 'chip';
    label.dataset.cameraId = camera.id;
    label.dataset.state = camera.state;
    const checkbox = document.createElement('input');
    checkbox.type = 'checkbox';
    checkbox.value = camera.id;
    checkbox.checked = state.selectedCameras.has(camera.id);
    checkbox.addEventListener('change', () => {
      if (checkbox.checked) state.selectedCameras.add(camera.id);
      else state.selectedCameras.delete(camera.id);
      scheduleSearch(0);
    });
    const dot = document.createElement('span');
    dot.className = 'state-dot';
    dot.setAttribute('aria-hidden', 'true');
    const text = document.createElement('span');
    text.textContent = camera.id;
    label.append(checkbox, dot, text);
    return label;
  });
  elements.cameraChips.replaceChildren(...chips);
}

/** Refreshes health and cameras every few seconds; waits for one round to finish before the next. */
async function pollStatus() {
  if (!document.hidden) await Promise.all([refreshHealth(), refreshCameras()]);
  setTimeout(pollStatus, STATUS_REFRESH_MS);
}

// ---------------------------------------------------------------- filters

function selectedTimePreset() {
  return document.querySelector('input[name="time-preset"]:checked')?.value || 'all';
}

function setTimePreset(value) {
  const radio = document.querySelector(`input[name="time-preset"][value="${value}"]`);
  if (radio) radio.checked = true;
}

/** The time window in epoch ms; presets are measured back from the moment of the search. */
function timeWindow() {
  const preset = selectedTimePreset();
  if (preset === 'all') return {};
  if (preset === 'custom') {
    return { from_ms: datetimeLocalToMs(elements.timeFrom.value), to_ms: datetimeLocalToMs(elements.timeTo.value) };
  }
  return { from_ms: Date.now() - Number(preset) };
}

/** The filters shared by text and similar searches, leaving out the ones not set. */
function commonFilters() {
  const filters = { limit: Number(elements.limit.value) || 48, rerank: elements.rerank.checked };
  if (state.selectedCameras.size > 0) filters.cameras = [...state.selectedCameras];
  const { from_ms: fromMs, to_ms: toMs } = timeWindow();
  if (fromMs !== undefined) filters.from_ms = Math.round(fromMs);
  if (toMs !== undefined) filters.to_ms = Math.round(toMs);
  if (minScore() > 0) filters.min_score = minScore();
  return filters;
}

function minScore() {
  return Number(elements.minScore.value) || 0;
}

function renderMinScore() {
  const value = minScore();
  elements.minScoreValue.textContent = value > 0 ? value.toFixed(2) : 'off';
}

function validateTimeWindow() {
  if (selectedTimePreset() !== 'custom') return '';
  const { from_ms: fromMs, to_ms: toMs } = timeWindow();
  if (fromMs !== undefined && toMs !== undefined && fromMs > toMs) return 'The time window ends before it starts.';
  return '';
}

// ---------------------------------------------------------------- search

function scheduleSearch(delayMs = SEARCH_DEBOUNCE_MS) {
  clearTimeout(state.debounceTimer);
  state.debounceTimer = setTimeout(runSearch, delayMs);
}

function searchNow() {
  clearTimeout(state.debounceTimer);
  runSearch();
}

function cancelInFlightSearch() {
  if (state.searchAbort) state.searchAbort.abort();
  state.searchAbort = null;
}

/** Runs the text or similar search the current inputs describe; only the latest request's answer is shown. */
async function runSearch() {
  const sequence = ++state.searchSequence;
  cancelInFlightSearch();

  const text = elements.searchInput.value.trim();
  if (!state.similarTo && !text) {
    state.results = [];
    renderResults([]);
    delete elements.resultsGrid.dataset.query;
    setStatus('');
    setHint('');
    showResultsMessage('Type a description to search, e.g. “woman in a red coat with a black bag”.');
    return;
  }
  if (!state.apiKey) {
    showKeyBox('Enter the API key to search.');
    setStatus('An API key is needed to search.', 'error');
    return;
  }
  const timeProblem = validateTimeWindow();
  if (timeProblem) {
    setStatus(timeProblem, 'error');
    return;
  }

  const abort = new AbortController();
  state.searchAbort = abort;
  const [path, body] = state.similarTo
    ? ['/api/similar', { sighting_id: state.similarTo.id, ...commonFilters() }]
    : ['/api/search', { text, ...commonFilters() }];

  setStatus('Searching…', 'busy');
  try {
    const response = await apiRequest(path, { method: 'POST', body, signal: abort.signal });
    if (sequence !== state.searchSequence) return; // a newer search started while this one was answered
    state.searchAbort = null;
    showResponse(response, state.similarTo ? state.similarTo.id : text, body.rerank);
  } catch (error) {
    if (error.name === 'AbortError' || sequence !== state.searchSequence) return;
    state.searchAbort = null;
    state.focusFirstResultOnRender = false;
    if (handleAuthError(error)) {
      state.results = [];
      renderResults([]);
      delete elements.resultsGrid.dataset.query;
      setStatus('The API key was refused.', 'error');
      showResultsMessage('Enter a valid API key above to search.', true);
      return;
    }
    // Results of an earlier query under a failed one would be misread as its answer.
    state.results = [];
    renderResults([]);
    delete elements.resultsGrid.dataset.query;
    setHint('');
    const prefix = error.status === 403 ? 'Not allowed' : 'Search failed';
    setStatus(`${prefix}: ${error.message}`, 'error');
    showResultsMessage(`${prefix}: ${error.message}`, true);
  }
}

/** `asked` is the text (or sighting id) that was sent, recorded on the grid as data-query. */
function showResponse(response, asked, reranked) {
  const results = Array.isArray(response.results) ? response.results : [];
  state.results = results;
  renderResults(results);
  // Which request the grid answers (the text as sent, or the sighting id for similar): tests wait
  // on it, and it is taken from the request because the daemon may normalise its echo of the query.
  elements.resultsGrid.dataset.query = asked;

  const timings = response.timings_ms || {};
  const timingText = `encode ${formatMs(timings.encode)} · search ${formatMs(timings.search)}`
    + ` · rerank ${reranked ? formatMs(timings.rerank) : 'off'} · total ${formatMs(timings.total)}`;
  const countText = `${results.length} result${results.length === 1 ? '' : 's'}`
    + (typeof response.candidates === 'number' ? ` of ${response.candidates} candidates` : '');
  setStatus(`${countText} · ${timingText}`);

  const unknownWords = Array.isArray(response.unknown_words) ? response.unknown_words : [];
  setHint(unknownWords.length
    ? `Not understood, so ignored: ${unknownWords.join(', ')}. Try other words for these.`
    : '');

  if (results.length === 0) {
    showResultsMessage(state.similarTo
      ? 'No similar sightings in this time window and these cameras.'
      : 'No sightings match. Try fewer or plainer words, a wider time window, more cameras or a lower minimum score.');
  } else {
    showResultsMessage('');
  }
  if (state.focusFirstResultOnRender) {
    state.focusFirstResultOnRender = false;
    elements.resultsGrid.querySelector('.result-card')?.focus();
  }
}

function setStatus(message, kind = '') {
  elements.resultsStatus.textContent = message;
  elements.resultsStatus.dataset.kind = kind;
}

function setHint(message) {
  elements.queryHint.textContent = message;
  elements.queryHint.hidden = !message;
}

function showResultsMessage(message, isError = false) {
  elements.resultsMessage.textContent = message;
  elements.resultsMessage.hidden = !message;
  elements.resultsMessage.classList.toggle('is-error', isError);
  elements.resultsMessage.setAttribute('role', isError ? 'alert' : 'status');
}

// ---------------------------------------------------------------- results grid

function renderResults(results) {
  const cards = results.map((result, index) => {
    const item = elements.cardTemplate.content.firstElementChild.cloneNode(true);
    const card = item.querySelector('.result-card');
    card.dataset.id = result.id;
    card.dataset.index = String(index);
    const crop = item.querySelector('.crop');
    crop.alt = `Person on ${result.camera_id}`;
    crop.addEventListener('error', () => crop.classList.add('is-broken'), { once: true });
    crop.src = imageUrl(result.crop_url);
    item.querySelector('.score-badge').textContent = formatScore(result.score);
    item.querySelector('.card-camera').textContent = result.camera_id;
    const time = item.querySelector('.card-time');
    time.textContent = formatLocalTime(result.best_time_ms);
    if (isValidTime(result.best_time_ms)) time.dateTime = new Date(result.best_time_ms).toISOString();
    time.title = formatFullTime(result.best_time_ms);
    const ago = item.querySelector('.card-ago');
    ago.dataset.ms = String(result.best_time_ms);
    ago.textContent = formatRelativeTime(result.best_time_ms);
    card.setAttribute('aria-label', `Score ${formatScore(result.score)}, ${result.camera_id}, ${formatLocalTime(result.best_time_ms)}, ${ago.textContent}`);
    return item;
  });
  elements.resultsGrid.replaceChildren(...cards);
}

function refreshRelativeTimes() {
  for (const ago of elements.resultsGrid.querySelectorAll('.card-ago')) {
    ago.textContent = formatRelativeTime(Number(ago.dataset.ms));
  }
}

/** Columns of the grid as laid out now, for Up/Down navigation. */
function gridColumnCount() {
  const columns = getComputedStyle(elements.resultsGrid).gridTemplateColumns.split(' ').filter(Boolean);
  return Math.max(1, columns.length);
}

function onGridKeyDown(event) {
  const card = event.target.closest('.result-card');
  if (!card) return;
  const cards = [...elements.resultsGrid.querySelectorAll('.result-card')];
  const index = cards.indexOf(card);
  const columns = gridColumnCount();
  const moves = {
    ArrowRight: index + 1, ArrowLeft: index - 1, ArrowDown: index + columns, ArrowUp: index - columns,
    Home: 0, End: cards.length - 1,
  };
  if (!(event.key in moves)) return;
  event.preventDefault();
  if (event.key === 'ArrowUp' && index < columns) {
    elements.searchInput.focus(); // top row: Up goes back to the query
    return;
  }
  const target = cards[Math.min(cards.length - 1, Math.max(0, moves[event.key]))];
  target?.focus();
  target?.scrollIntoView({ block: 'nearest' });
}

function onGridClick(event) {
  const card = event.target.closest('.result-card');
  if (!card) return;
  const result = state.results[Number(card.dataset.index)];
  if (result) openDetail(result, card);
}

// ---------------------------------------------------------------- detail view

function openDetail(result, card) {
  state.detailResult = result;
  state.lastOpenedCard = card || null;

  elements.detailTitle.textContent = `${result.camera_id} · ${formatLocalTime(result.best_time_ms)}`;

  // The frame is reduced to thumb_width×thumb_height and thumb_bbox is in its pixels; older
  // answers may lack them, and then the full-frame box and size describe the same picture.
  const frameWidth = result.thumb_width || result.frame_width || 16;
  const frameHeight = result.thumb_height || result.frame_height || 9;
  const box = result.thumb_bbox || result.bbox;
  elements.detailFrameWrap.style.setProperty('--frame-aspect', String(frameWidth / frameHeight));
  elements.detailFrame.width = frameWidth;
  elements.detailFrame.height = frameHeight;
  elements.detailFrame.alt = `Frame from ${result.camera_id} at ${formatFullTime(result.best_time_ms)}, the person is outlined`;
  elements.detailFrameWrap.classList.remove('is-broken');
  elements.detailFrame.removeAttribute('src'); // so the previous sighting's frame never shows under the new box
  elements.detailFrame.src = imageUrl(result.frame_url);
  elements.detailFrameCaption.textContent = `Best frame, ${formatFullTime(result.best_time_ms)}`;

  // Percentages of the frame, so the box follows the image at any displayed size.
  if (box) {
    const clamp = (value) => Math.min(100, Math.max(0, value));
    const left = clamp((box.x1 / frameWidth) * 100);
    const top = clamp((box.y1 / frameHeight) * 100);
    const right = clamp((box.x2 / frameWidth) * 100);
    const bottom = clamp((box.y2 / frameHeight) * 100);
    Object.assign(elements.detailBox.style, {
      left: `${left}%`, top: `${top}%`, width: `${right - left}%`, height: `${bottom - top}%`,
    });
    elements.detailBox.hidden = false;
  } else {
    elements.detailBox.hidden = true;
  }

  elements.detailCrop.src = imageUrl(result.crop_url);
  elements.detailCrop.alt = `Crop of the person on ${result.camera_id}`;

  const facts = [
    ['Camera', result.camera_id],
    ['Track', result.track_id ?? '—'],
    ['First seen', formatFullTime(result.first_seen_ms)],
    ['Last seen', formatFullTime(result.last_seen_ms)],
    ['On camera for', formatDuration(result.last_seen_ms - result.first_seen_ms)],
    ['Best frame', `${formatFullTime(result.best_time_ms)} (${formatRelativeTime(result.best_time_ms)})`],
    ['Detector score', formatScore(result.detector_score)],
  ];
  if (typeof result.score === 'number') facts.push(['Match score', formatScore(result.score)]);
  facts.push(['Model', result.model_version || '—'], ['Sighting id', result.id]);
  elements.detailFacts.replaceChildren(...facts.flatMap(([name, value]) => {
    const term = document.createElement('dt');
    term.textContent = name;
    const definition = document.createElement('dd');
    definition.textContent = String(value);
    if (name === 'Sighting id') definition.className = 'sighting-id';
    return [term, definition];
  }));

  elements.findSimilar.disabled = false;
  if (!elements.detail.open) elements.detail.showModal();
  elements.findSimilar.focus();
}

function closeDetail() {
  if (elements.detail.open) elements.detail.close();
}

function onDetailClosed() {
  const card = state.lastOpenedCard;
  state.detailResult = null;
  state.lastOpenedCard = null;
  // The card may have been replaced by a new search meanwhile; then fall back to the query box.
  if (card && card.isConnected) card.focus();
  else if (!state.focusFirstResultOnRender) elements.searchInput.focus();
}

function startSimilarSearch() {
  const result = state.detailResult;
  if (!result) return;
  state.similarTo = result;
  state.focusFirstResultOnRender = true;
  state.lastOpenedCard = null;
  closeDetail();
  renderSimilarChip();
  searchNow();
}

function renderSimilarChip() {
  const result = state.similarTo;
  if (!result) {
    elements.similarChipSlot.replaceChildren();
    return;
  }
  const chip = document.createElement('span');
  chip.className = 'similar-chip';
  chip.dataset.testid = 'similar-chip';
  chip.dataset.id = result.id;
  const thumb = document.createElement('img');
  thumb.src = imageUrl(result.crop_url);
  thumb.alt = '';
  thumb.width = 16;
  thumb.height = 48;
  const label = document.createElement('span');
  label.textContent = `Similar to ${shortId(result.id)} (${result.camera_id})`;
  label.title = result.id;
  const clear = document.createElement('button');
  clear.type = 'button';
  clear.className = 'chip-clear';
  clear.textContent = '✕';
  clear.setAttribute('aria-label', 'Clear the similar search and return to the text search');
  clear.addEventListener('click', () => {
    clearSimilar();
    elements.searchInput.focus();
    searchNow();
  });
  chip.append(thumb, label, clear);
  elements.similarChipSlot.replaceChildren(chip);
}

function clearSimilar() {
  state.similarTo = null;
  renderSimilarChip();
}

// ---------------------------------------------------------------- wiring

function wireEvents() {
  elements.searchInput.addEventListener('input', () => {
    if (state.similarTo) clearSimilar(); // typing means the operator is back to describing someone
    scheduleSearch();
  });
  elements.searchInput.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown') {
      const first = elements.resultsGrid.querySelector('.result-card');
      if (first) {
        event.preventDefault();
        first.focus();
      }
    }
  });
  elements.searchForm.addEventListener('submit', (event) => {
    event.preventDefault();
    searchNow();
  });

  for (const radio of document.querySelectorAll('input[name="time-preset"]')) {
    radio.addEventListener('change', () => {
      if (radio.value === 'custom' && !elements.timeFrom.value && !elements.timeTo.value) {
        elements.timeFrom.value = msToDatetimeLocal(Date.now() - 3600000);
        elements.timeTo.value = msToDatetimeLocal(Date.now());
      }
      scheduleSearch(0);
    });
  }
  for (const input of [elements.timeFrom, elements.timeTo]) {
    input.addEventListener('change', () => {
      setTimePreset('custom'); // editing a date means the operator wants exactly that window
      scheduleSearch(0);
    });
  }
  elements.minScore.addEventListener('input', () => {
    renderMinScore();
    scheduleSearch();
  });
  elements.rerank.addEventListener('change', () => scheduleSearch(0));
  elements.limit.addEventListener('change', () => scheduleSearch(0));

  elements.resultsGrid.addEventListener('click', onGridClick);
  elements.resultsGrid.addEventListener('keydown', onGridKeyDown);

  elements.detailClose.addEventListener('click', closeDetail);
  elements.detail.addEventListener('close', onDetailClosed);
  // A click on the backdrop lands on the dialog element itself; close like Escape does.
  elements.detail.addEventListener('click', (event) => {
    if (event.target === elements.detail) closeDetail();
  });
  elements.detailFrame.addEventListener('error', () => {
    if (elements.detailFrame.getAttribute('src')) elements.detailFrameWrap.classList.add('is-broken');
  });
  elements.findSimilar.addEventListener('click', startSimilarSearch);

  elements.changeKey.addEventListener('click', () => showKeyBox(''));
  elements.keyCancel.addEventListener('click', () => {
    hideKeyBox();
    elements.searchInput.focus();
  });
  elements.keyForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = elements.keyInput.value.trim();
    if (!key) {
      elements.keyMessage.textContent = 'Enter a key.';
      elements.keyMessage.hidden = false;
      return;
    }
    storeKey(key);
    hideKeyBox();
    refreshCameras();
    elements.searchInput.focus();
    searchNow();
  });
  window.addEventListener('hashchange', () => {
    if (!location.hash.includes('key=')) return;
    takeKeyFromFragment();
    hideKeyBox();
    refreshCameras();
    searchNow();
  });
}

function start() {
  takeKeyFromFragment();
  state.apiKey = state.apiKey || readStoredKey();
  wireEvents();
  renderMinScore();
  if (!state.apiKey) showKeyBox('Enter the API key to use Lookout.');
  else elements.searchInput.focus();
  pollStatus();
  setInterval(refreshRelativeTimes, RELATIVE_TIME_REFRESH_MS);
  runSearch(); // shows the empty-query hint, or searches a query the browser restored
}

start();

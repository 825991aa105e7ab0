// What the browser tests share: the real `rostergate serve --demo` on a
// fresh SQLite file (it seeds the demo district and prints the sign-in),
// real headless Chromium, and helpers to sign in, record every request a
// page (or its worker) sends, and make sample files.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { before, after } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const bin = process.env.ROSTERGATE_BIN ?? join(root, 'target/debug/rostergate');
export const screenshots = join(root, 'artifacts/screenshots');
export const fixture = (name, file = 'users.csv') => join(root, 'tests/fixtures', name, file);
export const expected = (name) => JSON.parse(readFileSync(fixture(name, 'expected.json'), 'utf8'));

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--disable-dev-shm-usage'];

/** The header line of users.csv. */
export const USERS_HEADER = 'action,schoolId,userId,userRole,userFirstName,userLastName,userEmail,userGrade,userDistrictId,userStateId,classId,className,classGrade,classDisplayName,isPrimaryTeacher';

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Starts the server on a fresh SQLite database. Resolves to
 * { url, email, password, databaseFile, log(), stop() }; log() is all it
 * wrote to stderr so far.
 */
export async function startServer() {
  const dir = tempDir('rostergate-browser-');
  const databaseFile = join(dir, 'roster.db');
  const server = spawn(bin, [
    'serve', '--demo', '--bind', '127.0.0.1:0',
    '--database', `sqlite://${databaseFile}`,
    '--dist', join(root, 'dist'), '--public', join(root, 'public'),
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  server.stdout.on('data', (chunk) => { log += chunk; });
  server.stderr.on('data', (chunk) => { log += chunk; });
  const started = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 120_000);
    const check = () => {
      const running = log.match(/running at (http:\/\/[^/\s]+)\//);
      const signIn = log.match(/sign in as (\S+) with the password (\S+)/);
      if (running && signIn) {
        clearTimeout(timer);
        resolve({ url: running[1], email: signIn[1], password: signIn[2] });
      }
    };
    server.stdout.on('data', check);
    server.stderr.on('data', check);
    server.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${log}`)));
  });
  return {
    ...started,
    databaseFile,
    log: () => log,
    stop: () => server.kill(),
  };
}

/**
 * One server and one browser for a test file: started before its tests
 * (handed to `started`), stopped after them.
 */
export function serverAndBrowserForTests(started) {
  let server;
  let browser;
  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    started(server, browser);
  });
  after(async () => {
    await browser?.close();
    server?.stop();
  });
}

export async function launchBrowser() {
  mkdirSync(screenshots, { recursive: true });
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/**
 * A new page in its own context, recording every request the page and its
 * worker send (bodies decompressed when gzip).
 */
export async function newPage(browser) {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  const requests = [];
  context.on('request', (request) => {
    const buffer = request.postDataBuffer();
    let body = '';
    if (buffer) {
      const gzip = (request.headers()['content-encoding'] ?? '') === 'gzip';
      body = (gzip ? gunzipSync(buffer) : buffer).toString('utf8');
    }
    requests.push({ method: request.method(), url: request.url(), headers: request.headers(), body });
  });
  return { context, page, requests };
}

/** Signs in through the form and waits for the Upload page. */
export async function signIn(page, server) {
  await page.goto(`${server.url}/upload`);
  await page.getByLabel('Email').fill(server.email);
  await page.getByLabel('Password').fill(server.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Upload', level: 1 }).waitFor();
  // The upload box opens once the activation gate is known to be open.
  await page.waitForFunction(() => !document.querySelector('#users-file')?.disabled);
}

/** Waits until the validator is done and returns its verdict element. */
export async function verdict(page) {
  await page.locator('.status[data-stage="done"]').waitFor({ timeout: 120_000 });
  return page.locator('.verdict');
}

/** Chooses users.csv (and demographics.csv) in the labelled pickers. */
export async function chooseFiles(page, users, demographics) {
  if (demographics) {
    await page.getByLabel('demographics.csv', { exact: true }).setInputFiles(demographics);
  }
  await page.getByLabel('users.csv', { exact: true }).setInputFiles(users);
}

/** The count of one entity × outcome in the report on screen. */
export async function reportCount(page, entity, outcome) {
  const cell = page.locator(`.upload-report table.counts-table >> nth=0`)
    .locator(`tr[data-entity="${entity}"] td[data-outcome="${outcome}"]`);
  return Number((await cell.textContent()).replace(/,/g, ''));
}

/** `rostergate sample` into a fresh folder; returns the folder. */
export function sample(students, extra = []) {
  const dir = tempDir('rostergate-sample-');
  execFileSync(bin, ['sample', '--students', String(students), '--out', dir, ...extra]);
  return dir;
}

/** A minimal RFC 4180 reader: rows of cells. */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell); rows.push(row); row = []; cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

/**
 * Gives the demo district every school of a sample's schools.csv (through
 * the admin's API in the page's context), so that only the damage is an
 * error; resolves to the district's school IDs.
 */
export async function addSchools(page, server, schoolsCsv) {
  const signedIn = await page.request.post(`${server.url}/api/auth/sign-in`, {
    data: { email: server.email, password: server.password },
  });
  const { csrfToken } = await signedIn.json();
  const known = new Set((await (await page.request.get(`${server.url}/api/schools`)).json()).map((s) => s.schoolId));
  for (const [schoolId, name, lowGrade, highGrade] of parseCsv(readFileSync(schoolsCsv, 'utf8')).slice(1)) {
    if (known.has(schoolId)) continue;
    const created = await page.request.post(`${server.url}/api/schools`, {
      headers: { 'X-CSRF-Token': csrfToken },
      data: { schoolId, name, lowGrade, highGrade },
    });
    assert.ok(created.ok(), await created.text());
  }
  return (await (await page.request.get(`${server.url}/api/schools`)).json()).map((s) => s.schoolId);
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe's violations (its default rules: WCAG A and AA, best practice) inside `selector`. */
export async function axeViolations(page, selector) {
  await page.evaluate(axeSource);
  return page.evaluate(async (selector) => {
    const result = await window.axe.run(document.querySelector(selector));
    return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
  }, selector);
}

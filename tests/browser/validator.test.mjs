// The browser app in real headless Chromium, served by the real
// `rostergate serve` (SQLite in a fresh folder): files are validated in the
// page with the WebAssembly build of the schema crate, and nothing is sent.
//
//   node --test tests/browser/   (after scripts/build-frontend.sh and a
//   `cargo build -p backend`; ROSTERGATE_BIN names the binary)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = process.env.ROSTERGATE_BIN ?? join(root, 'target/debug/rostergate');
const screenshots = join(root, 'artifacts/screenshots');
const fixture = (name, file = 'users.csv') => join(root, 'tests/fixtures', name, file);
const expected = (name) => JSON.parse(readFileSync(fixture(name, 'expected.json'), 'utf8'));

let server;
let baseUrl;
let browser;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rostergate-browser-'));
  server = spawn(bin, [
    'serve', '--bind', '127.0.0.1:0',
    '--database', `sqlite://${join(dir, 'roster.db')}`,
    '--dist', join(root, 'dist'), '--public', join(root, 'public'),
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  baseUrl = await new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 60_000);
    server.stderr.on('data', (chunk) => {
      log += chunk;
      const match = log.match(/running at (http:\/\/[^/\s]+)\//);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    server.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${log}`)));
  });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage'],
  });
  mkdirSync(screenshots, { recursive: true });
});

after(async () => {
  await browser?.close();
  server?.kill();
});

/** Opens the app, recording every request the page sends. */
async function openApp() {
  const page = await browser.newPage();
  const requests = [];
  page.on('request', (request) => requests.push({
    method: request.method(), url: request.url(), body: request.postData() ?? '',
  }));
  await page.goto(`${baseUrl}/`);
  await page.getByRole('heading', { name: 'Check a users.csv' }).waitFor();
  return { page, requests };
}

test('a file with row problems shows its findings, and nothing is sent', async () => {
  const { page, requests } = await openApp();
  const before = requests.length;
  await page.getByLabel('users.csv', { exact: true }).setInputFiles(fixture('row-problems'));
  const verdict = page.locator('.verdict');
  await verdict.waitFor();
  assert.equal(await verdict.getAttribute('data-valid'), 'false');
  const report = expected('row-problems');
  const errors = page.locator('dl.counts div', { hasText: 'Errors' }).locator('dd');
  assert.equal(Number(await errors.textContent()), report.stats.errors);
  const rows = page.locator('table.findings tbody tr');
  assert.equal(await rows.count(), report.findings.length);
  assert.match(await rows.first().textContent(), /grade-ignored-for-staff/);
  await page.screenshot({ path: join(screenshots, 'validator-row-problems.png'), fullPage: true });
  // The privacy promise: validating sends nothing at all.
  assert.deepEqual(requests.slice(before), []);
  await page.close();
});

test('a clean file with its demographics is valid', async () => {
  const { page } = await openApp();
  await page.getByLabel('demographics.csv (optional)').setInputFiles(fixture('clean', 'demographics.csv'));
  await page.getByLabel('users.csv', { exact: true }).setInputFiles(fixture('clean'));
  const verdict = page.locator('.verdict');
  await verdict.waitFor();
  assert.equal(await verdict.getAttribute('data-valid'), 'true');
  assert.match(await verdict.textContent(), /Valid: no errors were found/);
  await page.screenshot({ path: join(screenshots, 'validator-clean.png'), fullPage: true });
  await page.close();
});

test('a private marker in a row with an error never leaves the page', async () => {
  const { page, requests } = await openApp();
  const marker = 'Canary7QX';
  const dir = mkdtempSync(join(tmpdir(), 'rostergate-canary-'));
  const file = join(dir, 'users.csv');
  writeFileSync(file, [
    'schoolId,userId,userRole,userFirstName,userLastName,userEmail,userGrade',
    `0042,U1,student,${marker},Kim,not-an-email,05`,
    '0042,A1,administrator,Al,Ng,al@x.org,',
  ].join('\n'));
  await page.getByLabel('users.csv', { exact: true }).setInputFiles(file);
  await page.locator('.verdict').waitFor();
  assert.match(await page.locator('table.findings').textContent(), /invalid-email/);
  for (const request of requests) {
    assert.ok(!request.url.includes(marker) && !request.body.includes(marker), `${request.method} ${request.url}`);
  }
  await page.close();
});

test('the generated data dictionary and templates are served', async () => {
  const page = await browser.newPage();
  const template = await page.request.get(`${baseUrl}/public/templates/users.csv`);
  assert.equal(template.status(), 200);
  assert.match(await template.text(), /^\uFEFFaction,schoolId,userId,/);
  const health = await page.request.get(`${baseUrl}/api/health`);
  assert.equal((await health.json()).status, 'ok');
  await page.close();
});

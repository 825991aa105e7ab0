// The app under the server's real Content-Security-Policy: every page the
// app routes (read from frontend/src/app/mod.rs, so a new page is covered),
// and the sign-in, loaded in headless Chromium (which enforces the policy;
// nothing bypasses it), with a validation, an errors CSV, a Process and an
// Apply on the Upload page so that the worker and both wasm modules run
// under it. Any `securitypolicyviolation` event, on the page or in a
// worker, and any console message about the policy fails the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  root, fixture, serverAndBrowserForTests, newPage, signIn, verdict, chooseFiles, tempDir,
  USERS_HEADER,
} from './support.mjs';

let server;
let browser;
serverAndBrowserForTests((s, b) => { server = s; browser = b; });

/** The app's routes: `Route::X => "/path"` in frontend/src/app/mod.rs. */
function appRoutes() {
  const source = readFileSync(join(root, 'frontend/src/app/mod.rs'), 'utf8');
  const paths = [...source.matchAll(/Route::\w+ => "(\/[^"]*)"/g)].map((m) => m[1]);
  assert.ok(paths.length >= 6, `routes found: ${paths}`);
  return [...new Set(paths)];
}

/** Records violations from the page, its workers and the console. */
async function watch(context, page) {
  const violations = [];
  const describe = (where, e) => `${where}: ${e.effectiveDirective ?? e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile ?? ''}:${e.lineNumber ?? ''} ${e.sample ?? ''}`;
  await context.exposeBinding('__cspViolation', (_source, event) => violations.push(describe('page', event)));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolation({
        effectiveDirective: e.effectiveDirective, blockedURI: e.blockedURI, sourceFile: e.sourceFile,
        lineNumber: e.lineNumber, sample: e.sample,
      });
    });
  });
  const workers = [];
  page.on('worker', (worker) => {
    workers.push(worker);
    // Listening as early as the worker lets us; the console check below
    // also hears what happens before.
    worker.evaluate(() => {
      self.__cspViolations = [];
      self.addEventListener('securitypolicyviolation', (e) => {
        self.__cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`);
      });
    }).catch(() => {});
  });
  page.on('console', (message) => {
    if (/Content[- ]Security[- ]Policy|Refused to/i.test(message.text())) violations.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => {
    if (/Content[- ]Security[- ]Policy|EvalError|Refused to/i.test(error.message)) violations.push(`error: ${error.message}`);
  });
  const fromWorkers = async () => {
    for (const worker of workers) {
      const found = await worker.evaluate(() => self.__cspViolations ?? []).catch(() => []);
      violations.push(...found.map((v) => `worker ${worker.url()}: ${v}`));
    }
    return violations;
  };
  return { violations, fromWorkers };
}

test('every page of the app runs under the server\'s Content-Security-Policy without a violation', async () => {
  const { context, page } = await newPage(browser);
  const { violations, fromWorkers } = await watch(context, page);

  // The sign-in page, with the policy the server really sends.
  const first = await page.goto(`${server.url}/`);
  const policy = first.headers()['content-security-policy'];
  assert.match(policy, /script-src 'self' 'wasm-unsafe-eval' 'sha256-/);
  assert.doesNotMatch(policy, /'unsafe-eval'|script-src[^;]*'unsafe-inline'/);
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  await signIn(page, server);

  // Upload: a file with errors (findings table, errors CSV made in the
  // worker), then a clean one through Process and Apply.
  await chooseFiles(page, fixture('row-problems'));
  await verdict(page);
  await page.locator('table.findings tbody tr:not(.spacer)').first().waitFor();
  await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download users-errors.csv' }).click(),
  ]);
  const dir = tempDir('rostergate-csp-');
  const clean = join(dir, 'users.csv');
  writeFileSync(clean, [
    USERS_HEADER,
    ',0002,CSP-T1,teacher,Ines,Vogt,ines.vogt@maplevalley.example.org,,,,CSP-C1,Chess,06,,TRUE',
    ',0002,CSP-S1,student,Oli,Berg,oli.berg@maplevalley.example.org,06,,,CSP-C1,Chess,06,,',
  ].join('\n') + '\n');
  await chooseFiles(page, clean);
  assert.equal(await (await verdict(page)).getAttribute('data-valid'), 'true');
  await page.getByRole('button', { name: 'Process file' }).click();
  await page.getByRole('button', { name: 'Apply changes' }).click();
  await page.locator('.upload-report[data-committed="true"]').waitFor({ timeout: 60_000 });
  await fromWorkers();
  assert.deepEqual(violations, [], 'on the Upload page');

  // Every route, loaded by its address (the app starts there) and used.
  for (const path of appRoutes()) {
    const response = await page.goto(`${server.url}${path}`);
    assert.equal(response.headers()['content-security-policy'], policy, path);
    await page.locator('main h1').waitFor();
    await page.waitForLoadState('networkidle');
    if (path === '/students') {
      await page.getByText('Download your data').click();
      await page.getByRole('button', { name: /^Edit / }).first().click();
      await page.locator('form.edit-user').waitFor();
    } else if (path === '/organizations') {
      await page.getByRole('button', { name: 'Add a school' }).click();
      await page.locator('form.school-form h2', { hasText: 'Add a school' }).waitFor();
    } else if (path === '/history') {
      await page.getByRole('button', { name: 'Report' }).first().click();
      await page.locator('.history-report .upload-report').waitFor();
    }
    assert.deepEqual(violations, [], `on ${path}`);
  }
  await fromWorkers();
  assert.deepEqual(violations, []);
  await page.context().close();
});

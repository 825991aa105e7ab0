// The browser app end to end in real headless Chromium against the real
// server on SQLite: sign in, validate in the worker, process (preview, then
// commit), roster pages and downloads. Screenshots go to
// artifacts/screenshots/ for review.
//
//   node --test tests/browser/   (after scripts/build-frontend.sh and a
//   `cargo build -p backend`; ROSTERGATE_BIN names the binary)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  bin, fixture, screenshots, serverAndBrowserForTests, newPage, signIn, verdict, chooseFiles,
  reportCount, sample, tempDir, USERS_HEADER, parseCsv, axeViolations,
} from './support.mjs';

let server;
let browser;
serverAndBrowserForTests((s, b) => { server = s; browser = b; });

const shot = (page, name) => page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });

/** Requests to the API made after index `from`. */
const apiCalls = (requests, from) => requests.slice(from).filter((r) => r.url.includes('/api/'));

/** Process file → preview → apply; returns when the final report shows. */
async function processAndCommit(page) {
  await page.getByRole('button', { name: 'Process file' }).click();
  await page.locator('.upload-report[data-committed="false"]').waitFor({ timeout: 120_000 });
  await page.getByRole('button', { name: 'Apply changes' }).click();
  await page.locator('.upload-report[data-committed="true"]').waitFor({ timeout: 120_000 });
}

/** Opens "Download your data" on the roster page shown, saves one link's file. */
async function downloadYourData(page, link, file) {
  await page.locator('table.roster tbody tr').first().waitFor();
  await page.getByText('Download your data').click();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: link }).click(),
  ]);
  await download.saveAs(file);
}

/** Uploads `file` on the Upload page to its preview, which must hold no change at all. */
async function previewHasNoChanges(page, file) {
  await page.getByRole('link', { name: 'Upload' }).click();
  await page.waitForFunction(() => !document.querySelector('#users-file')?.disabled);
  await chooseFiles(page, file);
  assert.equal(await (await verdict(page)).getAttribute('data-valid'), 'true');
  await page.getByRole('button', { name: 'Process file' }).click();
  await page.locator('.upload-report[data-committed="false"]').waitFor({ timeout: 120_000 });
  for (const entity of ['staff', 'students', 'classes', 'enrollments']) {
    for (const outcome of ['created', 'updated', 'removed', 'errors']) {
      assert.equal(await reportCount(page, entity, outcome), 0, `${entity} ${outcome}`);
    }
  }
  assert.equal(await page.locator('.upload-report details.changes').count(), 0);
}

test('sign in: a wrong password is refused with a message, the right one opens the app', async () => {
  const { page } = await newPage(browser);
  await page.goto(`${server.url}/`);
  await page.getByLabel('Email').fill(server.email);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.form-problem', { hasText: /./ }).waitFor();
  await shot(page, 'sign-in');
  await signIn(page, server);
  for (const name of ['Upload', 'Students', 'Staff', 'Classes', 'Organizations', 'History']) {
    assert.ok(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).isVisible(), name);
  }
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  await page.context().close();
});

test('a header problem is shown at once, the file is refused, and nothing is sent', async () => {
  const { page, requests } = await newPage(browser);
  await signIn(page, server);
  const from = requests.length;
  await chooseFiles(page, fixture('header-problems'));
  const problems = page.locator('.header-problems.refused');
  await problems.waitFor();
  assert.match(await problems.textContent(), /users\.csv is refused/);
  // Every offending header is listed, with a did-you-mean where one exists.
  const items = await problems.locator('li').allTextContents();
  assert.ok(items.length >= 2, items.join('\n'));
  assert.ok(items.some((t) => /Did you mean/i.test(t)), items.join('\n'));
  await verdict(page);
  assert.equal(await page.getByRole('button', { name: 'Process file' }).count(), 0);
  await shot(page, 'upload-header-problems');
  assert.deepEqual(apiCalls(requests, from), []);
  await page.context().close();
});

test('row problems: findings by code, a filterable table, and the errors CSV made in the browser', async () => {
  const { page, requests } = await newPage(browser);
  await signIn(page, server);
  const from = requests.length;
  await chooseFiles(page, fixture('row-problems'));
  const result = await verdict(page);
  assert.equal(await result.getAttribute('data-valid'), 'false');

  // The same report as the command line with the district's schools.
  const dir = tempDir('rostergate-cli-');
  try {
    execFileSync(bin, ['validate', '--format', 'csv', '--schools', '0001,0002,0003', '--out', dir, fixture('row-problems')]);
  } catch (error) {
    assert.equal(error.status, 1, 'the CLI exits 1 on errors');
  }

  const errors = Number((await page.locator('dd[data-count="errors"]').textContent()).replace(/,/g, ''));
  assert.ok(errors > 0);
  const byCode = await page.locator('table.by-code tbody tr').allTextContents();
  assert.ok(byCode.length > 0);

  // Filter: errors only.
  const rows = page.locator('table.findings tbody tr:not(.spacer)');
  const all = await rows.count();
  await page.getByLabel('Severity').selectOption('error');
  const onlyErrors = await rows.count();
  assert.ok(onlyErrors < all, `${onlyErrors} < ${all}`);
  for (const cls of await rows.evaluateAll((trs) => trs.map((tr) => tr.className))) {
    assert.equal(cls, 'severity-error');
  }
  await page.getByLabel('Severity').selectOption('');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download users-errors.csv' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'users-errors.csv');
  const downloaded = readFileSync(await download.path());
  const fromCli = readFileSync(join(dir, 'users-errors.csv'));
  assert.equal(downloaded.toString('utf8'), fromCli.toString('utf8'));
  assert.ok(downloaded.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])), 'UTF-8 BOM');
  await shot(page, 'upload-row-problems');
  assert.deepEqual(apiCalls(requests, from), []);
  await page.context().close();
});

/** A small clean roster in the demo district's first school. */
function cleanRoster() {
  const dir = tempDir('rostergate-clean-');
  const file = join(dir, 'users.csv');
  writeFileSync(file, [
    USERS_HEADER,
    ',0001,BT-T1,teacher,Ada,Byron,ada.byron@maplevalley.example.org,,,,BT-C1,Robotics,05,,TRUE',
    ',0001,BT-S1,student,Ben,Ortiz,ben.ortiz@maplevalley.example.org,05,,,BT-C1,Robotics,05,,',
    ',0001,BT-S2,student,Cleo,Nakamura,cleo.n@maplevalley.example.org,05,,,BT-C1,Robotics,05,,',
    ',0001,BT-S3,student,Dev,Patel,dev.patel@maplevalley.example.org,05,,,BT-C1,Robotics,05,,',
  ].join('\r\n') + '\r\n');
  return file;
}

test('a clean file: preview, commit, report counts; the same file again gives only no changes', async () => {
  const { page, requests } = await newPage(browser);
  await signIn(page, server);
  const file = cleanRoster();
  await chooseFiles(page, file);
  assert.equal(await (await verdict(page)).getAttribute('data-valid'), 'true');
  assert.match(await page.locator('.process-summary').textContent(), /9 records will be sent.*0 rows are held back/);
  await page.getByRole('button', { name: 'Process file' }).click();
  await page.locator('.upload-report[data-committed="false"]').waitFor({ timeout: 60_000 });
  assert.equal(await reportCount(page, 'students', 'created'), 3);
  await shot(page, 'upload-preview');
  await page.getByRole('button', { name: 'Apply changes' }).click();
  await page.locator('.upload-report[data-committed="true"]').waitFor({ timeout: 60_000 });
  assert.equal(await reportCount(page, 'students', 'created'), 3);
  assert.equal(await reportCount(page, 'staff', 'created'), 1);
  assert.equal(await reportCount(page, 'classes', 'created'), 1);
  assert.equal(await reportCount(page, 'enrollments', 'created'), 4);
  await shot(page, 'upload-report');
  // The records went in gzip parts through a staged upload.
  const parts = requests.filter((r) => r.method === 'PUT' && /\/api\/uploads\/staged\/[^/]+\/users\/0$/.test(r.url));
  assert.equal(parts.length, 1);
  assert.match(parts[0].body, /BT-S3/);

  await chooseFiles(page, file);
  // A new check clears the last report.
  await page.locator('.upload-report').waitFor({ state: 'detached' });
  await verdict(page);
  await processAndCommit(page);
  for (const entity of ['staff', 'students', 'classes', 'enrollments']) {
    assert.equal(await reportCount(page, entity, 'created'), 0, entity);
    assert.equal(await reportCount(page, entity, 'updated'), 0, entity);
  }
  assert.equal(await reportCount(page, 'students', 'unchanged'), 3);

  await page.getByRole('link', { name: 'History' }).click();
  const history = page.locator('table.history tbody tr');
  await history.first().waitFor();
  assert.ok(await history.count() >= 2);
  await shot(page, 'history');
  await page.context().close();
});

test('download students, upload that file: only no changes', async () => {
  const { page } = await newPage(browser);
  await signIn(page, server);
  await page.getByRole('link', { name: 'Students' }).click();
  const file = join(tempDir('rostergate-download-'), 'users.csv');
  await downloadYourData(page, 'Students only (users.csv)', file);
  await shot(page, 'students');
  await previewHasNoChanges(page, file);
  assert.ok(await reportCount(page, 'students', 'unchanged') > 1000);
  await page.context().close();
});

test('selected users download as a users.csv; classes and organizations pages', async () => {
  const { page } = await newPage(browser);
  await signIn(page, server);
  await page.getByRole('link', { name: 'Staff' }).click();
  const rows = page.locator('table.roster tbody tr');
  await rows.first().waitFor();
  await rows.nth(0).getByRole('checkbox').check();
  await rows.nth(1).getByRole('checkbox').check();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download selected as users.csv' }).click(),
  ]);
  const text = readFileSync(await download.path(), 'utf8');
  const ids = new Set(text.trim().split(/\r?\n/).slice(1).map((line) => line.split(',')[2]));
  assert.equal(ids.size, 2, text);

  await page.getByRole('link', { name: 'Classes' }).click();
  await page.locator('table.roster tbody tr').first().waitFor();
  await shot(page, 'classes');
  await page.getByRole('link', { name: 'Organizations' }).click();
  await page.locator('.gate-open').waitFor();
  await shot(page, 'organizations');
  await page.context().close();
});

test('the worker keeps the page responsive: a large file can be cancelled while it is read', async () => {
  const dir = sample(150000);
  const { page } = await newPage(browser);
  await signIn(page, server);
  // Every stage the status goes through, in order.
  await page.evaluate(() => {
    window.stages = [];
    const status = document.querySelector('.status');
    new MutationObserver(() => {
      const stage = status.getAttribute('data-stage');
      if (window.stages.at(-1) !== stage) window.stages.push(stage);
    }).observe(status, { attributes: true, attributeFilter: ['data-stage'] });
  });
  await chooseFiles(page, join(dir, 'users.csv'));
  await page.locator('.status[data-stage="reading"]').waitFor();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.locator('.status[data-stage="cancelled"]').waitFor();
  const stages = await page.evaluate(() => window.stages);
  assert.deepEqual(stages.filter((s) => s !== 'reading'), ['cancelled'], stages.join(' → '));
  await page.context().close();
});

test('a demographics.csv alone is refused with a message, and nothing is checked', async () => {
  const { page } = await newPage(browser);
  await signIn(page, server);
  await page.getByLabel('demographics.csv', { exact: true }).setInputFiles(fixture('clean', 'demographics.csv'));
  await page.locator('.status', { hasText: 'choose the users.csv too' }).waitFor();
  assert.equal(await page.locator('.status').getAttribute('data-stage'), 'idle');
  await page.context().close();
});

test("an admin edits a student's names and email; a bad email is refused with the file's rule", async () => {
  const { page } = await newPage(browser);
  await signIn(page, server);
  await page.getByRole('link', { name: 'Students' }).click();
  await page.getByLabel('Search').fill('BT-S1');
  await page.getByLabel('Search').press('Enter');
  const row = page.locator('table.roster tbody tr', { hasText: 'BT-S1' });
  await row.waitFor();
  await row.getByRole('button', { name: /^Edit / }).click();
  await page.getByLabel('Email').fill('not-an-email');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('.edit-user .form-problem', { hasText: /./ }).waitFor();
  await page.getByLabel('First name').fill('Benedict');
  await page.getByLabel('Email').fill('benedict.ortiz@maplevalley.example.org');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('table.roster tbody tr', { hasText: 'Benedict Ortiz' }).waitFor();
  assert.match(await page.locator('table.roster tbody tr', { hasText: 'BT-S1' }).textContent(), /benedict\.ortiz@/);
  await page.context().close();
});

test('an admin creates an embed token on the Organizations page, sees it once, and revokes it', async () => {
  const { page } = await newPage(browser);
  await signIn(page, server);
  await page.getByRole('link', { name: 'Organizations' }).click();
  await page.getByLabel('Label').fill('Partner portal');
  await page.getByLabel('Expires in (days)').fill('30');
  await page.getByLabel('Allowed origins (one per line)').fill('https://portal.example.org');
  const removals = page.getByLabel('Allow removals');
  assert.equal(await removals.isChecked(), false, 'removals are off unless asked for');
  await removals.check();
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = page.locator('.new-token code.token');
  await token.waitFor();
  assert.match(await token.textContent(), /^\S{20,}$/);
  const row = page.locator('.embed-tokens tbody tr', { hasText: 'Partner portal' });
  await row.locator('td[data-status="active"]').waitFor();
  assert.match(await row.textContent(), /https:\/\/portal\.example\.org/);
  assert.equal(await row.locator('td[data-allow-removals]').textContent(), 'allowed');
  assert.equal(await removals.isChecked(), false, 'the form starts over');
  await shot(page, 'organizations-embed-token');
  await row.getByRole('button', { name: 'Revoke Partner portal' }).click();
  await row.locator('td[data-status="revoked"]').waitFor();
  await page.context().close();
});

test('a preview with many changes lists them a page at a time', async () => {
  // A larger sample of the same district: many of the demo's students change.
  const dir = sample(22000);
  const { page } = await newPage(browser);
  await signIn(page, server);
  await chooseFiles(page, join(dir, 'users.csv'));
  await verdict(page);
  await page.getByRole('button', { name: 'Process file' }).click();
  await page.locator('.upload-report[data-committed="false"]').waitFor({ timeout: 120_000 });
  const summary = page.locator('details.changes > summary');
  assert.match(await summary.textContent(), /\(200 of [\d,]+\)/);
  await page.getByRole('button', { name: 'Show more changes' }).click();
  await page.locator('details.changes > summary', { hasText: '(400 of' }).waitFor();
  assert.equal(await page.locator('details.changes > ul > li').count(), 400);
  await page.context().close();
});

test("a preview's many server findings: only the rows in view are rendered, later pages come from the server", async () => {
  // The demo's users under new IDs: each is a stored user's ID corrected,
  // or has a stored user's email; a finding per user.
  const rows = parseCsv(readFileSync(join(sample(1800), 'users.csv'), 'utf8'));
  const idAt = rows[0].indexOf('userId');
  const cell = (c) => (/[",\r\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c);
  const renamed = rows.map((row, i) => (i === 0 ? row : row.map((c, j) => (j === idAt ? `${c}N` : c))));
  const file = join(tempDir('rostergate-emails-'), 'users.csv');
  writeFileSync(file, `${renamed.map((row) => row.map(cell).join(',')).join('\r\n')}\r\n`);

  const { page, requests } = await newPage(browser);
  await signIn(page, server);
  await chooseFiles(page, file);
  assert.equal(await (await verdict(page)).getAttribute('data-valid'), 'true');
  await page.getByRole('button', { name: 'Process file' }).click();
  await page.locator('.upload-report[data-committed="false"]').waitFor({ timeout: 120_000 });
  const table = page.locator('table.server-findings');
  const total = Number(await table.getAttribute('aria-rowcount')) - 1;
  assert.ok(total > 1000, `${total} findings: more than the first page`);
  assert.match(await table.locator('caption').textContent(), new RegExp(`\\(${total.toLocaleString('en-US')}\\)`));
  assert.ok(await table.locator('tbody tr:not(.spacer)').count() < 60, 'only the rows in view');
  // Scrolled to the end: the last rows, from a later page of the server's.
  await page.getByRole('region', { name: 'Found by the server' }).evaluate((el) => { el.scrollTop = el.scrollHeight; });
  const last = table.locator(`tbody tr[aria-rowindex="${total + 1}"]`);
  await last.locator('code').waitFor();
  assert.match(await last.locator('code').textContent(), /^[a-z-]+$/);
  assert.match(await last.locator('td').first().textContent(), /N$/, 'a key from this file');
  const pages = requests.filter((r) => r.method === 'POST' && /\/preview$/.test(r.url) && /"findingsOffset":[1-9]/.test(r.body ?? ''));
  assert.ok(pages.length >= 1, 'a later page was fetched');
  assert.ok(await table.locator('tbody tr:not(.spacer)').count() < 60, 'still only the rows in view');
  assert.deepEqual(await axeViolations(page, '.server-findings-scroll'), []);
  await shot(page, 'preview-server-findings');
  await page.context().close();
});

test('values that look like formulas are stored as validated and come back from Download your data as no changes', async () => {
  const dir = tempDir('rostergate-formulas-');
  const file = join(dir, 'users.csv');
  // ''=x reads as '=x (the guard read back); the others are stored as written.
  writeFileSync(file, [
    USERS_HEADER,
    ',0001,-5,student,Ann,Lee,+ann@x.org,05,,,FX-C1,=Algebra,05,@home,',
    ',0001,FX-T1,teacher,Tess,Ray,tess.ray@maplevalley.example.org,,,,FX-C1,=Algebra,05,@home,TRUE',
    ",0001,FX-S2,student,Bo,Kim,bo.kim@maplevalley.example.org,05,,,FX-C2,''=x,05,,",
    ",0001,FX-T1,teacher,Tess,Ray,tess.ray@maplevalley.example.org,,,,FX-C2,''=x,05,,TRUE",
  ].join('\n') + '\n');
  const { page } = await newPage(browser);
  await signIn(page, server);
  await chooseFiles(page, file);
  assert.equal(await (await verdict(page)).getAttribute('data-valid'), 'true');
  await processAndCommit(page);
  assert.equal(await reportCount(page, 'students', 'created'), 2);

  const stored = await (await page.request.get(`${server.url}/api/roster/users?q=-5`)).json();
  const ann = stored.items.find((u) => u.userId === '-5');
  assert.equal(ann?.email, '+ann@x.org', JSON.stringify(stored.items));
  const classes = await (await page.request.get(`${server.url}/api/roster/classes?q=FX-C`)).json();
  assert.deepEqual(classes.items.map((c) => c.name).sort(), ["'=x", '=Algebra']);

  await page.getByRole('link', { name: 'Students' }).click();
  const again = join(dir, 'downloaded-users.csv');
  await downloadYourData(page, 'All students and staff (users.csv)', again);
  // The file is for people: the guard is in front of every such value.
  const text = readFileSync(again, 'utf8');
  for (const guarded of [",'-5,", ",'+ann@x.org,", ",'=Algebra,", ",''=x,", ",'@home,"]) {
    assert.ok(text.includes(guarded), guarded);
  }
  await previewHasNoChanges(page, again);
  await page.context().close();
});

// Last: it closes the activation gate for the district.
test('a school without an ID closes batch upload: the upload box says why and which school', async () => {
  const { page } = await newPage(browser);
  await signIn(page, server);
  await page.getByRole('link', { name: 'Organizations' }).click();
  await page.getByRole('button', { name: 'Add a school' }).click();
  await page.getByLabel('Name').fill('Riverside Annex');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('.gate-closed', { hasText: 'Riverside Annex' }).waitFor();
  await page.getByRole('link', { name: 'Upload' }).click();
  // The box first says it is checking the gate; wait for the verdict.
  const reason = page.locator('.validator .gate-closed', { hasText: 'Riverside Annex' });
  await reason.waitFor();
  assert.match(await reason.textContent(), /Batch upload is closed until every school has a unique school ID/);
  assert.equal(await page.getByLabel('users.csv', { exact: true }).isDisabled(), true);
  assert.equal(await page.locator('.drop-zone').getAttribute('aria-disabled'), 'true');
  await shot(page, 'upload-gate-closed');
  await page.context().close();
});

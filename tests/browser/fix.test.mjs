// Fix in browser, end to end on a generated district of about 100,000 rows
// with 2 % damaged student rows (damage.csv lists each damaged row and its
// finding): five rows fixed by typing, one bulk fix, one suggested fix for
// every row with the same finding, undo and redo, the corrected download
// checked by `rostergate validate`, processing it (through a lost
// connection and "Retry", which sends only the parts the server lacks),
// and no request carrying a value of a row that still has errors. Then a
// header refused for a misspelled column, accepted after one "Rename to".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  bin, screenshots, serverAndBrowserForTests, newPage, signIn, verdict, chooseFiles, sample,
  tempDir, USERS_HEADER, parseCsv, addSchools, axeViolations,
} from './support.mjs';

let server;
let browser;
serverAndBrowserForTests((s, b) => { server = s; browser = b; });

/** The count of errors on the page. */
async function errorsShown(page) {
  return Number((await page.locator('dd[data-count="errors"]').textContent()).replace(/,/g, ''));
}

/** The revision of the edits the grid shows. */
async function revision(page) {
  return Number(await page.locator('section.fixing').getAttribute('data-revision'));
}

/** Waits until a change after revision `from` is made and checked. */
async function settled(page, from) {
  await page.waitForFunction((from) => {
    const section = document.querySelector('section.fixing');
    return Number(section?.getAttribute('data-revision')) > from &&
      section.getAttribute('data-up-to-date') === 'true';
  }, from, { timeout: 60_000 });
}

/** `rostergate validate --format json` of a file (exit 1 on errors is fine). */
function cliReport(file, schools) {
  try {
    return JSON.parse(execFileSync(bin, ['validate', '--format', 'json', '--schools', schools.join(','), file], { encoding: 'utf8', maxBuffer: 1 << 28 }));
  } catch (error) {
    assert.equal(error.status, 1, error.stderr);
    return JSON.parse(error.stdout);
  }
}

/** Shows the rows of one code and brings the one at `index` of them into view. */
async function showRow(page, code, index) {
  await page.getByLabel('Show rows', { exact: true }).selectOption(`code:${code}`);
  await page.locator('.grid-scroll').evaluate((el, top) => { el.scrollTop = top; }, Math.max(0, index * 36 - 72));
}

/** Types `value` into a cell: click, Enter, type, Enter. */
async function typeInto(page, cell, value) {
  await cell.click();
  await page.keyboard.press('Enter');
  const editor = page.locator('.fix-grid .cell-editor');
  await editor.fill(value);
  await editor.press('Enter');
}

test('fix in browser: typed fixes, a bulk fix, a suggested fix, undo and redo, download, process', async () => {
  const dir = sample(22000, ['--errors', '0.02']);
  const users = join(dir, 'users.csv');
  const damage = parseCsv(readFileSync(join(dir, 'damage.csv'), 'utf8')).slice(1)
    .map(([file, row, code, column]) => ({ file, row: Number(row), code, column }));
  const { page, requests } = await newPage(browser);
  const crashes = [];
  page.on('pageerror', (error) => crashes.push(error.message));
  await signIn(page, server);
  const schools = await addSchools(page, server, join(dir, 'schools.csv'));
  await page.reload();
  await page.waitForFunction(() => !document.querySelector('#users-file')?.disabled);
  const original = cliReport(users, schools);

  await chooseFiles(page, users);
  await verdict(page);
  const fromChoice = requests.length;
  assert.equal(await errorsShown(page), original.stats.errors);
  await page.getByRole('button', { name: 'Fix in browser' }).click();
  const grid = page.getByRole('grid', { name: 'Rows to fix' });
  await grid.waitFor();
  await page.locator('.fix-grid td[data-row]').first().waitFor();

  // 1. Five rows fixed by typing, each row's only error the damage.
  const errorsOf = new Map();
  for (const f of original.findings) {
    if (f.severity === 'error' && f.row) errorsOf.set(f.row, (errorsOf.get(f.row) ?? 0) + 1);
  }
  const repairs = {
    'invalid-email': (v) => v.replace(' at ', '@'),
    'invalid-grade': (v) => v.replace('Grade ', ''),
    'invalid-name': (v) => v.slice(1),
    'invalid-id': (v) => v.replaceAll(' ', '-'),
    'invalid-role': () => 'student',
  };
  let errors = await errorsShown(page);
  const fixed = [];
  for (const [code, repair] of Object.entries(repairs)) {
    const rowsOfCode = [...new Set(original.findings.filter((f) => f.code === code).map((f) => f.row))].sort((a, b) => a - b);
    const index = rowsOfCode.findIndex((row) => errorsOf.get(row) === 1 && damage.some((d) => d.row === row && d.code === code));
    const { row, column } = damage.find((d) => d.row === rowsOfCode[index] && d.code === code);
    await showRow(page, code, index);
    const cell = grid.locator(`td[data-row="${row}"][data-column="${column}"]`);
    await cell.waitFor();
    assert.match(await cell.getAttribute('class'), /problem/, `${code} row ${row} is marked`);
    const value = await cell.locator('.value').textContent();
    const from = await revision(page);
    await typeInto(page, cell, repair(value));
    await settled(page, from);
    errors -= 1;
    assert.equal(await errorsShown(page), errors, `${code} on row ${row}: its one finding is gone`);
    // The fixed row stays in view until the filter is applied again.
    await grid.locator(`td[data-row="${row}"][data-column="${column}"]:not(.problem)`).waitFor();
    fixed.push(row);
  }
  await page.getByRole('button', { name: 'Apply filter again' }).click();
  await grid.locator(`td[data-row="${fixed.at(-1)}"]`).first().waitFor({ state: 'detached' });
  await page.screenshot({ path: join(screenshots, 'fix-grid.png') });
  const violations = await axeViolations(page, 'section.fixing');
  assert.deepEqual(violations, [], violations.join('\n'));

  // 2a. A bulk fix: find and replace in classId, with its preview.
  const spaced = damage.filter((d) => d.code === 'invalid-id').length - 1;
  await page.getByText('Bulk fixes').click();
  const replace = page.getByRole('group', { name: 'Find and replace' });
  await replace.getByLabel('Column').selectOption({ label: 'classId' });
  await replace.getByLabel('Find').fill(' ');
  await replace.getByLabel('Replace with').fill('-');
  await replace.locator('.preview', { hasText: `${spaced.toLocaleString('en-US')} cells will change` }).waitFor();
  let from = await revision(page);
  await replace.getByRole('button', { name: 'Replace all' }).click();
  await settled(page, from);
  errors -= spaced;
  assert.equal(await errorsShown(page), errors, 'the invalid classIds are fixed');

  // 2b. A suggested fix, for every row with the same finding.
  const grades = damage.filter((d) => d.code === 'invalid-grade').length - 1;
  from = await revision(page);
  await page.getByRole('button', { name: `Fix all ${grades} invalid-grade in userGrade` }).click();
  await settled(page, from);
  assert.equal(await errorsShown(page), errors - grades);

  // 3. Undo it, and redo it (Ctrl+Z, Ctrl+Y).
  from = await revision(page);
  await page.getByRole('button', { name: 'Undo' }).click();
  await settled(page, from);
  assert.equal(await errorsShown(page), errors);
  from = await revision(page);
  await page.locator('.fix-grid td[data-row]').first().click();
  await page.keyboard.press('Control+y');
  await settled(page, from);
  errors -= grades;
  assert.equal(await errorsShown(page), errors);

  // Nothing left the browser while fixing.
  assert.deepEqual(requests.slice(fromChoice).filter((r) => r.url.includes('/api/')).map((r) => r.url), []);

  // 4. The corrected file: the command line agrees with the page.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download corrected users.csv' }).click(),
  ]);
  const corrected = join(tempDir('rostergate-corrected-'), 'users.csv');
  await download.saveAs(corrected);
  const report = cliReport(corrected, schools);
  assert.equal(report.stats.errors, errors);
  assert.equal(report.stats.warnings, Number((await page.locator('dd[data-count="warnings"]').textContent()).replace(/,/g, '')));
  // Unedited rows are as they were, byte for byte.
  const before = readFileSync(users, 'utf8').split('\n');
  const after = readFileSync(corrected, 'utf8').split('\n');
  assert.equal(after.length, before.length);
  const changedLines = after.filter((line, i) => line !== before[i]).length;
  assert.equal(changedLines, 5 + spaced + grades);

  // 5. Process it; part 1 of users.csv cannot get through at first, so
  // Process gives up and offers Retry, which sends only that part.
  let blocked = true;
  const partAnswers = [];
  page.context().on('response', (response) => {
    const part = response.url().match(/\/api\/uploads\/staged\/([^/]+)\/users\/(\d+)$/);
    if (part) partAnswers.push({ id: part[1], n: Number(part[2]), status: response.status() });
  });
  await page.context().route(/\/api\/uploads\/staged\/[^/]+\/users\/1$/, (route) => (blocked ? route.abort('connectionreset') : route.continue()));
  await page.getByRole('button', { name: 'Process file' }).click();
  await page.getByRole('button', { name: 'Retry', exact: true }).waitFor({ timeout: 60_000 });
  assert.deepEqual(partAnswers.map((a) => [a.n, a.status]), [[0, 200]], 'part 0 is stored; part 1 never arrived');
  const staged = partAnswers[0].id;
  const standing = await (await page.request.get(`${server.url}/api/uploads/staged/${staged}`)).json();
  assert.equal(standing.users.nextPart, 1);
  blocked = false;
  await page.getByRole('button', { name: 'Retry', exact: true }).click();
  await page.locator('.upload-report[data-committed="false"]').waitFor({ timeout: 120_000 });
  assert.deepEqual(partAnswers.map((a) => [a.n, a.status]), [[0, 200], [1, 200]], 'Retry sent part 1 only');
  await page.getByRole('button', { name: 'Apply changes' }).click();
  await page.locator('.upload-report[data-committed="true"]').waitFor({ timeout: 180_000 });

  // 6. No request carried a value of a row that still has errors.
  const rows = parseCsv(readFileSync(corrected, 'utf8'));
  const errorRows = new Set(report.findings.filter((f) => f.severity === 'error' && f.row).map((f) => f.row));
  const clean = new Set(rows.filter((_, i) => !errorRows.has(i + 1)).flat());
  const secrets = new Set(rows.filter((_, i) => errorRows.has(i + 1)).flat().filter((v) => v.length >= 6 && !clean.has(v)));
  assert.ok(secrets.size > 100, `${secrets.size} values only in rows with errors`);
  for (const request of requests) {
    // A part is a CSV of clean records: compare cells, not substrings.
    const cells = request.body.length > 100_000 ? new Set(parseCsv(request.body).flat()) : null;
    for (const secret of secrets) {
      const sent = request.url.includes(secret) || (cells ? cells.has(secret) : request.body.includes(secret));
      assert.ok(!sent, `${request.method} ${request.url} carries ${secret}`);
    }
  }
  assert.deepEqual(crashes, [], 'no error in the page');
  await page.context().close();
});

test('a header refused for a misspelled column is accepted after one "Rename to"', async () => {
  const file = join(tempDir('rostergate-header-'), 'users.csv');
  writeFileSync(file, [
    USERS_HEADER.replace('userRole', 'usrRole'),
    ',0001,HR-T1,teacher,Ada,Byron,hr.ada@maplevalley.example.org,,,,HR-C1,Robotics,05,,TRUE',
    ',0001,HR-S1,student,Ben,Ortiz,hr.ben@maplevalley.example.org,05,,,HR-C1,Robotics,05,,',
  ].join('\n') + '\n');
  const { page, requests } = await newPage(browser);
  const crashes = [];
  page.on('pageerror', (error) => crashes.push(error.message));
  await signIn(page, server);
  const from = requests.length;
  await chooseFiles(page, file);
  await page.locator('.header-problems.refused').waitFor();
  assert.equal(await (await verdict(page)).getAttribute('data-valid'), 'false');
  await page.getByRole('button', { name: 'Rename to userRole' }).click();
  await page.locator('.verdict[data-valid="true"]').waitFor();
  assert.equal(await page.locator('.header-problems.refused').count(), 0);
  const violations = await axeViolations(page, '.validator');
  assert.deepEqual(violations, [], violations.join('\n'));
  // The keyboard: arrows move the focus, F2 edits, Escape cancels.
  const grid = page.getByRole('grid', { name: 'Rows to fix' });
  await grid.locator('td[data-row="2"][data-column="userId"]').click();
  // The focus moves once the cell is drawn: wait for it.
  const focusIs = (want) => page.waitForFunction((want) => {
    const cell = document.activeElement;
    return `${cell.getAttribute('data-row')}/${cell.getAttribute('data-column')}` === want;
  }, want, { timeout: 5_000 });
  await page.keyboard.press('ArrowRight');
  await focusIs('2/userRole');
  await page.keyboard.press('ArrowDown');
  await focusIs('3/userRole');
  await page.keyboard.press('F2');
  await grid.locator('.cell-editor').fill('teacher');
  await page.keyboard.press('Escape');
  await grid.locator('.cell-editor').waitFor({ state: 'detached' });
  assert.equal(await grid.locator('td[data-row="3"][data-column="userRole"] .value').textContent(), 'student');
  await focusIs('3/userRole');
  // Leaving with edits neither downloaded nor processed asks first: the
  // app's own links, and unloading the page.
  const asked = [];
  const answer = async (dialog) => { asked.push(dialog.type()); await dialog.dismiss(); };
  page.on('dialog', answer);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Students' }).click();
  await page.close({ runBeforeUnload: true });
  await page.waitForFunction(() => true);
  assert.deepEqual(asked, ['confirm', 'beforeunload']);
  assert.equal(await page.getByRole('heading', { name: 'Upload', level: 1 }).count(), 1, 'still on the Upload page');
  page.off('dialog', answer);
  // The renamed file is what the download and Process use.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download corrected users.csv' }).click(),
  ]);
  assert.match(readFileSync(await download.path(), 'utf8'), /^action,schoolId,userId,userRole,/);
  assert.match(await page.locator('.process-summary').textContent(), /0 rows are held back/);
  assert.deepEqual(requests.slice(from).filter((r) => r.url.includes('/api/')), []);
  // Downloaded: leaving asks nothing.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Students' }).click();
  await page.getByRole('heading', { name: 'Students', level: 1 }).waitFor();
  assert.deepEqual(crashes, [], 'no error in the page');
  await page.context().close();
});

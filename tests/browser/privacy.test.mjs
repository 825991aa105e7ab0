// The privacy promise, checked end to end on its own fresh server: a row
// with an error that carries a unique marker is validated in the browser,
// fixed in part in the grid (another marker typed into it, a bulk fix
// previewed, the corrected file downloaded: all without a request), the
// file is processed, and neither marker appears in any request the page
// or its worker sent, in the server's log, or in the database files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  serverAndBrowserForTests, newPage, signIn, verdict, chooseFiles, reportCount, tempDir,
  USERS_HEADER,
} from './support.mjs';

let server;
let browser;
serverAndBrowserForTests((s, b) => { server = s; browser = b; });

test('a marker in a row with an error never leaves the browser', async () => {
  const marker = 'Canary7QXz';
  const dir = tempDir('rostergate-canary-');
  const users = join(dir, 'users.csv');
  writeFileSync(users, [
    USERS_HEADER,
    ',0001,PC-T1,teacher,Pat,Lee,pat.lee@maplevalley.example.org,,,,PC-C1,Art,03,,TRUE',
    ',0001,PC-S1,student,Sam,Kim,sam.kim@maplevalley.example.org,03,,,PC-C1,Art,03,,',
    // The error: the email is not an address; the marker is in the name.
    `,0001,PC-S2,student,${marker},Ng,not-an-email,03,,,PC-C1,Art,03,,`,
  ].join('\n') + '\n');
  const demographics = join(dir, 'demographics.csv');
  writeFileSync(demographics, [
    'userId,birthDate,sex,iep,section504,freeReducedLunch,homeLanguage',
    'PC-S1,2016-04-02,F,N,N,free,es',
    'PC-S2,2016-05-03,M,Y,N,free,en',
  ].join('\n') + '\n');

  const { page, requests } = await newPage(browser);
  await signIn(page, server);
  await chooseFiles(page, users, demographics);
  assert.equal(await (await verdict(page)).getAttribute('data-valid'), 'false');
  // The page shows the admin the offending row, value and all.
  assert.match(await page.locator('table.findings').textContent(), /invalid-email/);
  assert.match(await page.locator('.process-summary').textContent(), /1 row is held back/);

  // Editing: a second marker typed into the row with the error, which
  // keeps its error; a bulk fix previewed; the corrected file downloaded.
  const typed = 'Canary8TyPd';
  const beforeFixing = requests.length;
  await page.getByRole('button', { name: 'Fix in browser' }).click();
  const cell = page.getByRole('grid', { name: 'Rows to fix' }).locator('td[data-row="4"][data-column="userLastName"]');
  await cell.click();
  await page.keyboard.press('Enter');
  await page.locator('.cell-editor').fill(typed);
  await page.keyboard.press('Enter');
  await page.locator(`td[data-row="4"][data-column="userLastName"]`, { hasText: typed }).waitFor();
  await page.locator('section.fixing[data-up-to-date="true"]').waitFor();
  await page.getByText('Bulk fixes').click();
  const replace = page.getByRole('group', { name: 'Find and replace' });
  await replace.getByLabel('Column').selectOption({ label: 'userFirstName' });
  await replace.getByLabel('Find').fill(marker);
  await replace.locator('.preview', { hasText: '1 cell will change' }).waitFor();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download corrected users.csv' }).click(),
  ]);
  assert.match(readFileSync(await download.path(), 'utf8'), new RegExp(typed));
  assert.deepEqual(requests.slice(beforeFixing).map((r) => r.url).filter((url) => !url.startsWith('blob:')), [],
    'fixing sends nothing');
  assert.match(await page.locator('.process-summary').textContent(), /1 row is held back/);
  await page.getByRole('button', { name: 'Process file' }).click();
  await page.locator('.upload-report[data-committed="false"]').waitFor({ timeout: 60_000 });
  await page.getByRole('button', { name: 'Apply changes' }).click();
  await page.locator('.upload-report[data-committed="true"]').waitFor({ timeout: 60_000 });
  assert.equal(await reportCount(page, 'students', 'created'), 1);

  const sent = requests.filter((r) => r.method !== 'GET');
  assert.ok(sent.some((r) => r.body.includes('PC-S1')), 'the clean rows were sent');
  for (const request of requests) {
    assert.ok(!request.url.includes(marker), `${request.method} ${request.url}`);
    assert.ok(!request.body.includes(marker), `${request.method} ${request.url}`);
    assert.ok(!request.body.includes(typed), `${request.method} ${request.url}`);
    assert.ok(!request.body.includes('PC-S2'), `the held-back student is not sent: ${request.url}`);
  }
  assert.ok(!server.log().includes(marker) && !server.log().includes(typed), 'server log');
  for (const file of [server.databaseFile, `${server.databaseFile}-wal`, `${server.databaseFile}-journal`]) {
    if (existsSync(file)) {
      assert.ok(!readFileSync(file).includes(marker), file);
      assert.ok(!readFileSync(file).includes(typed), file);
      assert.ok(!readFileSync(file).includes('PC-S2'), file);
    }
  }
  // The database does hold the clean rows (the check above can fail).
  assert.ok(readFileSync(server.databaseFile).includes('PC-S1') ||
    (existsSync(`${server.databaseFile}-wal`) && readFileSync(`${server.databaseFile}-wal`).includes('PC-S1')));
  await page.context().close();
});

test('the generated data dictionary and templates are served', async () => {
  const { page } = await newPage(browser);
  const template = await page.request.get(`${server.url}/public/templates/users.csv`);
  assert.equal(template.status(), 200);
  assert.match(await template.text(), /^\uFEFFaction,schoolId,userId,/);
  const dictionary = await page.request.get(`${server.url}/public/data-dictionary.md`);
  assert.match(await dictionary.text(), /userEmail/);
  const health = await page.request.get(`${server.url}/api/health`);
  assert.equal((await health.json()).status, 'ok');
  await page.context().close();
});

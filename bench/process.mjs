// Browser benchmark of processing: a sample district's files (about
// 1,100,000 rows by default) validated in the app, then "Process file"
// clicked and timed until the server's preview is on screen; "Apply
// changes"; then the same files again (a re-upload, only "no changes"),
// Process → preview timed again. The district first gets the sample's
// schools, so every row is clean.
//
//   node bench/process.mjs      (after scripts/build-frontend.sh and a release build of rostergate)
//   ROSTERGATE_BIN=target/release/rostergate ROSTERGATE_BENCH_STUDENTS=22000 node bench/process.mjs
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const students = Number(process.env.ROSTERGATE_BENCH_STUDENTS ?? 243000);
// The release server unless told otherwise (support.mjs reads it on import).
process.env.ROSTERGATE_BIN ??= fileURLToPath(new URL('../target/release/rostergate', import.meta.url));
const {
  startServer, launchBrowser, newPage, signIn, chooseFiles, sample, verdict,
} = await import('../tests/browser/support.mjs');

const dir = sample(students);
const users = join(dir, 'users.csv');
const demographics = join(dir, 'demographics.csv');
const rows = readFileSync(users, 'utf8').split('\n').length - 2;
const server = await startServer();
const browser = await launchBrowser();
try {
  const { page, context } = await newPage(browser);
  await signIn(page, server);
  // The sample's schools, through the API as the signed-in admin.
  const session = await (await context.request.get(`${server.url}/api/auth/me`)).json();
  const schools = readFileSync(join(dir, 'schools.csv'), 'utf8').trim().split('\n').slice(1);
  for (const line of schools) {
    const [schoolId, name] = line.replace(/^\uFEFF/, '').split(',');
    await context.request.post(`${server.url}/api/schools`, {
      headers: { 'X-CSRF-Token': session.csrfToken },
      data: { schoolId, name: `${name} (bench)` },
    });
  }
  await page.reload();
  await page.waitForFunction(() => !document.querySelector('#users-file')?.disabled);
  for (const upload of ['first', 'again']) {
    await chooseFiles(page, users, demographics);
    await verdict(page);
    const validateMs = Number(await page.locator('.status').getAttribute('data-validate-ms'));
    const started = Date.now();
    await page.getByRole('button', { name: 'Process file' }).click();
    const apply = page.getByRole('button', { name: 'Apply changes' });
    await apply.waitFor({ timeout: 600_000 });
    const previewSeconds = (Date.now() - started) / 1000;
    const applied = Date.now();
    await apply.click();
    await page.getByRole('heading', { name: 'Report' }).waitFor({ timeout: 600_000 });
    // The server's own split (load, plan, apply) from its log.
    const server_split = server.log().split('\n')
      .filter((line) => /upload (planned|committed)|route="\/api\/uploads\/staged/.test(line))
      .map((line) => line.replace(/^.*?INFO /, ''))
      .filter((line) => !/PUT/.test(line));
    console.log(JSON.stringify({
      upload, rows, validateSeconds: +(validateMs / 1000).toFixed(2),
      processToPreviewSeconds: +previewSeconds.toFixed(2),
      applySeconds: +((Date.now() - applied) / 1000).toFixed(2),
      server: server_split.slice(-6),
    }));
  }
} finally {
  await browser.close();
  server.stop();
}

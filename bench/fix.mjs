// Browser benchmark of "Fix in browser": the time from an edit in the grid
// to new counts on the page, in headless Chromium, on sample districts of
// about 100,000 and 1,000,000 rows with 2 % damaged student rows (the
// district is given the sample's schools, so only the damage is an error).
//
//   node bench/fix.mjs            (after scripts/build-frontend.sh and a
//   ROSTERGATE_BENCH_SIZES=22000,243000 ROSTERGATE_BENCH_RUNS=5 node bench/fix.mjs   backend build)
//
// Files up to 200,000 rows are checked again after every edit: the figure
// is edit → counts. Above that, edits are collected: the figures are edit →
// grid updated, and "Check again" → counts. The page measures from the
// message to the worker to the new summary (`data-change-ms`). Last, with
// every row shown, the time from a scroll to the rows there drawn.
// ROSTERGATE_BENCH_DEBUG=1 logs each step to standard error.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  startServer, launchBrowser, newPage, signIn, chooseFiles, verdict, sample, addSchools,
} from '../tests/browser/support.mjs';

const sizes = (process.env.ROSTERGATE_BENCH_SIZES ?? '22000,243000').split(',').map(Number);
const runs = Number(process.env.ROSTERGATE_BENCH_RUNS ?? 5);

const log = (what) => process.env.ROSTERGATE_BENCH_DEBUG && console.error(what, new Date().toISOString());
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** The revision of the edits, and whether the counts are of it. */
const fixing = (page) => page.locator('section.fixing').evaluate((s) => ({
  revision: Number(s.getAttribute('data-revision')),
  upToDate: s.getAttribute('data-up-to-date') === 'true',
  changeMs: Number(s.getAttribute('data-change-ms')),
}));

const server = await startServer();
const browser = await launchBrowser();
try {
  for (const students of sizes) {
    log(`${students} students`);
    const dir = sample(students, ['--errors', '0.02']);
    const file = join(dir, 'users.csv');
    const rows = readFileSync(file, 'utf8').split('\n').length - 2;
    const { page } = await newPage(browser);
    await signIn(page, server);
    await addSchools(page, server, join(dir, 'schools.csv'));
    await page.reload();
    await page.waitForFunction(() => !document.querySelector('#users-file')?.disabled);
    await chooseFiles(page, file);
    await verdict(page);
    const validateMs = Number(await page.locator('.status').getAttribute('data-validate-ms'));
    const opened = Date.now();
    await page.getByRole('button', { name: 'Fix in browser' }).click();
    const grid = page.getByRole('grid', { name: 'Rows to fix' });
    await grid.locator('td[data-row]').first().waitFor({ timeout: 600_000 });
    const openMs = Date.now() - opened;
    const automatic = [];
    const edited = [];
    const checked = [];
    for (let run = 0; run < runs; run++) {
      log(`edit ${run}`);
      const before = await fixing(page);
      const cell = grid.locator('td[data-column="userLastName"]').first();
      const started = Date.now();
      await cell.click();
      await page.keyboard.press('Enter');
      await page.locator('.cell-editor').fill(`Bench${run}`);
      await page.keyboard.press('Enter');
      await page.waitForFunction((from) => Number(document.querySelector('section.fixing')
        .getAttribute('data-revision')) > from, before.revision, { timeout: 600_000 });
      edited.push(Date.now() - started);
      const state = await fixing(page);
      if (state.upToDate || rows <= 200_000) {
        await page.locator('section.fixing[data-up-to-date="true"]').waitFor({ timeout: 600_000 });
        automatic.push((await fixing(page)).changeMs);
      } else {
        await page.getByRole('button', { name: 'Check again' }).click();
        await page.locator('section.fixing[data-up-to-date="true"]').waitFor({ timeout: 600_000 });
        checked.push((await fixing(page)).changeMs);
      }
    }
    // Scrolling all rows: from the scroll to the middle to its rows drawn.
    await page.getByLabel('Show rows', { exact: true }).selectOption('all');
    await page.locator('section.fixing .grid-status', { hasText: /[\d,]{5,} rows shown/ }).waitFor({ timeout: 600_000 });
    const scrolls = [];
    log('all rows shown');
    for (let run = 0; run < runs; run++) {
      log(`scroll ${run}`);
      scrolls.push(await page.locator('.grid-scroll').evaluate(async (scroller, fraction) => {
        // Drawn: a row with its cells lies in the view.
        const drawn = () => {
          const view = scroller.getBoundingClientRect();
          return [...scroller.querySelectorAll('tbody tr:not(.spacer)')].some((tr) => {
            const row = tr.getBoundingClientRect();
            return row.top >= view.top + 30 && row.bottom <= view.bottom && tr.querySelector('td[data-row]');
          });
        };
        const started = performance.now();
        scroller.scrollTop = scroller.scrollHeight * fraction;
        await new Promise(requestAnimationFrame);
        while (!drawn()) await new Promise(requestAnimationFrame);
        return performance.now() - started;
      }, (run + 1) / (runs + 1)));
    }
    console.log(JSON.stringify({
      scrollToRowsDrawnMs: { median: Math.round(median(scrolls)), all: scrolls.map(Math.round) },
      rows,
      validateSeconds: +(validateMs / 1000).toFixed(2),
      openGridMs: openMs,
      ...(automatic.length ? { editToCountsMs: { median: Math.round(median(automatic)), all: automatic.map(Math.round) } } : {}),
      ...(checked.length ? {
        editToGridMs: { median: median(edited), all: edited },
        checkAgainToCountsMs: { median: Math.round(median(checked)), all: checked.map(Math.round) },
      } : {}),
    }));
    await page.context().close();
  }
} finally {
  await browser.close();
  server.stop();
}

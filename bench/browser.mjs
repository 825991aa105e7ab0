// Browser benchmark: validates sample districts of about 100,000 and
// 1,000,000 rows in the app's Web Worker in headless Chromium, and prints
// rows/s, the time from choosing the file to the header verdict, and the
// peak memory of Chromium's processes above their idle level.
//
//   node bench/browser.mjs            (after scripts/build-frontend.sh and a
//   ROSTERGATE_BENCH_SIZES=22000,243000 node bench/browser.mjs   backend build)
//
// Sizes are students per sample; 22,000 students make about 100,000 rows
// and 243,000 about 1,000,000.
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  startServer, launchBrowser, newPage, signIn, chooseFiles, sample,
} from '../tests/browser/support.mjs';

const sizes = (process.env.ROSTERGATE_BENCH_SIZES ?? '22000,243000').split(',').map(Number);
const runs = Number(process.env.ROSTERGATE_BENCH_RUNS ?? 3);

/** Resident memory of every Chromium process, in MB. */
function chromiumRssMb() {
  const out = execSync('ps -C chromium -o rss= || true', { encoding: 'utf8' });
  return out.split('\n').filter(Boolean).reduce((sum, kb) => sum + Number(kb), 0) / 1024;
}

const server = await startServer();
const browser = await launchBrowser();
try {
  for (const students of sizes) {
    const dir = sample(students);
    const file = join(dir, 'users.csv');
    const rows = readFileSync(file, 'utf8').split('\n').length - 2;
    for (let run = 1; run <= runs; run++) {
      const { page } = await newPage(browser);
      await signIn(page, server);
      const idle = chromiumRssMb();
      let peak = idle;
      const poll = setInterval(() => { peak = Math.max(peak, chromiumRssMb()); }, 50);
      await chooseFiles(page, file);
      const status = page.locator('.status[data-stage="done"]');
      await status.waitFor({ timeout: 600_000 });
      clearInterval(poll);
      const headerMs = Number(await page.locator('.status').getAttribute('data-header-ms'));
      const validateMs = Number(await page.locator('.status').getAttribute('data-validate-ms'));
      console.log(JSON.stringify({
        rows, run, validateSeconds: +(validateMs / 1000).toFixed(2),
        rowsPerSecond: Math.round(rows / (validateMs / 1000)),
        headerVerdictMs: +headerMs.toFixed(1),
        peakMemoryMb: Math.round(peak - idle),
      }));
      await page.context().close();
    }
  }
} finally {
  await browser.close();
  server.stop();
}

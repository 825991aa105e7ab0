// Browser benchmark: validates sample districts of about 100,000 and
// 1,000,000 rows in the app's Web Worker in headless Chromium, and prints
// rows/s, the time from choosing the file to the header verdict, and the
// peak memory of Chromium's processes above their idle level.
//
//   node bench/browser.mjs            (after scripts/build-frontend.sh and a
//   ROSTERGATE_BENCH_SIZES=22000,243000 node bench/browser.mjs   backend build)
//
// Sizes are students per sample; 22,000 students make about 100,000 rows
// and 243,000 about 1,000,000. ROSTERGATE_BENCH_RUNS runs per size and case
// (default 3). Two cases, each against its own server (a fresh demo
// district), one JSON line per run with its `case`:
//
// - `valid`: the district is first given every school of the sample
//   (`POST /api/schools`), as a district uploading its own file is, so
//   the file is valid and nearly every row takes the validator's usual path;
// - `unknown-schools`: the demo district as it is, which knows only a few
//   of the sample's schools, so nearly every row fails `unknown-school`
//   (the error path).
//
// ROSTERGATE_BENCH_CASES=valid (or unknown-schools) runs one of them.
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  startServer, launchBrowser, newPage, signIn, chooseFiles, sample,
} from '../tests/browser/support.mjs';

const sizes = (process.env.ROSTERGATE_BENCH_SIZES ?? '22000,243000').split(',').map(Number);
const runs = Number(process.env.ROSTERGATE_BENCH_RUNS ?? 3);
const cases = (process.env.ROSTERGATE_BENCH_CASES ?? 'valid,unknown-schools').split(',');
for (const name of cases) {
  if (!['valid', 'unknown-schools'].includes(name)) throw new Error(`unknown case ${name}`);
}

/** Resident memory of every Chromium process, in MB. */
function chromiumRssMb() {
  const out = execSync('ps -C chromium -o rss= || true', { encoding: 'utf8' });
  return out.split('\n').filter(Boolean).reduce((sum, kb) => sum + Number(kb), 0) / 1024;
}

/** The cells of one line of a CSV the sample writes (quotes, no line breaks). */
function csvCells(line) {
  const cells = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted && ch === '"' && line[i + 1] === '"') { cell += '"'; i++; }
    else if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) { cells.push(cell); cell = ''; }
    else cell += ch;
  }
  cells.push(cell);
  return cells;
}

/**
 * Signs in through the API and adds every school of the sample's
 * schools.csv that the district does not have yet. Returns how many
 * school IDs the district knows then.
 */
async function giveSchools(server, schoolsCsv) {
  const signedIn = await fetch(`${server.url}/api/auth/sign-in`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: server.email, password: server.password }),
  });
  if (!signedIn.ok) throw new Error(`sign-in: ${signedIn.status} ${await signedIn.text()}`);
  const { csrfToken } = await signedIn.json();
  const cookie = signedIn.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const headers = { Cookie: cookie, 'X-CSRF-Token': csrfToken, 'Content-Type': 'application/json' };
  const listed = await fetch(`${server.url}/api/schools`, { headers });
  if (!listed.ok) throw new Error(`schools: ${listed.status} ${await listed.text()}`);
  const known = new Set((await listed.json()).map((s) => s.schoolId).filter(Boolean));
  const [head, ...lines] = readFileSync(schoolsCsv, 'utf8').split(/\r?\n/).filter(Boolean);
  const columns = csvCells(head);
  for (const line of lines) {
    const cells = csvCells(line);
    const at = (name) => cells[columns.indexOf(name)] || null;
    if (known.has(at('schoolId'))) continue;
    const added = await fetch(`${server.url}/api/schools`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        schoolId: at('schoolId'), name: at('name'), lowGrade: at('lowGrade'), highGrade: at('highGrade'),
      }),
    });
    if (!added.ok) throw new Error(`add school: ${added.status} ${await added.text()}`);
    known.add(at('schoolId'));
  }
  return known.size;
}

/** One server per case, started when first needed. */
const servers = new Map();
async function serverFor(name) {
  if (!servers.has(name)) servers.set(name, await startServer());
  return servers.get(name);
}

const browser = await launchBrowser();
try {
  for (const students of sizes) {
    const dir = sample(students);
    const file = join(dir, 'users.csv');
    const rows = readFileSync(file, 'utf8').split('\n').length - 2;
    for (const name of cases) {
      const server = await serverFor(name);
      const knownSchools = name === 'valid'
        ? await giveSchools(server, join(dir, 'schools.csv'))
        : null;
      for (let run = 1; run <= runs; run++) {
        const { page } = await newPage(browser);
        // The Upload page hands the district's school IDs to the validator:
        // wait for them, or the file would be checked without them.
        const schoolsListed = page.waitForResponse(
          (r) => r.url().endsWith('/api/schools') && r.ok(),
          { timeout: 60_000 },
        );
        await signIn(page, server);
        const schoolIds = (await (await schoolsListed).json()).filter((s) => s.schoolId).length;
        const idle = chromiumRssMb();
        let peak = idle;
        const poll = setInterval(() => { peak = Math.max(peak, chromiumRssMb()); }, 50);
        await chooseFiles(page, file);
        const status = page.locator('.status[data-stage="done"]');
        await status.waitFor({ timeout: 600_000 });
        clearInterval(poll);
        const headerMs = Number(await page.locator('.status').getAttribute('data-header-ms'));
        const validateMs = Number(await page.locator('.status').getAttribute('data-validate-ms'));
        const errors = Number(
          (await page.locator('dd[data-count="errors"]').textContent()).replace(/\D/g, ''),
        );
        if (knownSchools !== null && schoolIds !== knownSchools) {
          throw new Error(`the page listed ${schoolIds} school IDs, the district has ${knownSchools}`);
        }
        console.log(JSON.stringify({
          rows, run, validateSeconds: +(validateMs / 1000).toFixed(2),
          rowsPerSecond: Math.round(rows / (validateMs / 1000)),
          headerVerdictMs: +headerMs.toFixed(1),
          peakMemoryMb: Math.round(peak - idle),
          case: name, schoolIds, errors,
        }));
        await page.context().close();
      }
    }
  }
} finally {
  await browser.close();
  for (const server of servers.values()) server.stop();
}

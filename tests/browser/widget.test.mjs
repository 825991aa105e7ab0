// The <roster-validator> web component on "another portal": demo/portal/
// served from its own origin (another port) loads the component from the
// real `rostergate serve`. Validate-only mode, the JavaScript API, processing
// with an embed token, refused tokens, and style isolation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import {
  root, bin, fixture, screenshots, startServer, launchBrowser, newPage, tempDir, USERS_HEADER,
} from './support.mjs';

let server;
let portal;
let portalUrl;
let browser;

before(async () => {
  server = await startServer();
  const page = readFileSync(join(root, 'demo/portal/index.html'));
  portal = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(page);
  });
  await new Promise((resolve) => portal.listen(0, '127.0.0.1', resolve));
  portalUrl = `http://127.0.0.1:${portal.address().port}`;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  portal?.close();
  server?.stop();
});

function usersFile(rows) {
  const dir = tempDir('rostergate-widget-');
  const file = join(dir, 'users.csv');
  writeFileSync(file, [USERS_HEADER, ...rows].join('\n') + '\n');
  return file;
}

/** Opens the portal with the component; resolves when it is mounted. */
async function openPortal(query = {}) {
  const opened = await newPage(browser);
  const params = new URLSearchParams({ server: server.url, ...query });
  await opened.page.goto(`${portalUrl}/?${params}`);
  await opened.page.waitForFunction(() => window.widgetLoaded === true);
  await opened.page.locator('roster-validator .drop-zone').waitFor();
  return opened;
}

/** The next event of a type the portal page has recorded. */
async function nextEvent(page, type) {
  await page.waitForFunction((t) => window.rosterEvents.some((e) => e.type === t), type, { timeout: 60_000 });
  return page.evaluate((t) => window.rosterEvents.find((e) => e.type === t), type);
}

/** An embed token for the demo district, made through the API. */
async function embedToken(allowedOrigins, { revoke = false } = {}) {
  const { context } = await newPage(browser);
  const signIn = await context.request.post(`${server.url}/api/auth/sign-in`, {
    data: { email: server.email, password: server.password },
  });
  const { csrfToken } = await signIn.json();
  const created = await context.request.post(`${server.url}/api/embed/tokens`, {
    headers: { 'X-CSRF-Token': csrfToken },
    data: { label: `test ${allowedOrigins.join(' ')}`, expiresInDays: 1, allowedOrigins },
  });
  assert.equal(created.status(), 201, await created.text());
  const token = await created.json();
  if (revoke) {
    const revoked = await context.request.delete(`${server.url}/api/embed/tokens/${token.id}`, {
      headers: { 'X-CSRF-Token': csrfToken },
    });
    assert.ok(revoked.ok());
  }
  return { token: token.token, context, csrfToken };
}

test('validate only: roster-validated has the counts, and no row data is sent anywhere', async () => {
  const marker = 'WidgetCanary42';
  const file = usersFile([
    ',0001,WV-T1,teacher,Ida,Wells,ida.wells@maplevalley.example.org,,,,WV-C1,Civics,05,,TRUE',
    ',0001,WV-S1,student,Abe,Lin,abe.lin@maplevalley.example.org,05,,,WV-C1,Civics,05,,',
    `,0001,WV-S2,student,${marker},Lin,not-an-email,05,,,WV-C1,Civics,05,,`,
  ]);
  const { page, requests } = await openPortal({ schools: '0001,0002,0003' });
  await page.getByLabel('users.csv', { exact: true }).setInputFiles(file);
  const { detail } = await nextEvent(page, 'roster-validated');
  assert.equal(detail.valid, false);
  assert.equal(detail.rows, 3);
  assert.equal(detail.heldBackRows, 1);
  assert.deepEqual(detail.byCode, { 'invalid-email': 1 });
  assert.ok(!JSON.stringify(detail).includes(marker));
  // The component shows the findings; there is nothing to process.
  assert.match(await page.locator('roster-validator table.findings').textContent(), /invalid-email/);
  assert.equal(await page.getByRole('button', { name: 'Process file' }).count(), 0);
  await page.screenshot({ path: join(screenshots, 'widget-validate-only.png'), fullPage: true });
  for (const request of requests) {
    assert.ok(!request.url.includes('/api/'), request.url);
    assert.equal(request.body, '', `${request.method} ${request.url}`);
  }
  await page.context().close();
});

test('RosterValidator.validate(file) resolves to the command line JSON report', async () => {
  const { page } = await openPortal();
  const text = readFileSync(fixture('row-problems'), 'utf8');
  const report = await page.evaluate(async (contents) => {
    const file = new File([contents], 'users.csv', { type: 'text/csv' });
    return window.RosterValidator.validate(file);
  }, text);
  let cli;
  try {
    cli = execFileSync(bin, ['validate', '--format', 'json', fixture('row-problems')], { encoding: 'utf8' });
  } catch (error) {
    assert.equal(error.status, 1);
    cli = error.stdout;
  }
  assert.deepEqual(report, JSON.parse(cli));
  await page.context().close();
});

test('with an endpoint and a token the clean records are processed and the roster changes', async () => {
  const { token, context } = await embedToken([portalUrl]);
  const file = usersFile([
    ',0002,WP-T1,teacher,Lea,Moss,lea.moss@maplevalley.example.org,,,,WP-C1,Drama,07,,TRUE',
    ',0002,WP-S1,student,Kai,Roe,kai.roe@maplevalley.example.org,07,,,WP-C1,Drama,07,,',
    ',0002,WP-S2,student,Noa,Fox,noa.fox@maplevalley.example.org,07,,,WP-C1,Drama,07,,',
  ]);
  const { page } = await openPortal({ token });
  await page.getByLabel('users.csv', { exact: true }).setInputFiles(file);
  await nextEvent(page, 'roster-validated');
  await page.getByRole('button', { name: 'Process file' }).click();
  await page.getByRole('button', { name: 'Apply changes' }).click();
  const { detail } = await nextEvent(page, 'roster-processed');
  assert.equal(detail.committed, true);
  assert.equal(detail.counts.students.created, 2);
  assert.equal(detail.counts.staff.created, 1);
  await page.screenshot({ path: join(screenshots, 'widget-processed.png'), fullPage: true });
  const users = await context.request.get(`${server.url}/api/roster/users?q=WP-S`);
  assert.equal((await users.json()).total, 2);
  const history = await (await context.request.get(`${server.url}/api/uploads`)).json();
  assert.match(history[0].fileName, /embed token/);
  await page.context().close();
  await context.close();
});

for (const [name, tokenFor] of [
  ['a token for another origin', () => embedToken(['https://elsewhere.example.org'])],
  ['a revoked token', () => embedToken([portalUrl], { revoke: true })],
]) {
  test(`${name} is refused and nothing is stored`, async () => {
    const { token, context } = await tokenFor();
    const file = usersFile([
      ',0003,WX-T1,teacher,Uma,Day,uma.day@maplevalley.example.org,,,,WX-C1,Law,10,,TRUE',
      ',0003,WX-S1,student,Eli,Ray,eli.ray@maplevalley.example.org,10,,,WX-C1,Law,10,,',
    ]);
    const { page } = await openPortal({ token });
    await page.getByLabel('users.csv', { exact: true }).setInputFiles(file);
    await nextEvent(page, 'roster-validated');
    await page.getByRole('button', { name: 'Process file' }).click();
    const { detail } = await nextEvent(page, 'roster-error');
    assert.ok(detail.message.length > 0);
    await page.locator('roster-validator .form-problem').waitFor();
    const users = await context.request.get(`${server.url}/api/roster/users?q=WX-S1`);
    assert.equal((await users.json()).total, 0);
    await page.context().close();
    await context.close();
  });
}

test("the host page's styles do not reach inside the component; its custom properties do", async () => {
  const styles = async (query) => {
    const { page } = await openPortal(query);
    const result = await page.locator('roster-validator .drop-zone').evaluate((zone) => {
      const status = zone.getRootNode().querySelector('.status');
      const pick = (el) => {
        const s = getComputedStyle(el);
        return { color: s.color, fontSize: s.fontSize, fontFamily: s.fontFamily, display: s.display, background: s.backgroundColor, border: s.borderTopColor };
      };
      return { zone: pick(zone), status: pick(status) };
    });
    await page.context().close();
    return result;
  };
  const plain = await styles({});
  const hostile = await styles({ hostile: '1' });
  assert.deepEqual(hostile, plain);
  assert.notEqual(plain.zone.display, 'none');
  // The portal sets --roster-validator-accent: #6c3483 on the element.
  assert.equal(plain.zone.border, 'rgb(108, 52, 131)');
});

test('the component fits its size budget: at most 300 KB gzipped for the JS and wasm together', () => {
  const dir = join(root, 'dist/widget');
  const files = ['roster-validator.js', 'roster-worker.js', 'roster-widget.js', 'roster-widget_bg.wasm'];
  const snippets = join(dir, 'snippets');
  for (const folder of readdirSync(snippets)) {
    for (const file of readdirSync(join(snippets, folder))) files.push(join('snippets', folder, file));
  }
  const sizes = Object.fromEntries(files.map((file) => [file, gzipSync(readFileSync(join(dir, file)), { level: 9 }).length]));
  const total = Object.values(sizes).reduce((a, b) => a + b, 0);
  console.log(`widget bundle, gzip: ${total} bytes`, sizes);
  assert.ok(total <= 300_000, `${total} bytes: ${JSON.stringify(sizes)}`);
});

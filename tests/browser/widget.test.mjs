// The <roster-validator> web component on "another portal": demo/portal/,
// served by its own host server (demo/portal/server.mjs) from its own
// origin, loads the component from the real `rostergate serve`.
// Validate-only mode, the JavaScript API, processing with an upload session
// the host server mints with its embed token (which never reaches the
// page), refused sessions, a token put in the page, and style isolation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import {
  root, bin, fixture, screenshots, startServer, launchBrowser, newPage, signIn, tempDir, USERS_HEADER,
} from './support.mjs';
import { startPortal } from '../../demo/portal/server.mjs';

const PORTAL_PASSWORD = 'portal-test-password';

let server;
let portal;
let portalUrl;
let browser;
/** The admin's API, for making and revoking tokens and reading the roster. */
let admin;
/** The portal's own embed token; live throughout, so the portal's origin
 * keeps its CORS answers while other tokens for it are revoked. */
let portalToken;

before(async () => {
  server = await startServer();
  portal = await startPortal({ server: server.url, token: null, password: PORTAL_PASSWORD });
  portalUrl = portal.url;
  browser = await launchBrowser();
  admin = await adminApi();
  portalToken = await embedToken('Northwind portal', [portalUrl]);
});

after(async () => {
  await admin?.context.close();
  await browser?.close();
  await portal?.close();
  server?.stop();
});

function usersFile(rows) {
  const dir = tempDir('rostergate-widget-');
  const file = join(dir, 'users.csv');
  writeFileSync(file, [USERS_HEADER, ...rows].join('\n') + '\n');
  return file;
}

/**
 * Opens the portal with the component; resolves when it is mounted. With
 * `signIn`, signs in to the portal first (its own form), and waits for the
 * upload session the page gets from the host server.
 */
async function openPortal(query = {}, { signIn: portalSignIn = false } = {}) {
  const opened = await newPage(browser);
  const { page } = opened;
  await page.goto(`${portalUrl}/?${new URLSearchParams(query)}`);
  if (portalSignIn) {
    await page.getByLabel('Name').fill('Pat Portal');
    await page.getByLabel('Password').fill(PORTAL_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForFunction(() => document.querySelector('roster-validator')?.getAttribute('session')?.startsWith('rgs_'));
  }
  await page.waitForFunction(() => window.widgetLoaded === true);
  await page.locator('roster-validator .drop-zone').waitFor();
  return opened;
}

/** The next event of a type the portal page has recorded. */
async function nextEvent(page, type) {
  await page.waitForFunction((t) => window.rosterEvents.some((e) => e.type === t), type, { timeout: 60_000 });
  return page.evaluate((t) => window.rosterEvents.find((e) => e.type === t), type);
}

/** A signed-in admin's API requests (cookie and CSRF token). */
async function adminApi() {
  const { context } = await newPage(browser);
  const signedIn = await context.request.post(`${server.url}/api/auth/sign-in`, {
    data: { email: server.email, password: server.password },
  });
  const { csrfToken } = await signedIn.json();
  const headers = { 'X-CSRF-Token': csrfToken };
  return {
    context,
    get: async (path) => (await context.request.get(`${server.url}${path}`)).json(),
    post: (path, data) => context.request.post(`${server.url}${path}`, { headers, data }),
    delete: (path) => context.request.delete(`${server.url}${path}`, { headers }),
  };
}

/** A new embed token for the demo district: {id, token, label}. */
async function embedToken(label, allowedOrigins) {
  const created = await admin.post('/api/embed/tokens', { label, expiresInDays: 1, allowedOrigins });
  assert.equal(created.status(), 201, await created.text());
  const { id, token } = await created.json();
  return { id, token, label };
}

async function revoke({ id }) {
  assert.ok((await admin.delete(`/api/embed/tokens/${id}`)).ok());
}

/** Whether a recorded request carries `secret` anywhere. */
const carries = (request, secret) =>
  request.url.includes(secret) || request.body.includes(secret) ||
  Object.values(request.headers).some((value) => value.includes(secret));

test('validate only: roster-validated has the counts, and no row data is sent anywhere', async () => {
  const marker = 'WidgetCanary42';
  const file = usersFile([
    ',0001,WV-T1,teacher,Ida,Wells,ida.wells@maplevalley.example.org,,,,WV-C1,Civics,05,,TRUE',
    ',0001,WV-S1,student,Abe,Lin,abe.lin@maplevalley.example.org,05,,,WV-C1,Civics,05,,',
    `,0001,WV-S2,student,${marker},Lin,not-an-email,05,,,WV-C1,Civics,05,,`,
  ]);
  portal.config.token = null;
  const { page, requests } = await openPortal({ schools: '0001,0002,0003' });
  assert.equal(await page.locator('#portal-sign-in').isVisible(), false, 'no token: nothing to sign in for');
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

test('with a session from the host server the records are processed; the token never reaches the page; History names the session', async () => {
  portal.config.token = portalToken.token;
  const file = usersFile([
    ',0002,WP-T1,teacher,Lea,Moss,lea.moss@maplevalley.example.org,,,,WP-C1,Drama,07,,TRUE',
    ',0002,WP-S1,student,Kai,Roe,kai.roe@maplevalley.example.org,07,,,WP-C1,Drama,07,,',
    ',0002,WP-S2,student,Noa,Fox,noa.fox@maplevalley.example.org,07,,,WP-C1,Drama,07,,',
  ]);
  const { page, requests } = await openPortal({}, { signIn: true });
  await page.getByLabel('users.csv', { exact: true }).setInputFiles(file);
  await nextEvent(page, 'roster-validated');
  // An upload session never removes: the component offers no full sync.
  assert.equal(await page.getByText('Full sync').count(), 0);
  await page.getByRole('button', { name: 'Process file' }).click();
  await page.getByRole('button', { name: 'Apply changes' }).click();
  const { detail } = await nextEvent(page, 'roster-processed');
  assert.equal(detail.committed, true);
  assert.equal(detail.counts.students.created, 2);
  assert.equal(detail.counts.staff.created, 1);
  await page.screenshot({ path: join(screenshots, 'widget-processed.png'), fullPage: true });
  assert.equal((await admin.get('/api/roster/users?q=WP-S')).total, 2);

  // The page and everything it sent held the session, never the token.
  assert.ok(!(await page.content()).includes(portalToken.token));
  const sent = requests.filter((r) => r.url.startsWith(server.url) && r.method !== 'OPTIONS');
  assert.ok(sent.some((r) => /^Bearer rgs_/.test(r.headers.authorization ?? '')), 'the session was sent');
  for (const request of requests) assert.ok(!carries(request, portalToken.token), request.url);

  const history = await admin.get('/api/uploads');
  const through = `upload session of embed token "${portalToken.label}"`;
  const committed = history.find((e) => e.status === 'committed' && e.credential === through);
  assert.ok(committed, JSON.stringify(history.slice(0, 4)));
  assert.equal(committed.fileName, 'users.csv');
  assert.ok(history.some((e) => e.status === 'previewed' && e.credential === through));
  assert.ok(history.some((e) => e.status === 'session-created' && e.fileName === portalUrl &&
    e.credential === `embed token "${portalToken.label}"`));
  await page.context().close();

  // The app's History page shows the status and the credential.
  const app = await newPage(browser);
  await signIn(app.page, server);
  await app.page.getByRole('link', { name: 'History' }).click();
  const row = app.page.locator('table.history tbody tr[data-status="committed"]', { hasText: through }).first();
  await row.waitFor();
  assert.match(await row.textContent(), /committed/);
  const minted = app.page.locator('table.history tbody tr[data-status="session-created"]').first();
  assert.match(await minted.textContent(), /upload session created/);
  assert.match(await minted.textContent(), new RegExp(`for ${portalUrl}`));
  await app.page.screenshot({ path: join(screenshots, 'history-embed.png'), fullPage: true });
  await app.context.close();
});

/** Waits until the last roster-validated event counts `errors` errors. */
async function errorsBecome(page, errors) {
  await page.waitForFunction((n) => {
    const validated = window.rosterEvents.filter((e) => e.type === 'roster-validated');
    return validated.at(-1)?.detail.errors === n;
  }, errors, { timeout: 60_000 });
}

test('in the component: the grid fixes a row, then processing goes on after a failed preview with Retry, each part sent once', async () => {
  portal.config.token = portalToken.token;
  const file = usersFile([
    ',0002,WF-T1,teacher,Uma,Fox,wf.uma@maplevalley.example.org,,,,WF-C1,Choir,07,,TRUE',
    ',0002,WF-S1,student,Ivo,Ray,wf.ivo@maplevalley.example.org,07,,,WF-C1,Choir,07,,',
    ',0002,WF-S2,pupil,Ada,Sun,wf.ada at maplevalley.example.org,Grade 7,,,WF-C1,Choir,07,,',
  ]);
  const { page, requests } = await openPortal({}, { signIn: true });
  const crashes = [];
  page.on('pageerror', (error) => crashes.push(error.message));
  await page.getByLabel('users.csv', { exact: true }).setInputFiles(file);
  await errorsBecome(page, 3);
  await page.getByRole('button', { name: 'Fix in browser' }).click();
  const grid = page.getByRole('grid', { name: 'Rows to fix' });
  const email = grid.locator('td[data-row="4"][data-column="userEmail"]');
  await email.click();
  await page.keyboard.press('F2');
  await grid.locator('.cell-editor').fill('wf.ada@maplevalley.example.org');
  await page.keyboard.press('Enter');
  await errorsBecome(page, 2);
  await page.getByRole('button', { name: 'Fix all 1 invalid-role in userRole' }).click();
  await errorsBecome(page, 1);
  await page.getByRole('button', { name: 'Fix all 1 invalid-grade in userGrade' }).click();
  await errorsBecome(page, 0);
  await page.screenshot({ path: join(screenshots, 'widget-fix-grid.png'), fullPage: true });

  let blocked = true;
  await page.context().route(/\/api\/uploads\/staged\/[^/]+\/preview$/, (route) => (blocked ? route.abort('connectionreset') : route.continue()));
  await page.getByRole('button', { name: 'Process file' }).click();
  const retry = page.getByRole('button', { name: 'Retry', exact: true });
  await retry.waitFor({ timeout: 60_000 });
  blocked = false;
  await retry.click();
  await page.getByRole('button', { name: 'Apply changes' }).click();
  const { detail } = await nextEvent(page, 'roster-processed');
  assert.equal(detail.counts.students.created, 2);
  const parts = requests.filter((r) => r.method === 'PUT' && /\/users\/0$/.test(r.url));
  assert.equal(parts.length, 1, 'the part was sent once');
  assert.match(parts[0].body, /wf\.ada@maplevalley\.example\.org/);
  assert.deepEqual(crashes, [], 'no error in the page');
  await page.context().close();
});

for (const [name, status, prepare] of [
  // The host mints for an origin that is not the page's.
  ['a session minted for another origin', 403, async (page) => {
    const other = await embedToken('Elsewhere', ['https://elsewhere.example.org']);
    const minted = await fetch(`${server.url}/api/embed/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${other.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ origin: 'https://elsewhere.example.org' }),
    });
    assert.equal(minted.status, 201);
    const { session } = await minted.json();
    await page.evaluate((s) => document.querySelector('roster-validator').setAttribute('session', s), session);
  }],
  // The page's session was minted with a token revoked since.
  ['a session of a revoked token', 401, async (page, token) => revoke(token)],
]) {
  test(`${name} is refused (${status}), roster-error fires and nothing is stored`, async () => {
    const token = await embedToken(`Portal, ${name}`, [portalUrl]);
    portal.config.token = token.token;
    const file = usersFile([
      ',0003,WX-T1,teacher,Uma,Day,uma.day@maplevalley.example.org,,,,WX-C1,Law,10,,TRUE',
      ',0003,WX-S1,student,Eli,Ray,eli.ray@maplevalley.example.org,10,,,WX-C1,Law,10,,',
    ]);
    const { page } = await openPortal({}, { signIn: true });
    await prepare(page, token);
    const answers = [];
    page.context().on('response', (response) => {
      if (response.request().method() === 'POST' && response.url().endsWith('/api/uploads/staged')) answers.push(response.status());
    });
    await page.getByLabel('users.csv', { exact: true }).setInputFiles(file);
    await nextEvent(page, 'roster-validated');
    await page.getByRole('button', { name: 'Process file' }).click();
    const { detail } = await nextEvent(page, 'roster-error');
    assert.ok(detail.message.length > 0);
    await page.locator('roster-validator .form-problem').waitFor();
    assert.deepEqual(answers, [status]);
    assert.equal((await admin.get('/api/roster/users?q=WX-S1')).total, 0);
    await page.context().close();
    await revoke(token).catch(() => {});
  });
}

test('an embed token put in the page is refused: an error, roster-error, and it is never sent', async () => {
  portal.config.token = null;
  const { page, requests } = await openPortal();
  const leaked = await embedToken('Published by mistake', [portalUrl]);
  const messages = await page.evaluate(async ({ endpoint, token }) => {
    const errors = [];
    // As a token attribute, and by mistake as the session.
    for (const [id, attribute] of [['with-token', 'token'], ['token-as-session', 'session']]) {
      const element = document.createElement('roster-validator');
      element.id = id;
      element.setAttribute('endpoint', endpoint);
      element.setAttribute(attribute, token);
      const heard = new Promise((resolve) => element.addEventListener('roster-error', (e) => resolve(e.detail.message)));
      document.body.append(element);
      errors.push(await heard);
    }
    return errors;
  }, { endpoint: server.url, token: leaked.token });
  for (const [index, id] of ['with-token', 'token-as-session'].entries()) {
    assert.match(messages[index], /Embed tokens stay on the host's server/);
    const element = page.locator(`roster-validator#${id}`);
    assert.match(await element.locator('.token-in-page[role="alert"]').textContent(), /needs an upload session/);
    // It still validates; it cannot process.
    await element.locator('.drop-zone').waitFor();
    assert.equal(await element.getByRole('button', { name: 'Process file' }).count(), 0);
  }
  for (const request of requests) assert.ok(!carries(request, leaked.token), request.url);
  await page.context().close();
  await revoke(leaked);
});

test("the host page's styles do not reach inside the component; its custom properties do", async () => {
  portal.config.token = null;
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

test('what loads before a file is chosen fits the budget: at most 220 KB gzipped of JS and wasm', async () => {
  portal.config.token = null;
  const { page, requests } = await openPortal();
  await page.waitForLoadState('networkidle');
  const dir = join(root, 'dist/widget');
  const gzipped = (file) => gzipSync(readFileSync(join(dir, file)), { level: 9 }).length;
  const loaded = [...new Set(requests.map((r) => r.url)
    .filter((url) => url.startsWith(`${server.url}/widget/`) && /\.(js|wasm)$/.test(url))
    .map((url) => url.slice(`${server.url}/widget/`.length)))];
  const sizes = Object.fromEntries(loaded.map((file) => [file, gzipped(file)]));
  const total = Object.values(sizes).reduce((a, b) => a + b, 0);
  const later = Object.fromEntries(['roster-widget-worker_bg.wasm', 'roster-widget-more_bg.wasm']
    .map((file) => [file, gzipped(file)]));
  console.log(`widget before a file is chosen, gzip: ${total} bytes`, sizes, 'loaded later:', later);
  assert.ok(loaded.includes('roster-widget_bg.wasm'), loaded.join(', '));
  assert.ok(!loaded.some((file) => /worker|more/.test(file)), `the worker and the grid load later: ${loaded.join(', ')}`);
  assert.ok(total <= 220_000, `${total} bytes: ${JSON.stringify(sizes)}`);
  await page.context().close();
});

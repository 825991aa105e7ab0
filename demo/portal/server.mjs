// The demo portal's own server: "another portal" that embeds RosterGate's
// <roster-validator>, the way a host site should (Node 20, no packages).
//
//   ROSTERGATE_SERVER=http://127.0.0.1:8080 ROSTERGATE_TOKEN=rge_… node demo/portal/server.mjs
//
// then open http://127.0.0.1:9000/ and sign in to the portal (the password
// is printed). The pattern it shows:
//
// - The embed token is the host's secret. It lives here, in the server's
//   environment, and is sent only to RosterGate, from this server (no
//   Origin header): never to a page. RosterGate refuses a token that comes
//   from a browser.
// - The portal signs its own users in. Only for a signed-in portal user
//   does POST /session mint an upload session (POST /api/embed/sessions,
//   for this portal's own origin): one upload, from this origin, for 15
//   minutes. The page sets it on the element: <roster-validator session=…>.
// - Without ROSTERGATE_TOKEN the page only validates: nothing leaves it.
//
// Environment: ROSTERGATE_SERVER (default http://127.0.0.1:8080),
// ROSTERGATE_TOKEN (an embed token that lists this portal's origin; none:
// validate only), PORT (9000), HOST (127.0.0.1), PORTAL_ORIGIN (the origin
// the browser sees; default http://HOST:PORT), PORTAL_PASSWORD (the demo
// sign-in's password; default: a random one, printed).
//
// Routes: GET / (index.html), GET /config ({server, processing, user}),
// POST /sign-in and /sign-out (the portal's own form sign-in, a cookie),
// POST /session (signed in: {session, expiresAt}).
import { createServer } from 'node:http';
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const INDEX = new URL('index.html', import.meta.url);
const COOKIE = 'portal_session';
/** How long a portal sign-in lasts, and an upload session (minutes). */
const SIGN_IN_MS = 8 * 60 * 60 * 1000;
const UPLOAD_SESSION_MINUTES = 15;
const MAX_FORM_BYTES = 4096;

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  // Not no-referrer: with it, browsers send `Origin: null` on same-origin posts.
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

function send(response, status, body, type = 'application/json') {
  response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': `${type}; charset=utf-8` });
  response.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
}

function cookieOf(request, name) {
  for (const pair of (request.headers.cookie ?? '').split(';')) {
    const [key, ...value] = pair.trim().split('=');
    if (key === name) return value.join('=');
  }
  return null;
}

async function readBody(request) {
  let body = '';
  for await (const chunk of request) {
    body += chunk;
    if (body.length > MAX_FORM_BYTES) throw new Error('too large');
  }
  return body;
}

function samePassword(sent, expected) {
  // Hashes, so the comparison takes the same time whatever the lengths.
  const digest = (text) => createHash('sha256').update(String(text)).digest();
  return timingSafeEqual(digest(sent), digest(expected));
}

/**
 * The portal's server. `config` ({server, token, origin, password}) is read
 * on every request; `origin` defaults to the address it listens on.
 */
export function createPortal(config) {
  /** The portal's own sign-ins: cookie value → {name, until}. */
  const signedIn = new Map();
  const portalOrigin = (server) => config.origin ?? `http://${server.address().address}:${server.address().port}`;

  const userOf = (request) => {
    const id = cookieOf(request, COOKIE);
    const user = id && signedIn.get(id);
    if (!user) return null;
    if (user.until < Date.now()) {
      signedIn.delete(id);
      return null;
    }
    return user;
  };

  const server = createServer(async (request, response) => {
    const url = new URL(request.url, 'http://portal');
    const back = `/${url.search}`;
    try {
      if (request.method === 'GET' && url.pathname === '/') {
        return send(response, 200, readFileSync(INDEX), 'text/html');
      }
      if (request.method === 'GET' && url.pathname === '/config') {
        return send(response, 200, {
          server: config.server,
          processing: Boolean(config.token),
          user: userOf(request)?.name ?? null,
        });
      }
      if (request.method !== 'POST') return send(response, 404, { message: 'Not found.' });
      // Cross-site posts are refused: the forms and the page are this origin's.
      const from = request.headers.origin;
      if (from && from !== portalOrigin(server)) {
        return send(response, 403, { message: 'This request comes from another site.' });
      }
      if (url.pathname === '/sign-in') {
        const form = new URLSearchParams(await readBody(request));
        const name = (form.get('name') ?? '').trim().slice(0, 100);
        if (!name || !samePassword(form.get('password') ?? '', config.password)) {
          return send(response, 401,
            `<!DOCTYPE html><title>Sign-in failed</title><p>Wrong name or password. <a href="${back}">Try again</a></p>`,
            'text/html');
        }
        const id = randomBytes(32).toString('hex');
        signedIn.set(id, { name, until: Date.now() + SIGN_IN_MS });
        response.writeHead(303, {
          ...SECURITY_HEADERS,
          location: back,
          'set-cookie': `${COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SIGN_IN_MS / 1000}`,
        });
        return response.end();
      }
      if (url.pathname === '/sign-out') {
        signedIn.delete(cookieOf(request, COOKIE));
        response.writeHead(303, { ...SECURITY_HEADERS, location: back, 'set-cookie': `${COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0` });
        return response.end();
      }
      if (url.pathname === '/session') {
        const user = userOf(request);
        if (!user) return send(response, 401, { message: 'Sign in to the portal first.' });
        if (!config.token) {
          return send(response, 404, { message: 'This portal has no embed token: it only validates.' });
        }
        // From this server, with the token; no Origin header, so RosterGate
        // takes the token. The page gets only the session.
        const minted = await fetch(`${config.server}/api/embed/sessions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${config.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ origin: portalOrigin(server), expiresInMinutes: UPLOAD_SESSION_MINUTES }),
        });
        const answer = await minted.json().catch(() => ({}));
        if (minted.status !== 201) {
          console.error(`RosterGate refused an upload session: ${minted.status} ${answer.code ?? ''}`);
          return send(response, 502, { message: `RosterGate refused an upload session: ${answer.message ?? minted.status}` });
        }
        console.error(`minted an upload session for portal user ${JSON.stringify(user.name)}`);
        return send(response, 200, { session: answer.session, expiresAt: answer.expiresAt });
      }
      return send(response, 404, { message: 'Not found.' });
    } catch (error) {
      console.error(`portal: ${request.method} ${url.pathname}: ${error.message}`);
      if (!response.headersSent) send(response, 500, { message: 'The portal could not answer.' });
    }
  });
  return server;
}

/** Starts the portal; resolves to {url, config, close()}. */
export async function startPortal(config, { port = 0, host = '127.0.0.1' } = {}) {
  const server = createPortal(config);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const url = `http://${host}:${server.address().port}`;
  return { url, config, close: () => new Promise((resolve) => server.close(resolve)) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const port = Number(process.env.PORT ?? 9000);
  const host = process.env.HOST ?? '127.0.0.1';
  const config = {
    server: (process.env.ROSTERGATE_SERVER ?? 'http://127.0.0.1:8080').replace(/\/+$/, ''),
    token: process.env.ROSTERGATE_TOKEN || null,
    origin: process.env.PORTAL_ORIGIN ?? `http://${host}:${port}`,
    password: process.env.PORTAL_PASSWORD || randomBytes(9).toString('base64url'),
  };
  const { url } = await startPortal(config, { port, host });
  console.log(`Demo portal at ${url}/ (RosterGate: ${config.server}; ${config.token
    ? `processing with an embed token, for the origin ${config.origin}` : 'validate only: no ROSTERGATE_TOKEN'})`);
  console.log(`Portal sign-in: any name, with the password ${config.password}`);
}

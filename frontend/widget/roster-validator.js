// <roster-validator>: RosterGate's validator as a web component.
//
//   <script type="module" src="https://rostergate.example.org/widget/roster-validator.js"></script>
//   <roster-validator schools="0001,0002"></roster-validator>                      (validate only)
//   <roster-validator endpoint="https://rostergate.example.org" session="rgs_…"></roster-validator>
//
// Files are validated in a Web Worker with the WebAssembly build of
// RosterGate's schema crate. Without `endpoint` nothing leaves the page;
// with it, only the clean records of a file are sent, with the upload
// session: a short-lived credential for one upload from this page's origin,
// which the host's own server mints with its embed token
// (POST /api/embed/sessions) for a person it has signed in. The element
// reads `session` again for each upload, so the page can set a new one.
// An embed token never belongs in a page: a `token` attribute is refused
// with an error (and roster-error), and never sent.
// Events (no personal values in roster-validated): roster-validated,
// roster-processed, roster-error.
import init, { mount_validator } from './roster-widget.js';

const base = new URL('./', import.meta.url);
// The worker is a module of its own, started when a file is chosen.
const workerUrl = new URL('roster-worker.js', base).href;
const ready = init({ module_or_path: new URL('roster-widget_bg.wasm', base) });

// The grid ("Fix in browser") and processing: a module of their own, loaded
// after the first check, so what loads with the page stays small.
let more = null;
function loadMore(container, host, worker, summary, names, backlog) {
  more ??= import(new URL('roster-widget-more.js', base).href).then(async (module) => {
    await module.default({ module_or_path: new URL('roster-widget-more_bg.wasm', base) });
    return module;
  });
  more.then((module) => module.mount_more(container, host, worker, summary, names, backlog))
    .catch((error) => host.dispatchEvent(new CustomEvent('roster-error', {
      bubbles: true, composed: true, detail: { message: `Could not load the rest of the validator: ${error.message}` },
    })));
}

class RosterValidatorElement extends HTMLElement {
  async connectedCallback() {
    if (this.shadowRoot) return;
    const root = this.attachShadow({ mode: 'open' });
    const style = document.createElement('link');
    style.rel = 'stylesheet';
    style.href = new URL('roster-validator.css', base).href;
    const container = document.createElement('div');
    container.className = 'roster-validator';
    container.setAttribute('part', 'container');
    // Shown once styled: the element's module can be ready before its
    // style sheet.
    const styled = new Promise((resolve) => { style.onload = resolve; style.onerror = resolve; });
    root.append(style, container);
    await Promise.all([ready, styled]);
    mount_validator(container, this, workerUrl, loadMore);
  }
}

/** Starts a worker from this folder, whatever the page's origin. */
function startWorker() {
  const source = `import ${JSON.stringify(workerUrl)};`;
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  return new Worker(url, { type: 'module' });
}

export const RosterValidator = {
  /**
   * Validates a users.csv (and optionally its demographics.csv) in a worker
   * and resolves to the report `rostergate validate --format json` prints:
   * { valid, findings: [{ code, severity, file, row, column, message, howToFix }], stats }.
   */
  validate(users, { demographics = null, schools = null } = {}) {
    return new Promise((resolve, reject) => {
      const worker = startWorker();
      const request = { json: JSON.stringify({ kind: 'validate', knownSchoolIds: schools, fullReport: true }), users };
      if (demographics) request.demographics = demographics;
      worker.onmessage = ({ data }) => {
        const message = JSON.parse(data.json);
        if (message.kind === 'ready') {
          worker.postMessage(request);
        } else if (message.kind === 'report') {
          delete message.kind;
          worker.terminate();
          resolve(message);
        } else if (message.kind === 'failed') {
          worker.terminate();
          reject(new Error(message.message));
        }
      };
      worker.onerror = (event) => { worker.terminate(); reject(new Error(event.message || 'the validator stopped')); };
    });
  },
};

if (!customElements.get('roster-validator')) {
  customElements.define('roster-validator', RosterValidatorElement);
}
globalThis.RosterValidator ??= RosterValidator;

// The <roster-validator> component's validation worker: a wasm module of
// its own (roster-widget-worker), which starts the worker when it loads
// (its main). The element starts this when a file is chosen.
import init from './roster-widget-worker.js';

await init({ module_or_path: new URL('roster-widget-worker_bg.wasm', import.meta.url) });

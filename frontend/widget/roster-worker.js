// The <roster-validator> component's validation worker: the component's own
// wasm module, started in worker mode (see run_worker in roster-widget.rs).
import init, { run_worker } from './roster-widget.js';

await init({ module_or_path: new URL('roster-widget_bg.wasm', import.meta.url) });
run_worker();

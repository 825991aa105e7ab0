// Times the validator's WebAssembly build in Node (see wasm_bench.rs):
//   node shared/examples/wasm_bench.mjs MODULE.wasm users.csv [schools.csv|-] [runs] [chunk]
// prints one JSON line per run: seconds (the drop of the result included),
// rows/s, errors, the seconds of the pushes and of `finish`, and the
// module's memory (the input's copy included). schools.csv (as
// `rostergate sample` writes it) gives the known school IDs; `-` none.
import { readFileSync } from 'node:fs';

const [module, usersFile, schoolsFile = '-', runs = '5', chunk = String(1 << 20)] = process.argv.slice(2);
const { instance } = await WebAssembly.instantiate(readFileSync(module), {
  bench: { now: () => performance.now() },
});
const {
  memory, bench_alloc: alloc, bench_validate: validate, bench_phase_ms: phase,
} = instance.exports;

const users = readFileSync(usersFile);
let rows = -1;
for (let at = users.indexOf(10); at !== -1; at = users.indexOf(10, at + 1)) rows++;
const schools = schoolsFile === '-' ? Buffer.alloc(0) : Buffer.from(
  readFileSync(schoolsFile, 'utf8').split(/\r?\n/).slice(1).filter(Boolean)
    .map((line) => line.split(',')[0]).join(','),
);
const put = (bytes) => {
  const at = alloc(bytes.length);
  new Uint8Array(memory.buffer, at, bytes.length).set(bytes);
  return at;
};
const usersAt = put(users);
const schoolsAt = put(schools);
for (let run = 1; run <= Number(runs); run++) {
  const start = performance.now();
  const errors = validate(usersAt, users.length, Number(chunk), schoolsAt, schools.length);
  const seconds = (performance.now() - start) / 1000;
  console.log(JSON.stringify({
    run, rows, seconds: +seconds.toFixed(3), rowsPerSecond: Math.round(rows / seconds), errors,
    pushSeconds: +(phase(0) / 1000).toFixed(3), finishSeconds: +(phase(1) / 1000).toFixed(3),
    memoryMb: Math.round(memory.buffer.byteLength / 2 ** 20),
  }));
}

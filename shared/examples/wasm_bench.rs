//! The validator in WebAssembly without a browser: a module with two
//! exports that `wasm_bench.mjs` drives in Node (the same engine as
//! Chromium), to time and profile the wasm build on its own.
//!
//!     cargo build -p shared --example wasm_bench --target wasm32-unknown-unknown --profile wasm-size
//!     node shared/examples/wasm_bench.mjs $CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-size/examples/wasm_bench.wasm users.csv [schools.csv] [runs]
//!
//! (`node --cpu-prof` gives a profile by wasm function.) Natively it only
//! prints how to build it.

use std::cell::Cell;

use shared::{Options, Validator};

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "bench")]
extern "C" {
    /// `performance.now()`, from the host.
    fn now() -> f64;
}

/// The host's clock, in milliseconds (natively none: the example only says
/// how to build it).
fn clock() -> f64 {
    #[cfg(target_arch = "wasm32")]
    // SAFETY: an import without arguments, given by `wasm_bench.mjs`.
    return unsafe { now() };
    #[cfg(not(target_arch = "wasm32"))]
    0.0
}

thread_local! {
    /// Milliseconds of the last run's pushes and of its `finish`.
    static PHASES: Cell<(f64, f64)> = const { Cell::new((0.0, 0.0)) };
}

/// Milliseconds the last `bench_validate` spent in `push_users` (phase 0)
/// or in `finish` (phase 1).
#[no_mangle]
pub extern "C" fn bench_phase_ms(phase: u32) -> f64 {
    let (push, finish) = PHASES.with(Cell::get);
    if phase == 0 {
        push
    } else {
        finish
    }
}

/// Room for `len` bytes (the file, or the known school IDs) that the host
/// then writes into; never freed (one run of a benchmark).
#[no_mangle]
pub extern "C" fn bench_alloc(len: usize) -> *mut u8 {
    Vec::<u8>::with_capacity(len).leak().as_mut_ptr()
}

/// Validates `len` bytes at `users` in chunks of `chunk` bytes, with the
/// known school IDs `schools` (comma-separated, `schools_len` bytes; none
/// when 0); returns the number of errors (`bench_phase_ms` then gives the
/// phases' times).
///
/// # Safety
/// `users` and `schools` hold that many bytes, written by the host.
#[no_mangle]
pub unsafe extern "C" fn bench_validate(
    users: *const u8,
    len: usize,
    chunk: usize,
    schools: *const u8,
    schools_len: usize,
) -> f64 {
    // SAFETY: the host wrote these bytes (see `# Safety`).
    let (users, schools) = unsafe {
        (
            std::slice::from_raw_parts(users, len),
            std::slice::from_raw_parts(schools, schools_len),
        )
    };
    let known_school_ids = (schools_len > 0).then(|| {
        String::from_utf8_lossy(schools)
            .split(',')
            .map(String::from)
            .collect()
    });
    let mut validator = Validator::new(Options {
        known_school_ids,
        ..Options::default()
    });
    let start = clock();
    for piece in users.chunks(chunk.max(1)) {
        validator.push_users(piece);
    }
    let pushed = clock();
    let validated = validator.finish();
    PHASES.with(|phases| phases.set((pushed - start, clock() - pushed)));
    let errors = validated.report.stats.errors as f64;
    // Freed outside the phases timed (the worker keeps them).
    drop(validated);
    errors
}

#[allow(dead_code)] // natively a program; on wasm32 the module's exports
fn main() {
    eprintln!("build for wasm32-unknown-unknown and run with wasm_bench.mjs (see its doc)");
}

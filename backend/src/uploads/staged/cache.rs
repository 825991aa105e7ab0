//! What a process keeps of the staged uploads it serves, so that the usual
//! case (every request of an upload on one process) does no work twice:
//! while parts arrive, a validator fed with each part once it is stored,
//! while the next one comes (the preview then finishes it instead of
//! reading the parts back); after the
//! preview, the validated records and the last plan, for paging and for the
//! commit. A part stored by another process, or a change of the district's
//! schools, makes it useless: the preview then reads the parts from the
//! database, as any other process does. A kept plan is reused only while
//! the roster is at the version it was made at (`pipeline`). At most a few
//! uploads are kept (each holds a roster's worth of records): the least
//! recently used goes.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use shared::{Validated, Validator};

use crate::uploads::pipeline::Planned;

/// Uploads kept per process.
const KEPT_UPLOADS: usize = 2;

/// One upload's validated files and plan.
pub struct Kept {
    pub validated: Arc<Validated>,
    pub planned: Option<Planned>,
}

/// An upload whose parts this process has fed to a validator as they came.
pub struct Reading {
    pub validator: Box<Validator>,
    /// The parts of each file it has read (users, demographics).
    pub parts: (u32, u32),
    /// The district's school IDs it was made with.
    pub schools: Option<Vec<String>>,
}

/// What is kept of one upload.
pub enum Entry {
    Reading(Reading),
    /// The validator while it reads the last part stored, on a blocking
    /// thread: the part's answer does not wait for it. `None` when it gave
    /// up (the preview then reads the parts from the database).
    Feeding(tokio::task::JoinHandle<Option<Reading>>),
    Kept(Box<Kept>),
}

/// The process's kept uploads, most recently used last.
#[derive(Default)]
pub struct StagedCache {
    kept: Mutex<VecDeque<(String, Entry)>>,
}

impl StagedCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(String, Entry)>> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes what is kept of upload `id` (a request holds it while it runs,
    /// and gives it back with `keep`).
    pub fn take(&self, id: &str) -> Option<Entry> {
        let mut kept = self.lock();
        let at = kept.iter().position(|(key, _)| key == id)?;
        kept.remove(at).map(|(_, kept)| kept)
    }

    /// Keeps what there is of upload `id`, dropping the least recently used
    /// beyond the limit. What is dropped is freed off the async workers.
    pub fn keep(&self, id: &str, upload: Entry) {
        let dropped: Vec<(String, Entry)> = {
            let mut kept = self.lock();
            kept.retain(|(key, _)| key != id);
            kept.push_back((id.to_string(), upload));
            let over = kept.len().saturating_sub(KEPT_UPLOADS);
            kept.drain(..over).collect()
        };
        free_later(dropped);
    }

    /// Forgets upload `id` (committed or cancelled).
    pub fn forget(&self, id: &str) {
        free_later(self.take(id));
    }

    /// How many uploads this process keeps (for tests and diagnostics).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A large upload's records and plan are millions of allocations: freed on
/// a blocking thread, not on the async worker that answers requests.
pub fn free_later<T: Send + 'static>(value: T) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn_blocking(move || drop(value));
        }
        Err(_) => drop(value),
    }
}

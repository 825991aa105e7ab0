//! The stored rosters this process has read or written, each at the roster
//! version it holds: a district's next upload in this process plans against
//! it instead of reading a million rows again, while the version in the
//! database says nobody has changed the roster since (a portal edit, a
//! school edit or another process's commit bumps it; see `db`). After a
//! commit the roster is made in memory (`Stored::written`). At most a few
//! districts are kept; the least recently used goes.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use super::reconcile::Stored;
use super::staged::free_later;

/// Districts kept per process.
const KEPT_DISTRICTS: usize = 2;

#[derive(Default)]
pub struct RosterCache {
    kept: Mutex<VecDeque<(i64, Arc<Stored>)>>,
}

impl RosterCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(i64, Arc<Stored>)>> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The district's roster, if it is kept at `version`.
    pub fn at_version(&self, district_id: i64, version: i64) -> Option<Arc<Stored>> {
        let kept = self.lock();
        kept.iter()
            .find(|(district, stored)| *district == district_id && stored.version == version)
            .map(|(_, stored)| stored.clone())
    }

    /// Keeps `stored` as the district's roster.
    pub fn keep(&self, district_id: i64, stored: Arc<Stored>) {
        let dropped: Vec<(i64, Arc<Stored>)> = {
            let mut kept = self.lock();
            kept.retain(|(district, _)| *district != district_id);
            kept.push_back((district_id, stored));
            let over = kept.len().saturating_sub(KEPT_DISTRICTS);
            kept.drain(..over).collect()
        };
        free_later(dropped);
    }

    /// Lets go of the district's roster (it is about to change).
    pub fn forget(&self, district_id: i64) -> Option<Arc<Stored>> {
        let mut kept = self.lock();
        let at = kept
            .iter()
            .position(|(district, _)| *district == district_id)?;
        kept.remove(at).map(|(_, stored)| stored)
    }
}

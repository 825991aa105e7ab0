//! The text of the users.csv pass: the arena that holds the users' names
//! and IDs end to end, the index that finds a text by its hash, the
//! interner of school IDs, and the byte comparisons and hashes the rest of
//! the pass uses.

use std::collections::hash_map::Entry;
use std::hash::Hasher;

use rustc_hash::{FxHashMap, FxHashSet, FxHasher};

use crate::cells;
use crate::dictionary::LIMITS;

/// Where a user's five texts (first and last name, email, district and
/// state ID) are in a `TextArena`: end to end from `start`, each ending
/// `ends[i]` bytes after it. Users are as many as a third of the rows, and
/// this takes 19 bytes where five `TextRef`s took 96.
#[derive(Debug, Clone, Copy)]
pub(super) struct UserText {
    start: usize,
    ends: [u16; 5],
    /// Bit `i`: text `i` is absent (a blank ID; it then ends where the one
    /// before it does).
    absent: u8,
    /// The texts read as themselves when written as cells
    /// (`cells::reads_as_itself`), as nearly all do: a cell that repeats
    /// one is then read as that value (see `known_row`).
    pub(super) reads_as_written: bool,
}

// A user's texts are cast values, whose lengths have these bounds (two
// names of up to four bytes a character, an ASCII email and two ASCII
// identifiers): all five end to end fit a `u16`.
const _: () = assert!(
    2 * LIMITS.name_chars * 4 + LIMITS.email_chars + 2 * LIMITS.identifier_chars
        < u16::MAX as usize
);

impl UserText {
    #[inline]
    pub(super) fn get(&self, i: usize) -> Option<TextRef> {
        let end = *self.ends.get(i)?;
        if self.absent & (1 << i) != 0 {
            return None;
        }
        let begin = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(TextRef {
            start: self.start + usize::from(begin),
            end: self.start + usize::from(end),
        })
    }
}

/// Where a value is in a `TextArena`.
#[derive(Debug, Clone, Copy)]
pub(super) struct TextRef {
    start: usize,
    end: usize,
}

impl TextRef {
    /// No text.
    pub(super) const EMPTY: TextRef = TextRef { start: 0, end: 0 };
}

/// Values kept end to end in one buffer: one allocation for all users'
/// names and IDs rather than several per user.
#[derive(Debug, Default)]
pub(super) struct TextArena {
    text: String,
}

impl TextArena {
    /// A user's texts, end to end (see `UserText`).
    pub(super) fn push_user(&mut self, values: [Option<&str>; 5]) -> UserText {
        let start = self.text.len();
        let mut ends = [0; 5];
        let mut absent = 0;
        let mut total: u16 = 0;
        let mut reads_as_written = true;
        for (i, value) in values.into_iter().enumerate() {
            if let Some(value) = value {
                reads_as_written &= cells::reads_as_itself(value.as_bytes());
                debug_assert!(
                    value.len() <= usize::from(u16::MAX - total),
                    "cast values are short"
                );
                // Cut at a char boundary, were the bound ever broken: no panic.
                let mut len = value.len().min(usize::from(u16::MAX - total));
                while !value.is_char_boundary(len) {
                    len -= 1;
                }
                self.text.push_str(&value[..len]);
                total += len as u16;
            } else {
                absent |= 1 << i;
            }
            ends[i] = total;
        }
        UserText {
            start,
            ends,
            absent,
            reads_as_written,
        }
    }

    #[inline]
    pub(super) fn get(&self, value: TextRef) -> &str {
        &self.text[value.start..value.end]
    }

    /// `get` as bytes, for comparing (no `str` slicing).
    #[inline]
    pub(super) fn get_bytes(&self, value: TextRef) -> &[u8] {
        &self.text.as_bytes()[value.start..value.end]
    }
}

/// An index of texts kept elsewhere (IDs, emails), by 32 bits of their
/// hash: entries are 8 bytes (half the memory, and the pages, of a 64-bit
/// hash), and growing the table reads no text (with the texts as keys,
/// each would be read again at random). A text whose key another text
/// already has (among a million texts, about a hundred) goes to a second table
/// keyed by the text itself.
#[derive(Debug, Default)]
pub(super) struct TextIndex {
    by_hash: FxHashMap<u32, u32>,
    collided: FxHashMap<Box<[u8]>, u32>,
}

impl TextIndex {
    /// The value of `text`; `text_of` gives the text of a value.
    #[inline]
    pub(super) fn get<'t>(&self, text: &[u8], text_of: impl Fn(u32) -> &'t [u8]) -> Option<u32> {
        match self.by_hash.get(&index_key(text)) {
            Some(&value) if same_bytes(text_of(value), text) => Some(value),
            _ if self.collided.is_empty() => None,
            _ => self.collided.get(text).copied(),
        }
    }

    /// The value of `text` if it is in the index, else `None` after adding
    /// it with `value` (one hash and one probe rather than two each).
    pub(super) fn get_or_insert<'t>(
        &mut self,
        text: &[u8],
        value: u32,
        text_of: impl Fn(u32) -> &'t [u8],
    ) -> Option<u32> {
        match self.by_hash.entry(index_key(text)) {
            Entry::Occupied(entry) if same_bytes(text_of(*entry.get()), text) => Some(*entry.get()),
            Entry::Occupied(_) => match self.collided.get(text) {
                Some(&found) => Some(found),
                None => {
                    self.collided.insert(text.into(), value);
                    None
                }
            },
            Entry::Vacant(entry) => {
                entry.insert(value);
                None
            }
        }
    }

    /// Adds a text that is not in the index.
    pub(super) fn insert(&mut self, text: &[u8], value: u32) {
        match self.by_hash.entry(index_key(text)) {
            Entry::Vacant(entry) => {
                entry.insert(value);
            }
            Entry::Occupied(_) => {
                self.collided.insert(text.into(), value);
            }
        }
    }
}

#[derive(Debug, Default)]
pub(super) struct Interner {
    pub(super) values: Vec<Box<str>>,
    pub(super) first_rows: Vec<u32>,
    pub(super) index: FxHashMap<Box<str>, u32>,
}

impl Interner {
    pub(super) fn intern(&mut self, value: &str, row: u32) -> u32 {
        if let Some(&i) = self.index.get(value) {
            return i;
        }
        let i = self.values.len() as u32;
        self.values.push(value.into());
        self.first_rows.push(row);
        self.index.insert(value.into(), i);
        i
    }
}

/// Equality of two byte strings, without a call to `memcmp` for the short
/// ones (cells are mostly shorter than 16 bytes, and a row compares a dozen).
#[inline]
pub(super) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word =
        |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap_or_default());
    let half =
        |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().unwrap_or_default());
    // Two loads that overlap cover every byte.
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        // Word by word, the last word overlapping (in WebAssembly `memcmp`
        // compares a byte at a time).
        _ => {
            let mut at = 0;
            while at + 8 < n {
                if word(a, at) != word(b, at) {
                    return false;
                }
                at += 8;
            }
            word(a, n - 8) == word(b, n - 8)
        }
    }
}

/// The key of a text in a `TextIndex`: its hash folded to 32 bits (on
/// 32-bit targets, WebAssembly's, the hash has no more: its high half is
/// zero, and taking it would give every text one key).
#[inline]
fn index_key(text: &[u8]) -> u32 {
    let hash = text_hash(text);
    (hash ^ (hash >> 32)) as u32
}

pub(super) fn text_hash(text: &[u8]) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write(text);
    hasher.finish()
}

/// The hashes of the texts that occur more than once, a superset of the
/// texts that do (two texts may share a hash). Rules about equal values
/// among all users look only at the texts with these hashes: a set of
/// `u64`s is far smaller and quicker to fill than a map of the texts, and
/// is usually empty.
pub(super) fn repeated_hashes<'a>(texts: impl Iterator<Item = &'a str>) -> FxHashSet<u64> {
    let mut seen: FxHashSet<u64> = FxHashSet::default();
    // Sized once (growing rehashes every hash): at most one per text.
    let (least, most) = texts.size_hint();
    seen.reserve(most.unwrap_or(least));
    let mut repeated = FxHashSet::default();
    for text in texts {
        let hash = text_hash(text.as_bytes());
        if !seen.insert(hash) {
            repeated.insert(hash);
        }
    }
    repeated
}

#[cfg(test)]
mod tests {
    use super::{index_key, same_bytes, TextArena, TextIndex};

    /// A user's texts are found again with blank IDs anywhere among them,
    /// after other users' texts.
    #[test]
    fn user_texts_are_found_by_their_lengths() {
        let mut arena = TextArena::default();
        let cases: [[Option<&str>; 5]; 4] = [
            [Some("Ann"), Some("Lee"), Some("ann@x.org"), None, None],
            [Some("Zoë"), Some("Ng"), Some("z@x.org"), None, Some("S7")],
            [Some("B"), Some("C"), Some("b@x.org"), Some("D1"), None],
            [Some("É"), Some(""), Some("e@x.org"), Some("D2"), Some("S2")],
        ];
        let texts: Vec<_> = cases.iter().map(|c| arena.push_user(*c)).collect();
        for (text, case) in texts.iter().zip(&cases) {
            for (i, value) in case.iter().enumerate() {
                assert_eq!(text.get(i).map(|t| arena.get(t)), *value);
            }
            assert_eq!(text.get(5).map(|t| arena.get(t)), None);
        }
    }

    #[test]
    fn text_index_keeps_texts_whose_hashes_collide_apart() {
        let texts = ["a", "b", "c"];
        let text_of = |value: u32| texts[value as usize].as_bytes();
        let mut index = TextIndex::default();
        // As if "a" and "b" had one hash (no real pair is known to collide):
        // "a" is under the hash of "b".
        index.by_hash.insert(index_key(b"b"), 0);
        index.insert(b"b", 1);
        assert_eq!(index.collided.len(), 1);
        assert_eq!(index.get(b"b", text_of), Some(1));
        assert_eq!(index.get(b"c", text_of), None);
        index.insert(b"c", 2);
        assert_eq!(index.get(b"c", text_of), Some(2));
        assert_eq!(index.get_or_insert(b"b", 9, text_of), Some(1));
        assert_eq!(index.get_or_insert(b"c", 9, text_of), Some(2));
        assert_eq!(index.get_or_insert(b"d", 3, text_of), None);
        assert_eq!(index.get(b"d", |_| b"d"), Some(3));
    }

    #[test]
    fn same_bytes_agrees_with_eq() {
        let values = [
            "",
            "a",
            "b",
            "ab",
            "ba",
            "abc",
            "abd",
            "xbc",
            "abcd",
            "abce",
            "abcdefg",
            "abcdefh",
            "bbcdefg",
            "abcdefgh",
            "abcdefgi",
            "abcdefghijklmnop",
            "abcdefghijklmnoq",
            "Abcdefghijklmnop",
            "abcdefghijklmnopq",
            "abcdefghijklmnopr",
            "bbcdefghijklmnopq",
            "abcdefghijklmnopqrstuvwxyz0123456789",
            "abcdefghijklmnopqrstuvwxyz0123456788",
            "abcdefghijklmnopqrstuvwxyz012345678",
            "abcdefghijklmnopqrstuvwxyZ0123456789",
            "é",
            "è",
            "éa",
            "ea",
        ];
        for a in values {
            for b in values {
                assert_eq!(
                    same_bytes(a.as_bytes(), b.as_bytes()),
                    a == b,
                    "{a:?} {b:?}"
                );
            }
        }
    }
}

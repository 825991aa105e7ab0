//! Splitting records into their fields, a block of bytes at a time: the
//! fast path of the reader for the usual records, which lie wholly in the
//! chunk and need no unescaping. One record after another, each block of
//! the chunk is looked at once.
//!
//! Each block gives masks of its commas, quotes, line breaks and bytes
//! ≥ 0x80: 64 bytes at a time in 16-byte vectors with SSE2 (every x86_64
//! has it) or WebAssembly's `simd128` (every current browser runs it), else
//! eight bytes in a word (SWAR, the portable form, which the tests hold the
//! others to). The masks settle each record: which commas are inside quotes
//! (a prefix XOR of the quotes, only for the few blocks that have any),
//! whether every quote is where a plain record has them, where the record
//! ends, and which part of it needs a UTF-8 check (only the part between
//! its first and last byte ≥ 0x80). The crate's `unsafe` blocks are here:
//! SSE2 (`masks_sse2`) and the text of a record whose bytes the splitting
//! saw (`PlainRecord::text`).

/// A record that `PlainRecords` split; its fields' spans (from the
/// record's start) are in the `spans` given to `PlainRecords::next`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PlainRecord {
    /// Where it starts in the input of `PlainRecords`, and its length
    /// without its line break.
    pub(super) start: usize,
    pub(super) len: usize,
    /// The first and the last byte ≥ 0x80 of the record (from its start),
    /// if any: the bytes around them are ASCII, so the record is UTF-8 if
    /// that part of it is.
    pub(super) high: Option<(usize, usize)>,
    /// It ended with a `\r` that is the input's last byte (a `\n` may
    /// follow in the next chunk); a `\n` right after a `\r` is the same
    /// line break, and skipped.
    pub(super) cr_at_end: bool,
}

impl PlainRecord {
    /// The record's text (`record`: its bytes): those of `high` checked,
    /// the rest known to be ASCII; `None` when it is not UTF-8.
    #[inline]
    pub(super) fn text(self, record: &[u8]) -> Option<&str> {
        if let Some((first, last)) = self.high {
            std::str::from_utf8(record.get(first..=last)?).ok()?;
        }
        debug_assert!(std::str::from_utf8(record).is_ok(), "as PlainRecords says");
        // SAFETY: the bytes outside `high` are ASCII (`PlainRecords` saw
        // every byte of the record; the tests hold every form of its masks
        // and its splitting to the bytes, and the property tests and the
        // fuzz target run the assertion above on arbitrary bytes), and those
        // in it are UTF-8; a UTF-8 sequence starts and ends at a byte ≥ 0x80
        // or is ASCII, so the whole is UTF-8.
        Some(unsafe { std::str::from_utf8_unchecked(record) })
    }
}

/// The form of the blocks on this target.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
pub(super) type Native = Sse2;
#[cfg(target_arch = "wasm32")]
pub(super) type Native = Simd128;
#[cfg(not(any(
    all(target_arch = "x86_64", target_feature = "sse2"),
    target_arch = "wasm32"
)))]
pub(super) type Native = Swar;

/// The plain records at the start of an input, one after another: a
/// record can be lent from the input as it is when it ends (with a line
/// break) in the input, and each quote of it opens a field (right after a
/// comma, or at the record's start) or closes it (right before a comma or
/// the line break), so no field holds an escaped quote or a line break.
/// The first record that is not plain is left to the state machine
/// (`stopped_at`).
pub(super) struct PlainRecords<'a, B = Native> {
    input: &'a [u8],
    /// The block being split, and whether its masks are in `block`.
    pos: usize,
    ready: bool,
    block: Block,
    carry: Carry,
    /// The record being split, and its field being split.
    record_start: usize,
    field_start: usize,
    /// The first and the last byte ≥ 0x80 of the record so far
    /// (`usize::MAX`: none yet).
    first_high: usize,
    last_high: usize,
    form: std::marker::PhantomData<B>,
}

/// What `PlainRecords` keeps of a block's masks.
#[derive(Clone, Copy, Default)]
struct Block {
    separators: u64,
    broken: u64,
    newline: u64,
    high: u64,
}

impl<'a, B: Blocks> PlainRecords<'a, B> {
    pub(super) fn new(input: &'a [u8]) -> Self {
        PlainRecords {
            input,
            pos: 0,
            ready: false,
            block: Block::default(),
            carry: Carry {
                inside: false,
                after_close: false,
            },
            record_start: 0,
            field_start: 0,
            first_high: usize::MAX,
            last_high: 0,
            form: std::marker::PhantomData,
        }
    }

    /// Where the first record that was not split starts: at the input's
    /// end, or a record that is not plain or does not end in the input.
    pub(super) fn stopped_at(&self) -> usize {
        self.record_start
    }

    /// The next record, its fields pushed to `spans` (which must be empty);
    /// `None` at the first that is not split (`spans` then to be cleared).
    #[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
    pub(super) fn next(&mut self, spans: &mut Vec<(usize, usize)>) -> Option<PlainRecord> {
        let input = self.input;
        loop {
            if !self.ready {
                let rest = input.get(self.pos..).filter(|rest| !rest.is_empty())?;
                let m = match rest.get(..B::BLOCK) {
                    Some(block) => B::classify(block),
                    None => {
                        // The last bytes, padded with zeros (which are none
                        // of the bytes that matter).
                        let mut padded = [0; 64];
                        padded[..rest.len()].copy_from_slice(rest);
                        B::classify(&padded[..B::BLOCK])
                    }
                };
                let (separators, broken) = separators::<B>(input, self.pos, &m, &mut self.carry);
                self.block = Block {
                    separators,
                    broken,
                    newline: m.newline,
                    high: m.high,
                };
                self.ready = true;
            }
            let (pos, block) = (self.pos, self.block);
            // The bits of this record: from its start, up to its line break.
            let from = self.record_start.saturating_sub(pos) as u32 * B::BIT;
            let mut bits = B::ALL & (u64::MAX << from);
            let ends = block.newline & block.separators & bits;
            if ends != 0 {
                bits &= u64::MAX >> (63 - ends.trailing_zeros());
            }
            if block.broken & bits != 0 {
                return None;
            }
            let high = block.high & bits;
            if high != 0 {
                let first = pos + (high.trailing_zeros() / B::BIT) as usize;
                self.first_high = self.first_high.min(first);
                self.last_high = pos + ((63 - high.leading_zeros()) / B::BIT) as usize;
            }
            let record_start = self.record_start;
            let mut separators = block.separators & bits;
            while separators != 0 {
                let at = pos + (separators.trailing_zeros() / B::BIT) as usize;
                separators &= separators - 1;
                // A quoted field is its content: the quotes are at its ends.
                let quoted = usize::from(input[self.field_start] == b'"');
                spans.push((
                    self.field_start - record_start + quoted,
                    at - record_start - quoted,
                ));
                self.field_start = at + 1;
            }
            if ends == 0 {
                self.pos += B::BLOCK;
                self.ready = false;
                continue;
            }
            return Some(self.end_record());
        }
    }

    /// The record whose line break was the last separator, and the start
    /// of the next.
    #[inline(always)]
    fn end_record(&mut self) -> PlainRecord {
        let end = self.field_start - 1;
        let high = (self.first_high != usize::MAX).then(|| {
            (
                self.first_high - self.record_start,
                self.last_high - self.record_start,
            )
        });
        let mut next = end + 1;
        let mut cr_at_end = false;
        if self.input[end] == b'\r' {
            match self.input.get(next) {
                Some(b'\n') => next += 1,
                None => cr_at_end = true,
                Some(_) => {}
            }
        }
        let record = PlainRecord {
            start: self.record_start,
            len: end - self.record_start,
            high,
            cr_at_end,
        };
        (self.record_start, self.field_start) = (next, next);
        self.first_high = usize::MAX;
        if next >= self.pos + B::BLOCK {
            self.pos += B::BLOCK;
            self.ready = false;
        }
        record
    }
}

/// The bytes of a block that matter, as masks: byte `i` is bit
/// `i * BIT + BIT - 1` (its flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Masks {
    comma: u64,
    quote: u64,
    /// `\n` and `\r`.
    newline: u64,
    /// Bytes ≥ 0x80.
    high: u64,
}

/// How blocks of bytes are classified: `BLOCK` bytes at a time, each with
/// `BIT` bits of the masks.
pub(super) trait Blocks {
    const BLOCK: usize;
    const BIT: u32;
    /// The masks of the first `BLOCK` bytes of `block` (which has as many).
    fn classify(block: &[u8]) -> Masks;

    /// The flags of all bytes of a block.
    const ALL: u64 = {
        let mut all = 0;
        let mut i = 0;
        while i < Self::BLOCK as u32 {
            all |= 1 << (i * Self::BIT + Self::BIT - 1);
            i += 1;
        }
        all
    };
    /// The flag of the block's first byte, and of its last.
    const FIRST: u64 = 1 << (Self::BIT - 1);
    const LAST: u64 = 1 << (Self::BLOCK as u32 * Self::BIT - 1);

    /// Bit `i` set where an odd number of `mask`'s bits are at or below
    /// `i` (on flags): inside quotes, the opening quote included.
    #[inline(always)]
    fn prefix_xor(mut mask: u64) -> u64 {
        let mut shift = Self::BIT;
        while shift < Self::BLOCK as u32 * Self::BIT {
            mask ^= mask << shift;
            shift *= 2;
        }
        mask & Self::ALL
    }
}

/// What crosses from one block to the next.
#[derive(Clone, Copy)]
struct Carry {
    /// The block begins inside quotes.
    inside: bool,
    /// The last block ended with a closing quote: a comma or the line
    /// break must come first.
    after_close: bool,
}

/// The separators (commas and line breaks outside quotes) of a block, and
/// the flags of the bytes that break the rules of a plain record; `at` is
/// where the block begins in `input`.
#[inline(always)]
fn separators<B: Blocks>(input: &[u8], at: usize, m: &Masks, carry: &mut Carry) -> (u64, u64) {
    if m.quote == 0 && !carry.inside && !carry.after_close {
        return (m.comma | m.newline, 0); // the usual block
    }
    quoted_separators::<B>(input, at, m, carry)
}

/// `separators` of a block with quotes (or that begins after one).
#[inline(never)]
fn quoted_separators<B: Blocks>(
    input: &[u8],
    at: usize,
    m: &Masks,
    carry: &mut Carry,
) -> (u64, u64) {
    let mut inside = B::prefix_xor(m.quote);
    if carry.inside {
        inside ^= B::ALL;
    }
    let separators = (m.comma | m.newline) & !inside;
    let opening = m.quote & inside;
    let closing = m.quote & !inside;
    // A quote opens a field right after a separator, or at the input's
    // start (a record's: the input starts with one).
    let first_opens = at == 0 || (!carry.inside && matches!(input[at - 1], b',' | b'\n' | b'\r'));
    let may_open = (separators << B::BIT) | if first_opens { B::FIRST } else { 0 };
    // A quote closes a field right before a separator.
    let after_close = if carry.after_close { B::FIRST } else { 0 };
    let must_separate = ((closing << B::BIT) & B::ALL) | after_close;
    let broken = (opening & !may_open)
        | (must_separate & !separators)
        // A line break (even `\r`) in quotes is left to the state machine.
        | (m.newline & inside);
    *carry = Carry {
        inside: inside & B::LAST != 0,
        after_close: closing & B::LAST != 0,
    };
    (separators, broken)
}

/// A form that classifies 16 bytes at a time (a vector), and makes
/// blocks of 64 of them (`masks_of_64`).
trait Sixteen {
    /// Commas, quotes, line breaks and bytes ≥ 0x80 of the 16 bytes
    /// `high:low`, a bit per byte.
    fn sixteen(low: u64, high: u64) -> [u16; 4];
}

/// The masks of 64 bytes, 16 at a time. Every call from `split_simd128`
/// to the vector instructions is inlined (`inline(always)`, no closures):
/// only a function with `simd128` may hold them.
#[cfg_attr(
    not(any(
        all(target_arch = "x86_64", target_feature = "sse2"),
        target_arch = "wasm32"
    )),
    allow(dead_code)
)]
#[inline(always)]
fn masks_of_64<S: Sixteen>(block: &[u8]) -> Masks {
    let [a, b, c, d] = [
        sixteen_at::<S>(block, 0),
        sixteen_at::<S>(block, 16),
        sixteen_at::<S>(block, 32),
        sixteen_at::<S>(block, 48),
    ];
    Masks {
        comma: a[0] | b[0] << 16 | c[0] << 32 | d[0] << 48,
        quote: a[1] | b[1] << 16 | c[1] << 32 | d[1] << 48,
        newline: a[2] | b[2] << 16 | c[2] << 32 | d[2] << 48,
        high: a[3] | b[3] << 16 | c[3] << 32 | d[3] << 48,
    }
}

/// `Sixteen::sixteen` of the 16 bytes of `block` from `at`.
#[cfg_attr(
    not(any(
        all(target_arch = "x86_64", target_feature = "sse2"),
        target_arch = "wasm32"
    )),
    allow(dead_code)
)]
#[inline(always)]
fn sixteen_at<S: Sixteen>(block: &[u8], at: usize) -> [u64; 4] {
    let low = block.get(at..at + 8).and_then(|w| w.try_into().ok());
    let high = block.get(at + 8..at + 16).and_then(|w| w.try_into().ok());
    let [a, b, c, d] = S::sixteen(
        u64::from_le_bytes(low.unwrap_or_default()),
        u64::from_le_bytes(high.unwrap_or_default()),
    );
    [a.into(), b.into(), c.into(), d.into()]
}

/// SSE2: 64 bytes in 16-byte vectors, a bit per byte.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
pub(super) struct Sse2;

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
impl Sixteen for Sse2 {
    #[inline(always)]
    fn sixteen(low: u64, high: u64) -> [u16; 4] {
        // SAFETY: `masks_sse2` needs SSE2, which this build enables (the
        // `cfg` above); it reads no memory (the bytes are passed as words).
        unsafe { masks_sse2(high as i64, low as i64) }
    }
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
impl Blocks for Sse2 {
    const BLOCK: usize = 64;
    const BIT: u32 = 1;

    #[inline(always)]
    fn classify(block: &[u8]) -> Masks {
        masks_of_64::<Sse2>(block)
    }
}

/// The masks of the 16 bytes `high:low`: commas, quotes, line breaks,
/// bytes ≥ 0x80.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[target_feature(enable = "sse2")]
#[inline]
fn masks_sse2(high: i64, low: i64) -> [u16; 4] {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8, _mm_set_epi64x,
    };
    let bytes = _mm_set_epi64x(high, low);
    let equal_to = |byte: u8| _mm_cmpeq_epi8(bytes, _mm_set1_epi8(byte as i8));
    let mask = |v| _mm_movemask_epi8(v) as u16;
    [
        mask(equal_to(b',')),
        mask(equal_to(b'"')),
        mask(_mm_or_si128(equal_to(b'\n'), equal_to(b'\r'))),
        mask(bytes),
    ]
}

/// WebAssembly's `simd128`: as SSE2 (only called from `split_simd128`,
/// which has the feature).
#[cfg(target_arch = "wasm32")]
pub(super) struct Simd128;

#[cfg(target_arch = "wasm32")]
impl Sixteen for Simd128 {
    #[inline(always)]
    fn sixteen(low: u64, high: u64) -> [u16; 4] {
        use std::arch::wasm32::{i64x2, u8x16_bitmask, u8x16_eq, u8x16_splat, v128_or};
        let bytes = i64x2(low as i64, high as i64);
        let comma = u8x16_eq(bytes, u8x16_splat(b','));
        let quote = u8x16_eq(bytes, u8x16_splat(b'"'));
        let newline = v128_or(
            u8x16_eq(bytes, u8x16_splat(b'\n')),
            u8x16_eq(bytes, u8x16_splat(b'\r')),
        );
        [
            u8x16_bitmask(comma),
            u8x16_bitmask(quote),
            u8x16_bitmask(newline),
            u8x16_bitmask(bytes),
        ]
    }
}

#[cfg(target_arch = "wasm32")]
impl Blocks for Simd128 {
    const BLOCK: usize = 64;
    const BIT: u32 = 1;

    #[inline(always)]
    fn classify(block: &[u8]) -> Masks {
        masks_of_64::<Simd128>(block)
    }
}

/// The portable form: eight bytes in a word (SWAR), the high bit of each
/// byte its flag. `Native` on targets with neither SSE2 nor `simd128`, and
/// what the tests hold the others to.
#[cfg_attr(
    all(
        not(test),
        any(
            all(target_arch = "x86_64", target_feature = "sse2"),
            target_arch = "wasm32"
        )
    ),
    allow(dead_code)
)]
pub(super) struct Swar;

impl Blocks for Swar {
    const BLOCK: usize = 8;
    const BIT: u32 = 8;

    #[inline(always)]
    fn classify(block: &[u8]) -> Masks {
        let word = u64::from_le_bytes(block.try_into().unwrap_or_default());
        Masks {
            comma: zero_bytes(word ^ (b',' as u64 * ONES)),
            quote: zero_bytes(word ^ (b'"' as u64 * ONES)),
            newline: zero_bytes(word ^ (b'\n' as u64 * ONES))
                | zero_bytes(word ^ (b'\r' as u64 * ONES)),
            high: word & (0x80 * ONES),
        }
    }
}

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const LOW_SEVEN: u64 = 0x7F * ONES;

/// The high bit of each zero byte of `x`, exactly (no carries between
/// bytes, unlike the shorter `(x - ONES) & !x` test).
#[inline(always)]
fn zero_bytes(x: u64) -> u64 {
    !(((x & LOW_SEVEN) + LOW_SEVEN) | x | LOW_SEVEN)
}

/// Pushes the span of every field that a comma in `bytes[from..]` closes,
/// the first one starting at `field_start`; returns where the field after the
/// last comma starts.
pub(super) fn split_at_commas(
    bytes: &[u8],
    from: usize,
    mut field_start: usize,
    spans: &mut Vec<(usize, usize)>,
) -> usize {
    // Eight bytes at a time: fields are short, so a search call per comma
    // would cost more than the comma it finds.
    let mut words = bytes[from..].chunks_exact(8);
    let mut offset = from;
    for word in &mut words {
        let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
        let mut commas = zero_bytes(word ^ (b',' as u64 * ONES));
        while commas != 0 {
            let comma = offset + (commas.trailing_zeros() / 8) as usize;
            spans.push((field_start, comma));
            field_start = comma + 1;
            commas &= commas - 1;
        }
        offset += 8;
    }
    for (i, byte) in words.remainder().iter().enumerate() {
        if *byte == b',' {
            spans.push((field_start, offset + i));
            field_start = offset + i + 1;
        }
    }
    field_start
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The masks of a form of the block, against the bytes, one by one.
    fn check_masks<B: Blocks>() {
        let expected = |bytes: &[u8], test: fn(u8) -> bool| {
            let flags = bytes.iter().enumerate().filter(|(_, b)| test(**b));
            flags.fold(0u64, |mask, (i, _)| {
                mask | 1 << (i as u32 * B::BIT + B::BIT - 1)
            })
        };
        for byte in 0..=255u8 {
            for filler in [b'a', b' ', 0x0E, 0x7F, 0x80, 0xC3, 0xFF, b',', b'"'] {
                for at in 0..B::BLOCK {
                    let mut block = vec![filler; B::BLOCK];
                    block[at] = byte;
                    let masks = Masks {
                        comma: expected(&block, |b| b == b','),
                        quote: expected(&block, |b| b == b'"'),
                        newline: expected(&block, |b| b == b'\n' || b == b'\r'),
                        high: expected(&block, |b| b >= 0x80),
                    };
                    assert_eq!(B::classify(&block), masks, "{block:?}");
                }
            }
        }
        let all = expected(&vec![0; B::BLOCK], |_| true);
        let (first, last) = (all & all.wrapping_neg(), 1 << (63 - all.leading_zeros()));
        assert_eq!((B::ALL, B::FIRST, B::LAST), (all, first, last));
        for mask in [0, 1, 0b1010, u64::MAX, 0x8000_0001, 0x1234_5678_9ABC_DEF0] {
            let mask = mask & B::ALL;
            let xor = (0..B::BLOCK as u32).fold((0, false), |(out, inside), i| {
                let flag = 1 << (i * B::BIT + B::BIT - 1);
                let inside = inside ^ (mask & flag != 0);
                (if inside { out | flag } else { out }, inside)
            });
            assert_eq!(B::prefix_xor(mask), xor.0, "{mask:x}");
        }
    }

    #[test]
    fn masks_are_exact() {
        check_masks::<Swar>();
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        check_masks::<Sse2>();
    }

    type Spans = Vec<(usize, usize)>;

    /// One plain record at the start of `input` as `PlainRecords` says
    /// it, a byte at a time (at 0, and not `cr_at_end`), and its spans.
    fn by_bytes(input: &[u8]) -> Option<(PlainRecord, Spans)> {
        let mut spans = Vec::new();
        let mut field_start = 0;
        let mut at = 0;
        loop {
            match *input.get(at)? {
                b'"' if at == field_start => {
                    let content = at + 1;
                    let close = content + input[content..].iter().position(|b| *b == b'"')?;
                    let inner = &input[content..close];
                    if inner.contains(&b'\n') || inner.contains(&b'\r') {
                        return None;
                    }
                    spans.push((content, close));
                    at = close + 1;
                    match input.get(at)? {
                        b',' => field_start = at + 1,
                        b'\n' | b'\r' => break,
                        _ => return None,
                    }
                }
                b'"' => return None,
                b',' => {
                    spans.push((field_start, at));
                    field_start = at + 1;
                }
                b'\n' | b'\r' => {
                    spans.push((field_start, at));
                    break;
                }
                _ => {}
            }
            at += 1;
        }
        let first = input[..at].iter().position(|b| *b >= 0x80);
        let last = input[..at].iter().rposition(|b| *b >= 0x80);
        let record = PlainRecord {
            start: 0,
            len: at,
            high: first.zip(last),
            cr_at_end: false,
        };
        Some((record, spans))
    }

    /// The records a form splits, and where it stopped.
    fn split_all<B: Blocks>(input: &[u8]) -> (Vec<(PlainRecord, Spans)>, usize) {
        let mut records = PlainRecords::<B>::new(input);
        let mut out = Vec::new();
        let mut spans = Vec::new();
        while let Some(record) = records.next(&mut spans) {
            out.push((record, std::mem::take(&mut spans)));
        }
        (out, records.stopped_at())
    }

    /// Every form splits as the doc says, on inputs made of pieces that
    /// matter (quotes, commas, line breaks, bytes ≥ 0x80) at every offset
    /// of the blocks.
    #[test]
    fn splits_agree_with_the_rule() {
        const PIECES: &[&[u8]] = &[
            b",",
            b"\"",
            b"\"\"",
            b",\"",
            b"\",",
            b"\n",
            b"\r",
            b"\r\n",
            b"a",
            b"bc",
            b"0123456789abcdef",
            b"\xC3\xA9",
            b"\x80",
            b"\t",
            b"\x0E",
            b" ",
        ];
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut plain = 0;
        for _ in 0..30_000 {
            let mut input = Vec::new();
            for _ in 0..next() % 120 {
                input.extend_from_slice(PIECES[(next() % PIECES.len() as u64) as usize]);
            }
            let mut expected = Vec::new();
            let mut start = 0;
            while let Some((mut record, spans)) = by_bytes(&input[start..]) {
                let end = start + record.len;
                let crlf = input[end] == b'\r' && input.get(end + 1) == Some(&b'\n');
                record.start = start;
                record.cr_at_end = input[end] == b'\r' && end + 1 == input.len();
                expected.push((record, spans));
                start = end + 1 + usize::from(crlf);
            }
            let want = (expected, start);
            let text = String::from_utf8_lossy(&input);
            assert_eq!(split_all::<Swar>(&input), want, "{text:?}");
            assert_eq!(split_all::<Native>(&input), want, "{text:?}");
            plain += want.0.len();
        }
        assert!(plain > 10_000, "{plain} plain records");
    }
}

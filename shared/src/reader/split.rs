//! Splitting a record into its fields, a block of bytes at a time: the
//! fast path of the reader for the usual record, which lies wholly in the
//! chunk and needs no unescaping. A block is 16 bytes with SSE2 (every
//! x86_64 has it) or WebAssembly's `simd128` (every current browser runs
//! it), else eight bytes in a word (SWAR, the portable form). The one
//! `unsafe` block of the crate is here (`special_block_sse2`), tested
//! against the portable form.

/// Splits a record at the start of `input` into the spans of its fields when
/// it can be lent from `input` as it is: it ends (with a line break) in
/// `input`, and its quoted fields hold no escaped quote or line break and are
/// followed by a comma or the line break. Returns the record's length
/// without its line break; `None` leaves the record to the state machine
/// (and `spans` to be cleared).
#[inline]
pub(super) fn split_plain_record(input: &[u8], spans: &mut Vec<(usize, usize)>) -> Option<usize> {
    #[cfg(target_arch = "wasm32")]
    return split_simd128(input, spans);
    #[cfg(not(target_arch = "wasm32"))]
    return split_with(input, spans);
}

/// `split_with` compiled with WebAssembly's `simd128`: only a function
/// with the feature may hold its instructions (a module with them does not
/// load in an engine without it; every current browser has it), so the
/// whole loop is here, and every call from it to them is inlined.
#[cfg(target_arch = "wasm32")]
#[target_feature(enable = "simd128")]
fn split_simd128(input: &[u8], spans: &mut Vec<(usize, usize)>) -> Option<usize> {
    split_with(input, spans)
}

#[inline(always)]
fn split_with(input: &[u8], spans: &mut Vec<(usize, usize)>) -> Option<usize> {
    // One pass, eight bytes at a time, over the bytes that matter: commas,
    // quotes and line breaks (found together, so the record is read once
    // rather than once for its line end and again for its commas).
    let mut field_start = 0;
    let mut pos = 0;
    loop {
        let mut next = None;
        let (mut specials, width) = match input.get(pos..pos + BLOCK) {
            Some(block) => (special_block(block), BLOCK),
            // The last few bytes of the input: one at a time.
            None => (
                u64::from(is_special(*input.get(pos)?)) << (BLOCK_BIT - 1),
                1,
            ),
        };
        while specials != 0 {
            let at = pos + (specials.trailing_zeros() / BLOCK_BIT) as usize;
            specials &= specials - 1;
            match input[at] {
                b',' => {
                    spans.push((field_start, at));
                    field_start = at + 1;
                }
                b'"' => {
                    if at != field_start {
                        return None; // a quote inside an unquoted field: read as it is
                    }
                    let content = at + 1;
                    let close = content + memchr::memchr2(b'"', b'\n', &input[content..])?;
                    if input[close] != b'"' {
                        return None;
                    }
                    spans.push((content, close));
                    match input.get(close + 1)? {
                        b',' => field_start = close + 2,
                        b'\n' | b'\r' => return Some(close + 1),
                        _ => return None,
                    }
                    next = Some(field_start);
                    break;
                }
                b'\n' | b'\r' => {
                    spans.push((field_start, at));
                    return Some(at);
                }
                _ => {} // another control character: an ordinary one
            }
        }
        // After a quoted field, go on right after it; else after the word.
        pos = next.unwrap_or(pos + width);
    }
}

/// Bytes looked at together by `special_block`, and how many bits of its
/// mask each byte has (the byte's flag is the highest of them).
#[cfg(any(
    all(target_arch = "x86_64", target_feature = "sse2"),
    target_arch = "wasm32"
))]
const BLOCK: usize = 16;
#[cfg(any(
    all(target_arch = "x86_64", target_feature = "sse2"),
    target_arch = "wasm32"
))]
const BLOCK_BIT: u32 = 1;
#[cfg(not(any(
    all(target_arch = "x86_64", target_feature = "sse2"),
    target_arch = "wasm32"
)))]
const BLOCK: usize = 8;
#[cfg(not(any(
    all(target_arch = "x86_64", target_feature = "sse2"),
    target_arch = "wasm32"
)))]
const BLOCK_BIT: u32 = 8;

/// The `is_special` bytes of a block of `BLOCK` bytes as a mask: bit `i`
/// for byte `i`. With SSE2 (every x86_64 has it): 16 bytes in a few
/// instructions.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline]
fn special_block(block: &[u8]) -> u64 {
    let word = |at: usize| {
        i64::from_le_bytes(
            block
                .get(at..at + 8)
                .and_then(|w| w.try_into().ok())
                .unwrap_or_default(),
        )
    };
    // SAFETY: `special_block_sse2` needs SSE2, which this build enables
    // (the `cfg` above); it reads no memory (the block is passed as words).
    unsafe { special_block_sse2(word(8), word(0)) }
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[target_feature(enable = "sse2")]
#[inline]
fn special_block_sse2(high: i64, low: i64) -> u64 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        _mm_set_epi64x,
    };
    let bytes = _mm_set_epi64x(high, low);
    let equal_to = |byte: u8| _mm_cmpeq_epi8(bytes, _mm_set1_epi8(byte as i8));
    // Unsigned bytes up to 0x0D are those that the minimum leaves alone.
    let control = _mm_cmpeq_epi8(_mm_min_epu8(bytes, _mm_set1_epi8(0x0D)), bytes);
    let special = _mm_or_si128(_mm_or_si128(equal_to(b','), equal_to(b'"')), control);
    u64::from(_mm_movemask_epi8(special) as u16)
}

/// WebAssembly's `simd128`: as SSE2, 16 bytes a bit each (called only
/// from `split_simd128`, which has the feature).
#[cfg(target_arch = "wasm32")]
#[inline(always)]
fn special_block(block: &[u8]) -> u64 {
    use std::arch::wasm32::{i64x2, u8x16_bitmask, u8x16_eq, u8x16_lt, u8x16_splat, v128_or};
    let word = |at: usize| {
        let bytes = block.get(at..at + 8).and_then(|w| w.try_into().ok());
        i64::from_le_bytes(bytes.unwrap_or_default())
    };
    let bytes = i64x2(word(0), word(8));
    let comma_or_quote = v128_or(
        u8x16_eq(bytes, u8x16_splat(b',')),
        u8x16_eq(bytes, u8x16_splat(b'"')),
    );
    let control = u8x16_lt(bytes, u8x16_splat(0x0E));
    u64::from(u8x16_bitmask(v128_or(comma_or_quote, control)))
}

/// The portable form: eight bytes in a word (SWAR), the high bit of each
/// byte its flag.
#[cfg(not(any(
    all(target_arch = "x86_64", target_feature = "sse2"),
    target_arch = "wasm32"
)))]
#[inline]
fn special_block(block: &[u8]) -> u64 {
    special_bytes(u64::from_le_bytes(block.try_into().unwrap_or_default()))
}

/// A comma, a quote, or a control character below `\x0E` (line breaks).
#[inline]
fn is_special(byte: u8) -> bool {
    matches!(byte, b',' | b'"') || byte < 0x0E
}

/// The high bit of every byte of `word` that `is_special`, exactly (no
/// carries between bytes).
#[cfg_attr(
    any(
        all(target_arch = "x86_64", target_feature = "sse2"),
        target_arch = "wasm32"
    ),
    allow(dead_code)
)]
#[inline]
fn special_bytes(word: u64) -> u64 {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const LOW_SEVEN: u64 = 0x7F * ONES;
    const HIGH: u64 = 0x80 * ONES;
    // High bit set where the byte is zero.
    let zero = |x: u64| !(((x & LOW_SEVEN) + LOW_SEVEN) | x | LOW_SEVEN);
    // High bit set where the byte is below 0x0E.
    let below = !(((word & LOW_SEVEN) + (0x80 - 0x0E) * ONES) | word) & HIGH;
    zero(word ^ (b',' as u64 * ONES)) | zero(word ^ (b'"' as u64 * ONES)) | below
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
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const LOW_SEVEN: u64 = 0x7F * ONES;
    const COMMAS: u64 = b',' as u64 * ONES;
    let mut words = bytes[from..].chunks_exact(8);
    let mut offset = from;
    for word in &mut words {
        let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
        let x = word ^ COMMAS; // zero bytes where the commas are
                               // The high bit of each zero byte of `x`, exactly (no carries between
                               // bytes, unlike the shorter `(x - ONES) & !x` test).
        let mut commas = !(((x & LOW_SEVEN) + LOW_SEVEN) | x | LOW_SEVEN);
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

    /// The mask of `special_block` and (on every target) of the portable
    /// `special_bytes`: exactly the bytes that `is_special`.
    #[test]
    fn special_masks_are_exact() {
        let expected = |bytes: &[u8], bits: u32| {
            bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| is_special(**b))
                .fold(0u64, |mask, (i, _)| {
                    mask | 1 << (i as u32 * bits + bits - 1)
                })
        };
        for byte in 0..=255u8 {
            for filler in [b'a', b' ', 0x0E, 0x7F, 0x80, 0xC3, 0xFF] {
                for at in 0..BLOCK {
                    let mut block = [filler; BLOCK];
                    block[at] = byte;
                    assert_eq!(special_block(&block), expected(&block, BLOCK_BIT));
                }
                for at in 0..8 {
                    let mut word = [filler; 8];
                    word[at] = byte;
                    let mask = special_bytes(u64::from_le_bytes(word));
                    assert_eq!(mask, expected(&word, 8), "{word:?}");
                }
            }
        }
    }
}

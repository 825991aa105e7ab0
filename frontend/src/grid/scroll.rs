//! Where the rows in view go. A browser caps an element's height
//! (Chromium at about 33.5 million pixels, under a million rows of 36):
//! past [`MAX_SCROLL_PX`], the scroll position says which share of the
//! rows is in view, and the rows drawn are placed at it.

use crate::findings_table::{OVERSCAN, ROW_HEIGHT_PX, VIEWPORT_PX};

/// The tallest the grid's scrolling area is made.
pub const MAX_SCROLL_PX: f64 = 15_000_000.0;

/// Rows a full view holds.
const IN_VIEW: usize = (VIEWPORT_PX / ROW_HEIGHT_PX) as usize;

/// Whether `len` rows are taller than the cap.
fn scaled(len: usize) -> bool {
    len as f64 * ROW_HEIGHT_PX > MAX_SCROLL_PX
}

/// The scrolling area's height.
fn total_px(len: usize) -> f64 {
    (len as f64 * ROW_HEIGHT_PX).min(MAX_SCROLL_PX)
}

/// Scrolled to the end, the first row in view: the last full view.
fn last_first(len: usize) -> usize {
    len.saturating_sub(IN_VIEW)
}

/// The first row in view at a scroll position.
pub fn first_in_view(scroll_top: f64, len: usize) -> usize {
    let first = if scaled(len) {
        (scroll_top / (total_px(len) - VIEWPORT_PX) * last_first(len) as f64).round()
    } else {
        scroll_top / ROW_HEIGHT_PX
    };
    (first.max(0.0) as usize).min(len)
}

/// The scroll position that puts `row` first in view.
pub fn scroll_to(row: usize, len: usize) -> f64 {
    if scaled(len) {
        row.min(last_first(len)) as f64 / last_first(len) as f64 * (total_px(len) - VIEWPORT_PX)
    } else {
        row as f64 * ROW_HEIGHT_PX
    }
}

/// The rows to draw at a scroll position, and the spacers above and below.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layout {
    pub start: usize,
    pub end: usize,
    pub top_px: f64,
    pub bottom_px: f64,
}

/// The layout of `len` rows scrolled to `scroll_top`: as the findings
/// table's while they fit; past the cap, the first row in view is drawn
/// where the view is.
pub fn layout(scroll_top: f64, len: usize) -> Layout {
    let first = first_in_view(scroll_top, len);
    let start = first.saturating_sub(OVERSCAN).min(len);
    let end = (start + IN_VIEW + 2 * OVERSCAN + 1).min(len);
    let drawn = (end - start) as f64 * ROW_HEIGHT_PX;
    let top_px = if scaled(len) {
        (scroll_top - (first - start) as f64 * ROW_HEIGHT_PX).max(0.0)
    } else {
        start as f64 * ROW_HEIGHT_PX
    };
    Layout {
        start,
        end,
        top_px,
        bottom_px: (total_px(len) - top_px - drawn).max(0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn rows_fit_the_cap_and_unscaled_ones_sit_where_they_did() {
        // Few rows: as the findings table lays them out.
        let small = layout(3600.0, 1000);
        assert_eq!(small.top_px, small.start as f64 * ROW_HEIGHT_PX);
        assert_eq!(
            small.top_px + small.bottom_px + (small.end - small.start) as f64 * ROW_HEIGHT_PX,
            1000.0 * ROW_HEIGHT_PX
        );
        // A million rows: the whole height stays under the cap, and the
        // last rows can be reached.
        let len = 1_100_000;
        let end = layout(MAX_SCROLL_PX - VIEWPORT_PX, len);
        assert!(end.end == len && end.start > len - 60, "{end:?}");
        assert!(
            end.top_px + (end.end - end.start) as f64 * ROW_HEIGHT_PX + end.bottom_px
                <= MAX_SCROLL_PX + 1.0
        );
        let middle = scroll_to(550_000, len);
        assert_eq!(first_in_view(middle, len), 550_000);
        let drawn = layout(middle, len);
        assert!(drawn.start <= 550_000 && drawn.end > 550_000);
        assert!((drawn.top_px + OVERSCAN as f64 * ROW_HEIGHT_PX - middle).abs() < ROW_HEIGHT_PX);
    }
}

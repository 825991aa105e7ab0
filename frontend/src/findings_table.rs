//! The findings table: a real `<table>` that renders only the rows in view,
//! so tens of thousands of findings scroll smoothly. Spacer rows keep the
//! scroll height; `aria-rowcount` / `aria-rowindex` tell screen readers
//! where each rendered row sits in the whole table.

use std::sync::Arc;

use leptos::prelude::*;

use crate::format::count;
use crate::protocol::{FindingRow, Summary, FINDINGS_TO_PAGE};

/// Every row has this height (CSS keeps cells on one line), so the rows in
/// view follow from the scroll position alone.
pub const ROW_HEIGHT_PX: f64 = 36.0;
/// Height of the scrolling area.
pub const VIEWPORT_PX: f64 = 540.0;
/// Rows rendered above and below the visible ones.
pub const OVERSCAN: usize = 10;

/// The rows to render for a scroll position: `start..end` of `len`.
pub fn visible_range(scroll_top: f64, len: usize) -> (usize, usize) {
    let first = (scroll_top.max(0.0) / ROW_HEIGHT_PX) as usize;
    let start = first.saturating_sub(OVERSCAN).min(len);
    let shown = (VIEWPORT_PX / ROW_HEIGHT_PX).ceil() as usize + 2 * OVERSCAN;
    (start, (start + shown).min(len))
}

/// Which findings pass the filters.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    /// One code, or all.
    pub code: Option<String>,
    /// "error", "warning", or all.
    pub severity: Option<String>,
}

impl Filter {
    pub fn matches(&self, finding: &FindingRow) -> bool {
        self.code.as_ref().is_none_or(|c| *c == finding.code)
            && self
                .severity
                .as_ref()
                .is_none_or(|s| *s == finding.severity)
    }
}

#[component]
pub fn FindingsTable(summary: Arc<Summary>) -> impl IntoView {
    let findings: Arc<Vec<FindingRow>> = Arc::new(summary.findings.clone());
    let mut codes: Vec<String> = summary
        .by_code_column
        .iter()
        .map(|c| c.code.clone())
        .collect();
    codes.sort();
    codes.dedup();
    let filter = RwSignal::new(Filter::default());
    let scroll_top = RwSignal::new(0.0_f64);
    let scroller = NodeRef::<leptos::html::Div>::new();

    let all = findings.clone();
    let matching = Memo::new(move |_| {
        let filter = filter.get();
        Arc::new(
            all.iter()
                .enumerate()
                .filter(|(_, f)| filter.matches(f))
                .map(|(i, _)| i)
                .collect::<Vec<usize>>(),
        )
    });
    // A new filter starts at the top.
    let set_filter = move |change: &dyn Fn(&mut Filter)| {
        filter.update(|f| change(f));
        scroll_top.set(0.0);
        if let Some(el) = scroller.get_untracked() {
            el.set_scroll_top(0);
        }
    };

    let caption = {
        let total = summary.findings_total;
        move || {
            let shown = matching.get().len();
            let mut text = format!("Findings: {} shown", count(shown as u64));
            if total > FINDINGS_TO_PAGE {
                text.push_str(&format!(
                    " (the table holds the first {}; the errors CSV has all {})",
                    count(FINDINGS_TO_PAGE as u64),
                    count(total as u64)
                ));
            }
            text
        }
    };

    let rows = move || {
        let matching = matching.get();
        let (start, end) = visible_range(scroll_top.get(), matching.len());
        let top = start as f64 * ROW_HEIGHT_PX;
        let bottom = (matching.len() - end) as f64 * ROW_HEIGHT_PX;
        let rendered = matching[start..end]
            .iter()
            .enumerate()
            .map(|(offset, &index)| {
                let f = &findings[index];
                let row = f.row.map_or_else(|| "–".to_string(), |r| r.to_string());
                let column = f.column.clone().unwrap_or_else(|| "–".into());
                let value = f.value.clone().unwrap_or_default();
                view! {
                    // Row 1 is the header row.
                    <tr
                        class=format!("severity-{}", f.severity)
                        aria-rowindex=start + offset + 2
                        style=format!("height: {ROW_HEIGHT_PX}px")
                    >
                        <td>{f.file.file_name()}</td>
                        <td>{row}</td>
                        <td>{column}</td>
                        <td title=value.clone()>{value.clone()}</td>
                        <td><code>{f.code.clone()}</code></td>
                        <td title=f.message.clone()>{f.message.clone()}</td>
                        <td title=f.how_to_fix.clone()>{f.how_to_fix.clone()}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <tr class="spacer" aria-hidden="true" style=format!("height: {top}px")></tr>
            {rendered}
            <tr class="spacer" aria-hidden="true" style=format!("height: {bottom}px")></tr>
        }
    };

    view! {
        <div class="findings-filters" role="group" aria-label="Filter findings">
            <label>
                "Code "
                <select on:change=move |ev| {
                    let value = event_target_value(&ev);
                    set_filter(&|f| f.code = (!value.is_empty()).then(|| value.clone()));
                }>
                    <option value="">"All codes"</option>
                    {codes.into_iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
                </select>
            </label>
            <label>
                "Severity "
                <select on:change=move |ev| {
                    let value = event_target_value(&ev);
                    set_filter(&|f| f.severity = (!value.is_empty()).then(|| value.clone()));
                }>
                    <option value="">"All"</option>
                    <option value="error">"Errors only"</option>
                    <option value="warning">"Warnings only"</option>
                </select>
            </label>
        </div>
        <ScrollArea class="findings-scroll" scroll_top scroller height="height" labelled_by="findings-caption">
            <table class="findings" aria-rowcount=move || matching.get().len() + 1>
                <caption id="findings-caption">{caption}</caption>
                <thead>
                    <tr aria-rowindex="1">
                        <th scope="col">"File"</th>
                        <th scope="col">"Row"</th>
                        <th scope="col">"Column"</th>
                        <th scope="col">"Value"</th>
                        <th scope="col">"Code"</th>
                        <th scope="col">"Problem"</th>
                        <th scope="col">"How to fix"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </ScrollArea>
    }
}

/// The scrolling area of a table that renders only the rows in view: it
/// keeps `scroll_top` up to date, from which the rows in view follow.
/// `height` is the CSS property its `VIEWPORT_PX` sets ("height", or
/// "max-height" for a table that may be short); the region is named by
/// `label` or by the element `labelled_by`.
#[component]
pub fn ScrollArea(
    class: &'static str,
    scroll_top: RwSignal<f64>,
    scroller: NodeRef<leptos::html::Div>,
    height: &'static str,
    #[prop(optional)] label: Option<&'static str>,
    #[prop(optional)] labelled_by: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    view! {
        <div
            class=class
            // The sizes the rows in view are worked out from live here, not
            // in the style sheet.
            style=format!("{height}: {VIEWPORT_PX}px; overflow: auto")
            tabindex="0"
            role="region"
            aria-label=label
            aria-labelledby=labelled_by
            node_ref=scroller
            on:scroll=move |_| {
                if let Some(el) = scroller.get_untracked() {
                    scroll_top.set(el.scroll_top() as f64);
                }
            }
        >
            {children()}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::FileKind;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn only_the_rows_in_view_are_rendered() {
        assert_eq!(visible_range(0.0, 0), (0, 0));
        assert_eq!(visible_range(0.0, 5), (0, 5));
        let (start, end) = visible_range(100_000.0 * ROW_HEIGHT_PX / 2.0, 100_000);
        assert_eq!(start, 50_000 - OVERSCAN);
        assert!(end - start < 60, "{start}..{end}");
        // Scrolled past the end (the list just shrank): nothing, no panic.
        assert_eq!(visible_range(1e9, 10), (10, 10));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn filters_by_code_and_severity() {
        let finding = |code: &str, severity: &str| FindingRow {
            code: code.into(),
            severity: severity.into(),
            file: FileKind::Users,
            row: Some(2),
            column: None,
            value: None,
            message: String::new(),
            how_to_fix: String::new(),
            fix: None,
        };
        let email = finding("invalid-email", "error");
        let blank = finding("blank-row", "warning");
        let errors = Filter {
            severity: Some("error".into()),
            ..Filter::default()
        };
        assert!(errors.matches(&email) && !errors.matches(&blank));
        let code = Filter {
            code: Some("blank-row".into()),
            ..Filter::default()
        };
        assert!(!code.matches(&email) && code.matches(&blank));
        assert!(Filter::default().matches(&email));
    }
}

//! The server's findings in a report, as a table that renders only the
//! rows in view (like the browser's findings table: a large district's tens
//! of thousands of findings must not freeze the tab). A preview's table
//! fetches the pages it scrolls to from the server, which keeps the plan.

use std::collections::{HashMap, HashSet};

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, Target};
use crate::findings_table::{visible_range, ScrollArea, ROW_HEIGHT_PX};
use crate::format::count;
use shared::api::{ServerFinding, UploadReport};

/// Findings per page, asked of the server with the preview's first page too
/// (it gives at most 5,000).
pub const SERVER_FINDINGS_PAGE: usize = 1_000;

/// Where the further pages of a preview's findings come from: the staged
/// upload, with the credential that made it.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingsPages {
    pub target: Target,
    pub staged_id: String,
}

/// `first`: the report's findings (a preview's first page); `total`: all
/// the server found. With `pages` the table holds all `total` rows and
/// fetches each page when it comes into view; without, only `first`.
#[component]
pub fn ServerFindingsTable(
    first: Vec<ServerFinding>,
    total: usize,
    #[prop(default = None)] pages: Option<FindingsPages>,
) -> impl IntoView {
    let rows_len = if pages.is_some() { total } else { first.len() };
    let loaded = RwSignal::new(HashMap::from([(0_usize, first)]));
    let in_flight = StoredValue::new(HashSet::<usize>::new());
    let failure = RwSignal::new(None::<String>);
    let pages = StoredValue::new(pages);
    let scroll_top = RwSignal::new(0.0_f64);
    let scroller = NodeRef::<leptos::html::Div>::new();

    let fetch = move |page: usize| {
        let Some(source) = pages.get_value() else {
            return;
        };
        // After a refusal (the upload expired, say) scrolling asks no more.
        if failure.with_untracked(Option::is_some)
            || loaded.with_untracked(|l| l.contains_key(&page))
            || !in_flight
                .try_update_value(|f| f.insert(page))
                .unwrap_or(false)
        {
            return;
        }
        spawn_local(async move {
            let path = format!("/api/uploads/staged/{}/preview", source.staged_id);
            let body = serde_json::json!({
                "findingsOffset": page * SERVER_FINDINGS_PAGE,
                "findingsLimit": SERVER_FINDINGS_PAGE,
                "changesLimit": 0,
            });
            let answer =
                api::request_retrying::<UploadReport>(&source.target, "POST", &path, Some(&body))
                    .await;
            in_flight.update_value(|f| {
                f.remove(&page);
            });
            match answer {
                Ok(report) => loaded.update(|l| {
                    l.insert(page, report.findings);
                }),
                Err(refused) => failure.set(Some(refused.message)),
            }
        });
    };
    // The pages of the rows in view, once each.
    Effect::new(move || {
        let (start, end) = visible_range(scroll_top.get(), rows_len);
        if start < end {
            for page in start / SERVER_FINDINGS_PAGE..=(end - 1) / SERVER_FINDINGS_PAGE {
                fetch(page);
            }
        }
    });

    let rows = move || {
        let (start, end) = visible_range(scroll_top.get(), rows_len);
        let top = start as f64 * ROW_HEIGHT_PX;
        let bottom = (rows_len - end) as f64 * ROW_HEIGHT_PX;
        let rendered = loaded.with(|loaded| {
            (start..end)
                .map(|index| {
                    // Row 1 is the header row.
                    let row_index = index + 2;
                    let height = format!("height: {ROW_HEIGHT_PX}px");
                    let finding = loaded
                        .get(&(index / SERVER_FINDINGS_PAGE))
                        .and_then(|page| page.get(index % SERVER_FINDINGS_PAGE));
                    match finding {
                        Some(f) => view! {
                            <tr class=format!("severity-{}", f.severity.as_str()) aria-rowindex=row_index style=height>
                                <td title=f.key.clone()>{f.key.clone()}</td>
                                <td><code>{f.code.as_str()}</code></td>
                                <td title=f.message.clone()>{f.message.clone()}</td>
                                <td title=f.how_to_fix.clone()>{f.how_to_fix.clone()}</td>
                            </tr>
                        }
                        .into_any(),
                        None => view! {
                            <tr class="loading" aria-rowindex=row_index style=height>
                                <td colspan="4">"Loading…"</td>
                            </tr>
                        }
                        .into_any(),
                    }
                })
                .collect_view()
        });
        view! {
            <tr class="spacer" aria-hidden="true" style=format!("height: {top}px")></tr>
            {rendered}
            <tr class="spacer" aria-hidden="true" style=format!("height: {bottom}px")></tr>
        }
    };

    let caption = if rows_len < total {
        format!(
            "Found by the server ({}; the table holds the first {}, the findings CSV has all)",
            count(total as u64),
            count(rows_len as u64)
        )
    } else {
        format!("Found by the server ({})", count(total as u64))
    };
    view! {
        <ScrollArea class="server-findings-scroll" scroll_top scroller height="max-height" label="Found by the server">
            <table class="server-findings" aria-rowcount=rows_len + 1>
                <caption>{caption}</caption>
                <thead>
                    <tr aria-rowindex="1">
                        <th scope="col">"Record"</th>
                        <th scope="col">"Code"</th>
                        <th scope="col">"Problem"</th>
                        <th scope="col">"How to fix"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </ScrollArea>
        {move || failure.get().map(|message| view! {
            <p class="form-problem" role="alert">{format!("More of the server's findings could not be loaded: {message}")}</p>
        })}
    }
}

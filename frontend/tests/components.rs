//! The validator UI's components mounted in real headless Chromium
//! (wasm-bindgen-test with chromedriver; `scripts/test.sh` runs them):
//!
//!   CHROMEDRIVER=/usr/bin/chromedriver cargo test -p frontend \
//!       --target wasm32-unknown-unknown --test components
#![cfg(target_arch = "wasm32")]

use std::sync::Arc;

use frontend::findings_table::{FindingsTable, ROW_HEIGHT_PX};
use frontend::protocol::Summary;
use leptos::prelude::*;
use shared::Options;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::HtmlElement;

wasm_bindgen_test_configure!(run_in_browser);

const HEADER: &str = "action,schoolId,userId,userRole,userFirstName,userLastName,userEmail,userGrade,userDistrictId,userStateId,classId,className,classGrade,classDisplayName,isPrimaryTeacher\n";

/// A report with `rows` findings: every student has an invalid email, and
/// every tenth also an invalid grade.
fn summary_with_findings(rows: usize) -> Arc<Summary> {
    let mut file = String::from(HEADER);
    for i in 0..rows {
        let grade = if i % 10 == 0 { "5th" } else { "05" };
        file.push_str(&format!(
            ",S1,U{i},student,Ann,Lee,not-an-email,{grade},,,,,,,\n"
        ));
    }
    let validated = shared::validate(file.as_bytes(), None, Options::default());
    Arc::new(Summary::new(&validated.report, 1.0))
}

fn mount(summary: Arc<Summary>) -> HtmlElement {
    let document = document();
    let host: HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let handle = leptos::mount::mount_to(host.clone(), move || {
        view! { <FindingsTable summary=summary.clone() /> }
    });
    handle.forget();
    host
}

fn rendered_rows(host: &HtmlElement) -> Vec<web_sys::Element> {
    let list = host
        .query_selector_all("table.findings tbody tr:not(.spacer)")
        .unwrap();
    (0..list.length())
        .map(|i| list.item(i).unwrap().unchecked_into())
        .collect()
}

/// Lets the reactive system and the browser catch up.
async fn settle() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 50)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

#[wasm_bindgen_test]
async fn the_findings_table_renders_only_the_rows_in_view() {
    let summary = summary_with_findings(20_000);
    let total = summary.findings.len();
    assert_eq!(total, 22_000);
    let host = mount(summary);
    settle().await;
    let table = host.query_selector("table.findings").unwrap().unwrap();
    assert_eq!(
        table.get_attribute("aria-rowcount").as_deref(),
        Some((total + 1).to_string().as_str())
    );
    let rows = rendered_rows(&host);
    assert!(rows.len() < 60, "{} rows rendered", rows.len());
    assert_eq!(rows[0].get_attribute("aria-rowindex").as_deref(), Some("2"));

    // Scrolled to the middle, the rows there are rendered and announced
    // with their place in the whole table.
    let scroller: HtmlElement = host
        .query_selector(".findings-scroll")
        .unwrap()
        .unwrap()
        .unchecked_into();
    scroller.set_scroll_top((11_000.0 * ROW_HEIGHT_PX) as i32);
    scroller
        .dispatch_event(&web_sys::Event::new("scroll").unwrap())
        .unwrap();
    settle().await;
    let rows = rendered_rows(&host);
    let first: usize = rows[0]
        .get_attribute("aria-rowindex")
        .unwrap()
        .parse()
        .unwrap();
    assert!((10_980..=11_002).contains(&first), "first row {first}");
    assert!(rows.len() < 60);
    host.remove();
}

#[wasm_bindgen_test]
async fn the_code_filter_shows_only_that_code() {
    let host = mount(summary_with_findings(300));
    settle().await;
    let select: web_sys::HtmlSelectElement = host
        .query_selector(".findings-filters select")
        .unwrap()
        .unwrap()
        .unchecked_into();
    select.set_value("invalid-grade");
    select
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
    settle().await;
    let rows = rendered_rows(&host);
    assert_eq!(rows.len(), 30);
    assert!(rows
        .iter()
        .all(|row| row.text_content().unwrap().contains("invalid-grade")));
    let caption = host.query_selector("caption").unwrap().unwrap();
    assert_eq!(
        caption.text_content().as_deref(),
        Some("Findings: 30 shown")
    );
    host.remove();
}

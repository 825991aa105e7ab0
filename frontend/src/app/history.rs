//! History: every upload, and every use of an embed token or upload
//! session (previews and minted sessions too), with who, when, through
//! which credential, file name, mode and counts; each upload opens its
//! report.

use leptos::prelude::*;

use frontend::api;
use frontend::format::count;

use super::local_time;
use frontend::upload_report::UploadReportView;
use shared::api::{HistoryStatus, Tally, UploadSummary};

/// What an entry's `status` says, for people.
fn status_text(status: HistoryStatus) -> &'static str {
    match status {
        HistoryStatus::Committed => "committed",
        HistoryStatus::Previewed => "previewed (nothing changed)",
        HistoryStatus::SessionCreated => "upload session created",
    }
}

/// Through what an entry was done.
fn credential_text(credential: Option<&str>) -> &str {
    credential.unwrap_or("admin's own sign-in")
}

#[component]
pub fn HistoryPage() -> impl IntoView {
    let uploads = LocalResource::new(|| api::get::<Vec<UploadSummary>>("/api/uploads"));
    let open = RwSignal::new(None::<i64>);
    view! {
        <h1>"History"</h1>
        {move || uploads.get().map(|list| match list {
            Err(failure) => view! { <p class="form-problem" role="alert">{failure.message}</p> }.into_any(),
            Ok(list) if list.is_empty() => view! { <p>"No uploads yet."</p> }.into_any(),
            Ok(list) => view! {
                <table class="roster history">
                    <caption>{format!("{} entries, newest first", list.len())}</caption>
                    <thead><tr><th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"Through"</th><th scope="col">"File"</th>
                        <th scope="col">"Mode"</th><th scope="col">"Status"</th><th scope="col">"Created"</th>
                        <th scope="col">"Updated"</th><th scope="col">"Removed"</th><th scope="col"><span class="visually-hidden">"Report"</span></th></tr></thead>
                    <tbody>
                        {list.into_iter().map(|upload| {
                            let id = upload.id;
                            let c = upload.counts;
                            let sum = |f: fn(&Tally) -> u64| count(c.entities().iter().map(|(_, t)| f(t)).sum());
                            let report = upload.report();
                            // A minted session did no upload: its "file" is
                            // the origin it was minted for, with no report.
                            let session_created = upload.status == HistoryStatus::SessionCreated;
                            let file = if session_created {
                                format!("for {}", upload.file_name)
                            } else {
                                upload.file_name.clone()
                            };
                            view! {
                                <tr data-status=upload.status.as_str()>
                                    <td>{local_time(upload.created_at)}</td>
                                    <td>{upload.admin_email.clone()}</td>
                                    <td class="credential" data-credential=upload.credential.clone().unwrap_or_default()>
                                        {credential_text(upload.credential.as_deref()).to_string()}
                                    </td>
                                    <td>{file}</td>
                                    <td>{(!session_created).then(|| upload.mode.as_str())}</td>
                                    <td class="status-cell">{status_text(upload.status)}</td>
                                    <td>{sum(|t| t.created)}</td>
                                    <td>{sum(|t| t.updated)}</td>
                                    <td>{sum(|t| t.removed)}</td>
                                    <td>{(!session_created).then(|| view! {
                                        <button type="button" class="secondary"
                                            aria-expanded=move || (open.get() == Some(id)).to_string()
                                            on:click=move |_| open.update(|o| *o = if *o == Some(id) { None } else { Some(id) })>
                                            "Report"</button>
                                    })}</td>
                                </tr>
                                {move || (open.get() == Some(id)).then(|| view! {
                                    <tr class="history-report"><td colspan="10"><UploadReportView report=report.clone() /></td></tr>
                                })}
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any(),
        })}
    }
}

#[cfg(test)]
mod tests {
    use super::{credential_text, status_text};
    use shared::api::HistoryStatus;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn statuses_and_credentials_read_as_words() {
        for (status, text) in [
            (HistoryStatus::Committed, "committed"),
            (HistoryStatus::Previewed, "previewed (nothing changed)"),
            (HistoryStatus::SessionCreated, "upload session created"),
        ] {
            assert_eq!(status_text(status), text);
        }
        assert_eq!(credential_text(None), "admin's own sign-in");
        assert_eq!(
            credential_text(Some("embed token \"Portal\"")),
            "embed token \"Portal\""
        );
    }
}

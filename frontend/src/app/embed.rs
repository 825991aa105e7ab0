//! Embed tokens, on the Organizations page: the server-side secrets with
//! which another portal's server mints upload sessions for its
//! `<roster-validator>` (or `rostergate push` uploads) for the district. A
//! new token is shown once; only its hash is stored. Removals (full sync,
//! `action` rows, confirming a safety hold) are off unless asked for.

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::{CreatedToken, NewToken, TokenStatus, TokenSummary};

use frontend::api;

use super::local_time;

/// Origins typed one per line (or separated by spaces or commas).
fn origins(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|o| !o.is_empty())
        .map(String::from)
        .collect()
}

#[component]
pub fn EmbedTokens() -> impl IntoView {
    let reload = RwSignal::new(0_u32);
    let tokens = LocalResource::new(move || {
        reload.track();
        api::get::<Vec<TokenSummary>>("/api/embed/tokens")
    });
    let label = RwSignal::new(String::new());
    let days = RwSignal::new("90".to_string());
    let allowed = RwSignal::new(String::new());
    let allow_removals = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let created = RwSignal::new(None::<String>);

    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let request = NewToken {
            label: label.get_untracked(),
            expires_in_days: days.get_untracked().trim().parse().unwrap_or(0),
            allowed_origins: origins(&allowed.get_untracked()),
            allow_removals: allow_removals.get_untracked(),
        };
        spawn_local(async move {
            match api::post::<CreatedToken>("/api/embed/tokens", &request).await {
                Ok(token) => {
                    problem.set(None);
                    allow_removals.set(false);
                    created.set(Some(token.token));
                    reload.update(|r| *r += 1);
                }
                Err(failure) => problem.set(Some(failure.message)),
            }
        });
    };
    let revoke = move |id: i64| {
        spawn_local(async move {
            let path = format!("/api/embed/tokens/{id}");
            match api::request::<serde_json::Value>("DELETE", &path, None::<&()>).await {
                Ok(_) => reload.update(|r| *r += 1),
                Err(failure) => problem.set(Some(failure.message)),
            }
        });
    };

    view! {
        <section class="embed-tokens" aria-labelledby="embed-heading">
            <h2 id="embed-heading">"Embed tokens"</h2>
            <p class="hint">
                "A token lets another portal upload for this district: its server keeps the token and mints a "
                "short-lived upload session for each person it has signed in, for one of the origins you list "
                "(rostergate push uses a token directly). A token must never be put in a web page: revoke and "
                "reissue any token that ever was. Tokens expire, and you can revoke them."
            </p>
            <form class="school-form" on:submit=create>
                <div class="field"><label for="token-label">"Label"</label>
                    <input id="token-label" prop:value=move || label.get() on:input=move |ev| label.set(event_target_value(&ev)) /></div>
                <div class="field"><label for="token-days">"Expires in (days)"</label>
                    <input id="token-days" inputmode="numeric" prop:value=move || days.get() on:input=move |ev| days.set(event_target_value(&ev)) /></div>
                <div class="field"><label for="token-origins">"Allowed origins (one per line)"</label>
                    <textarea id="token-origins" rows="2" placeholder="https://portal.example.org"
                        prop:value=move || allowed.get() on:input=move |ev| allowed.set(event_target_value(&ev))></textarea></div>
                <div class="field">
                    <label class="checkbox" for="token-removals">
                        <input id="token-removals" type="checkbox" aria-describedby="token-removals-hint"
                            prop:checked=move || allow_removals.get()
                            on:change=move |ev| allow_removals.set(event_target_checked(&ev)) />
                        " Allow removals"
                    </label>
                    <p id="token-removals-hint" class="hint">
                        "Full sync, rows with an action, and confirming a safety hold. Upload sessions never remove."
                    </p>
                </div>
                <p class="form-problem" role="alert">{move || problem.get()}</p>
                <button type="submit" class="primary">"Create token"</button>
            </form>
            {move || created.get().map(|token| view! {
                <div class="new-token" role="status">
                    <p><strong>"Copy this token now; it is not shown again:"</strong></p>
                    <code class="token">{token}</code>
                </div>
            })}
            {move || tokens.get().map(|list| match list {
                Err(failure) => view! { <p class="form-problem">{failure.message}</p> }.into_any(),
                Ok(list) => view! {
                    <table class="roster">
                        <caption>{format!("{} tokens", list.len())}</caption>
                        <thead><tr><th scope="col">"Label"</th><th scope="col">"Origins"</th><th scope="col">"Removals"</th><th scope="col">"Created by"</th>
                            <th scope="col">"Expires"</th><th scope="col">"Status"</th><th scope="col"><span class="visually-hidden">"Revoke"</span></th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|t| {
                                let id = t.id;
                                let active = t.status == TokenStatus::Active;
                                view! {
                                    <tr>
                                        <td>{t.label.clone()}</td>
                                        <td>{t.allowed_origins.join(", ")}</td>
                                        <td data-allow-removals=t.allow_removals.to_string()>
                                            {if t.allow_removals { "allowed" } else { "not allowed" }}
                                        </td>
                                        <td>{t.created_by.clone()}</td>
                                        <td>{local_time(t.expires_at)}</td>
                                        <td data-status=t.status.as_str()>{t.status.as_str()}</td>
                                        <td>{active.then(|| view! {
                                            <button type="button" class="secondary" aria-label=format!("Revoke {}", t.label)
                                                on:click=move |_| revoke(id)>"Revoke"</button>
                                        })}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::origins;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn origins_are_read_one_per_line_or_separated() {
        assert_eq!(
            origins("https://a.example.org\n https://b.example.org, http://c:9000\n\n"),
            vec![
                "https://a.example.org",
                "https://b.example.org",
                "http://c:9000"
            ]
        );
        assert!(origins("  \n").is_empty());
    }
}

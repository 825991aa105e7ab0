//! The app: sign-in, the layout with its navigation, and the pages.

mod embed;
mod history;
mod orgs;
mod roster;
mod upload;

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use frontend::api;
use shared::api::SessionInfo;

/// The app's pages; each has its own path, so links and reloads work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Upload,
    Students,
    Staff,
    Classes,
    Organizations,
    History,
}

impl Route {
    pub const ALL: [Route; 6] = [
        Route::Upload,
        Route::Students,
        Route::Staff,
        Route::Classes,
        Route::Organizations,
        Route::History,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Route::Upload => "/upload",
            Route::Students => "/students",
            Route::Staff => "/staff",
            Route::Classes => "/classes",
            Route::Organizations => "/organizations",
            Route::History => "/history",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Route::Upload => "Upload",
            Route::Students => "Students",
            Route::Staff => "Staff",
            Route::Classes => "Classes",
            Route::Organizations => "Organizations",
            Route::History => "History",
        }
    }

    /// The page for a path; anything unknown is the Upload page.
    pub fn from_path(path: &str) -> Route {
        let path = path.trim_end_matches('/');
        Route::ALL
            .into_iter()
            .find(|r| r.path() == path)
            .unwrap_or(Route::Upload)
    }
}

fn current_path() -> String {
    window().location().pathname().unwrap_or_default()
}

/// Where the session stands.
#[derive(Debug, Clone, PartialEq)]
enum Session {
    Checking,
    SignedOut,
    SignedIn(SessionInfo),
}

#[component]
pub fn App() -> impl IntoView {
    let session = RwSignal::new(Session::Checking);
    let route = RwSignal::new(Route::from_path(&current_path()));
    // The validator's wasm loads while the admin signs in or finds the file.
    frontend::session::start_spare_worker(upload::WORKER_URL);

    // Back and forward buttons.
    let on_pop = Closure::<dyn FnMut()>::new(move || route.set(Route::from_path(&current_path())));
    window().set_onpopstate(Some(on_pop.as_ref().unchecked_ref()));
    on_pop.forget();

    spawn_local(async move {
        match api::get::<SessionInfo>("/api/auth/me").await {
            Ok(info) => {
                api::set_csrf_token(Some(info.csrf_token.clone()));
                session.set(Session::SignedIn(info));
            }
            Err(_) => session.set(Session::SignedOut),
        }
    });

    let navigate = move |to: Route| {
        // Going to another page drops the Upload page's edits.
        if route.get_untracked() != to && frontend::fix_session::confirm_leaving() {
            let _ = window()
                .history()
                .and_then(|h| h.push_state_with_url(&JsValue::NULL, "", Some(to.path())));
            route.set(to);
        }
    };

    // The title names the page, for tabs and screen readers.
    Effect::new(move || {
        document().set_title(&format!("{} · RosterGate", route.get().title()));
    });

    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        {move || match session.get() {
            Session::Checking => view! { <p class="loading">"Loading…"</p> }.into_any(),
            Session::SignedOut => view! {
                <SignIn on_signed_in=move |info: SessionInfo| {
                    api::set_csrf_token(Some(info.csrf_token.clone()));
                    session.set(Session::SignedIn(info));
                } />
            }.into_any(),
            Session::SignedIn(info) => view! {
                <Layout info route navigate=Callback::new(navigate) on_signed_out=Callback::new(move |()| {
                    api::set_csrf_token(None);
                    session.set(Session::SignedOut);
                }) />
            }.into_any(),
        }}
    }
}

#[component]
fn SignIn(#[prop(into)] on_signed_in: Callback<SessionInfo>) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        spawn_local(async move {
            let body = serde_json::json!({"email": email.get_untracked(), "password": password.get_untracked()});
            match api::post::<SessionInfo>("/api/auth/sign-in", &body).await {
                Ok(info) => on_signed_in.run(info),
                Err(failure) => problem.set(Some(failure.message)),
            }
            busy.set(false);
        });
    };
    view! {
        <main id="main" class="sign-in">
            <h1>"RosterGate"</h1>
            <p class="tagline">"Sign in to upload and manage your district's roster."</p>
            <form on:submit=submit>
                <div class="field">
                    <label for="email">"Email"</label>
                    <input id="email" type="email" autocomplete="username" required
                        prop:value=move || email.get()
                        on:input=move |ev| email.set(event_target_value(&ev)) />
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input id="password" type="password" autocomplete="current-password" required
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev)) />
                </div>
                <p class="form-problem" role="alert">{move || problem.get()}</p>
                <button type="submit" disabled=move || busy.get()>"Sign in"</button>
            </form>
        </main>
    }
}

#[component]
fn Layout(
    info: SessionInfo,
    route: RwSignal<Route>,
    navigate: Callback<Route>,
    on_signed_out: Callback<()>,
) -> impl IntoView {
    let sign_out = move |_| {
        if !frontend::fix_session::confirm_leaving() {
            return;
        }
        spawn_local(async move {
            let _ =
                api::post::<serde_json::Value>("/api/auth/sign-out", &serde_json::json!({})).await;
            on_signed_out.run(());
        });
    };
    let admin = info.admin.clone();
    view! {
        <header class="site-header">
            <div class="brand">
                <span class="logo">"RosterGate"</span>
                <span class="district">{admin.district_name.clone()}</span>
            </div>
            <nav aria-label="Main">
                <ul>
                    {Route::ALL.into_iter().map(|to| view! {
                        <li>
                            <a
                                href=to.path()
                                aria-current=move || (route.get() == to).then_some("page")
                                on:click=move |ev: leptos::ev::MouseEvent| {
                                    // Let modified clicks open new tabs.
                                    if !(ev.ctrl_key() || ev.meta_key() || ev.shift_key()) {
                                        ev.prevent_default();
                                        navigate.run(to);
                                    }
                                }
                            >
                                {to.title()}
                            </a>
                        </li>
                    }).collect_view()}
                </ul>
            </nav>
            <div class="account">
                <span>{admin.email.clone()}</span>
                <button type="button" class="secondary" on:click=sign_out>"Sign out"</button>
            </div>
        </header>
        <main id="main" tabindex="-1">
            {move || match route.get() {
                Route::Upload => view! { <upload::UploadPage /> }.into_any(),
                Route::Students => view! { <roster::UsersPage scope=roster::Scope::Students /> }.into_any(),
                Route::Staff => view! { <roster::UsersPage scope=roster::Scope::Staff /> }.into_any(),
                Route::Classes => view! { <roster::ClassesPage /> }.into_any(),
                Route::Organizations => view! { <orgs::OrganizationsPage /> }.into_any(),
                Route::History => view! { <history::HistoryPage /> }.into_any(),
            }}
        </main>
    }
}

/// "3 Mar 2026, 14:05" in the admin's own locale.
pub fn local_time(seconds: i64) -> String {
    js_sys::Date::new(&JsValue::from_f64(seconds as f64 * 1000.0))
        .to_locale_string("default", &JsValue::UNDEFINED)
        .into()
}

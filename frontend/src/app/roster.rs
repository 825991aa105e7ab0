//! Students, Staff and Classes: search, school filter, paging; selected
//! users and whole scopes download as users.csv; names and email editable.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos::task::spawn_local;

use frontend::api::{self, encode};
use frontend::format::count;

use shared::api::{Page, RosterClass, RosterUser, School, UserEdit};

const PAGE_SIZE: i64 = 50;
/// Classes larger than this are highlighted (the contract's `class-size`).
const LARGE_CLASS: i64 = shared::dictionary::LIMITS.students_per_class as i64;

pub use shared::api::Scope;

/// A users page's heading: the scopes the app lists.
fn title(scope: Scope) -> &'static str {
    match scope {
        Scope::All => "Students and staff",
        Scope::Students => "Students",
        Scope::Staff => "Staff",
        Scope::Teachers => "Teachers",
        Scope::Admins => "Administrators",
    }
}

/// A list's URL with its filters; blank filters are left out.
fn list_path(base: &str, filters: &[(&str, String)], page: i64) -> String {
    let mut path = format!("{base}?page={page}&pageSize={PAGE_SIZE}");
    for (name, value) in filters {
        if !value.trim().is_empty() {
            path.push_str(&format!("&{name}={}", encode(value.trim())));
        }
    }
    path
}

/// The school filter, shared by the lists.
#[component]
fn SchoolFilter(school: RwSignal<String>) -> impl IntoView {
    let schools = LocalResource::new(|| api::get::<Vec<School>>("/api/schools"));
    view! {
        <label>
            "School "
            <select on:change=move |ev| school.set(event_target_value(&ev))>
                <option value="">"All schools"</option>
                {move || schools.get().and_then(Result::ok).unwrap_or_default().into_iter()
                    .filter_map(|s| s.school_id.map(|id| (id, s.name)))
                    .map(|(id, name)| view! { <option value=id.clone()>{format!("{name} ({id})")}</option> })
                    .collect_view()}
            </select>
        </label>
    }
}

#[component]
fn Pager(page: RwSignal<i64>, total: i64) -> impl IntoView {
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    view! {
        <nav class="pager" aria-label="Pages">
            <button type="button" class="secondary" disabled=move || { page.get() <= 1 }
                on:click=move |_| page.update(|p| *p -= 1)>"Previous"</button>
            <span>{move || format!("Page {} of {pages}", page.get())}</span>
            <button type="button" class="secondary" disabled=move || { page.get() >= pages }
                on:click=move |_| page.update(|p| *p += 1)>"Next"</button>
        </nav>
    }
}

/// The four download scopes, for the district or the chosen school.
#[component]
fn DownloadYourData(school: RwSignal<String>) -> impl IntoView {
    let link = move |scope: &str, file: &str| {
        let mut href = format!("/api/roster/download?scope={scope}");
        if file == "demographics" {
            href.push_str("&file=demographics");
        }
        let school = school.get();
        if !school.is_empty() {
            href.push_str(&format!("&school={}", encode(&school)));
        }
        href
    };
    view! {
        <details class="download-data">
            <summary>"Download your data"</summary>
            <ul>
                <li><a href=move || link("all", "users") download>"All students and staff (users.csv)"</a></li>
                <li><a href=move || link("students", "users") download>"Students only (users.csv)"</a>
                    " · "<a href=move || link("students", "demographics") download>"their demographics.csv"</a></li>
                <li><a href=move || link("staff", "users") download>"Staff only (users.csv)"</a></li>
                <li><a href=move || link("admins", "users") download>"Administrators only (users.csv)"</a></li>
            </ul>
            <p class="hint">{move || if school.get().is_empty() { "For the whole district.".to_string() } else { format!("For school {}.", school.get()) }}</p>
        </details>
    }
}

#[component]
pub fn UsersPage(scope: Scope) -> impl IntoView {
    let search = RwSignal::new(String::new());
    let school = RwSignal::new(String::new());
    let page = RwSignal::new(1_i64);
    let selected = RwSignal::new(BTreeSet::<String>::new());
    let editing = RwSignal::new(None::<RosterUser>);
    let reload = RwSignal::new(0_u32);
    // A new search or school starts at page 1.
    Effect::new(move || {
        search.track();
        school.track();
        page.set(1);
    });
    let users = LocalResource::new(move || {
        reload.track();
        let path = list_path(
            "/api/roster/users",
            &[
                ("scope", scope.as_str().to_string()),
                ("q", search.get()),
                ("school", school.get()),
            ],
            page.get(),
        );
        async move { api::get::<Page<RosterUser>>(&path).await }
    });
    let selected_link = move || {
        let ids: Vec<String> = selected.get().iter().map(|id| encode(id)).collect();
        format!("/api/roster/download?scope=all&users={}", ids.join(","))
    };

    view! {
        <h1>{title(scope)}</h1>
        <div class="list-tools">
            <label>
                "Search "
                <input type="search" placeholder="Name, email or ID"
                    on:change=move |ev| search.set(event_target_value(&ev)) />
            </label>
            <SchoolFilter school />
            <DownloadYourData school />
        </div>
        <p class="selection">
            {move || format!("{} selected", count(selected.get().len() as u64))}
            " "
            <a class="button" href=selected_link download aria-disabled=move || selected.get().is_empty().to_string()
                class:disabled=move || selected.get().is_empty()
                on:click=move |ev| if selected.get_untracked().is_empty() { ev.prevent_default() }>
                "Download selected as users.csv"
            </a>
        </p>
        {move || editing.get().map(|user| view! {
            <EditUser user on_done=Callback::new(move |changed: bool| {
                editing.set(None);
                if changed { reload.update(|r| *r += 1); }
            }) />
        })}
        {move || match users.get() {
            None => view! { <p class="loading">"Loading…"</p> }.into_any(),
            Some(Err(failure)) => view! { <p class="form-problem" role="alert">{failure.message}</p> }.into_any(),
            Some(Ok(list)) => {
                let total = list.total;
                view! {
                    <table class="roster">
                        <caption>{format!("{} {}", count(total as u64), title(scope).to_lowercase())}</caption>
                        <thead><tr>
                            <th scope="col"><span class="visually-hidden">"Select"</span></th>
                            <th scope="col">"User ID"</th><th scope="col">"Name"</th><th scope="col">"Email"</th>
                            <th scope="col">"Role"</th><th scope="col">"Grade"</th><th scope="col">"Schools"</th>
                            <th scope="col"><span class="visually-hidden">"Edit"</span></th>
                        </tr></thead>
                        <tbody>
                            {list.items.into_iter().map(|user| {
                                let id = user.user_id.clone();
                                let id_for_check = id.clone();
                                let name = format!("{} {}", user.first_name, user.last_name);
                                let edit_user = user.clone();
                                view! {
                                    <tr>
                                        <td><input type="checkbox" aria-label=format!("Select {name}")
                                            prop:checked=move || selected.get().contains(&id_for_check)
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                selected.update(|s| { if on { s.insert(id.clone()); } else { s.remove(&id); } });
                                            } /></td>
                                        <td>{user.user_id.clone()}</td>
                                        <td>{name.clone()}</td>
                                        <td>{user.email.clone()}</td>
                                        <td>{user.role.as_str()}</td>
                                        <td>{user.grade.clone().unwrap_or_default()}</td>
                                        <td>{user.school_ids.join(", ")}</td>
                                        <td><button type="button" class="secondary" aria-label=format!("Edit {name}")
                                            on:click=move |_| editing.set(Some(edit_user.clone()))>"Edit"</button></td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    <Pager page total />
                }.into_any()
            }
        }}
    }
}

#[component]
fn EditUser(user: RosterUser, on_done: Callback<bool>) -> impl IntoView {
    let first = RwSignal::new(user.first_name.clone());
    let last = RwSignal::new(user.last_name.clone());
    let email = RwSignal::new(user.email.clone());
    let problem = RwSignal::new(None::<String>);
    let user_id = user.user_id.clone();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let path = format!("/api/roster/users/{}", encode(&user_id));
        spawn_local(async move {
            let edit = UserEdit {
                first_name: first.get_untracked(),
                last_name: last.get_untracked(),
                email: email.get_untracked(),
            };
            match api::put::<serde_json::Value>(&path, &edit).await {
                Ok(_) => on_done.run(true),
                Err(failure) => problem.set(Some(failure.message)),
            }
        });
    };
    view! {
        // novalidate: the server checks with the file's own rules and says
        // what is wrong, the same way for every field.
        <form class="edit-user" novalidate=true on:submit=save aria-label=format!("Edit {}", user.user_id)>
            <h2>{format!("Edit {}", user.user_id)}</h2>
            <div class="field"><label for="edit-first">"First name"</label>
                <input id="edit-first" prop:value=move || first.get() on:input=move |ev| first.set(event_target_value(&ev)) /></div>
            <div class="field"><label for="edit-last">"Last name"</label>
                <input id="edit-last" prop:value=move || last.get() on:input=move |ev| last.set(event_target_value(&ev)) /></div>
            <div class="field"><label for="edit-email">"Email"</label>
                <input id="edit-email" type="email" prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev)) /></div>
            <p class="form-problem" role="alert">{move || problem.get()}</p>
            <button type="submit" class="primary">"Save"</button>
            " "
            <button type="button" class="secondary" on:click=move |_| on_done.run(false)>"Cancel"</button>
        </form>
    }
}

#[component]
pub fn ClassesPage() -> impl IntoView {
    let search = RwSignal::new(String::new());
    let school = RwSignal::new(String::new());
    let page = RwSignal::new(1_i64);
    Effect::new(move || {
        search.track();
        school.track();
        page.set(1);
    });
    let classes = LocalResource::new(move || {
        let path = list_path(
            "/api/roster/classes",
            &[("q", search.get()), ("school", school.get())],
            page.get(),
        );
        async move { api::get::<Page<RosterClass>>(&path).await }
    });
    view! {
        <h1>"Classes"</h1>
        <div class="list-tools">
            <label>"Search "<input type="search" placeholder="Class name or ID"
                on:change=move |ev| search.set(event_target_value(&ev)) /></label>
            <SchoolFilter school />
        </div>
        {move || match classes.get() {
            None => view! { <p class="loading">"Loading…"</p> }.into_any(),
            Some(Err(failure)) => view! { <p class="form-problem" role="alert">{failure.message}</p> }.into_any(),
            Some(Ok(list)) => {
                let total = list.total;
                view! {
                    <table class="roster">
                        <caption>{format!("{} classes; more than {LARGE_CLASS} students is highlighted", count(total as u64))}</caption>
                        <thead><tr><th scope="col">"Class ID"</th><th scope="col">"Name"</th><th scope="col">"School"</th>
                            <th scope="col">"Grade"</th><th scope="col">"Students"</th><th scope="col">"Teachers"</th></tr></thead>
                        <tbody>
                            {list.items.into_iter().map(|c| {
                                let large = c.students > LARGE_CLASS;
                                view! {
                                    <tr class:large-class=large>
                                        <td>{c.class_id}</td><td>{c.name}</td><td>{c.school_id}</td><td>{c.grade}</td>
                                        <td>{count(c.students as u64)}{large.then(|| format!(" (over {LARGE_CLASS})"))}</td>
                                        <td>{count(c.teachers as u64)}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    <Pager page total />
                }.into_any()
            }
        }}
    }
}

//! Organizations: the district's schools (list, add, edit) and the state of
//! the activation gate that opens batch upload.

use leptos::prelude::*;
use leptos::task::spawn_local;

use frontend::api;

use shared::api::{Activation, School, SchoolInput};

#[component]
pub fn OrganizationsPage() -> impl IntoView {
    let reload = RwSignal::new(0_u32);
    let schools = LocalResource::new(move || {
        reload.track();
        api::get::<Vec<School>>("/api/schools")
    });
    let activation = LocalResource::new(move || {
        reload.track();
        api::get::<Activation>("/api/activation")
    });
    // None: the form is closed; Some(None): adding; Some(Some(school)): editing.
    let editing = RwSignal::new(None::<Option<School>>);
    let done = Callback::new(move |changed: bool| {
        editing.set(None);
        if changed {
            reload.update(|r| *r += 1);
        }
    });
    view! {
        <h1>"Organizations"</h1>
        <section class="gate" aria-live="polite">
            {move || activation.get().map(|gate| match gate {
                Ok(gate) if gate.open => view! {
                    <p class="gate-open">"Batch upload is open: every school has a unique school ID."</p>
                }.into_any(),
                Ok(gate) => view! {
                    <div class="gate-closed">
                        <p>"Batch upload is closed until every school has a unique, non-empty school ID. Blocking:"</p>
                        <ul>{gate.blocking_schools.into_iter().map(|s| view! { <li>{format!("{}: {}", s.name, s.reason)}</li> }).collect_view()}</ul>
                    </div>
                }.into_any(),
                Err(failure) => view! { <p class="form-problem">{failure.message}</p> }.into_any(),
            })}
        </section>
        <button type="button" class="primary" on:click=move |_| editing.set(Some(None))>"Add a school"</button>
        {move || editing.get().map(|school| view! { <SchoolForm school on_done=done /> })}
        {move || schools.get().map(|list| match list {
            Err(failure) => view! { <p class="form-problem" role="alert">{failure.message}</p> }.into_any(),
            Ok(list) => view! {
                <table class="roster">
                    <caption>{format!("{} schools", list.len())}</caption>
                    <thead><tr><th scope="col">"School ID"</th><th scope="col">"Name"</th><th scope="col">"Grades"</th>
                        <th scope="col"><span class="visually-hidden">"Edit"</span></th></tr></thead>
                    <tbody>
                        {list.into_iter().map(|school| {
                            let edit = school.clone();
                            let grades = format!("{}–{}", school.low_grade.clone().unwrap_or_default(), school.high_grade.clone().unwrap_or_default());
                            view! {
                                <tr>
                                    <td>{school.school_id.clone().unwrap_or_else(|| "(none)".into())}</td>
                                    <td>{school.name.clone()}</td>
                                    <td>{grades}</td>
                                    <td><button type="button" class="secondary" aria-label=format!("Edit {}", school.name)
                                        on:click=move |_| editing.set(Some(Some(edit.clone())))>"Edit"</button></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any(),
        })}
        <super::embed::EmbedTokens />
    }
}

fn optional(value: String) -> Option<String> {
    let value = value.trim().to_string();
    (!value.is_empty()).then_some(value)
}

#[component]
fn SchoolForm(school: Option<School>, on_done: Callback<bool>) -> impl IntoView {
    let existing = school.as_ref().map(|s| s.id);
    let field = |f: fn(&School) -> Option<String>| {
        RwSignal::new(school.as_ref().and_then(f).unwrap_or_default())
    };
    let school_id = field(|s| s.school_id.clone());
    let name = field(|s| Some(s.name.clone()));
    let low = field(|s| s.low_grade.clone());
    let high = field(|s| s.high_grade.clone());
    let problem = RwSignal::new(None::<String>);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = SchoolInput {
            school_id: optional(school_id.get_untracked()),
            name: name.get_untracked().trim().to_string(),
            low_grade: optional(low.get_untracked()),
            high_grade: optional(high.get_untracked()),
        };
        spawn_local(async move {
            let result = match existing {
                Some(id) => api::put::<School>(&format!("/api/schools/{id}"), &input).await,
                None => api::post::<School>("/api/schools", &input).await,
            };
            match result {
                Ok(_) => on_done.run(true),
                Err(failure) => problem.set(Some(failure.message)),
            }
        });
    };
    let input = |id: &'static str, label: &'static str, value: RwSignal<String>| {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) />
            </div>
        }
    };
    view! {
        <form class="school-form" on:submit=save>
            <h2>{if existing.is_some() { "Edit school" } else { "Add a school" }}</h2>
            {input("school-id", "School ID", school_id)}
            {input("school-name", "Name", name)}
            {input("school-low", "Lowest grade", low)}
            {input("school-high", "Highest grade", high)}
            <p class="form-problem" role="alert">{move || problem.get()}</p>
            <button type="submit" class="primary">"Save"</button>
            " "
            <button type="button" class="secondary" on:click=move |_| on_done.run(false)>"Cancel"</button>
        </form>
    }
}

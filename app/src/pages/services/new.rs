//! `/services/new`: the registration form.
use super::fields::ServiceFields;
use crate::{AuthContext, api::CreateService, types::services::ServiceForm};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::{A, Redirect},
    hooks::use_navigate,
};

/// `/services/new`: registers a service, then shows its page.
#[component]
pub fn NewServicePage() -> impl IntoView {
    let auth = expect_context::<AuthContext>();
    let create = ServerAction::<CreateService>::new();
    // After hydration the app navigates; a plain form post gets the server's redirect instead.
    let navigate = use_navigate();
    Effect::new(move || {
        if let Some(Ok(created)) = create.value().get() {
            navigate(&format!("/services/{}", created.id), Default::default());
        }
    });
    let error =
        Signal::derive(move || create.value().with(|v| v.as_ref().and_then(|r| r.as_ref().err().cloned())));
    let pending = create.pending();
    view! {
        <Title text="Register a service" />
        <Show
            when=move || auth.account.with(Option::is_some)
            fallback=|| view! { <Redirect path="/login" /> }
        >
            <p><A href="/services">"← All services"</A></p>
            <header class="page-header">
                <h1>"Register a service"</h1>
                <p class="muted">
                    "The platform places it on mesh nodes, checks its health there, and routes calls to a healthy placement. "
                    "Empty fields take the defaults shown."
                </p>
            </header>
            <article class="card">
                <ActionForm action=create attr:class="service-form">
                    <ServiceFields initial=ServiceForm::default() error editing=false />
                    <button type="submit" class="button primary" disabled=pending>
                        {move || if pending.get() { "Registering…" } else { "Register service" }}
                    </button>
                </ActionForm>
            </article>
        </Show>
    }
}

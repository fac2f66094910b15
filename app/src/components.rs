//! Small building blocks shared by the pages: navigation, form fields and banners.
use crate::{AuthContext, types::AccountView};
use leptos::prelude::*;
use leptos_router::components::A;

/// Navigation for a visitor.
#[allow(non_snake_case)]
pub fn SignedOutNav() -> impl IntoView {
    view! {
        <A href="/login">"Log in"</A>
        <A href="/signup" attr:class="button primary small">"Sign up"</A>
    }
}

/// Navigation for a logged-in account: where to go, who you are, and the way out.
#[allow(non_snake_case)]
pub fn SignedInNav(account: AccountView) -> impl IntoView {
    let auth = expect_context::<AuthContext>();
    let operator = account.role == crate::types::Role::Admin;
    view! {
        <A href="/dashboard">"Dashboard"</A>
        <A href="/services">"Services"</A>
        <A href="/keys">"API keys"</A>
        <Show when=move || operator>
            <A href="/nodes">"Nodes"</A>
            <A href="/join-tokens">"Join tokens"</A>
        </Show>
        <span class="who" title=account.role.label()>
            {account.email}
        </span>
        <ActionForm action=auth.log_out attr:class="inline">
            <button type="submit" class="button ghost small">"Log out"</button>
        </ActionForm>
    }
}

/// A password input with a show/hide toggle (the toggle needs the hydrated app) and its
/// inline error.
#[component]
pub fn PasswordField(
    /// `new-password` at sign-up, `current-password` at log-in.
    autocomplete: &'static str,
    /// The inline message under the field.
    #[prop(into)]
    error: Signal<Option<String>>,
    /// Guidance shown under the field while there is no error.
    #[prop(optional)]
    hint: Option<&'static str>,
) -> impl IntoView {
    let shown = RwSignal::new(false);
    view! {
        <label for="password">"Password"</label>
        <div class="password-row">
            <input
                id="password"
                name="password"
                type=move || if shown.get() { "text" } else { "password" }
                autocomplete=autocomplete
                required
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby="password-help"
            />
            <button
                type="button"
                class="button ghost small"
                data-testid="toggle-password"
                aria-controls="password"
                aria-pressed=move || shown.get().to_string()
                on:click=move |_| shown.update(|s| *s = !*s)
            >
                {move || if shown.get() { "Hide" } else { "Show" }}
            </button>
        </div>
        <p id="password-help" class:field-error=move || error.get().is_some() class="help">
            {move || error.get().or(hint.map(str::to_string))}
        </p>
    }
}

/// An email input with its inline error.
#[component]
pub fn EmailField(#[prop(into)] error: Signal<Option<String>>) -> impl IntoView {
    view! {
        <label for="email">"Email"</label>
        <input
            id="email"
            name="email"
            type="email"
            autocomplete="email"
            required
            aria-invalid=move || error.get().is_some().to_string()
            aria-describedby="email-help"
        />
        <p id="email-help" class="help field-error">
            {move || error.get()}
        </p>
    }
}

/// The message above a form when an action failed.
#[component]
pub fn ErrorBanner(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || message.get().is_some()>
            <div class="banner error" role="alert">
                {move || message.get()}
            </div>
        </Show>
    }
}

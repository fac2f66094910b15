//! Sign-up and log-in. Both forms post to server functions: enhanced after hydration, and a
//! plain HTML form post before it (errors then come back through the redirect URL).
use crate::{
    AuthContext,
    components::{EmailField, ErrorBanner, PasswordField},
    error::PortalError,
    types::AccountView,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// What a failed auth action shows: a banner above the form and messages under the fields.
struct FormErrors {
    banner: Signal<Option<String>>,
    email: Signal<Option<String>>,
    password: Signal<Option<String>>,
}

impl FormErrors {
    fn of(value: Signal<Option<Result<AccountView, PortalError>>>) -> Self {
        let error = move || value.get().and_then(Result::err);
        let field =
            move |name: &'static str| Signal::derive(move || error().and_then(|e| e.field_error(name)));
        Self {
            banner: Signal::derive(move || error().map(|e| e.to_string())),
            email: field("email"),
            password: field("password"),
        }
    }
}

/// `/signup`
#[component]
pub fn SignUpPage() -> impl IntoView {
    let auth = expect_context::<AuthContext>();
    let action = auth.sign_up;
    let errors = FormErrors::of(Signal::derive(move || action.value().get()));
    let pending = action.pending();
    view! {
        <Title text="Sign up" />
        <section class="card auth">
            <h1>"Create your account"</h1>
            <p class="muted">
                "The first account on a new platform becomes its operator; everyone after is a developer."
            </p>
            <ActionForm action=action attr:novalidate=true>
                <ErrorBanner message=errors.banner />
                <EmailField error=errors.email />
                <PasswordField
                    autocomplete="new-password"
                    error=errors.password
                    hint="At least 10 characters. A passphrase of a few words works well."
                />
                <button type="submit" class="button primary" disabled=pending>
                    {move || if pending.get() { "Creating account…" } else { "Create account" }}
                </button>
            </ActionForm>
            <p class="muted">"Already have an account? " <A href="/login">"Log in"</A></p>
        </section>
    }
}

/// `/login`
#[component]
pub fn LogInPage() -> impl IntoView {
    let auth = expect_context::<AuthContext>();
    let action = auth.log_in;
    let errors = FormErrors::of(Signal::derive(move || action.value().get()));
    let pending = action.pending();
    view! {
        <Title text="Log in" />
        <section class="card auth">
            <h1>"Log in"</h1>
            <ActionForm action=action attr:novalidate=true>
                <ErrorBanner message=errors.banner />
                <EmailField error=errors.email />
                <PasswordField autocomplete="current-password" error=errors.password />
                <button type="submit" class="button primary" disabled=pending>
                    {move || if pending.get() { "Logging in…" } else { "Log in" }}
                </button>
            </ActionForm>
            <p class="muted">"New here? " <A href="/signup">"Create an account"</A></p>
        </section>
    }
}

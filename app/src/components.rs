//! Small building blocks shared by the pages: navigation, form fields and banners.
use crate::{AuthContext, types::AccountView};
use leptos::prelude::*;
use leptos_router::components::{A, Redirect};

/// Navigation for a visitor.
#[allow(non_snake_case)]
pub fn SignedOutNav() -> impl IntoView {
    view! {
        <A href="/marketplace">"Marketplace"</A>
        <A href="/docs">"API docs"</A>
        <A href="/login">"Log in"</A>
        <A href="/signup" attr:class="button primary small">"Sign up"</A>
    }
}

/// Navigation for a logged-in account: where to go, who you are, and the way out.
#[allow(non_snake_case)]
pub fn SignedInNav(account: AccountView) -> impl IntoView {
    let auth = expect_context::<AuthContext>();
    let operator = account.role == crate::types::Role::Operator;
    view! {
        <A href="/dashboard">"Dashboard"</A>
        <A href="/services">"Services"</A>
        <A href="/marketplace">"Marketplace"</A>
        <A href="/subscriptions">"Subscriptions"</A>
        <A href="/listings">"My listings"</A>
        <A href="/keys">"API keys"</A>
        <A href="/usage">"Usage"</A>
        <A href="/billing">"Billing"</A>
        <A href="/earnings">"Earnings"</A>
        <A href="/docs">"API docs"</A>
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

/// Renders its children for a logged-in account only, and sends a visitor to log in.
///
/// A page whose data loads inside (its resources created by the children) runs no server
/// function for a visitor: that call's 401 would race the redirect's 302 for the status of
/// the server-rendered response.
#[component]
pub fn LoggedIn(children: ChildrenFn) -> impl IntoView {
    let auth = expect_context::<AuthContext>();
    view! {
        <Show
            when=move || auth.account.with(Option::is_some)
            fallback=|| view! { <Redirect path="/login" /> }
        >
            {children()}
        </Show>
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

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use leptos_router::{
        components::{Route, Routes},
        path,
    };
    use std::sync::{Arc, Mutex};

    /// A page behind the guard (a redirect needs a matched route).
    #[component]
    fn Guarded() -> impl IntoView {
        view! {
            <LoggedIn>
                <p>"account data"</p>
            </LoggedIn>
        }
    }

    /// Renders `<LoggedIn>` for `account` inside a router; answers the HTML and where the
    /// server was told to redirect, if anywhere.
    fn render_logged_in(account: Option<AccountView>) -> (String, Option<String>) {
        let redirected = Arc::new(Mutex::new(None::<String>));
        let html = Owner::new().with({
            let redirected = Arc::clone(&redirected);
            move || {
                provide_context(leptos_router::location::RequestUrl::new("/billing"));
                leptos_router::components::provide_server_redirect(move |path| {
                    if let Ok(mut to) = redirected.lock() {
                        *to = Some(path.to_owned());
                    }
                });
                provide_context(AuthContext {
                    sign_up: ServerAction::new(),
                    log_in: ServerAction::new(),
                    log_out: ServerAction::new(),
                    account: RwSignal::new(account),
                });
                view! {
                    <leptos_router::components::Router>
                        <Routes fallback=|| ()>
                            <Route path=path!("/billing") view=Guarded />
                        </Routes>
                    </leptos_router::components::Router>
                }
                .to_html()
            }
        });
        let to = redirected.lock().ok().and_then(|to| to.clone());
        (html, to)
    }

    #[test]
    fn logged_in_shows_its_children_to_an_account_and_sends_a_visitor_to_log_in() {
        let account = AccountView {
            id: "acc_1".into(),
            email: "dev@example.com".into(),
            role: crate::types::Role::Developer,
            created_at: chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default(),
        };
        let (html, to) = render_logged_in(Some(account));
        assert!(html.contains("<p>account data</p>"), "{html}");
        assert_eq!(to, None);

        let (html, to) = render_logged_in(None);
        assert!(!html.contains("account data"), "{html}");
        assert_eq!(to.as_deref(), Some("/login"));
    }
}

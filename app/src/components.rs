//! Small building blocks shared by the pages: navigation, form fields and banners.
use crate::{AuthContext, types::AccountView};
use leptos::prelude::*;
use leptos_router::components::{A, Redirect};

/// One group of the navigation: a label (a heading in the small-screen menu, hidden on wide
/// screens where a divider separates the groups) and its links.
struct NavGroup {
    label: &'static str,
    links: &'static [(&'static str, &'static str)],
}

/// The developer's groups, in the order they appear.
const DEVELOPER_GROUPS: [NavGroup; 5] = [
    // Traces sit with the dashboard (what is going on) rather than in a group of their own: the
    // operator's navigation must stay one line at 1280 px, and a group costs a divider. The
    // other observability pages are reached from the traces, a service's or a node's page.
    NavGroup { label: "Overview", links: &[("/dashboard", "Dashboard"), ("/traces", "Traces")] },
    NavGroup {
        label: "Build",
        links: &[("/services", "Services"), ("/keys", "API keys"), ("/docs", "API docs")],
    },
    NavGroup { label: "Data", links: &[("/kv", "KV"), ("/events", "Events"), ("/webhooks", "Webhooks")] },
    NavGroup {
        label: "Marketplace",
        links: &[
            ("/marketplace", "Marketplace"),
            ("/subscriptions", "Subscriptions"),
            ("/listings", "My listings"),
        ],
    },
    NavGroup {
        label: "Money",
        links: &[("/usage", "Usage"), ("/billing", "Billing"), ("/earnings", "Earnings")],
    },
];

/// The operator's group, after the developer's (only the operator account sees it).
const OPERATOR_GROUP: NavGroup =
    NavGroup { label: "Operator", links: &[("/nodes", "Nodes"), ("/join-tokens", "Join tokens")] };

/// A visitor's links.
const VISITOR_LINKS: [(&str, &str); 2] = [("/marketplace", "Marketplace"), ("/docs", "API docs")];

fn nav_groups(role: crate::types::Role) -> Vec<&'static NavGroup> {
    let mut groups: Vec<&'static NavGroup> = DEVELOPER_GROUPS.iter().collect();
    if role == crate::types::Role::Operator {
        groups.push(&OPERATOR_GROUP);
    }
    groups
}

/// The menu toggle of small screens: a `<details>` with nothing inside but its summary, so it
/// works before hydration (and without JavaScript); the panel after it is shown by CSS while
/// it is open (`.nav-toggle[open] + .nav-panel`). Wide screens hide the toggle and always show
/// the panel. After hydration a client-side navigation closes it again.
#[component]
fn MenuToggle() -> impl IntoView {
    let path = leptos_router::hooks::use_location().pathname;
    Effect::new(move |_| {
        path.track();
        fold_menu();
    });
    view! {
        <details class="nav-toggle">
            <summary aria-controls="nav-panel" data-testid="menu-toggle">
                <span class="burger" aria-hidden="true"></span>
                "Menu"
            </summary>
        </details>
    }
}

/// Folds the small screens' menu (in the browser; a link followed from it leaves it open
/// otherwise, as the page around it stays).
fn fold_menu() {
    if let Ok(Some(open)) = document().query_selector(".nav-toggle[open]") {
        let _ = open.remove_attribute("open");
    }
}

/// Navigation for a visitor.
#[allow(non_snake_case)]
pub fn SignedOutNav() -> impl IntoView {
    view! {
        <MenuToggle />
        <div class="nav-panel" id="nav-panel" on:click=|_| fold_menu()>
            {VISITOR_LINKS.iter().map(|(href, label)| view! { <A href=*href>{*label}</A> }).collect_view()}
            <A href="/login">"Log in"</A>
            <A href="/signup" attr:class="button primary small">"Sign up"</A>
        </div>
    }
}

/// Navigation for a logged-in account: where to go (grouped), who you are, and the way out.
#[allow(non_snake_case)]
pub fn SignedInNav(account: AccountView) -> impl IntoView {
    let auth = expect_context::<AuthContext>();
    let groups = nav_groups(account.role);
    let title = format!("Logged in as {} ({})", account.email, account.role.label());
    view! {
        <MenuToggle />
        <div class="nav-panel" id="nav-panel" on:click=|_| fold_menu()>
            {groups
                .into_iter()
                .map(|group| {
                    let id = format!("nav-{}", group.label.to_lowercase());
                    let labelled_by = id.clone();
                    view! {
                        <div class="nav-group" role="group" aria-labelledby=labelled_by>
                            <span class="nav-label" id=id>{group.label}</span>
                            {group
                                .links
                                .iter()
                                .map(|(href, label)| view! { <A href=*href>{*label}</A> })
                                .collect_view()}
                        </div>
                    }
                })
                .collect_view()}
            <div class="nav-account">
                <span class="who" title=title.clone() data-testid="nav-email">
                    {account.email}
                </span>
                <ActionForm action=auth.log_out attr:class="inline">
                    <button type="submit" class="button ghost small" title=title>"Log out"</button>
                </ActionForm>
            </div>
        </div>
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

    fn account(role: crate::types::Role) -> AccountView {
        AccountView {
            id: "acc_1".into(),
            email: "dev@example.com".into(),
            role,
            created_at: chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default(),
        }
    }

    /// Renders the navigation for `account` at `path`.
    fn render_nav(account: Option<AccountView>, path: &'static str) -> String {
        Owner::new().with(move || {
            provide_context(leptos_router::location::RequestUrl::new(path));
            provide_context(AuthContext {
                sign_up: ServerAction::new(),
                log_in: ServerAction::new(),
                log_out: ServerAction::new(),
                account: RwSignal::new(account.clone()),
            });
            view! {
                <leptos_router::components::Router>
                    {match account {
                        Some(account) => SignedInNav(account).into_any(),
                        None => SignedOutNav().into_any(),
                    }}
                </leptos_router::components::Router>
            }
            .to_html()
        })
    }

    fn hrefs(html: &str) -> Vec<&str> {
        html.split("href=\"").skip(1).filter_map(|rest| rest.split('"').next()).collect()
    }

    #[test]
    fn the_navigation_groups_every_page_and_marks_the_current_one() {
        let html = render_nav(Some(account(crate::types::Role::Developer)), "/billing");
        assert_eq!(
            hrefs(&html),
            [
                "/dashboard",
                "/traces",
                "/services",
                "/keys",
                "/docs",
                "/kv",
                "/events",
                "/webhooks",
                "/marketplace",
                "/subscriptions",
                "/listings",
                "/usage",
                "/billing",
                "/earnings"
            ]
        );
        for label in ["Build", "Data", "Marketplace", "Money"] {
            assert!(html.contains(&format!(">{label}</span>")), "no group {label}: {html}");
        }
        assert_eq!(html.matches("aria-current=\"page\"").count(), 1, "{html}");
        assert!(html.contains("href=\"/billing\" aria-current=\"page\""), "{html}");
        // The small screens' menu toggle is a <details>: it works without the app.
        assert!(html.contains("<details class=\"nav-toggle\""), "{html}");
        assert!(html.contains(">Log out</button>"), "{html}");
    }

    #[test]
    fn only_the_operator_sees_the_operator_group() {
        let html = render_nav(Some(account(crate::types::Role::Operator)), "/nodes/abc");
        assert!(hrefs(&html).ends_with(&["/nodes", "/join-tokens"]), "{html}");
        assert!(html.contains("href=\"/nodes\" aria-current=\"page\""), "{html}");
        let html = render_nav(Some(account(crate::types::Role::Developer)), "/");
        assert!(!html.contains("/nodes"), "{html}");
        assert!(!html.contains("/join-tokens"), "{html}");
    }

    #[test]
    fn a_visitor_gets_the_public_pages_and_the_ways_in() {
        let html = render_nav(None, "/login");
        assert_eq!(hrefs(&html), ["/marketplace", "/docs", "/login", "/signup"]);
        assert!(html.contains("href=\"/login\" aria-current=\"page\""), "{html}");
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

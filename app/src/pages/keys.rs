//! The developer's API keys: create one (its secret is shown once, with a Copy button), list
//! them with their scopes and state, and revoke one.
//!
//! As on the services pages, every form is an `ActionForm` and works as a plain form post
//! before hydration: the server answers with a redirect and a failure comes back in the URL.
//! The secret needs one more step: a redirect would lose it, so after a plain post the server
//! keeps the new key in the session for the next load of this page only (never in the URL),
//! and the page shows it from there (`ApiKeysView::created`).
use super::common::{self, CopyState, copy_text, page_origin, when};
use crate::{
    AuthContext,
    api::{CreateApiKey, RevokeApiKey, list_api_keys},
    components::ErrorBanner,
    error::PortalError,
    types::{
        Page,
        keys::{ApiKeyView, CreatedApiKey, KeyState, Scope},
    },
};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Redirect, hooks::use_query_map};

/// The form's field names, as the server reports errors for them. A message for any other
/// name has no input to sit next to, so it goes into the banner above the form.
const FORM_FIELDS: [&str; 3] = ["name", "scopes", "expires_in_days"];

const NAME_HINT: &str = "What will use it, to tell your keys apart.";
const EXPIRES_HINT: &str = "Optional: 1 to 3650. Empty: it never expires.";
const SCOPES_HINT: &str =
    "At least one. Give a key only what it needs: it can do nothing its scopes do not allow.";

/// What a failed page load shows: visitors go to log in, anything else a banner.
fn failure(error: PortalError) -> AnyView {
    common::failure(error, || {
        view! { <div class="banner error" role="alert">"No such API key."</div> }.into_any()
    })
}

/// An optional time, or `none` ("never").
fn when_or(at: Option<DateTime<Utc>>, none: &str) -> String {
    at.map(when).unwrap_or_else(|| none.to_owned())
}

/// "read, invoke".
fn scope_list(scopes: &[Scope]) -> String {
    scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

// ---------------------------------------------------------------------------------------------
// /keys

/// `/keys`: the account's API keys, newest first, a page at a time, with the form that
/// creates one.
#[component]
pub fn KeysPage() -> impl IntoView {
    let auth = expect_context::<AuthContext>();
    let query = use_query_map();
    let cursor = move || query.read().get("cursor").filter(|c| !c.is_empty());
    // Created here, above the Suspense boundaries (which re-render), so an error that came back
    // in the URL of a plain form post reaches them, and a failed create keeps what was typed.
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = Resource::new(
        move || (cursor(), create.version().get(), revoke.version().get()),
        |(cursor, _, _)| list_api_keys(cursor),
    );
    // The last key the hydrated form created: kept when a later attempt fails, so a typo in
    // the next key does not take away a secret not yet copied.
    let minted = Memo::new(move |last: Option<&Option<CreatedApiKey>>| match create.value().get() {
        Some(Ok(created)) => Some(created),
        _ => last.cloned().flatten(),
    });
    let revoke_error = move || revoke.value().get().and_then(Result::err).map(|e| e.to_string());
    view! {
        <Title text="API keys" />
        <Show
            when=move || auth.account.with(Option::is_some)
            fallback=|| view! { <Redirect path="/login" /> }
        >
            <header class="page-header">
                <h1>"API keys"</h1>
                <p class="muted">
                    "Keys let your scripts and servers call the Cloud API as you. Each has scopes, "
                    "an optional expiry, and can be revoked at any time."
                </p>
            </header>
            // The key just created: by the hydrated form (the action's answer), or by a plain
            // form post (the session's, which the page load took). The first does not wait on
            // the list, whose reload would re-render the panel under the Copy button.
            {move || match minted.get() {
                Some(created) => view! { <CreatedKey created /> }.into_any(),
                None => view! {
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let created = keys.await.ok().and_then(|view| view.created);
                            created.map(|created| view! { <CreatedKey created /> })
                        })}
                    </Suspense>
                }
                .into_any(),
            }}
            <CreateKeyForm create />
            {move || revoke_error().map(|m| view! {
                <div class="banner error" role="alert" data-testid="revoke-error">{m}</div>
            })}
            <Suspense fallback=|| view! { <p class="muted">"Loading your keys…"</p> }>
                {move || {
                    let paged = cursor().is_some();
                    Suspend::new(async move {
                        match keys.await {
                            Ok(view) => view! { <KeyList page=view.page paged revoke /> }.into_any(),
                            Err(error) => failure(error),
                        }
                    })
                }}
            </Suspense>
            <HowToUse />
        </Show>
    }
}

/// The key just created, with its secret: shown this once.
#[component]
fn CreatedKey(created: CreatedApiKey) -> impl IntoView {
    let CreatedApiKey { key, secret } = created;
    let input = NodeRef::<leptos::html::Input>::new();
    // The button needs the hydrated app; before that it stays hidden and the text is
    // selectable by hand.
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    let state = RwSignal::new(CopyState::Idle);
    let copy = {
        let secret = secret.clone();
        move |_| {
            copy_text(
                &secret,
                move || {
                    if let Some(input) = input.get() {
                        input.select();
                    }
                },
                state,
            )
        }
    };
    let select = move |_| {
        if let Some(input) = input.get() {
            input.select();
        }
    };
    let expires = when_or(key.expires_at, "never");
    view! {
        <article class="card secret-once" role="status" data-testid="created-key">
            <h2>"Key created — copy it now"</h2>
            <p>
                <strong>"This is the only time the secret is shown — store it now."</strong>
                " Only its hash is kept: if you lose it, revoke the key and create another."
            </p>
            <label for="api-key-secret">
                "Secret of " <strong>{key.name.clone()}</strong> " ("
                <code data-testid="created-prefix">{key.prefix.clone()}</code> ")"
            </label>
            <div class="secret-row">
                <input
                    id="api-key-secret"
                    class="secret"
                    type="text"
                    readonly
                    value=secret
                    spellcheck="false"
                    autocomplete="off"
                    data-testid="api-key-secret"
                    node_ref=input
                    on:focus=select
                />
                <button
                    type="button"
                    class="button"
                    data-testid="copy-secret"
                    hidden=move || !hydrated.get()
                    on:click=copy
                >
                    "Copy"
                </button>
            </div>
            <p class="help" data-testid="copy-status">
                {move || match state.get() {
                    CopyState::Idle => "",
                    CopyState::Copied => "Copied to the clipboard.",
                    CopyState::Selected => "Selected: press Ctrl+C (⌘C on a Mac) to copy.",
                }}
            </p>
            <p class="muted small">
                {format!("Scopes: {}. Expires: {expires}.", scope_list(&key.scopes))}
            </p>
        </article>
    }
}

/// The create form. Its inputs post as `form[…]`, the fields of
/// [`ApiKeyForm`](crate::types::keys::ApiKeyForm).
#[component]
fn CreateKeyForm(create: ServerAction<CreateApiKey>) -> impl IntoView {
    let error =
        Signal::derive(move || create.value().with(|v| v.as_ref().and_then(|r| r.as_ref().err().cloned())));
    view! {
        <article class="card">
            <h2>"Create a key"</h2>
            <KeyFields create error />
        </article>
    }
}

/// The form itself, apart so tests can render it with an error.
#[component]
fn KeyFields(
    create: ServerAction<CreateApiKey>,
    #[prop(into)] error: Signal<Option<PortalError>>,
) -> impl IntoView {
    let (errors, banner) = common::form_errors(error, &FORM_FIELDS);
    let field_error = move |name: &'static str| common::field_error(errors, name);
    let (name_error, scopes_error, expires_error) =
        (field_error("name"), field_error("scopes"), field_error("expires_in_days"));
    // A key just created clears the form for the next one (a failure keeps what was typed).
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move || {
        if matches!(create.value().get(), Some(Ok(_)))
            && let Some(form) = form.get()
        {
            form.reset();
        }
    });
    let pending = create.pending();
    view! {
        <ActionForm action=create node_ref=form attr:class="service-form key-form">
            <ErrorBanner message=banner />
            <div class="form-grid">
                <div class="field">
                    <label for="name">"Name"</label>
                    <input
                        id="name"
                        name="form[name]"
                        type="text"
                        required
                        maxlength="100"
                        placeholder="e.g. ci deploys"
                        aria-invalid=move || name_error.get().is_some().to_string()
                        aria-describedby="name-help"
                    />
                    <p id="name-help" class="help" class:field-error=move || name_error.get().is_some()>
                        {move || name_error.get().unwrap_or_else(|| NAME_HINT.into())}
                    </p>
                </div>
                <div class="field">
                    <label for="expires_in_days">"Expires in days"</label>
                    <input
                        id="expires_in_days"
                        name="form[expires_in_days]"
                        type="text"
                        inputmode="numeric"
                        placeholder="never"
                        aria-invalid=move || expires_error.get().is_some().to_string()
                        aria-describedby="expires_in_days-help"
                    />
                    <p
                        id="expires_in_days-help"
                        class="help"
                        class:field-error=move || expires_error.get().is_some()
                    >
                        {move || expires_error.get().unwrap_or_else(|| EXPIRES_HINT.into())}
                    </p>
                </div>
            </div>
            <fieldset class="scopes" aria-describedby="scopes-help">
                <legend>"Scopes"</legend>
                {Scope::ALL
                    .into_iter()
                    .map(|scope| view! {
                        <label class="check scope">
                            <input
                                type="checkbox"
                                name=format!("form[{}]", scope.as_str())
                                value="on"
                                aria-invalid=move || scopes_error.get().is_some().to_string()
                            />
                            <strong>{scope.as_str()}</strong>
                            <span class="muted">{format!("— {}", scope.describe())}</span>
                        </label>
                    })
                    .collect_view()}
                <p id="scopes-help" class="help" class:field-error=move || scopes_error.get().is_some()>
                    {move || scopes_error.get().unwrap_or_else(|| SCOPES_HINT.into())}
                </p>
            </fieldset>
            <button type="submit" class="button primary" disabled=pending>
                {move || if pending.get() { "Creating…" } else { "Create key" }}
            </button>
        </ActionForm>
    }
}

#[component]
fn KeyList(page: Page<ApiKeyView>, paged: bool, revoke: ServerAction<RevokeApiKey>) -> impl IntoView {
    if page.items.is_empty() && !paged {
        return view! {
            <article class="card">
                <p class="empty-state">"You have no API keys yet."</p>
                <p class="muted">"Create one above; its secret is shown once, right after."</p>
            </article>
        }
        .into_any();
    }
    // A page past the last one (a stale cursor) says so instead of showing an empty table.
    let none_left = page.items.is_empty();
    view! {
        <article class="card">
            <h2>"Your keys"</h2>
            <table class="table" data-testid="keys-table">
                <thead>
                    <tr>
                        <th>"Name"</th><th>"Prefix"</th><th>"Scopes"</th><th>"State"</th><th>"Created"</th>
                        <th>"Last used"</th><th>"Expires"</th><th></th>
                    </tr>
                </thead>
                <tbody>
                    {page.items.into_iter().map(|key| view! { <KeyRow key revoke /> }).collect_view()}
                </tbody>
            </table>
            <common::Pager base="/keys" what="keys" paged none_left next_cursor=page.next_cursor />
        </article>
    }
    .into_any()
}

#[component]
fn KeyRow(key: ApiKeyView, revoke: ServerAction<RevokeApiKey>) -> impl IntoView {
    let pending = revoke.pending();
    let active = key.state == KeyState::Active;
    let revoked_at = key.revoked_at.map(|at| format!("Revoked {}", when(at)));
    view! {
        <tr>
            <td>{key.name.clone()}</td>
            <td><code data-testid="key-prefix">{format!("{}…", key.prefix)}</code></td>
            <td class="badges">
                {key.scopes.iter().map(|s| view! { <span class="tag">{s.as_str()}</span> }).collect_view()}
            </td>
            <td>
                // The join tokens' badge colours: the same three states.
                <span
                    class=format!("badge token-{}", key.state.as_str())
                    title=revoked_at
                    data-testid="key-state"
                >
                    {key.state.as_str()}
                </span>
            </td>
            <td>{when(key.created_at)}</td>
            <td>{when_or(key.last_used_at, "never")}</td>
            <td>{when_or(key.expires_at, "never")}</td>
            <td>
                {active.then(|| view! {
                    <ActionForm action=revoke attr:class="revoke-form">
                        <input type="hidden" name="id" value=key.id.clone() />
                        <label class="check small">
                            <input type="checkbox" required />
                            " I understand this revokes "
                            <code>{key.prefix.clone()}</code>
                        </label>
                        <button type="submit" class="button small danger" disabled=pending>"Revoke"</button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
}

#[component]
fn HowToUse() -> impl IntoView {
    let curl = format!("curl -H \"Authorization: Bearer w4k_…\" {}/api/v1/services", page_origin());
    view! {
        <article class="card" data-testid="keys-how-to">
            <h2>"How to use a key"</h2>
            <p class="muted">"Send it as a bearer token with each Cloud API request:"</p>
            <pre class="copyable">{curl}</pre>
            <p class="muted small">
                "A request needs the scope it asks for: invoke for calls under /api/v1/invoke/, read for "
                "other GET requests, write for the rest. A revoked or expired key answers 401."
            </p>
        </article>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_scopes_read_well() {
        let at = DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default();
        assert_eq!(when(at), "2026-09-21 14:13 UTC");
        assert_eq!(when_or(None, "never"), "never");
        assert_eq!(scope_list(&[Scope::Read, Scope::Invoke]), "read, invoke");
        assert_eq!(crate::pages::common::encode_query("a+b/c=&"), "a%2Bb%2Fc%3D%26");
    }

    #[cfg(feature = "ssr")]
    mod rendered {
        use super::*;

        const SECRET: &str = "w4k_S3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3c";

        fn key(id: &str, name: &str, state: KeyState) -> ApiKeyView {
            let at = DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default();
            ApiKeyView {
                id: id.into(),
                name: name.into(),
                prefix: format!("w4k_{id}x"),
                scopes: vec![Scope::Read, Scope::Invoke],
                state,
                created_at: at,
                expires_at: (state == KeyState::Expired).then_some(at),
                last_used_at: (state == KeyState::Revoked).then_some(at),
                revoked_at: (state == KeyState::Revoked).then_some(at),
            }
        }

        /// Renders `view` as the server would inside the app (router and session context).
        fn render<V: IntoView + 'static>(view: impl FnOnce() -> V + Send + 'static) -> String {
            let owner = Owner::new();
            owner.with(|| {
                provide_context(leptos_router::location::RequestUrl::new("/keys"));
                view! { <leptos_router::components::Router>{view()}</leptos_router::components::Router> }
                    .to_html()
            })
        }

        #[test]
        fn key_table_shows_prefix_scopes_and_state_but_never_a_secret() {
            let html = render(|| {
                let page = Page {
                    items: vec![
                        key("abc123", "ci deploys", KeyState::Active),
                        key("def456", "old laptop", KeyState::Revoked),
                        key("ghi789", "demo", KeyState::Expired),
                    ],
                    next_cursor: Some("c/2".into()),
                };
                view! { <KeyList page paged=false revoke=ServerAction::new() /> }
            });
            for expected in [
                "data-testid=\"keys-table\"",
                "w4k_abc123x…",
                "<span class=\"tag\">read</span>",
                "<span class=\"tag\">invoke</span>",
                ">active</span>",
                ">revoked</span>",
                ">expired</span>",
                "class=\"badge token-revoked\"",
                "title=\"Revoked 2026-09-21 14:13 UTC\"",
                "2026-09-21 14:13 UTC",
                "href=\"/keys?cursor=c%2F2\"",
            ] {
                assert!(html.contains(expected), "missing {expected:?} in {html}");
            }
            // Last used and expires say "never" where there is no time.
            assert!(html.matches(">never</td>").count() >= 3, "{html}");
            // Only the active key can be revoked, and only with the tick.
            assert_eq!(html.matches(">Revoke</button>").count(), 1, "{html}");
            assert!(html.contains("<input type=\"checkbox\" required"), "{html}");
            assert!(html.contains("name=\"id\" value=\"abc123\""));
            assert!(!html.contains("name=\"id\" value=\"def456\""));
            // Listed keys never carry a secret.
            assert!(!html.contains("api-key-secret"));
            assert!(!html.contains("Copy"));
        }

        #[test]
        fn empty_list_says_so() {
            let html = render(|| {
                let page = Page { items: vec![], next_cursor: None };
                view! { <KeyList page paged=false revoke=ServerAction::new() /> }
            });
            assert!(html.contains("You have no API keys yet."));
            assert!(!html.contains("keys-table"));
        }

        #[test]
        fn created_panel_shows_the_secret_once_with_a_copy_button() {
            let html = render(|| {
                let created = CreatedApiKey {
                    key: key("abc123", "ci deploys", KeyState::Active),
                    secret: SECRET.into(),
                };
                view! { <CreatedKey created /> }
            });
            assert!(html.contains(&format!("value=\"{SECRET}\"")), "{html}");
            assert!(html.contains("readonly"));
            assert!(html.contains("data-testid=\"api-key-secret\""));
            assert!(html.contains("This is the only time the secret is shown — store it now."));
            assert!(html.contains("w4k_abc123x"));
            assert!(html.contains("Scopes: read, invoke. Expires: never."));
            // The button is there, hidden until the app hydrates and can reach the clipboard.
            assert!(html.contains("data-testid=\"copy-secret\""));
            assert!(html.contains(">Copy</button>"));
            assert!(html.contains("hidden"), "{html}");
        }

        #[test]
        fn form_posts_every_field_and_describes_the_scopes() {
            let html = render(|| {
                let error: Option<PortalError> = None;
                view! { <KeyFields create=ServerAction::new() error /> }
            });
            for field in ["name", "read", "write", "invoke", "expires_in_days"] {
                assert!(html.contains(&format!("name=\"form[{field}]\"")), "no input for {field}: {html}");
            }
            for scope in Scope::ALL {
                assert!(html.contains(scope.describe()), "no hint for {scope:?}");
            }
            assert!(!html.contains("aria-invalid=\"true\""));
        }

        #[test]
        fn field_errors_sit_next_to_their_fields() {
            let fields = crate::types::services::ServiceFieldErrors::from([
                ("scopes".to_string(), "Choose at least one scope.".to_string()),
                ("expires_in_days".to_string(), "A whole number of days.".to_string()),
                ("other".to_string(), "Odd.".to_string()),
            ]);
            let html = render(move || {
                view! { <KeyFields create=ServerAction::new() error=Some(PortalError::Fields(fields)) /> }
            });
            assert!(html.contains("Choose at least one scope."));
            assert!(html.contains("A whole number of days."));
            // Three scope boxes and the expiry; the name is fine.
            assert_eq!(html.matches("aria-invalid=\"true\"").count(), 4, "{html}");
            assert!(html.contains("Please correct the highlighted fields. other: Odd."));
        }

        #[test]
        fn how_to_use_shows_a_curl_with_a_bearer_key() {
            let html = render(|| view! { <HowToUse /> });
            assert!(html.contains("curl -H \"Authorization: Bearer w4k_…\""), "{html}");
            assert!(html.contains("/api/v1/services"));
        }
    }
}

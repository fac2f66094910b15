//! `/kv`: the account's KV buckets (a `kv` service exposes the bucket named like its slug),
//! and `/kv/:bucket`: a bucket's keys by prefix, one key's kept revisions, and forms to create
//! a key, edit it with compare-and-swap on the revision it was read at, and delete it.
use super::clip;
use crate::{
    api::{CreateKvBucket, DeleteKv, PutKv, browse_kv, list_kv_buckets},
    components::ErrorBanner,
    pages::common::{self, encode_query, field_error, form_errors, when},
    types::memory::{BucketView, KvBrowserView, KvOpenedKey, KvOperation, KvShownRevision},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_params_map, use_query_map},
};

/// The browser's address for `bucket`, with `key` opened and the list at `prefix`.
fn kv_href(bucket: &str, prefix: &str, key: Option<&str>) -> String {
    let mut query = Vec::new();
    if !prefix.is_empty() {
        query.push(format!("prefix={}", encode_query(prefix)));
    }
    if let Some(key) = key {
        query.push(format!("key={}", encode_query(key)));
    }
    let base = format!("/kv/{}", encode_query(bucket));
    if query.is_empty() { base } else { format!("{base}?{}", query.join("&")) }
}

fn failure(error: crate::error::PortalError) -> AnyView {
    common::failure(error, || {
        common::not_found("No such bucket", "It does not exist, or it is not yours.", "/kv", "Your buckets")
    })
}

// ---------------------------------------------------------------------------------------------
// /kv

/// `/kv`: the account's buckets, and the form that creates one.
#[component]
pub fn KvPage() -> impl IntoView {
    let create = ServerAction::<CreateKvBucket>::new();
    let buckets = Resource::new(move || create.version().get(), |_| list_kv_buckets());
    let navigate = use_navigate();
    Effect::new(move || {
        if let Some(Ok(bucket)) = create.value().get() {
            navigate(&kv_href(&bucket.name, "", None), Default::default());
        }
    });
    view! {
        <Title text="KV buckets" />
        <header class="page-header">
            <h1>"KV buckets"</h1>
            <p class="muted">
                "Durable key-value memory with revisions, history, compare-and-swap and expiry. "
                "A kv service exposes the bucket named like its slug through the invoke path; "
                "scripts use " <code>"/api/v1/kv/buckets"</code> "."
            </p>
        </header>
        <Suspense fallback=|| view! { <p class="muted">"Loading your buckets…"</p> }>
            {move || Suspend::new(async move {
                match buckets.await {
                    Ok(list) => view! { <BucketList list /> }.into_any(),
                    Err(error) => failure(error),
                }
            })}
        </Suspense>
        <NewBucketForm create />
    }
}

#[component]
fn BucketList(list: Vec<BucketView>) -> impl IntoView {
    if list.is_empty() {
        return view! {
            <article class="card">
                <p class="empty-state">"You have no buckets yet."</p>
                <p class="muted">"Create one below, or register a service of kind kv."</p>
            </article>
        }
        .into_any();
    }
    view! {
        <article class="card">
            <div class="table-scroll">
            <table class="table" data-testid="buckets-table">
                <thead>
                    <tr><th>"Bucket"</th><th>"Keys"</th><th>"Revision"</th><th>"History kept"</th><th>"Created"</th></tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|b| view! {
                        <tr>
                            <td><A href=kv_href(&b.name, "", None)>{b.name.clone()}</A></td>
                            <td class="num">{b.live_keys}</td>
                            <td class="num">{b.revision}</td>
                            <td class="num">{b.history}</td>
                            <td>{when(b.created_at)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            </div>
        </article>
    }
    .into_any()
}

#[component]
fn NewBucketForm(create: ServerAction<CreateKvBucket>) -> impl IntoView {
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    let (errors, banner) = form_errors(error, &["name", "history"]);
    let (name_error, history_error) = (field_error(errors, "name"), field_error(errors, "history"));
    view! {
        <article class="card">
            <h2>"New bucket"</h2>
            <ActionForm action=create attr:class="service-form">
                <ErrorBanner message=banner />
                <div class="form-grid">
                    <div class="field">
                        <label for="bucket-name">"Name"</label>
                        <input id="bucket-name" name="name" type="text" required maxlength="64"
                            placeholder="e.g. sessions" aria-describedby="bucket-name-help" />
                        <p id="bucket-name-help" class="help" class:field-error=move || name_error.get().is_some()>
                            {move || name_error.get().unwrap_or_else(|| "1–64 letters, digits, '_' or '-'.".into())}
                        </p>
                    </div>
                    <div class="field">
                        <label for="bucket-history">"Revisions kept per key"</label>
                        <input id="bucket-history" name="history" type="text" inputmode="numeric"
                            placeholder="1" aria-describedby="bucket-history-help" />
                        <p id="bucket-history-help" class="help" class:field-error=move || history_error.get().is_some()>
                            {move || history_error.get().unwrap_or_else(|| "1 to 64; empty for 1 (the current value only).".into())}
                        </p>
                    </div>
                </div>
                <button type="submit" class="button primary">"Create bucket"</button>
            </ActionForm>
        </article>
    }
}

// ---------------------------------------------------------------------------------------------
// /kv/:bucket

/// `/kv/:bucket`: the bucket's keys by prefix, the key opened, and the forms that change it.
#[component]
pub fn KvBucketPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let bucket = move || params.read().get("bucket").unwrap_or_default();
    let prefix = move || query.read().get("prefix").unwrap_or_default();
    let cursor = move || query.read().get("cursor").filter(|c| !c.is_empty());
    let key = move || query.read().get("key").filter(|k| !k.is_empty());
    let put = ServerAction::<PutKv>::new();
    let delete = ServerAction::<DeleteKv>::new();
    let view = Resource::new(
        move || (bucket(), prefix(), cursor(), key(), put.version().get(), delete.version().get()),
        |(bucket, prefix, cursor, key, _, _)| browse_kv(bucket, prefix, cursor, key),
    );
    // A key written from the "New key" form is opened, once per write (the action keeps its
    // last answer: following it again would undo the person's next navigation).
    let navigate = use_navigate();
    let followed = StoredValue::new(0usize);
    Effect::new(move || {
        let version = put.version().get();
        if version == followed.get_value() {
            return;
        }
        followed.set_value(version);
        let opened = query.read_untracked().get("key");
        if let Some(Ok(written)) = put.value().get_untracked()
            && opened.as_deref() != Some(written.key.as_str())
        {
            let prefix = query.read_untracked().get("prefix").unwrap_or_default();
            navigate(&kv_href(&written.bucket, &prefix, Some(&written.key)), Default::default());
        }
    });
    view! {
        <Title text=move || format!("KV · {}", bucket()) />
        <Suspense fallback=|| view! { <p class="muted">"Loading the bucket…"</p> }>
            {move || Suspend::new(async move {
                match view.await {
                    Ok(view) => view! { <Browser view put delete /> }.into_any(),
                    Err(error) => failure(error),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Browser(view: KvBrowserView, put: ServerAction<PutKv>, delete: ServerAction<DeleteKv>) -> impl IntoView {
    let KvBrowserView { bucket, prefix, keys, opened } = view;
    let name = bucket.name.clone();
    let next = keys.next_cursor.map(|c| {
        let mut href = kv_href(&name, &prefix, None);
        href.push(if href.contains('?') { '&' } else { '?' });
        href.push_str(&format!("cursor={}", encode_query(&c)));
        href
    });
    let empty = keys.items.is_empty();
    let key_links = keys
        .items
        .into_iter()
        .map(|k| {
            let href = kv_href(&name, &prefix, Some(&k));
            let current = opened.as_ref().is_some_and(|o| o.key == k);
            view! {
                <li><A href=href attr:aria-current=current.then_some("true")><code>{k}</code></A></li>
            }
        })
        .collect_view();
    view! {
        <header class="page-header">
            <p class="muted"><A href="/kv">"KV buckets"</A> " /"</p>
            <h1>{name.clone()}</h1>
            <p class="muted" data-testid="bucket-facts">
                {format!(
                    "{} live keys · revision {} · keeps {} revision{} per key",
                    bucket.live_keys,
                    bucket.revision,
                    bucket.history,
                    if bucket.history == 1 { "" } else { "s" }
                )}
            </p>
        </header>
        <div class="grid">
            <article class="card">
                <h2>"Keys"</h2>
                <form method="get" action=format!("/kv/{}", encode_query(&name)) class="inline-form">
                    <label for="kv-prefix">"Starting with"</label>
                    <input id="kv-prefix" name="prefix" type="text" value=prefix.clone() placeholder="any prefix" />
                    <button type="submit" class="button">"Filter"</button>
                </form>
                {if empty {
                    view! { <p class="muted" data-testid="no-keys">"No keys hold a value here."</p> }.into_any()
                } else {
                    view! { <ul class="key-list" data-testid="kv-keys">{key_links}</ul> }.into_any()
                }}
                {next.map(|href| view! { <div class="pager"><A href=href attr:rel="next">"Next page"</A></div> })}
            </article>
            {match opened {
                Some(opened) => view! { <OpenedKey bucket=name.clone() prefix=prefix.clone() opened put delete /> }.into_any(),
                None => view! { <NewKeyForm bucket=name.clone() put /> }.into_any(),
            }}
        </div>
    }
}

/// What a revision holds, for the table.
fn shown_value(revision: &KvShownRevision) -> String {
    match (revision.operation, &revision.text) {
        (KvOperation::Put, Some(text)) => clip(text, 120),
        (KvOperation::Put, None) => format!("{} bytes (not text)", revision.size),
        (KvOperation::Delete, _) => "deleted".into(),
        (KvOperation::Purge, _) => "purged".into(),
        (KvOperation::Expire, _) => "expired".into(),
    }
}

#[component]
fn OpenedKey(
    bucket: String,
    prefix: String,
    opened: KvOpenedKey,
    put: ServerAction<PutKv>,
    delete: ServerAction<DeleteKv>,
) -> impl IntoView {
    let current = opened.revisions.first().cloned();
    let live = current.as_ref().filter(|c| c.operation == KvOperation::Put).cloned();
    let put_error = Signal::derive(move || put.value().get().and_then(Result::err));
    let (errors, banner) = form_errors(put_error, &["value", "ttl_seconds"]);
    let ttl_error = field_error(errors, "ttl_seconds");
    let delete_error =
        Signal::derive(move || delete.value().get().and_then(Result::err).map(|e| e.to_string()));
    let key = opened.key.clone();
    let rows = opened
        .revisions
        .iter()
        .map(|r| {
            view! {
                <tr>
                    <td class="num">{r.revision}</td>
                    <td>{r.operation.as_str()}</td>
                    <td>{when(r.created_at)}</td>
                    <td class="wrap">{shown_value(r)}</td>
                </tr>
            }
        })
        .collect_view();
    let expected = live.as_ref().map(|l| l.revision.to_string()).unwrap_or_default();
    let text = live.as_ref().and_then(|l| l.text.clone()).unwrap_or_default();
    let save = match &live {
        Some(live) => format!("Save over revision {}", live.revision),
        None => "Write".to_owned(),
    };
    let facts = match &live {
        Some(live) => view! {
            <dl class="facts">
                <dt>"Revision"</dt><dd data-testid="kv-revision">{live.revision}</dd>
                <dt>"Written"</dt><dd>{when(live.created_at)}</dd>
                <dt>"Expires"</dt><dd>{live.expires_at.map(when).unwrap_or_else(|| "never".into())}</dd>
                <dt>"Size"</dt><dd>{format!("{} bytes", live.size)}</dd>
            </dl>
        }
        .into_any(),
        None => view! {
            <p class="muted">"This key holds no value now: it was deleted, purged or expired. Writing it again creates it."</p>
        }
        .into_any(),
    };
    let delete_form = live.is_some().then(|| {
        let (bucket, key) = (bucket.clone(), key.clone());
        view! {
            <ActionForm action=delete attr:class="revoke-form" attr:data-testid="kv-delete">
                <ErrorBanner message=delete_error />
                <input type="hidden" name="bucket" value=bucket />
                <input type="hidden" name="key" value=key />
                <label class="check small"><input type="checkbox" required />" Delete this key (its history stays)"</label>
                <button type="submit" class="button danger">"Delete"</button>
            </ActionForm>
        }
    });
    let new_key = kv_href(&bucket, &prefix, None);
    view! {
        <article class="card" data-testid="kv-opened">
            <h2><code>{key.clone()}</code></h2>
            {facts}
            <ActionForm action=put attr:class="service-form" attr:data-testid="kv-edit">
                <ErrorBanner message=banner />
                <input type="hidden" name="bucket" value=bucket />
                <input type="hidden" name="key" value=key />
                // Compare-and-swap: the write only lands if nobody wrote the key since this page
                // read it (empty: only if it still holds no value).
                <input type="hidden" name="expected_revision" value=expected />
                <div class="field">
                    <label for="kv-value">"Value"</label>
                    <textarea id="kv-value" name="value" rows="6" spellcheck="false">
                        {text}
                    </textarea>
                </div>
                <div class="field">
                    <label for="kv-ttl">"Expires after (seconds)"</label>
                    <input id="kv-ttl" name="ttl_seconds" type="text" inputmode="numeric" placeholder="never" />
                    <p class="help" class:field-error=move || ttl_error.get().is_some()>
                        {move || ttl_error.get().unwrap_or_else(|| "Optional. Writing again without it removes the expiry.".into())}
                    </p>
                </div>
                <button type="submit" class="button primary" data-testid="kv-save">{save}</button>
            </ActionForm>
            {delete_form}
            <h3>"History"</h3>
            <div class="table-scroll">
            <table class="table" data-testid="kv-history">
                <thead><tr><th>"Revision"</th><th>"Operation"</th><th>"When"</th><th>"Value"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            </div>
            <p><A href=new_key>"New key"</A></p>
        </article>
    }
}

#[component]
fn NewKeyForm(bucket: String, put: ServerAction<PutKv>) -> impl IntoView {
    let put_error = Signal::derive(move || put.value().get().and_then(Result::err));
    let (errors, banner) = form_errors(put_error, &["key", "value", "ttl_seconds"]);
    let (key_error, ttl_error) = (field_error(errors, "key"), field_error(errors, "ttl_seconds"));
    view! {
        <article class="card">
            <h2>"New key"</h2>
            <ActionForm action=put attr:class="service-form" attr:data-testid="kv-new">
                <ErrorBanner message=banner />
                <input type="hidden" name="bucket" value=bucket />
                // Empty: create only, never overwrite a key that already holds a value.
                <input type="hidden" name="expected_revision" value="" />
                <div class="field">
                    <label for="kv-key">"Key"</label>
                    <input id="kv-key" name="key" type="text" required maxlength="1024" placeholder="e.g. user.42.profile" />
                    <p class="help" class:field-error=move || key_error.get().is_some()>
                        {move || key_error.get().unwrap_or_else(|| "Letters, digits and - _ . / = (dots group keys for prefixes).".into())}
                    </p>
                </div>
                <div class="field">
                    <label for="kv-new-value">"Value"</label>
                    <textarea id="kv-new-value" name="value" rows="4" spellcheck="false"></textarea>
                </div>
                <div class="field">
                    <label for="kv-new-ttl">"Expires after (seconds)"</label>
                    <input id="kv-new-ttl" name="ttl_seconds" type="text" inputmode="numeric" placeholder="never" />
                    <p class="help" class:field-error=move || ttl_error.get().is_some()>
                        {move || ttl_error.get().unwrap_or_else(|| "Optional.".into())}
                    </p>
                </div>
                <button type="submit" class="button primary">"Create key"</button>
            </ActionForm>
        </article>
    }
}

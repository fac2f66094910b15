//! `/events`: the account's event log — the topics and newest messages (filterable with `*`
//! and `>`), the durable consumers with how far behind they are, and the dead letters with a
//! button that publishes one again on the topic it came from.
use super::clip;
use crate::{
    api::{RepublishDeadLetter, get_events_overview},
    components::ErrorBanner,
    pages::common::{self, when},
    types::events::{ConsumerView, EventsOverview, MessageView, dead_letter},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use std::collections::BTreeMap;

/// `/events`: topics, newest messages, consumers and dead letters.
#[component]
pub fn EventsPage() -> impl IntoView {
    let query = use_query_map();
    let filter = move || query.read().get("filter").filter(|f| !f.is_empty());
    let republish = ServerAction::<RepublishDeadLetter>::new();
    let overview = Resource::new(
        move || (filter(), republish.version().get()),
        |(filter, _)| get_events_overview(filter),
    );
    let republished = move || match republish.value().get() {
        Some(Ok(published)) => Some(format!("Published again as #{} on {}.", published.seq, published.topic)),
        _ => None,
    };
    let republish_error =
        Signal::derive(move || republish.value().get().and_then(Result::err).map(|e| e.to_string()));
    view! {
        <Title text="Events" />
        <header class="page-header">
            <h1>"Events"</h1>
            <p class="muted">
                "Your event log: what you publish on " <code>"acct.<your id>.…"</code>
                " and what the platform tells you on " <code>"platform.…"</code>
                " (services, usage, invoices, subscriptions, alerts). Programs read it with durable consumers "
                "or webhooks; see the API docs."
            </p>
        </header>
        <form method="get" action="/events" class="inline-form card">
            <label for="events-filter">"Topics"</label>
            <input id="events-filter" name="filter" type="text" value=filter placeholder="everything, or e.g. platform.> or acct.*.orders" />
            <button type="submit" class="button">"Show"</button>
        </form>
        {move || republished().map(|m| view! { <div class="banner ok" role="status" data-testid="republished">{m}</div> })}
        <ErrorBanner message=republish_error />
        <Suspense fallback=|| view! { <p class="muted">"Loading your events…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => view! { <Overview overview republish /> }.into_any(),
                    Err(error) => common::failure(error, || {
                        view! { <div class="banner error" role="alert">"Nothing to show."</div> }.into_any()
                    }),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Overview(overview: EventsOverview, republish: ServerAction<RepublishDeadLetter>) -> impl IntoView {
    let EventsOverview { recent, consumers, dead_letters } = overview;
    // Topics among the newest messages: how many, and the newest one's time.
    let mut topics: BTreeMap<String, (usize, chrono::DateTime<chrono::Utc>)> = BTreeMap::new();
    for m in &recent {
        let entry = topics.entry(m.topic.clone()).or_insert((0, m.published_at));
        entry.0 += 1;
        entry.1 = entry.1.max(m.published_at);
    }
    view! {
        <div class="grid">
            <article class="card">
                <h2>"Topics"</h2>
                {if topics.is_empty() {
                    view! { <p class="muted" data-testid="no-messages">"No messages yet."</p> }.into_any()
                } else {
                    view! {
                        <table class="table" data-testid="topics-table">
                            <thead><tr><th>"Topic"</th><th>"Recent"</th><th>"Newest"</th></tr></thead>
                            <tbody>
                                {topics.into_iter().map(|(topic, (count, newest))| view! {
                                    <tr>
                                        <td><a href=format!("/events?filter={}", common::encode_query(&topic))><code>{topic.clone()}</code></a></td>
                                        <td class="num">{count}</td>
                                        <td>{when(newest)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }}
            </article>
            <Consumers consumers />
        </div>
        <article class="card">
            <h2>"Newest messages"</h2>
            <MessageTable messages=recent testid="messages-table" />
        </article>
        <article class="card">
            <h2>"Dead letters"</h2>
            <p class="muted">
                "Messages a consumer could not process: past their maximum deliveries, or terminated. "
                "Publishing one again puts it back on its topic, where consumers get it as a new message."
            </p>
            <DeadLetters letters=dead_letters republish />
        </article>
    }
}

#[component]
fn Consumers(consumers: Vec<ConsumerView>) -> impl IntoView {
    view! {
        <article class="card">
            <h2>"Consumers"</h2>
            {if consumers.is_empty() {
                view! {
                    <p class="muted">"No durable consumers. Create one with "
                        <code>"POST /api/v1/events/consumers"</code> "."</p>
                }.into_any()
            } else {
                view! {
                    <table class="table" data-testid="consumers-table">
                        <thead><tr><th>"Name"</th><th>"Filter"</th><th>"Lag"</th><th>"Unacked"</th><th>"Max deliveries"</th></tr></thead>
                        <tbody>
                            {consumers.into_iter().map(|c| view! {
                                <tr>
                                    <td>{c.name}</td>
                                    <td><code>{c.filter}</code></td>
                                    <td class="num" title="Messages matching its filter not yet handed out">{c.lag}</td>
                                    <td class="num">{c.pending}</td>
                                    <td class="num">{c.max_deliver}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </article>
    }
}

#[component]
fn MessageTable(messages: Vec<MessageView>, testid: &'static str) -> impl IntoView {
    if messages.is_empty() {
        return view! { <p class="muted">"None."</p> }.into_any();
    }
    view! {
        <div class="table-scroll">
        <table class="table" data-testid=testid>
            <thead><tr><th>"#"</th><th>"Topic"</th><th>"Published"</th><th>"Data"</th></tr></thead>
            <tbody>
                {messages.into_iter().map(|m| view! {
                    <tr>
                        <td class="num">{m.seq}</td>
                        <td><code>{m.topic}</code></td>
                        <td>{when(m.published_at)}</td>
                        <td class="wrap"><code>{clip(&m.data, 160)}</code></td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
    .into_any()
}

#[component]
fn DeadLetters(letters: Vec<MessageView>, republish: ServerAction<RepublishDeadLetter>) -> impl IntoView {
    if letters.is_empty() {
        return view! { <p class="muted" data-testid="no-dead-letters">"None: every message was settled."</p> }.into_any();
    }
    let header = |m: &MessageView, name: &str| m.headers.get(name).cloned().unwrap_or_default();
    view! {
        <div class="table-scroll">
        <table class="table" data-testid="dead-letters-table">
            <thead>
                <tr><th>"#"</th><th>"From topic"</th><th>"Consumer"</th><th>"Reason"</th><th>"Deliveries"</th><th>"Data"</th><th></th></tr>
            </thead>
            <tbody>
                {letters.into_iter().map(|m| {
                    let (topic, consumer) = (header(&m, dead_letter::TOPIC), header(&m, dead_letter::CONSUMER));
                    let (reason, deliveries) = (header(&m, dead_letter::REASON), header(&m, dead_letter::DELIVERIES));
                    view! {
                        <tr>
                            <td class="num">{m.seq}</td>
                            <td><code>{topic}</code></td>
                            <td>{consumer}</td>
                            <td>{reason}</td>
                            <td class="num">{deliveries}</td>
                            <td class="wrap"><code>{clip(&m.data, 120)}</code></td>
                            <td>
                                <ActionForm action=republish attr:class="inline-form">
                                    <input type="hidden" name="seq" value=m.seq.to_string() />
                                    <button type="submit" class="button">"Publish again"</button>
                                </ActionForm>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
    .into_any()
}

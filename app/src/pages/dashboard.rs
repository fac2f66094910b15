//! The dashboard: who is logged in, and what to do next.
use crate::{
    AuthContext,
    types::{AccountView, Role},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

/// `/dashboard` (log-in required: visitors are redirected to `/login`).
#[component]
pub fn DashboardPage() -> impl IntoView {
    let auth = expect_context::<AuthContext>();
    view! {
        <Title text="Dashboard" />
        {move || match auth.account.get() {
            Some(account) => view! { <Dashboard account /> }.into_any(),
            None => view! { <Redirect path="/login" /> }.into_any(),
        }}
    }
}

/// One step of the getting-started list.
struct Step {
    title: &'static str,
    text: &'static str,
    done: bool,
}

fn next_steps(role: Role) -> Vec<Step> {
    let mut steps = vec![Step { title: "Create your account", text: "Done. You are logged in.", done: true }];
    if role == Role::Admin {
        steps.push(Step {
            title: "Add nodes to the mesh",
            text: "Mint a join token on the Join tokens page, start `server node` with it on another machine, and watch it join on the Nodes page.",
            done: false,
        });
    }
    steps.extend([
        Step {
            title: "Register a service",
            text: "Services → New service: point the platform at an HTTP API you own. It is placed on healthy mesh nodes and callable at /api/v1/invoke/{id}/.",
            done: false,
        },
        Step {
            title: "Create an API key and call your service",
            text: "API keys, usage metering and bills come with the next release; until then call your services with your session, or with Try it on each service's page.",
            done: false,
        },
    ]);
    steps
}

#[component]
fn Dashboard(account: AccountView) -> impl IntoView {
    let since = account.created_at.format("%e %B %Y").to_string();
    let steps = next_steps(account.role);
    view! {
        <section class="dashboard">
            <header class="page-header">
                <h1>"Dashboard"</h1>
                <p class="muted">
                    "Signed in as " <strong data-testid="account-email">{account.email.clone()}</strong>
                </p>
            </header>
            <div class="grid">
                <article class="card">
                    <h2>"Account"</h2>
                    <dl class="facts">
                        <dt>"Email"</dt>
                        <dd>{account.email}</dd>
                        <dt>"Role"</dt>
                        <dd>
                            <span class="badge" data-testid="account-role">{account.role.label()}</span>
                        </dd>
                        <dt>"Member since"</dt>
                        <dd>{since}</dd>
                        <dt>"Account id"</dt>
                        <dd><code>{account.id}</code></dd>
                    </dl>
                </article>
                <article class="card">
                    <h2>"Services"</h2>
                    <p class="muted">
                        "Register the APIs you own, see which nodes run them and whether they are healthy, and call them through the mesh."
                    </p>
                    <p>
                        <a href="/services" class="button">"Open services"</a>
                    </p>
                </article>
            </div>
            <article class="card">
                <h2>"Getting started"</h2>
                <ol class="steps">
                    {steps
                        .into_iter()
                        .map(|step| {
                            view! {
                                <li class:done=step.done>
                                    <strong>{step.title}</strong>
                                    <span class="muted">{step.text}</span>
                                </li>
                            }
                        })
                        .collect_view()}
                </ol>
            </article>
        </section>
    }
}

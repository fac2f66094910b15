//! The dashboard: who is logged in, and what to do next.
use crate::{
    AuthContext,
    types::{AccountView, Role},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Redirect};

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
    /// Where the step is done, when a page of its own does it.
    href: Option<&'static str>,
}

fn next_steps(role: Role) -> Vec<Step> {
    let mut steps =
        vec![Step { title: "Create your account", text: "Done. You are logged in.", done: true, href: None }];
    if role == Role::Operator {
        steps.push(Step {
            title: "Add nodes to the mesh",
            text: "Mint a join token on the Join tokens page, start `server node` with it on another machine, and watch it join on the Nodes page.",
            done: false,
            href: None,
        });
    }
    steps.extend([
        Step {
            title: "Register a service",
            text: "Services → New service: point the platform at an HTTP API you own. It is placed on healthy mesh nodes and callable at /api/v1/invoke/{id}/.",
            done: false,
            href: None,
        },
        Step {
            title: "Create an API key and call your service",
            text: "API keys: create one with the invoke scope, copy its secret (it is shown once), and send it as Authorization: Bearer w4k_… with your calls.",
            done: false,
            href: Some("/keys"),
        },
        Step {
            title: "Watch your usage and your bill",
            text: "Usage charts your calls per day and service; Billing shows this month's draft invoice and past invoices; Earnings shows what your priced services earned.",
            done: false,
            href: Some("/usage"),
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
                                    <strong>
                                        {match step.href {
                                            Some(href) => view! { <A href=href>{step.title}</A> }.into_any(),
                                            None => step.title.into_any(),
                                        }}
                                    </strong>
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

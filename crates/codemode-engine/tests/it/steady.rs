//! Realistic task programs against the `steady` mock server, which validates every request
//! against the real GitHub and Stripe specs and answers with generated examples. Each task is
//! what an agent does: search with a task sentence, find the operation in the answer, run one
//! program against it, check the answer. A request steady finds invalid gets a 400, so "every
//! call 2xx" means zero validation errors.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use codemode_engine::upstream::{Credential, Secret, UpstreamConfig};
use codemode_engine::{Engine, EngineConfig, ExecuteOutcome, ExecuteRequest, SearchRequest};
use codemode_test_support::ProcessGroup;
use serde_json::Value;

const CANARY: &str = "canary-token-7f3a9c1e5b";

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn shared_specs() -> PathBuf {
    codemode_test_support::specs_dir()
}

/// A steady server, killed when dropped: `node_modules/.bin/steady` is a node wrapper that starts
/// the real server as its child, so the whole process group goes.
struct Steady {
    _group: ProcessGroup,
    port: u16,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_steady(spec: &Path, extra: &[&str]) -> Steady {
    let bin = workspace().join("node_modules/.bin");
    let steady = bin.join("steady");
    assert!(
        steady.exists(),
        "steady is not installed: run scripts/install-test-tools (npm ci) at the repo root"
    );
    let port = free_port();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let group = ProcessGroup::spawn(
        Command::new(&steady)
            .args(["-p", &port.to_string(), "--host", "127.0.0.1", "-q"])
            .args(extra)
            .arg(spec)
            .env("PATH", path)
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
    .expect("steady starts");
    let steady = Steady {
        _group: group,
        port,
    };
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "steady did not start within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    steady
}

fn engine(spec_path: &Path, port: u16) -> Engine {
    let spec = codemode_engine::spec::load(spec_path.to_str().unwrap(), &Default::default())
        .unwrap()
        .spec;
    let config = EngineConfig {
        upstream: Some(UpstreamConfig {
            base_url: format!("http://127.0.0.1:{port}"),
            credentials: vec![Credential::Bearer(Secret::new(CANARY))],
            ..UpstreamConfig::default()
        }),
        ..EngineConfig::default()
    };
    Engine::new(spec, config).unwrap()
}

struct Task {
    /// What an agent would type into search; the operation must be in the top 5 and declared.
    search: &'static str,
    operation: &'static str,
    code: &'static str,
    check: fn(&Value) -> bool,
}

async fn run_tasks(engine: &Engine, tasks: &[Task]) {
    let mut failures = Vec::new();
    for task in tasks {
        let answer = engine
            .search(&SearchRequest {
                query: task.search.into(),
                limit: Some(5),
                api: None,
                ..Default::default()
            })
            .unwrap();
        if !answer.hits.iter().any(|h| h.name == task.operation) {
            let got: Vec<_> = answer.hits.iter().map(|h| h.name.as_str()).collect();
            failures.push(format!(
                "search {:?}: {} not in top 5 {got:?}",
                task.search, task.operation
            ));
        } else if !answer.text.contains(&format!("{}(", task.operation)) {
            failures.push(format!(
                "search {:?}: answer does not declare {}",
                task.search, task.operation
            ));
        }
        let outcome = engine
            .execute(ExecuteRequest {
                code: task.code.into(),
                ..Default::default()
            })
            .await;
        if let Some(problem) = problem(&outcome, task) {
            failures.push(format!("{}: {problem}", task.operation));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} tasks failed:\n{}",
        failures.len(),
        tasks.len(),
        failures.join("\n")
    );
}

fn problem(outcome: &ExecuteOutcome, task: &Task) -> Option<String> {
    let rendered = format!("{outcome:?}");
    if rendered.contains(CANARY) {
        return Some("the credential leaked into the outcome".into());
    }
    if outcome.calls.is_empty() {
        return Some("no upstream call was made".into());
    }
    if let Some(bad) = outcome
        .calls
        .iter()
        .find(|c| !c.status.is_some_and(|s| (200..300).contains(&s)))
    {
        return Some(format!(
            "steady refused {} {} with {:?}: {rendered}",
            bad.method, bad.path, bad.status
        ));
    }
    match &outcome.result {
        Ok(value) if (task.check)(value) => None,
        Ok(value) => Some(format!("unexpected result {value}")),
        Err(failure) => Some(format!("failed: {failure:?}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_tasks_against_steady() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("github.json");
    let gz = std::fs::read(shared_specs().join("github-api.github.com.json.gz")).unwrap();
    let mut json = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut json).unwrap();
    std::fs::write(&spec, json).unwrap();
    let steady = start_steady(&spec, &[]);
    let engine = engine(&spec, steady.port);
    run_tasks(&engine, GITHUB_TASKS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_tasks_against_steady() {
    let spec = shared_specs().join("stripe-spec3.yaml");
    let steady = start_steady(
        &spec,
        &[
            "--validator-form-object-format=brackets",
            "--validator-form-array-format=brackets",
            "--validator-query-array-format=brackets",
        ],
    );
    let engine = engine(&spec, steady.port);
    run_tasks(&engine, STRIPE_TASKS).await;
}

const GITHUB_TASKS: &[Task] = &[
    Task {
        search: "open a new issue in a repository",
        operation: "issuesCreate",
        code: r#"
            const issue = await api.issuesCreate({ owner: "acme", repo: "app", body: { title: "Crash on start", body: "Steps…" } });
            await api.issuesAddLabels({ owner: "acme", repo: "app", issue_number: issue.number, body: { labels: ["bug"] } });
            return { number: issue.number };
        "#,
        check: |v| v["number"].is_number(),
    },
    Task {
        search: "list the open pull requests of a repo",
        operation: "pullsList",
        code: r#"
            const prs = await api.pullsList({ owner: "acme", repo: "app", state: "open", per_page: 3 });
            const files = await Promise.all(prs.slice(0, 3).map(pr => api.pullsListFiles({ owner: "acme", repo: "app", pull_number: pr.number })));
            return prs.slice(0, 3).map((pr, i) => ({ number: pr.number, files: files[i].length }));
        "#,
        check: |v| {
            v.as_array()
                .is_some_and(|a| !a.is_empty() && a[0]["files"].is_number())
        },
    },
    Task {
        search: "files changed in a pull request",
        operation: "pullsListFiles",
        code: r#"return (await api.pullsListFiles({ owner: "acme", repo: "app", pull_number: 7 })).map(f => f.filename);"#,
        check: |v| v.is_array(),
    },
    Task {
        search: "get a repository by owner and name",
        operation: "reposGet",
        code: r#"const r = await api.reposGet({ owner: "acme", repo: "app" }); return { stars: r.stargazers_count };"#,
        check: |v| v["stars"].is_number(),
    },
    Task {
        search: "comment on an issue",
        operation: "issuesCreateComment",
        code: r#"const c = await api.issuesCreateComment({ owner: "acme", repo: "app", issue_number: 3, body: { body: "Thanks!" } }); return c.id;"#,
        check: |v| v.is_number(),
    },
    Task {
        search: "list repositories of an organization",
        operation: "reposListForOrg",
        code: r#"
            const repos = await api.reposListForOrg({ org: "acme", type: "public", per_page: 10 });
            return repos.filter(r => !r.archived).map(r => r.full_name);
        "#,
        check: |v| v.is_array(),
    },
    Task {
        search: "merge a pull request with squash",
        operation: "pullsMerge",
        code: r#"const m = await api.pullsMerge({ owner: "acme", repo: "app", pull_number: 7, body: { merge_method: "squash" } }); return m.merged;"#,
        check: |v| v.is_boolean(),
    },
    Task {
        search: "list commits on a repository",
        operation: "reposListCommits",
        code: r#"return (await api.reposListCommits({ owner: "acme", repo: "app", per_page: 5 })).map(c => c.sha);"#,
        check: |v| v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
    },
    Task {
        search: "list releases",
        operation: "reposListReleases",
        code: r#"return (await api.reposListReleases({ owner: "acme", repo: "app" })).map(r => r.tag_name);"#,
        check: |v| v.is_array(),
    },
    Task {
        search: "get a user's public profile",
        operation: "usersGetByUsername",
        code: r#"const u = await api.usersGetByUsername({ username: "octocat" }); return u.login;"#,
        check: |v| v.is_string(),
    },
    Task {
        search: "list labels of a repository",
        operation: "issuesListLabelsForRepo",
        code: r#"
            const issues = await api.paginate("issuesListForRepo", { owner: "acme", repo: "app", state: "open", per_page: 2 }, { maxPages: 2 });
            const labels = await api.issuesListLabelsForRepo({ owner: "acme", repo: "app" });
            return { issues: issues.length, labels: labels.map(l => l.name) };
        "#,
        check: |v| v["issues"].is_number() && v["labels"].is_array(),
    },
    Task {
        search: "list issues in a repository",
        operation: "issuesListForRepo",
        code: r#"
            const r = await api.request({ method: "GET", path: "/repos/acme/app/issues", query: { state: "closed", per_page: 2 } });
            return r.length;
        "#,
        check: |v| v.is_number(),
    },
];

const STRIPE_TASKS: &[Task] = &[
    Task {
        search: "create a customer",
        operation: "postCustomers",
        code: r#"
            const customer = await api.postCustomers({ body: { email: "ada@example.com", metadata: { plan: "pro" } } });
            const sub = await api.postSubscriptions({ body: { customer: customer.id, items: [{ price: "price_123" }] } });
            return { customer: customer.id, subscription: sub.id };
        "#,
        check: |v| v["customer"].is_string() && v["subscription"].is_string(),
    },
    Task {
        search: "list customers",
        operation: "getCustomers",
        code: r#"const page = await api.getCustomers({ limit: 3 }); return page.data.map(c => c.email);"#,
        check: |v| v.is_array(),
    },
    Task {
        search: "create a product",
        operation: "postProducts",
        code: r#"
            const product = await api.postProducts({ body: { name: "Gold plan" } });
            const price = await api.postPrices({ body: { product: product.id, currency: "usd", unit_amount: 1500, recurring: { interval: "month" } } });
            return price.id;
        "#,
        check: |v| v.is_string(),
    },
    Task {
        search: "charge a card with a payment intent",
        operation: "postPaymentIntents",
        code: r#"const pi = await api.postPaymentIntents({ body: { amount: 2000, currency: "eur", metadata: { order: "42" } } }); return pi.status;"#,
        check: |v| v.is_string(),
    },
    Task {
        search: "list invoices",
        operation: "getInvoices",
        code: r#"const inv = await api.getInvoices({ limit: 2, expand: ["data.customer"] }); return inv.data.length;"#,
        check: |v| v.is_number(),
    },
    Task {
        search: "retrieve a customer",
        operation: "getCustomersCustomer",
        code: r#"const c = await api.getCustomersCustomer({ customer: "cus_123" }); return c.id;"#,
        check: |v| v.is_string(),
    },
    Task {
        search: "update a customer's email",
        operation: "postCustomersCustomer",
        code: r#"const c = await api.postCustomersCustomer({ customer: "cus_123", body: { email: "new@example.com" } }); return c.id;"#,
        check: |v| v.is_string(),
    },
    Task {
        search: "list all customers page by page",
        operation: "getCustomers",
        code: r#"const all = await api.paginate("getCustomers", { limit: 2 }, { maxPages: 3 }); return all.length;"#,
        check: |v| v.is_number(),
    },
];

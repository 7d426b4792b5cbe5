//! Search answers assembled by `Catalog::declare_answer` on every real spec: a sample of
//! answers (one primary and four others; three primaries of a multi-step task and three others)
//! must stay within their budget, count their tokens from above, declare each type once, show
//! the primary's result type, and compile under `tsc --strict` (all answers of a spec in one
//! file, one namespace each).

use crate::support;
use std::sync::Arc;

use codemode_spec::{OperationId, Spec};
use codemode_typescript::{AnswerOperation, AnswerRequest, Catalog, Declarations, count_tokens};

const BUDGET: usize = 1300;
/// Answers sampled per spec and shape.
const SAMPLES: usize = 12;

fn request(operations: &[OperationId], primaries: usize) -> AnswerRequest {
    AnswerRequest {
        operations: operations
            .iter()
            .enumerate()
            .map(|(rank, &operation)| AnswerOperation {
                operation,
                primary: rank < primaries,
                overhead_tokens: 15,
                listed_tokens: 20,
            })
            .collect(),
        types: Vec::new(),
        token_budget: BUDGET,
    }
}

/// Every type declared at most once, and no type both declared and stubbed.
fn assert_declared_once(label: &str, text: &str) {
    let mut names: Vec<&str> = text
        .lines()
        .flat_map(|line| line.split("; "))
        .filter_map(|line| {
            let rest = line
                .strip_prefix("interface ")
                .or_else(|| line.strip_prefix("type "))?;
            rest.split([' ', '<']).next()
        })
        .collect();
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(
        names.len(),
        count,
        "{label}: a type is declared twice:\n{text}"
    );
}

/// The names a primary's `Promise<…>` mentions are declared (not `unknown`) when they fit.
fn result_names(text: &str, operation: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| !l.trim_start().starts_with(&format!("{operation}(")))
        .find_map(|l| l.rsplit_once("): Promise<").map(|(_, r)| r.to_string()))
        .unwrap_or_default()
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with(|c: char| c.is_ascii_uppercase()))
        .filter(|w| !["Omit", "Record", "BinaryResponse", "Promise"].contains(w))
        .map(str::to_string)
        .collect()
}

fn check_spec(label: &str, spec: Spec) {
    let spec = Arc::new(spec);
    let catalog = Catalog::new(spec.clone(), BUDGET);
    let ids: Vec<OperationId> = spec.operation_ids().collect();
    let count = ids.len();
    let step = (count / SAMPLES).max(1);
    let mut file = String::new();
    let mut results_shown = (0, 0);
    for (sample, first) in (0..count).step_by(step).take(SAMPLES).enumerate() {
        let operations: Vec<OperationId> = (first..first + 6).map(|i| ids[i % count]).collect();
        for (shape, primaries) in [("single", 1), ("steps", 3)] {
            let answer = catalog.declare_answer(&request(&operations, primaries));
            let name = format!("{label} {shape} #{sample}");
            check_answer(&name, &answer);
            let primary = &spec.operation(operations[0]).name;
            let names = result_names(&answer.text, primary);
            results_shown.1 += 1;
            if names
                .iter()
                .all(|n| !answer.text.contains(&format!("type {n} = unknown;")))
            {
                results_shown.0 += 1;
            } else if std::env::var_os("SHOW_HIDDEN").is_some() {
                eprintln!(
                    "{name}: the result of {primary} is not shown\n{}",
                    answer.text
                );
            }
            file.push_str(&format!(
                "namespace Answer{sample}{shape} {{\n{}}}\n",
                answer.text
            ));
        }
    }
    // Most primaries show their result; a type too big for the budget even by its main fields
    // is the exception.
    assert!(
        results_shown.0 * 10 >= results_shown.1 * 9,
        "{label}: results shown in only {}/{} answers",
        results_shown.0,
        results_shown.1
    );
    let errors = support::tsc_errors(&format!("answers-{label}"), &file);
    let shown: Vec<&str> = errors.lines().take(40).collect();
    assert!(errors.is_empty(), "{}", shown.join("\n"));
}

fn check_answer(name: &str, answer: &Declarations) {
    let exact = count_tokens(&answer.text);
    assert!(
        answer.tokens >= exact,
        "{name}: counted {} tokens, the text has {exact}",
        answer.tokens
    );
    let forced = answer
        .trimmed
        .iter()
        .any(|n| n.contains("even at its leanest"));
    assert!(
        forced || exact <= BUDGET,
        "{name}: {exact} tokens over the budget of {BUDGET}"
    );
    assert!(!answer.operations.is_empty(), "{name}: nothing declared");
    assert_declared_once(name, &answer.text);
}

/// One test per real spec (each loads its spec; they run in parallel).
macro_rules! answers_on {
    ($($test:ident: $file:expr),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                check_spec(stringify!($test), support::load_real($file));
            }
        )*
    };
}

answers_on! {
    github: "github-api.github.com.json.gz",
    stripe: "stripe-spec3.yaml",
    cloudflare: "cloudflare-openapi.json",
    kubernetes: "kubernetes-swagger.json",
    openai: "openai-openapi.yaml",
    discord: "discord-openapi.json",
    petstore: "petstore3-openapi.yaml",
}

#[test]
fn digitalocean() {
    let dir = tempfile::tempdir().expect("temp dir");
    check_spec("digitalocean", support::load_digitalocean(dir.path()));
}

/// A spec of our own: rules in the third sentence of a description survive, envelopes are
/// unwrapped, nested arguments are expanded, and near-identical types are declared once.
const PARCELS: &str = r##"
openapi: 3.1.0
info: { title: Parcels, version: "1" }
paths:
  /manifests/{manifest_id}/shipments/{shipment_id}:
    delete:
      operationId: cancelShipment
      summary: Cancel a shipment
      description: >-
        Cancels a shipment that has not left the depot. Cancelled shipments stay visible in
        reports for ninety days and can be filtered by their status field in every listing.
        Cancelling a shipment that is on a manifest needs force=true. Refunds follow in a day.
      parameters:
        - { name: manifest_id, in: path, required: true, schema: { type: string } }
        - { name: shipment_id, in: path, required: true, schema: { type: string } }
        - { name: force, in: query, schema: { type: boolean }, description: Cancel even when the shipment is on a manifest. }
      responses:
        "200": { description: ok, content: { application/json: { schema: { $ref: "#/components/schemas/Shipment" } } } }
  /parcels:
    get:
      operationId: listParcels
      summary: List parcels
      responses:
        "200":
          description: ok
          content: { application/json: { schema: { $ref: "#/components/schemas/ParcelPage" } } }
    post:
      operationId: createParcel
      summary: Create a parcel
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [items]
              properties:
                items:
                  type: array
                  items:
                    type: object
                    required: [sku]
                    properties: { sku: { type: string }, quantity: { type: integer } }
      responses:
        "201": { description: ok, content: { application/json: { schema: { $ref: "#/components/schemas/Parcel" } } } }
components:
  schemas:
    ParcelPage:
      type: object
      properties:
        data: { type: array, items: { $ref: "#/components/schemas/Parcel" } }
        has_more: { type: boolean }
    Parcel:
      type: object
      required: [id]
      properties:
        id: { type: string }
        label_url: { type: string }
        weight_grams: { type: integer }
        sender: { $ref: "#/components/schemas/Sender" }
        recipient: { $ref: "#/components/schemas/Recipient" }
    Shipment:
      type: object
      properties: { id: { type: string }, status: { type: string } }
    Sender:
      type: object
      properties:
        name: { type: string }
        street: { type: string }
        city: { type: string }
        postcode: { type: string }
        country: { type: string }
        phone: { type: string }
        email: { type: string }
        company: { type: string }
    Recipient:
      type: object
      properties:
        name: { type: string }
        street: { type: string }
        city: { type: string }
        postcode: { type: string }
        country: { type: string }
        phone: { type: string }
        email: { type: string }
        company: { type: string }
        safe_place: { type: string }
"##;

#[test]
fn an_unknown_api_shows_rules_envelopes_arguments_and_variants() {
    let spec = Arc::new(support::fixture("parcels", PARCELS));
    let catalog = Catalog::new(spec.clone(), 1500);
    let index = |name: &str| spec.find_id(name).expect(name);
    let answer = catalog.declare_answer(&request(
        &[
            index("cancelShipment"),
            index("listParcels"),
            index("createParcel"),
        ],
        2,
    ));
    let text = &answer.text;
    assert!(text.contains("on a manifest needs force=true"), "{text}");
    assert!(
        text.contains("items: { sku: string; quantity?: number }[]"),
        "{text}"
    );
    // The list's envelope is unwrapped: a parcel's fields are shown.
    assert!(text.contains("interface Parcel {"), "{text}");
    assert!(text.contains("weight_grams?: number;"), "{text}");
    // The recipient repeats the sender's members: declared as the difference.
    let variant = text.contains("interface Recipient extends Sender {\n  safe_place?: string;\n}")
        || text.contains("interface Sender extends Omit<Recipient, \"safe_place\"> {\n}");
    assert!(variant, "{text}");
    assert_declared_once("parcels", text);
    let errors = support::tsc_errors("answers-parcels", text);
    assert!(errors.is_empty(), "{errors}");
}

/// A primary that sends a body declares the body's named type (its fields, at least the main
/// ones) in the same answer, as it does its result: the first call needs both. OpenAI's chat
/// completion, among four other operations, within the default budget.
#[test]
fn a_primary_that_sends_a_body_declares_the_body_type() {
    let spec = support::load_real("openai-openapi.yaml");
    let first = spec.find_id("createChatCompletion").expect("the operation");
    let others = [
        "updateChatCompletion",
        "getChatCompletionMessages",
        "getChatCompletion",
        "createChatSessionMethod",
    ]
    .map(|name| spec.find_id(name).expect("the operation"));
    let spec = Arc::new(spec);
    let catalog = Catalog::new(spec.clone(), 1500);
    let mut operations = vec![first];
    operations.extend(others);
    let answer = catalog.declare_answer(&AnswerRequest {
        token_budget: 1500,
        ..request(&operations, 1)
    });
    assert!(
        answer.text.contains("type CreateChatCompletionRequest =")
            || answer
                .text
                .contains("interface CreateChatCompletionRequest"),
        "{}",
        answer.text
    );
    assert!(answer.text.contains("messages: "), "{}", answer.text);
    assert!(answer.tokens <= 1500, "{}", answer.tokens);
}

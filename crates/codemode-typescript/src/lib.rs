//! codemode-typescript owns the TypeScript an agent reads: declarations of operations as methods
//! of `interface Api` (args keyed exactly as `Operation::arguments` says), the component schemas
//! they reach as `interface`/`type` declarations (each once, cut at a depth budget, cycles ending
//! in a type name), the fixed [`GLOBALS`] block for the sandbox, and o200k token counting so an
//! answer fits a budget ([`declare_operations`], [`Declarations`], [`DeclareOptions`];
//! [`Declarer`] holds a spec's [`TypeNames`] to declare many times cheaply). All spec
//! text is treated as hostile and escaped. It must not know search ranking, the sandbox runtime,
//! HTTP, or MCP: it reads a `codemode_spec::Spec` and returns text.
//!
//! Trimming order when an answer exceeds its token budget (each step re-renders everything):
//! 1. long descriptions shortened (operation 200 → 100 characters, properties 120 → 60);
//! 2. descriptions left out (operation summaries and `METHOD /path` stay; `@param` lines go);
//! 3. `@format` / `@default` tags left out;
//! 4. nested types cut one level at a time, down to depth 0 (a cut type is declared
//!    `type Name = unknown;` under a comment saying it was not expanded: look it up by name);
//! 5. inline types (objects, arrays, unions, enums written in place) nested deeper than 3, then
//!    1, levels printed as `unknown` (references and primitives stay);
//! 6. operations left out from the end of the list (never the first one).
//!
//! Depth: the types an operation references directly are at depth 1, the types those reference
//! at depth 2, and so on; types deeper than `max_depth` are cut as in step 4, except small leaf
//! types (no references, at most 100 characters declared), which cost less than their stub.
//!
//! Style and conventions of the output:
//! - `args` is one object keyed as [`codemode_spec::Operation::arguments`] says (a parameter
//!   whose name is taken is `<location>_<name>`, e.g. `query_body`); it is optional when nothing
//!   in it is required, and left out when the operation takes nothing.
//! - Return type: the 2xx JSON body; `string` for text; `BinaryResponse` (see [`FILE_TYPES`]) for
//!   bytes; `null` when the success response has no content; `unknown` when none is declared.
//! - Request bodies: JSON, form and multipart bodies are typed from their schema; binary ones are
//!   `Binary | string`, text ones `string`. `Binary` declares the file shapes of the upstream
//!   client that an agent needs (the client accepts a few more spellings). A PATCH body offered as JSON Patch and as an object patch type (and not as
//!   plain JSON) is declared as both: the object type, or an array of RFC 6902 operations (the
//!   client sends each shape as its own media type).
//! - Named types are declared once per answer in `Neutral` form; readOnly properties are marked
//!   `readonly` and always optional there (the declaration types request bodies too, and a
//!   request never sends them). Where a request (response) uses a type with readOnly (writeOnly)
//!   properties, it is referenced as `Omit<Name, "prop" | …>`. Inline schemas simply leave those
//!   properties out.
//! - A `required` list beside an `allOf` applies to the inline members that declare the named
//!   properties (`{ allOf: [{ properties: { name } }, { $ref: Base }], required: [name] }` makes
//!   `name` required).
//! - A type alias loop (`type A = B | …; type B = A | …`), which TypeScript rejects, is cut by
//!   printing `unknown` at the step back to a schema listed no later in the spec.

#![warn(missing_docs)]
#![warn(unreachable_pub)]

mod catalog;
mod globals;
mod names;
mod operation;
mod schema;
mod text;
mod variants;

use std::collections::{HashSet, VecDeque};

use codemode_spec::{Operation, Spec};

pub use catalog::{AnswerOperation, AnswerRequest, Catalog};
pub use globals::{FILE_TYPES, GLOBALS, namespaced_globals};
pub use names::TypeNames;

use operation::OperationDetail;
use schema::{Detail, Writer};

/// What to declare and how much room it may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclareOptions {
    /// How many levels of named types to expand below an operation (default 4).
    pub max_depth: usize,
    /// Upper bound on the o200k tokens of the answer (`None`: unlimited).
    pub token_budget: Option<usize>,
    /// Print descriptions from the spec (default true). Summaries and `METHOD /path` always stay.
    pub include_descriptions: bool,
}

impl Default for DeclareOptions {
    fn default() -> Self {
        DeclareOptions {
            max_depth: 4,
            token_budget: None,
            include_descriptions: true,
        }
    }
}

/// Declarations for some operations, ready to show an agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Declarations {
    /// `interface Api { … }` with the operations, then the named types they reach.
    pub text: String,
    /// o200k tokens of `text`.
    pub tokens: usize,
    /// What was left out or shortened (by the depth limit or the budget), one note per line.
    pub trimmed: Vec<String>,
    /// Names of the operations declared, in order.
    pub operations: Vec<String>,
}

/// Declarations of the named operations plus the named types they reach, each type once.
/// Builds the spec's type names first; hold a [`Declarer`] to skip that on every call.
pub fn declare_operations(
    spec: &Spec,
    operations: &[&Operation],
    options: &DeclareOptions,
) -> Declarations {
    Declarer::new(spec).declare_operations(operations, options)
}

/// A spec with its type names worked out once (≈1–10 ms for a spec with thousands of schemas),
/// for callers that declare many times (a search index, a server).
#[derive(Debug, Clone)]
pub struct Declarer<'a> {
    spec: &'a Spec,
    names: std::borrow::Cow<'a, TypeNames>,
}

impl<'a> Declarer<'a> {
    /// A declarer that works out `spec`'s type names now (≈1–10 ms for thousands of schemas).
    pub fn new(spec: &'a Spec) -> Declarer<'a> {
        Declarer {
            spec,
            names: std::borrow::Cow::Owned(TypeNames::new(spec)),
        }
    }

    /// A declarer over names worked out earlier with `TypeNames::new(spec)` for the same spec
    /// (a long-lived server keeps the names and borrows them per request).
    pub fn with_names(spec: &'a Spec, names: &'a TypeNames) -> Declarer<'a> {
        Declarer {
            spec,
            names: std::borrow::Cow::Borrowed(names),
        }
    }

    /// The TypeScript name of each of the spec's component schemas.
    pub fn type_names(&self) -> &TypeNames {
        &self.names
    }

    /// See [`declare_operations`].
    pub fn declare_operations(
        &self,
        operations: &[&Operation],
        options: &DeclareOptions,
    ) -> Declarations {
        declare_with(self.spec, &self.names, operations, &[], options)
    }

    /// Declarations of component schemas by name (their TypeScript name or the spec's own
    /// name), with the types they reach, trimmed to the budget like operations are. Names that
    /// are neither come back in the second list. This is how an agent looks up a type that an
    /// answer left at `unknown` past the depth limit.
    pub fn declare_types(
        &self,
        names: &[&str],
        options: &DeclareOptions,
    ) -> (Declarations, Vec<String>) {
        let mut schemas: Vec<String> = Vec::new();
        let mut unknown = Vec::new();
        for name in names {
            match self.names.schema_named(name) {
                Some(schema) if !schemas.iter().any(|s| s == schema) => {
                    schemas.push(schema.to_string());
                }
                Some(_) => {}
                None => unknown.push(name.to_string()),
            }
        }
        let declarations = if schemas.is_empty() {
            Declarations::default()
        } else {
            declare_with(self.spec, &self.names, &[], &schemas, options)
        };
        (declarations, unknown)
    }

    /// See [`declare_operation_signature`].
    pub fn declare_operation_signature(
        &self,
        operation: &Operation,
        options: &DeclareOptions,
    ) -> String {
        let plan = Plan::full(options);
        let mut writer = Writer::new(self.spec, &self.names, plan.detail);
        operation::signature(&mut writer, operation, plan.operation, 0).text
    }
}

/// `types` are component schema names declared besides what the operations reach.
fn declare_with(
    spec: &Spec,
    names: &TypeNames,
    operations: &[&Operation],
    types: &[String],
    options: &DeclareOptions,
) -> Declarations {
    let steps = trim_steps(options);
    let budget = Budget::new(options.token_budget);
    // The richest plan that fits: usually the first. Otherwise, since each step is leaner than the
    // one before, "too big" holds for a prefix of the steps, and a binary search renders ~4 of the
    // ~12 instead of all.
    let too_big = |step: &Step| {
        budget
            .render(spec, names, operations, types, &step.plan)
            .is_none()
    };
    let first_fitting = match steps.first() {
        Some(first) if !too_big(first) => 0,
        _ => 1 + steps.get(1..).unwrap_or_default().partition_point(too_big),
    };
    if let Some(step) = steps.get(first_fitting)
        && let Some((rendered, tokens)) = budget.render(spec, names, operations, types, &step.plan)
    {
        return finish(rendered, tokens, step, operations, &[]);
    }
    // Even the leanest rendering is too big: leave operations out from the end.
    let Some(leanest) = steps.last() else {
        return Declarations::default();
    };
    for kept in (1..operations.len()).rev() {
        let (kept_ops, dropped) = operations.split_at(kept);
        if let Some((rendered, tokens)) = budget.render(spec, names, kept_ops, types, &leanest.plan)
        {
            return finish(rendered, tokens, leanest, kept_ops, dropped);
        }
    }
    // Not even the first operation fits: show it anyway, and say so.
    let (first, dropped) = operations.split_at(operations.len().min(1));
    let Some(rendered) = render(spec, names, first, types, &leanest.plan, usize::MAX) else {
        return Declarations::default();
    };
    let tokens = count_tokens(&rendered.text);
    let mut declarations = finish(rendered, tokens, leanest, first, dropped);
    declarations.trimmed.push(format!(
        "over the token budget even after trimming ({tokens} tokens)"
    ));
    declarations
}

/// A token budget, checked without paying for what is surely over it: rendering stops at a byte
/// cap, and counting stops as soon as a prefix is over. (Stripe's richest rendering of five
/// operations is ~250 KB; rendering and counting all of it took ~60 ms per trimming step.)
struct Budget {
    tokens: usize,
    bytes: usize,
}

/// Declarations measure 3.5–4.5 bytes per o200k token on the real specs; a text of more than 12
/// bytes per token of budget is over it in practice.
const MAX_BYTES_PER_TOKEN: usize = 12;

/// Counting goes by pieces of about this many bytes, each ending at a newline.
const COUNT_CHUNK_BYTES: usize = 2048;

impl Budget {
    fn new(tokens: Option<usize>) -> Budget {
        let tokens = tokens.unwrap_or(usize::MAX);
        Budget {
            tokens,
            bytes: tokens.saturating_mul(MAX_BYTES_PER_TOKEN),
        }
    }

    /// The rendering and its tokens, when it fits.
    fn render(
        &self,
        spec: &Spec,
        names: &TypeNames,
        operations: &[&Operation],
        types: &[String],
        plan: &Plan,
    ) -> Option<(Rendered, usize)> {
        let rendered = render(spec, names, operations, types, plan, self.bytes)?;
        let tokens = self.tokens_within(&rendered.text)?;
        Some((rendered, tokens))
    }

    /// The tokens of `text` when they are within the budget; `None` as soon as a prefix is over.
    fn tokens_within(&self, text: &str) -> Option<usize> {
        if self.tokens == usize::MAX {
            return Some(count_tokens(text));
        }
        let mut prefix_tokens = 0usize;
        let mut chunks = 0usize;
        for chunk in newline_chunks(text, COUNT_CHUNK_BYTES) {
            prefix_tokens += count_tokens(chunk);
            chunks += 1;
            // Cutting at a newline can shift the count by a token or two either way.
            if prefix_tokens > self.tokens.saturating_add(2 * chunks) {
                return None;
            }
        }
        let tokens = if chunks <= 1 {
            prefix_tokens
        } else {
            count_tokens(text)
        };
        (tokens <= self.tokens).then_some(tokens)
    }
}

/// `text` in pieces of at least `size` bytes (the last may be shorter), each ending after a newline.
fn newline_chunks(text: &str, size: usize) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        // A newline is one byte and never inside a UTF-8 sequence, so the cut is a char boundary.
        let end = rest
            .as_bytes()
            .iter()
            .skip(size)
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| size + i + 1);
        let (chunk, tail) = rest.split_at(end);
        rest = tail;
        Some(chunk)
    })
}

/// One operation's member signature alone (with its JSDoc), e.g. for a search hit; the named
/// types it references are not declared.
pub fn declare_operation_signature(
    spec: &Spec,
    operation: &Operation,
    options: &DeclareOptions,
) -> String {
    Declarer::new(spec).declare_operation_signature(operation, options)
}

/// Everything: `interface Api { … }` with every operation, and every type they reach, at any
/// depth, with all descriptions (for `codemode types --all`).
pub fn declare_all(spec: &Spec) -> String {
    let names = TypeNames::new(spec);
    let options = DeclareOptions {
        max_depth: usize::MAX,
        ..DeclareOptions::default()
    };
    let operations: Vec<&Operation> = spec.operations.iter().collect();
    render(
        spec,
        &names,
        &operations,
        &[],
        &Plan::full(&options),
        usize::MAX,
    )
    .map(|rendered| rendered.text)
    .unwrap_or_default()
}

/// o200k_base token count of `text`. The tables (~0.3 s to build) are tiktoken-rs's process-wide
/// singleton, shared with every other crate that counts.
/// Spec prose made safe for one line outside any code block (a list of operations): Markdown
/// and HTML reduced to text, cut to its first sentence at a word to at most `max_chars`, then
/// [`plain_line`].
pub fn prose_line(text: &str, max_chars: usize) -> String {
    text::comment(&text::summarize(text, max_chars))
}

/// Any spec text (a path key, a name) on one safe line: whitespace collapsed, line breaks, bidi
/// controls and invisible characters spelled out as `\uXXXX`; nothing else changed.
pub fn plain_line(text: &str) -> String {
    text::comment(text)
}

/// The number of tokens in `text` by the o200k_base encoding (GPT-4o's tokenizer): the unit
/// every token budget here is measured in.
pub fn count_tokens(text: &str) -> usize {
    tiktoken_rs::o200k_base_singleton()
        .encode_ordinary(text)
        .len()
}

/// A valid, unique TypeScript identifier for a component schema name (deterministic per spec).
/// Builds the names of the whole spec; hold a [`TypeNames`] to name many.
pub fn type_name(spec: &Spec, schema_name: &str) -> String {
    TypeNames::new(spec).get(schema_name)
}

/// Everything that decides how an answer is rendered.
#[derive(Debug, Clone, Copy)]
struct Plan {
    max_depth: usize,
    detail: Detail,
    operation: OperationDetail,
}

impl Plan {
    fn full(options: &DeclareOptions) -> Plan {
        let descriptions = options.include_descriptions;
        Plan {
            max_depth: options.max_depth,
            detail: Detail {
                property_description: if descriptions { 120 } else { 0 },
                property_tags: true,
                inline_nesting: schema::MAX_INLINE_NESTING,
                max_object_chars: usize::MAX,
                max_members: usize::MAX,
                max_inline_members: usize::MAX,
            },
            operation: OperationDetail {
                description: if descriptions { 200 } else { 0 },
                param_chars: if descriptions { 100 } else { 0 },
            },
        }
    }
}

/// A rendering plan and the note that explains what it gave up.
struct Step {
    plan: Plan,
    notes: Vec<String>,
}

/// The plans to try, richest first, in the documented trimming order.
fn trim_steps(options: &DeclareOptions) -> Vec<Step> {
    let mut plan = Plan::full(options);
    let mut notes = Vec::new();
    let mut steps = vec![Step {
        plan,
        notes: notes.clone(),
    }];
    if options.token_budget.is_none() {
        return steps;
    }
    if options.include_descriptions {
        plan.detail.property_description = 60;
        plan.operation.description = 100;
        notes.push("long descriptions shortened".to_string());
        steps.push(Step {
            plan,
            notes: notes.clone(),
        });
        plan.detail.property_description = 0;
        plan.operation.description = 0;
        plan.operation.param_chars = 0;
        notes.push("descriptions left out (summaries kept)".to_string());
        steps.push(Step {
            plan,
            notes: notes.clone(),
        });
    }
    plan.detail.property_tags = false;
    notes.push("@format/@default tags left out".to_string());
    steps.push(Step {
        plan,
        notes: notes.clone(),
    });
    let start = options.max_depth.min(8);
    for depth in (0..start).rev() {
        plan.max_depth = depth;
        steps.push(Step {
            plan,
            notes: notes.clone(),
        });
    }
    for nesting in [3, 1] {
        plan.detail.inline_nesting = nesting;
        let mut notes = notes.clone();
        notes.push(format!(
            "inline types nested deeper than {nesting} levels shown as `unknown`"
        ));
        steps.push(Step { plan, notes });
    }
    steps
}

struct Rendered {
    text: String,
    /// Types referenced but not expanded because of the depth limit, by TypeScript name.
    cut: Vec<String>,
}

fn finish(
    rendered: Rendered,
    tokens: usize,
    step: &Step,
    kept: &[&Operation],
    dropped: &[&Operation],
) -> Declarations {
    let mut trimmed = step.notes.clone();
    if !rendered.cut.is_empty() {
        trimmed.push(format!(
            "types beyond depth {} not expanded (declared `unknown`): {}",
            step.plan.max_depth,
            list_some(&rendered.cut, 12)
        ));
    }
    if !dropped.is_empty() {
        let names: Vec<String> = dropped.iter().map(|op| op.name.clone()).collect();
        trimmed.push(format!(
            "operations left out (token budget): {}",
            list_some(&names, 12)
        ));
    }
    Declarations {
        text: rendered.text,
        tokens,
        trimmed,
        operations: kept.iter().map(|op| op.name.clone()).collect(),
    }
}

fn list_some(items: &[String], at_most: usize) -> String {
    let shown: Vec<&str> = items.iter().take(at_most).map(String::as_str).collect();
    let mut text = shown.join(", ");
    if items.len() > at_most {
        text.push_str(&format!(" and {} more", items.len() - at_most));
    }
    text
}

/// Past the depth limit, a type that references nothing and is at most this long is declared
/// anyway (`type SnowflakeType = string;` is cheaper than a stub and a lookup).
const SMALL_TYPE_CHARS: usize = 100;

/// `interface Api { …operations… }`, then the named types breadth first (so the nearest come
/// first), then one line declaring the cut ones as `unknown`.
/// Renders the operations and the types they reach; `None` once the text passes `byte_cap`.
fn render(
    spec: &Spec,
    names: &TypeNames,
    operations: &[&Operation],
    types: &[String],
    plan: &Plan,
    byte_cap: usize,
) -> Option<Rendered> {
    let mut writer = Writer::new(spec, names, plan.detail);
    let mut text = String::new();
    let mut queue: VecDeque<(String, usize)> = VecDeque::new();
    let mut seen: HashSet<String> = HashSet::new();
    for schema in types {
        if seen.insert(schema.clone()) {
            queue.push_back((schema.clone(), 1));
        }
    }
    if !operations.is_empty() {
        text.push_str("interface Api {\n");
    }
    for op in operations {
        let signature = operation::signature(&mut writer, op, plan.operation, 2);
        text.push_str(&signature.text);
        if text.len() > byte_cap {
            return None;
        }
        for name in signature
            .argument_refs
            .into_iter()
            .chain(signature.result_refs)
        {
            if seen.insert(name.clone()) {
                queue.push_back((name, 1));
            }
        }
    }
    if !operations.is_empty() {
        text.push_str("}\n");
    }
    let mut cut = Vec::new();
    while let Some((name, depth)) = queue.pop_front() {
        if depth > plan.max_depth {
            // A small leaf type (an enum, an alias of a primitive) costs less than its stub.
            let declaration = writer.declaration(&name);
            if writer.take_referenced().is_empty() && declaration.len() <= SMALL_TYPE_CHARS {
                text.push_str(&declaration);
            } else {
                cut.push(names.get(&name));
            }
            continue;
        }
        text.push_str(&writer.declaration(&name));
        if text.len() > byte_cap {
            return None;
        }
        for next in writer.take_referenced() {
            if seen.insert(next.clone()) {
                queue.push_back((next, depth.saturating_add(1)));
            }
        }
    }
    if writer.uses_file_types() {
        text.push_str(FILE_TYPES);
    }
    if !cut.is_empty() {
        text.push_str(
            "/** Not expanded here (depth limit); search for these names to see them. */\n",
        );
        let stubs: Vec<String> = cut
            .iter()
            .map(|name| format!("type {name} = unknown;"))
            .collect();
        text.push_str(&stubs.join(" "));
        text.push('\n');
    }
    Some(Rendered { text, cut })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newline_chunks_cover_the_text_and_end_at_newlines() {
        let text = "ab\ncdé\n\nfghij\nk".repeat(50);
        let chunks: Vec<&str> = newline_chunks(&text, 16).collect();
        assert_eq!(chunks.concat(), text);
        assert!(chunks.len() > 10, "{}", chunks.len());
        for chunk in &chunks[..chunks.len() - 1] {
            assert!(chunk.len() >= 16 && chunk.ends_with('\n'), "{chunk:?}");
        }
        assert_eq!(newline_chunks("", 16).count(), 0);
        assert_eq!(
            newline_chunks("no newline at all", 4).collect::<Vec<_>>(),
            ["no newline at all"]
        );
    }

    #[test]
    fn tokens_within_is_exact_under_the_budget_and_stops_over_it() {
        let line = "  createCustomer(args: { email?: string; metadata?: Record<string, string> }): Promise<Customer>;\n";
        let text = line.repeat(400);
        let exact = count_tokens(&text);
        assert_eq!(Budget::new(Some(exact)).tokens_within(&text), Some(exact));
        assert_eq!(Budget::new(Some(exact - 1)).tokens_within(&text), None);
        assert_eq!(Budget::new(Some(100)).tokens_within(&text), None);
        assert_eq!(Budget::new(None).tokens_within(&text), Some(exact));
    }
}

#[cfg(test)]
mod constraint_tests {
    //! What a request may send is bounded where the agent writes it; what a response holds is not.

    const SPEC: &str = r##"
openapi: 3.0.3
info: { title: Greenhouse, version: "1" }
paths:
  /runs:
    post:
      operationId: startRun
      parameters:
        - { name: limit, in: query, schema: { type: integer, minimum: 1, maximum: 100 } }
        - { name: tags, in: query, schema: { type: string, uniqueItems: true } }
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [litres]
              properties:
                litres: { type: number, minimum: 0.5, maximum: 50 }
                note: { type: string, maxLength: 5000 }
                code: { type: string, pattern: "^[A-Z]{3}$" }
                big: { type: integer, format: int64, minimum: -9223372036854775808 }
      responses:
        "201":
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  litres: { type: number, minimum: 0.5, maximum: 50 }
"##;

    #[test]
    fn request_bounds_are_stated_and_noise_is_not() {
        let spec = codemode_spec::load_str("greenhouse.yaml", SPEC).expect("the spec loads");
        let text = super::declare_all(&spec);
        assert!(text.contains("@minimum 0.5 @maximum 50"), "{text}");
        assert!(text.contains("@pattern ^[A-Z]{3}$"), "{text}");
        assert!(
            text.contains("@param args.limit @minimum 1 @maximum 100"),
            "{text}"
        );
        for noise in ["5000", "9223372036854775808", "@uniqueItems"] {
            assert!(!text.contains(noise), "{noise} in {text}");
        }
        // Only the request's litres carries its bounds, not the response's.
        assert_eq!(text.matches("@maximum 50").count(), 1, "{text}");
    }
}

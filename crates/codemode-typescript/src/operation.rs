//! One operation as a member of `interface Api`: JSDoc (summary, a sentence of description,
//! `@param` lines that add something, deprecation, `METHOD /path`) and the method signature
//! `name(args: { … }): Promise<Result>`, with `args` keyed exactly as
//! [`Operation::arguments`] says, so declarations and the runtime client always agree.

use std::collections::HashSet;

use codemode_spec::{
    ArgumentSource, BodyKind, Operation, Parameter, ParameterLocation, PatchMedia,
};
use serde_json::Value;

use crate::schema::{Mode, Writer};
use crate::text;

/// How much of an operation's prose to print.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OperationDetail {
    /// Longest description after the summary, in characters (0: summary only). Up to
    /// [`BRIEF_DESCRIPTION_CHARS`] it is the first sentence or two on the summary's line; past
    /// that, as much of the description as fits, rules and preconditions first, on lines of
    /// their own.
    pub description: usize,
    /// Longest `@param` text, in characters (0: no `@param` lines).
    pub param_chars: usize,
}

/// Descriptions up to this long are a sentence on the summary's line; longer ones are wrapped
/// onto lines of their own.
pub(crate) const BRIEF_DESCRIPTION_CHARS: usize = 200;

/// Width of a wrapped description line, in characters.
const WRAP_CHARS: usize = 100;

/// Longest summary line, in characters.
const SUMMARY_CHARS: usize = 160;

/// One operation's member declaration and the component schemas it names.
pub(crate) struct Signature {
    /// Each line prefixed with the indentation asked for, ending in a newline.
    pub text: String,
    /// Schemas the arguments name, in first-seen order.
    pub argument_refs: Vec<String>,
    /// Schemas the result type names, in first-seen order.
    pub result_refs: Vec<String>,
}

/// The member declaration, each line prefixed with `indent` spaces, ending in a newline.
pub(crate) fn signature(
    writer: &mut Writer<'_>,
    op: &Operation,
    detail: OperationDetail,
    indent: usize,
) -> Signature {
    let pad = " ".repeat(indent);
    let mut doc_lines = if detail.description > BRIEF_DESCRIPTION_CHARS {
        described_lines(op, detail.description)
    } else {
        vec![head_line(op, detail.description)]
    };
    let (args, required) = arguments(writer, op, detail, indent, &mut doc_lines);
    let argument_refs = writer.take_referenced();
    if op.deprecated {
        doc_lines.push("@deprecated".into());
    }
    doc_lines.push(text::comment(&format!("{} {}", op.method, op.path)));
    doc_lines.retain(|l| !l.is_empty());
    let mut out = String::new();
    out.push_str(&format!(
        "{pad}/** {}",
        doc_lines.join(&format!("\n{pad} * "))
    ));
    out.push_str(" */\n");
    let result = return_type(writer, op, indent);
    let result_refs = writer.take_referenced();
    let params = match (args, required) {
        (None, _) => String::new(),
        (Some(args), true) => format!("args: {args}"),
        (Some(args), false) => format!("args?: {args}"),
    };
    // Names are identifiers by construction (codemode-spec); quoting keeps it valid regardless.
    let name = text::property_key(&op.name);
    out.push_str(&format!("{pad}{name}({params}): Promise<{result}>;\n"));
    Signature {
        text: out,
        argument_refs,
        result_refs,
    }
}

/// Summary, then the description's first sentence when it says more.
fn head_line(op: &Operation, description_chars: usize) -> String {
    let summary = op
        .summary
        .as_deref()
        .map(|s| text::summarize(s, SUMMARY_CHARS))
        .unwrap_or_default();
    let limit = if summary.is_empty() {
        description_chars.max(SUMMARY_CHARS)
    } else {
        description_chars
    };
    let description = op
        .description
        .as_deref()
        .map(|d| text::summarize(d, limit))
        .unwrap_or_default();
    let mut head = summary.clone();
    if !description.is_empty() && !same_words(&summary, &description) {
        if !head.is_empty() {
            if !head.ends_with(['.', '!', '?']) {
                head.push('.');
            }
            head.push(' ');
        }
        head.push_str(&description);
    }
    text::comment(&head)
}

/// The summary on a line, then as much of the description as `max_chars` allows, rules and
/// preconditions kept before plain prose, wrapped onto lines of their own (the top hit of an
/// answer: the sentence a task turns on is often the third one).
fn described_lines(op: &Operation, max_chars: usize) -> Vec<String> {
    let summary = op
        .summary
        .as_deref()
        .map(|s| text::summarize(s, SUMMARY_CHARS))
        .unwrap_or_default();
    let description = op
        .description
        .as_deref()
        .map(|d| text::select_sentences(d, max_chars))
        .unwrap_or_default();
    let description = match description.strip_prefix(summary.trim_end_matches('.')) {
        // A description that opens with the summary (as a whole sentence) goes on after it.
        Some(rest) if !summary.is_empty() && (rest.is_empty() || rest.starts_with(['.', ' '])) => {
            rest.trim_start_matches(['.', ' ']).to_string()
        }
        _ if same_words(&summary, &description) => String::new(),
        _ => description,
    };
    let mut lines = vec![text::comment(&summary)];
    lines.extend(
        text::wrap(&description, WRAP_CHARS)
            .iter()
            .map(|line| text::comment(line)),
    );
    lines.retain(|l| !l.is_empty());
    lines
}

/// The `args` object type (`None` when the operation takes nothing) and whether it is required.
fn arguments(
    writer: &mut Writer<'_>,
    op: &Operation,
    detail: OperationDetail,
    indent: usize,
    doc_lines: &mut Vec<String>,
) -> (Option<String>, bool) {
    let mut members = Vec::new();
    let mut any_required = false;
    for argument in op.arguments() {
        let key = text::property_key(&argument.key);
        match argument.source {
            ArgumentSource::Parameter(index) => {
                let Some(param) = op.parameters.get(index) else {
                    continue;
                };
                let required = param.required || param.location == ParameterLocation::Path;
                any_required |= required;
                let ty = writer.type_of(&param.schema, Mode::Request, indent + 2);
                let optional = if required { "" } else { "?" };
                members.push(format!("{key}{optional}: {ty}"));
                if detail.param_chars > 0
                    && let Some(line) = param_doc(&argument.key, param, detail.param_chars)
                {
                    doc_lines.push(line);
                }
            }
            ArgumentSource::Body => {
                let Some(body) = &op.request_body else {
                    continue;
                };
                any_required |= body.required;
                let patch = body.patch_media();
                if let Some(PatchMedia {
                    object: Some(object_media),
                    json_patch: Some(array_media),
                }) = patch
                {
                    let ty = writer.type_of(&object_media.schema, Mode::Request, indent + 2);
                    let optional = if body.required { "" } else { "?" };
                    members.push(format!("{key}{optional}: {ty} | {JSON_PATCH_TYPE}"));
                    if detail.param_chars > 0 {
                        doc_lines.push(format!(
                            "@param args.{} an object is sent as {}, an array as {}",
                            text::comment(&argument.key),
                            text::comment(&object_media.media_type),
                            text::comment(&array_media.media_type)
                        ));
                    }
                    continue;
                }
                // One patch format alone goes as JSON whatever its name says (`+yaml` too).
                let ty = match patch {
                    Some(PatchMedia {
                        object: Some(object_media),
                        ..
                    }) => writer.type_of(&object_media.schema, Mode::Request, indent + 2),
                    Some(PatchMedia {
                        json_patch: Some(_),
                        ..
                    }) => JSON_PATCH_TYPE.into(),
                    _ => match body.preferred() {
                        Some(media) => match media.kind {
                            BodyKind::Json | BodyKind::Form | BodyKind::Multipart => {
                                writer.type_of(&media.schema, Mode::Request, indent + 2)
                            }
                            BodyKind::Text => "string".into(),
                            BodyKind::Binary => {
                                writer.use_file_types();
                                "Binary | string".into()
                            }
                        },
                        None => "unknown".into(),
                    },
                };
                // An optional body with no properties (Stripe declares one on every GET) can
                // carry nothing: declaring it only invites the agent to send one.
                if !body.required && ty == "{}" {
                    continue;
                }
                let optional = if body.required { "" } else { "?" };
                members.push(format!("{key}{optional}: {ty}"));
            }
        }
    }
    if members.is_empty() {
        return (None, false);
    }
    (Some(format!("{{ {} }}", members.join("; "))), any_required)
}

/// An RFC 6902 JSON Patch, as an array body of a PATCH is sent.
const JSON_PATCH_TYPE: &str = "{ op: \"add\" | \"remove\" | \"replace\" | \"move\" | \"copy\" | \"test\"; path: string; value?: unknown; from?: string }[]";

/// `@param args.<key> <text>` when the description says more than the name, plus default and
/// format; `None` when there is nothing worth a line.
fn param_doc(key: &str, param: &Parameter, max_chars: usize) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(description) = &param.description {
        let summary = text::select_sentences(description, max_chars);
        if adds_to_name(text::first_sentence(&summary), key) {
            parts.push(summary);
        }
    }
    if param.deprecated {
        parts.push("(deprecated)".into());
    }
    if let Some(format) = param.schema.get("format").and_then(Value::as_str)
        && matches!(
            format,
            "date-time" | "date" | "int64" | "uri" | "email" | "uuid"
        )
    {
        parts.push(format!("Format: {format}."));
    }
    if let Some(default) = param.schema.get("default") {
        let shown = serde_json::to_string(default).unwrap_or_default();
        parts.push(format!("Default: {}.", text::truncate_chars(&shown, 40)));
    }
    parts.extend(crate::schema::constraint_tags(&param.schema));
    if parts.is_empty() {
        return None;
    }
    Some(text::comment(&format!(
        "@param args.{key} {}",
        parts.join(" ")
    )))
}

const STOP_WORDS: &[&str] = &[
    "the",
    "a",
    "an",
    "of",
    "to",
    "for",
    "in",
    "on",
    "is",
    "that",
    "which",
    "this",
    "by",
    "with",
    "be",
    "and",
    "or",
    "its",
    "it",
    "id",
    "identifier",
    "unique",
    "name",
];

/// Whether a description says more than its parameter's name: more than two words that are
/// neither stop words nor words of the name ("The account owner of the repository." for `owner`
/// adds nothing an agent needs).
fn adds_to_name(description: &str, key: &str) -> bool {
    let name_words: HashSet<String> = key
        .split(|c: char| !c.is_ascii_alphanumeric())
        .flat_map(split_camel)
        .collect();
    let extra = description
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .filter(|w| !STOP_WORDS.contains(&w.as_str()) && !name_words.contains(w))
        .count();
    extra > 2
}

fn split_camel(word: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in word.chars() {
        if c.is_ascii_uppercase() && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        current.push(c.to_ascii_lowercase());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn same_words(a: &str, b: &str) -> bool {
    let normalize = |s: &str| {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    normalize(a) == normalize(b)
}

/// The 2xx JSON response type; `string` for text, `BinaryResponse` for bytes, `null` for no content,
/// `unknown` when the spec declares no success response.
fn return_type(writer: &mut Writer<'_>, op: &Operation, indent: usize) -> String {
    let Some(success) = &op.success else {
        return "unknown".into();
    };
    let Some(media) = success.preferred() else {
        return "null".into();
    };
    match media.kind {
        BodyKind::Json | BodyKind::Form | BodyKind::Multipart => {
            writer.type_of(&media.schema, Mode::Response, indent)
        }
        BodyKind::Text => "string".into(),
        BodyKind::Binary => {
            writer.use_file_types();
            "BinaryResponse".into()
        }
    }
}

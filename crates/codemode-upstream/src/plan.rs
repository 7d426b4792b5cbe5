//! [`CallPlan`]: what preparing a call to one operation needs, worked out once per operation
//! from the spec (the validation plan, the default `Accept` header, the path template split at
//! its parameters). Must not know arguments, sessions or sending.

use codemode_spec::{BodyKind, Operation, ParameterLocation, Spec};

use crate::validate::OperationPlan;

/// What `prepare` needs for one operation, computed once: the validation plan, the default
/// `Accept` header and the path template split at its parameters.
pub(crate) struct CallPlan {
    pub(crate) arguments: OperationPlan,
    pub(crate) accept: String,
    pub(crate) path: Vec<PathPiece>,
}

/// A piece of a path template.
pub(crate) enum PathPiece {
    /// Text between parameters, already encoded.
    Literal(String),
    /// A declared path parameter, by index in `Operation::parameters`.
    Parameter(usize),
    /// `{name}` with no path parameter of that name: a spec defect reported when called.
    Undeclared(String),
}

impl CallPlan {
    pub(crate) fn build(spec: &Spec, op: &Operation) -> CallPlan {
        CallPlan {
            arguments: OperationPlan::build(spec, op),
            accept: default_accept(op),
            path: split_path_template(op),
        }
    }
}

/// The `Accept` header from the success response's preferred media type.
fn default_accept(op: &Operation) -> String {
    match op.success.as_ref().and_then(|r| r.preferred()) {
        Some(media) if !media.media_type.contains('*') => match media.kind {
            BodyKind::Json => media.media_type.clone(),
            _ => format!("{}, */*;q=0.5", media.media_type),
        },
        _ => "application/json, */*;q=0.5".to_string(),
    }
}

/// Splits the operation's path template at its `{parameters}`, encoding the text between.
fn split_path_template(op: &Operation) -> Vec<PathPiece> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    if !op.path.starts_with('/') {
        literal.push('/');
    }
    let mut rest = op.path.as_str();
    while let Some(open) = rest.find('{') {
        literal.push_str(&encode_template_literal(&rest[..open]));
        let Some(close) = rest[open..].find('}') else {
            literal.push_str(&encode_template_literal(&rest[open..]));
            rest = "";
            break;
        };
        let name = &rest[open + 1..open + close];
        if !literal.is_empty() {
            pieces.push(PathPiece::Literal(std::mem::take(&mut literal)));
        }
        let declared = op
            .parameters
            .iter()
            .position(|p| p.location == ParameterLocation::Path && p.name == name);
        pieces.push(match declared {
            Some(index) => PathPiece::Parameter(index),
            None => PathPiece::Undeclared(name.to_string()),
        });
        rest = &rest[open + close + 1..];
    }
    literal.push_str(&encode_template_literal(rest));
    if !literal.is_empty() {
        pieces.push(PathPiece::Literal(literal));
    }
    pieces
}

/// Template text between parameters, from the (untrusted) spec: keep `/`, encode the rest that
/// cannot appear literally.
fn encode_template_literal(text: &str) -> String {
    const LITERAL: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'<')
        .add(b'>')
        .add(b'`')
        .add(b'?')
        .add(b'#')
        .add(b'\\')
        .add(b'^')
        .add(b'|');
    percent_encoding::utf8_percent_encode(text, LITERAL).to_string()
}

//! Near-identical object types declared as the differences from one declared before them:
//! GitHub has several user shapes with the same twenty URL fields, and an answer that shows two
//! of them in full spends hundreds of tokens saying the same thing twice.
//!
//! `interface PublicUser extends Omit<SimpleUser, "email"> { email: string | null; bio: … }`
//! says exactly what the full declaration says (the members of `SimpleUser` that `PublicUser`
//! has unchanged, its own different and extra members), so it compiles to the same type.

/// A declaration this module can read: `interface X { … }` or `type X = { … } | null;`, with
/// its optional JSDoc line.
struct ObjectDeclaration<'a> {
    doc: &'a str,
    name: &'a str,
    nullable: bool,
    /// (key, the member's lines: JSDoc and declaration), in order.
    members: Vec<(&'a str, &'a str)>,
}

/// Smallest type worth declaring as a variant, in members.
const MIN_MEMBERS: usize = 8;
/// Share of its members a variant must have unchanged from the base.
const MIN_SHARED: f64 = 0.7;

/// `text` (the declaration of a type) as the differences from one of `bases` (declarations in
/// the same answer, before it), when one shares most of its members and that is shorter.
pub(crate) fn as_variant<'a>(text: &str, bases: impl Iterator<Item = &'a str>) -> Option<String> {
    let variant = parse(text)?;
    if variant.members.len() < MIN_MEMBERS {
        return None;
    }
    let mut best: Option<String> = None;
    for base in bases.filter_map(parse) {
        if base.name == variant.name {
            continue;
        }
        let shared = variant
            .members
            .iter()
            .filter(|member| base.members.contains(member))
            .count();
        if (shared as f64) < MIN_SHARED * variant.members.len() as f64 {
            continue;
        }
        let written = write_variant(&variant, &base);
        if written.len() * 10 < text.len() * 7
            && best.as_ref().is_none_or(|b| written.len() < b.len())
        {
            best = Some(written);
        }
    }
    best
}

fn write_variant(variant: &ObjectDeclaration<'_>, base: &ObjectDeclaration<'_>) -> String {
    let dropped: Vec<String> = base
        .members
        .iter()
        .filter(|member| !variant.members.contains(member))
        .map(|(key, _)| crate::text::string_literal(key))
        .collect();
    let own: String = variant
        .members
        .iter()
        .filter(|member| !base.members.contains(member))
        .map(|(_, lines)| *lines)
        .collect();
    let base_type = if base.nullable {
        format!("NonNullable<{}>", base.name)
    } else {
        base.name.to_string()
    };
    let parent = if dropped.is_empty() {
        base_type
    } else {
        format!("Omit<{base_type}, {}>", dropped.join(" | "))
    };
    let (doc, name) = (variant.doc, variant.name);
    if variant.nullable {
        if own.is_empty() {
            format!("{doc}type {name} = {parent} | null;\n")
        } else {
            format!("{doc}type {name} = ({parent} & {{\n{own}}}) | null;\n")
        }
    } else {
        format!("{doc}interface {name} extends {parent} {{\n{own}}}\n")
    }
}

/// Reads a declaration written by `schema::Writer::declaration`; `None` for any other shape.
fn parse(text: &str) -> Option<ObjectDeclaration<'_>> {
    let (doc, rest) = match text.strip_prefix("/**") {
        Some(_) => {
            let end = text.find("*/\n")? + 3;
            (&text[..end], &text[end..])
        }
        None => ("", text),
    };
    let (name, nullable, body) = if let Some(rest) = rest.strip_prefix("interface ") {
        let (name, body) = rest.split_once(" {\n")?;
        (name, false, body.strip_suffix("}\n")?)
    } else {
        let rest = rest.strip_prefix("type ")?;
        let (name, body) = rest.split_once(" = {\n")?;
        (name, true, body.strip_suffix("} | null;\n")?)
    };
    if !is_identifier(name) {
        return None;
    }
    Some(ObjectDeclaration {
        doc,
        name,
        nullable,
        members: members(body)?,
    })
}

/// The members of an object body: each starts on a line indented two spaces (its JSDoc
/// included); deeper lines belong to the member above.
fn members(body: &str) -> Option<Vec<(&str, &str)>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut key: Option<&str> = None;
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        let top_level = line.starts_with("  ") && !line.starts_with("   ");
        if top_level && !line.trim_start().starts_with("/**") {
            if let Some(previous) = key.take() {
                out.push((previous, &body[start..offset]));
                start = offset;
            }
            let member = line.trim_start().trim_start_matches("readonly ");
            let end = member.find([':', '?', '('])?;
            key = Some(member[..end].trim_matches('"'));
        } else if top_level && key.is_some() {
            // A JSDoc line opens the next member.
            out.push((key.take()?, &body[start..offset]));
            start = offset;
        }
        offset += line.len();
    }
    out.push((key?, &body[start..]));
    // An index signature cannot be picked out with `Omit`.
    (!out.iter().any(|(k, _)| k.starts_with('['))).then_some(out)
}

fn is_identifier(name: &str) -> bool {
    crate::text::is_identifier(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, extra: &str) -> String {
        let mut text = format!("/** A user. */\ninterface {name} {{\n");
        for field in [
            "login",
            "url",
            "html_url",
            "repos_url",
            "events_url",
            "gists_url",
            "avatar_url",
            "followers_url",
        ] {
            text.push_str(&format!("  {field}: string;\n"));
        }
        text.push_str("  /** The id. */\n  id: number;\n");
        text.push_str(extra);
        text.push_str("}\n");
        text
    }

    #[test]
    fn a_near_copy_is_declared_as_its_differences() {
        let base = user("SimpleUser", "  email?: string | null;\n");
        let variant = user(
            "PublicUser",
            "  email: string | null;\n  bio: string | null;\n",
        );
        let written = as_variant(&variant, [base.as_str()].into_iter()).expect("a variant");
        assert_eq!(
            written,
            "/** A user. */\ninterface PublicUser extends Omit<SimpleUser, \"email\"> {\n  email: string | null;\n  bio: string | null;\n}\n"
        );
    }

    #[test]
    fn nullable_shapes_use_the_object_type() {
        let base = user("SimpleUser", "");
        let variant = user("NullableSimpleUser", "")
            .replace(
                "interface NullableSimpleUser {",
                "type NullableSimpleUser = {",
            )
            .replace("}\n", "} | null;\n");
        let written = as_variant(&variant, [base.as_str()].into_iter()).expect("a variant");
        assert_eq!(
            written,
            "/** A user. */\ntype NullableSimpleUser = SimpleUser | null;\n"
        );
        let back = as_variant(&base, [variant.as_str()].into_iter()).expect("a variant");
        assert_eq!(
            back,
            "/** A user. */\ninterface SimpleUser extends NonNullable<NullableSimpleUser> {\n}\n"
        );
    }

    #[test]
    fn different_or_small_types_stay_whole() {
        let base = user("SimpleUser", "");
        let other = "interface Repo {\n  a: string;\n  b: string;\n}\n";
        assert_eq!(as_variant(other, [base.as_str()].into_iter()), None);
        let unrelated = user("Team", "").replace(": string;", ": number;");
        assert_eq!(as_variant(&unrelated, [base.as_str()].into_iter()), None);
    }
}

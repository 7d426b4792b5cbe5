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
/// the same answer, before it, each with a key of the caller's), when one shares most of its
/// members and that is shorter; with the key of the base it was written against.
pub(crate) fn as_variant<'a, K: Copy>(
    text: &str,
    bases: impl Iterator<Item = (K, &'a str)>,
) -> Option<(K, String)> {
    // A cheap look first: most declarations are too small to be worth parsing.
    if !has_members_enough(text) {
        return None;
    }
    let variant = parse(text)?;
    if variant.members.len() < MIN_MEMBERS {
        return None;
    }
    let mut best: Option<(K, String)> = None;
    let parsed = bases
        .filter(|(_, b)| has_members_enough(b))
        .filter_map(|(key, b)| Some((key, parse(b)?)));
    for (key, base) in parsed {
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
        let shorter = best.as_ref().is_none_or(|(_, b)| written.len() < b.len());
        if written.len() * 10 < text.len() * 7 && shorter {
            best = Some((key, written));
        }
    }
    best
}

/// Whether a declaration has at least [`MIN_MEMBERS`] lines inside its braces.
fn has_members_enough(text: &str) -> bool {
    text.bytes().filter(|&b| b == b'\n').count() > MIN_MEMBERS
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
/// included); deeper lines belong to the member above. `None` for anything this module does
/// not fully understand (a quoted key, an index signature, a comment line, a line that closes a
/// nested type at the members' indentation): such a type stays whole.
fn members(body: &str) -> Option<Vec<(&str, &str)>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut key: Option<&str> = None;
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        let rest = line.strip_prefix("  ")?;
        let top_level = !rest.starts_with(' ');
        if top_level && rest.starts_with("/**") {
            // A JSDoc line opens the next member.
            if let Some(previous) = key.take() {
                out.push((previous, &body[start..offset]));
            }
            start = offset;
        } else if top_level {
            if let Some(previous) = key.take() {
                out.push((previous, &body[start..offset]));
                start = offset;
            }
            key = Some(member_key(rest)?);
        }
        offset += line.len();
    }
    out.push((key?, &body[start..]));
    Some(out)
}

/// The key of a member line `[readonly ]key[?]: type`, when the key is a bare identifier.
fn member_key(line: &str) -> Option<&str> {
    let line = line.strip_prefix("readonly ").unwrap_or(line);
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
        .unwrap_or(line.len());
    let (key, after) = line.split_at(end);
    (is_identifier(key) && (after.starts_with(": ") || after.starts_with("?: "))).then_some(key)
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
        let written = as_variant(&variant, [(0, base.as_str())].into_iter())
            .expect("a variant")
            .1;
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
        let written = as_variant(&variant, [(0, base.as_str())].into_iter())
            .expect("a variant")
            .1;
        assert_eq!(
            written,
            "/** A user. */\ntype NullableSimpleUser = SimpleUser | null;\n"
        );
        let back = as_variant(&base, [(0, variant.as_str())].into_iter())
            .expect("a variant")
            .1;
        assert_eq!(
            back,
            "/** A user. */\ninterface SimpleUser extends NonNullable<NullableSimpleUser> {\n}\n"
        );
    }

    #[test]
    fn different_or_small_types_stay_whole() {
        let base = user("SimpleUser", "");
        let other = "interface Repo {\n  a: string;\n  b: string;\n}\n";
        assert_eq!(as_variant(other, [(0, base.as_str())].into_iter()), None);
        let unrelated = user("Team", "").replace(": string;", ": number;");
        assert_eq!(
            as_variant(&unrelated, [(0, base.as_str())].into_iter()),
            None
        );
    }
}

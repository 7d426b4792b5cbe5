//! Search answers assembled from declaration pieces that are made once and reused.
//!
//! A [`Catalog`] holds, per operation and per component schema, its declaration rendered at a few
//! levels of detail (richest first), each with its o200k token count and the schemas it names.
//! Pieces are made lazily, the first time an answer needs them (or all at once by
//! [`Catalog::prepare_all`], 0.4–0.9 s of one core on the largest specs), and kept for the life of
//! the catalog. An answer adds up the token counts of its pieces and counts only the few small
//! texts made for it (the stub line, a variant); it never counts its whole text.
//!
//! The budget is spent by rank ([`Catalog::declare_answer`]):
//! 1. primary operations (the best hit, or the best hit of each step of a task) at the richest
//!    level that fits their share: the description kept whole (rules and preconditions before
//!    prose when it is long), `@param` lines, nested argument objects expanded;
//! 2. the types their results name, with their fields, list envelopes unwrapped (the element
//!    type of `{ data: Refund[] }` counts as the result);
//! 3. the other operations as compact signatures (summary, arguments, result), or left out for
//!    the caller to list in a line each;
//! 4. the other types, nearest first, while the budget lasts; the rest are declared
//!    `type X = unknown;` under a note saying to search for them by name.
//!
//! Each type is declared once per answer. A plain object type that repeats most of the members
//! of one declared before it in the same answer (GitHub's user shapes) is declared as that type
//! with the differences: `interface B extends Omit<A, "k"> { k: string }`.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use codemode_spec::{OperationId, SCHEMA_REF_PREFIX, Spec, unescape_pointer_token};
use serde_json::Value;

use crate::names::TypeNames;
use crate::operation::{self, OperationDetail};
use crate::schema::{self, Detail, Writer};
use crate::{Declarations, FILE_TYPES, count_tokens, list_some, variants};

/// One declaration at one level of detail.
#[derive(Debug)]
struct Piece {
    text: Box<str>,
    /// o200k tokens of `text` alone.
    tokens: usize,
    /// Schemas an operation's arguments name, or every schema a type names (indices into
    /// `spec.schemas()`).
    refs: Box<[usize]>,
    /// Schemas an operation's result names (empty for types).
    result_refs: Box<[usize]>,
    /// Whether the text uses `Binary` / `BinaryResponse`.
    file_types: bool,
    /// Whether some argument object names optional members without their types (a skeleton).
    skeletal: bool,
}

/// How much an operation's declaration says. Two ladders, each richest first: a primary keeps
/// its description (where the rules are) while its large nested argument objects are cut;
/// a compact signature has the summary only and is cut the same way.
const OPERATION_LEVELS: [(OperationDetail, Detail); 11] = [
    // Primary ladder.
    operation_level(1500, 300, 120, true, usize::MAX),
    operation_level(500, 150, 60, true, usize::MAX),
    operation_level(500, 150, 0, false, 400),
    operation_level(500, 150, 0, false, 150),
    shallowest(operation_level(200, 0, 0, false, 150)),
    skeleton(shallowest(operation_level(200, 0, 0, false, 150))),
    // Compact ladder.
    operation_level(0, 0, 0, false, usize::MAX),
    operation_level(0, 0, 0, false, 400),
    operation_level(0, 0, 0, false, 150),
    shallowest(operation_level(0, 0, 0, false, 150)),
    skeleton(shallowest(operation_level(0, 0, 0, false, 150))),
];

/// A level whose arguments show one level of nesting only.
const fn shallowest((operation, detail): (OperationDetail, Detail)) -> (OperationDetail, Detail) {
    (
        operation,
        Detail {
            inline_nesting: 1,
            ..detail
        },
    )
}

/// Most members an argument object keeps at the leanest level of a ladder; the other optional
/// ones are named in a comment. Stripe's PaymentIntent body goes from ~520 tokens to ~150, so a
/// three-step task over such bodies still declares every step.
const SKELETON_MEMBERS: usize = 8;

/// The leanest level of a ladder: [`shallowest`], with large argument objects cut to their
/// required members, a few optional ones, and the names of the rest.
const fn skeleton((operation, detail): (OperationDetail, Detail)) -> (OperationDetail, Detail) {
    (
        operation,
        Detail {
            max_inline_members: SKELETON_MEMBERS,
            ..detail
        },
    )
}

/// The levels of a primary operation (richest first), and of a compact signature; the last
/// of each is its skeleton.
const PRIMARY: std::ops::Range<usize> = 0..6;
const COMPACT: std::ops::Range<usize> = 6..11;
/// The primary level just above the skeleton: a short description, arguments typed one level
/// deep. Every primary is raised to it, when the budget allows, before types and other
/// operations are added.
const SHALLOWEST_PRIMARY: usize = PRIMARY.end - 2;

/// How much a type's declaration says, richest first; the last shows a large type's main
/// fields only (required first), for a result that must be seen.
const TYPE_LEVELS: [Detail; 6] = [
    detail(120, true, usize::MAX),
    detail(60, true, usize::MAX),
    detail(0, false, usize::MAX),
    detail(0, false, 400),
    detail(0, false, 150),
    Detail {
        max_members: 30,
        ..detail(0, false, 150)
    },
];

const fn detail(
    property_description: usize,
    property_tags: bool,
    max_object_chars: usize,
) -> Detail {
    Detail {
        property_description,
        property_tags,
        inline_nesting: schema::MAX_INLINE_NESTING,
        max_object_chars,
        max_members: usize::MAX,
        max_inline_members: usize::MAX,
    }
}

const fn operation_level(
    description: usize,
    param_chars: usize,
    property_description: usize,
    property_tags: bool,
    max_object_chars: usize,
) -> (OperationDetail, Detail) {
    (
        OperationDetail {
            description,
            param_chars,
        },
        detail(property_description, property_tags, max_object_chars),
    )
}

/// A piece longer than this many bytes per token of the largest budget cannot fit in it
/// (declarations measure 3.5–4.5 bytes per token); it is not counted or kept.
const MAX_BYTES_PER_TOKEN: usize = 12;

/// Tokens of a fixed text, counted once.
fn tokens_of(cell: &'static OnceLock<usize>, text: &str) -> usize {
    *cell.get_or_init(|| count_tokens(text))
}

/// The note above the stub line.
fn stub_note_tokens() -> usize {
    static TOKENS: OnceLock<usize> = OnceLock::new();
    tokens_of(&TOKENS, STUB_NOTE)
}

/// `interface Api {` and `}`.
fn frame_tokens() -> usize {
    static TOKENS: OnceLock<usize> = OnceLock::new();
    tokens_of(&TOKENS, "interface Api {\n}\n")
}

/// Types are expanded at most this many references away from an operation.
const MAX_TIER: usize = 6;

/// `total` split between `parts`; each part at least `floor` while there are at most two (with
/// more, the floor would let the first ones take everything).
fn share(total: usize, parts: usize, floor: usize) -> usize {
    let each = total / parts.max(1);
    if parts <= 2 { each.max(floor) } else { each }
}

impl AnswerOperation {
    /// Whether the operation is declared before the others: a primary, or the first of all.
    fn leads(&self, rank: usize) -> bool {
        self.primary || rank == 0
    }
}

/// One operation an answer may declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerOperation {
    /// The operation, by its id in the catalog's spec.
    pub operation: OperationId,
    /// The best hit (of a task, or of one of its steps): declared richly, and its result type
    /// with its fields, before anything else.
    pub primary: bool,
    /// Tokens the caller spends on this operation outside the declarations when it is declared
    /// (its line in a list above them).
    pub overhead_tokens: usize,
    /// Tokens the caller spends naming this operation when it is not declared (a line in a
    /// list after them): paid for up front, so what the budget drops can still be named.
    pub listed_tokens: usize,
}

/// What to declare, best first.
#[derive(Debug, Clone, Default)]
pub struct AnswerRequest {
    /// The operations to declare, best first; later ones are the first left out when the
    /// budget runs short (the first is never left out).
    pub operations: Vec<AnswerOperation>,
    /// Component schemas asked for by name, declared as if a primary's result named them.
    pub types: Vec<String>,
    /// Tokens the declarations and the operations' overheads may take together.
    pub token_budget: usize,
}

/// Declaration pieces of one spec, made on first use and kept (see the module docs).
#[derive(Debug)]
pub struct Catalog {
    spec: Arc<Spec>,
    names: TypeNames,
    operations: Vec<[OnceLock<Option<Piece>>; OPERATION_LEVELS.len()]>,
    types: Vec<[OnceLock<Option<Piece>>; TYPE_LEVELS.len()]>,
    /// Tokens of each type's `type X = unknown;` stub (with the space after it).
    stubs: Vec<OnceLock<usize>>,
    /// Pieces longer than this are not kept (see [`MAX_BYTES_PER_TOKEN`]).
    byte_cap: usize,
}

impl Catalog {
    /// A catalog for answers of at most `max_budget_tokens` tokens. Works out the spec's type
    /// names (≈1–10 ms for thousands of schemas); pieces are made later, as answers need them.
    pub fn new(spec: Arc<Spec>, max_budget_tokens: usize) -> Catalog {
        let names = TypeNames::new(&spec);
        let operations = (0..spec.operations.len())
            .map(|_| Default::default())
            .collect();
        let types = (0..spec.schemas().len())
            .map(|_| Default::default())
            .collect();
        let stubs = (0..spec.schemas().len()).map(|_| OnceLock::new()).collect();
        Catalog {
            spec,
            names,
            operations,
            types,
            stubs,
            byte_cap: max_budget_tokens.saturating_mul(MAX_BYTES_PER_TOKEN),
        }
    }

    /// The spec this catalog declares from.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// The TypeScript name of each of the spec's component schemas, as the declarations use them.
    pub fn type_names(&self) -> &TypeNames {
        &self.names
    }

    /// Makes every piece an answer may need (each operation and schema at each level), so that
    /// no answer pays for making them: 0.4–0.9 s of one core and 6–13 MB on the largest specs
    /// (BENCHMARKS.md). Call it off the request path (a server at start, on a background
    /// thread); answers work without it.
    pub fn prepare_all(&self) {
        for index in 0..self.operations.len() {
            for level in 0..OPERATION_LEVELS.len() {
                self.operation_piece(index, level);
            }
        }
        for index in 0..self.types.len() {
            for level in 0..TYPE_LEVELS.len() {
                self.type_piece(index, level);
            }
            self.stub_tokens(index);
        }
    }

    /// Bytes held by the pieces made so far (their text and lists), for memory reports.
    pub fn memory_bytes(&self) -> usize {
        let piece = |slot: &OnceLock<Option<Piece>>| {
            std::mem::size_of::<OnceLock<Option<Piece>>>()
                + slot.get().and_then(Option::as_ref).map_or(0, |p| {
                    p.text.len() + (p.refs.len() + p.result_refs.len()) * size_of::<usize>()
                })
        };
        self.operations.iter().flatten().map(piece).sum::<usize>()
            + self.types.iter().flatten().map(piece).sum::<usize>()
    }

    /// The declarations of an answer, the budget spent by rank (see the module docs). The
    /// first operation is declared even when nothing of it fits, and the notes say so.
    pub fn declare_answer(&self, request: &AnswerRequest) -> Declarations {
        let budget = request.token_budget;
        let mut assembly = Assembly::new(self, budget);
        let ranked = || request.operations.iter().enumerate();
        for (_, op) in ranked().filter(|(rank, op)| !op.leads(*rank)) {
            assembly.used += op.listed_tokens;
            assembly.listed += op.listed_tokens;
        }
        // Every primary at its leanest first, so that each step of a task is declared ...
        for (rank, op) in ranked().filter(|(rank, op)| op.leads(*rank)) {
            assembly.reserve_operation(rank, op, rank == 0);
        }
        let primaries = assembly.operations.len();
        // ... with their arguments typed (the skeleton only names a large body's optional
        // members) before anything else takes the room ...
        for slot in 0..primaries {
            assembly.enrich_operation_within(slot, SHALLOWEST_PRIMARY, budget);
        }
        // ... and the types their results name, at their leanest, with their fields (types
        // asked for by name, with nothing else to show, may take the whole budget) ...
        for slot in 0..primaries {
            assembly.queue_types_of(slot);
        }
        for name in &request.types {
            if let Some(index) = self.spec.schemas().get_index_of(name.as_str()) {
                assembly.queue(index, 0);
            }
        }
        let result_share = if request.operations.is_empty() {
            budget
        } else {
            budget * 2 / 5
        };
        assembly.result_cap = share(result_share, primaries, budget / 8);
        assembly.add_types(Some(0));
        // ... the other operations at their leanest, together at most a third of the budget ...
        let secondary_allowance = budget / 3;
        let mut waiting = Vec::new();
        for (rank, op) in ranked().filter(|(rank, op)| !op.leads(*rank)) {
            if !assembly.reserve_secondary(rank, op, secondary_allowance) {
                waiting.push((rank, op));
            }
        }
        assembly.add_deferred_results();
        // ... then each primary made richer, in rank order, within its share of 60% of the
        // budget, its result types after it, and the other operations as far as what is left
        // allows.
        let primary_cap = share(budget * 3 / 5, primaries, budget / 4);
        for slot in 0..primaries {
            assembly.enrich_operation(slot, primary_cap);
        }
        for slot in 0..assembly.types.len() {
            assembly.enrich_type(slot, result_share);
        }
        let secondary_cap = budget / 6;
        for slot in primaries..assembly.operations.len() {
            assembly.enrich_operation(slot, secondary_cap);
            assembly.queue_types_of(slot);
        }
        for (rank, op) in waiting {
            assembly.add_operation(rank, op, secondary_cap);
        }
        assembly.add_types(None);
        assembly.finish()
    }

    fn stub_tokens(&self, index: usize) -> usize {
        let Some(slot) = self.stubs.get(index) else {
            return 0;
        };
        *slot.get_or_init(|| {
            let name = self.spec.schemas().get_index(index).map_or("", |(n, _)| n);
            count_tokens(&format!("type {} = unknown; ", self.names.get(name)))
        })
    }

    fn operation_piece(&self, index: usize, level: usize) -> Option<&Piece> {
        let slot = self.operations.get(index)?.get(level)?;
        slot.get_or_init(|| self.make_operation_piece(index, level, self.byte_cap))
            .as_ref()
    }

    fn type_piece(&self, index: usize, level: usize) -> Option<&Piece> {
        let slot = self.types.get(index)?.get(level)?;
        slot.get_or_init(|| self.make_type_piece(index, level))
            .as_ref()
    }

    fn make_operation_piece(&self, index: usize, level: usize, byte_cap: usize) -> Option<Piece> {
        let op = self.spec.operations.get(index)?;
        let (operation_detail, detail) = *OPERATION_LEVELS.get(level)?;
        let mut writer = Writer::new(&self.spec, &self.names, detail);
        let signature = operation::signature(&mut writer, op, operation_detail, 2);
        let mut piece = self.piece(
            signature.text,
            &signature.argument_refs,
            &signature.result_refs,
            writer.uses_file_types(),
            byte_cap,
        )?;
        piece.skeletal = writer.named_optional_members();
        Some(piece)
    }

    fn make_type_piece(&self, index: usize, level: usize) -> Option<Piece> {
        let (name, _) = self.spec.schemas().get_index(index)?;
        let mut writer = Writer::new(&self.spec, &self.names, *TYPE_LEVELS.get(level)?);
        let text = writer.declaration(name);
        let refs = writer.take_referenced();
        self.piece(text, &refs, &[], writer.uses_file_types(), self.byte_cap)
    }

    fn piece(
        &self,
        text: String,
        refs: &[String],
        result_refs: &[String],
        file_types: bool,
        byte_cap: usize,
    ) -> Option<Piece> {
        if text.len() > byte_cap {
            return None;
        }
        let indices = |names: &[String]| -> Box<[usize]> {
            names
                .iter()
                .filter_map(|n| self.spec.schemas().get_index_of(n.as_str()))
                .collect()
        };
        Some(Piece {
            tokens: count_tokens(&text),
            text: text.into_boxed_str(),
            refs: indices(refs),
            result_refs: indices(result_refs),
            file_types,
            skeletal: false,
        })
    }

    /// The element types of a list envelope: what a `data` / `result` / `items` … property
    /// names (an array of a type, or the type), and in a small wrapper (at most
    /// [`WRAPPER_PROPERTIES`] properties: `{ droplets: Droplet[], links, meta }`) what any array
    /// property names; looking through `allOf`.
    fn envelope_items(&self, index: usize) -> Vec<usize> {
        let Some((_, schema)) = self.spec.schemas().get_index(index) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        self.collect_envelope_items(schema, &mut out, 0);
        out
    }

    fn collect_envelope_items(&self, schema: &Value, out: &mut Vec<usize>, nesting: usize) {
        if nesting > 3 {
            return;
        }
        if let Some(Value::Array(members)) = schema.get("allOf") {
            for member in members {
                self.collect_envelope_items(member, out, nesting + 1);
            }
        }
        let Some(Value::Object(properties)) = schema.get("properties") else {
            return;
        };
        let wrapper = properties.len() <= WRAPPER_PROPERTIES;
        for (key, property) in properties {
            let list_key = LIST_KEYS.contains(&key.as_str());
            let element = match property.get("items") {
                Some(items)
                    if (wrapper || list_key)
                        && property.get("type") == Some(&Value::String("array".into())) =>
                {
                    items
                }
                _ if list_key => property,
                _ => continue,
            };
            if let Some(index) = self.reference_index(element) {
                out.push(index);
            }
        }
    }

    fn reference_index(&self, schema: &Value) -> Option<usize> {
        let reference = schema.get("$ref")?.as_str()?;
        let name = unescape_pointer_token(reference.strip_prefix(SCHEMA_REF_PREFIX)?);
        self.spec.schemas().get_index_of(name.as_str())
    }
}

/// A type with at most this many properties wraps its arrays: they are what it carries.
const WRAPPER_PROPERTIES: usize = 4;

/// Property names under which APIs put the payload of a response.
const LIST_KEYS: &[&str] = &["data", "result", "results", "items", "records"];

/// An operation an answer declares.
#[derive(Debug, Clone, Copy)]
struct Chosen {
    /// Position in the request.
    rank: usize,
    index: usize,
    level: usize,
    primary: bool,
    overhead: usize,
}

/// An answer being assembled: what is declared, at which level, and what it cost.
struct Assembly<'c> {
    catalog: &'c Catalog,
    budget: usize,
    used: usize,
    /// Declared operations, in the order they were chosen.
    operations: Vec<Chosen>,
    dropped: Vec<usize>,
    /// Declared types in the order they are printed: (index, level, tier).
    types: Vec<(usize, usize, usize)>,
    declared: HashSet<usize>,
    /// Types named by something declared but not declared themselves (each costs a stub), and
    /// what their stubs cost together.
    stubs: HashSet<usize>,
    stub_tokens: usize,
    /// Types waiting to be considered, nearest tier first, then in the order they were found.
    queue: BinaryHeap<Reverse<(usize, usize, usize)>>,
    found: usize,
    best_tier: HashMap<usize, usize>,
    file_types: bool,
    forced: bool,
    /// Tokens of `used` that the caller spends outside the declarations: on the lines of
    /// declared operations, and (`listed`) of the ones left to be named after them.
    overhead: usize,
    listed: usize,
    /// Most a primary's result type may take before the other operations are declared.
    result_cap: usize,
    /// Primaries' result types that did not fit `result_cap`.
    deferred: Vec<usize>,
    /// Types declared as the differences from another one (`variants`), by index, and the
    /// types they were written against.
    variants: HashMap<usize, String>,
    bases: HashSet<usize>,
}

impl<'c> Assembly<'c> {
    fn new(catalog: &'c Catalog, budget: usize) -> Assembly<'c> {
        Assembly {
            catalog,
            budget,
            used: frame_tokens(),
            operations: Vec::new(),
            dropped: Vec::new(),
            types: Vec::new(),
            declared: HashSet::new(),
            stubs: HashSet::new(),
            stub_tokens: 0,
            queue: BinaryHeap::new(),
            found: 0,
            best_tier: HashMap::new(),
            file_types: false,
            forced: false,
            overhead: 0,
            listed: 0,
            result_cap: budget * 2 / 5,
            deferred: Vec::new(),
            variants: HashMap::new(),
            bases: HashSet::new(),
        }
    }

    fn stub_cost(&self) -> usize {
        if self.stubs.is_empty() {
            0
        } else {
            stub_note_tokens() + self.stub_tokens
        }
    }

    fn room(&self) -> usize {
        self.budget
            .saturating_sub(self.used)
            .saturating_sub(self.stub_cost())
    }

    /// Stub tokens that declaring a piece naming `refs` would add (and save, for `itself`).
    fn new_stub_tokens(
        &self,
        refs: &[usize],
        result_refs: &[usize],
        itself: Option<usize>,
    ) -> isize {
        let mut new: HashSet<usize> = HashSet::new();
        for r in refs.iter().chain(result_refs) {
            if !self.declared.contains(r) && !self.stubs.contains(r) && Some(*r) != itself {
                new.insert(*r);
            }
        }
        let catalog = self.catalog;
        let mut tokens: isize = new.iter().map(|&r| catalog.stub_tokens(r) as isize).sum();
        if self.stubs.is_empty() && !new.is_empty() {
            tokens += stub_note_tokens() as isize;
        }
        if let Some(own) = itself
            && self.stubs.contains(&own)
        {
            tokens -= catalog.stub_tokens(own) as isize;
        }
        tokens
    }

    /// Declares an operation at its leanest level when it fits; the first one even when it does
    /// not (it is what the answer is about).
    fn reserve_operation(&mut self, rank: usize, op: &AnswerOperation, first: bool) {
        let catalog = self.catalog;
        // The primary ladder's leanest keeps a sentence of description; when even that does not
        // fit, the compact ladder's leanest (no prose) still declares the step.
        for leanest in [PRIMARY.end - 1, COMPACT.end - 1] {
            if let Some(piece) = catalog.operation_piece(op.operation.index(), leanest)
                && self.cost(piece, op) <= self.room() as isize
            {
                self.take_operation(rank, op, leanest, piece);
                return;
            }
        }
        if first {
            self.force_first(rank, op);
        } else {
            self.dropped.push(op.operation.index());
        }
    }

    /// Declares a non-primary operation at its leanest level when it fits what is left and the
    /// non-primaries' `allowance`; says whether it did.
    fn reserve_secondary(&mut self, rank: usize, op: &AnswerOperation, allowance: usize) -> bool {
        let catalog = self.catalog;
        let leanest = COMPACT.end - 1;
        let spent: usize = self
            .operations
            .iter()
            .filter(|c| !c.primary)
            .filter_map(|c| catalog.operation_piece(c.index, c.level))
            .map(|p| p.tokens)
            .sum();
        match catalog.operation_piece(op.operation.index(), leanest) {
            Some(piece)
                if self.cost(piece, op) <= self.room() as isize
                    && spent + piece.tokens <= allowance =>
            {
                self.take_operation(rank, op, leanest, piece);
                true
            }
            _ => false,
        }
    }

    /// Moves a declared operation to the richest level that fits `cap` and what is left.
    fn enrich_operation(&mut self, slot: usize, cap: usize) {
        let start = match self.operations.get(slot) {
            Some(chosen) if chosen.primary => PRIMARY.start,
            Some(_) => COMPACT.start,
            None => return,
        };
        self.enrich_operation_within(slot, start, cap);
    }

    /// [`Assembly::enrich_operation`], considering levels from `richest` on only.
    fn enrich_operation_within(&mut self, slot: usize, richest: usize, cap: usize) {
        let catalog = self.catalog;
        let Some(chosen) = self.operations.get(slot).copied() else {
            return;
        };
        let Some(current) = catalog.operation_piece(chosen.index, chosen.level) else {
            return;
        };
        for level in richest..chosen.level {
            let Some(piece) = catalog.operation_piece(chosen.index, level) else {
                continue;
            };
            let extra = piece.tokens as isize - current.tokens as isize
                + self.new_stub_tokens(&piece.refs, &piece.result_refs, None)
                + self.file_types_cost(piece);
            if piece.tokens + chosen.overhead <= cap && extra <= self.room() as isize {
                // Stubs and the file shapes are accounted by the two calls below.
                self.used = self.used + piece.tokens - current.tokens.min(self.used);
                self.note_references(piece);
                self.note_file_types(piece);
                self.operations[slot].level = level;
                return;
            }
        }
    }

    /// Declares an operation at the richest compact level that fits both `cap` and what is
    /// left, or drops it.
    fn add_operation(&mut self, rank: usize, op: &AnswerOperation, cap: usize) {
        let catalog = self.catalog;
        for level in COMPACT {
            let Some(piece) = catalog.operation_piece(op.operation.index(), level) else {
                continue;
            };
            let cost = self.cost(piece, op);
            if cost <= cap.min(self.room()) as isize {
                self.take_operation(rank, op, level, piece);
                let slot = self.operations.len() - 1;
                self.queue_types_of(slot);
                return;
            }
        }
        self.dropped.push(op.operation.index());
    }

    /// Tokens an operation's piece adds: itself, its line outside, and new stubs.
    fn cost(&self, piece: &Piece, op: &AnswerOperation) -> isize {
        piece.tokens as isize
            + 1
            + op.overhead_tokens as isize
            + self.new_stub_tokens(&piece.refs, &piece.result_refs, None)
            + self.file_types_cost(piece)
    }

    /// The file shapes' declaration, when `piece` is the first to need it.
    fn file_types_cost(&self, piece: &Piece) -> isize {
        if piece.file_types && !self.file_types {
            file_types_tokens() as isize
        } else {
            0
        }
    }

    fn note_file_types(&mut self, piece: &Piece) {
        self.used += self.file_types_cost(piece) as usize;
        self.file_types |= piece.file_types;
    }

    /// The first operation at its leanest level, whatever it costs; made without the byte cap
    /// (and then not kept) when even that level is over it.
    fn force_first(&mut self, rank: usize, op: &AnswerOperation) {
        let leanest = PRIMARY.end - 1;
        let made;
        let piece = match self.catalog.operation_piece(op.operation.index(), leanest) {
            Some(piece) => piece,
            None => {
                match self
                    .catalog
                    .make_operation_piece(op.operation.index(), leanest, usize::MAX)
                {
                    Some(piece) => {
                        made = piece;
                        &made
                    }
                    None => return,
                }
            }
        };
        self.forced = true;
        self.take_operation(rank, op, leanest, piece);
    }

    fn take_operation(&mut self, rank: usize, op: &AnswerOperation, level: usize, piece: &Piece) {
        if !op.leads(rank) {
            // Declared, so not named in the list after: its line there is paid back.
            self.used -= op.listed_tokens;
            self.listed -= op.listed_tokens;
        }
        self.used += piece.tokens + 1 + op.overhead_tokens;
        self.overhead += op.overhead_tokens;
        self.note_file_types(piece);
        self.note_references(piece);
        self.operations.push(Chosen {
            rank,
            index: op.operation.index(),
            level,
            primary: op.leads(rank),
            overhead: op.overhead_tokens,
        });
    }

    /// Queues the types a declared operation names: a primary's result types first of all, and
    /// with them, ahead of them, the types of the body a primary sends.
    fn queue_types_of(&mut self, slot: usize) {
        let Some(chosen) = self.operations.get(slot).copied() else {
            return;
        };
        let Some(piece) = self.catalog.operation_piece(chosen.index, chosen.level) else {
            return;
        };
        let result_tier = if chosen.primary { 0 } else { 2 };
        // A primary that sends a body needs its fields for its first call to be right: the
        // types its arguments name come with its results, before them.
        let sends_body = self
            .catalog
            .spec
            .operations
            .get(chosen.index)
            .is_some_and(|op| op.request_body.is_some());
        let (first, then, then_tier) = if chosen.primary && sends_body {
            (&piece.refs, &piece.result_refs, result_tier)
        } else {
            (&piece.result_refs, &piece.refs, result_tier + 1)
        };
        for &r in first.iter() {
            self.queue(r, result_tier);
        }
        for &r in then.iter() {
            self.queue(r, then_tier);
        }
    }

    fn note_references(&mut self, piece: &Piece) {
        for &r in piece.refs.iter().chain(piece.result_refs.iter()) {
            self.note_reference(r);
        }
    }

    fn note_reference(&mut self, index: usize) {
        if !self.declared.contains(&index) && self.stubs.insert(index) {
            self.stub_tokens += self.catalog.stub_tokens(index);
        }
    }

    fn queue(&mut self, index: usize, tier: usize) {
        if self.declared.contains(&index) || tier > MAX_TIER {
            return;
        }
        match self.best_tier.get(&index) {
            Some(&known) if known <= tier => return,
            _ => {}
        }
        self.best_tier.insert(index, tier);
        self.found += 1;
        self.queue.push(Reverse((tier, self.found, index)));
    }

    /// Declares queued types, nearest first, while they fit; with `only_tier`, just that tier.
    fn add_types(&mut self, only_tier: Option<usize>) {
        while let Some(Reverse((tier, _, index))) = self.queue.peek().copied() {
            if only_tier.is_some_and(|only| tier > only) {
                return;
            }
            self.queue.pop();
            if self.declared.contains(&index) || self.best_tier.get(&index) != Some(&tier) {
                continue;
            }
            self.add_type(index, tier);
        }
    }

    fn add_type(&mut self, index: usize, tier: usize) {
        // A primary's result types are taken at their leanest here and made richer once the
        // primaries have had their share (`enrich_type`).
        let start = if tier == 0 {
            TYPE_LEVELS.len() - 2
        } else {
            tier.min(2)
        };
        // A primary's result takes at most its share of 40% of the budget here (its main fields
        // only, if need be); one that does not fit waits until the other operations have their
        // leanest declarations (`add_deferred_results`). Deeper types take a quarter each.
        let cap = if tier == 0 {
            self.result_cap
        } else {
            self.budget / 4
        };
        let catalog = self.catalog;
        // Only a primary's result is worth a partial declaration (the last level).
        let end = if tier == 0 {
            TYPE_LEVELS.len()
        } else {
            TYPE_LEVELS.len() - 1
        };
        for level in start..end {
            let Some(piece) = catalog.type_piece(index, level) else {
                continue;
            };
            if self.type_cost(index, piece) <= cap.min(self.room()) as isize {
                self.take_type(index, level, tier);
                return;
            }
        }
        if tier == 0 {
            self.deferred.push(index);
        }
    }

    /// The primaries' results that did not fit their share, at their leanest (main fields only),
    /// whenever they fit what is left.
    fn add_deferred_results(&mut self) {
        let catalog = self.catalog;
        let partial = TYPE_LEVELS.len() - 1;
        for index in std::mem::take(&mut self.deferred) {
            if let Some(piece) = catalog.type_piece(index, partial)
                && !self.declared.contains(&index)
                && self.type_cost(index, piece) <= self.room() as isize
            {
                self.take_type(index, partial, 0);
            }
        }
    }

    fn type_cost(&self, index: usize, piece: &Piece) -> isize {
        piece.tokens as isize
            + 1
            + self.new_stub_tokens(&piece.refs, &[], Some(index))
            + self.file_types_cost(piece)
    }

    /// Moves a declared type to the richest level that fits `cap` and what is left.
    fn enrich_type(&mut self, slot: usize, cap: usize) {
        let catalog = self.catalog;
        let Some(&(index, level, _)) = self.types.get(slot) else {
            return;
        };
        // A variant is written against its base's text, so neither changes level.
        if self.variants.contains_key(&index) || self.bases.contains(&index) {
            return;
        }
        let Some(current) = catalog.type_piece(index, level) else {
            return;
        };
        for richer in 0..level {
            let Some(piece) = catalog.type_piece(index, richer) else {
                continue;
            };
            let extra = piece.tokens as isize - current.tokens as isize
                + self.new_stub_tokens(&piece.refs, &[], Some(index))
                + self.file_types_cost(piece);
            if piece.tokens <= cap && extra <= self.room() as isize {
                self.used = self.used + piece.tokens - current.tokens.min(self.used);
                self.note_references(piece);
                self.note_file_types(piece);
                self.types[slot].1 = richer;
                return;
            }
        }
    }

    /// A declaration as the differences from a near-identical one declared before it, with
    /// that one's index (it must then keep the level it has: see `enrich_type`).
    fn as_variant(&self, text: &str) -> Option<(usize, String)> {
        let catalog = self.catalog;
        let declared =
            self.types
                .iter()
                .filter_map(|&(index, level, _)| match self.variants.get(&index) {
                    Some(_) => None,
                    None => catalog.type_piece(index, level).map(|p| (index, &*p.text)),
                });
        variants::as_variant(text, declared)
    }

    fn take_type(&mut self, index: usize, level: usize, tier: usize) {
        let catalog = self.catalog;
        let Some(piece) = catalog.type_piece(index, level) else {
            return;
        };
        match self.as_variant(&piece.text) {
            Some((base, variant)) => {
                self.used += count_tokens(&variant) + 1;
                self.variants.insert(index, variant);
                self.bases.insert(base);
            }
            None => self.used += piece.tokens + 1,
        }
        self.note_file_types(piece);
        self.declared.insert(index);
        if self.stubs.remove(&index) {
            self.stub_tokens -= catalog.stub_tokens(index);
        }
        self.types.push((index, level, tier));
        let envelope_items = if tier == 0 {
            self.catalog.envelope_items(index)
        } else {
            Vec::new()
        };
        for &r in piece.refs.iter() {
            self.note_reference(r);
            let child_tier = if envelope_items.contains(&r) {
                tier
            } else {
                tier + 1
            };
            self.queue(r, child_tier);
        }
    }

    fn finish(self) -> Declarations {
        let catalog = self.catalog;
        let mut operations = self.operations.clone();
        operations.sort_by_key(|chosen| chosen.rank);
        let mut text = String::new();
        let mut tokens = self.used - self.overhead - self.listed;
        // The stubs are what the final pieces name and nothing declares (richer levels chosen
        // after a leaner one may name fewer types than were paid for).
        let mut named: Vec<usize> = Vec::new();
        if !operations.is_empty() {
            text.push_str("interface Api {\n");
            for chosen in &operations {
                let piece = catalog
                    .operation_piece(chosen.index, chosen.level)
                    .map(|p| (p.text.to_string(), p.refs.to_vec(), p.result_refs.to_vec()))
                    .or_else(|| {
                        catalog
                            .make_operation_piece(chosen.index, chosen.level, usize::MAX)
                            .map(|p| (p.text.into(), p.refs.into(), p.result_refs.into()))
                    });
                if let Some((piece, refs, result_refs)) = piece {
                    text.push_str(&piece);
                    named.extend(refs);
                    named.extend(result_refs);
                }
            }
            text.push_str("}\n");
        }
        for &(index, level, _) in &self.types {
            if let Some(piece) = catalog.type_piece(index, level) {
                match self.variants.get(&index) {
                    Some(variant) => text.push_str(variant),
                    None => text.push_str(&piece.text),
                }
                named.extend(piece.refs.iter());
            }
        }
        if self.file_types {
            text.push_str(FILE_TYPES);
        }
        let mut seen = HashSet::new();
        let mut stubs: Vec<String> = named
            .into_iter()
            .filter(|i| !self.declared.contains(i) && seen.insert(*i))
            .filter_map(|i| catalog.spec.schemas().get_index(i))
            .map(|(name, _)| catalog.names.get(name))
            .collect();
        stubs.sort();
        if !stubs.is_empty() {
            text.push_str(STUB_NOTE);
            let line: Vec<String> = stubs
                .iter()
                .map(|n| format!("type {n} = unknown;"))
                .collect();
            let line = line.join(" ");
            tokens += stub_note_tokens() + count_tokens(&line) + 1;
            text.push_str(&line);
            text.push('\n');
        }
        let mut trimmed = Vec::new();
        self.notes(&operations, &stubs, &mut trimmed);
        Declarations {
            text,
            tokens,
            trimmed,
            operations: operations
                .iter()
                .filter_map(|chosen| catalog.spec.operations.get(chosen.index))
                .map(|op| op.name.clone())
                .collect(),
        }
    }

    /// What the budget cost: shortened descriptions, cut nesting, stubbed types, dropped
    /// operations.
    fn notes(&self, operations: &[Chosen], stubs: &[String], notes: &mut Vec<String>) {
        let spec = &self.catalog.spec;
        let name = |i: usize| {
            spec.operations
                .get(i)
                .map_or("", |op| op.name.as_str())
                .to_string()
        };
        let short: Vec<String> = operations
            .iter()
            .filter(|c| c.primary && c.level >= PRIMARY.end - 2)
            .map(|c| name(c.index))
            .collect();
        if !short.is_empty() {
            notes.push(format!("descriptions shortened: {}", list_some(&short, 6)));
        }
        let cut: Vec<String> = operations
            .iter()
            .filter(|c| c.level >= PRIMARY.start + 2 && c.level != COMPACT.start)
            .map(|c| name(c.index))
            .collect();
        if !cut.is_empty() {
            notes.push(format!(
                "large nested argument objects shown as `unknown`: {}",
                list_some(&cut, 6)
            ));
        }
        let skeletons: Vec<String> = operations
            .iter()
            .filter(|c| {
                self.catalog
                    .operation_piece(c.index, c.level)
                    .is_some_and(|p| p.skeletal)
            })
            .map(|c| name(c.index))
            .collect();
        if !skeletons.is_empty() {
            notes.push(format!(
                "optional arguments named, not typed: {} (search for the name to see them)",
                list_some(&skeletons, 6)
            ));
        }
        // The names are on the stub line at the end of the declarations; the note only counts.
        if !stubs.is_empty() {
            notes.push(format!(
                "{} type{} declared `unknown` (search for a name to see it)",
                stubs.len(),
                if stubs.len() == 1 { "" } else { "s" }
            ));
        }
        if self.forced {
            notes.push("the best operation alone is over the budget even at its leanest".into());
        }
        // Operations left out are not noted: `Declarations::operations` says which were
        // declared, and the caller names the others where it lists them.
    }
}

const STUB_NOTE: &str =
    "/** Not expanded here (token budget); search for these names to see them. */\n";

fn file_types_tokens() -> usize {
    static TOKENS: OnceLock<usize> = OnceLock::new();
    tokens_of(&TOKENS, FILE_TYPES)
}

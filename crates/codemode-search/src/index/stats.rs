//! Collection statistics of a query: how many of the index's operations hold each word the query
//! asks for. An engine that ranks several indexes (one per API) reads them to put the indexes'
//! scores on one scale, as federated search merges the results of several collections. Reads the
//! index; changes nothing.

use super::Index;
use crate::text;

/// One word a query asks for, as the index stems it, and the operations of the index that hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermStats {
    /// The stem, as the index's analyzer makes it.
    pub stem: String,
    /// How many operations of this index hold the word in any field (its document frequency);
    /// 0 when the index does not know the word.
    pub operations: u32,
}

impl Index {
    /// The words `query` asks for (negated words, stop words and bare numbers left out), each
    /// once, in the order the query has them, with how many operations of this index hold it.
    /// The stems depend only on the query, so every index of the same build gives the same list,
    /// in the same order.
    pub fn term_stats(&self, query: &str) -> Vec<TermStats> {
        let words = text::split_negated(query);
        let mut stats: Vec<TermStats> = Vec::new();
        for stem in self.content_stems(&words.asserted) {
            if stats.iter().any(|s| s.stem == stem) {
                continue;
            }
            let operations = self
                .term_ids
                .get(stem.as_str())
                .map_or(0, |&id| self.postings[id as usize].len() as u32);
            stats.push(TermStats { stem, operations });
        }
        stats
    }
}

#[cfg(test)]
mod tests {
    use codemode_spec::load_str;

    use crate::Index;

    #[test]
    fn each_asked_word_once_with_the_operations_that_hold_it() {
        let spec = load_str(
            "pets.yaml",
            r#"
openapi: 3.0.0
info: {title: Pets, version: "1"}
paths:
  /pets:
    get: {operationId: listPets, summary: List pets, responses: {"200": {description: ok}}}
    post: {operationId: createPet, summary: Create a pet, responses: {"201": {description: ok}}}
  /owners:
    get: {operationId: listOwners, summary: List owners, responses: {"200": {description: ok}}}
"#,
        )
        .expect("the spec loads");
        let index = Index::build(&spec);
        let stats = index.term_stats("list the pets, pets and zebras without owners");
        let found: Vec<(&str, u32)> = stats
            .iter()
            .map(|s| (s.stem.as_str(), s.operations))
            .collect();
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(found[0].1, 2, "list: {found:?}");
        assert_eq!(found[1].1, 2, "pet: {found:?}");
        assert_eq!(found[2].1, 0, "zebra: {found:?}");
    }
}

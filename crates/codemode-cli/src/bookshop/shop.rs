//! The bookshop's data and its rules: a catalogue seeded with authors, books (some sold out) and
//! reviews, and the operations on it (filter, create, delete, review, order). Orders take stock
//! all or nothing. Knows nothing of HTTP beyond the `ApiError` each refusal is answered with.

use std::collections::BTreeMap;

use serde::Serialize;

use super::error::ApiError;

/// The genres the spec's `genre` enum lists.
pub(crate) const GENRES: &[&str] = &["fiction", "science", "history", "poetry"];

#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct Book {
    pub(crate) id: u64,
    pub(crate) title: String,
    pub(crate) author_id: u64,
    pub(crate) genre: &'static str,
    pub(crate) price: f64,
    pub(crate) in_stock: u64,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Author {
    pub(crate) id: u64,
    pub(crate) name: &'static str,
    pub(crate) born: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Review {
    pub(crate) id: u64,
    pub(crate) book_id: u64,
    pub(crate) stars: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) text: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub(crate) struct OrderItem {
    pub(crate) book_id: u64,
    pub(crate) quantity: u64,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Order {
    pub(crate) id: String,
    pub(crate) status: &'static str,
    pub(crate) items: Vec<OrderItem>,
    pub(crate) total: f64,
}

/// `listBooks`' filters and page; `None` means "any".
#[derive(Debug, Default)]
pub(crate) struct BookFilter {
    pub(crate) genre: Option<&'static str>,
    pub(crate) author_id: Option<u64>,
    pub(crate) in_stock: Option<bool>,
    /// Lowercase words that must all appear in the title.
    pub(crate) words: Vec<String>,
    pub(crate) limit: usize,
    pub(crate) offset: usize,
}

impl BookFilter {
    fn matches(&self, book: &Book) -> bool {
        let title = book.title.to_lowercase();
        self.genre.is_none_or(|g| book.genre == g)
            && self.author_id.is_none_or(|a| book.author_id == a)
            && self
                .in_stock
                .is_none_or(|wanted| (book.in_stock > 0) == wanted)
            && self.words.iter().all(|w| title.contains(w.as_str()))
    }
}

/// A book to add, its fields already of the right types (`createBook`).
#[derive(Debug)]
pub(crate) struct NewBook {
    pub(crate) title: String,
    pub(crate) author_id: u64,
    pub(crate) genre: &'static str,
    pub(crate) price: f64,
    pub(crate) in_stock: u64,
}

/// The whole shop, kept for the server's lifetime.
#[derive(Debug)]
pub(crate) struct Shop {
    authors: Vec<Author>,
    books: BTreeMap<u64, Book>,
    reviews: Vec<Review>,
    orders: BTreeMap<u64, Order>,
    next_book: u64,
    next_review: u64,
    next_order: u64,
}

impl Shop {
    /// A catalogue of fourteen books by twelve authors across the four genres; five are sold out.
    pub(crate) fn seeded() -> Shop {
        let authors = [
            (1, "Ursula K. Le Guin", Some(1929)),
            (2, "Stephen Hawking", Some(1942)),
            (3, "Carl Sagan", Some(1934)),
            (4, "Mary Beard", Some(1955)),
            (5, "Toni Morrison", Some(1931)),
            (6, "Richard Feynman", Some(1918)),
            (7, "Wisława Szymborska", Some(1923)),
            (8, "Yuval Noah Harari", Some(1976)),
            (9, "Rachel Carson", Some(1907)),
            (10, "Barbara W. Tuchman", Some(1912)),
            (11, "Mary Oliver", Some(1935)),
            (12, "Octavia E. Butler", Some(1947)),
        ]
        .map(|(id, name, born)| Author { id, name, born })
        .to_vec();
        let books = [
            (1, "The Left Hand of Darkness", 1, "fiction", 12.5, 4),
            (2, "A Brief History of Time", 2, "science", 15.0, 0),
            (3, "The Dispossessed", 1, "fiction", 11.0, 7),
            (4, "Cosmos", 3, "science", 18.0, 5),
            (5, "SPQR: A History of Ancient Rome", 4, "history", 20.0, 3),
            (6, "Beloved", 5, "fiction", 13.0, 2),
            (
                7,
                "Surely You're Joking, Mr. Feynman!",
                6,
                "science",
                14.0,
                6,
            ),
            (8, "View with a Grain of Sand", 7, "poetry", 16.0, 1),
            (9, "Sapiens", 8, "history", 22.0, 0),
            (10, "Silent Spring", 9, "science", 13.5, 3),
            (11, "The Guns of August", 10, "history", 17.0, 2),
            (12, "Devotions", 11, "poetry", 19.0, 0),
            (13, "Kindred", 12, "fiction", 12.0, 5),
            (14, "Pale Blue Dot", 3, "science", 16.5, 0),
        ]
        .map(|(id, title, author_id, genre, price, in_stock)| {
            let book = Book {
                id,
                title: title.to_string(),
                author_id,
                genre,
                price,
                in_stock,
            };
            (id, book)
        });
        let reviews = [
            (1, 1, 5, "A classic."),
            (2, 1, 4, "Slow start, great ending."),
            (3, 4, 5, "Made me look up."),
            (4, 7, 4, "Funny and sharp."),
            (5, 9, 3, "Big ideas, loose facts."),
        ]
        .map(|(id, book_id, stars, text)| Review {
            id,
            book_id,
            stars,
            text: Some(text.to_string()),
        })
        .to_vec();
        Shop {
            authors,
            books: books.into_iter().collect(),
            next_book: 15,
            next_review: reviews.len() as u64 + 1,
            reviews,
            orders: BTreeMap::new(),
            next_order: 1,
        }
    }

    pub(crate) fn books(&self, filter: &BookFilter) -> Vec<Book> {
        self.books
            .values()
            .filter(|book| filter.matches(book))
            .skip(filter.offset)
            .take(filter.limit)
            .cloned()
            .collect()
    }

    pub(crate) fn book(&self, id: u64) -> Result<&Book, ApiError> {
        self.books
            .get(&id)
            .ok_or_else(|| ApiError::not_found("book_id", format!("no book with id {id}")))
    }

    pub(crate) fn add_book(&mut self, new: NewBook) -> Result<Book, ApiError> {
        if !self.authors.iter().any(|a| a.id == new.author_id) {
            return Err(ApiError::unprocessable(
                "author_id",
                format!(
                    "author_id: no author with id {} (see listAuthors)",
                    new.author_id
                ),
            ));
        }
        let id = self.next_book;
        self.next_book += 1;
        let book = Book {
            id,
            title: new.title,
            author_id: new.author_id,
            genre: new.genre,
            price: new.price,
            in_stock: new.in_stock,
        };
        self.books.insert(id, book.clone());
        Ok(book)
    }

    /// Removes a book and its reviews; past orders keep naming it.
    pub(crate) fn remove_book(&mut self, id: u64) -> Result<(), ApiError> {
        self.book(id)?;
        self.books.remove(&id);
        self.reviews.retain(|r| r.book_id != id);
        Ok(())
    }

    pub(crate) fn authors(&self) -> &[Author] {
        &self.authors
    }

    pub(crate) fn reviews(&self, book_id: u64) -> Result<Vec<Review>, ApiError> {
        self.book(book_id)?;
        Ok(self
            .reviews
            .iter()
            .filter(|r| r.book_id == book_id)
            .cloned()
            .collect())
    }

    pub(crate) fn add_review(
        &mut self,
        book_id: u64,
        stars: u8,
        text: Option<String>,
    ) -> Result<Review, ApiError> {
        self.book(book_id)?;
        let review = Review {
            id: self.next_review,
            book_id,
            stars,
            text,
        };
        self.next_review += 1;
        self.reviews.push(review.clone());
        Ok(review)
    }

    /// Places an order: every item is checked before any stock is taken, so a refused order
    /// changes nothing. Items naming the same book count together against its stock.
    pub(crate) fn place_order(&mut self, items: Vec<OrderItem>) -> Result<Order, ApiError> {
        let mut wanted: BTreeMap<u64, (usize, u64)> = BTreeMap::new();
        for (index, item) in items.iter().enumerate() {
            if !self.books.contains_key(&item.book_id) {
                let field = format!("items[{index}].book_id");
                let message = format!("{field}: no book with id {}", item.book_id);
                return Err(ApiError::unprocessable(field, message));
            }
            let entry = wanted.entry(item.book_id).or_insert((index, 0));
            entry.1 = entry.1.saturating_add(item.quantity);
        }
        for (book_id, (index, quantity)) in &wanted {
            let book = &self.books[book_id];
            if book.in_stock < *quantity {
                let field = format!("items[{index}].quantity");
                let message = format!(
                    "{field}: not enough stock of book {book_id} ({:?}): {quantity} ordered, {} in stock",
                    book.title, book.in_stock
                );
                return Err(ApiError::conflict(field, message));
            }
        }
        let mut cents = 0u64;
        for (book_id, (_, quantity)) in &wanted {
            if let Some(book) = self.books.get_mut(book_id) {
                book.in_stock -= quantity;
                // Prices have at most two decimals; summing cents keeps the total exact.
                cents = cents.saturating_add(
                    ((book.price * 100.0).round() as u64).saturating_mul(*quantity),
                );
            }
        }
        let order = Order {
            id: format!("ord_{}", self.next_order),
            status: "pending",
            items,
            total: cents as f64 / 100.0,
        };
        self.orders.insert(self.next_order, order.clone());
        self.next_order += 1;
        Ok(order)
    }

    pub(crate) fn order(&self, id: &str) -> Result<&Order, ApiError> {
        id.strip_prefix("ord_")
            .and_then(|n| n.parse::<u64>().ok())
            .and_then(|n| self.orders.get(&n))
            .ok_or_else(|| ApiError::not_found("order_id", format!("no order with id {id:?}")))
    }
}

//! codemode-search (placeholder; see ARCHITECTURE.md)

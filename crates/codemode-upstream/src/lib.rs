//! codemode-upstream (placeholder; see ARCHITECTURE.md)

//! codemode-engine (placeholder; see ARCHITECTURE.md)

//! codemode-typescript (placeholder; see ARCHITECTURE.md)

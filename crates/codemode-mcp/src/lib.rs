//! codemode-mcp (placeholder; see ARCHITECTURE.md)

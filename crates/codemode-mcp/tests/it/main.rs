//! Integration tests of the MCP server, one binary: tool definitions and budgets, an rmcp client
//! in-process, the HTTP shell, real clients (Python 1.x/2.x, TypeScript, Inspector) and the
//! conformance suite.

mod support;

mod approvals;
mod clients;
mod conformance;
mod from_request;
mod http;
mod in_process;
mod metrics;
mod mount;
mod oauth;
mod tools_list;

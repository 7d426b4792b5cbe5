//! The engine's integration tests, one binary (linking QuickJS, oxc and rustls once, not once per
//! file): programs run end to end against real HTTP servers on 127.0.0.1, in-process upstreams,
//! the `steady` mock server, and search answers on the real specs.

mod agent_slips;
mod approvals;
mod embed_in_process;
mod production;
mod request_and_error_shapes;
mod search_answer;
mod several_apis;
mod steady;
mod what_came_back;

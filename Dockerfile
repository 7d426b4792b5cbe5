# syntax=docker/dockerfile:1
# The codemode server as a container: built with the `dist` profile (thin LTO, stripped), run
# on distroless as a non-root user. Build and run: README, "Running in production".

# Build stage: the Rust toolchain the workspace asks for (rust-version in Cargo.toml). TLS is
# rustls with ring, so the C compiler the image has is the only native tool the build needs.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The registry and target dir are BuildKit caches: a rebuild after a source change compiles
# our crates, not the dependencies. `--locked`: the dependency versions the tests ran against.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --locked --profile dist -p codemode-cli --bin codemode \
    && cp target/dist/codemode /codemode

# Runtime stage: glibc, libgcc and CA certificates (for HTTPS upstreams and spec URLs), no
# shell, no package manager. The `nonroot` tag runs as uid/gid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /codemode /usr/local/bin/codemode
USER 65532:65532
# Streamable HTTP when the config says `[server] http = "0.0.0.0:8080"` (or `--http`). The
# image has no curl for a Docker HEALTHCHECK: probe `GET /healthz` from the orchestrator (the
# Kubernetes Deployment in deploy/kubernetes does).
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/codemode"]
CMD ["serve", "--config", "/etc/codemode/codemode.toml"]

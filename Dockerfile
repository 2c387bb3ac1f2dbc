# syntax=docker/dockerfile:1
#
# massage-bot container: the release binary on distroless, running
# as a non-root user. The knowledge base is compiled into the binary, so the
# image holds nothing else; state lives in the /data volume.
#
#   docker build -t massage-bot .
#   docker run -d --name massage-bot --env-file .env -v massage-bot-data:/data \
#       -p 127.0.0.1:8080:8080 massage-bot
#   docker run --rm massage-bot ask "/benefits sleep"

ARG RUST_VERSION=1.95

# ---- build ------------------------------------------------------------------
FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src

# One build of the whole tree, with cargo's registry and target directory in
# BuildKit cache mounts: rebuilding after an edit reuses the compiled
# dependencies, and there is no placeholder layout to keep in step with
# Cargo.toml (tests/dockerfile.rs checks this stays so).
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
    && mkdir -p /out/data \
    && cp target/release/massage-bot /out/massage-bot

# ---- run --------------------------------------------------------------------
# cc: glibc and libgcc, which the binary links; SQLite is compiled in and
# TLS uses rustls with built-in roots, so nothing else is needed.
FROM gcr.io/distroless/cc-debian12:nonroot

COPY --from=build /out/massage-bot /usr/local/bin/massage-bot
# An empty /data owned by the non-root user, so a fresh named volume is writable.
COPY --from=build --chown=65532:65532 /out/data /data

ENV DATABASE_URL=sqlite:///data/massage-bot.db \
    HEALTH_ADDR=0.0.0.0:8080
VOLUME /data
EXPOSE 8080

# distroless "nonroot" (65532); numeric so that Kubernetes' runAsNonRoot can
# verify it.
USER 65532:65532

# 200 from /healthz once the gateway is connected; there is no curl here, so
# the binary probes itself (HEALTH_ADDR, 0.0.0.0 -> 127.0.0.1).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/usr/local/bin/massage-bot", "healthcheck"]

ENTRYPOINT ["/usr/local/bin/massage-bot"]
CMD ["run"]

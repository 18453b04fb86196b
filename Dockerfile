# Multi-stage build: dependencies compile in their own cached layer (cargo-chef), the
# server runs as a non-root user on a slim base.
FROM rust:1.95-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.76
WORKDIR /src

# The recipe lists manifests and the lock file only, so the layer below is rebuilt only
# when dependencies change, not on every source edit.
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS build
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked --bin credo

FROM debian:bookworm-slim
# libssl3 (libssl, libcrypto) is what the server's PostgreSQL client links against: named
# here, not left to arrive with curl, which is only for the health check.
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libssl3 curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/credo --create-home credo
COPY --from=build /src/target/release/credo /usr/local/bin/credo
USER credo
WORKDIR /var/lib/credo
# The embedded default keeps its SQLite file here: a volume, so it outlives the container.
VOLUME ["/var/lib/credo"]
ENV CREDO_BIND=0.0.0.0:8080
EXPOSE 8080
# Asks the port the server binds (CREDO_BIND, also when overridden at run time) on loopback.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
    CMD curl -fsS "http://127.0.0.1:${CREDO_BIND##*:}/ready" || exit 1
ENTRYPOINT ["credo"]
CMD ["serve"]

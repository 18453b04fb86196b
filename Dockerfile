# Multi-stage build: compile with the full toolchain, run as a non-root user on a slim base.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin credo

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/credo --create-home credo
COPY --from=build /src/target/release/credo /usr/local/bin/credo
USER credo
WORKDIR /var/lib/credo
ENV CREDO_BIND=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/ready || exit 1
ENTRYPOINT ["credo"]
CMD ["serve"]

# syntax=docker/dockerfile:1
# ghsync: one static binary on a distroless base.
#
#   docker build -t ghsync .
#   docker run --rm -v "$PWD:/work" -w /work ghsync sync . file:///work/out
#   docker run -p 8080:8080 -v ghsync-data:/var/lib/ghsync -e GHSYNC_SERVE_TOKEN="$(openssl rand -hex 32)" \
#     ghsync serve --addr 0.0.0.0:8080   # on 0.0.0.0 the read API, UI and /metrics need a token (docs/ui.md)
#
# The same image works as an AWS Lambda container image: Lambda sets
# AWS_LAMBDA_RUNTIME_API and starts the entrypoint without arguments, which
# makes ghsync serve Lambda invocations (see docs/deploy.md). Do not set a
# Lambda image CMD override; give the CLI verbs as arguments elsewhere.
#
# Build for another architecture with: docker buildx build --platform linux/arm64 .

ARG GO_VERSION=1.26
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG TARGETOS=linux
ARG TARGETARCH=amd64
ARG VERSION=dev
# lambda.norpc drops aws-lambda-go's legacy RPC mode (not used on provided.al2023).
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -tags lambda.norpc -ldflags "-s -w" -o /out/ghsync ./cmd/ghsync
# The working directory holds the default SQLite database (./data) and must
# be writable by the nonroot user.
RUN mkdir -p /out/var/lib/ghsync/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ghsync /usr/local/bin/ghsync
COPY --from=build --chown=65532:65532 /out/var/lib/ghsync /var/lib/ghsync
WORKDIR /var/lib/ghsync
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/ghsync"]

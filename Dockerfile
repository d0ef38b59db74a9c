# syntax=docker/dockerfile:1
# Two stages: a Go toolchain builds one static binary; the final image holds only that
# binary, CA certificates and nothing else. Releases publish this image to GHCR so the
# action pulls a pinned digest instead of building on every job (see README).
FROM golang:1.26-bookworm AS build
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
COPY go.mod go.sum /src/
RUN cd /src && go mod download
COPY . /src
ARG VERSION=dev
# main.go imports time/tzdata, so the IANA zone database (maintenance windows name zones)
# is embedded in the binary; the base image has none.
RUN cd /src && go build -trimpath \
      -ldflags "-s -w -X github.com/agentme/release-action/internal/cli.version=${VERSION}" \
      -o /out/release-action .

# distroless/static: CA roots, /etc/passwd, no shell. The Actions runner mounts the
# workspace as root-owned, so the container runs as root; the runner sets the working
# directory itself (no WORKDIR, which would fight it).
FROM gcr.io/distroless/static-debian12
COPY --from=build /out/release-action /usr/local/bin/release-action
USER 0:0
ENTRYPOINT ["/usr/local/bin/release-action"]

# syntax=docker/dockerfile:1
# The action's image: the static release-action binary and CA certificates, nothing
# else (no shell, no package manager, no compiler). The binaries are cross-compiled by
# Go outside Docker, so a multi-arch build is only COPY and nothing runs under emulation:
#
#   .ci/build-binaries dist linux/amd64 linux/arm64
#   docker buildx build --platform linux/amd64,linux/arm64 .
#
# The Actions runner mounts a root-owned workspace, so the container runs as root
# (scratch has no other user); the runner sets the working directory itself (no WORKDIR,
# which would fight it). Time zone data is embedded in the binary (time/tzdata).
# .ci/container-test builds this file with buildah and runs it as the runner would.
FROM scratch
# Set by BuildKit and buildah for each platform of a multi-arch build.
ARG TARGETOS
ARG TARGETARCH
COPY dist/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY dist/${TARGETOS}-${TARGETARCH}/release-action /usr/local/bin/release-action
ENTRYPOINT ["/usr/local/bin/release-action"]

# shellcheck shell=bash disable=SC2034 # read by scripts/images
# CoreDNS, built from its module on the Go module proxy. v1.15.0's go.mod has no replace
# directives, so `go install module@version` builds it with exactly its own go.sum.
KIND=go
TAG=1.15.0
DESCRIPTION="CoreDNS $TAG built from github.com/coredns/coredns@v$TAG with CGO_ENABLED=0"
GO_BUILD=github.com/coredns/coredns@v$TAG
GO_BINARY=/coredns
ENTRYPOINT=(/coredns)
PORTS=(53/udp 53/tcp 9153/tcp)
USER_ID=65532:65532

# shellcheck shell=bash disable=SC2034 # read by scripts/images
# kube-state-metrics, built from its module on the Go module proxy. The checksum database has no
# entry for v2.16.0, so `go install module@version` refuses it; this folder's module requires it
# and its committed go.sum (written once with `GOSUMDB=off GOFLAGS=-mod=mod go mod tidy`) pins
# every dependency, so each build verifies the downloads against those hashes.
KIND=go
TAG=2.16.0
DESCRIPTION="kube-state-metrics $TAG built from k8s.io/kube-state-metrics/v2@v$TAG with CGO_ENABLED=0"
GO_BUILD=.
GO_PACKAGE=k8s.io/kube-state-metrics/v2
# It parses each CronJob's schedule with its timeZone: the time zone database goes into the binary.
GO_TAGS=timetzdata
GO_BINARY=/kube-state-metrics
ENTRYPOINT=(/kube-state-metrics)
# 8080 serves the object metrics, 8081 its own (telemetry).
PORTS=(8080/tcp 8081/tcp)
USER_ID=65534:65534

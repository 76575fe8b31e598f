# shellcheck shell=bash disable=SC2034 # read by scripts/images
# The demo stand-in for the private NEXUS service and task images (see main.go).
KIND=go
TAG=1.1.0
DESCRIPTION="NEXUS demo stand-in: answers HTTP probes, exports Prometheus metrics, checks NEXUS_DEPENDENCIES; not a real NEXUS service"
GO_BUILD=.
GO_BINARY=/usr/local/bin/nexus-demo
ENTRYPOINT=(/usr/local/bin/nexus-demo)
CMD=(serve)
ENV=(PORT=8080)
PORTS=(8080/tcp)
USER_ID=65532:65532
# The task commands of registries/automation.yaml run the demo's task mode through these links.
LINKS=(
  /usr/local/bin/k6:nexus-demo
  /usr/local/bin/nexus-backup:nexus-demo
  /usr/local/bin/nexus-ml:nexus-demo
  /usr/local/bin/nexus-optimizer:nexus-demo
  /usr/local/bin/nexus-report:nexus-demo
  /usr/local/bin/nexus-security:nexus-demo
  /usr/local/bin/system-monitor:nexus-demo
)

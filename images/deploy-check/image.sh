# shellcheck shell=bash disable=SC2034 # read by scripts/images
# The post-deploy check (see main.go): reads the rollout status of the platform's workloads
# through the Kubernetes API with the pod's service account token.
KIND=go
TAG=1.0.0
DESCRIPTION="NEXUS deploy-check: exits 0 when every workload of NEXUS_CHECK_WORKLOADS has rolled out and is ready, 1 naming those that are not"
GO_BUILD=.
GO_BINARY=/usr/local/bin/deploy-check
ENTRYPOINT=(/usr/local/bin/deploy-check)
USER_ID=65532:65532

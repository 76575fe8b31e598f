# shellcheck shell=bash disable=SC2034 # read by scripts/images
# The pod sandbox ("pause") image: containerd's sandbox_image on the local cluster.
KIND=go
TAG=1.0.0
DESCRIPTION="NEXUS pod sandbox: holds a pod's namespaces, reaps zombies, exits 0 on SIGTERM (a Go program of this repository, not the Kubernetes pause image)"
GO_BUILD=.
GO_BINARY=/pause
ENTRYPOINT=(/pause)
# 65535 is the user of the Kubernetes pause image; a sandbox needs no privileges.
USER_ID=65535:65535

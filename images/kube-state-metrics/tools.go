//go:build tools

// Package tools pins kube-state-metrics: this module exists only so that its go.mod and go.sum
// fix every dependency of k8s.io/kube-state-metrics/v2 v2.16.0, whose main package is built.
package tools

import _ "k8s.io/kube-state-metrics/v2"

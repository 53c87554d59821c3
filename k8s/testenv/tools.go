//go:build tools

// Package testenv pins the programs bin/build-k8s-testenv builds, so that
// go.mod and go.sum hold everything they need.
package testenv

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)

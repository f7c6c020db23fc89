// Package aelib builds, trains and evaluates the autoencoders of the course with GoMLX: the
// vanilla dense autoencoder (784-256-128-32), the deep one (784-128-64-32) and the
// convolutional denoising autoencoder, with encoders and decoders usable apart, Keras-style
// summaries, checkpoints and a training loop that reports every epoch to an Observer. Beyond
// the course it builds the sparse (KL or L1 penalty on a sigmoid code), contractive (exact
// encoder-Jacobian penalty) and variational autoencoders, with their diagnostics: CodeStats,
// JacobianNormSq, CodeSensitivity, Sample, Interpolate and LatentGrid.
//
// Training is one epoch loop over one of two step engines, chosen from what the backend can do
// (engine.go): on ONNX Runtime and the pure-Go backend one call per batch, batches built on the
// host; on XLA (GPU) a whole epoch in one call, a graph.While over batches gathered on the
// device. Both run the same forward pass, loss, penalties and Adam. Gradients are written by
// hand per layer kind where ONNX Runtime runs graph.Gradient's slowly, and come from
// graph.Gradient for every other layer and penalty, so any architecture trains everywhere.
//
// Models are data: an Architecture is a list of layers (dense, conv, pooling, upsampling,
// reshape, dropout, a Gaussian code) and the penalties added to its loss; the same list builds
// the GoMLX graph and the summary, so the parameter counts printed are the ones trained. The
// variant registry (Variants, LookupVariant) names the six built-in models: their defaults,
// architecture, the settings they read, their own measures and their quick settings. A program
// defines its own architecture the same way and trains it with NewCustom. All models take flat
// images, (N, 784) float32 in [0,1], and return reconstructions of the same shape; the
// convolutional model reshapes to (N,28,28,1) inside.
//
// aelib knows nothing of SQL or plotting: the experiments package connects it to the tracker
// through the Observer interface, and the metrics sub-package scores reconstructions on the host.
//
// Backends: NewBackend picks XLA with a CUDA PJRT plugin where one is installed, then XLA on the
// CPU where go-xla's CPU plugin is, ONNX Runtime on the CPU where its library is installed (build
// tag onnx), else GoMLX's pure-Go backend, and never lets GoMLX download anything.
// $GOMLX_BACKEND, when set, wins. See ChooseBackend.
package aelib

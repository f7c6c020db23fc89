// Package metrics computes image-reconstruction quality metrics on host data,
// in pure Go (no GoMLX, no cgo).
//
// # Data layout
//
// Images hold float32 values in [0,1]. A set of n images of h×w pixels is a
// flat []float32 of length n*h*w, image-major and row-major within each image:
// pixel (i, r, c) is at index i*h*w + r*w + c. Functions that need the image
// structure (SSIM, PerImageMSE, …) take the dimensions explicitly; the others
// treat the slices as plain vectors of pixel values.
//
// All accumulation is done in float64, so results do not depend on the
// float32 rounding of long sums.
//
// # Metrics
//
//   - BCE: mean binary cross-entropy, prediction clipped to [Epsilon, 1-Epsilon].
//   - MSE, MAE: mean squared / absolute error.
//   - PSNR: peak signal-to-noise ratio for data range 1, 10·log10(1/MSE).
//   - SSIM, SSIMPerImage: structural similarity with scikit-image's defaults
//     (7×7 uniform window, valid positions only, K1=0.01, K2=0.03, L=1,
//     sample covariance).
//   - Pearson: Pearson correlation of all values.
//   - Similarity: (1 − MAE)·100, the course's "similarity" in percent.
//   - PerImageMSE: one MSE per image (per-digit error plots, anomaly scores).
//   - ROCAUC: area under the ROC curve (Mann-Whitney U, ties by average rank).
//   - DenoisingReport: noisy-vs-denoised comparison against clean images.
//   - Evaluate: all of BCE, MSE, MAE, PSNR, SSIM, Pearson and Similarity in a
//     Summary.
//
// # Errors
//
// Mismatched lengths or dimensions are programmer errors: every function
// panics with a message naming the function and the offending sizes. Empty
// inputs (no pixels) give NaN for the averaged metrics.
package metrics

package metrics

import (
	"fmt"
	"math"
)

// Epsilon is the clipping constant used by BCE; it equals Keras' default
// backend epsilon (1e-7).
const Epsilon = 1e-7

// checkSameLen panics if a and b differ in length.
func checkSameLen(fn string, a, b []float32) {
	if len(a) != len(b) {
		panic(fmt.Sprintf("metrics.%s: length mismatch: %d vs %d", fn, len(a), len(b)))
	}
}

// BCE returns the mean binary cross-entropy of the predictions pred against
// target, over all pixels:
//
//	BCE = −(1/N) Σᵢ [ tᵢ·ln(pᵢ) + (1−tᵢ)·ln(1−pᵢ) ],   pᵢ = clip(predᵢ, ε, 1−ε)
//
// with ε = Epsilon = 1e-7. The target may be non-binary (e.g. grey levels in
// [0,1]); then the minimum over pred is the binary entropy of the target, not 0.
// It panics if the lengths differ; it returns NaN for empty input.
func BCE(pred, target []float32) float64 {
	checkSameLen("BCE", pred, target)
	var s float64
	for i, p := range pred {
		s += bceTerm(float64(p), float64(target[i]))
	}
	return s / float64(len(pred))
}

// bceTerm is the per-pixel cross-entropy −[t·ln p + (1−t)·ln(1−p)] with p clipped.
func bceTerm(p, t float64) float64 {
	if p < Epsilon {
		p = Epsilon
	} else if p > 1-Epsilon {
		p = 1 - Epsilon
	}
	// Skip the logarithm whose weight is zero (binary targets, e.g. MNIST's
	// many black pixels): same value, half the cost.
	switch t {
	case 0:
		return -math.Log(1 - p)
	case 1:
		return -math.Log(p)
	}
	return -(t*math.Log(p) + (1-t)*math.Log(1-p))
}

// MSE returns the mean squared error (1/N) Σᵢ (aᵢ − bᵢ)².
// It panics if the lengths differ; it returns NaN for empty input.
func MSE(a, b []float32) float64 {
	checkSameLen("MSE", a, b)
	var s float64
	for i, x := range a {
		d := float64(x) - float64(b[i])
		s += d * d
	}
	return s / float64(len(a))
}

// MAE returns the mean absolute error (1/N) Σᵢ |aᵢ − bᵢ|.
// It panics if the lengths differ; it returns NaN for empty input.
func MAE(a, b []float32) float64 {
	checkSameLen("MAE", a, b)
	var s float64
	for i, x := range a {
		s += math.Abs(float64(x) - float64(b[i]))
	}
	return s / float64(len(a))
}

// PSNR returns the peak signal-to-noise ratio in decibels for data range 1,
// computed from the MSE over the whole set (not averaged per image):
//
//	PSNR = 10·log10(1 / MSE(a, b))
//
// It is +Inf when the MSE is 0. It panics if the lengths differ.
func PSNR(a, b []float32) float64 {
	return PSNRFromMSE(MSE(a, b))
}

// PSNRFromMSE converts a mean squared error (data range 1) to PSNR in dB:
// 10·log10(1/mse); +Inf for mse == 0.
func PSNRFromMSE(mse float64) float64 {
	if mse == 0 {
		return math.Inf(1)
	}
	return -10 * math.Log10(mse)
}

// Pearson returns the Pearson correlation coefficient of all values of a and b:
//
//	r = Σ (aᵢ−ā)(bᵢ−b̄) / sqrt( Σ (aᵢ−ā)² · Σ (bᵢ−b̄)² )
//
// computed in two passes (means first) in float64. The result is NaN when
// either input has zero variance (e.g. a constant image) or is empty, since
// the correlation is undefined there. It panics if the lengths differ.
func Pearson(a, b []float32) float64 {
	checkSameLen("Pearson", a, b)
	var sa, sb float64
	for i, x := range a {
		sa += float64(x)
		sb += float64(b[i])
	}
	n := float64(len(a))
	return pearsonCentered(a, b, sa/n, sb/n)
}

// pearsonCentered finishes the Pearson computation given the two means.
func pearsonCentered(a, b []float32, ma, mb float64) float64 {
	var sab, saa, sbb float64
	for i, x := range a {
		da := float64(x) - ma
		db := float64(b[i]) - mb
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	if saa == 0 || sbb == 0 {
		return math.NaN()
	}
	r := sab / math.Sqrt(saa*sbb)
	// Guard against rounding pushing |r| just above 1.
	return math.Max(-1, math.Min(1, r))
}

// Similarity returns the course's "similarity" in percent:
//
//	Similarity = (1 − MAE(a, b)) · 100
//
// so identical images give 100 and a maximally wrong reconstruction 0.
// It panics if the lengths differ.
func Similarity(a, b []float32) float64 {
	return (1 - MAE(a, b)) * 100
}

// PerImageMSE splits a and b into n equal images and returns each image's MSE:
//
//	out[k] = (1/P) Σ_{i in image k} (aᵢ − bᵢ)²,   P = len(a)/n
//
// It is meant for per-class error plots and as an anomaly score (see ROCAUC).
// It panics if the lengths differ, n <= 0, or len(a) is not a multiple of n.
func PerImageMSE(a, b []float32, n int) []float64 {
	checkSameLen("PerImageMSE", a, b)
	if n <= 0 || len(a)%n != 0 {
		panic(fmt.Sprintf("metrics.PerImageMSE: length %d is not a positive multiple of n=%d", len(a), n))
	}
	p := len(a) / n
	out := make([]float64, n)
	for k := range out {
		out[k] = MSE(a[k*p:(k+1)*p], b[k*p:(k+1)*p])
	}
	return out
}

package metrics

import (
	"fmt"
	"math"
)

// Summary bundles the reconstruction metrics of one prediction set against its
// target; see the function of the same name for each field's formula.
type Summary struct {
	BCE        float64 // mean binary cross-entropy (pred clipped to [1e-7, 1−1e-7])
	MSE        float64 // mean squared error
	MAE        float64 // mean absolute error
	PSNR       float64 // 10·log10(1/MSE) in dB, +Inf if MSE = 0
	SSIM       float64 // mean SSIM (7×7 window, scikit-image defaults)
	Pearson    float64 // Pearson correlation of all pixels, NaN if a variance is 0
	Similarity float64 // (1 − MAE)·100, percent
}

// String formats the summary on one line.
func (s Summary) String() string {
	return fmt.Sprintf("BCE=%.4f MSE=%.5f MAE=%.4f PSNR=%.2fdB SSIM=%.4f Pearson=%.4f Similarity=%.2f%%",
		s.BCE, s.MSE, s.MAE, s.PSNR, s.SSIM, s.Pearson, s.Similarity)
}

// Evaluate computes every Summary metric of pred against target, n images of
// h×w pixels. BCE, MSE, MAE and the means for Pearson share one pass over the
// pixels; Pearson's centred sums take a second pass and SSIM its own. Each
// field equals the corresponding stand-alone function (BCE(pred, target),
// MSE, MAE, PSNR, SSIM, Pearson, Similarity).
//
// It panics if the lengths are not n*h*w, or h or w is below 7 (SSIM's window).
func Evaluate(pred, target []float32, n, h, w int) Summary {
	checkImages("Evaluate", pred, target, n, h, w)
	var bce, se, ae, sp, st float64
	for i, p := range pred {
		x, t := float64(p), float64(target[i])
		bce += bceTerm(x, t)
		d := x - t
		se += d * d
		ae += math.Abs(d)
		sp += x
		st += t
	}
	N := float64(len(pred))
	mse, mae := se/N, ae/N
	return Summary{
		BCE:        bce / N,
		MSE:        mse,
		MAE:        mae,
		PSNR:       PSNRFromMSE(mse),
		SSIM:       SSIM(pred, target, n, h, w),
		Pearson:    pearsonCentered(pred, target, sp/N, st/N),
		Similarity: (1 - mae) * 100,
	}
}

// Denoising compares noisy inputs and their denoised reconstructions against
// the clean images.
type Denoising struct {
	NoisyMSE       float64 // MSE(clean, noisy)
	DenoisedMSE    float64 // MSE(clean, denoised)
	ImprovementPct float64 // (NoisyMSE − DenoisedMSE) / NoisyMSE · 100
	NoisyPSNR      float64 // PSNR(clean, noisy), dB
	DenoisedPSNR   float64 // PSNR(clean, denoised), dB
	NoisySSIM      float64 // SSIM(clean, noisy)
	DenoisedSSIM   float64 // SSIM(clean, denoised)
}

// DenoisingReport measures how much a denoiser improved on its noisy inputs,
// all three sets holding n images of h×w pixels:
//
//	ImprovementPct = (MSE(clean, noisy) − MSE(clean, denoised)) / MSE(clean, noisy) · 100
//
// It is undefined (NaN or −Inf) if the noisy images equal the clean ones, and
// negative if the denoiser made things worse. It panics if any length is not n*h*w, or h or w is below 7.
func DenoisingReport(clean, noisy, denoised []float32, n, h, w int) Denoising {
	checkImages("DenoisingReport", clean, noisy, n, h, w)
	checkImages("DenoisingReport", clean, denoised, n, h, w)
	nm, dm := MSE(clean, noisy), MSE(clean, denoised)
	return Denoising{
		NoisyMSE:       nm,
		DenoisedMSE:    dm,
		ImprovementPct: (nm - dm) / nm * 100,
		NoisyPSNR:      PSNRFromMSE(nm),
		DenoisedPSNR:   PSNRFromMSE(dm),
		NoisySSIM:      SSIM(clean, noisy, n, h, w),
		DenoisedSSIM:   SSIM(clean, denoised, n, h, w),
	}
}

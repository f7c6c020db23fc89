package metrics_test

import (
	"fmt"

	"github.com/aelab/aelab/aelib/metrics"
)

func ExampleMSE() {
	a := []float32{0, 0.5, 1, 1}
	b := []float32{0, 0, 1, 0.5}
	// Differences 0, 0.5, 0, 0.5 → squares sum to 0.5 → mean 0.125.
	mse := metrics.MSE(a, b)
	fmt.Printf("MSE=%.3f MAE=%.3f PSNR=%.2f dB\n", mse, metrics.MAE(a, b), metrics.PSNR(a, b))
	// Output: MSE=0.125 MAE=0.250 PSNR=9.03 dB
}

func ExampleSSIM() {
	// Two 7×7 images (one window each): constant 0.25 vs constant 0.5.
	// σ terms vanish, so SSIM = (2·0.25·0.5 + C1)/(0.25² + 0.5² + C1) = 0.2501/0.3126.
	const n, h, w = 1, 7, 7
	x := make([]float32, n*h*w)
	y := make([]float32, n*h*w)
	for i := range x {
		x[i], y[i] = 0.25, 0.5
	}
	fmt.Printf("SSIM(x, x) = %.4f\n", metrics.SSIM(x, x, n, h, w))
	fmt.Printf("SSIM(x, y) = %.4f\n", metrics.SSIM(x, y, n, h, w))
	// Output:
	// SSIM(x, x) = 1.0000
	// SSIM(x, y) = 0.8001
}

func ExampleEvaluate() {
	// Two 7×7 images of horizontal stripes: the 14 rows of the set alternate
	// white/black (7 of each), and the prediction is off by 0.125 on white
	// pixels and by 0.25 on black ones:
	//   MSE  = (0.125² + 0.25²)/2 = 0.0390625,  MAE = (0.125 + 0.25)/2 = 0.1875
	//   BCE  = (−ln 0.875 − ln 0.75)/2 ≈ 0.2106,  PSNR = 10·log10(1/0.0390625) ≈ 14.08 dB
	//   Pearson = 1 (pred is an increasing affine function of target)
	//   Similarity = (1 − 0.1875)·100 = 81.25 %
	const n, h, w = 2, 7, 7
	target := make([]float32, n*h*w)
	pred := make([]float32, n*h*w)
	for i := range target {
		if (i/w)%2 == 0 { // even rows of the set are white
			target[i], pred[i] = 1, 0.875
		} else {
			target[i], pred[i] = 0, 0.25
		}
	}
	s := metrics.Evaluate(pred, target, n, h, w)
	fmt.Printf("BCE        %.4f\n", s.BCE)
	fmt.Printf("MSE        %.4f\n", s.MSE)
	fmt.Printf("MAE        %.4f\n", s.MAE)
	fmt.Printf("PSNR       %.2f dB\n", s.PSNR)
	fmt.Printf("SSIM       %.4f\n", s.SSIM)
	fmt.Printf("Pearson    %.4f\n", s.Pearson)
	fmt.Printf("Similarity %.2f%%\n", s.Similarity)
	// Output:
	// BCE        0.2106
	// MSE        0.0391
	// MAE        0.1875
	// PSNR       14.08 dB
	// SSIM       0.8904
	// Pearson    1.0000
	// Similarity 81.25%
}

func ExampleROCAUC() {
	// Anomaly scores (e.g. PerImageMSE); anomalies should score higher.
	scores := []float64{0.01, 0.02, 0.09, 0.03, 0.12}
	anomaly := []bool{false, false, true, false, true}
	fmt.Println(metrics.ROCAUC(scores, anomaly))
	// Output: 1
}

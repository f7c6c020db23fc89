package metrics

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func near(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol || math.IsNaN(got) != math.IsNaN(want) {
		t.Errorf("%s = %.12g, want %.12g (tol %g)", name, got, want, tol)
	}
}

func mustPanic(t *testing.T, name, substr string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Errorf("%s: expected panic", name)
			return
		}
		if s, _ := r.(string); !strings.Contains(s, substr) {
			t.Errorf("%s: panic %q does not mention %q", name, r, substr)
		}
	}()
	f()
}

func TestBCE(t *testing.T) {
	// −[1·ln 0.5 + 0·ln 0.5] = ln 2.
	near(t, "BCE([0.5],[1])", BCE([]float32{0.5}, []float32{1}), math.Ln2, 1e-12)
	// Two pixels: p=0.25,t=0 → −ln 0.75; p=0.75,t=1 → −ln 0.75. Mean = −ln 0.75.
	near(t, "BCE two", BCE([]float32{0.25, 0.75}, []float32{0, 1}), -math.Log(0.75), 1e-12)
	// Non-binary target t=0.5, p=0.5: −[0.5 ln .5 + 0.5 ln .5] = ln 2.
	near(t, "BCE soft", BCE([]float32{0.5}, []float32{0.5}), math.Ln2, 1e-12)
	// Clipping: p=0 with t=1 → −ln(1e-7) = 7·ln 10 ≈ 16.118; p=1 with t=0 → −ln(1−(1−1e-7)).
	near(t, "BCE clip low", BCE([]float32{0}, []float32{1}), 7*math.Ln10, 1e-6)
	hi := 1 - Epsilon // float64-rounded clip bound, as in BCE
	near(t, "BCE clip high", BCE([]float32{1}, []float32{0}), -math.Log(1-hi), 1e-12)
	// Perfect binary prediction: −ln(1−1e-7) ≈ 1e-7 (clipped away from 0).
	near(t, "BCE perfect", BCE([]float32{1, 0}, []float32{1, 0}), -math.Log(1-Epsilon), 1e-15)
	if !math.IsNaN(BCE(nil, nil)) {
		t.Error("BCE of empty input should be NaN")
	}
}

func TestMSEMAE(t *testing.T) {
	a := []float32{0, 0.5, 1, 0.25}
	b := []float32{0.5, 0.5, 0, 0.75}
	// diffs: −0.5, 0, 1, −0.5 → squares 0.25+0+1+0.25 = 1.5 → /4 = 0.375.
	near(t, "MSE", MSE(a, b), 0.375, 1e-15)
	// |diffs|: 0.5+0+1+0.5 = 2 → /4 = 0.5.
	near(t, "MAE", MAE(a, b), 0.5, 1e-15)
	// Similarity = (1−0.5)·100 = 50.
	near(t, "Similarity", Similarity(a, b), 50, 1e-12)
	near(t, "Similarity identical", Similarity(a, a), 100, 0)
	near(t, "MSE identical", MSE(a, a), 0, 0)
}

func TestPSNR(t *testing.T) {
	// One pixel off by 0.1 → MSE 0.01 (in float32 rounding) → 10·log10(100) = 20 dB.
	near(t, "PSNR 0.01", PSNR([]float32{0.1}, []float32{0}), 20, 1e-5)
	near(t, "PSNRFromMSE 0.01", PSNRFromMSE(0.01), 20, 1e-12)
	// Off by 0.5 everywhere → MSE 0.25 → 10·log10(4) ≈ 6.0206 dB.
	near(t, "PSNR 0.25", PSNR([]float32{0.5, 0}, []float32{0, 0.5}), 10*math.Log10(4), 1e-12)
	if p := PSNR([]float32{0.3}, []float32{0.3}); !math.IsInf(p, 1) {
		t.Errorf("PSNR identical = %v, want +Inf", p)
	}
}

func TestPearson(t *testing.T) {
	a := []float32{0, 0.25, 0.5, 0.75, 1}
	up := make([]float32, len(a))
	down := make([]float32, len(a))
	for i, x := range a {
		up[i] = 0.5*x + 0.25 // positive linear relation → +1
		down[i] = 1 - x      // negative linear relation → −1
	}
	near(t, "Pearson up", Pearson(a, up), 1, 1e-12)
	near(t, "Pearson down", Pearson(a, down), -1, 1e-12)
	// x = [0,1,0,1], y = [0,0,1,1]: centred ±0.5, Σ dx·dy = (.25−.25−.25+.25) = 0 → r = 0.
	near(t, "Pearson orth", Pearson([]float32{0, 1, 0, 1}, []float32{0, 0, 1, 1}), 0, 1e-15)
	// x = [0,0,1], y = [0,1,1]: x̄=1/3, ȳ=2/3; Σdxdy = (−1/3)(−2/3)+(−1/3)(1/3)+(2/3)(1/3) = 1/3;
	// Σdx² = 1/9+1/9+4/9 = 2/3 = Σdy² → r = (1/3)/(2/3) = 0.5.
	near(t, "Pearson half", Pearson([]float32{0, 0, 1}, []float32{0, 1, 1}), 0.5, 1e-12)
	if r := Pearson([]float32{0.5, 0.5}, []float32{0, 1}); !math.IsNaN(r) {
		t.Errorf("Pearson with constant input = %v, want NaN", r)
	}
}

// constImg returns n images of h×w pixels all equal to v.
func constImg(n, h, w int, v float32) []float32 {
	s := make([]float32, n*h*w)
	for i := range s {
		s[i] = v
	}
	return s
}

func TestSSIMIdentical(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	a := randImg(r, 3, 9, 11)
	// Identical: μx=μy, σx=σy=σxy → both factors are 1.
	near(t, "SSIM identical", SSIM(a, a, 3, 9, 11), 1, 1e-12)
	// Constant identical images: (2μ²+C1)/(2μ²+C1) · C2/C2 = 1.
	c := constImg(1, 7, 7, 0.3)
	near(t, "SSIM constant identical", SSIM(c, c, 1, 7, 7), 1, 1e-12)
}

func TestSSIMConstants(t *testing.T) {
	// 7×7 images, x ≡ 0.25, y ≡ 0.5: one window, σx = σy = σxy = 0.
	// S = (2·0.25·0.5 + 1e-4)(0 + 9e-4) / ((0.0625 + 0.25 + 1e-4)(0 + 0 + 9e-4))
	//   = 0.2501 / 0.3126 ≈ 0.800063980806.
	x, y := constImg(1, 7, 7, 0.25), constImg(1, 7, 7, 0.5)
	near(t, "SSIM const", SSIM(x, y, 1, 7, 7), 0.2501/0.3126, 1e-12)
	// Same on 8×9 images: all 2·3 windows give the same value, and so does the mean.
	x, y = constImg(2, 8, 9, 0.25), constImg(2, 8, 9, 0.5)
	near(t, "SSIM const 8x9", SSIM(x, y, 2, 8, 9), 0.2501/0.3126, 1e-12)
	// Black vs white: (0 + 1e-4)/(0 + 1 + 1e-4) = 1e-4/1.0001.
	x, y = constImg(1, 7, 7, 0), constImg(1, 7, 7, 1)
	near(t, "SSIM black/white", SSIM(x, y, 1, 7, 7), 1e-4/1.0001, 1e-15)
}

func TestSSIMHandChecker(t *testing.T) {
	// x: 7×7 checkerboard of 0 and 1 (25 ones at (r+c) even), y ≡ 0.5.
	// μx = 25/49, μy = 0.5; σy² = 0, σxy = 0 (y constant);
	// σx² = (Σx² − 49 μx²)/48 = (25 − 625/49)/48 = (600/49)/48 = 25/98.
	// S = (2·(25/49)·0.5 + C1)(0 + C2) / (((25/49)² + 0.25 + C1)(25/98 + C2)).
	x := make([]float32, 49)
	for i := range x {
		if (i/7+i%7)%2 == 0 {
			x[i] = 1
		}
	}
	y := constImg(1, 7, 7, 0.5)
	mx := 25.0 / 49
	want := (2*mx*0.5 + 1e-4) * 9e-4 / ((mx*mx + 0.25 + 1e-4) * (25.0/98 + 9e-4))
	near(t, "SSIM checker", SSIM(x, y, 1, 7, 7), want, 1e-12)
}

// refSSIM is a direct O(n·h·w·49) implementation with two-pass window moments.
func refSSIM(a, b []float32, n, h, w int) (mean float64, per []float64) {
	const k = 7
	per = make([]float64, n)
	var tot float64
	for i := 0; i < n; i++ {
		img, jmg := a[i*h*w:], b[i*h*w:]
		var s float64
		for r := 0; r+k <= h; r++ {
			for c := 0; c+k <= w; c++ {
				var mx, my float64
				for dr := 0; dr < k; dr++ {
					for dc := 0; dc < k; dc++ {
						mx += float64(img[(r+dr)*w+c+dc])
						my += float64(jmg[(r+dr)*w+c+dc])
					}
				}
				mx /= 49
				my /= 49
				var vx, vy, vxy float64
				for dr := 0; dr < k; dr++ {
					for dc := 0; dc < k; dc++ {
						dx := float64(img[(r+dr)*w+c+dc]) - mx
						dy := float64(jmg[(r+dr)*w+c+dc]) - my
						vx += dx * dx
						vy += dy * dy
						vxy += dx * dy
					}
				}
				vx, vy, vxy = vx/48, vy/48, vxy/48
				c1, c2 := 0.01*0.01, 0.03*0.03
				s += (2*mx*my + c1) * (2*vxy + c2) / ((mx*mx + my*my + c1) * (vx + vy + c2))
			}
		}
		per[i] = s / float64((h-k+1)*(w-k+1))
		tot += s
	}
	return tot / float64(n*(h-k+1)*(w-k+1)), per
}

func randImg(r *rand.Rand, n, h, w int) []float32 {
	s := make([]float32, n*h*w)
	for i := range s {
		s[i] = r.Float32()
	}
	return s
}

// noisy returns a + uniform noise in [−amp, amp], clipped to [0,1].
func noisy(r *rand.Rand, a []float32, amp float32) []float32 {
	s := make([]float32, len(a))
	for i, v := range a {
		s[i] = min(1, max(0, v+amp*(2*r.Float32()-1)))
	}
	return s
}

func TestSSIMReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct{ n, h, w int }{{1, 7, 7}, {2, 8, 10}, {3, 12, 9}, {1, 28, 28}, {300, 10, 13}} {
		a := randImg(r, tc.n, tc.h, tc.w)
		b := noisy(r, a, 0.3)
		want, wantPer := refSSIM(a, b, tc.n, tc.h, tc.w)
		near(t, "SSIM vs reference", SSIM(a, b, tc.n, tc.h, tc.w), want, 1e-10)
		near(t, "SSIM symmetric", SSIM(b, a, tc.n, tc.h, tc.w), want, 1e-10)
		per := SSIMPerImage(a, b, tc.n, tc.h, tc.w)
		for i := range per {
			near(t, "SSIMPerImage vs reference", per[i], wantPer[i], 1e-10)
		}
	}
	// Unrelated random images: SSIM near 0, well below a noisy copy's.
	a, b := randImg(r, 4, 16, 16), randImg(r, 4, 16, 16)
	want, _ := refSSIM(a, b, 4, 16, 16)
	near(t, "SSIM random pair", SSIM(a, b, 4, 16, 16), want, 1e-10)
}

func TestPerImageMSE(t *testing.T) {
	a := []float32{0, 0, 1, 1, 0.5, 0.5}
	b := []float32{0, 1, 1, 1, 0, 1}
	// image 0: (0+1)/2 = 0.5; image 1: (0+0)/2 = 0; image 2: (.25+.25)/2 = 0.25.
	got := PerImageMSE(a, b, 3)
	want := []float64{0.5, 0, 0.25}
	for i := range want {
		near(t, "PerImageMSE", got[i], want[i], 1e-15)
	}
}

func TestROCAUC(t *testing.T) {
	scores := []float64{0.1, 0.2, 0.3, 0.8, 0.9}
	near(t, "AUC perfect", ROCAUC(scores, []bool{false, false, false, true, true}), 1, 0)
	near(t, "AUC reversed", ROCAUC(scores, []bool{true, true, false, false, false}), 0, 0)
	near(t, "AUC all ties", ROCAUC([]float64{3, 3, 3, 3}, []bool{true, false, true, false}), 0.5, 0)
	// Scores 1,2,3,4 with labels −,+,−,+: positive ranks 2+4 = 6; U = 6 − 2·3/2 = 3; AUC = 3/(2·2) = 0.75.
	near(t, "AUC mixed", ROCAUC([]float64{1, 2, 3, 4}, []bool{false, true, false, true}), 0.75, 1e-15)
	// Partial tie: scores 1,2,2,3 labels −,+,−,+: ranks 1, 2.5, 2.5, 4; R₊ = 2.5+4 = 6.5;
	// U = 6.5 − 3 = 3.5 → 3.5/4 = 0.875 (pairs: (+2 vs −1)=1, (+2 vs −2)=½, (+3 vs both)=2 → 3.5).
	near(t, "AUC partial tie", ROCAUC([]float64{1, 2, 2, 3}, []bool{false, true, false, true}), 0.875, 1e-15)
	if !math.IsNaN(ROCAUC([]float64{1, 2}, []bool{true, true})) {
		t.Error("AUC with one class should be NaN")
	}
}

func TestDenoisingReport(t *testing.T) {
	// clean ≡ 0.5 (one 7×7 image); noisy = 0.5 ± 0.25 alternating, denoised = 0.5 ± 0.125.
	// NoisyMSE = 0.25² = 0.0625, DenoisedMSE = 0.125² = 0.015625.
	// Improvement = (0.0625 − 0.015625)/0.0625·100 = 75 %.
	// PSNR: 10·log10(16) ≈ 12.041 dB and 10·log10(64) ≈ 18.062 dB.
	clean := constImg(1, 7, 7, 0.5)
	nz, dn := make([]float32, 49), make([]float32, 49)
	for i := range clean {
		sign := float32(1 - 2*(i%2))
		nz[i] = 0.5 + 0.25*sign
		dn[i] = 0.5 + 0.125*sign
	}
	d := DenoisingReport(clean, nz, dn, 1, 7, 7)
	near(t, "NoisyMSE", d.NoisyMSE, 0.0625, 0)
	near(t, "DenoisedMSE", d.DenoisedMSE, 0.015625, 0)
	near(t, "ImprovementPct", d.ImprovementPct, 75, 1e-12)
	near(t, "NoisyPSNR", d.NoisyPSNR, 10*math.Log10(16), 1e-12)
	near(t, "DenoisedPSNR", d.DenoisedPSNR, 10*math.Log10(64), 1e-12)
	// clean is constant so σxy = 0, σclean = 0; the noisy image has 25 × 0.75 and 24 × 0.25:
	// μ = (25·.75 + 24·.25)/49 = 24.75/49, σ² = Σ(x−μ)²/48. SSIM from the formula:
	for _, c := range []struct {
		name string
		got  float64
		amp  float64
	}{{"NoisySSIM", d.NoisySSIM, 0.25}, {"DenoisedSSIM", d.DenoisedSSIM, 0.125}} {
		mu := (25*(0.5+c.amp) + 24*(0.5-c.amp)) / 49
		v := (25*math.Pow(0.5+c.amp-mu, 2) + 24*math.Pow(0.5-c.amp-mu, 2)) / 48
		want := (2*mu*0.5 + 1e-4) * 9e-4 / ((mu*mu + 0.25 + 1e-4) * (v + 9e-4))
		near(t, c.name, c.got, want, 1e-12)
	}
	if d.DenoisedSSIM <= d.NoisySSIM {
		t.Errorf("denoised SSIM %v should beat noisy %v", d.DenoisedSSIM, d.NoisySSIM)
	}
}

func TestEvaluateMatchesFunctions(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	target := randImg(r, 5, 8, 9)
	pred := noisy(r, target, 0.2)
	pred[0], pred[1] = 0, 1 // exercise BCE clipping
	s := Evaluate(pred, target, 5, 8, 9)
	near(t, "BCE", s.BCE, BCE(pred, target), 1e-12)
	near(t, "MSE", s.MSE, MSE(pred, target), 1e-15)
	near(t, "MAE", s.MAE, MAE(pred, target), 1e-15)
	near(t, "PSNR", s.PSNR, PSNR(pred, target), 1e-12)
	near(t, "SSIM", s.SSIM, SSIM(pred, target, 5, 8, 9), 1e-15)
	near(t, "Pearson", s.Pearson, Pearson(pred, target), 1e-12)
	near(t, "Similarity", s.Similarity, Similarity(pred, target), 1e-12)
	if !strings.Contains(s.String(), "SSIM=") {
		t.Errorf("String() = %q", s.String())
	}
}

func TestPanics(t *testing.T) {
	x3, x2 := make([]float32, 3), make([]float32, 2)
	mustPanic(t, "BCE", "metrics.BCE: length mismatch", func() { BCE(x3, x2) })
	mustPanic(t, "MSE", "metrics.MSE: length mismatch", func() { MSE(x3, x2) })
	mustPanic(t, "MAE", "length mismatch", func() { MAE(x3, x2) })
	mustPanic(t, "PSNR", "length mismatch", func() { PSNR(x3, x2) })
	mustPanic(t, "Pearson", "length mismatch", func() { Pearson(x3, x2) })
	mustPanic(t, "Similarity", "length mismatch", func() { Similarity(x3, x2) })
	mustPanic(t, "PerImageMSE", "multiple", func() { PerImageMSE(x3, x3, 2) })
	mustPanic(t, "ROCAUC", "length mismatch", func() { ROCAUC([]float64{1}, nil) })
	mustPanic(t, "ROCAUC NaN", "NaN", func() { ROCAUC([]float64{math.NaN()}, []bool{true}) })
	img := make([]float32, 49)
	mustPanic(t, "SSIM len", "want n*h*w", func() { SSIM(img, img[:48], 1, 7, 7) })
	mustPanic(t, "SSIM small", "smaller than", func() { SSIM(img[:36], img[:36], 1, 6, 6) })
	mustPanic(t, "Evaluate", "metrics.Evaluate", func() { Evaluate(img, img, 2, 7, 7) })
	mustPanic(t, "DenoisingReport", "metrics.DenoisingReport", func() { DenoisingReport(img, img, img[:1], 1, 7, 7) })
}

func BenchmarkSSIM(b *testing.B) {
	const n, h, w = 10000, 28, 28
	r := rand.New(rand.NewPCG(7, 8))
	x := randImg(r, n, h, w)
	y := noisy(r, x, 0.2)
	for b.Loop() {
		SSIM(x, y, n, h, w)
	}
}

func BenchmarkEvaluate(b *testing.B) {
	const n, h, w = 10000, 28, 28
	r := rand.New(rand.NewPCG(7, 8))
	x := randImg(r, n, h, w)
	y := noisy(r, x, 0.2)
	for b.Loop() {
		Evaluate(x, y, n, h, w)
	}
}

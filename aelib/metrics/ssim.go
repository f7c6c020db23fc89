package metrics

import (
	"fmt"
	"runtime"
	"sync"
)

// SSIM constants: scikit-image's structural_similarity defaults for float
// images with data_range=1.
const (
	SSIMWindow = 7    // side of the uniform window
	SSIMK1     = 0.01 // K1
	SSIMK2     = 0.03 // K2
	ssimL      = 1.0  // data range L
	ssimC1     = (SSIMK1 * ssimL) * (SSIMK1 * ssimL)
	ssimC2     = (SSIMK2 * ssimL) * (SSIMK2 * ssimL)
	ssimN      = SSIMWindow * SSIMWindow // pixels per window, N = 49
)

// SSIM returns the mean structural similarity of the n image pairs (a[k], b[k]),
// each h×w, matching skimage.metrics.structural_similarity(a, b,
// data_range=1) with its defaults, averaged over all images:
//
// For every valid 7×7 window position (no padding: the (h−6)×(w−6) window
// centres of each image), with N = 49 pixels in the window,
//
//	μx = (1/N) Σ x,   μy = (1/N) Σ y
//	σx² = (N/(N−1))·((1/N) Σ x² − μx²)         (sample variance)
//	σy² = (N/(N−1))·((1/N) Σ y² − μy²)
//	σxy = (N/(N−1))·((1/N) Σ x·y − μx·μy)      (sample covariance)
//	S   = (2μxμy + C1)(2σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2))
//
// with C1 = (K1·L)², C2 = (K2·L)², K1 = 0.01, K2 = 0.03, L = 1. The result is
// the mean of S over all positions of all images (equivalently the mean of
// SSIMPerImage, since every image has the same number of positions).
//
// Window sums come from float64 summed-area tables, so the cost is O(n·h·w),
// independent of the window size; large sets are split across goroutines
// (the result does not depend on the number of CPUs).
//
// It panics if len(a) or len(b) differ from n*h*w, or h or w is below 7.
// It returns NaN for n == 0.
func SSIM(a, b []float32, n, h, w int) float64 {
	per := SSIMPerImage(a, b, n, h, w)
	var s float64
	for _, v := range per {
		s += v
	}
	return s / float64(n)
}

// SSIMPerImage returns, for each of the n image pairs, the mean SSIM over its
// (h−6)×(w−6) valid window positions; see SSIM for the formula. It panics on
// the same conditions as SSIM.
func SSIMPerImage(a, b []float32, n, h, w int) []float64 {
	checkImages("SSIM", a, b, n, h, w)
	if h < SSIMWindow || w < SSIMWindow {
		panic(fmt.Sprintf("metrics.SSIM: images %dx%d are smaller than the %dx%d window", h, w, SSIMWindow, SSIMWindow))
	}
	out := make([]float64, n)
	p := h * w
	workers := runtime.GOMAXPROCS(0)
	const minPerWorker = 64
	if workers > n/minPerWorker {
		workers = n / minPerWorker
	}
	if workers <= 1 {
		s := newSSIMScratch(h, w)
		for k := 0; k < n; k++ {
			out[k] = s.image(a[k*p:(k+1)*p], b[k*p:(k+1)*p])
		}
		return out
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			s := newSSIMScratch(h, w)
			for k := lo; k < hi; k++ {
				out[k] = s.image(a[k*p:(k+1)*p], b[k*p:(k+1)*p])
			}
		}(lo, hi)
	}
	wg.Wait()
	return out
}

// checkImages panics unless a and b both hold n images of h×w pixels.
func checkImages(fn string, a, b []float32, n, h, w int) {
	if n < 0 || h <= 0 || w <= 0 {
		panic(fmt.Sprintf("metrics.%s: invalid dimensions n=%d h=%d w=%d", fn, n, h, w))
	}
	if len(a) != n*h*w || len(b) != n*h*w {
		panic(fmt.Sprintf("metrics.%s: lengths %d and %d, want n*h*w = %d*%d*%d = %d",
			fn, len(a), len(b), n, h, w, n*h*w))
	}
}

// ssimScratch holds the five summed-area tables of one image pair:
// Σx, Σy, Σx², Σy², Σxy, each (h+1)×(w+1) with a zero first row and column.
type ssimScratch struct {
	h, w                  int
	sx, sy, sxx, syy, sxy []float64
}

func newSSIMScratch(h, w int) *ssimScratch {
	m := (h + 1) * (w + 1)
	buf := make([]float64, 5*m)
	return &ssimScratch{h: h, w: w,
		sx: buf[0:m], sy: buf[m : 2*m], sxx: buf[2*m : 3*m], syy: buf[3*m : 4*m], sxy: buf[4*m : 5*m]}
}

// image returns the mean SSIM of one h×w pair.
func (s *ssimScratch) image(a, b []float32) float64 {
	h, w, W := s.h, s.w, s.w+1
	// Build the summed-area tables: T[r+1][c+1] = Σ_{i<=r, j<=c} v[i][j].
	for r := 0; r < h; r++ {
		var rx, ry, rxx, ryy, rxy float64 // running sums along row r
		row := a[r*w : (r+1)*w]
		rowB := b[r*w : (r+1)*w]
		up, cur := r*W+1, (r+1)*W+1
		for c := range row {
			x, y := float64(row[c]), float64(rowB[c])
			rx += x
			ry += y
			rxx += x * x
			ryy += y * y
			rxy += x * y
			s.sx[cur+c] = s.sx[up+c] + rx
			s.sy[cur+c] = s.sy[up+c] + ry
			s.sxx[cur+c] = s.sxx[up+c] + rxx
			s.syy[cur+c] = s.syy[up+c] + ryy
			s.sxy[cur+c] = s.sxy[up+c] + rxy
		}
	}
	const (
		k    = SSIMWindow
		invN = 1.0 / ssimN
		cov  = float64(ssimN) / float64(ssimN-1) // sample-covariance normalisation
	)
	var total float64
	for r := 0; r+k <= h; r++ {
		top, bot := r*W, (r+k)*W
		for c := 0; c+k <= w; c++ {
			// Window [r, r+k) × [c, c+k): D − B − C + A on the tables.
			i00, i01, i10, i11 := top+c, top+c+k, bot+c, bot+c+k
			mx := (s.sx[i11] - s.sx[i01] - s.sx[i10] + s.sx[i00]) * invN
			my := (s.sy[i11] - s.sy[i01] - s.sy[i10] + s.sy[i00]) * invN
			mxx := (s.sxx[i11] - s.sxx[i01] - s.sxx[i10] + s.sxx[i00]) * invN
			myy := (s.syy[i11] - s.syy[i01] - s.syy[i10] + s.syy[i00]) * invN
			mxy := (s.sxy[i11] - s.sxy[i01] - s.sxy[i10] + s.sxy[i00]) * invN
			vx := cov * (mxx - mx*mx)
			vy := cov * (myy - my*my)
			vxy := cov * (mxy - mx*my)
			total += ((2*mx*my + ssimC1) * (2*vxy + ssimC2)) /
				((mx*mx + my*my + ssimC1) * (vx + vy + ssimC2))
		}
	}
	return total / float64((h-k+1)*(w-k+1))
}

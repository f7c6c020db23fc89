package web

import "math"

// lttb downsamples a series (x increasing) to at most n points with Largest-Triangle-Three-
// Buckets (Steinarsson, 2013): the first and last points stay, and each of the n-2 buckets
// between them keeps the point that makes the largest triangle with the point kept before
// and the mean of the next bucket. Peaks and sudden drops survive, where averaging buckets
// would flatten them. Series of n points or fewer come back as they are; n is at least 3.
func lttb(x, y []float64, n int) (xs, ys []float64) {
	if len(x) <= max(n, 3) {
		return x, y
	}
	keep := lttbIndices(x, y, n)
	xs, ys = make([]float64, len(keep)), make([]float64, len(keep))
	for i, j := range keep {
		xs[i], ys[i] = x[j], y[j]
	}
	return xs, ys
}

// lttbIndices is lttb's choice as indices into x and y, so that values beside y (a group's
// minimum and maximum) can follow the points it keeps.
func lttbIndices(x, y []float64, n int) []int {
	n = max(n, 3)
	if len(x) <= n {
		keep := make([]int, len(x))
		for i := range keep {
			keep[i] = i
		}
		return keep
	}
	keep := make([]int, 0, n)
	keep = append(keep, 0)
	width := float64(len(x)-2) / float64(n-2)
	a := 0 // index of the point kept last
	for i := range n - 2 {
		start, end := int(float64(i)*width)+1, int(float64(i+1)*width)+1
		// The next bucket's mean (the last point, for the last bucket).
		nStart, nEnd := end, min(int(float64(i+2)*width)+1, len(x))
		if i == n-3 {
			nStart, nEnd = len(x)-1, len(x)
		}
		var mx, my float64
		for j := nStart; j < nEnd; j++ {
			mx += x[j]
			my += y[j]
		}
		mx /= float64(nEnd - nStart)
		my /= float64(nEnd - nStart)
		best, bestArea := start, -1.0
		for j := start; j < end; j++ {
			area := math.Abs((x[a]-mx)*(y[j]-y[a]) - (x[a]-x[j])*(my-y[a]))
			if area > bestArea {
				best, bestArea = j, area
			}
		}
		keep = append(keep, best)
		a = best
	}
	return append(keep, len(x)-1)
}

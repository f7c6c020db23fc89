package metrics

import (
	"fmt"
	"math"
	"sort"
)

// ROCAUC returns the area under the ROC curve of scores for the binary labels
// positive (true = positive class, e.g. an anomaly), where a higher score means
// "more likely positive" (e.g. a per-image reconstruction error from
// PerImageMSE). It is computed as the normalised Mann-Whitney U statistic with
// tied scores given their average rank:
//
//	AUC = (R₊ − P(P+1)/2) / (P·Q)
//
// where R₊ is the sum of the (1-based, tie-averaged) ranks of the positive
// scores in ascending order, P the number of positives and Q the number of
// negatives. This equals the probability that a random positive scores higher
// than a random negative, counting ties as one half: 1 for perfect
// separation, 0 for perfectly reversed, 0.5 when all scores tie.
//
// It returns NaN when there are no positives or no negatives. It panics if
// the lengths differ or a score is NaN.
func ROCAUC(scores []float64, positive []bool) float64 {
	if len(scores) != len(positive) {
		panic(fmt.Sprintf("metrics.ROCAUC: length mismatch: %d scores vs %d labels", len(scores), len(positive)))
	}
	idx := make([]int, len(scores))
	for i, s := range scores {
		if math.IsNaN(s) {
			panic(fmt.Sprintf("metrics.ROCAUC: score %d is NaN", i))
		}
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool { return scores[idx[i]] < scores[idx[j]] })
	var rankSum float64
	var pos int
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		// Elements i..j-1 tie: ranks i+1..j, average (i+1+j)/2.
		avg := float64(i+1+j) / 2
		for _, k := range idx[i:j] {
			if positive[k] {
				rankSum += avg
				pos++
			}
		}
		i = j
	}
	neg := len(scores) - pos
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	p, q := float64(pos), float64(neg)
	return (rankSum - p*(p+1)/2) / (p * q)
}

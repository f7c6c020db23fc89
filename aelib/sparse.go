package aelib

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph"
)

// The sparse autoencoder (course §1.1.5): the dense 784-256-128-32 model whose loss adds a
// penalty on the code's activations, so that each image uses few code units.
//
//   - PenaltyKL: λ Σ_j KL(ρ ‖ ρ̂_j), with ρ̂_j the mean activation of code unit j over the
//     (real examples of the) batch and KL(ρ ‖ ρ̂) = ρ log(ρ/ρ̂) + (1−ρ) log((1−ρ)/(1−ρ̂)), the
//     divergence between two Bernoulli distributions. It needs activations in (0,1), so this
//     model's code layer is a sigmoid (the other dense models use ReLU there).
//   - PenaltyL1: λ Σ_j |h_j| per example, averaged over the batch (an activity regulariser, as
//     Keras' activity_regularizer=l1(λ)); same sigmoid code, so the two variants compare.
//
// The penalty is added to the per-pixel mean BCE that every model minimises, so λ is relative
// to a loss of about 0.1. DefaultSparseLambda is the cheap end of the λ that make the code
// sparse (docs/performance.md, "Penalty weights"); longer training moves the mean activation
// further towards ρ.

// DefaultSparseLambda is the sparse model's default penalty weight.
const DefaultSparseLambda = 3e-3

// NearZeroActivation is the threshold under which CodeStats counts a code value as off.
const NearZeroActivation = 0.05

// SparseDense is Dense("sparse", input, widths...) with a sigmoid code layer (the last width)
// and no penalty: Sparse adds it.
func SparseDense(input int, widths ...int) Architecture {
	a := Dense(ModelSparse, input, widths...)
	a.Layers[len(widths)-1].Activation = ActSigmoid
	return a
}

// Sparse is the sparse autoencoder: SparseDense with the penalty SparsityPenalty(penalty, rho,
// lambda) on its code.
func Sparse(input int, penalty string, rho, lambda float64, widths ...int) Architecture {
	a := SparseDense(input, widths...)
	a.Penalties = []Penalty{SparsityPenalty(penalty, rho, lambda)}
	return a
}

// SparsityPenalty is λ times a penalty on the code's activations: PenaltyKL (Σ_j KL(ρ ‖ ρ̂_j))
// or PenaltyL1 (Σ_j |h_j| per example), averaged over the batch's real examples.
func SparsityPenalty(kind string, rho, lambda float64) Penalty {
	return Penalty{Name: kind, Term: func(t Trace) *Node {
		var p *Node
		if kind == PenaltyL1 {
			p = SparsityL1(t.Code(), t.Mask())
		} else {
			p = SparsityKL(t.Code(), t.Mask(), rho)
		}
		return MulScalar(p, lambda)
	}}
}

// SparsityKL builds Σ_j KL(ρ ‖ ρ̂_j) for codes [B,m] in (0,1): ρ̂_j is unit j's mean activation
// over the examples whose weight ([B], 1 for real examples, 0 for padding) is 1. ρ̂ is clipped
// to [1e-6, 1−1e-6] so that a dead or saturated unit gives a large but finite penalty.
func SparsityKL(codes, weights *Node, rho float64) *Node {
	w := ExpandAxes(weights, -1)
	rhoHat := ClipScalar(Div(ReduceSum(Mul(codes, w), 0), exampleCount(weights)), 1e-6, 1-1e-6)
	kl := Add(
		MulScalar(Neg(Log(DivScalar(rhoHat, rho))), rho),
		MulScalar(Neg(Log(DivScalar(OneMinus(rhoHat), 1-rho))), 1-rho))
	return ReduceAllSum(kl)
}

// SparsityL1 builds the mean over the weighted examples of Σ_j |h_j| for codes [B,m].
func SparsityL1(codes, weights *Node) *Node {
	return MaskedMean(ReduceSum(Abs(codes), 1), weights)
}

// CodeStats describes how sparse a model's codes are on some images.
type CodeStats struct {
	MeanActivation float64   `json:"mean_activation"` // mean of all code values
	NearZeroShare  float64   `json:"near_zero_share"` // share of code values < NearZeroActivation (in absolute value)
	DeadUnits      int       `json:"dead_units"`      // units whose every value is near zero
	UnitMeans      []float64 `json:"unit_means"`      // ρ̂_j, the mean of each code unit
}

// CodeStats encodes n flat images and measures the codes' mean activation and the share of
// near-zero values. It works for every model; for the sparse one it is how well the penalty did.
func (ae *Autoencoder) CodeStats(images []float32, n int) (CodeStats, error) {
	var stats CodeStats
	if n <= 0 {
		return stats, fmt.Errorf("aelib: CodeStats needs images")
	}
	codes, err := ae.Encode(images, n)
	if err != nil {
		return stats, err
	}
	m := ae.Arch.LatentSize()
	stats.UnitMeans = make([]float64, m)
	nearZero := 0
	alive := make([]bool, m)
	for i, v := range codes {
		stats.UnitMeans[i%m] += float64(v)
		if v < NearZeroActivation && v > -NearZeroActivation {
			nearZero++
		} else {
			alive[i%m] = true
		}
	}
	var sum float64
	for j := range stats.UnitMeans {
		sum += stats.UnitMeans[j]
		stats.UnitMeans[j] /= float64(n)
		if !alive[j] {
			stats.DeadUnits++
		}
	}
	stats.MeanActivation = sum / float64(len(codes))
	stats.NearZeroShare = float64(nearZero) / float64(len(codes))
	return stats, nil
}

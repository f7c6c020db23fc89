package data

import "math/rand/v2"

// AddNoise returns a noisy copy of images: clip(x + factor·N(0,1), 0, 1) per pixel, the recipe
// of the course's denoising section. The same seed gives the same noise.
func AddNoise(images []float32, factor float64, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 0x6e6f697365)) // "noise"
	out := make([]float32, len(images))
	for i, x := range images {
		v := float64(x) + factor*rng.NormFloat64()
		out[i] = float32(min(max(v, 0), 1))
	}
	return out
}

// Permutation returns a seeded random order of n examples, one per epoch: the seed and the
// epoch number together pick it, so a run can be reproduced and resumed.
func Permutation(n int, seed uint64, epoch int) []int {
	rng := rand.New(rand.NewPCG(seed, uint64(epoch)+1))
	return rng.Perm(n)
}

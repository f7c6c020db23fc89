package aelib

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/aelab/aelab/aelib/data"
)

// The variational autoencoder (course §1.1.5): the encoder outputs a Gaussian q(z|x) with mean μ
// and log-variance log σ² (the KindGaussian layer: two dense heads, "mean" and "log_var");
// training decodes a sample z = μ + exp(½ log σ²)·ε, ε ~ N(0, I) from the store's random number
// generator (seeded by Config.Seed), and adds the KL divergence of q(z|x) from the prior N(0, I):
//
//	KL = −½ Σ_k (1 + log σ²_k − μ_k² − exp(log σ²_k))   per example.
//
// Scaling: the negative ELBO is BCE summed over the 784 pixels + β·KL. aelib's reconstruction
// loss is the per-pixel mean BCE (so val_bce compares with the other models), so the VAE adds
// β·KL/784 to it: its train_loss is the negative ELBO per pixel, the same optimum as the summed
// form. Outside training (Encode, Reconstruct, validation) the code is z = μ.

// Variational returns a VAE: input → hidden widths (ReLU) → Gaussian code of size latent → the
// hidden widths reversed → input (sigmoid), with the penalty GaussianKLPenalty(beta, input).
// Variational(784, 16, 1, 256, 128) is aelab's "vae".
func Variational(input, latent int, beta float64, hidden ...int) Architecture {
	a := Architecture{Name: ModelVAE, Input: []int{input}}
	for i, w := range hidden {
		a.Layers = append(a.Layers, Layer{Name: fmt.Sprintf("enc_dense%d", i+1), Kind: KindDense, Units: w, Activation: ActReLU, Encoder: true})
	}
	a.Layers = append(a.Layers, Layer{Name: "enc_gaussian", Kind: KindGaussian, Units: latent, Activation: ActLinear, Encoder: true})
	for i := len(hidden) - 1; i >= 0; i-- {
		a.Layers = append(a.Layers, Layer{Name: fmt.Sprintf("dec_dense%d", len(hidden)-i), Kind: KindDense, Units: hidden[i], Activation: ActReLU})
	}
	a.Layers = append(a.Layers, Layer{Name: "output", Kind: KindDense, Units: input, Activation: ActSigmoid})
	a.Penalties = []Penalty{GaussianKLPenalty(beta, input)}
	return a
}

// gaussianForward is the Gaussian layer: two dense heads, mean and log-variance [B, units]
// (the layer's parts "mean" and "log_var"); in training a sample z = μ + exp(½ log σ²)·ε,
// ε ~ N(0, I), and otherwise the mean.
func gaussianForward(f *forward, l Layer, x *Node) *Node {
	s := f.scope.At("%s", l.Name)
	mean, _, _ := f.dense(s.At("mean"), x, l.Units)
	logVar, _, _ := f.dense(s.At("log_var"), x, l.Units)
	f.setPart("mean", mean)
	f.setPart("log_var", logVar)
	if !f.training {
		return mean
	}
	eps := f.randomNormal(mean.Shape())
	return Add(mean, Mul(Exp(MulScalar(logVar, 0.5)), eps))
}

// GaussianKLPenalty is β·KL(q(z|x) ‖ N(0, I)) / pixels of the model's Gaussian layer, averaged
// over the batch's real examples: with the per-pixel BCE, the negative ELBO per pixel.
func GaussianKLPenalty(beta float64, pixels int) Penalty {
	return Penalty{Name: "kl", Term: func(t Trace) *Node {
		a := t.Architecture()
		gi := a.gaussianIndex()
		if gi < 0 {
			panic(fmt.Sprintf("aelib: architecture %s has no Gaussian layer for the KL penalty", a.Name))
		}
		name := a.Layers[gi].Name
		kl := GaussianKL(t.Part(name, "mean"), t.Part(name, "log_var"))
		return MulScalar(MaskedMean(kl, t.Mask()), beta/float64(pixels))
	}}
}

// GaussianKL builds KL(N(μ, σ²) ‖ N(0, I)) = −½ Σ_k (1 + log σ²_k − μ_k² − σ²_k) per example:
// mean and logVar [B, k] → [B].
func GaussianKL(mean, logVar *Node) *Node {
	terms := Sub(Sub(OnesLike(logVar), Square(mean)), Sub(Exp(logVar), logVar))
	return MulScalar(ReduceSum(terms, 1), -0.5)
}

// gaussianIndex is the index of the architecture's Gaussian layer, or -1.
func (a Architecture) gaussianIndex() int {
	for i, l := range a.Layers {
		if l.Kind == KindGaussian {
			return i
		}
	}
	return -1
}

// EncodeDistribution maps n flat images to the parameters of q(z|x): means and log-variances,
// n×LatentSize values each. Only for models with a Gaussian code (vae).
func (ae *Autoencoder) EncodeDistribution(images []float32, n int) (mean, logVar []float32, err error) {
	gi := ae.Arch.gaussianIndex()
	if gi < 0 {
		return nil, nil, fmt.Errorf("aelib: model %s has no Gaussian code", ae.Config.Model)
	}
	k := ae.Arch.Layers[gi].Units
	both, err := ae.runNamed("gaussian", func(scope *model.Scope, x *Node) *Node {
		f := newForward(ae.scope(), x.Graph())
		f.run(ae.Arch, x, 0, gi+1)
		parts := f.tape[gi].parts
		return Concatenate([]*Node{parts["mean"], parts["log_var"]}, 1)
	}, images, n, data.Pixels, 2*k)
	if err != nil {
		return nil, nil, err
	}
	mean, logVar = make([]float32, n*k), make([]float32, n*k)
	for i := range n {
		copy(mean[i*k:(i+1)*k], both[2*i*k:(2*i+1)*k])
		copy(logVar[i*k:(i+1)*k], both[(2*i+1)*k:(2*i+2)*k])
	}
	return mean, logVar, nil
}

// LatentKL returns the mean over n flat images of KL(q(z|x) ‖ N(0, I)), in nats per example:
// how much information the codes carry beyond the prior.
func (ae *Autoencoder) LatentKL(images []float32, n int) (float64, error) {
	mean, logVar, err := ae.EncodeDistribution(images, n)
	if err != nil {
		return 0, err
	}
	var kl float64
	for i := range mean {
		m, lv := float64(mean[i]), float64(logVar[i])
		kl += -0.5 * (1 + lv - m*m - math.Exp(lv))
	}
	return kl / float64(n), nil
}

// Sample decodes n codes drawn from the prior N(0, I) (seeded): new images, n×784 values.
// It is meaningful for the VAE, whose codes were pulled towards that prior.
func (ae *Autoencoder) Sample(n int, seed uint64) ([]float32, error) {
	if n <= 0 {
		return nil, fmt.Errorf("aelib: Sample needs n > 0")
	}
	rng := rand.New(rand.NewPCG(seed, 0x7ae))
	codes := make([]float32, n*ae.Arch.LatentSize())
	for i := range codes {
		codes[i] = float32(rng.NormFloat64())
	}
	return ae.Decode(codes, n)
}

// Interpolate encodes two flat images (784 values each) and decodes `steps` codes evenly spaced
// on the line between their codes, the first and last being the two codes themselves:
// steps×784 values. It works for every model; the VAE's smooth latent space is where it shines.
func (ae *Autoencoder) Interpolate(from, to []float32, steps int) ([]float32, error) {
	if steps < 2 {
		return nil, fmt.Errorf("aelib: Interpolate needs steps >= 2, got %d", steps)
	}
	if len(from) != data.Pixels || len(to) != data.Pixels {
		return nil, fmt.Errorf("aelib: Interpolate needs two images of %d values", data.Pixels)
	}
	codes, err := ae.Encode(append(append([]float32(nil), from...), to...), 2)
	if err != nil {
		return nil, err
	}
	m := ae.Arch.LatentSize()
	line := make([]float32, steps*m)
	for s := range steps {
		t := float32(s) / float32(steps-1)
		for j := range m {
			line[s*m+j] = (1-t)*codes[j] + t*codes[m+j]
		}
	}
	return ae.Decode(line, steps)
}

// LatentGrid decodes a side×side grid of codes of a model with a 2-D code, z1 from −span to
// +span left to right and z2 from +span to −span top to bottom (as a plot's axes): side²×784
// values, row by row, ready to tile into one picture of the latent space.
func (ae *Autoencoder) LatentGrid(side int, span float64) ([]float32, error) {
	if ae.Arch.LatentSize() != 2 {
		return nil, fmt.Errorf("aelib: LatentGrid needs a 2-D code, model %s has %d", ae.Config.Model, ae.Arch.LatentSize())
	}
	if side < 2 || span <= 0 {
		return nil, fmt.Errorf("aelib: LatentGrid needs side >= 2 and span > 0")
	}
	codes := make([]float32, 0, 2*side*side)
	for r := range side {
		z2 := span - 2*span*float64(r)/float64(side-1)
		for c := range side {
			z1 := -span + 2*span*float64(c)/float64(side-1)
			codes = append(codes, float32(z1), float32(z2))
		}
	}
	return ae.Decode(codes, side*side)
}

// WriteLatentCSV writes codes (n×dim values) with their labels as CSV — header z1,…,z<dim>,label
// — for a scatter of the latent space coloured by digit. labels may be nil.
func WriteLatentCSV(w io.Writer, codes []float32, dim int, labels []uint8) error {
	if dim <= 0 || len(codes)%dim != 0 {
		return fmt.Errorf("aelib: %d code values do not make rows of %d", len(codes), dim)
	}
	n := len(codes) / dim
	if labels != nil && len(labels) < n {
		return fmt.Errorf("aelib: %d labels for %d codes", len(labels), n)
	}
	bw := bufio.NewWriter(w)
	for j := range dim {
		fmt.Fprintf(bw, "z%d,", j+1)
	}
	bw.WriteString("label\n")
	for i := range n {
		for j := range dim {
			bw.WriteString(strconv.FormatFloat(float64(codes[i*dim+j]), 'g', 6, 32))
			bw.WriteByte(',')
		}
		if labels != nil {
			bw.WriteString(strconv.Itoa(int(labels[i])))
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

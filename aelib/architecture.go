package aelib

import (
	"fmt"
	"strings"

	"github.com/aelab/aelab/aelib/data"
)

// LayerKind is the type of one layer of an architecture. Each kind is one entry of the layer
// table (layers.go).
type LayerKind string

// The layer kinds aelib builds.
const (
	KindDense    LayerKind = "Dense"        // a flat input times a weight matrix, plus biases
	KindConv     LayerKind = "Conv2D"       // 3×3, 'same' padding, stride 1
	KindMaxPool  LayerKind = "MaxPooling2D" // 2×2, stride 2
	KindUpSample LayerKind = "UpSampling2D" // nearest neighbour, ×2
	KindReshape  LayerKind = "Reshape"
	KindDropout  LayerKind = "Dropout"  // in training, zeroes each value with probability Rate and scales the rest by 1/(1−Rate)
	KindGaussian LayerKind = "Gaussian" // variational bottleneck: mean and log-variance, then a sample
)

// Activation of a layer's output.
type Activation string

// Activations. The output layer is always sigmoid: the graph keeps its logits and applies the
// sigmoid only where probabilities are needed, so the loss can be computed stably from logits.
const (
	ActLinear  Activation = "linear"
	ActReLU    Activation = "relu"
	ActSigmoid Activation = "sigmoid"
	ActTanh    Activation = "tanh"
)

// Layer is one layer of an architecture.
type Layer struct {
	Name       string     `json:"name"` // scope of its variables, like Keras' layer names: "enc_dense1"
	Kind       LayerKind  `json:"kind"`
	Units      int        `json:"units,omitempty"`      // Dense: output width; Conv2D: filters; Gaussian: latent size
	Activation Activation `json:"activation,omitempty"` // applied to the layer's output; "" is linear
	Shape      []int      `json:"shape,omitempty"`      // Reshape: the new shape without the batch axis
	Rate       float64    `json:"rate,omitempty"`       // Dropout: the share of values dropped in training
	Encoder    bool       `json:"encoder,omitempty"`    // part of the encoder (the rest is the decoder)
}

// Architecture is an autoencoder as data: a list of layers, from the flat (784) input to the
// output logits, and the penalties its training adds to the reconstruction loss (BCE). The
// layers with Encoder set come first and end at the bottleneck; the last layer with an
// activation is the sigmoid output. The registry's models are architectures (Config.Architecture);
// a program defines its own the same way and trains it with NewCustom.
type Architecture struct {
	Name      string    `json:"name"`
	Input     []int     `json:"input"` // shape of one example without the batch axis: [784]
	Layers    []Layer   `json:"layers"`
	Penalties []Penalty `json:"penalties,omitempty"`
}

// Course architectures.

// Dense returns a dense autoencoder: input → widths... (encoder, the last one the bottleneck) →
// the widths reversed without the bottleneck → input size. ReLU everywhere but the sigmoid output.
// Dense("vanilla", 784, 256, 128, 32) is the course's §1.2 model.
func Dense(name string, input int, widths ...int) Architecture {
	a := Architecture{Name: name, Input: []int{input}}
	for i, w := range widths {
		a.Layers = append(a.Layers, Layer{Name: fmt.Sprintf("enc_dense%d", i+1), Kind: KindDense, Units: w, Activation: ActReLU, Encoder: true})
	}
	for i := len(widths) - 2; i >= 0; i-- {
		a.Layers = append(a.Layers, Layer{Name: fmt.Sprintf("dec_dense%d", len(widths)-1-i), Kind: KindDense, Units: widths[i], Activation: ActReLU})
	}
	a.Layers = append(a.Layers, Layer{Name: "output", Kind: KindDense, Units: input, Activation: ActSigmoid})
	return a
}

// Vanilla is the course's §1.2 autoencoder: 784-256-128-32-128-256-784, 476,720 parameters.
func Vanilla() Architecture { return Dense(ModelVanilla, data.Pixels, 256, 128, 32) }

// Deep is the course's §1.3 autoencoder: 784-128-64-32-64-128-784, 222,384 parameters.
func Deep() Architecture { return Dense(ModelDeep, data.Pixels, 128, 64, 32) }

// ConvDenoising is the course's §1.4 convolutional autoencoder for 28×28×1 images:
// Conv(f)-MaxPool-Conv(f)-MaxPool | Conv(f)-Up-Conv(f)-Up-Conv(1), 3×3 'same' convolutions;
// with f = 32 it has 28,353 parameters and a 7×7×32 bottleneck.
func ConvDenoising(filters int) Architecture {
	return Architecture{Name: ModelDenoise, Input: []int{data.Pixels}, Layers: []Layer{
		{Name: "enc_reshape", Kind: KindReshape, Shape: []int{data.Height, data.Width, 1}, Encoder: true},
		{Name: "enc_conv1", Kind: KindConv, Units: filters, Activation: ActReLU, Encoder: true},
		{Name: "enc_pool1", Kind: KindMaxPool, Encoder: true},
		{Name: "enc_conv2", Kind: KindConv, Units: filters, Activation: ActReLU, Encoder: true},
		{Name: "enc_pool2", Kind: KindMaxPool, Encoder: true},
		{Name: "dec_conv1", Kind: KindConv, Units: filters, Activation: ActReLU},
		{Name: "dec_up1", Kind: KindUpSample},
		{Name: "dec_conv2", Kind: KindConv, Units: filters, Activation: ActReLU},
		{Name: "dec_up2", Kind: KindUpSample},
		{Name: "output", Kind: KindConv, Units: 1, Activation: ActSigmoid},
		{Name: "dec_flatten", Kind: KindReshape, Shape: []int{data.Pixels}},
	}}
}

// LayerShape is a layer with its computed output shape and parameter count.
type LayerShape struct {
	Layer
	Output []int // without the batch axis
	Params int
}

// Shapes computes every layer's output shape and parameter count, or an error if the layers
// do not fit together (e.g. pooling an odd size) or the output is not a sigmoid.
func (a Architecture) Shapes() ([]LayerShape, error) {
	if len(a.Input) == 0 || len(a.Layers) == 0 {
		return nil, fmt.Errorf("architecture %s: needs an input shape and layers", a.Name)
	}
	shape := append([]int(nil), a.Input...)
	out := make([]LayerShape, 0, len(a.Layers))
	names := map[string]bool{}
	for _, l := range a.Layers {
		rule, ok := layerRules[l.Kind]
		if !ok {
			return nil, fmt.Errorf("layer %s: unknown kind %q", l.Name, l.Kind)
		}
		if _, ok := activationRules[l.Activation]; !ok {
			return nil, fmt.Errorf("layer %s: unknown activation %q", l.Name, l.Activation)
		}
		if l.Name == "" || names[l.Name] {
			return nil, fmt.Errorf("architecture %s: every layer needs a name of its own, got %q twice or empty", a.Name, l.Name)
		}
		names[l.Name] = true
		next, params, err := rule.shape(l, shape)
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.Name, err)
		}
		shape = next
		out = append(out, LayerShape{Layer: l, Output: shape, Params: params})
	}
	if product(shape) != product(a.Input) {
		return nil, fmt.Errorf("architecture %s: output %v does not match input %v", a.Name, shape, a.Input)
	}
	if err := a.checkOutput(); err != nil {
		return nil, err
	}
	return out, nil
}

// Params returns the trainable parameters of the whole model, the encoder and the decoder.
func (a Architecture) Params() (total, encoder, decoder int) {
	shapes, err := a.Shapes()
	if err != nil {
		return 0, 0, 0
	}
	for _, s := range shapes {
		total += s.Params
		if s.Encoder {
			encoder += s.Params
		} else {
			decoder += s.Params
		}
	}
	return total, encoder, decoder
}

// LatentShape is the shape of the code the encoder outputs, without the batch axis:
// [32] for the dense models, [7 7 32] for the convolutional one.
func (a Architecture) LatentShape() []int {
	shapes, err := a.Shapes()
	if err != nil {
		return nil
	}
	var latent []int
	for _, s := range shapes {
		if s.Encoder {
			latent = s.Output
		}
	}
	return latent
}

// LatentSize is the number of values in one code.
func (a Architecture) LatentSize() int { return product(a.LatentShape()) }

// CompressionRatio is input size / code size: 24.5 for 784 → 32.
func (a Architecture) CompressionRatio() float64 {
	return float64(product(a.Input)) / float64(a.LatentSize())
}

// Path describes the compression path, e.g. "784 → 256 → 128 → 32" or "28×28×1 → 7×7×32".
func (a Architecture) Path() string {
	shapes, err := a.Shapes()
	if err != nil {
		return a.Name
	}
	steps := []string{formatShape(a.Input)}
	for _, s := range shapes {
		if s.Kind == KindReshape && s.Encoder {
			steps[0] = formatShape(s.Output)
			continue
		}
		if !s.Encoder {
			break
		}
		if s.Kind == KindDense || s.Kind == KindGaussian {
			steps = append(steps, formatShape(s.Output))
		}
	}
	if len(steps) == 1 {
		steps = append(steps, formatShape(a.LatentShape()))
	}
	return strings.Join(steps, " → ")
}

func formatShape(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return strings.Join(parts, "×")
}

func product(s []int) int {
	p := 1
	for _, d := range s {
		p *= d
	}
	return p
}

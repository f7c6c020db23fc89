package aelib_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/aelib/data"
	"github.com/gomlx/gomlx/core/graph"
)

// The course's architectures, their parameter counts and compression.
func ExampleArchitecture_Params() {
	for _, a := range []aelib.Architecture{aelib.Vanilla(), aelib.Deep(), aelib.ConvDenoising(32)} {
		total, enc, dec := a.Params()
		fmt.Printf("%-8s %8s = %s + %s, %s\n", a.Name, aelib.Thousands(total), aelib.Thousands(enc), aelib.Thousands(dec), a.Path())
	}
	// Output:
	// vanilla   476,720 = 237,984 + 238,736, 784 → 256 → 128 → 32
	// deep      222,384 = 110,816 + 111,568, 784 → 128 → 64 → 32
	// denoise    28,353 = 9,568 + 18,785, 28×28×1 → 7×7×32
}

// A Keras-style summary of the deep autoencoder.
func ExampleArchitecture_Summary() {
	s, err := aelib.Deep().Summary()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Total, s.Latent, s.Ratio)
	// Output: 222384 [32] 24.5
}

// Train the vanilla autoencoder briefly on a subset of MNIST, then compress and reconstruct.
func ExampleAutoencoder_Train() {
	cfg, _ := aelib.DefaultConfig(aelib.ModelVanilla)
	cfg.Epochs, cfg.TrainSubset, cfg.TestSubset = 2, 1000, 200
	ds, err := data.Load(cfg.Dataset)
	if err != nil {
		log.Fatal(err)
	}
	ae, err := aelib.New(cfg) // on the backend aelib.ChooseBackend picks
	if err != nil {
		log.Fatal(err)
	}
	hist, err := ae.Train(context.Background(), aelib.PrepareSplits(cfg, ds), aelib.TrainOptions{})
	if err != nil {
		log.Fatal(err)
	}
	codes, _ := ae.Encode(ds.Test.Images[:784], 1)
	images, _ := ae.Decode(codes, 1)
	fmt.Println(len(hist.Epochs), "epochs;", len(codes), "numbers per code;", len(images), "pixels back")
	// Output: 2 epochs; 32 numbers per code; 784 pixels back
}

// Define an autoencoder of your own — layers, a dropout, a tanh code and a penalty on the code —
// and train it through the same engine as the built-in models, on any backend. Layers without a
// hand-written gradient (Dropout, tanh) train with graph.Gradient's.
func ExampleNewCustom() {
	arch := aelib.Architecture{Name: "my-ae", Input: []int{data.Pixels}, Layers: []aelib.Layer{
		{Name: "enc1", Kind: aelib.KindDense, Units: 128, Activation: aelib.ActReLU, Encoder: true},
		{Name: "drop", Kind: aelib.KindDropout, Rate: 0.1, Encoder: true},
		{Name: "code", Kind: aelib.KindDense, Units: 16, Activation: aelib.ActTanh, Encoder: true},
		{Name: "dec1", Kind: aelib.KindDense, Units: 128, Activation: aelib.ActReLU},
		{Name: "output", Kind: aelib.KindDense, Units: data.Pixels, Activation: aelib.ActSigmoid},
	}, Penalties: []aelib.Penalty{{Name: "code_l2", Term: func(t aelib.Trace) *graph.Node {
		perExample := graph.ReduceSum(graph.Square(t.Code()), 1)
		return graph.MulScalar(aelib.MaskedMean(perExample, t.Mask()), 1e-3)
	}}}}
	cfg, _ := aelib.DefaultConfig(aelib.ModelVanilla) // the common settings: dataset, batch, Adam, seed
	cfg.Epochs, cfg.TrainSubset, cfg.TestSubset = 2, 1000, 200
	ds, err := data.Load(cfg.Dataset)
	if err != nil {
		log.Fatal(err)
	}
	ae, err := aelib.NewCustom(arch, cfg)
	if err != nil {
		log.Fatal(err)
	}
	hist, err := ae.Train(context.Background(), aelib.PrepareSplits(ae.Config, ds), aelib.TrainOptions{})
	if err != nil {
		log.Fatal(err)
	}
	summary, _ := arch.Summary()
	fmt.Println(ae.Config.Model, arch.LossName(), aelib.Thousands(summary.Total), "parameters,", len(hist.Epochs), "epochs")
	// Output: my-ae bce+code_l2 205,856 parameters, 2 epochs
}

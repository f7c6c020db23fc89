package aelib_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/aelib/data"
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

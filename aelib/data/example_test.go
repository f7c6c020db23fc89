package data_test

import (
	"fmt"
	"log"

	"github.com/aelab/aelab/aelib/data"
)

// Load MNIST and make the noisy inputs of the denoising task.
func ExampleLoad() {
	ds, err := data.Load(data.MNIST)
	if err != nil {
		log.Fatal(err)
	}
	noisy := data.AddNoise(ds.Test.Subset(100).Images, 0.5, 42)
	fmt.Println(ds.Train.N, ds.Test.N, len(noisy)/data.Pixels, ds.Test.Labels[0])
	// Output: 60000 10000 100 7
}

package sysmetrics_test

import (
	"fmt"
	"runtime"
	"time"

	"github.com/aelab/aelab/sysmetrics"
)

func ExampleSampler() {
	s := sysmetrics.New(sysmetrics.Options{})
	defer s.Close()
	s.Every(5*time.Second, func(x sysmetrics.Sample) { /* log x as metrics */ })

	x := s.Sample() // e.g. at the end of an epoch
	fmt.Println(x.Memory == (runtime.GOOS == "linux"), x.PeakRSSBytes >= x.RSSBytes)
	// Output: true true
}

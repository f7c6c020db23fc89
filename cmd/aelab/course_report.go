package main

import (
	"io"

	"github.com/aelab/aelab/tracker"
)

// writeCourseReport writes the comparison report of the latest runs (reports package).
func writeCourseReport(store *tracker.Store, dir string, stdout io.Writer) error {
	return nil
}

// Package notebooks holds aelab's GoNB notebooks (NN_name.ipynb, one per course section) and
// the test that executes them headless.
//
// The notebooks import aelab from this working tree: their first cell adds a require and a
// replace of github.com/aelab/aelab pointing at the folder above the notebook, pins every other
// module, and sets `%goflags -tags=onnx`. Every GoNB cell is its own program, so training cells
// leave their run (and checkpoint) in the experiment store and later cells load the latest run
// tagged with the notebook's name (experiments.Latest).
//
// AELAB_QUICK=1 selects short settings (few epochs, data subsets); AELAB_DB selects the store.
// `go test ./notebooks/` runs every notebook in quick mode against a temporary store with
// `jupyter nbconvert --execute` (see notebooks_test.go); `make notebooks` runs them with the
// course's settings (QUICK=1 for the short ones). Shared drawing code is in package nbplot.
package notebooks

// Package notebooks holds aelab's GoNB notebooks (NN_name.ipynb, one per course section) and
// the test that executes them headless.
//
// The notebooks import aelab from this working tree: their setup cell runs kernel-setup.sh,
// which adds a require and a replace of github.com/aelab/aelab pointing at the folder above the
// notebook and pins every other module at aelab's versions, sets `%goflags -tags=onnx`, and
// declares `nb`, the notebook for package nbkit (what the notebooks share). Every GoNB cell is
// its own program, so training cells (nb.Train, with a live chart) leave their run and
// checkpoint in the experiment store, and later cells load the latest run tagged with the
// notebook's name (nb.Latest). A training cell takes its settings as flags: `%% --epochs=3`.
//
// AELAB_QUICK=1 selects short settings (few epochs, data subsets); AELAB_DB selects the store.
// `go test ./notebooks/` runs every notebook in quick mode against a temporary store with
// `jupyter nbconvert --execute` (see notebooks_test.go); `make notebooks` runs them with the
// course's settings (QUICK=1 for the short ones); lab_test.go runs 02 in Chromium under `make
// lab`. Shared drawing code is in package nbplot.
package notebooks

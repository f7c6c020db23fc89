// Package experiments is where aelab's training meets its experiment store: the course's runs
// as named presets, and Run, which starts a tracker run with the full config and environment,
// trains through aelib's Observer (logging every epoch), evaluates on the test split, saves the
// checkpoint and finishes the run — FINISHED, or FAILED/KILLED with its reason.
//
// The command line, the notebooks and `make run` all train through Run, so every run lands in
// the same store. It is the only package that imports both aelib and tracker.
package experiments

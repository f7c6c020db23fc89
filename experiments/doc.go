// Package experiments is where aelab's training meets its experiment store: the course's runs
// as presets of aelib's variant registry, the metric schema, the config flags, and Run, which
// starts a tracker run with the full config and environment, trains through aelib's Observer
// (logging every epoch), evaluates on the test split, saves the checkpoint and finishes the run
// — FINISHED, or FAILED/KILLED with its reason.
//
// The metric schema (Metrics, LookupMetric, and a variable per metric: ValBCE, TestMSE, …)
// declares every metric once — name, per-epoch or final, unit, better direction, format — and
// everything that logs or shows metrics reads it: Run logs through LogEpoch and LogResults (which
// a test fixture can call with made-up results), the CLI, the reports and the notebooks take
// names, titles and formats from it.
//
// ConfigFlags are the flags that build an aelib.Config, defined once for `aelab train` and
// `aelab bench`, sweep specs (Set) and notebook cells (CellFlags).
//
// A program's own autoencoder (an aelib.Architecture, Spec.Arch) trains through Run like a
// registry model, with the settings every model reads (ConfigFlags.CustomConfig); its run
// stores the architecture with its config, which ArchitectureOf reads back for reports, the
// web UI and Reproduce.
//
// The command line, the notebooks and `make run` all train through Run, so every run lands in
// the same store. It is the only package that imports both aelib and tracker.
package experiments

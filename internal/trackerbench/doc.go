// Package trackerbench measures the experiment store on both backends, SQLite and PostgreSQL,
// at the size a lab reaches: 10,000 runs with about 1,000,000 metric rows, logged the way
// experiments.Run logs a training (config, params, environment tags, every epoch's metrics
// through experiments.LogEpoch, the final evaluation through LogResults).
//
//	go test -run '^$' -bench . -benchtime 5x ./internal/trackerbench
//
// The SQLite store is written once into build/trackerbench/ (a couple of minutes on a
// 2-core machine) and kept; the PostgreSQL one is copied from it (tracker.Copy, what
// `aelab runs push` does) into a throwaway server at each run. cmd/aelab's benchmark of
// `aelab runs list --json` reads the same stores.
package trackerbench

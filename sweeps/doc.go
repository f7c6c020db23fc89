// Package sweeps runs hyperparameter sweeps: a spec (a small YAML file) says which settings of
// a model to vary and how (grid values, or random draws from choices, uniform, log-uniform and
// integer ranges, times seeds), what metric to optimise, and whether to stop poor trials
// early (a median rule or ASHA). Every trial is an ordinary run of the experiment store,
// trained by experiments.Run and tagged with its sweep and trial index. A spec may instead
// name a command: any program, which each trial runs with its parameters as --name=value
// arguments, tracked as `aelab run` tracks it (command.go).
//
// The queue is River (github.com/riverqueue/river), in the store's own database: on the
// embedded SQLite store through riversqlite, on a shared PostgreSQL store through
// riverdatabasesql, both over a database/sql pool the store opens (tracker.Store.OpenDB), so
// the same job code serves both. Create records a sweep and enqueues its trials in one transaction of the store;
// workers (NewWorker, on any machine that reaches the database) take trials from a queue.
// River does the queueing, the uniqueness of each (sweep, trial), retries, the rescue of a
// trial whose worker died, and cancellation; this package never re-implements any of it.
//
//	spec, err := sweeps.ReadSpec("denoise.yaml")
//	sw, err := sweeps.RunLocal(ctx, store, spec, sweeps.LocalOptions{Workers: 2}) // one machine
//
//	sw, err := sweeps.Create(ctx, store, spec, sweeps.Options{})                  // many machines:
//	w, err := sweeps.NewWorker(ctx, store, sweeps.WorkerOptions{Queue: sweeps.QueueCPU})
//	err = w.Start(ctx)                                                             // on each of them
//
// # Timing of rescues
//
// River rescues a trial whose worker died (SIGKILL, a machine gone) only once the trial has
// been running longer than its timeout: the spec's trial_timeout (default 1 h) plus 10 s to
// wind down, checked by River every 30 s. A worker that is alive stops its trial at
// trial_timeout, so no trial ever trains on two workers at once. Set trial_timeout a little
// above the longest trial you expect: a dead worker's trial is retried that long after it
// started. The retry is a new run; the dead one is marked LOST and both are linked by the
// tags sweep.retry_of and sweep.retried_by.
package sweeps

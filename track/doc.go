// Package track tracks any Go program's runs in aelab's experiment store, and runs any
// program, in any language, as a tracked run.
//
// A run is started with its experiment, name, parameters and tags, logs metrics by step and
// artifacts by path, and ends with the program's error:
//
//	run, err := track.Start(ctx, track.Options{Experiment: "mnist-mlp", Params: map[string]string{"lr": "0.01"}})
//	if err != nil {
//		log.Print(err) // the run logs nothing; training goes on
//	}
//	for step := range steps {
//		run.Log(int64(step), map[string]float64{"loss": loss})
//	}
//	run.LogArtifact("model.ckpt")
//	run.End(trainErr) // FINISHED, FAILED with trainErr, or KILLED
//
// The store is Options.DB, else $AELAB_DB, else the default store (`aelab runs list` and
// `aelab ui` read the same one). A run's methods are safe for concurrent use and never stop
// the program: when the store is unreachable for a while the tracker keeps the values and
// writes them later; a value it refuses for good is said once on stderr, the others are
// counted, and End names the count in the run's reason.
//
// # How a run ends
//
// End(nil) ends the run FINISHED, End(err) FAILED with err as the reason. It ends KILLED
// when the context given to Start was cancelled, when err is a context.Canceled, or on the
// first SIGINT or SIGTERM: the run is recorded KILLED at once, and the signal is then
// delivered as if the run were not there (Options.NoSignals turns this off). A program that
// dies without End leaves its run RUNNING until readers call it LOST.
//
// # Programs in other languages: RunCommand and `aelab run`
//
// RunCommand (the code of `aelab run -- CMD ARGS…` and of program sweeps) runs a program as a
// run: it records the command and its environment (without variables whose names hold
// PASSWORD, TOKEN, SECRET or the like, and without database passwords), passes the run to the
// program in AELAB_RUN_ID and AELAB_DB, and logs the lines of its stdout that are name=value
// pairs, Katib's format:
//
//	epoch=3 loss=0.25 val_loss=0.31
//
// logs loss and val_loss at step 3 of epoch 3; step=N sets the step alone; a line without
// either logs at the step after the last. Names are letters, digits, '_', '.', '-' and '/'
// (at most MaxMetricName characters); values are finite numbers; a line with a bad pair is
// not logged and is counted. The output goes through unchanged. Exit status 0 ends the run
// FINISHED, another FAILED with the last lines of the program's stderr, a signal KILLED.
//
// A Go program started that way that calls Start attaches to the run in AELAB_RUN_ID instead
// of starting its own: it logs into it, and the program that started it records how it ends.
//
// The GoMLX hook, one call that attaches a run to a train.Loop, is package
// github.com/aelab/aelab/track/gomlxhook.
package track

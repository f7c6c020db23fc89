// Package gomlxhook attaches an aelab run to a GoMLX training loop (train.Loop of
// github.com/gomlx/gomlx/ml/train) with one call, and imports the training history GoMLX
// leaves in a checkpoint folder.
//
//	run, err := track.Start(ctx, track.Options{Experiment: "mnist-mlp"})
//	loop := train.NewLoop(trainer)
//	gomlxhook.Attach(loop, run, gomlxhook.Options{
//		TrainEvery: 50, EvalEvery: 500, EvalDatasets: []train.Dataset{testDS},
//		Checkpoint: checkpointHandler,
//	})
//	_, err = loop.RunSteps(trainDS, 10_000)
//	run.End(err)
//
// The run gets the model store's hyperparameters (model.Store.SetParams, GoMLX's -set flags)
// as params, the trainer's train metrics every TrainEvery steps, Trainer.Eval's metrics on
// each evaluation dataset every EvalEvery steps and at the end, the handler's checkpoints as
// artifacts, and the process's CPU, memory and GPU use as system.* metrics. Metric names are
// GoMLX's, as its plot collector writes them, in snake case: train_loss,
// train_moving_average_loss, mean_loss_on_test.
//
// Import reads a checkpoint folder's training_plot_points.json — what GoMLX's plotters save
// (ui/plot) — and its latest checkpoint's params into a new run, with the same metric names,
// so trainings done before aelab sit beside those done with it (`aelab import gomlx DIR`).
package gomlxhook

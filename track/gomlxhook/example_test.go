package gomlxhook_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/aelab/aelab/track"
	"github.com/aelab/aelab/track/gomlxhook"
	"github.com/aelab/aelab/tracker"
)

func ExampleAttach() {
	dir, _ := os.MkdirTemp("", "gomlxhook-example")
	defer os.RemoveAll(dir)
	db := filepath.Join(dir, "aelab.db") // a program would leave DB empty: $AELAB_DB or the default store

	// A GoMLX training loop: linear regression on the pure-Go backend.
	backend, err := gobackend.New("")
	if err != nil {
		log.Fatal(err)
	}
	store := model.NewStore()
	store.SetParams(map[string]any{optimizer.ParamLearningRate: 0.05})
	trainer := train.NewTrainer(backend, store, linearModel, loss.MeanSquaredError, optimizer.Adam().Done(), nil, nil)
	loop := train.NewLoop(trainer)
	trainDS, testDS := newLinearData("train", 256, 32, 1<<30, 1), newLinearData("test", 128, 64, 2, 2)

	// One call attaches the run to the loop.
	run, err := track.Start(context.Background(), track.Options{DB: db, Experiment: "gomlx", Name: "linear"})
	if err != nil {
		log.Print(err)
	}
	gomlxhook.Attach(loop, run, gomlxhook.Options{TrainEvery: 10, EvalEvery: 20, EvalDatasets: []train.Dataset{testDS}})
	_, err = loop.RunSteps(trainDS, 40)
	run.End(err)

	s, _ := tracker.OpenReadOnly(db)
	defer s.Close()
	rec, _ := s.GetRun(run.ID())
	h, _ := s.MetricHistories(run.ID())
	fmt.Println(rec.Status, "learning_rate:", rec.Params[optimizer.ParamLearningRate])
	for _, key := range []string{"train_loss", "train_moving_average_loss", "mean_loss_on_test"} {
		var steps []int64
		for _, p := range h[key] {
			steps = append(steps, p.Step)
		}
		fmt.Println(key, steps)
	}
	fmt.Println("memory sampled:", len(h["system.rss_bytes"]) > 0)
	// Output:
	// FINISHED learning_rate: 0.05
	// train_loss [10 20 30 40]
	// train_moving_average_loss [10 20 30 40]
	// mean_loss_on_test [20 40]
	// memory sampled: true
}

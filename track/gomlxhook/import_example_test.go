package gomlxhook_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/gomlx/gomlx/ui/plot"

	"github.com/aelab/aelab/track/gomlxhook"
	"github.com/aelab/aelab/tracker"
)

func ExampleImport() {
	dir, _ := os.MkdirTemp("", "gomlx-import-example")
	defer os.RemoveAll(dir)
	// A checkpoint folder as GoMLX's plotters leave it: their points, saved by plot's writer.
	ckpt := filepath.Join(dir, "mnist-mlp")
	os.Mkdir(ckpt, 0o755)
	w, done := plot.CreatePointsWriter(filepath.Join(ckpt, plot.TrainingPlotFileName))
	w <- plot.Point{MetricName: "Train: Moving Average Loss", MetricType: "loss", Step: 100, Value: 0.8}
	w <- plot.Point{MetricName: "Mean Loss on test", MetricType: "loss", Step: 100, Value: 0.9}
	w <- plot.Point{MetricName: "Train: Moving Average Loss", MetricType: "loss", Step: 200, Value: 0.4}
	close(w)
	if err := <-done; err != nil {
		log.Fatal(err)
	}

	store, err := tracker.Open(filepath.Join(dir, "aelab.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	res, err := gomlxhook.Import(store, ckpt, gomlxhook.ImportOptions{})
	if err != nil {
		log.Fatal(err)
	}
	rec, _ := store.GetRun(res.RunID)
	fmt.Println(rec.Experiment, rec.Name, rec.Status, res.Points, "values at", res.Steps, "steps")
	fmt.Println(rec.Metrics["train_moving_average_loss"], rec.Metrics["mean_loss_on_test"])
	// Output:
	// gomlx-import mnist-mlp FINISHED 3 values at 2 steps
	// 0.4 0.9
}

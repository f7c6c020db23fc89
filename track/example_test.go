package track_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/aelab/aelab/track"
	"github.com/aelab/aelab/tracker"
)

// exampleDB is a store in a fresh temporary folder (a program would leave DB empty and log
// into $AELAB_DB or the default store).
func exampleDB() (path string, cleanup func()) {
	dir, err := os.MkdirTemp("", "track-example")
	if err != nil {
		log.Fatal(err)
	}
	return filepath.Join(dir, "aelab.db"), func() { os.RemoveAll(dir) }
}

func ExampleStart() {
	db, cleanup := exampleDB()
	defer cleanup()

	run, err := track.Start(context.Background(), track.Options{DB: db, Experiment: "mlp", Name: "lr-0.1",
		Params: map[string]string{"lr": "0.1"}, Tags: map[string]string{"team": "vision"}})
	if err != nil {
		log.Print(err) // the run logs nothing, training goes on
	}
	for step := int64(1); step <= 3; step++ {
		run.Log(step, map[string]float64{"loss": 1 / float64(step)})
	}
	run.LogMetric("accuracy", 0.9, 3)
	fmt.Println(run.End(nil))

	store, _ := tracker.OpenReadOnly(db)
	defer store.Close()
	rec, _ := store.GetRun(run.ID())
	fmt.Println(rec.Experiment, rec.Name, rec.Status, rec.Params["lr"], rec.Tags["team"])
	fmt.Printf("loss %.3f accuracy %.1f\n", rec.Metrics["loss"], rec.Metrics["accuracy"])
	// Output:
	// <nil>
	// mlp lr-0.1 FINISHED 0.1 vision
	// loss 0.333 accuracy 0.9
}

func ExampleRun_End() {
	db, cleanup := exampleDB()
	defer cleanup()

	run, _ := track.Start(context.Background(), track.Options{DB: db, Experiment: "mlp"})
	run.Log(1, map[string]float64{"loss": 0.5})
	run.End(errors.New("out of memory at step 2"))

	store, _ := tracker.OpenReadOnly(db)
	defer store.Close()
	rec, _ := store.GetRun(run.ID())
	fmt.Println(rec.Status, rec.Error)
	// Output: FAILED out of memory at step 2
}

func ExampleRun_LogArtifact() {
	db, cleanup := exampleDB()
	defer cleanup()
	figure := filepath.Join(filepath.Dir(db), "loss.png")
	os.WriteFile(figure, []byte("png"), 0o644)

	run, _ := track.Start(context.Background(), track.Options{DB: db})
	run.LogArtifact(figure)
	run.End(nil)

	store, _ := tracker.OpenReadOnly(db)
	defer store.Close()
	rec, _ := store.GetRun(run.ID())
	fmt.Println(len(rec.Artifacts), rec.Artifacts[0].Kind, filepath.Base(rec.Artifacts[0].Path))
	// Output: 1 file loss.png
}

func ExampleRunCommand() {
	db, cleanup := exampleDB()
	defer cleanup()

	res, err := track.RunCommand(context.Background(), track.Command{
		Args:    []string{"sh", "-c", `echo "epoch=1 loss=0.5"; echo "epoch=2 loss=0.25"; echo done`},
		Options: track.Options{DB: db, Experiment: "programs", Name: "sh"},
		Stdout:  os.Stdout,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Status, res.ExitCode, res.MetricLines)

	store, _ := tracker.OpenReadOnly(db)
	defer store.Close()
	h, _ := store.MetricHistory(res.RunID, "loss")
	for _, p := range h {
		fmt.Println(p.Step, p.Value)
	}
	// Output:
	// epoch=1 loss=0.5
	// epoch=2 loss=0.25
	// done
	// FINISHED 0 2
	// 1 0.5
	// 2 0.25
}

func ExampleParseMetricLine() {
	for _, line := range []string{"epoch=3 loss=0.25 val_loss=0.31", "step=10 acc=0.9", "Epoch 3: loss 0.25", "loss=NaN"} {
		m, ok, bad := track.ParseMetricLine(line)
		fmt.Println(ok, bad, m.Step, m.Values)
	}
	// Output:
	// true false 3 map[loss:0.25 val_loss:0.31]
	// true false 10 map[acc:0.9]
	// false false 0 map[]
	// false true 0 map[]
}

func ExampleScrubbedEnv() {
	env := track.ScrubbedEnv([]string{"HOME=/home/ada", "GITHUB_TOKEN=ghp_x", "DB_PASSWORD=x", "AELAB_DB=postgres://ada:s3cret-pw@db:5432/lab"})
	fmt.Println(env)
	// Output: map[AELAB_DB:postgres://ada:***@db:5432/lab HOME:/home/ada]
}

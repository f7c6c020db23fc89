package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/tracker"
	"github.com/aelab/aelab/web"
)

// A server on a store, on a free loopback port, asked for its runs through the JSON API.
func ExampleServer_Serve() {
	dir, _ := os.MkdirTemp("", "aelab-web-example")
	defer os.RemoveAll(dir)
	store, err := tracker.Open(filepath.Join(dir, "aelab.db")) // usually tracker.OpenExisting(tracker.DefaultPath())
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	run, _ := store.StartRun(tracker.RunSpec{Name: "first", Params: map[string]string{"model": "vanilla"}})
	experiments.LogEpoch(run, aelib.EpochMetrics{Epoch: 1, Step: 10, ValLoss: 0.12}) // as experiments.Run logs an epoch
	run.Finish(tracker.StatusFinished, "")

	srv, err := web.New(store, web.Options{})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0") // beyond loopback, Options.Token is required
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.Serve(ctx, ln) }()

	res, err := http.Get("http://" + ln.Addr().String() + "/api/runs?col=params.model&col=metrics." + experiments.ValBCE.Name)
	if err != nil {
		log.Fatal(err)
	}
	var page struct {
		Total int
		Runs  []tracker.RunRow
	}
	json.NewDecoder(res.Body).Decode(&page)
	res.Body.Close()
	r := page.Runs[0]
	fmt.Println(page.Total, r.Name, r.Status, r.Params["model"], r.Metrics[experiments.ValBCE.Name].Value)

	stop() // Serve shuts down when its context ends
	select {
	case err := <-done:
		fmt.Println("stopped:", err)
	case <-time.After(10 * time.Second):
		fmt.Println("still serving")
	}
	// Output:
	// 1 first FINISHED vanilla 0.12
	// stopped: <nil>
}

package reports_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/aelab/aelab/reports"
	"github.com/aelab/aelab/sweeps"
	"github.com/aelab/aelab/tracker"
)

// Build compares the latest FINISHED run of each model in the store; WriteDir writes
// index.html, report.md and the figures; HTML is the same report as a fragment for a notebook
// cell (gonbui.DisplayHTML(rep.HTML())).
func ExampleBuild() {
	store, err := tracker.Open(tracker.DefaultPath())
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	rep, err := reports.Build(store, reports.Options{})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := rep.WriteDir("build/report"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(rep.AuditSummary())
}

// A query shows every matching run, e.g. all seeds of the deep model.
func ExampleBuild_where() {
	store, err := tracker.Open(tracker.DefaultPath())
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	rep, err := reports.Build(store, reports.Options{Where: `params.model = "deep" and attributes.status = "FINISHED"`})
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range rep.Claims {
		fmt.Printf("§%s %s: course %s, measured %s (%s): %s\n", c.Section, c.Text, c.CourseText(), c.MeasuredText(), c.RunIDs(), c.VerdictText())
	}
}

// BuildSweep reads a sweep's trials and their runs from the store; this one is queued, and no
// worker has taken a trial yet.
func ExampleBuildSweep() {
	dir, err := os.MkdirTemp("", "aelab-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := tracker.Open(filepath.Join(dir, "aelab.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	spec, err := sweeps.ParseSpec("lr.yaml", []byte("name: lr\nmodel: vanilla\nparameters:\n  lr: [0.001, 0.003]\n"))
	if err != nil {
		log.Fatal(err)
	}
	sw, err := sweeps.Create(context.Background(), store, spec, sweeps.Options{})
	if err != nil {
		log.Fatal(err)
	}
	rep, err := reports.BuildSweep(store, sw.ID, reports.SweepOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rep.Sweep.Name, rep.Sweep.Metric, rep.Counts())
	for _, t := range rep.Trials {
		fmt.Println(t.Index, t.Describe(rep.Sweep.Parameters), t.State)
	}
	fmt.Println("best:", rep.Best)
	// Output:
	// lr val_bce 2 queued
	// 0 lr=0.001 queued
	// 1 lr=0.003 queued
	// best: <nil>
}

// ParseFormats reads a --format list: the formats a report is written in.
func ExampleParseFormats() {
	fmt.Println(reports.ParseFormats(""))
	fmt.Println(reports.ParseFormats("md, HTML"))
	_, err := reports.ParseFormats("pdf")
	fmt.Println(err)
	// Output:
	// [html md] <nil>
	// [md html] <nil>
	// unknown report format "pdf" (known: html, md)
}

// Claims are the course's numbers that a report checks against the runs.
func ExampleClaims() {
	for _, c := range reports.Claims()[:3] {
		fmt.Printf("%s §%s: %s (course: %s)\n", c.ID, c.Section, c.Text, c.CourseText())
	}
	// Output:
	// params-vanilla §1.2: Vanilla autoencoder: Total params: 476,720 (course: 476,720)
	// size-vanilla-f32 §1.3: Vanilla model size ~1.82 MB (float32) (course: 1.82 MB)
	// size-vanilla-f16 §1.3: Vanilla model size ~0.91 MB (float16) (course: 0.91 MB)
}

package reports_test

import (
	"fmt"
	"log"

	"github.com/aelab/aelab/reports"
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

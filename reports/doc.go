// Package reports compares tracked runs: it reads runs back from the tracker, loads their
// checkpoints for pictures of reconstructions (never retraining), audits the course's numeric
// claims against the measurements, and renders the result as HTML (a self-contained page, or a
// fragment for a GoNB notebook cell) and Markdown, with PNG and SVG figures drawn with
// gonum/plot.
//
//	store, _ := tracker.Open(tracker.DefaultPath())
//	rep, err := reports.Build(store, reports.Options{})            // latest FINISHED run per model
//	rep, err = reports.Build(store, reports.Options{Where: `params.model = "deep"`}) // every match
//	gonbui.DisplayHTML(rep.HTML())                                 // in a notebook
//	_, err = rep.WriteDir("build/report")                           // index.html, report.md, figures
//
// Every number in a report comes from the store; the only numbers written in this package are
// the course's claims being checked (see [Claims]).
package reports

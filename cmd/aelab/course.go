package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"

	"github.com/aelab/aelab/aelib/data"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/reports"
)

func runCourse(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("course", stderr)
	quick := fs.Bool("quick", false, "a short demo: few epochs, a data subset for the conv model")
	beyond := fs.Bool("beyond", false, "also train the sparse, contractive and variational autoencoders")
	db := storeFlag(fs)
	out := fs.String("out", "build/report", "folder for the comparison report")
	progress := progressFlag(fs)
	if err := parseFlagsOnly(fs, args); err != nil {
		return helpOr(err)
	}
	store, err := openStore(*db)
	if err != nil {
		return err
	}
	defer store.Close()
	ds, err := data.Load(data.MNIST)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var results []*experiments.Result
	presets := experiments.Presets()
	if *beyond {
		presets = append(presets, experiments.BeyondPresets()...)
	}
	for _, p := range presets {
		cfg := p.Config
		if *quick {
			cfg = cfg.Quick()
		}
		fmt.Fprintf(stdout, "\n== §%s %s: %d epochs, batch %d\n", p.Section, p.Title, cfg.Epochs, cfg.BatchSize)
		tags := map[string]string{"course_run": "full"}
		if *quick {
			tags["course_run"] = "quick"
		}
		res, err := experiments.Run(ctx, store, experiments.Spec{Config: cfg, Section: p.Section, Source: "course", Tags: tags},
			experiments.Options{ProgressBar: *progress, Log: stdout, Data: ds})
		if err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		results = append(results, res)
	}
	fmt.Fprintln(stdout)
	printComparison(stdout, results)
	fmt.Fprintf(stdout, "\nruns logged in %s (aelab runs list)\n", store.Path())
	fmt.Fprintln(stdout)
	return writeReport(store, reports.Options{}, *out, []string{reports.FormatHTML, reports.FormatMarkdown}, stdout)
}

// printComparison prints one row per trained model: size, speed and quality, as the metric
// schema names and formats them.
func printComparison(w io.Writer, results []*experiments.Result) {
	columns := []experiments.Metric{experiments.ParamCount, experiments.ModelBytesF32, experiments.SecondsPerEpoch,
		experiments.TestMSE, experiments.TestPSNR, experiments.TestSSIM, experiments.NoisyMSE, experiments.DenoisedMSE}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "model\tepochs\t" + experiments.ValBCE.Title + "\t"
	for _, m := range columns {
		head += m.Title + "\t"
	}
	fmt.Fprintln(tw, head+"run\t")
	for _, r := range results {
		valBCE := "–"
		if n := len(r.History.Epochs); n > 0 {
			valBCE = experiments.ValBCE.Format(r.History.Epochs[n-1].ValLoss)
		}
		row := fmt.Sprintf("%s\t%d\t%s\t", r.Model.Config.Model, len(r.History.Epochs), valBCE)
		for _, m := range columns {
			if v, ok := m.Of(r); ok {
				row += m.Format(v) + "\t"
			} else {
				row += "–\t"
			}
		}
		fmt.Fprintln(tw, row+r.RunID[:8]+"\t")
	}
	tw.Flush()
}

package nbkit

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/aelib/data"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/notebooks/nbplot"
	"github.com/aelab/aelab/tracker"
)

// Notebook is what a notebook's cells share: its name and course section, which tag its runs,
// and the training settings a cell's flags give. Declare it once in the setup cell,
// `var nb = nbkit.New("02_vanilla", "1.2")`: GoNB keeps the declaration for every later cell,
// each of which is a program of its own.
type Notebook struct {
	Name    string // tags.notebook of its runs
	Section string // tags.section of its runs (a run may name another)
	flags   *experiments.ConfigFlags
}

var (
	cellFlagsOnce sync.Once
	cellFlags     *experiments.ConfigFlags
)

// New is the notebook named name (its file name without .ipynb), for course section section.
// It defines the training flags on the program's command line, which a GoNB cell parses from
// its %% line: `%% --epochs=3 --noise=0.3` (the flags of `aelab train`, experiments.ConfigFlags).
func New(name, section string) *Notebook {
	cellFlagsOnce.Do(func() {
		cellFlags = experiments.CellFlags()
		// A bad flag stops the cell with GoNB's flag.Parse: one line, not the list of every flag.
		flag.CommandLine.Usage = func() {
			fmt.Fprintln(flag.CommandLine.Output(), "a training cell takes the flags of `aelab train` (see aelab train -h), e.g. %% --epochs=3 --noise=0.3")
		}
	})
	return &Notebook{Name: name, Section: section, flags: cellFlags}
}

// Quick reports whether AELAB_QUICK asks for short settings (few epochs, data subsets): the
// test suite runs every notebook so.
func Quick() bool { return os.Getenv("AELAB_QUICK") != "" }

// Must returns v, or stops the cell on an error: the cell then fails, visibly and in headless
// runs. A notebook's setup cell names it: `func must[T any](v T, err error) T { return nbkit.Must(v, err) }`.
func Must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// OpenStore opens the experiment store the command line uses ($AELAB_DB overrides its path);
// the cell closes it.
func OpenStore() *tracker.Store { return Must(tracker.Open(tracker.DefaultPath())) }

// Runs is the filter of this notebook's runs, narrowed by more (tracker's query language; ""
// for all of them).
func (nb *Notebook) Runs(more string) string {
	f := fmt.Sprintf("tags.notebook = %q", nb.Name)
	if more != "" {
		f += " and (" + more + ")"
	}
	return f
}

// Latest loads the newest finished run of this notebook that matches more (see Runs) and its
// trained model: what an earlier cell trained.
func (nb *Notebook) Latest(store *tracker.Store, more string) (*tracker.RunRecord, *aelib.Autoencoder) {
	return Latest(store, nb.Runs(more))
}

// Latest loads the newest finished run of any notebook (or of the command line) that matches
// filter, and its trained model.
func Latest(store *tracker.Store, filter string) (*tracker.RunRecord, *aelib.Autoencoder) {
	run, ae, err := experiments.Latest(store, filter)
	if err != nil {
		panic(err)
	}
	return run, ae
}

// History is one per-epoch metric of a run as a chart series named label.
func History(store *tracker.Store, run *tracker.RunRecord, key, label string) nbplot.Series {
	s := nbplot.Series{Name: label}
	for _, p := range Must(store.MetricHistory(run.ID, key)) {
		s.X = append(s.X, float64(p.Epoch))
		s.Y = append(s.Y, p.Value)
	}
	return s
}

// Run says how Train labels a run and what it shows.
type Run struct {
	Name    string            // run name; the model's when empty
	Role    string            // tags.role: tells apart runs of one model in a notebook
	Section string            // tags.section; the notebook's when empty
	Tags    map[string]string // more tags
	Data    *data.Dataset     // a data set already loaded (or changed: a digit left out); nil loads cfg.Dataset
	Images  int               // test images whose reconstructions the live view shows (default 8; < 0: none)
	// Arch, when set, is the cell's own autoencoder (aelib.NewCustom), trained in place of
	// cfg's model with cfg's settings (see CustomSettings).
	Arch *aelib.Architecture
}

// Train trains cfg as a run of this notebook, logged to store, and shows it as it goes: a live
// chart of the losses with reconstructions of a few test images, redrawn after every epoch, a
// progress line updated in place, and one line per epoch. It ends with a line naming the run.
func (nb *Notebook) Train(store *tracker.Store, cfg aelib.Config, run Run) *experiments.Result {
	tags := map[string]string{"notebook": nb.Name}
	if run.Role != "" {
		tags["role"] = run.Role
	}
	for k, v := range run.Tags {
		tags[k] = v
	}
	section := run.Section
	if section == "" {
		section = nb.Section
	}
	images := run.Images
	if images == 0 {
		images = 8
	}
	title := cfg.Model + " autoencoder: loss per epoch"
	if run.Arch != nil {
		title = run.Arch.Name + ": loss per epoch"
	}
	if run.Name != "" {
		title = run.Name + ": loss per epoch"
	}
	live := NewLive(nbplot.Chart{Title: title, XLabel: "epoch", YLabel: "binary cross-entropy", Width: 6, Height: 3.2})
	res := Must(experiments.Run(context.Background(), store, experiments.Spec{
		Config: cfg, Arch: run.Arch, Name: run.Name, Section: section, Source: "notebook", Tags: tags,
	}, experiments.Options{Log: os.Stdout, Data: run.Data, ObserveModel: live.Observe(max(images, 0))}))
	fmt.Printf("run %s: %d epochs, %.1f s (%.2f s per epoch)\n", res.RunID[:8], len(res.History.Epochs),
		res.History.Seconds, res.History.SecondsPerEpoch())
	return res
}

// describe is a config's settings in a few words: "3 epochs, 20,000 training images, batch 256"
// (and the data set when it is not MNIST).
func describe(cfg aelib.Config) string {
	parts := []string{fmt.Sprintf("%d epochs", cfg.Epochs)}
	if cfg.Epochs == 1 {
		parts[0] = "1 epoch"
	}
	if cfg.TrainSubset > 0 {
		parts = append(parts, aelib.Thousands(cfg.TrainSubset)+" training images")
	} else {
		parts = append(parts, "all training images")
	}
	parts = append(parts, fmt.Sprintf("batch %d", cfg.BatchSize))
	if cfg.Dataset != data.MNIST {
		parts = append(parts, "data set "+cfg.Dataset)
	}
	if cfg.Noise > 0 {
		parts = append(parts, fmt.Sprintf("noise %g", cfg.Noise))
	}
	return strings.Join(parts, ", ")
}

// Settings is a model's configuration for a training cell: aelab's defaults (the course's, for
// its models), shortened to the model's quick settings in quick mode, changed by the flags on
// the cell's %% line. It prints them in a line. A flag for another model stops the cell.
func (nb *Notebook) Settings(model string) aelib.Config {
	cfg := Must(nb.flags.ConfigFor(model, Quick()))
	fmt.Printf("%s: %s\n", model, describe(cfg))
	return cfg
}

// CustomSettings is the configuration for a training cell of the notebook's own architecture:
// the settings every model reads, at the deep model's defaults, shortened in quick mode
// (experiments.CustomQuick), changed by the flags on the cell's %% line. It prints them in a
// line. A flag only registry models read stops the cell.
func (nb *Notebook) CustomSettings(arch aelib.Architecture) aelib.Config {
	cfg := Must(nb.flags.CustomConfig(arch, Quick()))
	fmt.Printf("%s: %s\n", arch.Name, describe(cfg))
	return cfg
}

// LineWidth is the longest line Wrap leaves: Jupyter breaks a longer printed line wherever its
// output area ends, in the middle of a word.
const LineWidth = 100

// Wrap breaks each line of text at spaces so that no line is longer than LineWidth characters
// (a single longer word stays whole): for printing long messages, such as errors, in a cell.
func Wrap(text string) string {
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		var out []string
		cur := ""
		for _, w := range strings.Split(line, " ") {
			switch {
			case cur == "":
				cur = w
			case utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(w) <= LineWidth:
				cur += " " + w
			default:
				out = append(out, cur)
				cur = w
			}
		}
		lines[i] = strings.Join(append(out, cur), "\n")
	}
	return strings.Join(lines, "\n")
}

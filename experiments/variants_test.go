package experiments

import (
	"context"
	"testing"

	"github.com/aelab/aelab/aelib"
)

// The models beyond the course log their own measures as final metrics, and their settings as params.
func TestRunLogsVariantMetrics(t *testing.T) {
	store := openTestStore(t)
	for _, model := range []string{aelib.ModelSparse, aelib.ModelContractive, aelib.ModelVAE} {
		cfg, err := aelib.DefaultConfig(model)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Epochs, cfg.TrainSubset, cfg.TestSubset = 1, 512, 256
		res, err := Run(context.Background(), store, Spec{Config: cfg, Source: "test"}, Options{})
		if err != nil {
			t.Fatalf("%s: %v", model, err)
		}
		rec, err := store.GetRun(res.RunID)
		if err != nil {
			t.Fatal(err)
		}
		checkAgainstSchema(t, store, rec.ID, res.Model.Config)
		for _, m := range must(aelib.LookupVariant(model)).Measures {
			if v, ok := rec.Metrics[m.Name]; !ok || v != res.Evaluation.Variant[m.Name] {
				t.Errorf("%s: metric %s = %v (%v), evaluation says %v", model, m.Name, v, ok, res.Evaluation.Variant[m.Name])
			}
		}
		if rec.Params["loss"] == "bce" {
			t.Errorf("%s: loss param should name the penalty, params %v", model, rec.Params)
		}
		if _, ok := rec.Metrics[must(aelib.LookupVariant(aelib.ModelSparse)).Measures[0].Name]; ok && model != aelib.ModelSparse {
			t.Errorf("%s logged the sparse model's metrics", model)
		}
	}
}

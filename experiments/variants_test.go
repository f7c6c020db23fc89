package experiments

import (
	"context"
	"testing"

	"github.com/aelab/aelab/aelib"
)

// The models beyond the course log their own measures as final metrics, and their settings as params.
func TestRunLogsVariantMetrics(t *testing.T) {
	store := openTestStore(t)
	for model, keys := range map[string][]string{
		aelib.ModelSparse:      {"mean_activation", "near_zero_share", "dead_units"},
		aelib.ModelContractive: {"jacobian_norm_sq", "code_sensitivity"},
		aelib.ModelVAE:         {"latent_kl"},
	} {
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
		for _, k := range keys {
			if v, ok := rec.Metrics[k]; !ok || v != res.Evaluation.Variant[k] {
				t.Errorf("%s: metric %s = %v (%v), evaluation says %v", model, k, v, ok, res.Evaluation.Variant[k])
			}
		}
		if rec.Params["loss"] == "bce" {
			t.Errorf("%s: loss param should name the penalty, params %v", model, rec.Params)
		}
		if _, ok := rec.Metrics["mean_activation"]; ok && model != aelib.ModelSparse {
			t.Errorf("%s logged the sparse model's metrics", model)
		}
	}
}

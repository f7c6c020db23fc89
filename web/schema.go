package web

// What the UI knows about metric names: titles, units, formats, which direction is better,
// the chart's default metric and the runs table's default columns. The runner in package
// experiments decides these names; this file is the one place the UI spells them, to be
// read from experiments' metric schema once it declares one.

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// metricInfo describes one metric for display.
type metricInfo struct {
	Key    string `json:"key"`
	Title  string `json:"title"`
	Unit   string `json:"unit,omitempty"`
	Better int    `json:"better"` // -1: lower is better; +1: higher is better; 0: neither
	format string // "count", "bytes", "seconds", "percent" or "" (4 significant digits)
}

var metricTable = []metricInfo{
	{Key: "train_loss", Title: "training loss", Better: -1},
	{Key: "val_bce", Title: "validation BCE", Better: -1},
	{Key: "val_mse", Title: "validation MSE", Better: -1},
	{Key: "val_mae", Title: "validation MAE", Better: -1},
	{Key: "epoch_seconds", Title: "seconds per epoch", Unit: "s", Better: -1, format: "seconds"},
	{Key: "test_bce", Title: "test BCE", Better: -1},
	{Key: "test_mse", Title: "test MSE", Better: -1},
	{Key: "test_mae", Title: "test MAE", Better: -1},
	{Key: "test_psnr", Title: "test PSNR", Unit: "dB", Better: +1},
	{Key: "test_ssim", Title: "test SSIM", Better: +1},
	{Key: "test_pearson", Title: "test Pearson correlation", Better: +1},
	{Key: "test_similarity", Title: "test cosine similarity", Better: +1},
	{Key: "params", Title: "parameters", format: "count"},
	{Key: "encoder_params", Title: "encoder parameters", format: "count"},
	{Key: "decoder_params", Title: "decoder parameters", format: "count"},
	{Key: "model_bytes_f32", Title: "model size (float32)", Unit: "B", format: "bytes"},
	{Key: "model_bytes_f16", Title: "model size (float16)", Unit: "B", format: "bytes"},
	{Key: "train_seconds", Title: "training time", Unit: "s", Better: -1, format: "seconds"},
	{Key: "seconds_per_epoch", Title: "seconds per epoch", Unit: "s", Better: -1, format: "seconds"},
	{Key: "compile_seconds", Title: "compile time", Unit: "s", Better: -1, format: "seconds"},
	{Key: "steps_per_epoch", Title: "steps per epoch", format: "count"},
	{Key: "steps_per_second", Title: "steps per second", Unit: "1/s", Better: +1},
	{Key: "final_train_loss", Title: "final training loss", Better: -1},
	{Key: "noisy_mse", Title: "MSE of the noisy inputs"},
	{Key: "denoised_mse", Title: "MSE after denoising", Better: -1},
	{Key: "improvement_pct", Title: "denoising improvement", Unit: "%", Better: +1, format: "percent"},
	{Key: "noisy_psnr", Title: "PSNR of the noisy inputs", Unit: "dB"},
	{Key: "denoised_psnr", Title: "PSNR after denoising", Unit: "dB", Better: +1},
	{Key: "noisy_ssim", Title: "SSIM of the noisy inputs"},
	{Key: "denoised_ssim", Title: "SSIM after denoising", Better: +1},
	{Key: "mean_activation", Title: "mean code activation"},
	{Key: "near_zero_share", Title: "share of near-zero code units"},
	{Key: "dead_units", Title: "dead code units", format: "count"},
	{Key: "jacobian_norm_sq", Title: "encoder Jacobian ‖J‖²"},
	{Key: "code_sensitivity", Title: "code sensitivity"},
	{Key: "latent_kl", Title: "latent KL", Unit: "nats"},
}

// chartMetric is the curve the charts show first: the validation loss of every epoch.
const chartMetric = "val_bce"

// defaultColumns are the runs table's columns until the user chooses others.
var defaultColumns = []string{"params.model", "params.epochs", "metrics.val_bce", "metrics.test_mse",
	"metrics.test_psnr", "metrics.seconds_per_epoch"}

var metricByKey = func() map[string]metricInfo {
	m := make(map[string]metricInfo, len(metricTable))
	for _, info := range metricTable {
		m[info.Key] = info
	}
	return m
}()

// metricMeta describes a metric; a key the table does not know gets its own name as title.
func metricMeta(key string) metricInfo {
	if info, ok := metricByKey[key]; ok {
		return info
	}
	if d, ok := strings.CutPrefix(key, "digit_mse_"); ok {
		return metricInfo{Key: key, Title: "test MSE of digit " + d, Better: -1}
	}
	return metricInfo{Key: key, Title: key}
}

// sortMetrics orders metric keys as the table above does, keys it does not know after, by name.
func sortMetrics(keys []string) []string {
	rank := func(k string) int {
		for i, m := range metricTable {
			if m.Key == k {
				return i
			}
		}
		return len(metricTable)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := cmp.Compare(rank(a), rank(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return keys
}

// Format writes a value of the metric for a table: thousands separators for counts, MiB for
// sizes, seconds to a useful precision, 4 significant digits otherwise; NaN and ±Inf as such.
func (m metricInfo) Format(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "−Inf"
	}
	switch m.format {
	case "count":
		if math.Abs(v) < 1e15 && v == math.Trunc(v) {
			return thousands(int64(v))
		}
	case "bytes":
		return fmt.Sprintf("%.2f MiB", v/(1<<20))
	case "seconds":
		return fmt.Sprintf("%.3g s", v)
	case "percent":
		return fmt.Sprintf("%.1f%%", v)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// thousands writes n with commas between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

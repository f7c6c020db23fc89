package aelib

import (
	"fmt"
	"html"
	"strconv"
	"strings"

	"github.com/aelab/aelab/aelib/data"
)

// Summary is a Keras-style description of an architecture: one row per layer with its output
// shape and parameters, then the totals and the encoder/decoder split.
type Summary struct {
	Name                    string
	Rows                    []LayerShape
	Total, Encoder, Decoder int
	Latent                  []int
	Ratio                   float64 // input size / code size
	Path                    string  // compression path, "784 → 256 → 128 → 32"
}

// Summary describes the architecture.
func (a Architecture) Summary() (Summary, error) {
	rows, err := a.Shapes()
	if err != nil {
		return Summary{}, err
	}
	total, enc, dec := a.Params()
	return Summary{Name: a.Name, Rows: rows, Total: total, Encoder: enc, Decoder: dec,
		Latent: a.LatentShape(), Ratio: a.CompressionRatio(), Path: a.Path()}, nil
}

// String renders the summary as a fixed-width table, like Keras' model.summary().
func (s Summary) String() string {
	var b strings.Builder
	line := strings.Repeat("─", 66)
	fmt.Fprintf(&b, "Model: %q\n%s\n", s.Name, line)
	fmt.Fprintf(&b, "%-30s %-20s %12s\n%s\n", "Layer (type)", "Output Shape", "Param #", line)
	fmt.Fprintf(&b, "%-30s %-20s %12s\n", "input (InputLayer)", outputShape([]int{data.Pixels}), "0")
	for _, r := range s.Rows {
		fmt.Fprintf(&b, "%-30s %-20s %12s\n", fmt.Sprintf("%s (%s)", r.Name, r.Kind), outputShape(r.Output), Thousands(r.Params))
	}
	fmt.Fprintf(&b, "%s\n", line)
	fmt.Fprintf(&b, "Total params: %s (%s)\n", Thousands(s.Total), Bytes(4*s.Total))
	fmt.Fprintf(&b, "Trainable params: %s\nNon-trainable params: 0\n", Thousands(s.Total))
	fmt.Fprintf(&b, "Encoder params: %s   Decoder params: %s\n", Thousands(s.Encoder), Thousands(s.Decoder))
	fmt.Fprintf(&b, "Compression: %s, code %s, ratio %.1f:1\n", s.Path, outputShape(s.Latent), s.Ratio)
	return b.String()
}

// HTML renders the summary as a table for notebooks and reports.
func (s Summary) HTML() string {
	var b strings.Builder
	fmt.Fprintf(&b, `<table class="summary"><caption>Model %q</caption>`, html.EscapeString(s.Name))
	b.WriteString("<thead><tr><th>Layer</th><th>Type</th><th>Output shape</th><th>Params</th><th>Part</th></tr></thead><tbody>")
	for _, r := range s.Rows {
		part := "decoder"
		if r.Encoder {
			part = "encoder"
		}
		fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td><td>%s</td><td style=\"text-align:right\">%s</td><td>%s</td></tr>",
			html.EscapeString(r.Name), r.Kind, outputShape(r.Output), Thousands(r.Params), part)
	}
	fmt.Fprintf(&b, "</tbody><tfoot><tr><th colspan=3>Total (%s)</th><th style=\"text-align:right\">%s</th><th></th></tr>", Bytes(4*s.Total), Thousands(s.Total))
	fmt.Fprintf(&b, "<tr><td colspan=3>Encoder / decoder</td><td style=\"text-align:right\">%s / %s</td><td></td></tr>", Thousands(s.Encoder), Thousands(s.Decoder))
	fmt.Fprintf(&b, "<tr><td colspan=5>%s, ratio %.1f:1</td></tr></tfoot></table>", html.EscapeString(s.Path), s.Ratio)
	return b.String()
}

func outputShape(dims []int) string {
	parts := []string{"None"}
	for _, d := range dims {
		parts = append(parts, fmt.Sprint(d))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// Thousands formats n with comma separators: 476720 → "476,720", -1234 → "-1,234".
func Thousands(n int) string {
	s := strconv.Itoa(n)
	sign := ""
	if n < 0 { // not -n: the most negative int has no opposite
		sign, s = "-", s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return sign + s
}

// Bytes formats a size in bytes as Keras does: "1.82 MB" (1 MB = 1024² bytes), up to "5.31 TB"
// and PB for the sizes of models too large to train.
func Bytes(n int) string {
	for _, u := range []struct {
		shift int
		name  string
	}{{50, "PB"}, {40, "TB"}, {30, "GB"}, {20, "MB"}, {10, "KB"}} {
		if n >= 1<<u.shift {
			return fmt.Sprintf("%.2f %s", float64(n)/float64(int(1)<<u.shift), u.name)
		}
	}
	return fmt.Sprintf("%d B", n)
}

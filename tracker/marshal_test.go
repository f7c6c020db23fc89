package tracker

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

// MetricPoint's hand-written JSON is what encoding/json writes for its fields.
func TestMetricPointJSON(t *testing.T) {
	type point struct {
		Step  int64     `json:"step"`
		Epoch int       `json:"epoch"`
		Value *float64  `json:"value"`
		Time  time.Time `json:"time"`
	}
	at := time.UnixMilli(1_790_000_123_456)
	for _, v := range []float64{0, 1, -1.5, 0.1, 1e-7, 1.5e-6, 123456789, 1e21, 1e300, -2.5e-10, math.SmallestNonzeroFloat64, math.NaN(), math.Inf(1)} {
		p := MetricPoint{Step: 12345, Epoch: 7, Value: v, Time: at}
		got, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q := point{Step: p.Step, Epoch: p.Epoch, Time: p.Time}
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			q.Value = &v
		}
		want, _ := json.Marshal(q)
		if string(got) != string(want) {
			t.Errorf("%v:\n got %s\nwant %s", v, got, want)
		}
	}
	if b, _ := json.Marshal(MetricPoint{}); string(b) != `{"step":0,"epoch":0,"value":0,"time":"0001-01-01T00:00:00Z"}` {
		t.Errorf("zero point: %s", b)
	}
}

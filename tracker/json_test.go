package tracker

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"
	"unicode/utf8" // the zones of TestJSONTimes, wherever the tests run
)

// fillValue sets v, and every field, element and entry under it, to something that is not
// zero and that a JSON writer can get wrong; it fails on a kind it does not know, so that a
// field added to RunRecord is added here (and to AppendRunJSON) too.
func fillValue(t *testing.T, v reflect.Value, name string) {
	t.Helper()
	switch {
	case v.Type() == reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.UnixMilli(1_790_000_123_450)))
	case v.Type() == reflect.TypeFor[json.RawMessage]():
		v.SetBytes([]byte(` {"note": "<b>&amp;</b>\u2028", "widths": [256, 64], "empty": {}, "none": [], "x": 1e-7} `))
	case v.Kind() == reflect.String:
		v.SetString(name + " <&> \u2028é\"\\\t\x00\x1f\x7f\xff\xfe")
	case v.Kind() == reflect.Int, v.Kind() == reflect.Int64:
		v.SetInt(4242)
	case v.Kind() == reflect.Bool:
		v.SetBool(true)
	case v.Kind() == reflect.Float64:
		v.SetFloat(0.125)
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			fillValue(t, v.Field(i), v.Type().Field(i).Name)
		}
	case v.Kind() == reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fillValue(t, v.Index(0), name+"0")
		fillValue(t, v.Index(1), name+"1")
	case v.Kind() == reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		for _, k := range []string{"k&1", "a", "\xff\x01\"k", "é\u2028\xff"} {
			e := reflect.New(v.Type().Elem()).Elem()
			fillValue(t, e, name+k)
			v.SetMapIndex(reflect.ValueOf(k), e)
		}
	default:
		t.Fatalf("fill %s: a %s; teach fillValue and AppendRunJSON about it", name, v.Type())
	}
	if v.IsZero() {
		t.Fatalf("fill %s: still zero", name)
	}
}

// marshalRun is json.MarshalIndent's record (latest metrics from h) followed by the history,
// each point by json.Marshal: what AppendRunJSON writes.
func marshalRun(r RunRecord, h *History, prefix string) ([]byte, error) {
	r.LatestMetrics = map[string]MetricPoint{}
	for i, k := range h.Keys {
		r.LatestMetrics[k] = h.Latest(i)
	}
	rec, err := json.MarshalIndent(r, prefix, "  ")
	if err != nil {
		return nil, err
	}
	end := bytes.LastIndexByte(rec, '\n')
	var b bytes.Buffer
	b.Write(rec[:end])
	b.WriteString(",\n" + prefix + `  "history": {`)
	for i, k := range h.Keys {
		if i > 0 {
			b.WriteString(",")
		}
		name, _ := json.Marshal(k)
		b.WriteString("\n" + prefix + "    " + string(name) + ": [")
		for j := h.Start[i]; j < h.Start[i+1]; j++ {
			if j > h.Start[i] {
				b.WriteString(",")
			}
			point, err := json.Marshal(h.Point(j))
			if err != nil {
				return nil, err
			}
			b.WriteString("\n" + prefix + "      " + string(point))
		}
		b.WriteString("\n" + prefix + "    ]")
	}
	if len(h.Keys) > 0 {
		b.WriteString("\n" + prefix + "  ")
	}
	b.WriteString("}")
	b.Write(rec[end:])
	return b.Bytes(), nil
}

// AppendRunJSON writes byte for byte what encoding/json writes, for a record with every field
// set (by reflection), one with nil and one with empty maps and slices, at two prefixes; and
// fails where encoding/json fails.
func TestAppendRunJSON(t *testing.T) {
	var full RunRecord
	fillValue(t, reflect.ValueOf(&full).Elem(), "run")
	at := int64(1_790_000_123_456)
	h := &History{Keys: []string{"\x00\"\xff", "a&b", "big", "val_bce"}, Start: []int{0, 1, 2, 3, 7},
		Steps:  []int64{1, 3, 0, 1, 2, 2, 3},
		Epochs: []int{1, 1, 0, 1, 2, 2, 3},
		Values: []float64{math.Inf(-1), math.Copysign(0, -1), 1e21, 0.5, math.NaN(), math.Inf(1), 1.5e-7},
		Times:  []int64{at, at, 0, at + 10, at + 20, at + 21, at + 1000}}
	empty := RunRecord{ID: "e", Params: map[string]string{}, Tags: map[string]string{}, Artifacts: []Artifact{}}
	noMetrics := &History{Start: []int{0}}
	for _, c := range []struct {
		name string
		r    RunRecord
		h    *History
	}{{"full", full, h}, {"nil", RunRecord{}, noMetrics}, {"empty", empty, noMetrics}, {"empty with metrics", empty, h}} {
		for _, prefix := range []string{"", "  "} {
			want, err := marshalRun(c.r, c.h, prefix)
			if err != nil {
				t.Fatal(err)
			}
			got, err := AppendRunJSON([]byte("before"), &c.r, c.h, prefix)
			if err != nil || string(got) != "before"+string(want) {
				t.Errorf("%s, prefix %q: %v\n got %s\nwant %s", c.name, prefix, err, got, want)
			}
		}
	}
	bad := full
	bad.Config = json.RawMessage(`{"a": `)
	if _, err := AppendRunJSON(nil, &bad, h, ""); err == nil {
		t.Error("a config that is not JSON: no error")
	}
	bad = full
	bad.Heartbeat = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := json.Marshal(bad); err == nil {
		t.Fatal("encoding/json took year 10000")
	}
	if _, err := AppendRunJSON(nil, &bad, h, ""); err == nil || !strings.Contains(err.Error(), "year") {
		t.Errorf("year 10000: %v", err)
	}
}

// jsonTimes writes what Time.MarshalJSON writes for time.UnixMilli(ms) in the zone, from the
// seconds it remembers: across daylight-saving changes, in zones a half hour off, before
// 1970, with fractions that end in zeros, and for 0 (the zero time).
func TestJSONTimes(t *testing.T) {
	for _, name := range []string{"UTC", "Europe/Berlin", "Asia/Kolkata", "America/St_Johns"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		c := jsonTimes{loc: loc}
		var ms []int64
		for _, at := range []time.Time{time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC),
			time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)} {
			for d := int64(-2500); d <= 2500; d += 7 {
				ms = append(ms, at.UnixMilli()+d)
			}
		}
		ms = append(ms, 0, 1, 10, 100, 120, 1_790_000_123_000, -1, -1000, -999)
		for _, m := range ms {
			want, err := time.UnixMilli(m).In(loc).MarshalJSON()
			if m == 0 {
				want, err = time.Time{}.MarshalJSON()
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, err := c.append(nil, m); err != nil || string(got) != string(want) {
				t.Fatalf("%s, %d ms: got %s %v, want %s", name, m, got, err, want)
			}
		}
	}
	c := jsonTimes{loc: time.UTC}
	if _, err := c.append(nil, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()); err == nil {
		t.Error("year 10000: no error")
	}
}

// AppendRunJSON's output is JSON that encoding/json decodes back to the run, whatever its
// text holds: quotes, backslashes, control characters, NUL, U+2028, HTML and invalid UTF-8
// (each bad byte read back as U+FFFD, as encoding/json writes it). NaN and ±Inf values
// are null, in the latest metrics and in the history; other values come back exactly.
func TestAppendRunJSONDecodes(t *testing.T) {
	hostile := "q\"b\\s\x00\x01\x1f\x7f\u2028</script>&\xff\xfeé"
	readBack := "q\"b\\s\x00\x01\x1f\x7f\u2028</script>&\ufffd\ufffdé"
	r := RunRecord{ID: "id", Name: hostile, Experiment: hostile, Error: hostile,
		Params: map[string]string{hostile: hostile}, Tags: map[string]string{"env.command": hostile, "bytes": "é\xff\u2028"}}
	at := int64(1_790_000_123_456)
	h := &History{Keys: []string{hostile, "val_bce"}, Start: []int{0, 3, 5},
		Steps: []int64{1, 2, 3, 1, 2}, Epochs: []int{1, 2, 3, 1, 2},
		Values: []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0.1, 1e-7},
		Times:  []int64{at, at + 1, at + 2, at + 3, 0}}
	for _, prefix := range []string{"", "    "} {
		b, err := AppendRunJSON(nil, &r, h, prefix)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(b) || !utf8.Valid(b) {
			t.Fatalf("not JSON in UTF-8:\n%s", b)
		}
		type point struct {
			Step  int64
			Value *float64
			Time  time.Time
		}
		var got struct {
			Name, Experiment, Error string
			Params, Tags            map[string]string
			Metrics                 map[string]point
			History                 map[string][]point
		}
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		for what, s := range map[string]string{"name": got.Name, "experiment": got.Experiment, "error": got.Error,
			"param": got.Params[readBack], "tag": got.Tags["env.command"]} {
			if s != readBack {
				t.Errorf("%s: %q, want %q", what, s, readBack)
			}
		}
		if got.Tags["bytes"] != "é\ufffd\u2028" {
			t.Errorf("tag bytes: %q", got.Tags["bytes"])
		}
		if len(got.History) != 2 || len(got.History[readBack]) != 3 || len(got.History["val_bce"]) != 2 {
			t.Fatalf("history: %+v", got.History)
		}
		for _, p := range append(got.History[readBack], got.Metrics[readBack]) {
			if p.Value != nil {
				t.Errorf("NaN or Inf at step %d read back as %v, want null", p.Step, *p.Value)
			}
		}
		for i, p := range append(got.History["val_bce"], got.Metrics["val_bce"]) {
			want := []float64{0.1, 1e-7, 1e-7}[i]
			if p.Value == nil || *p.Value != want {
				t.Errorf("val_bce point %d: %v, want %v", i, p.Value, want)
			}
		}
		if ts := got.History[readBack][1].Time; !ts.Equal(time.UnixMilli(at + 1)) {
			t.Errorf("time %v, want %v", ts, time.UnixMilli(at+1))
		}
		if ts := got.Metrics["val_bce"].Time; !ts.IsZero() {
			t.Errorf("no time: %v, want the zero time", ts)
		}
	}
}

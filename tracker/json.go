package tracker

// The JSON of runs, written by hand: an export of 10,000 runs is a million metric points
// and 150 MB of JSON, which encoding/json spends seconds on (reflection, then compacting
// and indenting each point). Each function writes byte for byte what encoding/json writes
// for the same value (json_test.go compares them).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"
)

// MarshalJSON writes NaN and ±Inf values as null (JSON has no such numbers).
func (p MetricPoint) MarshalJSON() ([]byte, error) {
	return p.AppendJSON(make([]byte, 0, 96))
}

// AppendJSON appends the point's JSON (MarshalJSON's) to b.
func (p MetricPoint) AppendJSON(b []byte) ([]byte, error) {
	b = appendPointHead(b, p.Step, p.Epoch, p.Value)
	b, err := appendJSONTime(b, p.Time)
	return append(b, '}'), err
}

// appendPointHead appends a point's JSON up to its time: {"step":…,"epoch":…,"value":…,"time":
func appendPointHead(b []byte, step int64, epoch int, value float64) []byte {
	b = append(b, `{"step":`...)
	b = strconv.AppendInt(b, step, 10)
	b = append(b, `,"epoch":`...)
	b = strconv.AppendInt(b, int64(epoch), 10)
	b = append(b, `,"value":`...)
	b = appendJSONValue(b, value)
	return append(b, `,"time":`...)
}

// appendIndentedPoint appends point j of h as json.MarshalIndent writes a MetricPoint inside
// an object at indentation in (the point's fields one level deeper).
func appendIndentedPoint(b []byte, h *History, j int, in string, times *jsonTimes) ([]byte, error) {
	b = append(b, "{\n"...)
	b = append(b, in...)
	b = append(b, `  "step": `...)
	b = strconv.AppendInt(b, h.Steps[j], 10)
	b = append(b, ",\n"...)
	b = append(b, in...)
	b = append(b, `  "epoch": `...)
	b = strconv.AppendInt(b, int64(h.Epochs[j]), 10)
	b = append(b, ",\n"...)
	b = append(b, in...)
	b = append(b, `  "value": `...)
	b = appendJSONValue(b, h.Values[j])
	b = append(b, ",\n"...)
	b = append(b, in...)
	b = append(b, `  "time": `...)
	b, err := times.append(b, h.Times[j])
	b = append(b, '\n')
	b = append(b, in...)
	return append(b, '}'), err
}

// AppendRunJSON appends run r with its metric history h as indented JSON, its lines after
// the first prefixed by prefix: what json.MarshalIndent(r, prefix, "  ") writes, with the
// latest metrics ("metrics") taken from h rather than r, and then a last field, "history",
// with each metric's points one per line:
//
//	"history": {
//	  "val_bce": [
//	    {"step":235,"epoch":1,"value":0.2113,"time":"2026-05-01T10:00:03.123Z"},
//	    {"step":470,"epoch":2,"value":0.1532,"time":"2026-05-01T10:00:05.871Z"}
//	  ]
//	}
//
// It fails, as encoding/json does, on a config that is not JSON and on a time whose year
// has not four digits.
func AppendRunJSON(b []byte, r *RunRecord, h *History, prefix string) ([]byte, error) {
	in := prefix + "  "
	times := jsonTimes{loc: time.Local}
	field := func(name string) {
		b = append(b, ",\n"...)
		b = append(b, in...)
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `": `...)
	}
	var err error
	timeField := func(t time.Time) {
		var e error
		b, e = appendJSONTime(b, t)
		err = cmpOr(err, e)
	}
	b = append(b, "{\n"...)
	b = append(b, in...)
	b = append(b, `"id": `...)
	b = appendJSONString(b, r.ID)
	field("experiment")
	b = appendJSONString(b, r.Experiment)
	field("name")
	b = appendJSONString(b, r.Name)
	field("status")
	b = appendJSONString(b, string(r.Status))
	field("start_time")
	timeField(r.StartTime)
	field("end_time")
	timeField(r.EndTime)
	if r.Source != "" {
		field("source")
		b = appendJSONString(b, r.Source)
	}
	if r.Error != "" {
		field("error")
		b = appendJSONString(b, r.Error)
	}
	if len(r.Config) > 0 {
		field("config")
		if b, err = appendIndentedRaw(b, r.Config, in); err != nil {
			return b, fmt.Errorf("tracker: run %s: config: %w", r.ShortID(), err)
		}
	}
	field("params")
	b = appendStringMap(b, r.Params, in)
	field("tags")
	b = appendStringMap(b, r.Tags, in)
	key := func(i int) string { return h.Keys[i] }
	field("metrics")
	b = appendIndentedObject(b, in, len(h.Keys), key, func(b []byte, i int) []byte {
		b, e := appendIndentedPoint(b, h, h.Start[i+1]-1, in+"  ", &times)
		err = cmpOr(err, e)
		return b
	})
	field("artifacts")
	switch {
	case r.Artifacts == nil:
		b = append(b, "null"...)
	case len(r.Artifacts) == 0:
		b = append(b, "[]"...)
	default:
		b = append(b, '[')
		for i, a := range r.Artifacts {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '\n')
			b = append(b, in...)
			b = append(b, "  {\n"...)
			b = append(b, in...)
			b = append(b, `    "kind": `...)
			b = appendJSONString(b, a.Kind)
			b = append(b, ",\n"...)
			b = append(b, in...)
			b = append(b, `    "path": `...)
			b = appendJSONString(b, a.Path)
			if a.Description != "" {
				b = append(b, ",\n"...)
				b = append(b, in...)
				b = append(b, `    "description": `...)
				b = appendJSONString(b, a.Description)
			}
			b = append(b, ",\n"...)
			b = append(b, in...)
			b = append(b, `    "created": `...)
			timeField(a.Created)
			b = append(b, '\n')
			b = append(b, in...)
			b = append(b, "  }"...)
		}
		b = append(b, '\n')
		b = append(b, in...)
		b = append(b, ']')
	}
	field("owner_pid")
	b = strconv.AppendInt(b, int64(r.OwnerPID), 10)
	field("owner_host")
	b = appendJSONString(b, r.OwnerHost)
	field("heartbeat")
	timeField(r.Heartbeat)
	if r.Deleted {
		field("deleted")
		b = append(b, "true"...)
	}
	field("history")
	b = appendIndentedObject(b, in, len(h.Keys), key, func(b []byte, i int) []byte {
		b = append(b, '[')
		for j := h.Start[i]; j < h.Start[i+1]; j++ {
			if j > h.Start[i] {
				b = append(b, ',')
			}
			b = append(b, '\n')
			b = append(b, in...)
			b = append(b, "    "...)
			b = appendPointHead(b, h.Steps[j], h.Epochs[j], h.Values[j])
			var e error
			b, e = times.append(b, h.Times[j])
			b = append(b, '}')
			err = cmpOr(err, e)
		}
		b = append(b, '\n')
		b = append(b, in...)
		return append(b, "  ]"...)
	})
	b = append(b, '\n')
	b = append(b, prefix...)
	b = append(b, '}')
	if err != nil {
		return b, fmt.Errorf("tracker: run %s: %w", r.ShortID(), err)
	}
	return b, nil
}

// cmpOr is the first error that is not nil.
func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// appendStringMap appends m as json.MarshalIndent writes a map[string]string at indentation in.
func appendStringMap(b []byte, m map[string]string, in string) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	keys := slices.Sorted(maps.Keys(m))
	return appendIndentedObject(b, in, len(keys), func(i int) string { return keys[i] },
		func(b []byte, i int) []byte { return appendJSONString(b, m[keys[i]]) })
}

// appendIndentedObject appends an object of n members as json.MarshalIndent writes it at
// indentation in: member i's key is key(i), its value what value(b, i) appends.
func appendIndentedObject(b []byte, in string, n int, key func(i int) string, value func(b []byte, i int) []byte) []byte {
	b = append(b, '{')
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '\n')
		b = append(b, in...)
		b = append(b, "  "...)
		b = appendJSONString(b, key(i))
		b = append(b, ": "...)
		b = value(b, i)
	}
	if n > 0 {
		b = append(b, '\n')
		b = append(b, in...)
	}
	return append(b, '}')
}

// appendIndentedRaw appends the JSON text raw as json.MarshalIndent writes a
// json.RawMessage at indentation in: compacted with <, > and & escaped, then indented.
func appendIndentedRaw(b []byte, raw json.RawMessage, in string) ([]byte, error) {
	var compact, escaped, indented bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return b, err
	}
	json.HTMLEscape(&escaped, compact.Bytes())
	if err := json.Indent(&indented, escaped.Bytes(), in, "  "); err != nil {
		return b, err
	}
	return append(b, indented.Bytes()...), nil
}

// appendJSONValue appends a metric value: NaN and ±Inf as null.
func appendJSONValue(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, "null"...)
	}
	return appendJSONFloat(b, v)
}

// appendJSONFloat appends f as encoding/json writes a float64: plain decimals,
// exponents only for very small or large magnitudes, "e-7" rather than "e-07".
func appendJSONFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendJSONString appends s as encoding/json writes a string. Text that needs no escape
// (aelab's keys, ids, names: printable ASCII without " \ < > &) is copied; anything else
// goes through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			quoted, _ := json.Marshal(s) // a string always marshals
			return append(b, quoted...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendJSONTime appends t as Time.MarshalJSON writes it (RFC 3339 with the nanoseconds
// there are, quoted), without its allocation; like it, it fails for a year outside
// [0, 9999] or a zone offset of a day or more.
func appendJSONTime(b []byte, t time.Time) ([]byte, error) {
	b = append(b, '"')
	n0 := len(b)
	b = t.AppendFormat(b, time.RFC3339Nano)
	// The checks of Time.MarshalJSON (time/format_rfc3339.go, appendStrictRFC3339).
	num2 := func(b []byte) byte { return 10*(b[0]-'0') + (b[1] - '0') }
	var err error
	switch {
	case b[n0+len("9999")] != '-':
		err = errors.New("Time.MarshalJSON: year outside of range [0,9999]")
	case b[len(b)-1] != 'Z':
		if c := b[len(b)-len("Z07:00")]; ('0' <= c && c <= '9') || num2(b[len(b)-len("07:00"):]) >= 24 {
			err = errors.New("Time.MarshalJSON: timezone hour outside of range [0,23]")
		}
	}
	return append(b, '"'), err
}

// jsonTimes appends Unix-millisecond times as Time.MarshalJSON writes time.UnixMilli(ms) in
// loc (zero for 0), keeping the text of the last seconds it wrote: the hundred points of a
// run have a dozen distinct seconds, and formatting each time was a third of writing them.
type jsonTimes struct {
	loc  *time.Location
	last [16]struct {
		sec  int64
		n    int      // 0: empty
		text [32]byte // the second's time, quoted: "2006-01-02T15:04:05Z07:00"
	}
}

// append appends time ms, quoted.
func (c *jsonTimes) append(b []byte, ms int64) ([]byte, error) {
	if ms == 0 {
		return appendJSONTime(b, time.Time{})
	}
	sec, frac := ms/1000, ms%1000
	if frac < 0 {
		sec, frac = sec-1, frac+1000
	}
	e := &c.last[sec&15]
	if e.n == 0 || e.sec != sec {
		text, err := appendJSONTime(e.text[:0], time.Unix(sec, 0).In(c.loc))
		if err != nil || len(text) > len(e.text) {
			return appendJSONTime(b, time.UnixMilli(ms).In(c.loc))
		}
		e.sec, e.n = sec, len(text)
	}
	// A zone changes offset at a whole second: the second's text is this time's, but for
	// the fraction after the seconds (`"2006-01-02T15:04:05` is 20 bytes), which
	// RFC 3339 with nanoseconds writes without trailing zeros.
	text := e.text[:e.n]
	b = append(b, text[:20]...)
	if frac != 0 {
		b = append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
		for b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
	}
	return append(b, text[20:]...), nil
}

package data

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
)

// FuzzParseIDX: any bytes give an idx file or an error, never a panic; a file that parses holds
// exactly the values its header announces.
func FuzzParseIDX(f *testing.F) {
	f.Add(idxBytes([]int{2, 2}, []byte{1, 2, 3, 4}), 0)
	f.Add(idxBytes([]int{3}, []byte{0, 9, 5}), 1)
	f.Add(idxBytes([]int{1 << 14, 1 << 14}, nil), 2) // a header that announces 256 MB
	f.Add([]byte{0, 0, 8, 255}, 0)
	f.Fuzz(func(t *testing.T, raw []byte, wantRank int) {
		idx, err := parseIDX(bytes.NewReader(raw), wantRank)
		if err != nil {
			return
		}
		size := 1
		for _, d := range idx.Dims {
			size *= d
		}
		if len(idx.Values) != size || 4+4*len(idx.Dims)+size != len(raw) {
			t.Fatalf("dims %v, %d values from %d bytes", idx.Dims, len(idx.Values), len(raw))
		}
	})
}

// A header that announces more values than the file holds costs no more memory than the file
// (a 16-byte file announcing 256 MB allocated them all before finding it truncated).
func TestParseIDXMemoryFollowsTheFile(t *testing.T) {
	raw := idxBytes([]int{1 << 14, 1 << 14}, make([]byte, 100))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := parseIDX(bytes.NewReader(raw), 2)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "truncated: header announces [16384 16384] = 268435456 values, file holds 100") {
		t.Errorf("error %v", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Errorf("parsing a 108-byte file allocated %d MB", grew>>20)
	}
}

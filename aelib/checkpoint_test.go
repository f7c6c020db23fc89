package aelib

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aelab/aelab/internal/tmpfs"
)

// folderFiles maps the names of a folder's files to their contents.
func folderFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(b)
	}
	return files
}

func newOnGo(t *testing.T, seed uint64) *Autoencoder {
	t.Helper()
	cfg, _ := DefaultConfig(ModelDeep)
	cfg.Seed, cfg.Backend = seed, "go"
	ae, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ae
}

// Save writes into a new or empty folder only: a second model saved into a folder that holds a
// checkpoint is refused and the first checkpoint stays as it was (issue #10, item 1: GoMLX's
// checkpoint.Build loaded the folder's checkpoint over the trained weights and deleted it).
func TestSaveRefusesAFolderInUse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ckpt")
	a, b := newOnGo(t, 1), newOnGo(t, 2)
	if err := CheckCheckpointDir(dir); err != nil {
		t.Fatalf("a new folder: %v", err)
	}
	if err := a.Save(dir); err != nil {
		t.Fatal(err)
	}
	before := folderFiles(t, dir)
	err := b.Save(dir)
	if !errors.Is(err, ErrCheckpointDirInUse) || !strings.Contains(err.Error(), "it holds a checkpoint: model deep, seed 1") {
		t.Fatalf("second Save: %v", err)
	}
	if after := folderFiles(t, dir); !maps.Equal(before, after) {
		t.Errorf("the refused Save changed the folder: %v → %v", keys(before), keys(after))
	}
	if siblings, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".ckpt.saving-*")); len(siblings) > 0 {
		t.Errorf("temporary folders left: %v", siblings)
	}
	loaded, err := Load(dir)
	if err != nil || loaded.Config.Seed != 1 {
		t.Fatalf("loaded %+v, %v", loaded, err)
	}
	// An empty folder is fine: the checkpoint takes its place.
	empty := t.TempDir()
	if err := b.Save(empty); err != nil {
		t.Fatal(err)
	}
	if cfg, err := readCheckpointConfig(empty); err != nil || cfg.Seed != 2 {
		t.Errorf("saved into an empty folder: %+v, %v", cfg, err)
	}
	if err := CheckCheckpointDir(filepath.Join(dir, configFile)); err == nil {
		t.Error("a file as checkpoint folder: no error")
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A save that fails for want of space (a real full filesystem, a 256 KiB tmpfs) leaves nothing:
// no folder, no truncated .bin, no empty .json (issue #10, item 1).
func TestSaveOnAFullDiskLeavesNothing(t *testing.T) {
	disk := tmpfs.Mount(t, 256<<10)
	ae := newOnGo(t, 1) // 222,384 parameters: 890 KB of float32, gzip or not
	err := ae.Save(filepath.Join(disk, "ckpt"))
	if err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("Save on a full disk: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(disk, "*")); len(left) > 0 {
		t.Errorf("the failed save left %v", left)
	}
}

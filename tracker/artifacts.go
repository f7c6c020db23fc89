package tracker

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DataDir is aelab's folder for user data: $XDG_DATA_HOME/aelab, else ~/.local/share/aelab.
func DataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "aelab")
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return ".aelab"
	}
	return filepath.Join(home, ".local", "share", "aelab")
}

// artifactRootFor is the artifact root of the store at location: root when
// given, else $AELAB_ARTIFACTS, else the SQLite file's folder (checkpoints/…
// beside aelab.db), or for a PostgreSQL store ~/.local/share/aelab/artifacts
// (give a folder every machine mounts to share the files too).
func artifactRootFor(location, root string) string {
	if root == "" {
		root = os.Getenv("AELAB_ARTIFACTS")
	}
	if root == "" {
		if IsPostgresURL(location) {
			root = filepath.Join(DataDir(), "artifacts")
		} else {
			root = filepath.Dir(location)
		}
	}
	if abs, err := filepath.Abs(root); err == nil {
		root = abs
	}
	return root
}

// ArtifactRoot is the folder the store's artifacts (checkpoints, figures) live
// under: the store records their paths relative to it, so that every machine
// that mounts the same folder, wherever, finds them.
func (s *Store) ArtifactRoot() string { return s.artifactRoot }

// storedArtifactPath is how path is recorded: relative to the artifact root
// when inside it, else absolute.
func (s *Store) storedArtifactPath(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	rel, err := filepath.Rel(s.artifactRoot, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return abs
	}
	return rel
}

// artifactPath is where a recorded artifact path is on this machine.
func (s *Store) artifactPath(stored string) string {
	if stored == "" || filepath.IsAbs(stored) {
		return stored
	}
	return filepath.Join(s.artifactRoot, stored)
}

// copyArtifactFiles copies the files of an artifact of run runID, recorded in
// src as stored, to dst's artifact root, and returns how dst records it
// (relative to its root), the number of files copied, and the artifact's path
// in src when its files are missing there. Files already in place with the
// same size are not copied again; a file is written to a temporary name and
// renamed, so an interrupted copy leaves no half file; links are not followed.
func copyArtifactFiles(dst, src *Store, runID, stored string) (string, int, string, error) {
	from := src.artifactPath(stored)
	rel := src.storedArtifactPath(from)
	if filepath.IsAbs(rel) { // outside src's root: give it a place in dst's
		rel = filepath.Join("imported", runID, filepath.Base(from))
	}
	to := filepath.Join(dst.artifactRoot, rel)
	if to == from {
		return rel, 0, "", nil // one root both stores share
	}
	if _, err := os.Lstat(from); err != nil {
		return rel, 0, from, nil
	}
	files := 0
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(to, strings.TrimPrefix(path, from))
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case !d.Type().IsRegular():
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if have, err := os.Stat(target); err == nil && have.Size() == info.Size() {
			return nil
		}
		if err := copyFile(target, path); err != nil {
			return err
		}
		files++
		return nil
	})
	if err != nil {
		return rel, files, "", fmt.Errorf("copying artifact %s: %w", from, err)
	}
	return rel, files, "", nil
}

// copyFile copies the file from to the path to, through a temporary file beside it.
func copyFile(to, from string) error {
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(to), "."+filepath.Base(to)+".*")
	if err != nil {
		return err
	}
	_, err = io.Copy(tmp, in)
	if err = errors.Join(err, tmp.Close()); err == nil {
		err = os.Rename(tmp.Name(), to)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

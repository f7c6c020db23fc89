package tracker

import (
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

package tracker

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Rows read from another store are untrusted: a run id or an artifact path
// becomes a file path here only after the checks in this file.

// uuidPattern is a run id as NewID writes it: a canonical, lower-case UUID.
var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// validRunID reports whether id is a canonical UUID, the only run ids Copy
// accepts from a source store.
func validRunID(id string) bool { return uuidPattern.MatchString(id) }

// within reports whether path is root or inside it; both must be clean and absolute.
func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// resolveArtifact finds the files of the artifact recorded in s as stored: the
// real path (links resolved) and that path relative to s's real artifact root.
// An artifact that is not inside the root, once its path is cleaned and its
// links resolved, is refused: reason says why, and nothing is read.
func (s *Store) resolveArtifact(stored string) (real, rel, reason string) {
	if stored == "" {
		return "", "", "its path is empty"
	}
	root, err := filepath.EvalSymlinks(s.artifactRoot)
	if err != nil {
		return "", "", "the source's artifact folder " + s.artifactRoot + " cannot be read"
	}
	p := filepath.Clean(stored)
	if !filepath.IsAbs(p) {
		p = filepath.Join(s.artifactRoot, p)
	}
	if !within(filepath.Clean(s.artifactRoot), p) && !within(root, p) {
		return "", "", "its path is outside the source's artifact folder"
	}
	real, err = filepath.EvalSymlinks(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", "its files are missing from the source's artifact folder"
	}
	if err != nil {
		return "", "", "its path cannot be resolved"
	}
	if !within(root, real) {
		return "", "", "its path leads through a link outside the source's artifact folder"
	}
	if rel, _ = filepath.Rel(root, real); rel == "." {
		return "", "", "its path is the artifact folder itself"
	}
	return real, rel, ""
}

// targetArtifactPath is where the target records an artifact of run id found at
// rel under the source's root: checkpoints/<id>/… stays so (the checkpoint
// folder of that same run); anything else goes to imported/<id>/<its name>.
// Only the validated id and a clean path inside the source's root go in, so the
// result stays inside the target's root.
func targetArtifactPath(id, rel string) string {
	parts := strings.Split(rel, string(filepath.Separator))
	if len(parts) >= 2 && parts[0] == "checkpoints" && parts[1] == id && !slices.Contains(parts, "..") {
		return filepath.Join(append([]string{"checkpoints", id}, parts[2:]...)...)
	}
	name := filepath.Base(rel)
	if name == "." || name == ".." || name == string(filepath.Separator) {
		name = "artifact"
	}
	return filepath.Join("imported", id, name)
}

// copyArtifact copies the files of artifact a of run id (validated), recorded in
// src as a.path, into dst's artifact root. It returns how dst records the
// artifact, the number of files copied, and, when nothing was copied because
// the artifact is not safely inside src's root or its files are missing, the
// reason (the artifact is then recorded, as missing, at a path inside dst's
// root made from id and the source path's last element).
// Files already in place with the same size are not copied again; a file is
// written to a temporary name and renamed, so an interrupted copy leaves no
// half file; links inside the artifact are not followed. With dry set nothing
// is written.
func copyArtifact(dst, src *Store, id string, a artifactRow, dry bool) (stored string, files int, missing string, err error) {
	from, rel, reason := src.resolveArtifact(a.path)
	if reason != "" { // recorded where the target has no files: missing there too
		return targetArtifactPath(id, filepath.Clean(a.path)), 0, reason, nil
	}
	stored = targetArtifactPath(id, rel)
	if dry {
		return stored, 0, "", nil
	}
	if err := os.MkdirAll(dst.artifactRoot, 0o755); err != nil {
		return stored, 0, "", fmt.Errorf("artifact folder: %w", err)
	}
	dstRoot, err := filepath.EvalSymlinks(dst.artifactRoot)
	if err != nil {
		return stored, 0, "", fmt.Errorf("artifact folder: %w", err)
	}
	if srcRoot, err := filepath.EvalSymlinks(src.artifactRoot); err == nil && dstRoot == srcRoot {
		return rel, 0, "", nil // one root both stores share: nothing to copy
	}
	// makeDir makes a folder of the copy, refusing one that a link already there
	// (a shared folder others write to) puts outside the target's root.
	makeDir := func(dir string) error {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if real, err := filepath.EvalSymlinks(dir); err != nil || !within(dstRoot, real) {
			return errLeavesTarget
		}
		return nil
	}
	to := filepath.Join(dst.artifactRoot, stored)
	err = filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(to, strings.TrimPrefix(path, from))
		switch {
		case d.IsDir():
			return makeDir(target)
		case !d.Type().IsRegular():
			return nil
		}
		if err := makeDir(filepath.Dir(target)); err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if have, err := os.Lstat(target); err == nil && have.Mode().IsRegular() && have.Size() == info.Size() {
			return nil
		}
		if err := copyFile(target, path); err != nil {
			return err
		}
		files++
		return nil
	})
	if errors.Is(err, errLeavesTarget) {
		return stored, files, "its place in the target's artifact folder is a link that leads outside it", nil
	}
	if err != nil {
		return stored, files, "", fmt.Errorf("copying artifact %s: %w", from, err)
	}
	return stored, files, "", nil
}

var errLeavesTarget = errors.New("a folder of the copy leads outside the target's artifact folder")

// copyFile copies the regular file from to the path to (whose folder exists),
// through a temporary file beside it, renamed over whatever is at to (a link
// there is replaced, not followed). It refuses a from that is no longer a
// regular file (a link put in its place after the walk saw it).
func copyFile(to, from string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	if info, err := os.Lstat(from); err != nil || !info.Mode().IsRegular() {
		return fmt.Errorf("%s is no longer a regular file", from)
	}
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

// knownStatuses are the statuses aelab writes; a run copied with another would
// match no status filter and no view.
var knownStatuses = map[string]bool{string(StatusRunning): true, string(StatusFinished): true,
	string(StatusFailed): true, string(StatusKilled): true, string(StatusLost): true}

// checkRow says why run r, read from a source store, cannot be copied into a
// store of the dialect to, or "" when it can. PostgreSQL stores no NUL byte
// and no invalid UTF-8 in text, which SQLite does: such a run is refused alone
// rather than failing its whole batch.
func (r *copiedRun) checkRow(to Dialect) string {
	if !knownStatuses[r.status] {
		return "its status is not one aelab writes"
	}
	if r.deleted != 0 && r.deleted != 1 {
		return "its deleted flag is neither 0 nor 1"
	}
	if to != Postgres {
		return ""
	}
	bad := func(s string) bool { return strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) }
	texts := map[string][]string{
		"experiment": {r.experiment}, "name": {r.name}, "source": {r.source}, "error": {r.errText},
		"config": {r.config.String}, "host": {r.host},
	}
	for _, kv := range []struct {
		what string
		m    map[string]string
	}{{"params", r.params}, {"tags", r.tags}} {
		for k, v := range kv.m {
			texts[kv.what] = append(texts[kv.what], k, v)
		}
	}
	for _, row := range append(slices.Clone(r.history), r.latest...) {
		texts["metric keys"] = append(texts["metric keys"], row[1].(string))
	}
	for _, a := range r.artifacts {
		texts["artifacts"] = append(texts["artifacts"], a.kind, a.path, a.description)
	}
	for _, what := range slices.Sorted(maps.Keys(texts)) {
		if slices.ContainsFunc(texts[what], bad) {
			return "a text of its " + what + " holds a NUL byte or invalid UTF-8, which PostgreSQL cannot store"
		}
	}
	return ""
}

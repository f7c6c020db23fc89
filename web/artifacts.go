package web

import (
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aelab/aelab/tracker"
)

// maxListedFiles bounds the files listed for a folder artifact.
const maxListedFiles = 200

// artifactView is one artifact on a run's page.
type artifactView struct {
	tracker.Artifact
	Rel     string        // its path relative to the artifact root; "" when it lies outside
	URL     string        // for a file
	File    *artifactFile // an artifact that is a file
	Files   []artifactFile
	More    int // files of a folder left out of Files
	Missing bool
}

type artifactFile struct {
	Name    string
	URL     string
	Size    int64
	Preview *preview // set for the first maxPreviews files of a page that have one
}

// SizeText is the file's size for people.
func (f artifactFile) SizeText() string { return formatSize(f.Size) }

// inRoot returns an artifact path relative to the artifact root, and false when it lies
// outside (an absolute path elsewhere, or one climbing out with ..). Relative paths are
// relative to the root. Symbolic links are not followed here: opening goes through os.Root,
// which refuses links that leave the root.
func (s *Server) inRoot(p string) (string, bool) {
	if p == "" {
		return "", false
	}
	abs := p
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(s.root, p)
	}
	rel, err := filepath.Rel(s.root, filepath.Clean(abs))
	if err != nil || !(rel == "." || filepath.IsLocal(rel)) {
		return "", false
	}
	return rel, true
}

// artifactViews describes the run's artifacts, listing the files of folders.
func (s *Server) artifactViews(rec *tracker.RunRecord) []artifactView {
	out := make([]artifactView, 0, len(rec.Artifacts))
	root, rootErr := os.OpenRoot(s.root)
	if rootErr == nil {
		defer root.Close()
	}
	previews := 0
	for i, a := range rec.Artifacts {
		v := artifactView{Artifact: a}
		rel, ok := s.inRoot(a.Path)
		if !ok || rootErr != nil {
			out = append(out, v)
			continue
		}
		v.Rel = rel
		base := fmt.Sprintf("/runs/%s/artifacts/%d/", rec.ID, i)
		fi, err := root.Stat(rel)
		switch {
		case err != nil:
			v.Missing = true
		case fi.IsDir():
			v.Files, v.More = listFiles(root, rel, base)
			for j := range v.Files {
				if previews < maxPreviews {
					if v.Files[j].Preview = readPreview(root, filepath.Join(rel, v.Files[j].Name), v.Files[j].Size); v.Files[j].Preview != nil {
						previews++
					}
				}
			}
		default:
			v.URL = base + url.PathEscape(fi.Name())
			v.File = &artifactFile{Name: fi.Name(), URL: v.URL, Size: fi.Size()}
			if previews < maxPreviews && fi.Mode().IsRegular() {
				if v.File.Preview = readPreview(root, rel, fi.Size()); v.File.Preview != nil {
					previews++
				}
			}
		}
		out = append(out, v)
	}
	return out
}

// listFiles lists the regular files of a folder under root (not links, not sub-folders).
func listFiles(root *os.Root, dir, base string) ([]artifactFile, int) {
	f, err := root.Open(dir)
	if err != nil {
		return nil, 0
	}
	defer f.Close()
	entries, _ := f.ReadDir(-1)
	var files []artifactFile
	more := 0
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if len(files) == maxListedFiles {
			more++
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		files = append(files, artifactFile{Name: e.Name(), URL: base + url.PathEscape(e.Name()), Size: info.Size()})
	}
	return files, more
}

// artifact serves a file of a run's artifact: /runs/ID/artifacts/N/NAME, a file in the
// artifact's folder or, for an artifact that is a file, its own name (or nothing). Whatever the store
// or the URL says, only files inside the artifact root are served: a path that climbs out
// (.., absolute, encoded), an artifact recorded outside the root and a symbolic link leading
// out all get 404.
func (s *Server) artifact(w http.ResponseWriter, r *http.Request) {
	notFound := func(why string) { s.fail(w, r, http.StatusNotFound, errors.New("no such artifact file: "+why)) }
	rec, err := s.store.GetRun(r.PathValue("id"))
	if err != nil {
		s.fail(w, r, runStatus(err), err)
		return
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 0 || n >= len(rec.Artifacts) {
		notFound("the run has no artifact " + r.PathValue("n"))
		return
	}
	rel, ok := s.inRoot(rec.Artifacts[n].Path)
	if !ok {
		notFound("the artifact lies outside the store's artifact root")
		return
	}
	root, err := os.OpenRoot(s.root)
	if err != nil {
		notFound("the artifact root is not readable")
		return
	}
	defer root.Close()
	// NAME is a file inside a folder artifact, or a file artifact's own name.
	if sub := r.PathValue("path"); sub != "" {
		if !filepath.IsLocal(sub) || strings.ContainsRune(sub, '\\') {
			notFound("the path leaves the artifact")
			return
		}
		if fi, err := root.Stat(rel); err != nil || fi.IsDir() || sub != fi.Name() {
			rel = filepath.Join(rel, sub)
		}
	}
	f, err := root.Open(rel) // refuses .. and links that leave the root
	if err != nil {
		notFound("not found inside the artifact root")
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		notFound("not a file")
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", artifactPolicy)
	h.Set("Content-Type", artifactType(fi.Name()))
	if !strings.HasPrefix(h.Get("Content-Type"), "image/") && !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": fi.Name()}))
	}
	http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
}

// artifactType is the type an artifact is served as: raster images as themselves, text as
// plain text, anything else (HTML and SVG included) as a download.
func artifactType(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png":
		return "image/png"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".gif":
		return "image/gif"
	case ".webp":
		return "image/webp"
	case ".txt", ".json", ".md", ".csv", ".log":
		return "text/plain; charset=utf-8"
	}
	return "application/octet-stream"
}

// checkpointDir is the absolute folder of the run's checkpoint if it lies inside the artifact
// root (links resolved), else "" with the reason.
func (s *Server) checkpointDir(dir string) (string, string) {
	rel, ok := s.inRoot(dir)
	if !ok {
		return "", "its checkpoint lies outside the store's artifact root " + s.root
	}
	abs := filepath.Join(s.root, rel)
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", "its checkpoint folder is missing: " + abs
		}
		return "", "its checkpoint folder is unreadable: " + err.Error()
	}
	realRoot, err := filepath.EvalSymlinks(s.root)
	if err != nil {
		return "", "the artifact root is unreadable"
	}
	if r, err := filepath.Rel(realRoot, real); err != nil || !(r == "." || filepath.IsLocal(r)) {
		return "", "its checkpoint folder links outside the store's artifact root"
	}
	return real, ""
}

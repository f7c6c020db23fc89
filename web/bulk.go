package web

// Changes beyond one tag: tagging or deleting the selected runs at once, renaming a run and
// its notes. Each is a POST that the secure wrapper has checked (same origin, CSRF token,
// not read-only).

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/aelab/aelab/tracker"
)

// notesTag is the tag that holds a run's notes (Markdown).
const notesTag = "notes"

// Bounds of the changes below.
const (
	maxBulkRuns   = 1000
	maxNotesBytes = 20000
)

// bulkRuns answers POST /runs/bulk: action=tag (key, value) or action=delete, for every run=ID.
// Every id is resolved before anything changes, so a bad id changes nothing.
func (s *Server) bulkRuns(w http.ResponseWriter, r *http.Request) {
	bad := func(err error) { s.fail(w, r, http.StatusBadRequest, err) }
	if err := r.ParseForm(); err != nil {
		bad(fmt.Errorf("reading the form: %w", err))
		return
	}
	ids := r.PostForm["run"]
	action := r.PostFormValue("action")
	switch {
	case len(ids) == 0:
		bad(errors.New("no runs selected"))
		return
	case len(ids) > maxBulkRuns:
		bad(fmt.Errorf("%d runs selected: change at most %d at once", len(ids), maxBulkRuns))
		return
	case action != "tag" && action != "delete":
		bad(fmt.Errorf("action=%q: use tag or delete", clip(action, 20)))
		return
	}
	key, value := strings.TrimSpace(r.PostFormValue("key")), r.PostFormValue("value")
	if action == "tag" {
		if err := checkTag(key, value); err != nil {
			bad(err)
			return
		}
	}
	resolved := make([]string, 0, len(ids))
	for _, id := range ids {
		full, err := s.store.ResolveRunID(id)
		if err != nil {
			s.fail(w, r, runStatus(err), fmt.Errorf("run %q: %w", clip(id, 40), err))
			return
		}
		resolved = append(resolved, full)
	}
	for _, id := range resolved {
		var err error
		if action == "tag" {
			err = s.store.SetTag(id, key, value)
		} else {
			err = s.store.DeleteRun(id)
		}
		if err != nil {
			s.fail(w, r, http.StatusInternalServerError, err)
			return
		}
	}
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		writeJSON(w, http.StatusOK, map[string]any{"action": action, "runs": len(resolved)})
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// checkTag refuses an empty key and a key or value past the bounds.
func checkTag(key, value string) error {
	switch {
	case key == "":
		return badRequest{errors.New("a tag needs a key")}
	case len(key) > maxTagKeyBytes || len(value) > maxTagValueBytes:
		return badRequest{fmt.Errorf("a tag's key is at most %d bytes and its value %d", maxTagKeyBytes, maxTagValueBytes)}
	}
	return nil
}

// renameRun answers POST /runs/{id}/rename: name.
func (s *Server) renameRun(w http.ResponseWriter, r *http.Request) {
	s.changeRun(w, r, func(id string) error {
		name := strings.TrimSpace(r.PostFormValue("name"))
		switch {
		case name == "":
			return badRequest{errors.New("a run needs a name")}
		case len(name) > tracker.MaxRunNameBytes || !utf8.ValidString(name) || strings.ContainsRune(name, 0):
			return badRequest{fmt.Errorf("a run's name is text of at most %d bytes", tracker.MaxRunNameBytes)}
		}
		return s.store.RenameRun(id, name)
	})
}

// setNotes answers POST /runs/{id}/notes: notes (Markdown); empty notes remove them.
func (s *Server) setNotes(w http.ResponseWriter, r *http.Request) {
	s.changeRun(w, r, func(id string) error {
		notes := strings.TrimSpace(strings.ReplaceAll(r.PostFormValue("notes"), "\r\n", "\n"))
		switch {
		case notes == "":
			return s.store.DeleteTag(id, notesTag)
		case len(notes) > maxNotesBytes || !utf8.ValidString(notes) || strings.ContainsRune(notes, 0):
			return badRequest{fmt.Errorf("notes are text of at most %d bytes", maxNotesBytes)}
		}
		return s.store.SetTag(id, notesTag, notes)
	})
}

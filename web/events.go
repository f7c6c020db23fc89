package web

import (
	"fmt"
	"net/http"
	"time"
)

// keepAlive is how often an idle event stream sends a comment, so that proxies and browsers
// keep it open.
const keepAlive = 15 * time.Second

// apiEvents streams server-sent events: "change" whenever the store's version changes (for
// ?run=ID…, the version of those runs; else the list of runs). The page then fetches what it
// shows again. The store is polled every PollInterval, so changes written by any process or
// machine arrive. The first event comes at once, with the current version.
func (s *Server) apiEvents(w http.ResponseWriter, r *http.Request) {
	recs, err := s.requestedRuns(r.URL.Query())
	if err != nil {
		s.fail(w, r, http.StatusNotFound, err)
		return
	}
	ids := runIDs(recs)
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Time{}) // the stream outlives the server's ReadTimeout
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	poll := time.NewTicker(s.opts.PollInterval)
	defer poll.Stop()
	last, lastSent := "", time.Now()
	for {
		v, err := s.store.Version(ids...)
		switch {
		case err != nil:
			s.opts.Log.Printf("events: %v", err)
		case v != last:
			last, lastSent = v, time.Now()
			fmt.Fprintf(w, "event: change\ndata: %s\n\n", v)
		case time.Since(lastSent) >= keepAlive:
			lastSent = time.Now()
			fmt.Fprint(w, ": keep-alive\n\n")
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-poll.C:
		}
	}
}

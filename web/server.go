package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/aelab/aelab/tracker"
)

// Options configure a Server.
type Options struct {
	// Token, when set, must come with every request. Serve refuses to listen anywhere but on
	// loopback without one.
	Token string
	// ReadOnly refuses every change (tags, delete): the pages show no forms. A store opened
	// read-only (tracker.OpenReadOnly) makes the server read-only too.
	ReadOnly bool
	// Log receives one line per failed request and the server's notices; nil discards them.
	Log *log.Logger
	// PollInterval is how often live views check the store for changes (default 1 s).
	PollInterval time.Duration
}

// MinTokenLength is the shortest token New accepts: a guessable token protects nothing.
const MinTokenLength = 16

// Server serves one store. Create it with New.
type Server struct {
	store   *tracker.Store
	opts    Options
	root    string // absolute artifact root
	csrf    string
	pages   *pages
	grids   *gridCache
	reports *memo
	keys    *keysCache
	groups  *groupsCache
	handler http.Handler
}

// New makes a server for store. It checks the options (a token, when given, must be at least
// MinTokenLength characters); it does not listen yet.
func New(store *tracker.Store, opts Options) (*Server, error) {
	if store == nil {
		return nil, errors.New("web: no store")
	}
	if opts.Token != "" && len(opts.Token) < MinTokenLength {
		return nil, fmt.Errorf("web: the token is %d characters; use at least %d (e.g. `openssl rand -hex 16`)", len(opts.Token), MinTokenLength)
	}
	if opts.Log == nil {
		opts.Log = log.New(io.Discard, "", 0)
	}
	opts.ReadOnly = opts.ReadOnly || store.ReadOnly()
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	// Files are served, and checkpoints loaded, only from inside the store's artifact root.
	root, err := filepath.Abs(store.ArtifactRoot())
	if err != nil {
		return nil, fmt.Errorf("web: artifact root: %w", err)
	}
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	s := &Server{store: store, opts: opts, root: root, csrf: randomHex(16), pages: p,
		grids: newGridCache(), reports: newMemo(reportsCached), keys: &keysCache{}, groups: &groupsCache{}}
	s.handler = s.secure(s.routes())
	return s, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// Handler is the server's HTTP handler, with every security check in front of the pages.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.runsPage)
	mux.HandleFunc("GET /runs/table", s.runsTable)
	mux.HandleFunc("GET /runs/{id}", s.runPage)
	mux.HandleFunc("GET /runs/{id}/reconstructions.png", s.reconstructions)
	mux.HandleFunc("GET /runs/{id}/artifacts/{n}/{path...}", s.artifact)
	mux.HandleFunc("POST /runs/{id}/tags", s.setTag)
	mux.HandleFunc("POST /runs/{id}/tags/delete", s.deleteTag)
	mux.HandleFunc("POST /runs/{id}/delete", s.deleteRun)
	mux.HandleFunc("POST /runs/{id}/restore", s.restoreRun)
	mux.HandleFunc("POST /runs/{id}/rename", s.renameRun)
	mux.HandleFunc("POST /runs/{id}/notes", s.setNotes)
	mux.HandleFunc("POST /runs/bulk", s.bulkRuns)
	mux.HandleFunc("GET /runs/export", s.exportRuns)
	mux.HandleFunc("GET /charts", s.chartsPage)
	mux.HandleFunc("GET /parallel", s.parallelPage)
	mux.HandleFunc("GET /compare", s.comparePage)
	mux.HandleFunc("GET /report", s.reportPage)
	mux.HandleFunc("GET /sweeps", s.sweepsPage)
	mux.HandleFunc("GET /sweeps/{id}", s.sweepPage)
	mux.HandleFunc("GET /sweeps/{id}/report", s.sweepReport)
	mux.HandleFunc("GET /api/runs", s.apiRuns)
	mux.HandleFunc("GET /api/runs/{id}", s.apiRun)
	mux.HandleFunc("GET /api/series", s.apiSeries)
	mux.HandleFunc("GET /api/keys", s.apiKeys)
	mux.HandleFunc("GET /api/curves", s.apiCurves)
	mux.HandleFunc("GET /api/parallel", s.apiParallel)
	mux.HandleFunc("GET /api/events", s.apiEvents)
	mux.Handle("GET /static/", staticHandler())
	return mux
}

// IsLoopback says whether addr (host:port) names only this machine: a loopback IP or
// "localhost". An empty host (every interface) is not loopback.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ErrTokenRequired is returned by Serve for a listener beyond loopback without a token.
var ErrTokenRequired = errors.New("web: listening beyond loopback needs a token (--token or --token-file): anyone who can reach the port could read the store")

// Serve answers requests on ln until ctx is done, then shuts down (live streams end, requests
// in flight get 5 s). A listener not on loopback is refused without a token.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		if s.opts.Token == "" {
			return ErrTokenRequired
		}
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second, // requests are small; no WriteTimeout: event streams stay open
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          s.opts.Log,
		BaseContext:       func(net.Listener) context.Context { return ctx }, // live streams end with ctx
	}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	stop()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
	}
	<-done
	return nil
}

// fail answers an error: a short page, or JSON for /api/ requests. Server-side failures are
// logged with the request; the client sees the message (never a stack, never a secret).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, code int, err error) {
	if code >= 500 {
		s.opts.Log.Printf("%s %s: %v", r.Method, r.URL.Path, err)
	}
	if isAPI(r) {
		writeJSON(w, code, map[string]string{"error": err.Error()})
		return
	}
	// An error page carries no CSRF token: it answers requests that failed the token or the
	// Host check too, and has no form.
	ev := s.view("error", "Error", errorView{Code: code, Status: http.StatusText(code), Message: err.Error()})
	ev.CSRF = ""
	b, rerr := s.pages.render("error", ev)
	if rerr != nil {
		b = []byte(template.HTMLEscapeString(err.Error()))
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(b)
}

package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/aelab/aelab/tracker"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// staticVersion changes with the embedded assets: their URLs carry it, so browsers may cache
// them for long and still never run an old script against a new server.
var staticVersion = func() string {
	h := sha256.New()
	fs.WalkDir(staticFS, "static", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := staticFS.ReadFile(path)
			fmt.Fprintf(h, "%s %d\n", path, len(b))
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}()

func staticHandler() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") { // no listings
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}

// view is what every page template gets: the layout's needs and the page's own Data.
type view struct {
	Title    string
	Nav      string // the page, so the menu can mark it: runs, charts, compare, sweeps
	CSRF     string
	ReadOnly bool
	Data     any
}

func (s *Server) view(page, title string, data any) view {
	return view{Title: title, Nav: page, CSRF: s.csrf, ReadOnly: s.opts.ReadOnly, Data: data}
}

// errorView is the error page's data.
type errorView struct {
	Code    int
	Status  string
	Message string
}

// pages are the parsed templates: each page is the layout plus its own file.
type pages struct {
	byName map[string]*template.Template
}

var templateFuncs = template.FuncMap{
	"static": func(path string) string { return "/static/" + path + "?v=" + staticVersion },
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return t.Local().Format("2006-01-02 15:04:05")
	},
	"duration": formatDuration,
	"statusClass": func(s tracker.Status) string {
		return "status-" + strings.ToLower(string(s))
	},
	"metricTitle": func(key string) string { return metricMeta(key).Title },
	"metricUnit":  func(key string) string { return metricMeta(key).Unit },
	"fmtMetric": func(key string, v float64) string {
		return metricMeta(key).Format(v)
	},
	"json": func(v any) (string, error) {
		b, err := json.MarshalIndent(v, "", "  ")
		return string(b), err
	},
	"add":   func(a, b int) int { return a + b },
	"short": shortID,
}

// shortID is the first 8 characters of an id (a run's, a sweep's), or the whole id when it is
// shorter: the one way pages shorten ids, whatever a store holds.
func shortID(id string) string {
	if r := []rune(id); len(r) > 8 {
		return string(r[:8])
	}
	return id
}

func loadPages() (*pages, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html", name)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		p.byName[base] = t
	}
	return p, nil
}

// render executes a page (its layout) or, with block set, one named block of it (a fragment
// that the scripts swap into the page). It renders into a buffer, so that a template error
// gives a clean 500 instead of half a page.
func (p *pages) render(page string, v view, block ...string) ([]byte, error) {
	t, ok := p.byName[page]
	if !ok {
		return nil, fmt.Errorf("web: no page %q", page)
	}
	name := "layout.html"
	if len(block) > 0 {
		name = block[0]
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, name, v); err != nil {
		return nil, fmt.Errorf("web: rendering %s: %w", page, err)
	}
	return b.Bytes(), nil
}

// page writes a page with its title and data (or one block of it), or a 500 when it does not
// render.
func (s *Server) page(w http.ResponseWriter, r *http.Request, page, title string, data any, block ...string) {
	b, err := s.pages.render(page, s.view(page, title, data), block...)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.Encode(v)
}

// formatDuration writes a duration the way a runs table wants it: 850ms, 42s, 3m05s, 2h04m.
func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.0fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

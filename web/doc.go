// Package web is `aelab ui`: the experiment store in a browser. A net/http server renders
// html/template pages and a small JSON API over a tracker store; a little JavaScript and the
// pinned chart library (uPlot, vendored from npm and embedded with go:embed: nothing comes
// from a CDN) draw the curves.
//
//	store, _ := tracker.OpenExisting(path)
//	srv, err := web.New(store, web.Options{})
//	ln, _ := net.Listen("tcp", "127.0.0.1:5555")
//	err = srv.Serve(ctx, ln)
//
// # Pages
//
//   - / — the runs: a query bar taking the tracker's filter language (a mistake shows a caret
//     under its column), sortable columns, a column chooser for params, metrics and tags,
//     status badges, paging. Filtering, sorting, counting and paging happen in SQL.
//   - /charts — a grid of panels over the selected runs, one metric each (added by searching
//     the metric names), each with its own scale and smoothing; x by epoch, step or wall-clock;
//     uPlot's legend reads every run's value at the hovered step, and hides a run on a click;
//     grouped by a param or tag, each group is its mean with a min–max band. Every series is
//     downsampled on the server (LTTB) to at most 2,000 points; the view lives in the URL.
//   - /parallel — parallel coordinates of the runs a query selects (or the selected ones):
//     chosen params and metrics as axes, lines coloured by a metric; brushing an axis narrows
//     the table under it.
//   - /compare — two or more runs side by side: differing params highlighted, final metrics
//     with the best marked, curves.
//   - /runs/ID — one run: config, environment, tags (add, remove), metrics per epoch, final
//     metrics, artifacts, and the reconstruction grid drawn from its checkpoint (cached).
//   - /report — the comparison report of package reports for the selection.
//   - /sweeps — sweeps with their trials' states and best value; /sweeps/{id} — one sweep: best
//     trial, parallel coordinates, trials table; /sweeps/{id}/report — its full report.
//
// A RUNNING run's page, the runs table and the charts follow the store live (server-sent
// events from /api/events, which polls the store's version every second), whichever process
// or machine writes the runs.
//
// # JSON API
//
//	GET /api/runs?q=FILTER&order=ORDER&offset=N&limit=N&col=FIELD…   one page of runs, total count
//	GET /api/runs/ID                                                   one run, everything
//	GET /api/series?run=ID…&key=METRIC&x=epoch|step|time&points=N      downsampled curves
//	GET /api/series?…&group=params.KEY|tags.KEY|config                 and each group's mean, min, max
//	GET /api/parallel?q=FILTER|run=ID…&axis=FIELD…&color=METRIC        runs on parallel axes
//	GET /api/keys                                                      param, metric and tag keys
//	GET /api/curves?run=ID…                                            metrics the runs have curves of
//	GET /api/events?run=ID…                                            change events (SSE)
//
// # Security
//
// The server listens on loopback unless given a token: [Server.Serve] refuses any other
// listener without one. With a token every request must carry it (once as ?token=, which
// sets a cookie, or as "Authorization: Bearer …"), compared in constant time. Without one, only
// requests naming a loopback host are answered (no DNS rebinding). Changes (tags, delete)
// are POST requests checked for a CSRF token and a same-origin request; [Options.ReadOnly]
// refuses them. Artifacts are served only from inside the store's artifact root. Templates
// escape every user string, the scripts write user text only as text, and a strict Content
// Security Policy allows no inline script. The server writes to the store only through the
// tracker API, and only for those changes.
package web

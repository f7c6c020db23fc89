package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/tracker"
)

// A run can be renamed and given notes through its page; the notes' Markdown renders with
// only a fixed set of tags, everything else escaped.
func TestRenameAndNotes(t *testing.T) {
	store := newStore(t)
	ids := logRuns(t, store, 1)
	srv := newServer(t, store, Options{})
	h := srv.Handler()
	post := func(path string, v url.Values) *http.Response {
		v.Set("csrf", srv.csrf)
		return do(t, h, "POST", "/runs/"+ids[0]+path, v)
	}
	if res := post("/rename", url.Values{"name": {"  deep <b>5 seeds</b>  "}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("rename: %d", res.StatusCode)
	}
	if rec, _ := store.GetRun(ids[0]); rec.Name != "deep <b>5 seeds</b>" {
		t.Errorf("renamed to %q", rec.Name)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("n", tracker.MaxRunNameBytes+1)} {
		if res := post("/rename", url.Values{"name": {bad}}); res.StatusCode != http.StatusBadRequest {
			t.Errorf("rename to %.10q: %d, want 400", bad, res.StatusCode)
		}
	}
	notes := "# Result\nThe **deep** model, *5 seeds*, `lr=0.001`.\n\n- <script>alert(1)</script>\n- [link](javascript:alert(1)) <img src=x onerror=alert(1)>\n\n```\n<b>as is</b>\n```"
	if res := post("/notes", url.Values{"notes": {notes}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("notes: %d", res.StatusCode)
	}
	body := readBody(t, do(t, h, "GET", "/runs/"+ids[0], nil))
	section := regexp.MustCompile(`(?s)<div class="notes-text">(.*?)</div>`).FindStringSubmatch(body)
	if section == nil {
		t.Fatalf("no notes on the page:\n%s", body)
	}
	for _, want := range []string{"<h3>Result</h3>", "<strong>deep</strong>", "<em>5 seeds</em>", "<code>lr=0.001</code>",
		"<li>&lt;script&gt;alert(1)&lt;/script&gt;</li>", "&lt;img src=x onerror=alert(1)&gt;", "<pre><code>&lt;b&gt;as is&lt;/b&gt;\n</code></pre>"} {
		if !strings.Contains(section[1], want) {
			t.Errorf("notes lack %q:\n%s", want, section[1])
		}
	}
	if tags := regexp.MustCompile(`<(\w+)[ >]`).FindAllStringSubmatch(section[1], -1); len(tags) == 0 {
		t.Error("no markup in the notes")
	} else {
		for _, tag := range tags {
			if !strings.Contains(" h3 h4 h5 p ul li strong em code pre ", " "+tag[1]+" ") {
				t.Errorf("notes hold a <%s> tag", tag[1])
			}
		}
	}
	if !strings.Contains(body, `<span class="run-name">deep &lt;b&gt;5 seeds&lt;/b&gt;</span>`) {
		t.Error("the new name is not on the page (escaped)")
	}
	if strings.Contains(body, `<th>notes</th>`) {
		t.Error("the notes are listed among the tags too")
	}
	if res := post("/notes", url.Values{"notes": {"  "}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("clearing the notes: %d", res.StatusCode)
	}
	if rec, _ := store.GetRun(ids[0]); rec.Tags[notesTag] != "" {
		t.Errorf("notes not cleared: %q", rec.Tags[notesTag])
	}
}

// A run's artifact files are previewed: images inline, JSON indented, text as it is, with
// their sizes; a link out of the root previews nothing.
func TestArtifactPreviews(t *testing.T) {
	dir := t.TempDir()
	store, err := tracker.Open(filepath.Join(dir, "aelab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	art := filepath.Join(store.ArtifactRoot(), "out")
	os.MkdirAll(art, 0o755)
	secret := filepath.Join(dir, "secret.json")
	for name, body := range map[string]string{
		filepath.Join(art, "grid.png"): "\x89PNG", filepath.Join(art, "result.json"): `{"val_bce":0.09,"note":"<b>x</b>"}`,
		filepath.Join(art, "log.txt"): "epoch 1\nepoch 2\n", filepath.Join(art, "big.txt"): strings.Repeat("é", maxPreviewText),
		secret: `{"password":"hunter2"}`,
	} {
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Symlink(secret, filepath.Join(art, "link.json"))
	run, err := store.StartRun(tracker.RunSpec{Experiment: "web-test", Name: "previews"})
	if err != nil {
		t.Fatal(err)
	}
	run.LogArtifact("folder", art, "outputs")
	run.LogArtifact("file", filepath.Join(art, "result.json"), "the result")
	run.Finish(tracker.StatusFinished, "")
	body := readBody(t, do(t, newServer(t, store, Options{}).Handler(), "GET", "/runs/"+run.ID(), nil))
	for _, want := range []string{
		`<img class="preview-image" src="/runs/` + run.ID() + `/artifacts/0/grid.png"`,
		"<pre class=\"preview preview-json\">{\n  &#34;val_bce&#34;: 0.09,\n  &#34;note&#34;: &#34;&lt;b&gt;x&lt;/b&gt;&#34;\n}</pre>",
		"<pre class=\"preview preview-text\">epoch 1\nepoch 2\n</pre>",
		`title="16 bytes">16 B</span>`, "The first 32 KB",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("run page lacks %q", want)
		}
	}
	if strings.Contains(body, "hunter2") {
		t.Error("a link out of the artifact root was previewed")
	}
	if n := strings.Count(body, "preview-json"); n != 2 { // the folder's result.json and the file artifact
		t.Errorf("%d JSON previews, want 2", n)
	}
}

// Mid-run, the per-epoch table has a row for each epoch whose validation was logged, not for
// the epoch under way that only CPU and memory samples have reached; one epoch is enough.
func TestEpochTableMidRun(t *testing.T) {
	store := newStore(t)
	run, err := store.StartRun(tracker.RunSpec{Experiment: "web-test", Name: "mid-run"})
	if err != nil {
		t.Fatal(err)
	}
	for i, epoch := range []int{1, 1, 1, 2, 2} {
		if err := run.LogMetrics(map[string]float64{experiments.SystemCPU.Name: 50, experiments.SystemRSS.Name: 1e8}, int64(i), epoch); err != nil {
			t.Fatal(err)
		}
	}
	if err := experiments.LogEpoch(run, aelib.EpochMetrics{Epoch: 1, Step: 10, TrainLoss: 0.3, ValLoss: 0.2, ValMSE: 0.05, ValMAE: 0.1, Seconds: 3}); err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, store, Options{})
	tab, err := srv.epochTable(run.ID())
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 1 || tab.Rows[0].Epoch != 1 {
		t.Fatalf("rows %+v, want epoch 1 alone", tab.Rows)
	}
	if !strings.Contains(strings.Join(tab.Keys, " "), experiments.ValBCE.Name) || !strings.Contains(strings.Join(tab.Keys, " "), experiments.SystemCPU.Name) {
		t.Errorf("columns %v: want val_bce (one value so far) and the CPU samples", tab.Keys)
	}
	body := readBody(t, do(t, srv.Handler(), "GET", "/runs/"+run.ID(), nil))
	if !strings.Contains(body, `<th class="num" title="val_bce">val BCE</th>`) {
		t.Error("the page's epoch table lacks val BCE")
	}
}

// ?diff=OTHER shows the run's config against another run's, line by line.
func TestConfigDiff(t *testing.T) {
	store := newStore(t)
	mk := func(name string, cfg map[string]any) string {
		b, _ := json.Marshal(cfg)
		r, err := store.StartRun(tracker.RunSpec{Experiment: "web-test", Name: name, Config: b})
		if err != nil {
			t.Fatal(err)
		}
		r.Finish(tracker.StatusFinished, "")
		return r.ID()
	}
	a := mk("a", map[string]any{"model": "deep", "lr": 0.001, "epochs": 10})
	b := mk("b", map[string]any{"model": "deep", "lr": 0.003, "epochs": 10})
	h := newServer(t, store, Options{}).Handler()
	body := readBody(t, do(t, h, "GET", "/runs/"+b+"?diff="+a[:8], nil))
	for _, want := range []string{`<span class="diff-del">-   &#34;lr&#34;: 0.001,</span>`, `<span class="diff-add">&#43;   &#34;lr&#34;: 0.003,</span>`,
		`<span class="diff-same">    &#34;model&#34;: &#34;deep&#34;</span>`} {
		if !strings.Contains(body, want) {
			t.Errorf("diff lacks %q:\n%s", want, regexp.MustCompile(`(?s)<pre class="config diff">.*?</pre>`).FindString(body))
		}
	}
	if body := readBody(t, do(t, h, "GET", "/runs/"+b+"?diff=<zz>", nil)); !strings.Contains(body, "no run &#34;&lt;zz&gt;&#34; to compare with") {
		t.Error("a diff with an unknown run does not say so")
	}
}

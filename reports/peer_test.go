package reports

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/aelib/data"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/tracker"
)

// A store with an aelab run and a peer run of the same model (logged through experiments'
// peer path, from the aelab run's own epochs and reconstructions): the default report shows
// both, and the audit gets the peer's column.
func TestAuditWithPeerRuns(t *testing.T) {
	store, err := tracker.Open(filepath.Join(t.TempDir(), "aelab.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ds, err := data.Load(data.MNIST)
	if err != nil {
		t.Fatal(err)
	}
	cfg := quick(t, aelib.ModelVanilla, 512, 256)
	spec := experiments.Spec{Config: cfg, Section: "1.2", Source: "test"}
	res, err := experiments.Run(context.Background(), store, spec, experiments.Options{Data: ds})
	if err != nil {
		t.Fatal(err)
	}
	s := aelib.PrepareSplits(cfg, ds)
	recon, err := res.Model.Reconstruct(s.TestInputs, s.NTest)
	if err != nil {
		t.Fatal(err)
	}
	spec.Name = "vanilla (pytorch)"
	peer, err := experiments.StartPeerRun(store, spec, experiments.PeerEnv{Name: "pytorch", Info: "test", Device: "a CPU"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.History.Epochs {
		if err := peer.LogEpoch(e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := peer.Finish(recon, s, ds.Test.Subset(cfg.TestSubset).Labels, false); err != nil {
		t.Fatal(err)
	}

	rep, err := Build(store, Options{NoGrids: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 2 || rep.Runs[0].Record.ID != res.RunID || rep.Runs[1].Record.ID != peer.ID() {
		t.Fatalf("runs %v, want aelab's %s then the peer's %s", labels(rep.Runs), res.RunID, peer.ID())
	}
	if l := rep.Runs[1].Label(); !strings.HasPrefix(l, "vanilla (pytorch) ") {
		t.Errorf("peer label %q", l)
	}
	byID := map[string]ClaimResult{}
	for _, c := range rep.Claims {
		byID[c.ID] = c
		if c.Peer == nil {
			t.Fatalf("claim %s has no peer measurement", c.ID)
		}
	}
	if c := byID["params-vanilla"]; c.Verdict != Holds || c.Peer.Verdict != Holds || c.PeerText() != "476,720" ||
		c.Runs[0].Record.ID != res.RunID || c.Peer.Runs[0].Record.ID != peer.ID() || c.Attribution() != "PyTorch reference holds too" {
		t.Errorf("params-vanilla: %s / %s from %s / %s, %q", c.VerdictText(), c.Peer.VerdictText(), c.RunIDs(), c.Peer.RunIDs(), c.Attribution())
	}
	if c := byID["loss-vanilla"]; c.Peer.Verdict != NotComparable || c.Attribution() != "" {
		t.Errorf("loss-vanilla: peer %s, %q", c.Peer.VerdictText(), c.Attribution())
	}
	if c := byID["params-deep"]; c.Peer.Verdict != NotMeasured || !strings.Contains(c.Peer.Detail, "no deep pytorch run") {
		t.Errorf("params-deep: peer %q", c.Peer.Detail)
	}
	md := rep.Markdown()
	for _, want := range []string{"| aelab | PyTorch reference | Verdict |", "holds; PyTorch reference holds too", res.RunID[:8] + " / " + peer.ID()[:8]} {
		if !strings.Contains(md, want) {
			t.Errorf("the Markdown report lacks %q", want)
		}
	}
}

func labels(runs []*Run) []string {
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = r.Label()
	}
	return out
}

func TestAttribution(t *testing.T) {
	c := Claim{Course: 0.0789, Digits: 4}
	m := func(v Verdict, detail string) Measurement {
		return Measurement{Source: "pytorch", Measured: 0.08, Verdict: v, Detail: detail}
	}
	for _, tc := range []struct {
		aelab, peer Measurement
		want        string
	}{
		{m(Differs, "differs by +7.9 %"), m(Differs, "differs by +6.7 %"), "PyTorch reference differs too (by +6.7 %): the course's own"},
		{m(Differs, "differs by +7.9 %"), m(Holds, ""), "PyTorch reference holds: the difference is aelab's"},
		{m(Holds, ""), m(Differs, "differs by +6.7 %"), "PyTorch reference differs by +6.7 %"},
		{m(Holds, ""), m(Holds, ""), "PyTorch reference holds too"},
		{m(Differs, "differs by +7.9 %"), m(NotComparable, "not comparable: …"), ""},
		{m(NotMeasured, "not measured: …"), m(Holds, ""), ""},
	} {
		peer := tc.peer
		r := ClaimResult{Claim: c, Measurement: tc.aelab, Peer: &peer}
		if got := r.Attribution(); got != tc.want {
			t.Errorf("aelab %s, peer %s: %q, want %q", tc.aelab.Verdict, tc.peer.Verdict, got, tc.want)
		}
	}
	if got := (ClaimResult{Claim: c, Measurement: Measurement{Measured: math.NaN()}}).Attribution(); got != "" {
		t.Errorf("without a peer: %q", got)
	}
}

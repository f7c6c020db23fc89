package tracker

import (
	"strings"
	"testing"
)

// RenameRun renames a run by id or prefix, raises its revision (so live views and copies see
// the change), and refuses an empty name, one too long and text PostgreSQL cannot store.
func TestRenameRun(t *testing.T) {
	onBackends(t, func(t *testing.T, b backend) {
		s := b.store(t)
		run := mustStart(t, s, RunSpec{Experiment: "rename", Name: "before"})
		before, err := s.Version(run.ID())
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RenameRun(run.ID()[:8], "  deep, 5 seeds  "); err != nil {
			t.Fatal(err)
		}
		rec, err := s.GetRun(run.ID())
		if err != nil || rec.Name != "deep, 5 seeds" {
			t.Fatalf("renamed: %q, %v", rec.Name, err)
		}
		if after, _ := s.Version(run.ID()); after == before {
			t.Error("a rename leaves the run's version as it was")
		}
		for _, bad := range []string{"", "   ", strings.Repeat("n", MaxRunNameBytes+1), "a\x00b", "bad \xff utf-8"} {
			if err := s.RenameRun(run.ID(), bad); err == nil {
				t.Errorf("RenameRun(%.12q) accepted", bad)
			}
		}
		if err := s.RenameRun("ffffffffffff", "x"); err == nil {
			t.Error("renaming a run that is not there")
		}
		if rec, _ := s.GetRun(run.ID()); rec.Name != "deep, 5 seeds" {
			t.Errorf("a refused rename changed the name to %q", rec.Name)
		}
	})
}

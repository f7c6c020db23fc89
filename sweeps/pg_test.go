package sweeps

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aelab/aelab/internal/pgtest"
	"github.com/aelab/aelab/sweeps/trial"
	"github.com/aelab/aelab/tracker"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.StopShared()
	os.Exit(code)
}

// The same sweep on a PostgreSQL store: River's database/sql driver, the same job code.
func TestSweepOnPostgres(t *testing.T) {
	store, err := tracker.Open(pgtest.Shared(t).NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if store.Dialect() != tracker.Postgres {
		t.Fatalf("dialect %s", store.Dialect())
	}
	var log strings.Builder
	sw, err := RunLocal(context.Background(), store, mustParse(t, tinySpec), LocalOptions{Workers: 2, Log: &log})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	runs, err := store.SweepRuns(sw.ID, -1)
	if err != nil || len(runs) != 4 {
		t.Fatalf("%d runs, %v", len(runs), err)
	}
	for _, r := range runs {
		if r.Status != tracker.StatusFinished {
			t.Errorf("run %s: %s %q", r.ShortID(), r.Status, r.Error)
		}
	}
	st, err := Status(context.Background(), store, sw.ID[:8])
	if err != nil || st.Counts[trial.Finished] != 4 {
		t.Fatalf("status %v, %v", st, err)
	}
	// A second sweep on the same database: River's tables are there already.
	if _, err := Create(context.Background(), store, mustParse(t, tinySpec), Options{}); err != nil {
		t.Fatal(err)
	}
	if c, err := Cancel(context.Background(), store, sw.ID); err != nil || c.Unfinished != 0 {
		t.Errorf("cancelling a finished sweep: %+v, %v", c, err)
	}
}

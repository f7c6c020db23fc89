package web

import "net/http"

// sweepsView is the sweeps page's data. Sweeps are recorded by the sweeps work (a sweep, its
// search space and its trials, each trial an ordinary run); until aelab records them,
// Available is false and the page says so. Filling it in is sweepsData's job alone: the page
// already lays out a trials table, a parallel-coordinates view and the best trial.
type sweepsView struct {
	Available bool
	Sweeps    []sweepSummary
}

// sweepSummary is one sweep in the list.
type sweepSummary struct {
	ID, Name, Status string
	Trials, Done     int
	BestRun          string
	BestValue        string
}

// sweepsData reads the store's sweeps. This aelab does not record sweeps yet.
func (s *Server) sweepsData() (*sweepsView, error) {
	return &sweepsView{}, nil
}

func (s *Server) sweepsPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.sweepsData()
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	s.page(w, r, "sweeps", "Sweeps", v)
}

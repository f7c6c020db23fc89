package tracker

import (
	"fmt"
)

// AttachRun returns a handle on a RUNNING run that another process started and owns (its
// heartbeat and its end): a program that `aelab run` starts finds its run's id in
// AELAB_RUN_ID and logs metrics, params, tags and artifacts into it through this handle.
// The handle sends no heartbeat; Store.Close writes what it kept for the store. Finish on
// it ends the run as its owner would, so a program under another's run leaves that to the
// owner.
//
// The owner and the attached process share the run's write counter (logged_seq), which
// only matters while the store is unreachable: a write kept for later by one of them may
// then be taken as already written by the other's count, so metrics logged through both
// during an outage can be lost.
func (s *Store) AttachRun(idOrPrefix string) (*Run, error) {
	rec, err := s.GetRun(idOrPrefix)
	if err != nil {
		return nil, fmt.Errorf("tracker: attach to run: %w", err)
	}
	if rec.Status != StatusRunning {
		return nil, fmt.Errorf("tracker: attach to run %s: it is %s, not RUNNING", short(rec.ID), rec.Status)
	}
	var config any
	if len(rec.Config) > 0 {
		config = string(rec.Config)
	}
	spec := RunSpec{Experiment: rec.Experiment, Name: rec.Name, Source: rec.Source, Params: rec.Params, Tags: rec.Tags}
	r := &Run{store: s, id: rec.ID, hbStop: make(chan struct{}), hbDone: make(chan struct{}),
		rec: s.newRunRecord(spec, config, rec.OwnerHost, rec.StartTime.UnixMilli(), 0)}
	close(r.hbDone) // no heartbeat goroutine: the owner beats
	s.mu.Lock()
	s.runs[r] = struct{}{}
	s.mu.Unlock()
	return r, nil
}

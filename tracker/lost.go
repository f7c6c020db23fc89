package tracker

import (
	"database/sql"
	"fmt"
	"os"
	"time"
)

// DefaultLostAfter is the least age of a heartbeat that makes a run LOST.
const DefaultLostAfter = 30 * time.Second

// hostName is this machine's name as runs record it: $AELAB_HOSTNAME when set
// (tests that play several hosts, containers that share a name), else the
// system's.
func hostName() string {
	if h := os.Getenv("AELAB_HOSTNAME"); h != "" {
		return h
	}
	h, _ := os.Hostname()
	return h
}

// SetLostAfter sets the least age of a heartbeat that makes readers of this
// store call a RUNNING run LOST (default DefaultLostAfter; a run's own limit is
// 3 of its heartbeat intervals when that is longer).
func (s *Store) SetLostAfter(d time.Duration) {
	if d <= 0 {
		d = DefaultLostAfter
	}
	s.mu.Lock()
	s.lostAfter = d
	s.mu.Unlock()
}

// lostReason says why a RUNNING run is lost, or "" if it may be alive: its
// process is gone from this host, or (on any host) its heartbeat is stale.
func (s *Store) lostReason(pid int, host string, heartbeat time.Time, interval time.Duration, now time.Time) string {
	if host != "" && host == hostName() && pid > 0 && pid != os.Getpid() && !processAlive(pid) {
		return fmt.Sprintf("process %d on %s is gone", pid, host)
	}
	if interval <= 0 {
		interval = DefaultHeartbeatInterval
	}
	s.mu.Lock()
	stale := max(3*interval, s.lostAfter)
	s.mu.Unlock()
	if !heartbeat.IsZero() && now.Sub(heartbeat) > stale {
		return fmt.Sprintf("no heartbeat from %s since %s", host, heartbeat.Format("2006-01-02 15:04:05"))
	}
	return ""
}

// reapLost finds RUNNING runs whose process is gone and, unless the store is
// read-only, marks them LOST in the store (only if the row is unchanged since it
// was read). It returns every lost run found with its reason, so that readers
// report them LOST even where nothing was written.
func (s *Store) reapLost() map[string]string {
	rows, err := s.reader().query(`SELECT id, owner_pid, owner_host, heartbeat, heartbeat_interval FROM runs WHERE status = 'RUNNING'`)
	if err != nil {
		return nil
	}
	type cand struct {
		id, reason string
		hb         sql.NullInt64
	}
	var found []cand
	now := s.now()
	for rows.Next() {
		var c cand
		var pid int
		var host string
		var interval sql.NullInt64
		if err := rows.Scan(&c.id, &pid, &host, &c.hb, &interval); err != nil {
			continue
		}
		c.reason = s.lostReason(pid, host, msTime(c.hb), time.Duration(interval.Int64)*time.Millisecond, now)
		if c.reason != "" {
			found = append(found, c)
		}
	}
	rows.Close()
	if len(found) == 0 {
		return nil
	}
	lost := make(map[string]string, len(found))
	for _, c := range found {
		lost[c.id] = c.reason
		if !s.readOnly {
			s.exec(`UPDATE runs SET status = 'LOST', error = ?, end_time = heartbeat
				WHERE id = ? AND status = 'RUNNING' AND heartbeat IS NOT DISTINCT FROM ?`, c.reason, c.id, c.hb)
		}
	}
	return lost
}

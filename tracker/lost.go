package tracker

import (
	"database/sql"
	"fmt"
	"os"
	"time"
)

// staleAfter is how old a heartbeat may be before a run is taken for lost.
func staleAfter(interval time.Duration) time.Duration {
	if interval <= 0 {
		interval = DefaultHeartbeatInterval
	}
	return max(3*interval, 30*time.Second)
}

// lostReason says why a RUNNING run is lost, or "" if it may be alive.
func lostReason(pid int, host string, heartbeat time.Time, interval time.Duration, now time.Time) string {
	myHost, _ := os.Hostname()
	if host != "" && host == myHost && pid > 0 && pid != os.Getpid() && !processAlive(pid) {
		return fmt.Sprintf("process %d on %s is gone", pid, host)
	}
	if !heartbeat.IsZero() && now.Sub(heartbeat) > staleAfter(interval) {
		return fmt.Sprintf("no heartbeat since %s", heartbeat.Format("2006-01-02 15:04:05"))
	}
	return ""
}

// reapLost finds RUNNING runs whose process is gone and, unless the store is
// read-only, marks them LOST in the store (only if the row is unchanged since it
// was read). It returns every lost run found with its reason, so that readers
// report them LOST even where nothing was written.
func (s *Store) reapLost() map[string]string {
	rows, err := s.r.Query(`SELECT id, owner_pid, owner_host, heartbeat, heartbeat_interval FROM runs WHERE status = 'RUNNING'`)
	if err != nil {
		return nil
	}
	type cand struct {
		id, reason string
		hb         sql.NullInt64
	}
	var found []cand
	now := time.Now()
	for rows.Next() {
		var c cand
		var pid int
		var host string
		var interval sql.NullInt64
		if err := rows.Scan(&c.id, &pid, &host, &c.hb, &interval); err != nil {
			continue
		}
		c.reason = lostReason(pid, host, msTime(c.hb), time.Duration(interval.Int64)*time.Millisecond, now)
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

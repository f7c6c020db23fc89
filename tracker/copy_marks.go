package tracker

import (
	"database/sql"
	"encoding/json"
	"maps"
	"slices"
)

// A copy mark (table copy_marks, in the target) records what the last copy of
// a run left there: the digest of its content (tags aside), the source's tags
// then and the target's tags after. With it a later copy tells a change in
// the source (copied) from an edit made in the target since (a conflict, or
// for tags a merge where the target's newer value wins), and a run deleted
// in the target from one never copied.

// copyMark is a run's row of copy_marks.
type copyMark struct {
	digest                 string
	sourceTags, targetTags map[string]string
}

// readMarks reads the copy marks of the runs ids in s.
func (s *Store) readMarks(ids []string) (map[string]*copyMark, error) {
	rows, err := s.reader().query(`SELECT run_id, digest, source_tags, target_tags FROM copy_marks WHERE run_id IN `+
		placeholders(len(ids)), anys(ids)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]*copyMark{}
	for rows.Next() {
		var id, srcTags, dstTags string
		m := &copyMark{}
		if err := rows.Scan(&id, &m.digest, &srcTags, &dstTags); err != nil {
			return nil, err
		}
		if json.Unmarshal([]byte(srcTags), &m.sourceTags) != nil || json.Unmarshal([]byte(dstTags), &m.targetTags) != nil {
			continue // unreadable: as if never copied, which makes differences conflicts
		}
		out[id] = m
	}
	return out, rows.Err()
}

// markRow is the copy_marks row recording that run id now holds content of
// digest with tags dstTags, copied from a source whose tags were srcTags.
func markRow(id, digest string, srcTags, dstTags map[string]string, now int64) []any {
	enc := func(m map[string]string) string {
		b, _ := json.Marshal(m) // a map of strings always encodes
		return string(b)
	}
	return []any{id, digest, enc(srcTags), enc(dstTags), now}
}

var markColumns = []string{"run_id", "digest", "source_tags", "target_tags", "copied"}

const markUpsert = ` ON CONFLICT(run_id) DO UPDATE SET digest = excluded.digest, source_tags = excluded.source_tags,
	target_tags = excluded.target_tags, copied = excluded.copied`

// copyAction is what Copy does with one run.
type copyAction int

const (
	copySkip      copyAction = iota // conflict or deleted in the target: nothing written
	copyNew                         // not in the target: written
	copyUpdate                      // in the target: replaced by the source's content, with merged tags
	copyUnchanged                   // the same in both: only its mark may be written
)

// planRun decides what Copy does with run r of the source, given the target's
// copy old (nil when absent) and the mark of the last copy (nil when none):
// the action, the tags the target ends with, and what to report in st.
func planRun(r, old *copiedRun, m *copyMark, overwrite bool, st *CopyStats) (copyAction, map[string]string) {
	if old == nil {
		if m != nil { // copied before, removed from the target since: it stays removed
			st.KeptDeleted = append(st.KeptDeleted, r.id)
			return copySkip, nil
		}
		return copyNew, r.tags
	}
	src, dst := r.digests(), old.digests()
	srcSum, dstSum := r.contentDigest(), old.contentDigest()
	targetEdited := dstSum != srcSum && !earlierCopy(r, old, src, dst)
	if m != nil {
		targetEdited = dstSum != m.digest && !markedLost(old, m)
	}
	if old.deleted != 0 && r.deleted == 0 && targetEdited {
		st.KeptDeleted = append(st.KeptDeleted, r.id)
		return copySkip, nil
	}
	if srcSum != dstSum && targetEdited {
		c := CopyConflict{RunID: r.id, Name: old.name, Fields: differing(src, dst), Overwritten: overwrite}
		st.Conflicts = append(st.Conflicts, c)
		if !overwrite {
			return copySkip, nil
		}
		return copyUpdate, r.tags
	}
	tags, notes := mergeTags(r.id, m, r.tags, old.tags)
	st.TagsKept = append(st.TagsKept, notes...)
	if srcSum == dstSum && maps.Equal(tags, old.tags) {
		return copyUnchanged, tags
	}
	return copyUpdate, tags
}

// markedLost reports whether the target's copy old differs from what the last
// copy left (m) only in that the target's store marked it LOST, as any store
// does with a RUNNING run whose heartbeat stopped: that is no edit, and the
// source's end of the run is copied over it.
func markedLost(old *copiedRun, m *copyMark) bool {
	if old.status != string(StatusLost) {
		return false
	}
	was := *old
	was.status, was.errText, was.end = string(StatusRunning), "", sql.NullInt64{}
	was.sums, was.sum = nil, ""
	return was.contentDigest() == m.digest
}

// earlierCopy reports whether old, a run the target holds with no mark (copied
// before marks were kept), is an earlier copy of the source's run r that was
// RUNNING then: it is RUNNING or LOST, its metric history is the start of r's,
// and nothing else but its status and tags differs. Such a run is updated, not
// reported as a conflict; src and dst are their digests.
func earlierCopy(r, old *copiedRun, src, dst map[string][32]byte) bool {
	if old.status != string(StatusRunning) && old.status != string(StatusLost) || len(old.history) > len(r.history) {
		return false
	}
	for _, f := range differing(src, dst) {
		if f != "status" && f != "metrics" && f != "tags" {
			return false
		}
	}
	for i, row := range old.history {
		for c := 1; c < len(row); c++ { // run_id aside
			if row[c] != r.history[i][c] {
				return false
			}
		}
	}
	return true
}

// mergeTags merges the source's tags s into the target's d, key by key: a tag
// the target changed (set, altered or removed) since the last copy keeps the
// target's value, and is reported when the source's differs; else a tag the
// source changed takes the source's; else the target's stays. Without a mark
// the target's value wins where both have the key, and each side's own keys
// are kept.
func mergeTags(id string, m *copyMark, s, d map[string]string) (map[string]string, []CopyTagNote) {
	keys := map[string]bool{}
	for _, kv := range []map[string]string{s, d} {
		for k := range kv {
			keys[k] = true
		}
	}
	if m != nil {
		for _, kv := range []map[string]string{m.sourceTags, m.targetTags} {
			for k := range kv {
				keys[k] = true
			}
		}
	}
	out := map[string]string{}
	var notes []CopyTagNote
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		sv, sok := s[k]
		dv, dok := d[k]
		var srcChanged, dstChanged bool
		if m != nil {
			bv, bok := m.sourceTags[k]
			srcChanged = sok != bok || sv != bv
			tv, tok := m.targetTags[k]
			dstChanged = dok != tok || dv != tv
		} else {
			dstChanged, srcChanged = dok, sok && !dok
		}
		keep, val := dok, dv
		if !dstChanged && srcChanged {
			keep, val = sok, sv
		}
		if dstChanged && (sok != dok || sv != dv) {
			n := CopyTagNote{RunID: id, Key: k}
			if dok {
				n.Target = &dv
			}
			if sok {
				n.Source = &sv
			}
			notes = append(notes, n)
		}
		if keep {
			out[k] = val
		}
	}
	return out, notes
}

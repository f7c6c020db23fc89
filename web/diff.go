package web

// The config diff on a run's page: ?diff=OTHER shows the run's config against another run's,
// line by line (both indented the same way), as a unified diff.

import (
	"bytes"
	"encoding/json"
	"strings"
)

// maxDiffLines bounds each side of a config diff (configs are a few dozen lines).
const maxDiffLines = 2000

// diffLine is one line of a diff: Op is ' ' (both), '-' (only the other run) or '+' (only
// this one).
type diffLine struct {
	Op   string
	Text string
}

// configDiff is the run's config compared with another's.
type configDiff struct {
	Other     string // the other run's id
	OtherName string
	Lines     []diffLine
	Same      bool
	Err       string // why there is no diff (no such run, no config)
}

// indentConfig writes a stored config as indented JSON lines; nil when there is none.
func indentConfig(raw []byte) []string {
	if len(raw) == 0 {
		return nil
	}
	var b bytes.Buffer
	if json.Indent(&b, raw, "", "  ") != nil {
		return nil
	}
	return strings.Split(b.String(), "\n")
}

// diffLines is the shortest edit script from a to b (longest common subsequence), as lines.
func diffLines(a, b []string) []diffLine {
	a, b = a[:min(len(a), maxDiffLines)], b[:min(len(b), maxDiffLines)]
	// lcs[i][j] is the longest common subsequence of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []diffLine
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			out = append(out, diffLine{" ", a[i]})
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, diffLine{"-", a[i]})
			i++
		default:
			out = append(out, diffLine{"+", b[j]})
			j++
		}
	}
	for ; i < len(a); i++ {
		out = append(out, diffLine{"-", a[i]})
	}
	for ; j < len(b); j++ {
		out = append(out, diffLine{"+", b[j]})
	}
	return out
}

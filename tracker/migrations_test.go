package tracker

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"strconv"
	"strings"
	"testing"
)

// checksumLine is one line of migrations/checksums.txt.
type checksumLine struct {
	version int
	dialect string
	sum     string
}

// readChecksums parses checksums.txt: "version dialect sha256" lines, # comments.
func readChecksums(t *testing.T, text []byte) []checksumLine {
	t.Helper()
	var out []checksumLine
	sc := bufio.NewScanner(bytes.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.Atoi(f[0])
		if len(f) != 3 || err != nil || (f[1] != "sqlite" && f[1] != "postgres") || len(f[2]) != 64 {
			t.Fatalf("checksums.txt:%d: %q is not \"version sqlite|postgres sha256\"", n, line)
		}
		out = append(out, checksumLine{v, f[1], f[2]})
	}
	return out
}

// Issue #20: a shipped migration never changes and the record of them only
// grows. Every migration file matches its checksum; every file has one; both
// dialects have versions 1 to CurrentSchemaVersion and no other; and every
// earlier committed checksums.txt is the start of today's.
func TestMigrationChecksums(t *testing.T) {
	text, err := os.ReadFile("migrations/checksums.txt")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	count := map[string]int{}
	for _, c := range readChecksums(t, text) {
		file := migrationPath(c.dialect, c.version)
		if listed[file] {
			t.Errorf("checksums.txt lists %s twice", file)
		}
		listed[file] = true
		count[c.dialect]++
		b, err := migrationFiles.ReadFile(file)
		if err != nil {
			t.Errorf("checksums.txt lists %s, which is gone: a shipped migration stays", file)
			continue
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != c.sum {
			t.Errorf("%s changed after it shipped (sha256 %x, recorded %s): add a new migration instead", file, sum, c.sum)
		}
	}
	fs.WalkDir(migrationFiles, "migrations", func(p string, d fs.DirEntry, err error) error {
		if err == nil && path.Ext(p) == ".sql" && !listed[p] {
			t.Errorf("%s has no line in migrations/checksums.txt: append \"version dialect sha256\"", p)
		}
		return err
	})
	for _, d := range []string{"sqlite", "postgres"} {
		for v := 1; v <= CurrentSchemaVersion; v++ {
			if !listed[migrationPath(d, v)] {
				t.Errorf("no checksum for migration %d (%s)", v, d)
			}
		}
		if count[d] != CurrentSchemaVersion {
			t.Errorf("%d %s migrations recorded, CurrentSchemaVersion is %d", count[d], d, CurrentSchemaVersion)
		}
	}
	if len(sqliteMigrations) != CurrentSchemaVersion || len(postgresMigrations) != CurrentSchemaVersion {
		t.Errorf("%d and %d migrations loaded", len(sqliteMigrations), len(postgresMigrations))
	}

	// Every committed version of checksums.txt starts today's.
	out, err := exec.Command("git", "log", "--format=%H", "--", "migrations/checksums.txt").Output()
	if err != nil {
		t.Logf("no git history here (%v): earlier versions of checksums.txt not compared", err)
		return
	}
	for _, commit := range strings.Fields(string(out)) {
		old, err := exec.Command("git", "show", commit+":./migrations/checksums.txt").Output()
		if err != nil {
			t.Fatalf("git show %s: %v", commit, err)
		}
		if !bytes.HasPrefix(text, old) {
			t.Errorf("checksums.txt of commit %.12s is not the start of today's: lines were changed or removed", commit)
		}
	}
}

// PostgreSQL's aelab_num spells numberPattern in migration 1, which never
// changes: the Go pattern must stay the one the migration has.
func TestNumberPatternInMigration(t *testing.T) {
	want := fmt.Sprintf("\tIF t !~ '%s' THEN\n", numberPattern)
	if !strings.Contains(postgresMigrations[0], want) {
		t.Errorf("migrations/postgres/0001.sql does not test numberPattern %s", numberPattern)
	}
}

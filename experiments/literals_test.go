package experiments

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aelab/aelab/aelib"
)

// Production code names a metric through the schema (experiments.ValBCE.Name), never as a
// string literal: a literal survives a rename and reads a metric no run logs (last round a
// report looked for val_loss while runs logged val_bce). Struct tags and the registry's own
// variant measures (aelib/variants.go declares those) are exempt; tests may write literals.
func TestMetricNamesAreNotLiterals(t *testing.T) {
	measures := map[string]bool{}
	for _, v := range aelib.Variants() {
		for _, m := range v.Measures {
			measures[m.Name] = true
		}
	}
	var names []string
	for _, m := range Metrics() {
		if strings.Contains(m.Name, "_") && !measures[m.Name] { // "params" is also a table's name
			names = append(names, regexp.QuoteMeta(m.Name))
		}
	}
	literal := regexp.MustCompile(`(json:)?"(` + strings.Join(names, "|") + `)"`)
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "third_party" || strings.HasPrefix(d.Name(), ".")) && path != ".." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || path == filepath.Join("..", "experiments", "metrics.go") ||
			path == filepath.Join("..", "sysmetrics", "metrics.go") { // the system metrics' names, which the schema uses
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(src), "\n") {
			if code, _, ok := strings.Cut(line, "//"); ok && strings.Count(code, `"`)%2 == 0 {
				line = code // a comment may name a metric
			}
			for _, m := range literal.FindAllStringSubmatch(line, -1) {
				if m[1] == "" {
					t.Errorf("%s:%d: metric name %s as a literal; use the schema's (experiments)", path, i+1, m[0])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

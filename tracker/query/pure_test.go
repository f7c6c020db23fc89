package query_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The query language is pure: its code imports no database, file, network or aelab package,
// so that the web UI and any tool can parse queries without a store (issue 20, item 2).
func TestImportsNoIO(t *testing.T) {
	allowed := []string{"errors", "fmt", "strconv", "strings", "time", "unicode", "unicode/utf8"}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !slices.Contains(allowed, path) {
				t.Errorf("%s imports %s; the query language may import only %v", name, path, allowed)
			}
		}
		checked++
	}
	if checked < 3 {
		t.Errorf("checked %d files of package query, want its lexer, parser and AST", checked)
	}
}

package main

import (
	"reflect"

	"github.com/aelab/aelab/internal/termtext"
)

// termArgs escapes, for a terminal, the arguments of a Printf call that are strings (of any
// string type: names, tags, states read from a store), so that a control sequence in them is
// shown instead of acted on. Other arguments pass unchanged.
func termArgs(args ...any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a
		if v := reflect.ValueOf(a); v.Kind() == reflect.String {
			out[i] = termtext.Escape(v.String())
		}
	}
	return out
}

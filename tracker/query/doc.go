// Package query is the query language of aelab's run store (package tracker): the lexer,
// the parser and the AST of a filter such as
//
//	metrics.val_bce < 0.1 and params.model = "deep" or tags.x like 'a%'
//
// and of an order-by. It does no I/O and writes no SQL: package tracker turns an Expr into
// parameterised SQL (user text, keys included, is only ever bound as a parameter), and the
// web UI reads field names and queries with it. The grammar:
//
//	expr       := or
//	or         := and ("or" and)*
//	and        := not ("and" not)*
//	not        := "not" not | primary
//	primary    := "(" expr ")" | comparison
//	comparison := ident op value
//	            | ident ["not"] "in" "(" value ("," value)* ")"
//	            | ident ["not"] "like" string
//	op         := "=" | "!=" | "<>" | "<" | "<=" | ">" | ">="
//	value      := number | 'single quoted' | "double quoted"
//
// An ident is metrics.KEY, params.KEY, tags.KEY or attributes.NAME (singular
// forms metric., param., tag., attribute. work too; a bare attribute name
// such as status is attributes.status). Keys may contain dots
// (params.env.go_version) or be quoted with backticks for other characters
// (metrics.`val/loss`). Keywords are case-insensitive. Attribute names:
// id, name, status, experiment, source, start_time, end_time.
//
// Semantics:
//
//   - metrics.KEY compares the run's latest value numerically; comparing a
//     metric with a string is an error.
//   - params.KEY and tags.KEY compare as strings, except that a comparison with
//     a number compares numerically, and only matches values that parse as
//     numbers (params.epochs >= 10 does not match epochs="ten").
//   - a comparison on a key matches only runs that have the key:
//     params.model != "deep" skips runs without a model param, whereas
//     not params.model = "deep" keeps them.
//   - like uses SQL LIKE patterns (% and _), case-insensitive for ASCII.
//   - attributes.status compares case-insensitively; start_time and end_time
//     take a number (Unix milliseconds) or a date string: "2006-01-02",
//     "2006-01-02 15:04", "2006-01-02 15:04:05" (local time) or RFC 3339.
//
// An order-by ([ParseOrderBy]; tracker.Search.OrderBy) is a comma-separated
// list of idents, each optionally followed by asc or desc (default asc), e.g.
// "metrics.val_mse asc, attributes.start_time desc". Runs missing an ordered
// metric, param or tag come last whatever the direction; without an order-by
// the store lists runs newest first. A filter may also end with "order by …"
// ([ParseFilter] returns its terms).
//
// A malformed query fails with an [*Error] naming the 1-based column of
// the offending token, e.g.
//
//	query: at column 17: expected a value after '<', got end of input
//
// Queries are bounded, each limit a positioned *Error: [MaxLength] characters,
// [MaxDepth] levels of parentheses and 'not', [MaxTerms] comparisons and listed
// values, and [MaxOrderTerms] order keys (tracker bounds the SQL subqueries too:
// tracker.MaxQueryLookups). A chain of one operator is one [LogicalExpr], however
// long, so that long generated queries stay shallow. A number beyond float64's
// range is an error; any other keeps its meaning (attributes.start_time > 1e300
// matches no run).
package query

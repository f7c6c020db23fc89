package tracker

import (
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// IsPostgresURL reports whether location names a PostgreSQL database
// (postgres://… or postgresql://…) rather than a SQLite file.
func IsPostgresURL(location string) bool {
	l := strings.ToLower(location)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// RedactURL is a store location fit to print: a PostgreSQL URL without its
// password (the user name stays); a file path as it is.
func RedactURL(location string) string {
	if !IsPostgresURL(location) {
		return location
	}
	u, err := url.Parse(location)
	if err != nil {
		return Redact(location)
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	if q := u.Query(); q.Has("password") {
		q.Del("password")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// urlPassword finds the password of a PostgreSQL URL (group 1) and a password
// parameter (group 2) anywhere in a text.
var urlPassword = regexp.MustCompile(`(?i)postgres(?:ql)?://[^\s:/?#@]*:([^\s@/]*)@|[?&]password=([^\s&#]*)`)

// Redact scrubs the passwords of the PostgreSQL URLs in text (a command line,
// an error message) as "***".
func Redact(text string) string {
	if !strings.Contains(strings.ToLower(text), "postgres") && !strings.Contains(text, "password=") {
		return text
	}
	return urlPassword.ReplaceAllStringFunc(text, func(m string) string {
		sub := urlPassword.FindStringSubmatchIndex(m)
		for g := 1; g <= 2; g++ {
			if sub[2*g] >= 0 && sub[2*g+1] > sub[2*g] {
				return m[:sub[2*g]] + "***" + m[sub[2*g+1]:]
			}
		}
		return m
	})
}

// minSecret is the shortest password scrubbed from stored text by value: a
// shorter one would also match ordinary words.
const minSecret = 6

// scrubText removes the store's password, and any PostgreSQL URL's, from a text
// about to be stored or shown.
func (s *Store) scrubText(text string) string {
	text = Redact(text)
	if len(s.secret) < minSecret {
		return text
	}
	text = strings.ReplaceAll(text, s.secret, "***")
	if quoted, err := json.Marshal(s.secret); err == nil { // as it appears inside a JSON string
		text = strings.ReplaceAll(text, string(quoted[1:len(quoted)-1]), "***")
	}
	return text
}

// scrubbedError shows err with a password hidden (errors.Is and As still see err).
type scrubbedError struct {
	err    error
	secret string
}

func (e scrubbedError) Error() string {
	msg := Redact(e.err.Error())
	if e.secret != "" {
		msg = strings.ReplaceAll(msg, e.secret, "***")
	}
	// pgx lists each connection attempt on a line of its own (often the same
	// twice: with TLS and without); one line reads better in a terminal.
	var lines []string
	for _, l := range strings.Split(msg, "\n") {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(lines, l) {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, " ")
}

func (e scrubbedError) Unwrap() error { return e.err }

// scrub hides secret, and any URL's password, in err's message.
func scrub(err error, secret string) error {
	if err == nil {
		return nil
	}
	return scrubbedError{err, secret}
}

package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// tokenCookie carries a value derived from the token (never the token itself) once a browser
// has opened the UI with ?token=.
const tokenCookie = "aelab_ui_session"

// maxFormBytes bounds the body of a POST (a tag is small).
const maxFormBytes = 64 << 10

// Content Security Policies: pages run only the server's own scripts and styles; the report
// (a self-contained document with its own styles) runs no script at all; artifacts are
// sandboxed, so an HTML or SVG file a run saved cannot run script in the UI's origin.
const (
	pagePolicy     = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	reportPolicy   = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	artifactPolicy = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"
)

// secure wraps the routes with the checks every request passes: security headers; the token
// (or, without one, a loopback Host header); and for changes, the read-only switch, a
// same-origin request and the CSRF token.
func (s *Server) secure(next http.Handler) http.Handler {
	crossOrigin := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", pagePolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer") // a ?token= never leaves in a Referer
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.opts.Token != "" {
			if !s.authorized(w, r) {
				return
			}
		} else if !loopbackHost(r.Host) {
			// A page elsewhere that resolves its own name to 127.0.0.1 (DNS rebinding) would
			// otherwise read the store through the visitor's browser.
			s.fail(w, r, http.StatusForbidden, fmt.Errorf("this server answers only requests for localhost or a loopback address, not host %q (start it with a token to serve other names)", r.Host))
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if s.opts.ReadOnly {
				s.fail(w, r, http.StatusForbidden, fmt.Errorf("this aelab ui is read-only (--read-only): nothing can be changed"))
				return
			}
			if err := crossOrigin.Check(r); err != nil {
				s.fail(w, r, http.StatusForbidden, fmt.Errorf("refused a change from another site: %v", err))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if !s.csrfOK(r) {
				s.fail(w, r, http.StatusForbidden, fmt.Errorf("missing or wrong CSRF token: reload the page and try again"))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// loopbackHost says whether a Host header names this machine's loopback.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// equalSecret compares a secret in constant time (over SHA-256 digests, so not even its
// length leaks).
func equalSecret(given, want string) bool {
	a, b := sha256.Sum256([]byte(given)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// session is the cookie value that stands for the token.
func (s *Server) session() string {
	sum := sha256.Sum256([]byte("aelab ui session\x00" + s.opts.Token))
	return hex.EncodeToString(sum[:])
}

// authorized checks the token: "Authorization: Bearer TOKEN", the session cookie, or
// ?token=TOKEN, which sets the cookie and, for a page, redirects to the address without it.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && equalSecret(auth, s.opts.Token) {
		return true
	}
	if c, err := r.Cookie(tokenCookie); err == nil && equalSecret(c.Value, s.session()) {
		return true
	}
	q := r.URL.Query()
	if t := q.Get("token"); t != "" && equalSecret(t, s.opts.Token) {
		http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: s.session(), Path: "/",
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
		if r.Method == http.MethodGet && !isAPI(r) {
			q.Del("token")
			http.Redirect(w, r, localTarget(r.URL.EscapedPath(), q.Encode()), http.StatusSeeOther)
			return false
		}
		return true
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="aelab ui"`)
	s.fail(w, r, http.StatusUnauthorized, fmt.Errorf("this aelab ui needs its token: open the address once with ?token=… (the token the server was started with), or send \"Authorization: Bearer …\""))
	return false
}

// localTarget is a redirect target on this server for a request path and query: leading
// slashes and backslashes collapse to one slash, so "//evil.com/" (which a browser reads as
// another host) becomes "/evil.com/", a path here.
func localTarget(path, rawQuery string) string {
	target := "/" + strings.TrimLeft(path, "/\\")
	if rawQuery != "" {
		target += "?" + rawQuery
	}
	return target
}

// csrfOK checks the CSRF token of a change: the X-CSRF-Token header or the csrf form field.
func (s *Server) csrfOK(r *http.Request) bool {
	given := r.Header.Get("X-CSRF-Token")
	if given == "" {
		given = r.PostFormValue("csrf")
	}
	return given != "" && equalSecret(given, s.csrf)
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

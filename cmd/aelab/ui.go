package main

// `aelab ui`: the experiment store in the browser (package web).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/aelab/aelab/tracker"
	"github.com/aelab/aelab/web"
)

// uiTokenEnv may hold the token instead of --token (a flag shows in the process list).
const uiTokenEnv = "AELAB_UI_TOKEN"

func runUI(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("ui", stderr)
	db := storeFlag(fs)
	addr := fs.String("addr", "127.0.0.1:5555", "`host:port` to listen on; anything but loopback needs a token (port 0: any free port)")
	token := fs.String("token", "", "require this token (16+ characters) on every request; default $"+uiTokenEnv)
	tokenFile := fs.String("token-file", "", "read the token from this `file` (first line)")
	readOnly := fs.Bool("read-only", false, "refuse every change (tags, delete)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: aelab ui [--db PATH] [--addr 127.0.0.1:5555] [--token-file FILE] [--read-only]")
		fs.PrintDefaults()
	}
	if err := parseFlagsOnly(fs, args); err != nil {
		return helpOr(err)
	}
	secret, err := uiToken(*token, *tokenFile)
	if err != nil {
		return err
	}
	if !web.IsLoopback(*addr) && secret == "" {
		return usageError{fmt.Errorf("--addr %s is not loopback: %w", *addr, web.ErrTokenRequired)}
	}
	// Never a new store, never another program's database (a bad --db: usage errors);
	// --read-only writes nothing at all, not even the LOST status of dead runs, and works on
	// a read-only filesystem.
	var store *tracker.Store
	if *readOnly {
		store, err = openReadOnly(*db)
	} else {
		store, err = openExisting(*db)
	}
	if err != nil {
		return err
	}
	defer store.Close()
	logger := log.New(stderr, "aelab ui: ", log.LstdFlags)
	srv, err := web.New(store, web.Options{Token: secret, ReadOnly: *readOnly, Log: logger})
	if err != nil {
		return usageError{err}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return usagef("--addr: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	access := "loopback only"
	if secret != "" {
		access = "token required: open the address once with ?token=… (your token)"
	}
	mode := ""
	if *readOnly {
		mode = ", read-only"
	}
	fmt.Fprintf(stdout, "aelab ui: serving http://%s/ (%s%s; store %s). Ctrl-C stops it.\n", ln.Addr(), access, mode, store.Path())
	if err := srv.Serve(ctx, ln); err != nil && !errors.Is(err, net.ErrClosed) {
		if errors.Is(err, web.ErrTokenRequired) {
			return usageError{err}
		}
		return err
	}
	return nil
}

// uiToken is the token from --token, --token-file or $AELAB_UI_TOKEN ("" for none).
func uiToken(flagToken, file string) (string, error) {
	if flagToken != "" && file != "" {
		return "", usagef("give --token or --token-file, not both")
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", usagef("--token-file: %v", err)
		}
		t, _, _ := strings.Cut(string(b), "\n")
		if t = strings.TrimSpace(t); t == "" {
			return "", usagef("--token-file %s: the first line is empty", file)
		}
		return t, nil
	}
	if flagToken == "" {
		flagToken = os.Getenv(uiTokenEnv)
	}
	return strings.TrimSpace(flagToken), nil
}

package web

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"strings"
	"testing"
)

// TestVendoredAssetsMatchTheManifest checks that every embedded front-end asset under
// static/vendor is listed in assets.txt with its npm package, version and licence, and is the
// file whose digest the manifest records (what `make ui-assets` fetched).
func TestVendoredAssetsMatchTheManifest(t *testing.T) {
	f, err := os.Open("assets.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	listed := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 6 {
			t.Fatalf("assets.txt: %q: want package, version, licence, source, destination, sha256", line)
		}
		pkg, version, licence, dst, sum := fields[0], fields[1], fields[2], fields[4], fields[5]
		if strings.Count(version, ".") != 2 || strings.ContainsAny(version, "^~*x<>") || licence == "" {
			t.Errorf("%s: version %q is not exact or no licence", pkg, version)
		}
		b, err := staticFS.ReadFile("static/vendor/" + dst)
		if err != nil {
			t.Errorf("%s: %v", dst, err)
			continue
		}
		if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s: the embedded file is not the one the manifest records (run make ui-assets)", dst)
		}
		listed[dst] = true
	}
	fs.WalkDir(staticFS, "static/vendor", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !listed[strings.TrimPrefix(path, "static/vendor/")] {
			t.Errorf("%s is embedded but not listed in assets.txt", path)
		}
		return nil
	})
	if len(listed) == 0 {
		t.Fatal("no assets listed")
	}
}

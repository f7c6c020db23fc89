package reports

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aelab/aelab/internal/testenv"
)

// findChromium returns a headless-capable Chromium, or "".
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// screenshot renders the HTML file page in headless Chromium and decodes the PNG.
func screenshot(t *testing.T, browser, page string) image.Image {
	t.Helper()
	out := page + ".png"
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--no-first-run", "--disable-extensions", "--user-data-dir="+filepath.Join(filepath.Dir(page), "profile"),
		"--window-size=1200,3000", "--screenshot="+out, "file://"+page)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", browser, err, b)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	return img
}

// inkStats counts pixels that are not (near) white and the distinct colours (quantised).
func inkStats(img image.Image) (ink int, colours int) {
	seen := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			if r < 235 || g < 235 || bl < 235 {
				ink++
			}
			seen[(r>>3)<<10|(g>>3)<<5|bl>>3] = true
		}
	}
	return ink, len(seen)
}

// TestBrowserRendersReport opens index.html in headless Chromium and checks that the page is
// not blank and that its figures load: the same page with the images' data removed has far
// less ink.
func TestBrowserRendersReport(t *testing.T) {
	browser := findChromium()
	if browser == "" {
		testenv.Missing(t, "chromium not found (make setup installs it: apt-get install chromium)")
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	rep := buildDefault(t)
	dir := t.TempDir()
	if _, err := rep.WriteDir(dir, FormatHTML); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, "index.html")
	doc, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	// The same page with every figure replaced by a white PNG of the same size: the same layout,
	// so any ink the figures add shows up in the comparison.
	bare := doc
	for _, f := range rep.Figures {
		cfg, err := png.DecodeConfig(bytes.NewReader(f.PNG))
		if err != nil {
			t.Fatal(err)
		}
		white := image.NewGray(image.Rect(0, 0, cfg.Width, cfg.Height))
		for i := range white.Pix {
			white.Pix[i] = 255
		}
		var b bytes.Buffer
		png.Encode(&b, white)
		blank := "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
		bare = bytes.ReplaceAll(bare, []byte(f.DataURI()), []byte(blank))
	}
	barePage := filepath.Join(dir, "bare.html")
	if err := os.WriteFile(barePage, bare, 0o644); err != nil {
		t.Fatal(err)
	}

	full := screenshot(t, browser, page)
	if b := full.Bounds(); b.Dx() < 1000 || b.Dy() < 2000 {
		t.Fatalf("screenshot is %v", b)
	}
	ink, colours := inkStats(full)
	total := full.Bounds().Dx() * full.Bounds().Dy()
	t.Logf("full page: %d of %d pixels inked (%.1f%%), %d colours", ink, total, 100*float64(ink)/float64(total), colours)
	if colours < 100 {
		t.Errorf("only %d distinct colours: a blank or unstyled page?", colours)
	}
	if float64(ink)/float64(total) < 0.05 {
		t.Errorf("only %.1f%% of the page is not white", 100*float64(ink)/float64(total))
	}
	bareInk, _ := inkStats(screenshot(t, browser, barePage))
	t.Logf("without figures: %d pixels inked", bareInk)
	if float64(ink) < 1.2*float64(bareInk) || ink-bareInk < 50000 {
		t.Errorf("the figures add little ink (%d with, %d without): did they load?", ink, bareInk)
	}
	if dst := os.Getenv("AELAB_REPORT_SCREENSHOT"); dst != "" {
		if b, err := os.ReadFile(page + ".png"); err == nil {
			os.WriteFile(dst, b, 0o644)
		}
	}
}

package web

// Previews of a run's artifact files on its page: images inline, JSON pretty-printed, text as
// it is, each with its size. Files are read through os.Root, as they are served, so a link
// leading out of the artifact root shows nothing.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// Bounds of the previews: files previewed on one page, bytes of text shown, and the largest
// JSON file pretty-printed whole.
const (
	maxPreviews        = 12
	maxPreviewText     = 32 << 10
	maxPrettyJSONBytes = 256 << 10
)

// preview is what the run page shows of one artifact file.
type preview struct {
	Kind      string // "image", "json" or "text"
	Text      string // the text shown (json, text)
	Truncated bool   // only the first maxPreviewText bytes are shown
}

// previewKind is how a file is previewed by its name: "" for not at all.
func previewKind(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg", ".gif", ".webp":
		return "image"
	case ".json":
		return "json"
	case ".txt", ".md", ".csv", ".log", ".yaml", ".yml":
		return "text"
	}
	return ""
}

// readPreview makes the preview of the file rel under root; nil when it has none or cannot
// be read.
func readPreview(root *os.Root, rel string, size int64) *preview {
	kind := previewKind(rel)
	switch kind {
	case "":
		return nil
	case "image":
		return &preview{Kind: kind}
	}
	f, err := root.Open(rel)
	if err != nil {
		return nil
	}
	defer f.Close()
	limit := int64(maxPreviewText)
	if kind == "json" && size <= maxPrettyJSONBytes {
		limit = maxPrettyJSONBytes
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil
	}
	p := &preview{Kind: kind}
	if kind == "json" && int64(len(b)) <= limit {
		var out bytes.Buffer
		if json.Indent(&out, b, "", "  ") == nil {
			b = out.Bytes()
		} else {
			p.Kind = "text" // not valid JSON: shown as it is
		}
	}
	if len(b) > maxPreviewText {
		cut := maxPreviewText
		for cut > 0 && !utf8.RuneStart(b[cut]) { // not within a character
			cut--
		}
		b, p.Truncated = b[:cut], true
	}
	p.Text = strings.ToValidUTF8(string(b), "\uFFFD")
	return p
}

// formatSize writes a file size for people: 812 B, 14.2 KB, 3.1 MB.
func formatSize(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f KB", float64(n)/1000)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1f GB", float64(n)/1e9)
}

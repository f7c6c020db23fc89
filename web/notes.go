package web

// A run's notes are Markdown, of which the page renders a small part: paragraphs, headings
// (#), bullet lists (- or *), `code`, **bold**, *emphasis* and fenced code blocks. Every
// character of the text is HTML-escaped first; the markup added after escaping is a fixed set
// of tags without attributes, so no note can add a link, an image, a script or a style.

import (
	"html/template"
	"regexp"
	"strings"
)

var (
	mdCode   = regexp.MustCompile("`([^`]+)`")
	mdStrong = regexp.MustCompile(`\*\*([^*]+)\*\*`)
	mdEm     = regexp.MustCompile(`\*([^*\s][^*]*)\*`)
)

// renderNotes renders Markdown notes as safe HTML.
func renderNotes(md string) template.HTML {
	var b strings.Builder
	var para []string
	list, fence := false, false
	flushPara := func() {
		if len(para) > 0 {
			b.WriteString("<p>" + inlineMarkdown(strings.Join(para, " ")) + "</p>\n")
			para = nil
		}
	}
	closeList := func() {
		if list {
			b.WriteString("</ul>\n")
			list = false
		}
	}
	for _, line := range strings.Split(strings.ReplaceAll(md, "\r\n", "\n"), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") {
			flushPara()
			closeList()
			if fence {
				b.WriteString("</code></pre>\n")
			} else {
				b.WriteString("<pre><code>")
			}
			fence = !fence
			continue
		}
		if fence {
			b.WriteString(template.HTMLEscapeString(line) + "\n")
			continue
		}
		switch {
		case trimmed == "":
			flushPara()
			closeList()
		case strings.HasPrefix(trimmed, "#"):
			flushPara()
			closeList()
			level := min(len(trimmed)-len(strings.TrimLeft(trimmed, "#")), 3)
			tag := [...]string{"", "h3", "h4", "h5"}[level]
			b.WriteString("<" + tag + ">" + inlineMarkdown(strings.TrimSpace(strings.TrimLeft(trimmed, "#"))) + "</" + tag + ">\n")
		case strings.HasPrefix(trimmed, "- ") || strings.HasPrefix(trimmed, "* "):
			flushPara()
			if !list {
				b.WriteString("<ul>\n")
				list = true
			}
			b.WriteString("<li>" + inlineMarkdown(trimmed[2:]) + "</li>\n")
		default:
			closeList()
			para = append(para, trimmed)
		}
	}
	flushPara()
	closeList()
	if fence {
		b.WriteString("</code></pre>\n")
	}
	return template.HTML(b.String()) // built from escaped text and fixed tags only
}

// inlineMarkdown escapes a line and renders its `code`, **bold** and *emphasis*.
func inlineMarkdown(s string) string {
	s = template.HTMLEscapeString(s)
	var codes []string
	s = mdCode.ReplaceAllStringFunc(s, func(m string) string {
		codes = append(codes, "<code>"+m[1:len(m)-1]+"</code>")
		return "\x00" // a placeholder: code spans take no other markup
	})
	s = mdStrong.ReplaceAllString(s, "<strong>$1</strong>")
	s = mdEm.ReplaceAllString(s, "<em>$1</em>")
	for _, c := range codes {
		s = strings.Replace(s, "\x00", c, 1)
	}
	return s
}

// Package termtext renders release-action's Markdown summaries as plain, aligned text
// for a terminal.
//
// It is not a general Markdown renderer, on purpose. Every summary is written through
// our own builders (internal/markdown: Escape, Cell, Code, Link, Details, Table;
// internal/summary and the incident note build on them), so the Markdown we emit is a
// closed subset we control: ATX headings, paragraphs, "- " and "1. " lists (task items
// included), "> " notes, GFM tables, <details><summary> sections, and inline backslash
// escapes, HTML entities, code spans, [text](url) links and * / ** / _ emphasis. Render
// turns exactly that subset into text a person reads at a terminal:
//
//   - headings: their text (bold and underlined when colour is on);
//   - tables: columns aligned by display width (wide CJK runes and emoji count two
//     cells), separated by two spaces, a dashed rule under the header;
//   - links: "text (url)", or the URL alone when the text only repeats it;
//   - code spans: their content (cyan when colour is on);
//   - <details><summary>X</summary>…</details>: "X:" and the body indented;
//   - "> " notes: the body indented; list markers and task boxes are kept;
//   - escapes and entities are undone; emoji and verdict icons are kept.
//
// Anything outside the subset is shown literally rather than guessed at, so a change to a
// builder shows up in the text goldens instead of silently rendering wrong.
//
// The output is safe to print: every piece of text goes through untrusted.Clean, so it
// never holds a control character or an escape sequence other than the SGR colour codes
// Render adds itself, and those only when Options.Color is set; no line starts with
// "::", so nothing reads as a workflow command if the text lands in an Actions log.
package termtext

import (
	"html"
	"regexp"
	"strings"

	"github.com/agentme/release-action/internal/untrusted"
)

// Options controls the rendering.
type Options struct {
	// Color adds ANSI SGR codes (bold, underline, cyan). Set it with ColorEnabled.
	Color bool
	// Width is the widest a table may be drawn in columns (terminal cells); a wider table
	// is drawn as one record per row instead. 0 means DefaultWidth.
	Width int
}

// DefaultWidth is the table width budget when the terminal's width is unknown (output
// piped to a file or a CI log): wide enough for short tables, narrow enough that a
// table with long detail cells turns into records instead of wrapping into noise.
const DefaultWidth = 120

// ColorEnabled reports whether to colour the output: only on a terminal, and not when
// NO_COLOR is set to anything (https://no-color.org) or TERM is "dumb".
func ColorEnabled(isTerminal bool, getenv func(string) string) bool {
	if !isTerminal {
		return false
	}
	if getenv == nil {
		return true
	}
	return getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
}

// Render renders Markdown from our builders as terminal text ending in a newline ("" for
// blank input).
func Render(md string, opt Options) string {
	md = strings.ReplaceAll(md, "\r\n", "\n")
	r := &renderer{width: opt.Width}
	if r.width <= 0 {
		r.width = DefaultWidth
	}
	r.blocks(strings.Split(md, "\n"), "")
	var b strings.Builder
	for _, o := range r.out {
		var lb strings.Builder
		lb.WriteString(o.indent)
		if o.indent == "" && strings.HasPrefix(o.line.plain(), "::") {
			// A line starting "::" is a workflow command when this text reaches an
			// Actions log (a CLI run inside a job); the space makes it plain text.
			lb.WriteByte(' ')
		}
		for _, s := range trimRight(o.line) {
			writeSpan(&lb, s, opt.Color)
		}
		b.WriteString(strings.TrimRight(lb.String(), " "))
		b.WriteByte('\n')
	}
	return b.String()
}

// SGR parameters per style; reset is written after every styled span so a style never
// leaks past its text (or into the next command's output).
func writeSpan(b *strings.Builder, s span, color bool) {
	if !color || s.style == 0 || strings.TrimSpace(s.text) == "" {
		b.WriteString(s.text)
		return
	}
	var params []string
	if s.style&bold != 0 {
		params = append(params, "1")
	}
	if s.style&italic != 0 {
		params = append(params, "3")
	}
	if s.style&underline != 0 {
		params = append(params, "4")
	}
	if s.style&code != 0 {
		params = append(params, "36")
	}
	b.WriteString("\x1b[" + strings.Join(params, ";") + "m" + s.text + "\x1b[0m")
}

// trimRight drops the trailing spaces of a line, inside styled spans too, so colour
// never changes the text.
func trimRight(l line) line {
	for len(l) > 0 {
		last := l[len(l)-1]
		t := strings.TrimRight(last.text, " ")
		if t != "" {
			out := append(line{}, l[:len(l)-1]...)
			return append(out, span{text: t, style: last.style})
		}
		l = l[:len(l)-1]
	}
	return l
}

type outLine struct {
	indent string
	line   line
}

type renderer struct {
	out   []outLine
	width int
}

var (
	headingRE = regexp.MustCompile(`^ {0,3}(#{1,6})(?: +(.*?))? *$`)
	listRE    = regexp.MustCompile(`^( *)([-+*]|[0-9]{1,9}[.)]) +(.*)$`)
	delimRE   = regexp.MustCompile(`^\|? *:?-+:? *(\| *:?-+:? *)*\|? *$`)
)

func (r *renderer) emit(indent string, l line) { r.out = append(r.out, outLine{indent, l}) }

// blocks renders the lines of one container (the document, a details body, a note),
// one blank line between blocks.
func (r *renderer) blocks(lines []string, indent string) {
	first := true
	sep := func() {
		if !first {
			r.emit("", nil)
		}
		first = false
	}
	for i := 0; i < len(lines); {
		ln := lines[i]
		t := strings.TrimSpace(ln)
		switch {
		case t == "":
			i++
		case strings.HasPrefix(t, "<details>"):
			sep()
			i = r.details(lines, i, indent)
		case t == "</details>":
			i++ // a closer without its opener: nothing to show
		case headingRE.MatchString(ln):
			sep()
			m := headingRE.FindStringSubmatch(ln)
			r.emit(indent, inline(m[2], bold|underline))
			i++
		case strings.HasPrefix(t, "|") && i+1 < len(lines) && delimRE.MatchString(strings.TrimSpace(lines[i+1])):
			sep()
			i = r.table(lines, i, indent)
		case strings.HasPrefix(t, ">"):
			sep()
			var body []string
			for ; i < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i]), ">"); i++ {
				q := strings.TrimPrefix(strings.TrimSpace(lines[i]), ">")
				body = append(body, strings.TrimPrefix(q, " "))
			}
			r.blocks(body, indent+"  ")
		case listRE.MatchString(ln):
			sep()
			for ; i < len(lines) && listRE.MatchString(lines[i]); i++ {
				m := listRE.FindStringSubmatch(lines[i])
				marker := m[2]
				if marker == "*" || marker == "+" {
					marker = "-"
				}
				r.emit(indent+m[1], append(line{{text: marker + " "}}, inline(m[3], 0)...))
			}
		default:
			sep()
			for ; i < len(lines) && startsParagraphLine(lines, i); i++ {
				r.emit(indent, inline(strings.TrimSpace(lines[i]), 0))
			}
		}
	}
}

// startsParagraphLine reports whether lines[i] continues a paragraph: it is not blank and
// opens no other block.
func startsParagraphLine(lines []string, i int) bool {
	ln := lines[i]
	t := strings.TrimSpace(ln)
	switch {
	case t == "", strings.HasPrefix(t, "<details>"), t == "</details>", strings.HasPrefix(t, ">"),
		headingRE.MatchString(ln), listRE.MatchString(ln):
		return false
	case strings.HasPrefix(t, "|") && i+1 < len(lines) && delimRE.MatchString(strings.TrimSpace(lines[i+1])):
		return false
	}
	return true
}

// details renders "<details><summary>X</summary> … </details>" (markdown.Details) as
// "X:" and the body indented, and returns the index after the closing line. Nested
// sections nest; a section that never closes runs to the end of its container.
func (r *renderer) details(lines []string, i int, indent string) int {
	open := strings.TrimSpace(lines[i])
	rest := strings.TrimPrefix(open, "<details>")
	title := "Details"
	if strings.HasPrefix(rest, "<summary>") {
		if end := strings.Index(rest, "</summary>"); end >= 0 {
			title = rest[len("<summary>"):end]
			rest = rest[end+len("</summary>"):]
		}
	}
	// The summary is HTML text (markdown.Details escapes it for HTML, not Markdown).
	title = strings.TrimSpace(untrusted.Clean(html.UnescapeString(title)))
	if !strings.HasSuffix(title, ":") {
		title += ":"
	}
	r.emit(indent, line{{text: title, style: bold}})

	body := []string{rest}
	depth := 1
	j := i + 1
	for ; j < len(lines); j++ {
		t := strings.TrimSpace(lines[j])
		if strings.HasPrefix(t, "<details>") {
			depth++
		} else if t == "</details>" {
			depth--
			if depth == 0 {
				break
			}
		}
		body = append(body, lines[j])
	}
	r.blocks(body, indent+"  ")
	if j < len(lines) {
		j++ // the closing </details>
	}
	return j
}

// table renders a GFM table starting at lines[i] (header, delimiter, rows) with columns
// aligned by display width, or as records when that is wider than the budget, and
// returns the index after it.
func (r *renderer) table(lines []string, i int, indent string) int {
	var rows [][]line
	header := splitRow(lines[i])
	cols := len(header)
	rows = append(rows, cellLines(header, bold))
	i += 2
	for ; i < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i]), "|"); i++ {
		cells := splitRow(lines[i])
		// GFM pads a short row and drops cells beyond the header's.
		for len(cells) < cols {
			cells = append(cells, "")
		}
		rows = append(rows, cellLines(cells[:cols], 0))
	}
	widths := make([]int, cols)
	for _, row := range rows {
		for c, cell := range row {
			widths[c] = max(widths[c], cell.width())
		}
	}
	// The last column is not padded, so a long last cell (a probe's detail) only wraps
	// at the terminal without disturbing the other columns: the budget counts the
	// columns before it and a minimum for it.
	lead := len(indent) + 2*(cols-1)
	for _, w := range widths[:cols-1] {
		lead += w
	}
	last := widths[cols-1]
	if lead+min(last, minLastColumn) > r.width && cols > 1 {
		r.records(rows, indent)
		return i
	}
	for n, row := range rows {
		var l line
		for c, cell := range row {
			if c > 0 {
				l = append(l, span{text: "  "})
			}
			l = append(l, cell...)
			if c < cols-1 {
				if pad := widths[c] - cell.width(); pad > 0 {
					l = append(l, span{text: strings.Repeat(" ", pad)})
				}
			}
		}
		r.emit(indent, l)
		if n == 0 {
			var rule line
			for c, w := range widths {
				if c > 0 {
					rule = append(rule, span{text: "  "})
				}
				if c == cols-1 {
					w = min(w, max(rows[0][c].width(), r.width-lead))
				}
				rule = append(rule, span{text: strings.Repeat("-", max(w, 1))})
			}
			r.emit(indent, rule)
		}
	}
	return i
}

// minLastColumn is the room a table's last column needs before the table is drawn as
// records rather than columns.
const minLastColumn = 20

// records draws a table too wide for the terminal as one record per row: the first cell
// as the record's title, then one "Header  value" line per other column, the headers
// aligned. Nothing is cut: a long cell wraps at the terminal like any long line.
func (r *renderer) records(rows [][]line, indent string) {
	header := rows[0]
	labelWidth := 0
	for _, h := range header[1:] {
		labelWidth = max(labelWidth, h.width())
	}
	for _, row := range rows[1:] {
		title := row[0]
		if len(title) == 0 {
			title = line{{text: "–"}}
		}
		r.emit(indent, restyle(title, bold))
		for c, cell := range row[1:] {
			h := header[c+1]
			l := append(line{}, h...)
			l = append(l, span{text: strings.Repeat(" ", labelWidth-h.width()+2)})
			r.emit(indent+"  ", append(l, cell...))
		}
	}
}

// restyle adds st to every span of l.
func restyle(l line, st style) line {
	out := make(line, len(l))
	for i, s := range l {
		out[i] = span{text: s.text, style: s.style | st}
	}
	return out
}

func cellLines(cells []string, st style) []line {
	out := make([]line, len(cells))
	for i, c := range cells {
		out[i] = inline(c, st)
	}
	return out
}

// splitRow splits a GFM table row into cells the way GitHub does: at every '|' not
// directly preceded by a backslash, then "\|" becomes "|" inside each cell (code spans
// included) before the cell's inline Markdown is read. This is the inverse of
// markdown.Table's cell escaping.
func splitRow(row string) []string {
	row = strings.TrimSpace(row)
	row = strings.TrimPrefix(row, "|")
	if strings.HasSuffix(row, "|") && !strings.HasSuffix(row, `\|`) {
		row = row[:len(row)-1]
	}
	var cells []string
	start := 0
	for i := 0; i < len(row); i++ {
		if row[i] == '|' && (i == 0 || row[i-1] != '\\') {
			cells = append(cells, row[start:i])
			start = i + 1
		}
	}
	cells = append(cells, row[start:])
	for i, c := range cells {
		cells[i] = strings.TrimSpace(strings.ReplaceAll(c, `\|`, "|"))
	}
	return cells
}

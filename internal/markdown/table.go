package markdown

import (
	"fmt"
	"strings"
)

// Table is a GFM table. Headers and cells are already-rendered Markdown (built with
// Cell, Code, Link or constants); the table only guarantees that no cell can break its
// row or the table.
type Table struct {
	headers []string
	rows    [][]string
}

// NewTable starts a table with the given header cells.
func NewTable(headers ...string) *Table {
	return &Table{headers: append([]string(nil), headers...)}
}

// Row adds a row. Missing trailing cells render empty. More cells than headers is a
// programming error (GFM would silently drop them), so it panics.
func (t *Table) Row(cells ...string) {
	if len(cells) > len(t.headers) {
		panic(fmt.Sprintf("markdown: table row has %d cells but the table has %d columns", len(cells), len(t.headers)))
	}
	row := make([]string, len(t.headers))
	copy(row, cells)
	t.rows = append(t.rows, row)
}

// Len is the number of rows added.
func (t *Table) Len() int { return len(t.rows) }

// String renders the header, the delimiter row and the rows, one line each, ending in
// a newline. A table without columns renders as "". Surround it with blank lines when
// embedding it in other Markdown.
func (t *Table) String() string {
	if len(t.headers) == 0 {
		return ""
	}
	var b strings.Builder
	writeRow(&b, t.headers)
	b.WriteString("|")
	for range t.headers {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, r := range t.rows {
		writeRow(&b, r)
	}
	return b.String()
}

func writeRow(b *strings.Builder, cells []string) {
	b.WriteString("|")
	for _, c := range cells {
		b.WriteString(" ")
		b.WriteString(tableCell(c))
		b.WriteString(" |")
	}
	b.WriteString("\n")
}

// tableCell makes rendered Markdown safe inside a cell. GFM splits a row at every '|'
// not directly preceded by a backslash, then removes one backslash before each '|'
// before parsing the cell (also inside code spans). Adding a backslash before every
// '|' is the exact inverse: "\|" from Cell renders '|', and a '|' inside Code renders
// '|' instead of splitting the cell. Line breaks would end the row; NUL ends a cell in
// cmark-gfm.
func tableCell(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ", "\x00", "\uFFFD", "|", `\|`).Replace(s)
	return strings.TrimSpace(s)
}

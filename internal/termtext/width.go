package termtext

import (
	"strings"

	"github.com/clipperhouse/uax29/v2/graphemes"
	"github.com/mattn/go-runewidth"
)

// cond measures cells with a fixed condition rather than runewidth's default, which
// guesses East Asian ambiguous width from the process locale: the same summary must
// align the same way (and render the same goldens) whatever LANG says.
var cond = &runewidth.Condition{EastAsianWidth: false, StrictEmojiNeutral: true}

// Width is the number of terminal cells s takes: east-asian wide runes and emoji take
// two, combining marks none. A grapheme holding U+FE0F (emoji presentation, as in "⏭️"
// and "⚠️") takes two cells, as Unicode (UTS #51) and current terminals draw it, even
// where the base character alone is narrow.
func Width(s string) int {
	w := 0
	g := graphemes.FromString(s)
	for g.Next() {
		c := g.Value()
		cw := cond.StringWidth(c)
		if cw == 1 && strings.ContainsRune(c, '\uFE0F') {
			cw = 2
		}
		w += cw
	}
	return w
}

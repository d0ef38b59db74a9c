package smoke

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/agentme/release-action/internal/redact"
	"github.com/stretchr/testify/require"
)

// TestRedactorCatchesEscapedAndCutSecrets: a hostile gateway may echo the credential
// JSON-escaped, or so close to the end of a capped body that only its start survives.
func TestRedactorCatchesEscapedAndCutSecrets(t *testing.T) {
	const secret = `Pa"ss\word&<12345678>`
	r := newRedactor(nil)
	r.add(secret)
	for _, tc := range []struct{ name, in string }{
		{"raw", "echo " + secret},
		{"json", `echo Pa\"ss\\word\u0026\u003c12345678\u003e`},
		{"json without html escaping", `echo Pa\"ss\\word&<12345678>`},
		{"cut at the end", "padding padding " + secret[:9]},
	} {
		got := r.clean(tc.in, 1000)
		assert.NotContains(t, got, "word", tc.name)
		assert.Contains(t, got, redact.Marker, tc.name)
	}
	body, err := json.Marshal(map[string]string{"echo": secret})
	require.NoError(t, err)
	assert.Equal(t, "(unrecognised JSON error body)", errorText(body))
}

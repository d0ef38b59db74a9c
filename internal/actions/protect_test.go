package actions

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestProtectRedactsWithoutAnnouncing(t *testing.T) {
	const secret = "ghs_protectedSECRET123"
	for _, mode := range []string{"true", ""} {
		var out bytes.Buffer
		r := New(&out, func(k string) string {
			if k == "GITHUB_ACTIONS" {
				return mode
			}
			return ""
		})
		r.Protect(secret)
		r.Infof("token is %s", secret)
		r.Error("failed with "+secret, Annotation{Title: secret})
		assert.NotContains(t, out.String(), secret, "mode %q", mode)
		assert.NotContains(t, out.String(), "add-mask", "Protect never writes the value, not even to mask it")
		assert.Contains(t, out.String(), Redacted)
	}
}

func TestProtectCoversJSONEscapedSpelling(t *testing.T) {
	const secret = `Pa"ss\word&<12345678>`
	var out bytes.Buffer
	r := New(&out, func(string) string { return "" })
	r.Protect(secret)
	r.Infof(`server said {"error":"Pa\"ss\\word\u0026\u003c12345678\u003e"}`)
	r.Infof(`server said {"error":"Pa\"ss\\word&<12345678>"}`)
	assert.NotContains(t, out.String(), "word")
}

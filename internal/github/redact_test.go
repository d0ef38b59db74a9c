package github

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/redact"
)

// The client shares the process's redactor: a server echoing the token (in any
// escaping) or another registered secret never gets it into an error, and text the
// client writes where people read it is redacted before it is sent.
func TestClientUsesSharedRedactor(t *testing.T) {
	const other = "prom/secret+value"
	red := redact.New(other)
	f := newFake(t)
	echoes := map[string]string{
		"raw":          testToken,
		"escaped":      `\u0067hs_SECRET\u0074oken0123456789ABCDEFabcdef`,
		"other secret": `prom\/secret%2Bvalue`,
		"cut off":      testToken[:12],
	}
	n := 0
	f.handle("/repos/o/r/actions/runs/{id}", func(w http.ResponseWriter, r *http.Request) {
		keys := []string{"raw", "escaped", "other secret", "cut off"}
		writeJSON(w, http.StatusBadRequest, `{"message":"echo `+echoes[keys[n%len(keys)]]+`"}`)
		n++
	})
	var sent []string
	f.handle("/repos/o/r/check-runs", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		sent = append(sent, string(b))
		writeJSON(w, http.StatusCreated, `{"id":7}`)
	})
	c, _ := f.client(func(o *Options) { o.Redactor = red })
	for range echoes {
		_, err := c.GetWorkflowRun(context.Background(), 1)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "echo ***")
		assert.NotContains(t, err.Error(), testToken[:12])
		assert.NotContains(t, err.Error(), "secret")
	}
	_, err := c.CreateCheckRun(context.Background(), CheckRunUpdate{Name: "gate", HeadSHA: testSHA, Status: "completed", Conclusion: "failure",
		Output: CheckRunOutput{Title: "t " + other, Summary: "token " + testToken, Text: fmt.Sprintf("%q", other)}})
	require.NoError(t, err)
	require.Len(t, sent, 1)
	var body struct {
		Output map[string]string `json:"output"`
	}
	require.NoError(t, json.Unmarshal([]byte(sent[0]), &body))
	assert.Equal(t, map[string]string{"title": "t ***", "summary": "token ***", "text": `"***"`}, body.Output)
	assert.Equal(t, "a *** b", red.Redact("a "+testToken+" b"), "the client registered its token with the shared redactor")
}

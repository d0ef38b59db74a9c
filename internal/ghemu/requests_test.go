package ghemu_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/ghemu"
)

func TestRequestLogRecordsEveryRequest(t *testing.T) {
	s := ghemu.New(ghemu.Options{})
	base := s.Start()
	defer s.Close()
	send := func(method, path, body string) {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	send(http.MethodGet, "/api/v3/repos/agentme/agentme", "")
	send(http.MethodPost, "/api/graphql", `{"query":"query { viewer { login } }"}`)
	send(http.MethodPost, "/api/graphql", `{"query":"mutation { x }"}`)
	send(http.MethodPost, "/api/v3/repos/agentme/agentme/git/refs", `{}`)
	send(http.MethodPost, "/api/graphql", `not json`)

	reqs := s.Requests()
	require.Len(t, reqs, 5)
	var writes []bool
	for _, r := range reqs {
		writes = append(writes, r.Write())
	}
	assert.Equal(t, []bool{false, false, true, true, true}, writes)
	assert.Equal(t, []string{"query"}, reqs[1].Operations)
	assert.Equal(t, []string{"mutation"}, reqs[2].Operations)
}

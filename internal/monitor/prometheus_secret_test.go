package monitor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/redact"
)

const promToken = "promSECRETtoken123456"

// TestPrometheusTokenStaysWithPrometheus: the token goes only to the configured host
// (never to a redirect target) and never comes back in a reading a hostile server
// echoes it into.
func TestPrometheusTokenStaysWithPrometheus(t *testing.T) {
	t.Run("redirect to another host gets no token", func(t *testing.T) {
		got := make(chan string, 4)
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got <- r.Header.Get("Authorization")
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[]}}`))
		}))
		defer other.Close()
		prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			assert.Equal(t, "Bearer "+promToken, r.Header.Get("Authorization"), "the configured host gets the token")
			http.Redirect(w, r, other.URL+r.URL.Path+"?"+r.URL.RawQuery, http.StatusTemporaryRedirect)
		}))
		defer prom.Close()
		api, err := NewPrometheus(prom.URL, promToken, nil, nil)
		require.NoError(t, err)
		_, _ = api.Query(context.Background(), "up")
		require.Len(t, got, 1, "the redirect was followed")
		assert.Empty(t, <-got, "the other host received no token")
	})
	for _, tc := range []struct{ name, status, body string }{
		{"error body echoes the header", "400", `{"status":"error","errorType":"bad_data","error":"bad query; you sent Bearer ` + promToken + `"}`},
		{"plain text echo cut short", "500", "upstream said: Authorization: Bearer " + promToken[:10]},
		{"escaped echo in a body the client cannot parse", "500", `upstream said: {"auth":"Bearer \u0070romSECRET\u0074oken123456"}`},
		{"another registered secret echoed", "400", `{"status":"error","errorType":"bad_data","error":"gateway pa\/ss+word and ` + promToken + `"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				code := map[string]int{"400": 400, "500": 500}[tc.status]
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(code)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer prom.Close()
			red := redact.New("pa/ss+word")
			api, err := NewPrometheus(prom.URL, promToken, nil, red)
			require.NoError(t, err)
			assert.Equal(t, "***", red.Redact(promToken), "the token is registered with the shared redactor")
			max := 1.0
			rd := queryCheck(context.Background(), api, config.MetricCheck{Name: "x", Query: "up", Max: &max})
			assert.Equal(t, StatusNoData, rd.Status)
			assert.NotContains(t, rd.Detail, promToken[:6], "no part of the token in the reading: %s", rd.Detail)
			assert.NotContains(t, rd.Detail, "ss+word")
			assert.NotContains(t, rd.Detail, "SECRET")
		})
	}
}

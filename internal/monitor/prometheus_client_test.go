package monitor

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeAnswer(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        QueryResult
		err         string
	}{
		{name: "vector", status: 200, body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"b"},"value":[1.5,"0.25"]},{"metric":{},"value":[1,"-Inf"]}]}}`,
			want: QueryResult{Type: "vector", Values: []float64{0.25, negInf()}}},
		{name: "scalar NaN", status: 200, body: `{"status":"success","data":{"resultType":"scalar","result":[1,"NaN"]}}`,
			want: QueryResult{Type: "scalar", Values: []float64{nan()}}},
		{name: "string", status: 200, body: `{"status":"success","data":{"resultType":"string","result":[1,"hello"]}}`,
			want: QueryResult{Type: "string"}},
		{name: "warnings without data", status: 200, body: `{"status":"success","warnings":["w1"]}`,
			want: QueryResult{Warnings: []string{"w1"}}},
		{name: "api error on 422", status: 422, body: `{"status":"error","errorType":"execution","error":"many-to-many matching not allowed"}`,
			err: "execution: many-to-many matching not allowed"},
		{name: "api error without type", status: 200, body: `{"status":"error"}`, err: `error: status "error", HTTP 200`},
		{name: "proxy page on 502", status: 502, body: "<html>Bad Gateway</html>", err: "server_error: HTTP 502: <html>Bad Gateway</html>"},
		{name: "html on 200", status: 200, contentType: "text/html; charset=utf-8", body: "<html>login</html>", err: "bad_response: the answer is not Prometheus API JSON (HTTP 200, text/html)"},
		{name: "number instead of string", status: 200, body: `{"status":"success","data":{"resultType":"vector","result":[{"value":[1,0.5]}]}}`, err: "bad_response: unreadable vector result: sample value 0.5 is not a string"},
		{name: "not a number", status: 200, body: `{"status":"success","data":{"resultType":"scalar","result":[1,"lots"]}}`, err: `bad_response: unreadable scalar result: sample value "lots" is not a number`},
		{name: "result not a list", status: 200, body: `{"status":"success","data":{"resultType":"vector","result":{}}}`, err: "bad_response: unreadable vector result: not a list of samples"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeAnswer(tt.status, tt.contentType, []byte(tt.body))
			if tt.err != "" {
				var ae *APIError
				require.ErrorAs(t, err, &ae)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want.Type, got.Type)
			assert.Equal(t, tt.want.Warnings, got.Warnings)
			require.Len(t, got.Values, len(tt.want.Values))
			for i := range got.Values {
				if tt.want.Values[i] != tt.want.Values[i] { // NaN
					assert.NotEqual(t, got.Values[i], got.Values[i])
				} else {
					assert.Equal(t, tt.want.Values[i], got.Values[i])
				}
			}
		})
	}
}

// TestQueryFallsBackToGET: a proxy that only allows GET answers 405 to the POST.
func TestQueryFallsBackToGET(t *testing.T) {
	var methods []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		methods = append(methods, r.Method)
		if r.Method != http.MethodGet {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		assert.Equal(t, "/prom/api/v1/query", r.URL.Path)
		assert.Equal(t, "sum(up)", r.URL.Query().Get("query"))
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"3"]}]}}`))
	}))
	defer srv.Close()
	p, err := NewPrometheus(srv.URL+"/prom/", "", nil, nil)
	require.NoError(t, err)
	got, err := p.Query(context.Background(), "sum(up)")
	require.NoError(t, err)
	assert.Equal(t, []float64{3}, got.Values)
	assert.Equal(t, []string{"POST", "GET"}, methods)
}

// FuzzDecodeAnswer: any answer decodes to a result or an APIError, never a panic.
func FuzzDecodeAnswer(f *testing.F) {
	f.Add(200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"0.5"]}]}}`)
	f.Add(200, `{"status":"success","data":{"resultType":"scalar","result":[1,"NaN"]}}`)
	f.Add(400, `{"status":"error","errorType":"bad_data","error":"x"}`)
	f.Add(503, `<html>`)
	f.Fuzz(func(t *testing.T, status int, body string) {
		res, err := decodeAnswer(status, "application/json", []byte(body))
		if err != nil {
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			return
		}
		if res.Type != "vector" && res.Type != "scalar" {
			require.Empty(t, res.Values)
		}
	})
}

func nan() float64    { return math.NaN() }
func negInf() float64 { return math.Inf(-1) }

package monitor_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/config"
	"github.com/agentme/release-action/internal/gatewayemu"
	"github.com/agentme/release-action/internal/monitor"
	"github.com/agentme/release-action/internal/outcome"
)

// requirePrometheusEnv makes a missing prometheus binary a failure instead of a skip (CI
// installs it: apt-get install -y prometheus).
const requirePrometheusEnv = "RELEASE_ACTION_REQUIRE_PROMETHEUS"

func prometheusBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("prometheus"); err == nil {
		return p
	}
	if fi, err := os.Stat("/usr/bin/prometheus"); err == nil && !fi.IsDir() {
		return "/usr/bin/prometheus"
	}
	msg := "no prometheus binary on PATH or at /usr/bin/prometheus: install it (Debian: apt-get install -y prometheus) to run the real-Prometheus integration test"
	if os.Getenv(requirePrometheusEnv) == "1" {
		t.Fatalf("%s (%s=1 requires it)", msg, requirePrometheusEnv)
	}
	t.Skip(msg)
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

// syncBuffer collects the child's output for failure messages.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startPrometheus runs a real Prometheus scraping target every second and returns its
// base URL once /-/ready answers.
func startPrometheus(t *testing.T, target string) string {
	t.Helper()
	bin := prometheusBinary(t)
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1m
scrape_configs:
  - job_name: gateway
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs:
      - targets: [%q]
`, target)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(cfg), 0o600))
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	out := &syncBuffer{}
	cmd := exec.Command(bin,
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	base := "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-done:
			t.Fatalf("prometheus exited before it was ready:\n%s", out.String())
		default:
		}
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus at %s not ready within 10s (last error %v):\n%s", base, err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRealPrometheus scrapes the gateway emulator's metrics with a real Prometheus and
// checks that the monitor's metric checks read a breach and tell no data from zero.
func TestRealPrometheus(t *testing.T) {
	prometheusBinary(t) // skip (or fail) before starting anything
	emu := gatewayemu.New(gatewayemu.Options{Token: testToken, Metrics: true, TickInterval: -1})
	gw := emu.Start()
	t.Cleanup(emu.Close)
	u, err := url.Parse(gw)
	require.NoError(t, err)
	base := startPrometheus(t, u.Host)
	prom, err := monitor.NewPrometheus(base, "", &http.Client{Timeout: 5 * time.Second}, nil)
	require.NoError(t, err)

	// waitFor polls a query (real time: Prometheus scrapes on the wall clock) until ok.
	waitFor := func(what, query string, ok func(float64) bool) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		last := "no answer"
		for time.Now().Before(deadline) {
			v, err := prom.Query(context.Background(), query)
			if err == nil {
				last = fmt.Sprintf("%s %v", v.Type, v.Values)
				if v.Type == "vector" && len(v.Values) == 1 && ok(v.Values[0]) {
					return
				}
			} else {
				last = err.Error()
			}
			time.Sleep(250 * time.Millisecond)
		}
		t.Fatalf("%s: %s did not get there within 15s; last answer: %s", what, query, last)
	}
	// The counter series exists at zero before anything happens, so increase() has a
	// first sample to start from.
	waitFor("first scrape", `sum(up{job="gateway"})`, func(f float64) bool { return f == 1 })
	waitFor("zero counter scraped", `count(agentme_gateway_auth_failures_total)`, func(f float64) bool { return f == 2 })

	// Ten requests with a wrong token: ten auth failures.
	for range 10 {
		req, err := http.NewRequest(http.MethodPost, gw+"/tools/invoke", strings.NewReader(`{"tool":"sessions_list"}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer not-the-token")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	}
	require.Equal(t, 10, emu.Stats().AuthFailures)
	const authQuery = `sum(increase(agentme_gateway_auth_failures_total[1m]))`
	waitFor("auth failures visible", authQuery, func(f float64) bool { return f > 1 })

	// The monitor itself: metric checks only, on a virtual clock (Prometheus answers at
	// its own now), three checks, a breach of auth errors on the third.
	vc := clock.NewVirtual(time.Now())
	m := config.Monitor{Duration: config.Duration(time.Minute), Interval: config.Duration(20 * time.Second), Sustained: 3, NoData: monitor.NoDataFail,
		Prometheus: &config.Prometheus{URL: base, Checks: []config.MetricCheck{
			{Name: "auth errors", Query: authQuery, Max: ptrF(0.5)},
			{Name: "ghost metric", Query: `sum(rate(agentme_no_such_metric_total[1m]))`, Max: ptrF(1)},
			{Name: "restarts", Query: `sum(increase(agentme_gateway_restarts_total[5m]))`, Max: ptrF(1)},
		}}}
	res, err := monitor.Run(context.Background(), monitor.Options{Env: config.Environment{Name: "production"}, Monitor: m, Prometheus: prom, Clock: vc})
	require.NoError(t, err)
	assert.Equal(t, outcome.Fail, res.Verdict, res.Reason)
	assert.Equal(t, "auth errors", res.Signal)
	require.Len(t, res.Intervals, 3)
	assert.Equal(t, "xxx", statusesOf(res, "auth errors"))
	assert.Equal(t, "---", statusesOf(res, "ghost metric"), "a metric that does not exist is no data, not zero")
	assert.Equal(t, "...", statusesOf(res, "restarts"), "a counter at zero is data")
	for _, iv := range res.Intervals {
		for _, rd := range iv.Readings {
			switch rd.Signal {
			case "auth errors":
				require.NotNil(t, rd.Value)
				assert.Greater(t, *rd.Value, 0.5)
				assert.Contains(t, rd.Detail, "> max 0.5")
			case "ghost metric":
				assert.Nil(t, rd.Value)
				assert.Contains(t, rd.Detail, "empty vector")
			case "restarts":
				require.NotNil(t, rd.Value)
				assert.Zero(t, *rd.Value)
			}
		}
	}

	// The documented runbook checks are valid PromQL for these metrics: no query fails.
	vc = clock.NewVirtual(time.Now())
	m.Prometheus.Checks = monitor.RunbookChecks()
	m.NoData = monitor.NoDataIgnore
	res, err = monitor.Run(context.Background(), monitor.Options{Monitor: m, Prometheus: prom, Clock: vc})
	require.NoError(t, err)
	for _, iv := range res.Intervals {
		for _, rd := range iv.Readings {
			assert.NotContains(t, rd.Detail, "query failed", rd.Signal)
		}
	}
	assert.Equal(t, "...", statusesOf(res, "auth errors"), "10 failures over 5m is below 0.5/s")
	assert.Equal(t, "---", statusesOf(res, "channel delivery latency p95"), "a quantile over no chats is NaN: no data")
	assert.Equal(t, "...", statusesOf(res, "restart loops"))
}

func ptrF(f float64) *float64 { return &f }

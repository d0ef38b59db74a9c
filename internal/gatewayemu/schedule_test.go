package gatewayemu_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentme/release-action/internal/clock"
	"github.com/agentme/release-action/internal/gatewayemu"
)

func TestAtBreaksTheGatewayOnTime(t *testing.T) {
	start := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	clk := clock.NewVirtual(start)
	s := gatewayemu.New(gatewayemu.Options{Token: "tok-1234", Clock: clk, TickInterval: -1})
	base := s.Start()
	defer s.Close()
	ran := 0
	s.At(start.Add(10*time.Minute), func(s *gatewayemu.Server) { ran++; s.SetUIAssetsMissing(true) })

	get := func() int {
		resp, err := http.Get(base + "/")
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusOK, get(), "before its time the action has not run")
	clk.Advance(10 * time.Minute)
	assert.Equal(t, http.StatusServiceUnavailable, get(), "at its time it runs before the request is handled")
	assert.Equal(t, http.StatusServiceUnavailable, get())
	assert.Equal(t, 1, ran, "an action runs once")
}

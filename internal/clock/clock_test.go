package clock

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVirtualSleepAdvances(t *testing.T) {
	start := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	v := NewVirtual(start)
	require.NoError(t, v.Sleep(context.Background(), 45*time.Minute))
	assert.Equal(t, start.Add(45*time.Minute), v.Now())
	v.Advance(-time.Hour)
	assert.Equal(t, start.Add(45*time.Minute), v.Now(), "time never runs back")
	v.Set(start)
	assert.Equal(t, start.Add(45*time.Minute), v.Now(), "Set never runs back")
}

func TestSleepHonoursCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, Real{}.Sleep(ctx, time.Hour), context.Canceled)
	assert.ErrorIs(t, NewVirtual(time.Now()).Sleep(ctx, time.Hour), context.Canceled)
}

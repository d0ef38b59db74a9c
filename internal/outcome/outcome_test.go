package outcome

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBadInput(t *testing.T) {
	cause := errors.New("cause")
	tests := []struct {
		name    string
		err     error
		bad     bool
		message string
	}{
		{"formatted", BadInputf("input %s: %q is not a boolean", "force", "maybe"), true, `input force: "maybe" is not a boolean`},
		{"wrapped cause stays reachable", BadInputf("config: %w", cause), true, "config: cause"},
		{"wrapped again", fmt.Errorf("release: %w", BadInput(cause)), true, "release: cause"},
		{"plain error", cause, false, "cause"},
		{"cancellation", context.Canceled, false, "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.bad, errors.Is(tt.err, ErrBadInput))
			assert.Equal(t, tt.bad, IsBadInput(tt.err))
			assert.Equal(t, tt.message, tt.err.Error())
		})
	}
	assert.NoError(t, BadInput(nil))
	assert.ErrorIs(t, BadInputf("config: %w", cause), cause)
}

func TestVerdictJSON(t *testing.T) {
	for _, v := range []Verdict{Pass, Fail, Scheduled, Error} {
		data, err := json.Marshal(struct {
			V Verdict `json:"v"`
		}{v})
		require.NoError(t, err)
		assert.JSONEq(t, `{"v":"`+string(v)+`"}`, string(data))
	}
}

func TestDecided(t *testing.T) {
	assert.NoError(t, Decided(Pass, "done"))
	assert.NoError(t, Decided(Scheduled, "waits for the window"))
	for _, v := range []Verdict{Fail, Error, "pending"} {
		err := Decided(v, "why")
		var d *Decision
		require.ErrorAs(t, fmt.Errorf("wrapped: %w", err), &d)
		assert.Equal(t, v, d.Verdict)
		assert.Equal(t, string(v)+": why", err.Error())
		assert.False(t, IsBadInput(err))
	}
}

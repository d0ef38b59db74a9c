package cli

import "slices"

// CommandOutputs lists what the named command may write: result, report and its declared
// outputs (nil for an unknown command).
func CommandOutputs(name string) []string {
	c := findCommand(name)
	if c == nil {
		return nil
	}
	return slices.Concat([]string{"result", "report"}, c.outputs)
}

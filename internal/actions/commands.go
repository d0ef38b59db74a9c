package actions

import (
	"strings"
	"unicode"
)

// Command is a workflow command as the runner reads it from a step's stdout.
type Command struct {
	// Name is lower-cased (the runner matches names case-insensitively). For the line
	// that resumes processing after ::stop-commands:: it is the stop token.
	Name string
	// Properties holds the unescaped k=v pairs; keys keep the spelling of their first
	// occurrence (the runner's dictionary ignores case).
	Properties map[string]string
	// Data is the unescaped message.
	Data string
	// Line is the 1-based line number in stdout, counting lines as the runner does.
	Line int
}

// runnerCommands are the commands the runner registers (ActionCommandManager); any
// other "::name::" line is plain output.
var runnerCommands = []string{
	"add-mask", "add-matcher", "add-path", "debug", "echo", "endgroup", "error", "group",
	"notice", "remove-matcher", "save-state", "set-env", "set-output", "stop-commands", "warning",
}

// ParseCommands reads workflow commands from stdout the way the runner does: lines split
// at \n, \r\n and lone \r; each line parsed first as "::name k=v,k2=v2::data" (after
// leading whitespace) and then as the legacy "##[name k=v;k2=v2]data" (anywhere in the
// line); only registered command names count. After "::stop-commands::TOKEN" nothing is
// a command until the line that names TOKEN; both of those lines are returned too. A
// stop-commands with an empty token stops processing for good, as in the runner.
//
// Matching is ordinal. The runner uses .NET culture-sensitive StartsWith/IndexOf for
// "::" and "##[", which may also skip invisible characters; Runner never prints such
// characters outside escaped data, so the difference cannot matter for its output.
func ParseCommands(stdout string) []Command {
	registered := map[string]bool{}
	for _, c := range runnerCommands {
		registered[strings.ToUpper(c)] = true
	}
	isRegistered := func(name string) bool { return registered[strings.ToUpper(name)] }

	var cmds []Command
	stopped, token := false, ""
	for i, line := range splitRunnerLines(stdout) {
		if line == "" || (!strings.Contains(line, "##[") && !strings.Contains(line, "::")) {
			continue
		}
		cmd, ok := parseCommandV2(line, isRegistered)
		if !ok {
			cmd, ok = parseCommandLegacy(line, isRegistered)
		}
		if !ok {
			continue
		}
		cmd.Line = i + 1
		if stopped {
			if token != "" && strings.EqualFold(cmd.Name, token) {
				delete(registered, strings.ToUpper(token))
				stopped, token = false, ""
				cmd.Name = strings.ToLower(cmd.Name)
				cmds = append(cmds, cmd)
			}
			continue
		}
		cmd.Name = strings.ToLower(cmd.Name)
		if cmd.Name == "stop-commands" {
			stopped, token = true, cmd.Data
			registered[strings.ToUpper(token)] = true
		}
		cmds = append(cmds, cmd)
	}
	return cmds
}

// parseCommandV2 mirrors ActionCommand.TryParseV2.
func parseCommandV2(line string, isRegistered func(string) bool) (Command, bool) {
	msg := strings.TrimLeftFunc(line, unicode.IsSpace) // .NET TrimStart: the same set
	if !strings.HasPrefix(msg, "::") {
		return Command{}, false
	}
	end := strings.Index(msg[2:], "::")
	if end < 0 {
		return Command{}, false
	}
	end += 2
	info := msg[2:end]
	name, props, hasProps := strings.Cut(info, " ")
	if name == "" || !isRegistered(name) {
		return Command{}, false
	}
	cmd := Command{Name: name, Properties: map[string]string{}}
	if hasProps {
		props = strings.TrimFunc(props, unicode.IsSpace)
		for _, p := range strings.Split(props, ",") {
			if k, v, ok := splitPropertyPair(p); ok {
				setProperty(cmd.Properties, k, runnerUnescape(v, runnerPropertyMappings))
			}
		}
	}
	cmd.Data = runnerUnescape(msg[end+2:], runnerDataMappings)
	return cmd, true
}

// parseCommandLegacy mirrors ActionCommand.TryParse (the "##[" form).
func parseCommandLegacy(line string, isRegistered func(string) bool) (Command, bool) {
	start := strings.Index(line, "##[")
	if start < 0 {
		return Command{}, false
	}
	rb := strings.IndexByte(line[start:], ']')
	if rb < 0 {
		return Command{}, false
	}
	rb += start
	info := line[start+3 : rb]
	name, props, hasProps := strings.Cut(info, " ")
	if name == "" || !isRegistered(name) {
		return Command{}, false
	}
	cmd := Command{Name: name, Properties: map[string]string{}}
	if hasProps {
		for _, p := range strings.Split(props, ";") {
			if k, v, ok := splitPropertyPair(p); ok {
				setProperty(cmd.Properties, k, runnerUnescape(v, runnerLegacyMappings))
			}
		}
	}
	cmd.Data = runnerUnescape(line[rb+1:], runnerLegacyMappings)
	return cmd, true
}

// splitPropertyPair mirrors .NET's p.Split('=', 2, RemoveEmptyEntries) followed by the
// runner's "exactly two parts" check: empty pieces before the first non-empty one are
// skipped, so are empty pieces right after it, and the rest is the value.
func splitPropertyPair(p string) (string, string, bool) {
	parts := strings.Split(p, "=")
	first := -1
	for i := 0; i < len(parts)-1; i++ {
		if parts[i] != "" {
			first = i
			break
		}
	}
	if first < 0 {
		return "", "", false
	}
	j := first + 1
	for j < len(parts)-1 && parts[j] == "" {
		j++
	}
	rest := strings.Join(parts[j:], "=")
	if rest == "" {
		return "", "", false
	}
	return parts[first], rest, true
}

func setProperty(props map[string]string, key, value string) {
	for k := range props {
		if strings.EqualFold(k, key) {
			props[k] = value
			return
		}
	}
	props[key] = value
}

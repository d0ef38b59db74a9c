package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits. A job on a GitHub-hosted runner is stopped after six hours, so no wait may be
// longer; GitHub accepts at most 25 inputs for workflow_dispatch.
const (
	maxJobTime     = 6 * time.Hour
	maxInputs      = 25
	minMonitor     = time.Minute
	minInterval    = 10 * time.Second
	maxNameRunes   = 200
	defaultEnvHint = "AGENTME_GATEWAY_TOKEN"
)

var (
	environmentNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	envVarRE          = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	clockRE           = regexp.MustCompile(`^([0-9]{1,2}):([0-9]{2})$`)
)

// Validate checks a configuration built in code (Parse already validates what it
// returns). The errors name paths but carry no positions. It does not change c.
func (c *Config) Validate() error {
	v := &validator{
		problems: problems{file: c.Source},
		at:       func(string) pos { return pos{} },
		wrote:    func(string) bool { return false },
	}
	v.config(c)
	return v.err()
}

type validator struct {
	problems
	// at is where a path is in the file; wrote reports whether the file wrote it.
	at    func(path string) pos
	wrote func(path string) bool
	// paths names every field of the Config by its address (see pathsOf); bad holds the
	// paths the table's own checks refused.
	paths map[fieldID]string
	bad   map[string]bool
}

// path is the key path of a field of the validated Config, given its address.
func (v *validator) path(ptr any) string {
	rv := reflect.ValueOf(ptr)
	p, ok := v.paths[fieldID{rv.Pointer(), rv.Type().Elem()}]
	if !ok {
		panic(fmt.Sprintf("config: %T at %#x is not a field the key table knows", ptr, rv.Pointer()))
	}
	return p
}

func (v *validator) fail(path, format string, args ...any) {
	v.add(v.at(path), path, format, args...)
}

// locate finds the position of a path in the file: its own, else that of the nearest
// enclosing key that was written (a missing key is reported where it should have been).
func locate(written map[string]pos) func(string) pos {
	return func(p string) pos {
		for {
			if at, ok := written[p]; ok {
				return at
			}
			if p == "" {
				return pos{1, 1}
			}
			p = parentPath(p)
		}
	}
}

func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

func (v *validator) config(c *Config) {
	v.paths, v.bad = pathsOf(c), map[string]bool{}
	v.checkKeys("", keys, reflect.ValueOf(c).Elem(), v.bad)
	v.gates(&c.Gates)
	v.policy(&c.Policy)
	v.tags(&c.Tags)
	v.deploy(&c.Deploy)
	v.environments(c.Environments)
}

func (v *validator) gates(list *[]Gate) {
	gates := *list
	if len(gates) == 0 {
		v.fail(v.path(list), "the list is empty, and a release with no gates would pass unchecked; remove the key to use the built-in Agent Me gates, or list at least one gate")
		return
	}
	names := map[string]int{}
	for i := range gates {
		g := &gates[i]
		if g.Name == "" {
			v.fail(v.path(&g.Name), "required: every gate needs a name for the summary and the check run")
		} else if v.oneLine(v.path(&g.Name), g.Name) {
			key := strings.ToLower(g.Name)
			if j, dup := names[key]; dup {
				v.fail(v.path(&g.Name), "%s is already the name of gates[%d]; gate names must be unique", quote(g.Name), j)
			} else {
				names[key] = i
			}
		}
		switch {
		case g.Tests != nil && g.Check != "":
			v.fail(v.path(&g.Tests), "a gate is one kind (check, workflow or tests) and this one has both check and tests; split it into two gates")
		case g.Tests != nil && g.Workflow != "":
			v.fail(v.path(&g.Workflow), "a tests gate names its workflow under tests.workflow; move it there")
		case g.Tests == nil && g.Check == "" && g.Workflow == "":
			v.fail(v.path(g), "say what satisfies this gate: check (a check-run name), workflow (every check run of a workflow) or tests (test files in a job's log)")
		}
		if g.Check != "" && v.oneLine(v.path(&g.Check), g.Check) {
			if err := checkPattern(g.Check); err != nil {
				v.fail(v.path(&g.Check), "%v", err)
			}
		}
		if g.Workflow != "" {
			v.oneLine(v.path(&g.Workflow), g.Workflow)
		}
		if g.Dispatch && g.Kind() != KindWorkflow {
			v.fail(v.path(&g.Dispatch), "only a workflow gate (workflow alone, without check or tests) can be dispatched; this is a %s gate", g.Kind())
		}
		if len(g.Inputs) > 0 && !g.Dispatch {
			v.fail(v.path(&g.Inputs), "inputs are passed when the workflow is dispatched; set dispatch: true or remove inputs")
		}
		if len(g.Inputs) > maxInputs {
			v.fail(v.path(&g.Inputs), "%d inputs; GitHub accepts at most %d for a workflow dispatch", len(g.Inputs), maxInputs)
		}
		for name := range g.Inputs {
			if strings.TrimSpace(name) == "" {
				v.fail(v.path(&g.Inputs), "an input name is empty")
			}
		}
		if g.Tests != nil {
			v.testsGate(g.Tests)
		}
	}
}

func (v *validator) testsGate(t *TestsGate) {
	if t.Workflow == "" {
		v.fail(v.path(&t.Workflow), "required: the name of the workflow whose run holds the tests")
	} else {
		v.oneLine(v.path(&t.Workflow), t.Workflow)
	}
	if t.Job == "" {
		v.fail(v.path(&t.Job), "required: the name of the job that runs the tests")
	} else {
		v.oneLine(v.path(&t.Job), t.Job)
	}
	if t.Step != "" {
		v.oneLine(v.path(&t.Step), t.Step)
	}
	if t.JUnitArtifact != "" {
		v.oneLine(v.path(&t.JUnitArtifact), t.JUnitArtifact)
	}
	if len(t.Files) == 0 {
		v.fail(v.path(&t.Files), "required: list the test files that must run and pass")
	}
	seen := map[string]int{}
	for i, f := range t.Files {
		fp := v.path(&t.Files[i])
		if f == "" {
			v.fail(fp, "the file path is empty")
			continue
		}
		if !v.oneLine(fp, f) {
			continue
		}
		clean := path.Clean(f)
		if j, dup := seen[clean]; dup {
			v.fail(fp, "%s is listed twice (also files[%d])", quote(f), j)
			continue
		}
		seen[clean] = i
	}
}

func (v *validator) policy(pol *Policy) {
	appear, timeout := v.path(&pol.AppearTimeout), v.path(&pol.Timeout)
	if !v.bad[appear] && !v.bad[timeout] && pol.AppearTimeout > pol.Timeout {
		v.fail(appear, "%s is longer than %s (%s); the gate would time out first", pol.AppearTimeout, timeout, pol.Timeout)
	}
	for i, pat := range pol.Ignore {
		p := v.path(&pol.Ignore[i])
		if pat == "" {
			v.fail(p, "the check name is empty")
			continue
		}
		if err := checkPattern(pat); err != nil {
			v.fail(p, "%v", err)
		}
	}
}

func (v *validator) tags(t *Tags) {
	okC := v.template(v.path(&t.Candidate), t.Candidate)
	okR := v.template(v.path(&t.Release), t.Release)
	if okC && okR && t.Candidate == t.Release {
		v.fail(v.path(&t.Candidate), "is the same template as %s; a candidate tag would take the release's name (add -rc.{n})", v.path(&t.Release))
	}
	switch {
	case t.VersionFile == "":
		v.fail(v.path(&t.VersionFile), "the path is empty; remove the key to read package.json")
	case path.IsAbs(t.VersionFile) || strings.HasPrefix(path.Clean(t.VersionFile), ".."):
		v.fail(v.path(&t.VersionFile), "%s is outside the repository; give a path relative to its root", quote(t.VersionFile))
	}
}

func (v *validator) template(p, t string) bool {
	if t == "" {
		v.fail(p, "the template is empty; remove the key to use the default")
		return false
	}
	if err := checkTemplate(t); err != nil {
		v.fail(p, "%v", err)
		return false
	}
	return true
}

func (v *validator) deploy(d *Deploy) {
	w := d.Workflow
	switch {
	case w == "":
		v.fail(v.path(&d.Workflow), "required: the file name of the deploy workflow, like deploy.yml")
	case strings.Contains(w, "/"):
		v.fail(v.path(&d.Workflow), "give the workflow's file name (like %s), not a path", quote(path.Base(w)))
	case !isDigits(w) && !strings.HasSuffix(w, ".yml") && !strings.HasSuffix(w, ".yaml"):
		v.fail(v.path(&d.Workflow), "%s is not a workflow file name; want a name ending in .yml or .yaml (or the workflow's numeric id)", quote(w))
	}
}

func (v *validator) environments(envs []Environment) {
	names := map[string]int{}
	for i := range envs {
		e := &envs[i]
		switch {
		case e.Name == "":
			v.fail(v.path(&e.Name), "required: the GitHub environment's name, like staging")
		case !environmentNameRE.MatchString(e.Name):
			v.fail(v.path(&e.Name), "%s is not allowed; use letters, digits, '.', '_' and '-'", quote(e.Name))
		default:
			key := strings.ToLower(e.Name)
			if j, dup := names[key]; dup {
				v.fail(v.path(&e.Name), "%s is already the name of environments[%d]; environment names must be unique (GitHub ignores case)", quote(e.Name), j)
			} else {
				names[key] = i
			}
		}
		if e.URL != "" {
			if err := checkURL(e.URL, false); err != nil {
				v.fail(v.path(&e.URL), "%v", err)
			}
		}
		if e.Origin != "" {
			if err := checkOrigin(e.Origin); err != nil {
				v.fail(v.path(&e.Origin), "%v", err)
			}
		}
		if e.TokenEnv != "" && e.PasswordEnv != "" {
			v.fail(v.path(&e.PasswordEnv), "set token-env or password-env, not both: the gateway runs in one auth mode")
		}
		v.envName(v.path(&e.TokenEnv), e.TokenEnv)
		v.envName(v.path(&e.PasswordEnv), e.PasswordEnv)
		v.probes(v.path(&e.Smoke), e.Smoke)
		probed := len(e.Smoke) > 0
		if e.Monitor != nil {
			v.monitor(v.path(&e.Monitor), e.Monitor)
			probed = probed || len(e.Monitor.Smoke) > 0
		}
		if probed {
			if e.URL == "" {
				v.fail(v.path(&e.URL), "required for smoke probes: the gateway's base URL, like https://gateway.example (to deploy without probing, set smoke: [] and leave smoke out of monitor)")
			}
			if e.TokenEnv == "" && e.PasswordEnv == "" && !v.wrote(v.path(&e.TokenEnv)) && !v.wrote(v.path(&e.PasswordEnv)) {
				v.fail(v.path(&e.TokenEnv), "smoke probes need the gateway credential: set token-env (or password-env) to the name of the environment variable that holds it, like %s", defaultEnvHint)
			}
		}
		if e.Window != nil {
			v.window(v.path(&e.Window), e.Window)
		}
	}
}

func (v *validator) probes(p string, probes []string) {
	all := AllProbes()
	seen := map[string]bool{}
	for i, name := range probes {
		ip := index(p, i)
		if !slices.Contains(all, name) {
			msg := fmt.Sprintf("%s is not a smoke probe; use one of: %s", quote(name), oneOf(all...))
			if s := suggest(name, all); s != "" {
				msg = fmt.Sprintf("%s is not a smoke probe (did you mean %q?); use one of: %s", quote(name), s, oneOf(all...))
			}
			v.fail(ip, "%s", msg)
			continue
		}
		if seen[name] {
			v.fail(ip, "%s is listed twice", quote(name))
		}
		seen[name] = true
	}
}

func (v *validator) envName(p, name string) {
	if name == "" {
		if v.wrote(p) {
			v.fail(p, "the variable name is empty")
		}
		return
	}
	// Never echo the value: a credential pasted here by mistake must not reach a log.
	if looksLikeSecret(name) {
		v.fail(p, "this looks like a credential, not the name of an environment variable; never put a credential in this file (rotate it if it was committed): name the variable, like %s, and fill it from a secret in the workflow", defaultEnvHint)
		return
	}
	if !envVarRE.MatchString(name) {
		v.fail(p, "want the name of an environment variable (letters, digits and _, not starting with a digit), like %s", defaultEnvHint)
	}
}

func (v *validator) window(p string, w *Window) {
	var loc *time.Location
	switch w.Timezone {
	case "":
		v.fail(v.path(&w.Timezone), "required: the IANA time zone the window is written in, like Australia/Brisbane or UTC")
	case "Local":
		v.fail(v.path(&w.Timezone), "Local depends on the machine that runs the action; name the zone, like Australia/Brisbane or UTC")
	default:
		l, err := time.LoadLocation(w.Timezone)
		if err != nil {
			v.fail(v.path(&w.Timezone), "%s is not a known IANA time zone; use a name like Australia/Brisbane, Europe/Berlin or UTC", quote(w.Timezone))
		} else {
			loc = l
		}
	}
	if len(w.Weekly) == 0 && len(w.Freeze) == 0 {
		v.fail(p, "a window needs weekly windows, freeze periods or both; remove window to deploy at any time")
	}
	for i := range w.Weekly {
		ww := &w.Weekly[i]
		if len(ww.Days) == 0 {
			v.fail(v.path(&ww.Days), "required: the days the window opens, like [Tue, Thu]")
		}
		seen := map[time.Weekday]bool{}
		for j, day := range ww.Days {
			wd, ok := parseWeekday(day)
			if !ok {
				v.fail(v.path(&ww.Days[j]), "%s is not a day; use one of: Mon, Tue, Wed, Thu, Fri, Sat, Sun", quote(day))
				continue
			}
			if seen[wd] {
				v.fail(v.path(&ww.Days[j]), "%s is listed twice", quote(day))
			}
			seen[wd] = true
		}
		// End at or before start runs past midnight, so equal times make a 24-hour window.
		start, okS := v.clock(v.path(&ww.Start), ww.Start)
		v.clock(v.path(&ww.End), ww.End)
		if okS && start == 24*60 {
			v.fail(v.path(&ww.Start), "24:00 is the end of a day; a window that starts at midnight starts at 00:00")
		}
	}
	for i := range w.Freeze {
		f := &w.Freeze[i]
		okF := v.freezeTime(v.path(&f.From), f.From)
		okT := v.freezeTime(v.path(&f.To), f.To)
		if okF && okT {
			if loc == nil {
				loc = time.UTC
			}
			if from, until, err := freezeSpan(*f, loc); err == nil && !from.Before(until) {
				v.fail(v.path(&f.To), "%s is before from (%s); the freeze would cover nothing", quote(f.To), quote(f.From))
			}
		}
	}
}

func (v *validator) clock(p, s string) (int, bool) {
	if s == "" {
		v.fail(p, "required: a time of day as HH:MM, like \"02:00\"")
		return 0, false
	}
	m, err := parseClock(s)
	if err != nil {
		v.fail(p, "%v", err)
		return 0, false
	}
	return m, true
}

// parseClock reads "HH:MM" (or "H:MM"; 00:00 to 24:00) as minutes after midnight.
func parseClock(s string) (int, error) {
	m := clockRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%s is not a time of day; write HH:MM, like \"02:00\"", quote(s))
	}
	h, _ := strconv.Atoi(m[1])
	mi, _ := strconv.Atoi(m[2])
	if h > 24 || mi > 59 || (h == 24 && mi != 0) {
		return 0, fmt.Errorf("%s is not a time of day; use 00:00 to 24:00", quote(s))
	}
	return h*60 + mi, nil
}

func (v *validator) freezeTime(p, s string) bool {
	if s == "" {
		v.fail(p, "required: a date like 2026-12-20 (or an RFC 3339 time)")
		return false
	}
	if _, _, err := parseFreezeTime(s, time.UTC); err != nil {
		v.fail(p, "%v", err)
		return false
	}
	return true
}

// freezeSpan returns the instants a freeze covers, [from, until): a date is a whole day in
// loc (From from its midnight, To through its end); an RFC 3339 time is that instant. The
// window package reads freezes the same way.
func freezeSpan(f Freeze, loc *time.Location) (from, until time.Time, err error) {
	if from, _, err = parseFreezeTime(f.From, loc); err != nil {
		return time.Time{}, time.Time{}, err
	}
	until, isDate, err := parseFreezeTime(f.To, loc)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	if isDate {
		y, m, d := until.Date()
		until = time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	}
	return from, until, nil
}

// parseFreezeTime reads a date (YYYY-MM-DD, midnight in loc) or an RFC 3339 time.
func parseFreezeTime(s string, loc *time.Location) (t time.Time, isDate bool, err error) {
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, true, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, false, nil
	}
	return time.Time{}, false, fmt.Errorf("%s is not a date; write YYYY-MM-DD, like 2026-12-20 (or an RFC 3339 time like 2026-12-20T18:00:00+10:00)", quote(s))
}

func (v *validator) monitor(p string, m *Monitor) {
	okD, okI := !v.bad[v.path(&m.Duration)], !v.bad[v.path(&m.Interval)]
	if okD && okI && m.Interval >= m.Duration {
		v.fail(v.path(&m.Interval), "%s is not shorter than the monitor duration (%s)", m.Interval, m.Duration)
		okI = false
	}
	if m.Sustained < 1 {
		v.fail(v.path(&m.Sustained), "%d; want the number of consecutive bad intervals that make a breach, at least 1", m.Sustained)
	} else if okD && okI && time.Duration(m.Sustained)*m.Interval.D() > m.Duration.D() {
		v.fail(v.path(&m.Sustained), "%d intervals of %s take longer than the monitor duration (%s), so a breach could never be seen; lower sustained or interval", m.Sustained, m.Interval, m.Duration)
	}
	v.probes(v.path(&m.Smoke), m.Smoke)
	if len(m.Smoke) == 0 && m.Prometheus == nil {
		v.fail(p, "the monitor watches nothing: list smoke probes or add prometheus checks")
	}
	if pr := m.Prometheus; pr != nil {
		if pr.URL == "" {
			v.fail(v.path(&pr.URL), "required: the base URL of a Prometheus-compatible query API")
		} else if err := checkURL(pr.URL, pr.TokenEnv == ""); err != nil {
			v.fail(v.path(&pr.URL), "%v", err)
		}
		v.envName(v.path(&pr.TokenEnv), pr.TokenEnv)
		if len(pr.Checks) == 0 {
			v.fail(v.path(&pr.Checks), "required: at least one check (name, query, and max and/or min)")
		}
		names := map[string]int{}
		for i := range pr.Checks {
			mc := &pr.Checks[i]
			cp := v.path(mc)
			if mc.Name == "" {
				v.fail(v.path(&mc.Name), "required: a name for the summary")
			} else if v.oneLine(v.path(&mc.Name), mc.Name) {
				if j, dup := names[mc.Name]; dup {
					v.fail(v.path(&mc.Name), "%s is already the name of checks[%d]", quote(mc.Name), j)
				} else {
					names[mc.Name] = i
				}
			}
			if strings.TrimSpace(mc.Query) == "" {
				v.fail(v.path(&mc.Query), "required: the PromQL query whose value is checked")
			}
			finite := func(f *float64) bool { return f == nil || (!math.IsNaN(*f) && !math.IsInf(*f, 0)) }
			switch {
			case mc.Max == nil && mc.Min == nil:
				v.fail(cp, "set max, min or both: the bounds the value must stay within")
			case !finite(mc.Max):
				v.fail(v.path(&mc.Max), "want a finite number")
			case !finite(mc.Min):
				v.fail(v.path(&mc.Min), "want a finite number")
			case mc.Max != nil && mc.Min != nil && *mc.Min > *mc.Max:
				v.fail(v.path(&mc.Min), "%v is above max (%v); no value could pass", *mc.Min, *mc.Max)
			}
		}
	}
}

// durationBound checks 0 <= d <= hi (0 is allowed: "do not wait") and reports whether it holds.
func (v *validator) durationBound(p string, d Duration, hi time.Duration) bool {
	switch {
	case d < 0:
		v.fail(p, "%s is negative; 0 means do not wait", d)
	case d.D() > hi:
		v.fail(p, "%s is longer than a job may run (6h)", d)
	default:
		return true
	}
	return false
}

// durationRange checks lo <= d <= hi and reports whether it holds.
func (v *validator) durationRange(p string, d Duration, lo, hi time.Duration) bool {
	switch {
	case d <= 0:
		v.fail(p, "%s; want a duration greater than 0", d)
	case d.D() < lo:
		v.fail(p, "%s is too short; want at least %s", d, Duration(lo))
	case d.D() > hi:
		v.fail(p, "%s is too long; want at most %s (a job on a GitHub-hosted runner is stopped after 6h)", d, Duration(hi))
	default:
		return true
	}
	return false
}

func (v *validator) enum(p, got string, allowed ...string) {
	if !slices.Contains(allowed, got) {
		v.fail(p, "%s is not allowed; use one of: %s", quote(got), oneOf(allowed...))
	}
}

func (v *validator) oneLine(p, s string) bool {
	if strings.ContainsAny(s, "\n\r") {
		v.fail(p, "must be one line")
		return false
	}
	if len([]rune(s)) > maxNameRunes {
		v.fail(p, "is %d characters long; keep it under %d", len([]rune(s)), maxNameRunes)
		return false
	}
	return true
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// checkPattern validates a check-name matcher: "re:<regexp>", a glob (* ? [..]), or an
// exact name.
func checkPattern(s string) error {
	if re, ok := strings.CutPrefix(s, "re:"); ok {
		if re == "" {
			return errors.New("the regexp after re: is empty")
		}
		if _, err := regexp.Compile(re); err != nil {
			return fmt.Errorf("%s is not a valid regexp: %v", quote(re), err)
		}
		return nil
	}
	if strings.ContainsAny(s, `*?[\`) {
		if _, err := path.Match(s, ""); err != nil {
			return fmt.Errorf("%s is not a valid glob; use * and ?, [abc] or [a-z] for a class, \\ to escape (or re:<regexp>)", quote(s))
		}
	}
	return nil
}

// Placeholders of tag templates and the sample values a template is checked with.
var placeholders = map[string]string{"version": "1.2.3", "n": "1", "sha7": "abc1234", "date": "20260102"}

// checkTemplate validates a tag template: placeholders are {version}, {n}, {sha7} and
// {date}, and a tag made from it must be a valid git tag name.
func checkTemplate(t string) error {
	var sample strings.Builder
	for i := 0; i < len(t); {
		switch t[i] {
		case '{':
			j := strings.IndexAny(t[i+1:], "{}")
			if j < 0 || t[i+1+j] == '{' {
				return fmt.Errorf("%s has a { without a closing }; placeholders are {version}, {n}, {sha7} and {date}", quote(t))
			}
			name := t[i+1 : i+1+j]
			val, ok := placeholders[name]
			if !ok {
				return fmt.Errorf("%s uses the unknown placeholder %s; use {version}, {n}, {sha7} or {date}", quote(t), quote("{"+name+"}"))
			}
			sample.WriteString(val)
			i += j + 2
		case '}':
			return fmt.Errorf("%s has a } without an opening {; placeholders are {version}, {n}, {sha7} and {date}", quote(t))
		default:
			sample.WriteByte(t[i])
			i++
		}
	}
	if err := CheckTagName(sample.String()); err != nil {
		return fmt.Errorf("%s makes tags like %s, which git refuses: %v", quote(t), quote(sample.String()), err)
	}
	return nil
}

// CheckTagName applies git's rules for a tag name (git check-ref-format), refuses a
// leading '-' that command lines would read as an option, and names longer than 200
// characters. The release uses it on rendered names too.
func CheckTagName(s string) error {
	switch {
	case s == "" || s == "@":
		return errors.New("the name is empty")
	case len(s) > 200:
		return errors.New("the name is longer than 200 characters")
	case strings.HasPrefix(s, "-"):
		return errors.New("it starts with '-'")
	case strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/") || strings.Contains(s, "//"):
		return errors.New("it has an empty path component")
	case strings.HasSuffix(s, "."):
		return errors.New("it ends with '.'")
	case strings.Contains(s, ".."):
		return errors.New("it contains '..'")
	case strings.Contains(s, "@{"):
		return errors.New("it contains '@{'")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			return fmt.Errorf("it contains %q", r)
		}
	}
	for _, part := range strings.Split(s, "/") {
		if strings.HasPrefix(part, ".") || strings.HasSuffix(part, ".lock") {
			return errors.New("a path component starts with '.' or ends with '.lock'")
		}
	}
	return nil
}

// checkURL accepts an absolute https URL, or http for a loopback host (or for any host
// when plainOK, which callers set when no credential travels with the request). It never
// quotes the URL: a URL may carry a password.
func checkURL(s string, plainOK bool) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("is not a valid URL; want an absolute URL like https://gateway.example")
	}
	if u.User != nil {
		return errors.New("the URL must not contain a user or password; credentials never live in this file: name an environment variable with token-env or password-env")
	}
	if u.Host == "" || u.Hostname() == "" {
		return errors.New("want an absolute URL like https://gateway.example")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if plainOK || isLoopback(u.Hostname()) {
			return nil
		}
		return errors.New("use https: http is allowed only for loopback hosts (127.0.0.1, localhost, ::1), since a credential travels with each request")
	default:
		return errors.New("want an https:// URL like https://gateway.example")
	}
}

func checkOrigin(s string) error {
	if err := checkURL(s, true); err != nil {
		return err
	}
	u, _ := url.Parse(s)
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("want an origin: scheme and host only, like https://gateway.example")
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.Equal(net.IPv4(127, 0, 0, 1)) || ip.Equal(net.IPv6loopback))
}

// Prefixes of well-known credential formats.
var secretPrefixes = []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "xoxb-", "xoxp-", "sk-", "AKIA"}

// looksLikeSecret guesses whether s is a credential rather than a variable name: a known
// token prefix, or a long string mixing upper case, lower case and digits, which variable
// names (AGENTME_GATEWAY_TOKEN) do not.
func looksLikeSecret(s string) bool {
	for _, p := range secretPrefixes {
		if strings.HasPrefix(s, p) && len(s) > len(p)+8 {
			return true
		}
	}
	if len(s) < 20 {
		return false
	}
	var lower, upper, digit bool
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		}
	}
	return lower && upper && digit
}

package ghemu

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

// Values the resolvers pass around, one per GraphQL object type:
//
//	Query: queryObj            Repository: repoObj        Ref: refObj
//	Commit: *commit            StatusCheckRollup: rollupObj
//	CheckRun: *checkRun        StatusContext: *statusState CheckSuite: *suiteState
//	CheckStep: stepView        App: appInfo               WorkflowRun: *runState
//	Workflow: *workflowState   RateLimit: rateObj          *StateCount: stateCount
//	any *Connection: *connection, any *Edge: *edge, PageInfo: pageInfo
type (
	queryObj  struct{}
	repoObj   struct{}
	refObj    struct{ full string }
	rollupObj struct{ sha string }
	rateObj   struct {
		cost, nodeCount int
		b               bucket
	}
	stateCount struct {
		state string
		count int
	}
)

type resolveFn func(e *exec, src any, args map[string]any) (any, error)

var resolvers map[string]map[string]resolveFn

func (e *exec) resolve(typeName string, src any, f *ast.Field) (any, error) {
	args := f.ArgumentMap(e.vars)
	switch s := src.(type) {
	case *connection:
		if v, ok := s.field(f.Name); ok {
			return v, nil
		}
	case *edge:
		switch f.Name {
		case "cursor":
			return s.cursor, nil
		case "node":
			return s.node, nil
		}
	case pageInfo:
		switch f.Name {
		case "startCursor":
			return s.start, nil
		case "endCursor":
			return s.end, nil
		case "hasNextPage":
			return s.hasNext, nil
		case "hasPreviousPage":
			return s.hasPrev, nil
		}
	}
	fn := resolvers[typeName][f.Name]
	if fn == nil {
		return nil, fmt.Errorf("%s.%s is in the emulator's schema but not implemented", typeName, f.Name)
	}
	return fn(e, src, args)
}

func upper(s string) any {
	if s == "" {
		return nil
	}
	return strings.ToUpper(s)
}

func (e *exec) commitObj(sha string) any {
	if cm, ok := e.c.w.commits[sha]; ok {
		return typed{"Commit", cm}
	}
	return nil
}

// contexts lists the rollup's contexts: the latest check run per name per check
// suite (by id), then the latest status per context (by first appearance).
func (e *exec) contexts(sha string) (items []any, runs []*checkRun, sts []*statusState) {
	if c, ok := e.memo.contexts[sha]; ok {
		return c.items, c.runs, c.sts
	}
	runs = e.c.w.latestCheckRuns(sha, e.c.now)
	sts = e.c.w.latestStatuses(sha, e.c.now)
	for _, c := range runs {
		items = append(items, typed{"CheckRun", c})
	}
	for _, s := range sts {
		items = append(items, typed{"StatusContext", s})
	}
	e.memo.contexts[sha] = rollupContexts{items, runs, sts}
	return items, runs, sts
}

// memo keeps what one query derived from the clock, so a page of 100 check runs that
// each ask for their suite's state does not re-derive the suite 100 times.
type memo struct {
	views    map[*checkRun]crView
	suites   map[*suiteState]aggView
	runs     map[*runState]aggView
	contexts map[string]rollupContexts
}

type aggView struct {
	status, conclusion string
	updated            time.Time
}

type rollupContexts struct {
	items []any
	runs  []*checkRun
	sts   []*statusState
}

func newMemo() memo {
	return memo{views: map[*checkRun]crView{}, suites: map[*suiteState]aggView{},
		runs: map[*runState]aggView{}, contexts: map[string]rollupContexts{}}
}

func (e *exec) view(c *checkRun) crView {
	v, ok := e.memo.views[c]
	if !ok {
		v = c.view(e.c.now)
		e.memo.views[c] = v
	}
	return v
}

func (e *exec) suiteView(su *suiteState) (string, string, time.Time) {
	a, ok := e.memo.suites[su]
	if !ok {
		a.status, a.conclusion, a.updated = su.viewWith(e.c.now, e.view)
		e.memo.suites[su] = a
	}
	return a.status, a.conclusion, a.updated
}

func (e *exec) runView(r *runState) (string, string, time.Time) {
	a, ok := e.memo.runs[r]
	if !ok {
		a.status, a.conclusion, a.updated = r.viewWith(e.view)
		e.memo.runs[r] = a
	}
	return a.status, a.conclusion, a.updated
}

// checkState is a check run's CheckRunState: its conclusion once completed, else its status.
func checkState(v crView) string {
	if v.status == "completed" {
		return strings.ToUpper(v.conclusion)
	}
	return strings.ToUpper(v.status)
}

// rollupState combines check runs and statuses like GitHub's rollup: any failure wins,
// then error, then pending; everything passed is SUCCESS.
func rollupState(view func(*checkRun) crView, runs []*checkRun, sts []*statusState) string {
	has := map[string]bool{}
	for _, c := range runs {
		v := view(c)
		switch {
		case v.status != "completed":
			has["PENDING"] = true
		case isBad(v.conclusion):
			has["FAILURE"] = true
		}
	}
	for _, s := range sts {
		has[strings.ToUpper(s.state)] = true
	}
	for _, st := range []string{"FAILURE", "ERROR", "PENDING", "EXPECTED"} {
		if has[st] {
			return st
		}
	}
	return "SUCCESS"
}

func countsBy[T any](items []T, state func(T) string) []any {
	n := map[string]int{}
	for _, it := range items {
		n[state(it)]++
	}
	var keys []string
	for k := range n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := []any{}
	for _, k := range keys {
		out = append(out, stateCount{state: k, count: n[k]})
	}
	return out
}

func (e *exec) checkRunURL(c *checkRun) (url, path string) {
	path = "/" + e.c.w.owner + "/" + e.c.w.repo + "/runs/" + formatID(c.id)
	if c.run != nil {
		path = fmt.Sprintf("/%s/%s/actions/runs/%d/job/%d", e.c.w.owner, e.c.w.repo, c.run.id, c.id)
	}
	return e.c.u.base + path, path
}

func (e *exec) repoPath() string { return "/" + e.c.w.owner + "/" + e.c.w.repo }

func init() {
	resolvers = map[string]map[string]resolveFn{
		"Query": {
			"id": func(e *exec, _ any, _ map[string]any) (any, error) { return nodeID("Q", "query"), nil },
			"repository": func(e *exec, _ any, a map[string]any) (any, error) {
				o, _ := a["owner"].(string)
				n, _ := a["name"].(string)
				if !strings.EqualFold(o, e.c.w.owner) || !strings.EqualFold(n, e.c.w.repo) {
					return nil, typedErr{"NOT_FOUND", fmt.Sprintf("Could not resolve to a Repository with the name '%s/%s'.", o, n)}
				}
				return repoObj{}, nil
			},
			"rateLimit": func(e *exec, _ any, _ map[string]any) (any, error) { return e.rate, nil },
		},
		"RateLimit": {
			"cost":      func(e *exec, s any, _ map[string]any) (any, error) { return s.(rateObj).cost, nil },
			"limit":     func(e *exec, s any, _ map[string]any) (any, error) { return s.(rateObj).b.limit, nil },
			"nodeCount": func(e *exec, s any, _ map[string]any) (any, error) { return s.(rateObj).nodeCount, nil },
			"remaining": func(e *exec, s any, _ map[string]any) (any, error) { r := s.(rateObj); return r.b.remaining(), nil },
			"resetAt":   func(e *exec, s any, _ map[string]any) (any, error) { return s.(rateObj).b.reset, nil },
			"used":      func(e *exec, s any, _ map[string]any) (any, error) { return s.(rateObj).b.used, nil },
		},
		"Repository": {
			"id":            func(e *exec, _ any, _ map[string]any) (any, error) { return nodeID("R", "repo"), nil },
			"databaseId":    func(e *exec, _ any, _ map[string]any) (any, error) { return repoDBID, nil },
			"name":          func(e *exec, _ any, _ map[string]any) (any, error) { return e.c.w.repo, nil },
			"nameWithOwner": func(e *exec, _ any, _ map[string]any) (any, error) { return e.c.w.owner + "/" + e.c.w.repo, nil },
			"url":           func(e *exec, _ any, _ map[string]any) (any, error) { return e.c.u.html, nil },
			"resourcePath":  func(e *exec, _ any, _ map[string]any) (any, error) { return e.repoPath(), nil },
			"object": func(e *exec, _ any, a map[string]any) (any, error) {
				if oid, ok := a["oid"].(string); ok {
					// An object id is the full 40-hex sha; anything else names no object.
					if len(oid) == 40 && isHex(oid) {
						return e.commitObj(strings.ToLower(oid)), nil
					}
					return nil, nil
				}
				if ex, ok := a["expression"].(string); ok {
					if sha, ok := e.c.w.resolve(ex); ok {
						return e.commitObj(sha), nil
					}
				}
				return nil, nil
			},
			"ref": func(e *exec, _ any, a map[string]any) (any, error) {
				q, _ := a["qualifiedName"].(string)
				for _, full := range []string{q, "refs/heads/" + q, "refs/tags/" + q} {
					if _, ok := e.c.w.refs[full]; ok && strings.HasPrefix(full, "refs/") {
						return refObj{full}, nil
					}
				}
				return nil, nil
			},
			"defaultBranchRef": func(e *exec, _ any, _ map[string]any) (any, error) {
				if _, ok := e.c.w.refs["refs/heads/main"]; ok {
					return refObj{"refs/heads/main"}, nil
				}
				return nil, nil
			},
		},
		"Ref": {
			"id": func(e *exec, s any, _ map[string]any) (any, error) { return nodeID("REF", s.(refObj).full), nil },
			"name": func(e *exec, s any, _ map[string]any) (any, error) {
				full := s.(refObj).full
				return full[len(refPrefix(full)):], nil
			},
			"prefix":     func(e *exec, s any, _ map[string]any) (any, error) { return refPrefix(s.(refObj).full), nil },
			"repository": func(e *exec, _ any, _ map[string]any) (any, error) { return repoObj{}, nil },
			"target": func(e *exec, s any, _ map[string]any) (any, error) {
				// schema.graphql has no Tag object: an annotated tag's ref answers its commit.
				sha, _ := e.c.w.refCommit(s.(refObj).full)
				return e.commitObj(sha), nil
			},
		},
		"Commit": {
			"id":             func(e *exec, s any, _ map[string]any) (any, error) { return nodeID("C", s.(*commit).sha), nil },
			"oid":            func(e *exec, s any, _ map[string]any) (any, error) { return s.(*commit).sha, nil },
			"abbreviatedOid": func(e *exec, s any, _ map[string]any) (any, error) { return s.(*commit).sha[:7], nil },
			"url": func(e *exec, s any, _ map[string]any) (any, error) {
				return e.c.u.html + "/commit/" + s.(*commit).sha, nil
			},
			"commitUrl": func(e *exec, s any, _ map[string]any) (any, error) {
				return e.c.u.html + "/commit/" + s.(*commit).sha, nil
			},
			"resourcePath": func(e *exec, s any, _ map[string]any) (any, error) {
				return e.repoPath() + "/commit/" + s.(*commit).sha, nil
			},
			"commitResourcePath": func(e *exec, s any, _ map[string]any) (any, error) {
				return e.repoPath() + "/commit/" + s.(*commit).sha, nil
			},
			"repository":    func(e *exec, _ any, _ map[string]any) (any, error) { return repoObj{}, nil },
			"message":       func(e *exec, s any, _ map[string]any) (any, error) { return s.(*commit).message, nil },
			"authoredDate":  func(e *exec, s any, _ map[string]any) (any, error) { return s.(*commit).date, nil },
			"committedDate": func(e *exec, s any, _ map[string]any) (any, error) { return s.(*commit).date, nil },
			"messageHeadline": func(e *exec, s any, _ map[string]any) (any, error) {
				h, _, _ := strings.Cut(s.(*commit).message, "\n")
				return h, nil
			},
			"messageBody": func(e *exec, s any, _ map[string]any) (any, error) {
				_, b, _ := strings.Cut(s.(*commit).message, "\n")
				return strings.TrimLeft(b, "\n"), nil
			},
			"statusCheckRollup": func(e *exec, s any, _ map[string]any) (any, error) {
				if items, _, _ := e.contexts(s.(*commit).sha); len(items) == 0 {
					return nil, nil
				}
				return rollupObj{s.(*commit).sha}, nil
			},
			"checkSuites": func(e *exec, s any, a map[string]any) (any, error) {
				filter, _ := a["filterBy"].(map[string]any)
				var all []any
				for _, su := range e.c.w.commitSuites(s.(*commit).sha, e.c.now) {
					if id, ok := asInt(filter["appId"]); ok && int64(id) != su.app.id {
						continue
					}
					if n, ok := filter["checkName"].(string); ok && !hasName(su.visibleRuns(e.c.now), n) {
						continue
					}
					all = append(all, su)
				}
				return page(all, a)
			},
		},
		"StatusCheckRollup": {
			"id":     func(e *exec, s any, _ map[string]any) (any, error) { return nodeID("SCR", s.(rollupObj).sha), nil },
			"commit": func(e *exec, s any, _ map[string]any) (any, error) { return e.c.w.commits[s.(rollupObj).sha], nil },
			"state": func(e *exec, s any, _ map[string]any) (any, error) {
				_, runs, sts := e.contexts(s.(rollupObj).sha)
				return rollupState(e.view, runs, sts), nil
			},
			"contexts": func(e *exec, s any, a map[string]any) (any, error) {
				items, runs, sts := e.contexts(s.(rollupObj).sha)
				conn, err := page(items, a)
				if err != nil {
					return nil, err
				}
				conn.extra = map[string]any{
					"checkRunCount":      len(runs),
					"statusContextCount": len(sts),
					"checkRunCountsByState": func() any {
						return countsBy(runs, func(c *checkRun) string { return checkState(e.view(c)) })
					},
					"statusContextCountsByState": func() any {
						return countsBy(sts, func(s *statusState) string { return strings.ToUpper(s.state) })
					},
				}
				return conn, nil
			},
		},
		"CheckRunStateCount":      stateCountFields,
		"StatusContextStateCount": stateCountFields,
		"CheckRun": {
			"id":         func(e *exec, s any, _ map[string]any) (any, error) { return nodeID("CR", s.(*checkRun).id), nil },
			"databaseId": func(e *exec, s any, _ map[string]any) (any, error) { return s.(*checkRun).id, nil },
			"name":       func(e *exec, s any, _ map[string]any) (any, error) { return s.(*checkRun).name, nil },
			"status": func(e *exec, s any, _ map[string]any) (any, error) {
				return upper(e.view(s.(*checkRun)).status), nil
			},
			"conclusion": func(e *exec, s any, _ map[string]any) (any, error) {
				return upper(e.view(s.(*checkRun)).conclusion), nil
			},
			"startedAt": func(e *exec, s any, _ map[string]any) (any, error) { return e.view(s.(*checkRun)).startedAt, nil },
			"completedAt": func(e *exec, s any, _ map[string]any) (any, error) {
				return e.view(s.(*checkRun)).completedAt, nil
			},
			"checkSuite": func(e *exec, s any, _ map[string]any) (any, error) { return s.(*checkRun).suite, nil },
			"repository": func(e *exec, _ any, _ map[string]any) (any, error) { return repoObj{}, nil },
			"isRequired": func(e *exec, _ any, _ map[string]any) (any, error) { return false, nil },
			"detailsUrl": func(e *exec, s any, _ map[string]any) (any, error) {
				c := s.(*checkRun)
				if c.manual != nil {
					return strp(c.manual.detailsURL), nil
				}
				u, _ := e.checkRunURL(c)
				return u, nil
			},
			"externalId": func(e *exec, s any, _ map[string]any) (any, error) {
				if c := s.(*checkRun); c.manual != nil {
					return strp(c.manual.externalID), nil
				}
				return nil, nil
			},
			"url": func(e *exec, s any, _ map[string]any) (any, error) {
				u, _ := e.checkRunURL(s.(*checkRun))
				return u, nil
			},
			"permalink": func(e *exec, s any, _ map[string]any) (any, error) {
				u, _ := e.checkRunURL(s.(*checkRun))
				return u, nil
			},
			"resourcePath": func(e *exec, s any, _ map[string]any) (any, error) {
				_, p := e.checkRunURL(s.(*checkRun))
				return p, nil
			},
			"title":   manualText(func(m *manualCheck) *string { return m.title }),
			"summary": manualText(func(m *manualCheck) *string { return m.summary }),
			"text":    manualText(func(m *manualCheck) *string { return m.text }),
			"steps": func(e *exec, s any, a map[string]any) (any, error) {
				var all []any
				for _, st := range e.view(s.(*checkRun)).steps {
					if n, ok := asInt(a["number"]); ok && n != st.number {
						continue
					}
					all = append(all, st)
				}
				return page(all, a)
			},
		},
		"CheckStep": {
			"name":        func(e *exec, s any, _ map[string]any) (any, error) { return s.(stepView).name, nil },
			"number":      func(e *exec, s any, _ map[string]any) (any, error) { return s.(stepView).number, nil },
			"status":      func(e *exec, s any, _ map[string]any) (any, error) { return upper(s.(stepView).status), nil },
			"conclusion":  func(e *exec, s any, _ map[string]any) (any, error) { return upper(s.(stepView).conclusion), nil },
			"startedAt":   func(e *exec, s any, _ map[string]any) (any, error) { return s.(stepView).startedAt, nil },
			"completedAt": func(e *exec, s any, _ map[string]any) (any, error) { return s.(stepView).completedAt, nil },
			"externalId":  func(e *exec, _ any, _ map[string]any) (any, error) { return nil, nil },
			"secondsToCompletion": func(e *exec, s any, _ map[string]any) (any, error) {
				st := s.(stepView)
				if st.completedAt.IsZero() {
					return nil, nil
				}
				return int(st.completedAt.Sub(st.startedAt).Seconds()), nil
			},
		},
		"StatusContext": {
			"id":          func(e *exec, s any, _ map[string]any) (any, error) { return nodeID("SC", s.(*statusState).id), nil },
			"context":     func(e *exec, s any, _ map[string]any) (any, error) { return s.(*statusState).context, nil },
			"state":       func(e *exec, s any, _ map[string]any) (any, error) { return upper(s.(*statusState).state), nil },
			"targetUrl":   func(e *exec, s any, _ map[string]any) (any, error) { return strp(s.(*statusState).target), nil },
			"description": func(e *exec, s any, _ map[string]any) (any, error) { return strp(s.(*statusState).descr), nil },
			"createdAt":   func(e *exec, s any, _ map[string]any) (any, error) { return s.(*statusState).createdAt, nil },
			"commit":      func(e *exec, s any, _ map[string]any) (any, error) { return e.c.w.commits[s.(*statusState).sha], nil },
			"isRequired":  func(e *exec, _ any, _ map[string]any) (any, error) { return false, nil },
			"avatarUrl": func(e *exec, _ any, a map[string]any) (any, error) {
				n, _ := asInt(a["size"])
				return fmt.Sprintf("%s/avatars/ci.png?s=%d", e.c.u.base, n), nil
			},
		},
		"CheckSuite": {
			"id":         func(e *exec, s any, _ map[string]any) (any, error) { return nodeID("CS", s.(*suiteState).id), nil },
			"databaseId": func(e *exec, s any, _ map[string]any) (any, error) { return s.(*suiteState).id, nil },
			"status": func(e *exec, s any, _ map[string]any) (any, error) {
				st, _, _ := e.suiteView(s.(*suiteState))
				return upper(st), nil
			},
			"conclusion": func(e *exec, s any, _ map[string]any) (any, error) {
				_, c, _ := e.suiteView(s.(*suiteState))
				return upper(c), nil
			},
			"createdAt": func(e *exec, s any, _ map[string]any) (any, error) { return s.(*suiteState).createdAt, nil },
			"updatedAt": func(e *exec, s any, _ map[string]any) (any, error) {
				_, _, u := e.suiteView(s.(*suiteState))
				return u, nil
			},
			"commit": func(e *exec, s any, _ map[string]any) (any, error) {
				return e.c.w.commits[s.(*suiteState).headSHA], nil
			},
			"app":        func(e *exec, s any, _ map[string]any) (any, error) { return s.(*suiteState).app, nil },
			"repository": func(e *exec, _ any, _ map[string]any) (any, error) { return repoObj{}, nil },
			"branch": func(e *exec, s any, _ map[string]any) (any, error) {
				su := s.(*suiteState)
				if _, ok := e.c.w.refs["refs/heads/"+su.headBranch]; ok && su.headBranch != "" {
					return refObj{"refs/heads/" + su.headBranch}, nil
				}
				return nil, nil
			},
			"workflowRun": func(e *exec, s any, _ map[string]any) (any, error) {
				if r := s.(*suiteState).run; r != nil {
					return r, nil
				}
				return nil, nil
			},
			"url": func(e *exec, s any, _ map[string]any) (any, error) {
				su := s.(*suiteState)
				return fmt.Sprintf("%s/commit/%s/checks?check_suite_id=%d", e.c.u.html, su.headSHA, su.id), nil
			},
			"resourcePath": func(e *exec, s any, _ map[string]any) (any, error) {
				su := s.(*suiteState)
				return fmt.Sprintf("%s/commit/%s/checks?check_suite_id=%d", e.repoPath(), su.headSHA, su.id), nil
			},
			"checkRuns": func(e *exec, s any, a map[string]any) (any, error) {
				su := s.(*suiteState)
				filter, _ := a["filterBy"].(map[string]any)
				crs := su.visibleRuns(e.c.now)
				if t, _ := filter["checkType"].(string); t != "ALL" {
					crs = latestPerName(crs)
				}
				var statuses []string
				if st, ok := filter["status"].(string); ok {
					statuses = []string{st}
				}
				if l, ok := filter["statuses"].([]any); ok {
					statuses = nil
					for _, x := range l {
						statuses = append(statuses, fmt.Sprint(x))
					}
				}
				var conclusions []string
				if l, ok := filter["conclusions"].([]any); ok {
					for _, x := range l {
						conclusions = append(conclusions, fmt.Sprint(x))
					}
				}
				var all []any
				for _, c := range crs {
					v := e.view(c)
					if n, ok := filter["checkName"].(string); ok && c.name != n {
						continue
					}
					if id, ok := asInt(filter["appId"]); ok && int64(id) != su.app.id {
						continue
					}
					if statuses != nil && !containsFold(statuses, v.status) {
						continue
					}
					if conclusions != nil && !containsFold(conclusions, v.conclusion) {
						continue
					}
					all = append(all, c)
				}
				return page(all, a)
			},
		},
		"App": {
			"id":         func(e *exec, s any, _ map[string]any) (any, error) { return nodeID("A", s.(appInfo).id), nil },
			"databaseId": func(e *exec, s any, _ map[string]any) (any, error) { return s.(appInfo).id, nil },
			"name":       func(e *exec, s any, _ map[string]any) (any, error) { return s.(appInfo).name, nil },
			"slug":       func(e *exec, s any, _ map[string]any) (any, error) { return s.(appInfo).slug, nil },
			"url": func(e *exec, s any, _ map[string]any) (any, error) {
				return e.c.u.base + "/apps/" + s.(appInfo).slug, nil
			},
		},
		"WorkflowRun": {
			"id":         func(e *exec, s any, _ map[string]any) (any, error) { return nodeID("WFR", s.(*runState).id), nil },
			"databaseId": func(e *exec, s any, _ map[string]any) (any, error) { return s.(*runState).id, nil },
			"runNumber":  func(e *exec, s any, _ map[string]any) (any, error) { return s.(*runState).number, nil },
			"event":      func(e *exec, s any, _ map[string]any) (any, error) { return s.(*runState).event, nil },
			"createdAt":  func(e *exec, s any, _ map[string]any) (any, error) { return s.(*runState).createdAt, nil },
			"updatedAt": func(e *exec, s any, _ map[string]any) (any, error) {
				_, _, u := e.runView(s.(*runState))
				return u, nil
			},
			"url": func(e *exec, s any, _ map[string]any) (any, error) {
				return e.c.u.html + "/actions/runs/" + formatID(s.(*runState).id), nil
			},
			"resourcePath": func(e *exec, s any, _ map[string]any) (any, error) {
				return e.repoPath() + "/actions/runs/" + formatID(s.(*runState).id), nil
			},
			"checkSuite": func(e *exec, s any, _ map[string]any) (any, error) { return s.(*runState).suite, nil },
			"workflow":   func(e *exec, s any, _ map[string]any) (any, error) { return s.(*runState).wf, nil },
			"file":       func(e *exec, s any, _ map[string]any) (any, error) { return runFile{s.(*runState)}, nil },
		},
		"WorkflowRunFile": {
			"id":   func(e *exec, s any, _ map[string]any) (any, error) { return nodeID("WFRF", s.(runFile).run.id), nil },
			"path": func(e *exec, s any, _ map[string]any) (any, error) { return s.(runFile).run.wf.path, nil },
			"run":  func(e *exec, s any, _ map[string]any) (any, error) { return s.(runFile).run, nil },
			"url": func(e *exec, s any, _ map[string]any) (any, error) {
				return e.c.u.html + "/actions/runs/" + formatID(s.(runFile).run.id) + "/workflow", nil
			},
			"resourcePath": func(e *exec, s any, _ map[string]any) (any, error) {
				return e.repoPath() + "/actions/runs/" + formatID(s.(runFile).run.id) + "/workflow", nil
			},
		},
		"Workflow": {
			"id":         func(e *exec, s any, _ map[string]any) (any, error) { return nodeID("W", s.(*workflowState).id), nil },
			"databaseId": func(e *exec, s any, _ map[string]any) (any, error) { return s.(*workflowState).id, nil },
			"name":       func(e *exec, s any, _ map[string]any) (any, error) { return s.(*workflowState).name, nil },
			"state":      func(e *exec, _ any, _ map[string]any) (any, error) { return "ACTIVE", nil },
			"createdAt":  func(e *exec, s any, _ map[string]any) (any, error) { return s.(*workflowState).createdAt, nil },
			"updatedAt":  func(e *exec, s any, _ map[string]any) (any, error) { return s.(*workflowState).createdAt, nil },
			"url": func(e *exec, s any, _ map[string]any) (any, error) {
				return e.c.u.html + "/actions/workflows/" + s.(*workflowState).file(), nil
			},
			"resourcePath": func(e *exec, s any, _ map[string]any) (any, error) {
				return e.repoPath() + "/actions/workflows/" + s.(*workflowState).file(), nil
			},
		},
	}
}

// runFile is the workflow file a run executed (WorkflowRunFile).
type runFile struct{ run *runState }

var stateCountFields = map[string]resolveFn{
	"state": func(e *exec, s any, _ map[string]any) (any, error) { return s.(stateCount).state, nil },
	"count": func(e *exec, s any, _ map[string]any) (any, error) { return s.(stateCount).count, nil },
}

func manualText(get func(*manualCheck) *string) resolveFn {
	return func(e *exec, s any, _ map[string]any) (any, error) {
		if c := s.(*checkRun); c.manual != nil {
			return get(c.manual), nil
		}
		return nil, nil
	}
}

func refPrefix(full string) string {
	for _, p := range []string{"refs/heads/", "refs/tags/"} {
		if strings.HasPrefix(full, p) {
			return p
		}
	}
	if i := strings.LastIndex(full, "/"); i >= 0 {
		return full[:i+1]
	}
	return ""
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

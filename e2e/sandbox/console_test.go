package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/flink-hub/flink-hub/e2e/conformance/examples"
	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetapi"
)

// liveDeadline is how soon an open fleet page must show a change the fleet
// API already shows, without a reload. The page polls its rows every
// second; the deadline leaves a loaded machine (three replicas, members,
// Chromium and other packages' tests on two cores) time for a few polls:
// a clean run missed 2 s. How fast a change shows is a bench figure
// (visibility), not this test's.
const liveDeadline = 10 * time.Second

// browserRows lists the fleet table's rows in the page as "kind
// cluster/namespace/name".
const browserRows = `Array.from(document.querySelectorAll('table.fleet tbody tr[data-key]'), r => r.dataset.kind + ' ' + r.dataset.key)`

// checkConsole drives the sandbox's web console in headless Chromium: the
// fleet table lists every example of every member; the filter form narrows
// it to a shareable URL; a FlinkDeployment made to fail (its simulated
// JobManager answers 500) shows its error in the open page within
// liveDeadline of the fleet API showing it, and its own page draws the
// failing reconcile with its failed Flink REST spans, read from the
// sandbox's Jaeger; healed, its error goes; the trace, members and shards
// pages render. Each page's screenshot is saved as an artifact.
func checkConsole(t *testing.T, ctx context.Context, consoleURL, dir string, fleetPort int, all []examples.Example, jobs []examples.SessionJob, members int) {
	c := &consoleSession{t: t, b: framework.Browser(t), url: consoleURL}
	c.checkFleetTable(all, jobs, members)
	c.checkFilter()
	failing := failingDeployment{ctx: ctx, target: "member-2/default/basic-example", simURL: simulatorURL(t, dir),
		fleet: fmt.Sprintf("127.0.0.1:%d", fleetPort), token: readerToken(t, dir)}
	c.checkFailingDeployment(failing)
	c.checkHealed(failing)
	c.checkMembersAndShards(members)
}

// consoleSession drives one browser through the console.
type consoleSession struct {
	t   *testing.T
	b   context.Context
	url string
}

// do runs steps within a minute, failing the test on an error.
func (c *consoleSession) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	actx, cancel := context.WithTimeout(c.b, time.Minute)
	defer cancel()
	if err := chromedp.Do(actx, steps...); err != nil {
		c.t.Fatalf("%s: %v", what, err)
	}
}

// clickLive clicks the first node of sel on a page that swaps it out
// (the fleet page replaces its rows every second): a click whose node was
// replaced between the query and the click is tried again on the new one,
// as a person's click lands on whatever is under the pointer.
func clickLive(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for {
			_, err := chromedp.Click(chromedp.CSS(sel))(ctx, t)
			if err == nil || !strings.Contains(err.Error(), "node with given id") || ctx.Err() != nil {
				return err
			}
		}
	})
}

// eval evaluates a JavaScript expression counting something.
func (c *consoleSession) eval(expression string) (int, error) {
	actx, cancel := context.WithTimeout(c.b, 10*time.Second)
	defer cancel()
	return chromedp.Run(actx, chromedp.Evaluate[int](expression))
}

// rows are the fleet table's rows; none while a page is being replaced
// (the caller polls).
func (c *consoleSession) rows() []string {
	actx, cancel := context.WithTimeout(c.b, 10*time.Second)
	defer cancel()
	out, _ := chromedp.Run(actx, chromedp.Evaluate[[]string](browserRows))
	return out
}

// location is the page's address.
func (c *consoleSession) location() string {
	actx, cancel := context.WithTimeout(c.b, 10*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(actx, chromedp.Location())
	return loc
}

// shot saves a screenshot of the page as an artifact. A page that is
// being laid out again (a navigation or a swap of its live section) may
// have no size for a moment: the screenshot is then taken again.
func (c *consoleSession) shot(name string) {
	c.t.Helper()
	var png []byte
	framework.AwaitWithin(c.t, time.Minute, "a screenshot "+name, func() error {
		actx, cancel := context.WithTimeout(c.b, 20*time.Second)
		defer cancel()
		var err error
		png, err = chromedp.Run(actx, chromedp.FullScreenshot(100))
		return err
	})
	framework.SaveArtifact(c.t, name, png)
}

// checkFleetTable: the fleet page lists every example of every member.
func (c *consoleSession) checkFleetTable(all []examples.Example, jobs []examples.SessionJob, members int) {
	c.do("open the fleet page", chromedp.Navigate(c.url), chromedp.WaitVisible(chromedp.CSS(`table.fleet tbody tr[data-key]`)))
	var want []string
	for m := 1; m <= members; m++ {
		for _, ex := range all {
			want = append(want, fmt.Sprintf("FlinkDeployment member-%d/default/%s", m, ex.Typed.Name))
		}
		for _, j := range jobs {
			want = append(want, fmt.Sprintf("FlinkSessionJob member-%d/default/%s", m, j.Typed.Name))
		}
	}
	framework.AwaitWithin(c.t, 30*time.Second, "every example in the fleet table", func() error {
		got := c.rows()
		for _, w := range want {
			if !slices.Contains(got, w) {
				return fmt.Errorf("%q missing from %v", w, got)
			}
		}
		return nil
	})
	c.shot("fleet.png")
}

// checkFilter: the filter form narrows the table to a link to share.
func (c *consoleSession) checkFilter() {
	c.do("filter by member-2 and text", chromedp.SetValue(chromedp.CSS(`#f-cluster`), "member-2"),
		chromedp.SetValue(chromedp.CSS(`#f-text`), "basic"), chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)))
	framework.AwaitWithin(c.t, 30*time.Second, "the filtered table", func() error {
		got := c.rows()
		if len(got) == 0 {
			return fmt.Errorf("no rows")
		}
		for _, r := range got {
			if !strings.Contains(r, " member-2/") || !strings.Contains(r, "basic") {
				return fmt.Errorf("row %q passes the filter cluster=member-2 q=basic: %v", r, got)
			}
		}
		if loc := c.location(); !strings.Contains(loc, "cluster=member-2") || !strings.Contains(loc, "q=basic") {
			return fmt.Errorf("the page's address %q does not carry the filter", loc)
		}
		return nil
	})
	c.shot("fleet-filtered.png")
}

// failingDeployment is a FlinkDeployment made to fail through the
// simulator, and where the fleet API tells its error.
type failingDeployment struct {
	ctx                  context.Context
	target               string // cluster/namespace/name
	simURL, fleet, token string
}

// apiError is the target's error as the fleet API lists it.
func (f failingDeployment) apiError() (string, error) {
	cluster, rest, _ := strings.Cut(f.target, "/")
	var list fleetapi.DeploymentList
	if err := framework.FleetGet(f.ctx, f.fleet, f.token, "/fleet/v1/deployments?cluster="+cluster, &list); err != nil {
		return "", err
	}
	for _, d := range list.Items {
		if d.Namespace+"/"+d.Name == rest {
			return d.Error, nil
		}
	}
	return "", fmt.Errorf("%s is not in the fleet API", f.target)
}

// checkFailingDeployment: a FlinkDeployment made to fail (its JobManager
// answers every REST call with 500) shows its error in the open page
// within liveDeadline of the fleet API showing it, and its page draws the
// failing reconcile with its Flink REST spans.
func (c *consoleSession) checkFailingDeployment(f failingDeployment) {
	c.do("reopen the whole fleet", chromedp.Navigate(c.url), chromedp.WaitVisible(chromedp.CSS(`table.fleet tbody tr[data-key]`)))
	setFaults(c.t, f.ctx, f.simURL, f.target, `{"errorStatus":500}`)
	var apiError string
	framework.AwaitWithin(c.t, 2*time.Minute, "the error in the fleet API", func() error {
		var err error
		if apiError, err = f.apiError(); err != nil || apiError == "" {
			return fmt.Errorf("no error yet (%v)", err)
		}
		return nil
	})
	seen := time.Now()
	// The cell shows the error's first line; its title holds all of it.
	cell := `tr[data-key="` + f.target + `"] td.error span`
	framework.AwaitWithin(c.t, liveDeadline, "the error in the open fleet page (it polls every second)", func() error {
		actx, cancel := context.WithTimeout(c.b, time.Second)
		defer cancel()
		text, err := chromedp.Run(actx, chromedp.Evaluate[string](`(document.querySelector('`+cell+`') || {}).title || ""`))
		if err != nil {
			return err
		}
		if text == "" {
			return fmt.Errorf("no error in the row yet")
		}
		return nil
	})
	c.t.Logf("the open fleet page showed %s's error %s after the fleet API: %q", f.target, time.Since(seen).Round(10*time.Millisecond), apiError)
	c.shot("fleet-error.png")
	c.do("open the failing FlinkDeployment", clickLive(`tr[data-key="`+f.target+`"] a`),
		chromedp.WaitVisible(chromedp.CSS(`section.problem pre.error`)))
	framework.AwaitWithin(c.t, time.Minute, "its failing reconcile drawn with its Flink REST spans", c.failedReconcileDrawn)
	c.shot("deployment-error.png")
	c.do("open the trace", clickLive(`figure.waterfall figcaption a`),
		chromedp.WaitVisible(chromedp.CSS(`figure.waterfall`)))
	if loc := c.location(); !strings.Contains(loc, "/console/traces/") {
		c.t.Errorf("the trace link led to %s", loc)
	}
	c.shot("trace.png")
}

// failedReconcileDrawn reloads a failing FlinkDeployment's page and says
// what it lacks: its error, a reconcile trace, a failed Flink REST span, a
// bar for every span.
func (c *consoleSession) failedReconcileDrawn() error {
	actx, cancel := context.WithTimeout(c.b, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(actx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#traces-h`))); err != nil {
		return err
	}
	problem, err := chromedp.Run(actx, chromedp.Evaluate[string](`(document.querySelector('section.problem pre.error') || {}).textContent || ""`))
	if err != nil {
		return err
	}
	if problem == "" {
		return fmt.Errorf("the page shows no error")
	}
	spans, err := chromedp.Run(actx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('figure.waterfall tbody th[scope=row]'), th => th.textContent.trim())`))
	if err != nil {
		return err
	}
	if len(spans) == 0 || !strings.HasPrefix(spans[0], "Reconcile FlinkDeployment") {
		return fmt.Errorf("no reconcile trace drawn: %v", spans)
	}
	failedREST, err := c.eval(`Array.from(document.querySelectorAll('figure.waterfall tr.failed th[scope=row]')).filter(th => th.textContent.includes('flink ')).length`)
	if err != nil {
		return err
	}
	if failedREST == 0 {
		return fmt.Errorf("no failed Flink REST span among %v", spans)
	}
	bars, err := c.eval(`document.querySelectorAll('figure.waterfall svg.bar rect').length`)
	if err != nil {
		return err
	}
	if bars != len(spans) {
		return fmt.Errorf("%d bars for %d spans", bars, len(spans))
	}
	return nil
}

// checkHealed: healed, the error goes, and a healthy deployment's page
// draws its traces.
func (c *consoleSession) checkHealed(f failingDeployment) {
	setFaults(c.t, f.ctx, f.simURL, f.target, ``)
	framework.AwaitWithin(c.t, 2*time.Minute, "the error gone once healed", func() error {
		if e, err := f.apiError(); err != nil || e != "" {
			return fmt.Errorf("still %q (%v)", e, err)
		}
		return nil
	})
	c.do("the healthy deployment's page", chromedp.Navigate(c.url+"clusters/member-1/namespaces/default/flinkdeployments/basic-example"),
		chromedp.WaitVisible(chromedp.CSS(`figure.waterfall`)))
	c.shot("deployment.png")
}

// checkMembersAndShards: every member is listed and ready, and shards are
// listed.
func (c *consoleSession) checkMembersAndShards(members int) {
	c.do("members page", chromedp.Navigate(c.url+"members"), chromedp.WaitVisible(chromedp.CSS(`table.members`)))
	memberRows, err1 := c.eval(`document.querySelectorAll('table.members tbody tr[data-cluster]').length`)
	readyRows, err2 := c.eval(`document.querySelectorAll('table.members tbody tr[data-cluster] .state.ok').length`)
	if err := errors.Join(err1, err2); err != nil {
		c.t.Fatal(err)
	}
	if memberRows != members || readyRows != members {
		c.t.Errorf("members page: %d rows, %d ready, want %d", memberRows, readyRows, members)
	}
	c.shot("members.png")
	c.do("shards page", chromedp.Navigate(c.url+"shards"), chromedp.WaitVisible(chromedp.CSS(`table.shards`)))
	if shardRows, err := c.eval(`document.querySelectorAll('table.shards tbody tr[data-shard]').length`); err != nil || shardRows == 0 {
		c.t.Errorf("shards page: no shard (%v)", err)
	}
	c.shot("shards.png")
}

// readerToken is the fleet reader's token the sandbox wrote into its
// kubeconfig.
func readerToken(t *testing.T, dir string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(filepath.Join(dir, "kubeconfig"))
	if err != nil || cfg.AuthInfos["fleet-reader"] == nil {
		t.Fatalf("no fleet-reader in the sandbox's kubeconfig: %v", err)
	}
	return cfg.AuthInfos["fleet-reader"].Token
}

// simulatorURL is the Flink simulator's address the sandbox printed.
func simulatorURL(t *testing.T, dir string) string {
	t.Helper()
	log, err := os.ReadFile(filepath.Join(dir, "sandbox.log"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(log), "Flink simulator at ")
	if !ok {
		t.Fatal("the sandbox did not print the Flink simulator's address")
	}
	return strings.Fields(rest)[0]
}

// setFaults puts faults (a flinksim.FaultsRequest, "" to heal) on the
// JobManager of key ("cluster/namespace/name") through the simulator's
// admin API, as the sandbox tells its users to.
func setFaults(t *testing.T, ctx context.Context, simURL, key, faults string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, simURL+flinksim.AdminPrefix+"faults/"+key, strings.NewReader(faults))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("PUT faults of %s: %s", key, resp.Status)
	}
}

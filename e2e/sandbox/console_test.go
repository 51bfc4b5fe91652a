package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/flink-hub/flink-hub/e2e/conformance/examples"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetapi"
)

// liveDeadline is how soon an open fleet page must show a change the fleet
// API already shows (the page polls its rows every second).
const liveDeadline = 2 * time.Second

// browserRows lists the fleet table's rows in the page as "kind
// cluster/namespace/name".
const browserRows = `Array.from(document.querySelectorAll('table.fleet tbody tr[data-key]'), r => r.dataset.kind + ' ' + r.dataset.key)`

// checkConsole drives the sandbox's web console in headless Chromium: the
// fleet table lists every example of every member; the filter form narrows
// it to a shareable URL; a FlinkDeployment made to fail shows its error in
// the open page within liveDeadline of the fleet API showing it, and on its
// own page; a running example's page draws its latest reconcile trace with
// the Flink REST spans, read from the sandbox's Jaeger; the trace, members
// and shards pages render. Each page's screenshot is saved as an artifact.
func checkConsole(t *testing.T, ctx context.Context, consoleURL, dir string, fleetPort int, all []examples.Example, jobs []examples.SessionJob, members int) {
	b := framework.Browser(t)
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		actx, cancel := context.WithTimeout(b, time.Minute)
		defer cancel()
		if err := chromedp.Do(actx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(expression string) (int, error) {
		actx, cancel := context.WithTimeout(b, 10*time.Second)
		defer cancel()
		return chromedp.Run(actx, chromedp.Evaluate[int](expression))
	}
	rows := func() []string {
		actx, cancel := context.WithTimeout(b, 10*time.Second)
		defer cancel()
		// A page being replaced answers nothing: the caller polls.
		out, _ := chromedp.Run(actx, chromedp.Evaluate[[]string](browserRows))
		return out
	}
	location := func() string {
		actx, cancel := context.WithTimeout(b, 10*time.Second)
		defer cancel()
		loc, _ := chromedp.Run(actx, chromedp.Location())
		return loc
	}
	shot := func(name string) {
		t.Helper()
		actx, cancel := context.WithTimeout(b, time.Minute)
		defer cancel()
		png, err := chromedp.Run(actx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		framework.SaveArtifact(t, name, png)
	}
	await := func(what string, within time.Duration, cond func() error) {
		t.Helper()
		framework.AwaitWithin(t, within, what, cond)
	}

	// The fleet: every example of every member.
	do("open the fleet page", chromedp.Navigate(consoleURL), chromedp.WaitVisible(chromedp.CSS(`table.fleet tbody tr[data-key]`)))
	var want []string
	for m := 1; m <= members; m++ {
		for _, ex := range all {
			want = append(want, fmt.Sprintf("FlinkDeployment member-%d/default/%s", m, ex.Typed.Name))
		}
		for _, j := range jobs {
			want = append(want, fmt.Sprintf("FlinkSessionJob member-%d/default/%s", m, j.Typed.Name))
		}
	}
	await("every example in the fleet table", 30*time.Second, func() error {
		got := rows()
		for _, w := range want {
			if !slices.Contains(got, w) {
				return fmt.Errorf("%q missing from %v", w, got)
			}
		}
		return nil
	})
	shot("fleet.png")

	// The filter form narrows the table to a link to share.
	do("filter by member-2 and text", chromedp.SetValue(chromedp.CSS(`#f-cluster`), "member-2"),
		chromedp.SetValue(chromedp.CSS(`#f-text`), "basic"), chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)))
	await("the filtered table", 30*time.Second, func() error {
		got := rows()
		if len(got) == 0 {
			return fmt.Errorf("no rows")
		}
		for _, r := range got {
			if !strings.Contains(r, " member-2/") || !strings.Contains(r, "basic") {
				return fmt.Errorf("row %q passes the filter cluster=member-2 q=basic: %v", r, got)
			}
		}
		if loc := location(); !strings.Contains(loc, "cluster=member-2") || !strings.Contains(loc, "q=basic") {
			return fmt.Errorf("the page's address %q does not carry the filter", location())
		}
		return nil
	})
	shot("fleet-filtered.png")

	// A FlinkDeployment made to fail: its error shows in the open page.
	tn, err := newTenant(dir, "member-1")
	if err != nil {
		t.Fatal(err)
	}
	do("reopen the fleet page", chromedp.Navigate(consoleURL), chromedp.WaitVisible(chromedp.CSS(`table.fleet tbody tr[data-key]`)))
	broken := all[0].Typed.DeepCopy()
	for _, ex := range all {
		if ex.Typed.Name == "basic-example" {
			broken = ex.Typed.DeepCopy()
		}
	}
	broken.Name, broken.Namespace = "console-broken", "default"
	broken.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"kubernetes.operator.deployment.rollback.enabled":"true"}`)}
	if err := tn.c.Create(ctx, broken); err != nil {
		t.Fatal(err)
	}
	const wantError = "rollbacks need high availability"
	token := readerToken(t, dir)
	await("the error in the fleet API", time.Minute, func() error {
		var list fleetapi.DeploymentList
		if err := framework.FleetGet(ctx, fmt.Sprintf("127.0.0.1:%d", fleetPort), token, "/fleet/v1/deployments?cluster=member-1", &list); err != nil {
			return err
		}
		for _, d := range list.Items {
			if d.Name == broken.Name && strings.Contains(d.Error, wantError) {
				return nil
			}
		}
		return fmt.Errorf("not yet")
	})
	seen := time.Now()
	// The cell shows the error's first line; its title holds all of it.
	cell := `tr[data-key="member-1/default/console-broken"] td.error span`
	framework.AwaitWithin(t, liveDeadline, "the error in the open fleet page (it polls every second)", func() error {
		actx, cancel := context.WithTimeout(b, time.Second)
		defer cancel()
		text, err := chromedp.Run(actx, chromedp.Evaluate[string](`(document.querySelector('`+cell+`') || {}).title || ""`))
		if err != nil {
			return err
		}
		if !strings.Contains(text, wantError) {
			return fmt.Errorf("cell %q", text)
		}
		return nil
	})
	t.Logf("the open fleet page showed the error %s after the fleet API", time.Since(seen).Round(10*time.Millisecond))
	shot("fleet-error.png")
	do("open the failing FlinkDeployment", chromedp.Click(chromedp.CSS(`tr[data-key="member-1/default/console-broken"] a`)),
		chromedp.WaitVisible(chromedp.CSS(`section.problem pre.error`)))
	tctx, cancelText := context.WithTimeout(b, 10*time.Second)
	problem, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(`section.problem pre.error`)))
	cancelText()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(problem, wantError) {
		t.Errorf("the FlinkDeployment's page shows the error %q", problem)
	}
	shot("deployment-error.png")

	// A running example's latest reconcile trace, with Flink REST spans.
	page := consoleURL + "clusters/member-1/namespaces/default/flinkdeployments/basic-example"
	await("a reconcile trace with Flink REST spans on basic-example's page", 2*time.Minute, func() error {
		actx, cancel := context.WithTimeout(b, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(actx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(`#traces-h`))); err != nil {
			return err
		}
		spans, err := chromedp.Run(actx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('figure.waterfall tbody th[scope=row]'), th => th.textContent.trim())`))
		if err != nil {
			return err
		}
		bars, err := eval(`document.querySelectorAll('figure.waterfall svg.bar rect').length`)
		if err != nil {
			return err
		}
		if len(spans) == 0 || !strings.HasPrefix(strings.TrimLeft(spans[0], "├└─│ "), "Reconcile FlinkDeployment") {
			return fmt.Errorf("no reconcile trace drawn: %v", spans)
		}
		if !slices.ContainsFunc(spans, func(s string) bool { return strings.Contains(s, "flink GET ") }) {
			return fmt.Errorf("no Flink REST span in %v", spans)
		}
		if bars != len(spans) {
			return fmt.Errorf("%d bars for %d spans", bars, len(spans))
		}
		return nil
	})
	shot("deployment.png")
	do("open the trace", chromedp.Click(chromedp.CSS(`figure.waterfall figcaption a`)),
		chromedp.WaitVisible(chromedp.CSS(`figure.waterfall`)))
	if loc := location(); !strings.Contains(loc, "/console/traces/") {
		t.Errorf("the trace link led to %s", loc)
	}
	shot("trace.png")

	// Members and shards.
	do("members page", chromedp.Navigate(consoleURL+"members"), chromedp.WaitVisible(chromedp.CSS(`table.members`)))
	memberRows, err1 := eval(`document.querySelectorAll('table.members tbody tr[data-cluster]').length`)
	readyRows, err2 := eval(`document.querySelectorAll('table.members tbody tr[data-cluster] .state.ok').length`)
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	if memberRows != members || readyRows != members {
		t.Errorf("members page: %d rows, %d ready, want %d", memberRows, readyRows, members)
	}
	shot("members.png")
	do("shards page", chromedp.Navigate(consoleURL+"shards"), chromedp.WaitVisible(chromedp.CSS(`table.shards`)))
	if shardRows, err := eval(`document.querySelectorAll('table.shards tbody tr[data-shard]').length`); err != nil || shardRows == 0 {
		t.Errorf("shards page: no shard (%v)", err)
	}
	shot("shards.png")

	if err := tn.deleteAndWait(ctx, broken.Name); err != nil {
		t.Errorf("delete %s: %v", broken.Name, err)
	}
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

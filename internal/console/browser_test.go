package console

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetapi"
)

// Scripts the browser test runs on the fleet page. The live section is
// marked with a property that a replacement (a refresh) drops.
const (
	markLive     = `(() => { document.getElementById('live').__mark = true; return true })()`
	liveReplaced = `!document.getElementById('live').__mark`
	selectError  = `(() => {
		const r = document.createRange();
		r.selectNodeContents(document.querySelector('#live td.error span'));
		const s = getSelection(); s.removeAllRanges(); s.addRange(r);
		return s.toString() })()`
	selection   = `getSelection().toString()`
	linkFocused = `document.activeElement !== null && document.activeElement.matches('#live td a')`
	unselect    = `(() => { getSelection().removeAllRanges(); return true })()`
	focusLink   = `(() => { const a = document.querySelector('#live td a'); a.focus(); return document.activeElement === a })()`
	blur        = `(() => { document.activeElement.blur(); return true })()`
	heldCount   = `Number(document.getElementById('live-held').dataset.held || '0')`
	noticeShown = `(() => { const n = document.getElementById('live-held'); return !n.hidden && getComputedStyle(n).display !== 'none' })()`
)

// TestFleetRefreshWaitsForTheReader: in a browser, the fleet page does not
// replace its live section while the reader has text of it selected (an
// error to copy) or one of its links focused (tabbing through the rows),
// says that updates are paused, and refreshes again once they let go.
func TestFleetRefreshWaitsForTheReader(t *testing.T) {
	const failure = "JobManager unreachable: connection refused"
	ix := indexOf(row("member-1", "team-a", "orders", fleetv1.KindFlinkDeployment, "DEPLOYED", "FAILED", failure))
	srv := newTestConsole(t, Options{Fleet: &fleetapi.Fleet{Index: ix}})
	b := framework.Browser(t)
	eval := func(t *testing.T, expression string) any {
		t.Helper()
		ctx, cancel := context.WithTimeout(b, 10*time.Second)
		defer cancel()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[any](expression))
		if err != nil {
			t.Fatalf("%s: %v", expression, err)
		}
		return v
	}
	await := func(t *testing.T, what, expression string) {
		t.Helper()
		if err := framework.Eventually(b, 15*time.Second, func(context.Context) (bool, error) {
			return eval(t, expression) == true, nil
		}); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	ctx, cancel := context.WithTimeout(b, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+Prefix), chromedp.WaitVisible(chromedp.CSS(`#live td.error span`))); err != nil {
		t.Fatalf("open the fleet page: %v", err)
	}
	eval(t, markLive)
	await(t, "the live section is refreshed", liveReplaced)

	for _, hold := range []struct {
		name, start, check, release string
		want                        any
	}{
		{"text of the section selected", selectError, selection, unselect, failure},
		{"a link of the section focused", focusLink, linkFocused, blur, true},
	} {
		t.Run(hold.name, func(t *testing.T) {
			held := eval(t, heldCount).(float64)
			eval(t, hold.start)
			await(t, "a refresh is held", heldCount+` > `+formatFloat(held))
			// A refresh sent before the hold may have replaced the section:
			// start again, then let two more refreshes be held.
			eval(t, hold.start)
			eval(t, markLive)
			held = eval(t, heldCount).(float64)
			await(t, "two more refreshes are held", heldCount+` > `+formatFloat(held+1))
			if eval(t, liveReplaced) == true {
				t.Fatal("the live section was replaced while the reader held it")
			}
			if got := eval(t, hold.check); got != hold.want {
				t.Fatalf("%s = %v after the held refreshes, want %v", hold.check, got, hold.want)
			}
			if eval(t, noticeShown) != true {
				t.Fatal("the page does not say that updates are paused")
			}
			eval(t, hold.release)
			await(t, "the section is refreshed once the reader lets go", liveReplaced)
			await(t, "the pause notice goes", `!(`+noticeShown+`)`)
		})
	}
}

// formatFloat writes n for a script.
func formatFloat(n float64) string {
	return strconv.FormatFloat(n, 'f', -1, 64)
}

package plan

import (
	"encoding/json"
	"testing"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
)

// FuzzClassify: a spec never differs from itself nor from its own
// lastReconciledSpec (encoded and decoded as the status keeps it), and the
// difference of two specs does not depend on their order, but for a nonce
// set on one side only (unsetting one asks for nothing: v1beta1.NonceAsks).
func FuzzClassify(f *testing.F) {
	base := `{"image":"flink:2.2","flinkVersion":"v2_2","serviceAccount":"flink","flinkConfiguration":{"taskmanager.numberOfTaskSlots":"2"},` +
		`"jobManager":{"resource":{"memory":"1g","cpu":1}},"taskManager":{"resource":{"memory":"2g","cpu":1}},` +
		`"job":{"jarURI":"local:///opt/flink/job.jar","parallelism":2,"upgradeMode":"savepoint"}}`
	f.Add(base, base)
	f.Add(base, `{"image":"flink:2.2","flinkVersion":"v2_2","job":{"parallelism":4,"savepointRedeployNonce":1}}`)
	f.Add(`{"mode":"standalone","flinkConfiguration":{"scheduler-mode":"reactive"},"job":{"parallelism":2},"taskManager":{"replicas":2}}`,
		`{"mode":"standalone","flinkConfiguration":{"scheduler-mode":"REACTIVE"},"job":{"parallelism":3},"taskManager":{"replicas":3}}`)
	f.Add(`{"flinkConfiguration":{"kubernetes.operator.periodic.savepoint.interval":"1h","a":{"b":"c"}}}`, `{"flinkConfiguration":{"a.b":"c"}}`)
	f.Add(`{"flinkConfiguration":[1,2]}`, `{"flinkConfiguration":null}`)
	f.Add(`{"job":{"savepointRedeployNonce":null}}`, `{"job":{"savepointRedeployNonce":0}}`)
	f.Fuzz(func(t *testing.T, a, b string) {
		var x, y v1beta1.FlinkDeploymentSpec
		if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
			return
		}
		if d := Classify(&x, &x); d != DiffIgnore {
			t.Fatalf("a spec differs from itself: %v\n%s", d, a)
		}
		encoded, err := EncodeSpec(&x, true)
		if err != nil {
			t.Fatal(err)
		}
		last, _, err := DecodeSpec(encoded)
		if err != nil {
			t.Fatalf("the status cannot read its own lastReconciledSpec: %v\n%s", err, encoded)
		}
		if d := Classify(&x, last); d != DiffIgnore {
			t.Fatalf("a spec differs from its lastReconciledSpec: %v\n%s\n%s", d, a, encoded)
		}
		if xy, yx := Classify(&x, &y), Classify(&y, &x); xy != yx && !nonceSetOnOneSide(&x, &y) {
			t.Fatalf("Classify(a, b) = %v but Classify(b, a) = %v\n%s\n%s", xy, yx, a, b)
		}
	})
}

// nonceSetOnOneSide reports a restartNonce or savepointRedeployNonce set
// in one of x and y only.
func nonceSetOnOneSide(x, y *v1beta1.FlinkDeploymentSpec) bool {
	redeployNonce := func(s *v1beta1.FlinkDeploymentSpec) *int64 {
		if s.Job == nil {
			return nil
		}
		return s.Job.SavepointRedeployNonce
	}
	return (x.RestartNonce == nil) != (y.RestartNonce == nil) || (redeployNonce(x) == nil) != (redeployNonce(y) == nil)
}

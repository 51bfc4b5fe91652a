package clusters

import (
	"context"
	"testing"
	"time"
)

// TestRemovedRegistrationForgetsItsAdoption: the adoption time of a member
// whose Secret is gone is not kept (members come and go).
func TestRemovedRegistrationForgetsItsAdoption(t *testing.T) {
	p := NewMemberProvider(ProviderOptions{})
	p.recordAdoption("member-1", time.Now())
	p.release(context.Background(), "member-1")
	p.mu.RLock()
	defer p.mu.RUnlock()
	if n := len(p.adoptions); n != 0 {
		t.Errorf("%d adoption times kept after the registration was removed, want none", n)
	}
}

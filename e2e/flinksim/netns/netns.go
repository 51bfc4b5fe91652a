// Package netns gives simulated JobManagers a reachable, non-loopback pod
// IP: a Linux network namespace joined to the host by a veth pair. The
// kube-apiserver's service proxy refuses loopback endpoint addresses, so a
// test of the proxy transport serves a JobManager on the namespace's veth
// address. It needs root and iproute2's ip command.
package netns

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// Network is a network namespace with a veth pair to the host. It is a
// flinksim.PodNetwork: JobManager pods get the namespace's address and are
// served inside the namespace, other pods get unreachable 10.245.x.y
// addresses. It serves one JobManager per REST port.
type Network struct {
	name   string
	hostIF string
	// HostAddr is the host side's address, PodAddr the namespace side's.
	HostAddr, PodAddr string

	mu   sync.Mutex
	next int
}

// Available says why a Network cannot be created here, or nil.
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return errors.New("the ip command (iproute2) is missing; 'make test' installs it as root")
	}
	return nil
}

// New creates the namespace and the veth pair, with names and a /30 subnet
// derived from the process id so that parallel test processes do not
// collide. Close removes them.
func New() (*Network, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	pid := os.Getpid()
	n := &Network{
		name:     "flinksim-" + strconv.Itoa(pid),
		hostIF:   fmt.Sprintf("fsh%d", pid%1000000),
		HostAddr: fmt.Sprintf("10.213.%d.%d", (pid/64)%256, (pid%64)*4+1),
		PodAddr:  fmt.Sprintf("10.213.%d.%d", (pid/64)%256, (pid%64)*4+2),
	}
	nsIF := fmt.Sprintf("fsp%d", pid%1000000)
	steps := [][]string{
		{"netns", "add", n.name},
		{"link", "add", n.hostIF, "type", "veth", "peer", "name", nsIF},
		{"link", "set", nsIF, "netns", n.name},
		{"addr", "add", n.HostAddr + "/30", "dev", n.hostIF},
		{"link", "set", n.hostIF, "up"},
		{"-n", n.name, "addr", "add", n.PodAddr + "/30", "dev", nsIF},
		{"-n", n.name, "link", "set", nsIF, "up"},
		{"-n", n.name, "link", "set", "lo", "up"},
	}
	for _, args := range steps {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			_ = n.Close()
			return nil, fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}
	return n, nil
}

// Close deletes the namespace; the veth pair goes with it.
func (n *Network) Close() error {
	_ = exec.Command("ip", "link", "del", n.hostIF).Run()
	if out, err := exec.Command("ip", "netns", "del", n.name).CombinedOutput(); err != nil && !strings.Contains(string(out), "No such file") {
		return fmt.Errorf("ip netns del %s: %v: %s", n.name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// PodIP gives JobManager pods the namespace's address.
func (n *Network) PodIP(_ string, pod *corev1.Pod) string {
	if pod.Labels["component"] == "jobmanager" {
		return n.PodAddr
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.next++
	return fmt.Sprintf("10.245.%d.%d", (n.next>>8)&0xff, n.next&0xff)
}

// Listen opens a TCP listener on ip:port inside the namespace, or returns
// nil for addresses that are not the namespace's.
func (n *Network) Listen(ip string, port int) (net.Listener, error) {
	if ip != n.PodAddr {
		return nil, nil
	}
	type result struct {
		ln  net.Listener
		err error
	}
	done := make(chan result, 1)
	// A dedicated, locked thread enters the namespace; if it cannot return
	// to the host namespace it stays locked and dies with its goroutine.
	go func() {
		runtime.LockOSThread()
		host, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{err: err}
			return
		}
		defer host.Close()
		target, err := os.Open("/var/run/netns/" + n.name)
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{err: err}
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- result{err: fmt.Errorf("entering network namespace %s: %w", n.name, err)}
			return
		}
		ln, lerr := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
		if err := unix.Setns(int(host.Fd()), unix.CLONE_NEWNET); err == nil {
			runtime.UnlockOSThread()
		}
		done <- result{ln, lerr}
	}()
	r := <-done
	return r.ln, r.err
}

// Package netns gives simulated JobManagers reachable, non-loopback pod
// IPs: addresses of a Linux network namespace joined to the host by a veth
// pair. The kube-apiserver's service proxy refuses loopback endpoint
// addresses, so tests of the proxy transport serve JobManagers there. It
// needs root and iproute2's ip command.
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

// Network is a network namespace with a veth pair to the host, holding a
// /24 subnet. It is a flinksim.PodNetwork: each JobManager pod gets its own
// address in the namespace (up to 253 at a time) and is served there;
// other pods get unreachable 10.245.x.y addresses.
type Network struct {
	name   string
	hostIF string
	nsIF   string
	prefix string // "10.213.N."
	// HostAddr is the host side's address.
	HostAddr string

	mu    sync.Mutex
	pods  map[string]string // cluster/namespace/pod -> address
	added map[string]bool   // addresses on the namespace's interface
	next  int
	other int
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

// New creates the namespace and the veth pair. Names come from the
// process id; the /24 subnet is the first 10.213.N.0/24 that no host
// interface holds, chosen under a file lock shared by every test process,
// so that parallel test processes never route to each other's namespace
// (two subnets alike on two interfaces send one's traffic to the other).
// Close removes them.
func New() (*Network, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	unlock, err := lockSubnets()
	if err != nil {
		return nil, err
	}
	defer unlock()
	pid := os.Getpid()
	third, err := freeSubnet(pid % 256)
	if err != nil {
		return nil, err
	}
	n := &Network{
		name:   "flinksim-" + strconv.Itoa(pid),
		hostIF: fmt.Sprintf("fsh%d", pid%1000000),
		nsIF:   fmt.Sprintf("fsp%d", pid%1000000),
		prefix: fmt.Sprintf("10.213.%d.", third),
		pods:   map[string]string{},
		added:  map[string]bool{},
		next:   1,
	}
	n.HostAddr = n.prefix + "1"
	steps := [][]string{
		{"netns", "add", n.name},
		{"link", "add", n.hostIF, "type", "veth", "peer", "name", n.nsIF},
		{"link", "set", n.nsIF, "netns", n.name},
		{"addr", "add", n.HostAddr + "/24", "dev", n.hostIF},
		{"link", "set", n.hostIF, "up"},
		{"-n", n.name, "link", "set", n.nsIF, "up"},
		{"-n", n.name, "link", "set", "lo", "up"},
	}
	for _, args := range steps {
		if err := runIP(args...); err != nil {
			_ = n.Close()
			return nil, err
		}
	}
	return n, nil
}

// subnetLock is the file whose lock serializes subnet choices across
// processes.
const subnetLock = "/run/flinksim-netns.lock"

// lockSubnets takes the cross-process subnet lock; the returned function
// releases it.
func lockSubnets() (func(), error) {
	f, err := os.OpenFile(subnetLock, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("subnet lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("subnet lock: %w", err)
	}
	return func() { _ = f.Close() }, nil
}

// freeSubnet returns the first N from start on (mod 256) such that no host
// interface has an address in 10.213.N.0/24.
func freeSubnet(start int) (int, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return 0, fmt.Errorf("listing host addresses: %w", err)
	}
	used := map[int]bool{}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if ip := ipn.IP.To4(); ip != nil && ip[0] == 10 && ip[1] == 213 {
				used[int(ip[2])] = true
			}
		}
	}
	for i := range 256 {
		if n := (start + i) % 256; !used[n] {
			return n, nil
		}
	}
	return 0, errors.New("every 10.213.N.0/24 subnet is in use on this host")
}

// Close deletes the namespace; the veth pair goes with it.
func (n *Network) Close() error {
	_ = exec.Command("ip", "link", "del", n.hostIF).Run()
	if out, err := exec.Command("ip", "netns", "del", n.name).CombinedOutput(); err != nil && !strings.Contains(string(out), "No such file") {
		return fmt.Errorf("ip netns del %s: %v: %s", n.name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// PodIP gives each JobManager pod an address of the namespace; a pod
// recreated under the same name keeps its address.
func (n *Network) PodIP(cluster string, pod *corev1.Pod) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if pod.Labels["component"] == "jobmanager" {
		key := cluster + "/" + pod.Namespace + "/" + pod.Name
		if addr, ok := n.pods[key]; ok {
			return addr
		}
		if n.next < 254 {
			n.next++
			addr := n.prefix + strconv.Itoa(n.next)
			n.pods[key] = addr
			return addr
		}
	}
	n.other++
	return fmt.Sprintf("10.245.%d.%d", (n.other>>8)&0xff, n.other&0xff)
}

// Addresses returns the namespace addresses given to JobManager pods.
func (n *Network) Addresses() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, a := range n.pods {
		out = append(out, a)
	}
	return out
}

// own reports whether ip is one of the namespace's, adding it to the
// namespace's interface on first use.
func (n *Network) own(ip string) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !strings.HasPrefix(ip, n.prefix) || ip == n.HostAddr {
		return false, nil
	}
	if !n.added[ip] {
		if err := addAddr(n.name, n.nsIF, ip); err != nil {
			return false, err
		}
		n.added[ip] = true
	}
	return true, nil
}

func addAddr(ns, dev, addr string) error {
	return runIP("-n", ns, "addr", "add", addr+"/24", "dev", dev)
}

func runIP(args ...string) error {
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Listen opens a TCP listener on ip:port inside the namespace, or returns
// nil for addresses that are not the namespace's.
func (n *Network) Listen(ip string, port int) (net.Listener, error) {
	if ok, err := n.own(ip); !ok || err != nil {
		return nil, err
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

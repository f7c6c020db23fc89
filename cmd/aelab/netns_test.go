package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/aelab/aelab/internal/testenv"
)

// netHosts is a set of network namespaces, each a "host" with its own address on a bridge of
// the root namespace: processes in different namespaces talk to each other (and to the root
// namespace, at the bridge's address) over veth pairs, as machines on one LAN would. Names
// carry the test's pid, so concurrent tests do not collide; everything is removed when the
// test ends, also on failure.
type netHosts struct {
	bridge string
	subnet string            // "10.A.B", a /24 of the bridge
	addr   map[string]string // host name ("db", "w1") → its address
	ns     map[string]string // host name → namespace name
}

// hostPrefix starts the names of everything netHosts creates (namespaces, links), so stale
// ones of a killed test run can be found.
const hostPrefix = "aelab"

// newNetHosts creates one namespace per name, each with a veth pair into a new bridge of the
// root namespace. It needs root and iproute2.
func newNetHosts(t *testing.T, names ...string) *netHosts {
	t.Helper()
	removeStaleHosts(t)
	pid := os.Getpid()
	h := &netHosts{bridge: fmt.Sprintf("%sbr%d", hostPrefix, pid), addr: map[string]string{}, ns: map[string]string{}}
	h.subnet = freeSubnet(t, pid)
	t.Cleanup(h.remove)
	ipCmd(t, "link", "add", h.bridge, "type", "bridge")
	ipCmd(t, "addr", "add", h.subnet+".1/24", "dev", h.bridge)
	ipCmd(t, "link", "set", h.bridge, "up")
	for i, name := range names {
		ns := fmt.Sprintf("%s-%s-%d", hostPrefix, name, pid)
		inner, outer := fmt.Sprintf("%sv%d-%d", hostPrefix, pid, i), fmt.Sprintf("%sp%d-%d", hostPrefix, pid, i)
		addr := fmt.Sprintf("%s.%d", h.subnet, i+2)
		h.ns[name], h.addr[name] = ns, addr
		ipCmd(t, "netns", "add", ns)
		ipCmd(t, "link", "add", inner, "type", "veth", "peer", "name", outer)
		ipCmd(t, "link", "set", inner, "netns", ns)
		ipCmd(t, "link", "set", outer, "master", h.bridge)
		ipCmd(t, "link", "set", outer, "up")
		ipCmd(t, "-n", ns, "addr", "add", addr+"/24", "dev", inner)
		ipCmd(t, "-n", ns, "link", "set", inner, "up")
		ipCmd(t, "-n", ns, "link", "set", "lo", "up")
	}
	return h
}

// exec is the command prefix that runs a program on host name.
func (h *netHosts) exec(name string) []string { return []string{"ip", "netns", "exec", h.ns[name]} }

// remove deletes the namespaces (their veth ends go with them) and the bridge.
func (h *netHosts) remove() {
	for _, ns := range h.ns {
		exec.Command("ip", "netns", "delete", ns).Run()
	}
	exec.Command("ip", "link", "delete", h.bridge).Run()
}

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// freeSubnet picks a 10.A.B.0/24 that no interface of this machine uses, starting from one
// derived from pid.
func freeSubnet(t *testing.T, pid int) string {
	t.Helper()
	used := map[string]bool{}
	ifaces, _ := net.InterfaceAddrs()
	for _, a := range ifaces {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
			ip := ipn.IP.To4()
			used[fmt.Sprintf("%d.%d.%d", ip[0], ip[1], ip[2])] = true
		}
	}
	for k := range 200 {
		n := pid + k*7919
		s := fmt.Sprintf("10.%d.%d", 100+(n>>8)%100, n&0xff)
		if !used[s] {
			return s
		}
	}
	t.Fatal("no free 10.x.y.0/24 subnet")
	return ""
}

// removeStaleHosts deletes namespaces and bridges of earlier runs of this test whose process
// is gone (a run killed before its cleanup).
func removeStaleHosts(t *testing.T) {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) == 0 || !strings.HasPrefix(f[0], hostPrefix+"-") {
				continue
			}
			if pid, err := strconv.Atoi(f[0][strings.LastIndex(f[0], "-")+1:]); err == nil && !alive(pid) {
				exec.Command("ip", "netns", "delete", f[0]).Run()
			}
		}
	}
	links, _ := net.Interfaces()
	for _, l := range links {
		if rest, ok := strings.CutPrefix(l.Name, hostPrefix+"br"); ok {
			if pid, err := strconv.Atoi(rest); err == nil && !alive(pid) {
				exec.Command("ip", "link", "delete", l.Name).Run()
			}
		}
	}
}

func alive(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}

// netnsUnavailable fails the test on CI and skips it elsewhere when network namespaces
// cannot be made here (not root, no iproute2).
func netnsUnavailable(t *testing.T) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "needs root for network namespaces"
	} else if _, err := exec.LookPath("ip"); err != nil {
		why = "needs iproute2's ip (bash scripts/setup.sh installs it)"
	}
	if why == "" {
		return
	}
	testenv.Missing(t, why)
}

package notebooks

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// labNotebook is the notebook TestLabInBrowser runs: the first that trains.
const labNotebook = "02_vanilla.ipynb"

// labReport is what testdata/lab.mjs prints.
type labReport struct {
	Samples []struct {
		T     float64 `json:"t"`
		Cells []struct {
			Prompt   string   `json:"prompt"`
			Live     []int    `json:"live"`
			Progress []string `json:"progress"`
		} `json:"cells"`
	} `json:"samples"`
	Cells []struct {
		Prompt string   `json:"prompt"`
		Errors []string `json:"errors"`
		Stderr []string `json:"stderr"`
		Images int      `json:"images"`
		Live   []int    `json:"live"`
		Height float64  `json:"height"`
		Text   string   `json:"text"`
	} `json:"cells"`
	MidrunShot, FinalShot string
	TooltipFor, Tooltip   string  // Shift+Tab on an aelab identifier, and what the tooltip showed
	TimedOut              bool    `json:"timedOut"`
	Seconds               float64 `json:"seconds"`
}

// TestLabInBrowser checks `make lab` as a user meets it: `make lab` on a free loopback port,
// against a temporary store in quick mode; Debian's Chromium, driven by Playwright, opens
// 02_vanilla.ipynb and runs all cells. Every code cell must end numbered with no error or stderr
// output, the training cell's live chart must redraw at least twice while the cell runs, the
// figures must be there at the end, and Shift+Tab on an aelab identifier must show its help.
// Screenshots go to build/lab/. The server runs on a copy of the notebooks (the UI saves what it
// runs) and is stopped afterwards, also on failure.
func TestLabInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("running a notebook in a browser takes minutes; skipped with -short")
	}
	jupyter, path := labTools(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}

	// Warm the build cache with the notebooks' tag (see TestNotebooks).
	warm := exec.Command("go", "build", "-tags", "onnx", "./...")
	warm.Dir = root
	if out, err := warm.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags onnx ./...: %v\n%s", err, out)
	}

	tmp := t.TempDir()
	nbDir := mirrorRepo(t, root, filepath.Join(tmp, "aelab"))
	token := randomHex(t, 16)
	port := freePort(t)
	server := exec.Command("make", "--no-print-directory", "-C", root, "lab", "LAB_IP=127.0.0.1", "PORT="+strconv.Itoa(port),
		"LAB_DIR="+nbDir, "LAB_FLAGS=--NotebookApp.token="+token, "JUPYTER="+jupyter)
	server.Env = append(os.Environ(), "AELAB_QUICK=1", "AELAB_DB="+filepath.Join(tmp, "store", "aelab.db"),
		"PATH="+path, "JUPYTER_RUNTIME_DIR="+filepath.Join(tmp, "runtime"))
	var serverLog bytes.Buffer
	server.Stdout, server.Stderr = &serverLog, &serverLog
	// Its own process group, so stopping it stops the kernels and cell programs it started; and
	// it dies with this test process.
	server.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := server.Start(); err != nil {
		t.Fatalf("starting make lab: %v", err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- server.Wait() }()
	t.Cleanup(func() { stopServer(t, server, stopped, filepath.Join(tmp, "runtime")) })

	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitForServer(t, base+"/api/status?token="+token, stopped, &serverLog)

	shots := filepath.Join(root, "build", "lab")
	ctx, cancel := context.WithTimeout(context.Background(), 16*time.Minute)
	defer cancel()
	node := exec.CommandContext(ctx, "node", filepath.Join("testdata", "lab.mjs"))
	node.Env = append(os.Environ(), "LAB_URL="+base+"/notebooks/"+labNotebook+"?token="+token,
		"LAB_SHOTS="+shots, "LAB_TIMEOUT_MS=900000")
	var nodeErr bytes.Buffer
	node.Stderr = &nodeErr
	out, err := node.Output()
	if err != nil {
		t.Fatalf("node testdata/lab.mjs: %v\n%s\njupyter:\n%s", err, tail(nodeErr.Bytes(), 4000), tail(serverLog.Bytes(), 4000))
	}
	var rep labReport
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("lab.mjs report: %v\n%s", err, tail(out, 2000))
	}
	t.Logf("%s ran in %.0f s in Chromium; screenshots: %s, %s", labNotebook, rep.Seconds, rep.MidrunShot, rep.FinalShot)
	checkLabReport(t, &rep)

	if _, name, ok := strings.Cut(rep.TooltipFor, "."); !ok || !strings.Contains(rep.Tooltip, name) {
		t.Errorf("Shift+Tab on %q shows %q: want its help from gopls", rep.TooltipFor, rep.Tooltip)
	}
	// The terminal of `make lab` shows Jupyter's own lines, not GoNB's log (see setup.sh, GONB_FLAGS).
	for _, noise := range []string{"Info message", "Warning message", "Error message", "goroutine 1 [running]"} {
		if bytes.Contains(serverLog.Bytes(), []byte(noise)) {
			t.Errorf("the server's terminal shows GoNB's %q:\n%s", noise, tail(serverLog.Bytes(), 3000))
		}
	}
}

// checkLabReport asserts what the browser saw.
func checkLabReport(t *testing.T, rep *labReport) {
	t.Helper()
	if rep.TimedOut {
		t.Errorf("the cells were still running after %.0f s", rep.Seconds)
	}
	if len(rep.Cells) == 0 {
		t.Fatal("no code cells in the page")
	}
	numbered := regexp.MustCompile(`\[\d+\]`)
	images, trainingCell := 0, -1
	for i, c := range rep.Cells {
		if !numbered.MatchString(c.Prompt) {
			t.Errorf("code cell %d has no execution count: %q", i, c.Prompt)
		}
		for _, e := range c.Errors {
			t.Errorf("code cell %d shows an error: %s", i, e)
		}
		for _, e := range c.Stderr {
			t.Errorf("code cell %d shows stderr output: %s", i, e)
		}
		images += c.Images
		if len(c.Live) > 0 && trainingCell < 0 {
			trainingCell = i
		}
	}
	if trainingCell < 0 {
		t.Error("no cell shows a live training view")
		return
	}
	// Draw counts the live view showed while its cell was running.
	seen := map[int]bool{}
	progress := map[string]bool{}
	for _, s := range rep.Samples {
		if trainingCell < len(s.Cells) && strings.Contains(s.Cells[trainingCell].Prompt, "*") {
			for _, d := range s.Cells[trainingCell].Live {
				seen[d] = true
			}
			for _, p := range s.Cells[trainingCell].Progress {
				progress[p] = true
			}
		}
	}
	redrawn := 0 // draws after the first, which only holds the place of the chart
	for d := range seen {
		if d > 1 {
			redrawn++
		}
	}
	if redrawn < 2 {
		t.Errorf("the live chart showed draws %v while training: want it redrawn at least twice during the run", seen)
	}
	if len(progress) < 2 {
		t.Errorf("the progress line showed %d states while training: want it updated in place", len(progress))
	}
	final := rep.Cells[trainingCell]
	if final.Live[0] < 3 || !strings.Contains(final.Text, "epoch") {
		t.Errorf("the training cell ends with draw %v and text %q", final.Live, final.Text)
	}
	if images < 5 {
		t.Errorf("%d images in the notebook's outputs at the end: want the figures (charts, digit grids)", images)
	}
	t.Logf("live chart draws seen while training: %v; %d progress states; %d images at the end; training cell output %.0f px high",
		seen, len(progress), images, final.Height)
}

// labTools finds what the lab needs (jupyter notebook, GoNB and its kernel, node with
// playwright-core, Chromium) and returns jupyter's path and a PATH with Go's bin folder.
func labTools(t *testing.T) (jupyter, path string) {
	t.Helper()
	jupyter = "/usr/bin/jupyter" // Debian's; the first python3 on PATH may lack its packages
	if _, err := os.Stat(jupyter); err != nil {
		if jupyter, err = exec.LookPath("jupyter"); err != nil {
			unavailable(t, "jupyter is not installed")
		}
	}
	if err := exec.Command(jupyter, "notebook", "--version").Run(); err != nil {
		unavailable(t, "jupyter notebook (Debian's jupyter-notebook) is not installed: %v", err)
	}
	bin := goBin(t)
	path = bin + string(os.PathListSeparator) + os.Getenv("PATH")
	for _, tool := range []string{"gonb", "goimports"} {
		if _, err := os.Stat(filepath.Join(bin, tool)); err != nil {
			unavailable(t, "%s is not installed", tool)
		}
	}
	if out, err := exec.Command(jupyter, "kernelspec", "list").Output(); err != nil || !bytes.Contains(out, []byte("gonb")) {
		unavailable(t, "no gonb Jupyter kernel (jupyter kernelspec list: %v)", err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		unavailable(t, "node is not installed")
	}
	if _, err := os.Stat(filepath.Join("..", "node_modules", "playwright-core", "package.json")); err != nil {
		unavailable(t, "playwright-core is not in node_modules")
	}
	found := false
	for _, name := range []string{"chromium", "chromium-headless-shell", "chromium-browser"} {
		if _, err := exec.LookPath(name); err == nil {
			found = true
		}
	}
	if !found {
		unavailable(t, "Chromium is not installed")
	}
	return jupyter, path
}

// mirrorRepo makes dir a stand-in for the repository at root: every top-level entry a symbolic
// link, except notebooks/, a real folder whose notebooks are copies (the UI saves them) and
// whose other entries are links. The notebooks' setup cell points the module at
// ${GONB_DIR}/.., which is then dir. It returns the notebooks folder.
func mirrorRepo(t *testing.T, root, dir string) string {
	t.Helper()
	nb := filepath.Join(dir, "notebooks")
	if err := os.MkdirAll(nb, 0o755); err != nil {
		t.Fatal(err)
	}
	link := func(from, to string) {
		if err := os.Symlink(from, to); err != nil {
			t.Fatal(err)
		}
	}
	top, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range top {
		if e.Name() != "notebooks" && e.Name() != ".git" && e.Name() != "build" {
			link(filepath.Join(root, e.Name()), filepath.Join(dir, e.Name()))
		}
	}
	inner, err := os.ReadDir(filepath.Join(root, "notebooks"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range inner {
		from, to := filepath.Join(root, "notebooks", e.Name()), filepath.Join(nb, e.Name())
		if !strings.HasSuffix(e.Name(), ".ipynb") {
			link(from, to)
			continue
		}
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return nb
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// freePort is a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitForServer polls url until the server answers 200, fails if it exits first.
func waitForServer(t *testing.T, url string, stopped <-chan error, log *bytes.Buffer) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-stopped:
			t.Fatalf("jupyter notebook exited: %v\n%s", err, tail(log.Bytes(), 4000))
		default:
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("jupyter notebook did not answer %s in 90 s\n%s", url, tail(log.Bytes(), 4000))
}

// stopServer asks `make lab` and its server to stop (SIGTERM to the process group: Jupyter shuts
// its kernels down), kills what is left of the group after 20 s, and any kernel left over:
// Jupyter starts each kernel in a session of its own, whose command line names a connection
// file in runtimeDir.
func stopServer(t *testing.T, server *exec.Cmd, stopped <-chan error, runtimeDir string) {
	pgid := server.Process.Pid // Setpgid: the group's id is make's pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	<-stopped
	for deadline := time.Now().Add(20 * time.Second); syscall.Kill(-pgid, 0) == nil; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Logf("jupyter notebook still running 20 s after SIGTERM: killing its process group")
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			break
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		cmdline, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(cmdline, []byte(runtimeDir+"/")) {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if err != nil {
			continue
		}
		t.Logf("a kernel outlived the server (pid %d): killing its session's group", pid)
		_ = syscall.Kill(-pid, syscall.SIGKILL) // the kernel leads its session: its pgid is its pid
	}
}

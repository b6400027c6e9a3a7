package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// container is one container of a pod: its main process (restarted per restartPolicy), its logs and its attachers.
type container struct {
	pod  *podState
	spec corev1.Container
	dir  string // logs: <restartCount>.log per instance

	mu             sync.Mutex
	restartCount   int32
	waitingReason  string
	waitingMessage string
	current        *instance // the running instance, nil otherwise
	lastExit       *corev1.ContainerStateTerminated
	previousExit   *corev1.ContainerStateTerminated
	lastExitN      int32 // the instance (log file) of lastExit, -1 for none or one that never started
	previousExitN  int32 // and of previousExit
	final          bool  // the last exit is final: no restart follows
	execs          map[*exec.Cmd]struct{}
	attachedOnce   bool
}

// instance is one run of the container's main process.
type instance struct {
	id      string
	number  int32
	started time.Time
	cmd     *exec.Cmd
	stdin   io.WriteCloser // the process's stdin (the pty for a TTY container), nil without spec.stdin
	pty     *os.File
	outputs []*os.File // the read ends of stdout and stderr
	logPath string
	out     *fanout // stdout (and, with a TTY, everything)
	errOut  *fanout
	done    chan struct{} // closed once the process has exited and its output is logged
}

func newContainer(p *podState, spec corev1.Container) *container {
	return &container{
		pod: p, spec: spec, dir: filepath.Join(p.dir, "logs", spec.Name), waitingReason: "ContainerCreating",
		lastExitN: -1, previousExitN: -1,
		execs: map[*exec.Cmd]struct{}{},
	}
}

func (c *container) logPath(n int32) string { return filepath.Join(c.dir, fmt.Sprintf("%d.log", n)) }

// workDir is spec.workingDir, else the pod's own folder (the image, and so its working folder, is ignored).
func (c *container) workDir() string {
	if c.spec.WorkingDir != "" {
		return c.spec.WorkingDir
	}
	return c.pod.dir
}

// environ: PATH of the kubelet, HOSTNAME, the Kubernetes service variables, then the container's env (literal
// values and fieldRefs on the pod's metadata; $(VAR) references are expanded as Kubernetes does).
func (c *container) environ() []string {
	pod := c.pod.pod
	vars := map[string]string{}
	var order []string
	set := func(name, value string) {
		if _, ok := vars[name]; !ok {
			order = append(order, name)
		}
		vars[name] = value
	}
	set("PATH", os.Getenv("PATH"))
	set("HOSTNAME", pod.Name)
	set("HOME", c.pod.dir)
	if c.spec.TTY {
		set("TERM", "xterm")
	}
	for _, e := range c.spec.Env {
		value := expand(e.Value, vars)
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
			switch e.ValueFrom.FieldRef.FieldPath {
			case "metadata.name":
				value = pod.Name
			case "metadata.namespace":
				value = pod.Namespace
			case "metadata.uid":
				value = string(pod.UID)
			case "spec.nodeName":
				value = c.pod.k.opts.nodeName
			case "spec.serviceAccountName":
				value = pod.Spec.ServiceAccountName
			case "status.podIP", "status.hostIP":
				value = c.pod.k.opts.address
			}
		}
		set(e.Name, value)
	}
	env := make([]string, 0, len(order))
	for _, name := range order {
		env = append(env, name+"="+vars[name])
	}
	return env
}

// expand replaces $(NAME) with a variable defined before, keeps unknown references, and turns $$ into $.
func expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+end+1])
			}
			i += end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// argv: command + args (the image's entrypoint is unknown: with no command, args are the command line).
func (c *container) argv() []string {
	vars := map[string]string{}
	for _, kv := range c.environ() {
		name, value, _ := strings.Cut(kv, "=")
		vars[name] = value
	}
	var argv []string
	for _, a := range append(append([]string{}, c.spec.Command...), c.spec.Args...) {
		argv = append(argv, expand(a, vars))
	}
	return argv
}

// loop runs the main process, again and again as restartPolicy says, until the pod stops.
func (c *container) loop() {
	backoff := time.Second
	for {
		if c.pod.stopped() {
			return
		}
		inst, err := c.start()
		if err != nil {
			c.exited(nil, 128, "StartError", err.Error(), time.Now())
		} else {
			ran := time.Now()
			<-inst.done
			if time.Since(ran) > 10*time.Second {
				backoff = time.Second
			}
		}
		c.mu.Lock()
		code := c.lastExit.ExitCode
		restart := false
		switch c.pod.pod.Spec.RestartPolicy {
		case corev1.RestartPolicyAlways, "":
			restart = true
		case corev1.RestartPolicyOnFailure:
			restart = code != 0
		}
		if c.pod.stopped() {
			restart = false
		}
		c.final = !restart
		if restart {
			c.waitingReason, c.waitingMessage = "CrashLoopBackOff", fmt.Sprintf("back-off %s restarting failed container=%s pod=%s", backoff, c.spec.Name, c.pod.name)
		}
		c.mu.Unlock()
		c.pod.statusChanged()
		if !restart {
			return
		}
		select {
		case <-c.pod.stop:
			c.mu.Lock()
			c.final = true
			c.mu.Unlock()
			c.pod.statusChanged()
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
		c.mu.Lock()
		c.restartCount++
		c.mu.Unlock()
	}
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// start runs the main process, its output going to the instance's log file and to attachers.
func (c *container) start() (*instance, error) {
	argv := c.argv()
	if len(argv) == 0 {
		return nil, errors.New("no command: kubeloop's test kubelet ignores the image, so the container needs command (or args)")
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return nil, err
	}
	c.mu.Lock()
	n := c.restartCount
	c.mu.Unlock()
	logFile, err := os.OpenFile(c.logPath(n), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	log := &logWriter{f: logFile}
	inst := &instance{id: newID(), number: n, logPath: c.logPath(n), out: &fanout{}, errOut: &fanout{}, done: make(chan struct{})}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = c.environ()
	cmd.Dir = c.workDir()
	var copies sync.WaitGroup
	if c.spec.TTY {
		f, err := pty.StartWithAttrs(cmd, &pty.Winsize{Rows: 24, Cols: 80}, processAttrs(true))
		if err != nil {
			_ = logFile.Close()
			return nil, err
		}
		inst.pty = f
		if c.spec.Stdin {
			inst.stdin = f
		}
		copies.Add(1)
		go func() { defer copies.Done(); pump(f, log.stream("stdout"), inst.out) }()
	} else {
		cmd.SysProcAttr = processAttrs(false)
		// Pipes of our own rather than StdoutPipe: Wait would close those as soon as the process exits, losing what
		// it wrote last; ours are read to their end (or cut off a second after the exit, below).
		var pipes []*os.File
		closeAll := func() {
			for _, f := range pipes {
				_ = f.Close()
			}
		}
		newPipe := func() (*os.File, *os.File, error) {
			r, w, err := os.Pipe()
			if err == nil {
				pipes = append(pipes, r, w)
			}
			return r, w, err
		}
		stdoutR, stdoutW, err := newPipe()
		if err != nil {
			_ = logFile.Close()
			return nil, err
		}
		stderrR, stderrW, err := newPipe()
		if err != nil {
			closeAll()
			_ = logFile.Close()
			return nil, err
		}
		cmd.Stdout, cmd.Stderr = stdoutW, stderrW
		if c.spec.Stdin {
			if inst.stdin, err = cmd.StdinPipe(); err != nil {
				closeAll()
				_ = logFile.Close()
				return nil, err
			}
		}
		if err := cmd.Start(); err != nil {
			closeAll()
			_ = logFile.Close()
			return nil, err
		}
		_ = stdoutW.Close()
		_ = stderrW.Close()
		inst.outputs = []*os.File{stdoutR, stderrR}
		copies.Add(2)
		go func() { defer copies.Done(); pump(stdoutR, log.stream("stdout"), inst.out) }()
		go func() { defer copies.Done(); pump(stderrR, log.stream("stderr"), inst.errOut) }()
	}
	inst.cmd = cmd
	inst.started = time.Now()
	c.mu.Lock()
	c.current = inst
	c.waitingReason, c.waitingMessage = "", ""
	c.mu.Unlock()
	c.pod.statusChanged()
	go func() {
		err := cmd.Wait()
		// Output still held open by a process the main one left behind is cut off shortly after it exits.
		waited := make(chan struct{})
		go func() { copies.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(time.Second):
			if inst.pty != nil {
				_ = inst.pty.Close()
			}
			for _, f := range inst.outputs {
				_ = f.Close()
			}
			<-waited
		}
		for _, f := range inst.outputs {
			_ = f.Close()
		}
		finished := time.Now()
		_ = logFile.Close()
		code, reason, message := exitOf(cmd, err)
		c.exited(inst, code, reason, message, finished)
		inst.out.close()
		inst.errOut.close()
		close(inst.done)
	}()
	return inst, nil
}

func exitOf(cmd *exec.Cmd, err error) (int32, string, string) {
	state := cmd.ProcessState
	if state == nil {
		return 128, "Error", fmt.Sprint(err)
	}
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int32(ws.Signal()), "Error", ""
	}
	code := int32(state.ExitCode())
	if code == 0 {
		return 0, "Completed", ""
	}
	return code, "Error", ""
}

// exited records the end of an instance (nil: it never started).
func (c *container) exited(inst *instance, code int32, reason, message string, finished time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	term := &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason, Message: message, FinishedAt: metav1.NewTime(finished)}
	if inst != nil {
		term.StartedAt = metav1.NewTime(inst.started)
		term.ContainerID = "kubeloop://" + inst.id
		if inst.stdin != nil && inst.pty == nil {
			_ = inst.stdin.Close()
		}
		if inst.pty != nil {
			_ = inst.pty.Close()
		}
	} else {
		term.StartedAt = metav1.NewTime(finished)
	}
	if c.lastExit != nil {
		c.previousExit, c.previousExitN = c.lastExit, c.lastExitN
	}
	c.lastExit, c.lastExitN = term, -1
	if inst != nil {
		c.lastExitN = inst.number
	}
	c.waitingReason, c.waitingMessage = "", ""
	if c.current == inst {
		c.current = nil
	}
	for cmd := range c.execs {
		killGroup(cmd, syscall.SIGKILL)
	}
}

// stopProcess ends the running instance: SIGTERM to its process group, SIGKILL after grace. Waits for its end.
func (c *container) stopProcess(grace time.Duration) {
	c.mu.Lock()
	inst := c.current
	for cmd := range c.execs {
		killGroup(cmd, syscall.SIGKILL)
	}
	c.mu.Unlock()
	if inst == nil {
		return
	}
	if grace > 0 {
		killGroup(inst.cmd, syscall.SIGTERM)
		select {
		case <-inst.done:
			return
		case <-time.After(grace):
		}
	}
	killGroup(inst.cmd, syscall.SIGKILL)
	select {
	case <-inst.done:
	case <-time.After(5 * time.Second):
	}
}

// killGroup signals the process group the command leads (every container process gets its own).
func killGroup(cmd *exec.Cmd, sig syscall.Signal) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
	_ = cmd.Process.Signal(sig)
}

// status is the container's ContainerStatus; final says it will not run again.
func (c *container) status() (corev1.ContainerStatus, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := corev1.ContainerStatus{
		Name:         c.spec.Name,
		Image:        c.spec.Image,
		ImageID:      "",
		RestartCount: c.restartCount,
		Started:      new(bool),
	}
	if c.lastExit != nil {
		st.LastTerminationState.Terminated = c.lastExit.DeepCopy()
	}
	switch {
	case c.current != nil:
		st.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(c.current.started)}
		st.ContainerID = "kubeloop://" + c.current.id
		st.Ready, *st.Started = true, true
	case c.waitingReason != "":
		st.State.Waiting = &corev1.ContainerStateWaiting{Reason: c.waitingReason, Message: c.waitingMessage}
	case c.lastExit != nil:
		st.State.Terminated = c.lastExit.DeepCopy()
		st.ContainerID = c.lastExit.ContainerID
		st.LastTerminationState.Terminated = c.previousExit.DeepCopy()
	default:
		st.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
	}
	return st, c.final && c.current == nil
}

// running is the current instance, or nil.
func (c *container) running() *instance {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.current
}

// pump copies a process's output into its log and to the attached clients.
func pump(r io.Reader, log io.Writer, to *fanout) {
	buf := make([]byte, 32*1024)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			_, _ = log.Write(buf[:n])
			to.write(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

// fanout passes a stream's bytes to the attached clients.
type fanout struct {
	mu     sync.Mutex
	subs   map[chan []byte]struct{}
	closed bool
}

func (f *fanout) subscribe() chan []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan []byte, 256)
	if f.closed {
		close(ch)
		return ch
	}
	if f.subs == nil {
		f.subs = map[chan []byte]struct{}{}
	}
	f.subs[ch] = struct{}{}
	return ch
}

func (f *fanout) unsubscribe(ch chan []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.subs[ch]; ok {
		delete(f.subs, ch)
		close(ch)
	}
}

func (f *fanout) write(p []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		select {
		case ch <- append([]byte(nil), p...):
		default: // a client too slow for the process: it misses output, the log keeps it
		}
	}
}

func (f *fanout) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for ch := range f.subs {
		close(ch)
	}
	f.subs = nil
}
